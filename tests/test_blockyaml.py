"""converter.emit.blockyaml must write exactly what PyYAML writes (tf2kro's golden output and every user's Git
history depend on the bytes), for any document shape and any scalar, including the ones YAML quotes or folds."""

from __future__ import annotations

import math

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from converter.emit import blockyaml
from converter.emit.writer import dump_yaml

TRICKY = ["", "yes", "no", "on", "off", "null", "~", "Null", "true", "0x1", "0o17", "1e3", "1_000", ".inf", "-.nan",
          "12:30:00", "2024-01-01", " lead", "trail ", "a: b", "a:b", "#x", "x #y", "- x", "-", "?", "? x", ":", "*a",
          "&a", "!tag", "%x", "@x", "`x", "|", ">", "'", '"', "{a}", "[a]", ",", "---", "...", "a\nb", "a\n", "\n",
          "a\n\nb", " a\n b ", "tab\there", "\t", "ünïcödé", "日本語", "emoji 🚀", "\x85", "\u2028", "\x00", "\x7f",
          "\ufeff", "${x}", '${"${"}', "x" * 5000, ("word " * 1000).strip(), "a" * 130, "=", "<<", "0", "-0", "+1",
          "1.", "0.5", "True", "NULL", "Off", "y", "n", "_", "a.b", "a/b", "a-b", "a." * 70, "k8s.io/x", "x_1", "1:30", "1,000", "a :b", "a: ", "a:", "arn:aws:s3:::b", "x,y", "(a)", "+1", "@a", "a@b",
          "1 2", "a  b", "10.0.0.0/16", "0.0.0.0/0", "1.0", "1e", "0:0", "190:20:30", "=x", "a=b", "1e-3", "0b101", "\\", "a\\nb", "http://x:80/#f", "arn:aws:iam::1:role/x", "10.0.0.0/16"]

scalars = st.one_of(
    st.sampled_from(TRICKY),
    st.text(max_size=40),
    st.from_regex(r"[A-Za-z_.0-9/:@=+,()#' -][A-Za-z0-9_./:@=+,()#' -]{0,12}", fullmatch=True),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=8),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)
keys = st.one_of(st.sampled_from(TRICKY), st.text(max_size=20), st.from_regex(r"[A-Za-z_0-9.:][A-Za-z0-9_./:, -]{0,140}",
                                                                                fullmatch=True), st.integers(), st.booleans(), st.none(),
                 st.floats(allow_nan=False))
docs = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                     st.dictionaries(keys, inner, max_size=5)), max_leaves=40)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(docs, min_size=1, max_size=4))
def test_identical_to_pyyaml(batch):
    expected = "---\n".join(
        yaml.dump(d, Dumper=yaml.CSafeDumper, sort_keys=False, default_flow_style=False, width=4096,
                  allow_unicode=True) for d in batch)
    assert dump_yaml(batch) == expected
    assert blockyaml.BlockWriter().dump(batch[0]) == blockyaml.pyyaml_dump(batch[0])


def test_shared_container_keeps_pyyaml_anchor():
    shared = {"a": 1}
    doc = {"x": shared, "y": shared, "z": [[], []]}
    assert "&id001" in dump_yaml([doc])
    assert dump_yaml([doc]) == blockyaml.pyyaml_dump(doc)
    empty: list = []
    assert dump_yaml([{"p": empty, "q": empty}]) == blockyaml.pyyaml_dump({"p": empty, "q": empty})


def test_deep_nesting_and_long_lines_fall_back_identically():
    doc: object = "word " * 900
    for i in range(300):
        doc = {f"k{i}": doc} if i % 2 else [doc]
    assert dump_yaml([doc]) == blockyaml.pyyaml_dump(doc)
    assert dump_yaml([{"k": -0.0, "j": 0.0, "i": 1, "b": True, "f": 1.0, "n": math.inf}]) == blockyaml.pyyaml_dump(
        {"k": -0.0, "j": 0.0, "i": 1, "b": True, "f": 1.0, "n": math.inf})


def test_unsupported_types_behave_as_pyyaml():
    class S(str):
        pass
    for bad in ({"a": S("x")}, {"a": (1, 2)}, {"a": {1, 2}}):
        try:
            expected: object = blockyaml.pyyaml_dump(bad)
        except yaml.YAMLError as e:
            expected = type(e)
        try:
            got: object = dump_yaml([bad])
        except yaml.YAMLError as e:
            got = type(e)
        assert got == expected



_bodies = st.recursive(st.one_of(st.text(max_size=5), st.integers(), st.floats(allow_nan=False), st.booleans(),
                                 st.none()),
                       lambda inner: st.one_of(st.lists(inner, max_size=4),
                                               st.dictionaries(st.text(max_size=4), inner, max_size=4)),
                       max_leaves=25)


@settings(max_examples=200, deadline=None)
@given(_bodies)
def test_plain_objects_body_copy_renders_as_a_deepcopy(body):
    """emit/kro copies each body before setting names: the copy must render exactly as copy.deepcopy's would,
    anchors of shared containers included, and share nothing with the mapped body."""
    import copy

    from converter.emit.kro import _copy_body

    doc = {"a": body, "b": [body], "t": (1, 2) if isinstance(body, int) else None}
    got, want = _copy_body(doc), copy.deepcopy(doc)
    assert got == want
    if not isinstance(body, int):
        assert blockyaml.pyyaml_dump(got) == blockyaml.pyyaml_dump(want)
    if isinstance(body, (dict, list)):
        assert got["a"] is not body and got["a"] is got["b"][0]


def test_cache_reset_keeps_output_identical(monkeypatch):
    monkeypatch.setattr(blockyaml, "_CACHE_LIMIT", 3)
    docs = [{"kind": "X", f"k{i}": [f"v{i}", "yes", i, {"a: b": None}]} for i in range(20)]
    w = blockyaml.BlockWriter()
    assert [w.dump(d) for d in docs] == [blockyaml.pyyaml_dump(d) for d in docs]
    assert len(w._values) + len(w._keys) <= 3 + 8
