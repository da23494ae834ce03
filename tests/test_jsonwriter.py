"""converter.emit.jsonwriter writes what `json.dumps(indent=...)` writes, byte for byte."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from converter.emit import jsonwriter

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text()
keys = st.text() | st.integers() | st.booleans() | st.none() | st.floats(allow_nan=False)
values = st.recursive(scalars, lambda kids: st.lists(kids, max_size=5) | st.dictionaries(keys, kids, max_size=5)
                      | st.tuples(kids, kids), max_leaves=40)


@settings(max_examples=400, deadline=None)
@given(values, st.sampled_from([1, 2, 4]), st.booleans())
def test_same_text_as_json_dumps(obj, indent, ensure_ascii):
    assert jsonwriter.dumps(obj, indent=indent, ensure_ascii=ensure_ascii) == json.dumps(
        obj, indent=indent, ensure_ascii=ensure_ascii)


def test_special_floats_and_key_coercion():
    obj = {7: float("nan"), 2.5: float("inf"), None: -float("inf"), True: [], False: {}, "é\u2028\x00": "\ud800"}
    for ascii_ in (True, False):
        assert jsonwriter.dumps(obj, ensure_ascii=ascii_) == json.dumps(obj, indent=2, ensure_ascii=ascii_)


def test_unserialisable_is_a_type_error_like_json():
    with pytest.raises(TypeError):
        jsonwriter.dumps({"a": object()})
    with pytest.raises(TypeError):
        jsonwriter.dumps({(1, 2): 1})


def test_the_sample_report_is_unchanged(tmp_path):
    """The real report.json of the sample, as json.dumps would write it."""
    from converter.emit.kro import report, to_json
    from converter.emit.naming import Naming
    from converter.packagedata import sample_dir
    from converter.pipeline import load_estate

    estate = load_estate(str(sample_dir() / "terraform.tfstate"), sample_dir())
    data = report(estate.result, estate.graph, Naming("staging", estate.root), estate.ownership)
    assert to_json(data) == json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    assert len(data["resources"]) > 10
