"""converter.secrets: which state paths are sensitive for rendering, and which strings the leak scan hunts."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from converter.model import ResourceInstance, SensitivePath
from converter.secrets import is_secret_name, is_sensitive_path, lies_in_sensitive_path, sensitive_values


def _helm(paths):
    return ResourceInstance(
        address="helm_release.grafana", module="", mode="managed", type="helm_release", name="grafana",
        index_key=None, provider="helm", attributes={
            "name": "grafana",
            "set_sensitive": [{"name": "adminPassword", "value": "Gr4fana-secret-value", "type": ""}],
            "set": [{"name": "replicas", "value": "2", "type": ""}],
        }, sensitive_paths=tuple(SensitivePath(p) for p in paths))


def test_ancestor_of_a_sensitive_path_is_not_rendered_but_its_siblings_are_not_secrets():
    inst = _helm([("set_sensitive", 0, "value")])
    assert is_sensitive_path(inst, ("set_sensitive",))  # rendering the whole list would leak the value
    assert not lies_in_sensitive_path(inst, ("set_sensitive", 0, "name"))
    assert lies_in_sensitive_path(inst, ("set_sensitive", 0, "value"))
    values = sensitive_values(inst)
    assert "Gr4fana-secret-value" in values
    assert "adminPassword" not in values and "replicas" not in values


def test_whole_attribute_mark_covers_every_leaf_below_it():
    inst = _helm([("set_sensitive",)])
    assert set(sensitive_values(inst)) >= {"Gr4fana-secret-value", "adminPassword"}


def test_secret_names():
    assert is_secret_name("master_password") and is_secret_name("private_key_pem") and is_secret_name("token")
    assert not is_secret_name("kms_key_id") and not is_secret_name("secret_arn") and not is_secret_name("public_key")


def _sensitive_values_by_whole_path(inst):
    """The definition sensitive_values implements incrementally: every string (6+ chars) whose full path
    lies_in_sensitive_path (public ids of data sources aside)."""
    found = []

    def walk(node, steps, hit):
        hit = hit or (bool(steps) and lies_in_sensitive_path(inst, steps))
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, steps + (k,), hit)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, steps + (i,), hit)
        elif hit and isinstance(node, str) and len(node) >= 6:
            found.append(node)

    walk(inst.attributes, (), False)
    return found


_STEP_NAMES = ["a", "b", "password", "secret_arn", "value", "set_sensitive", "token_id", "name"]
_attr_values = st.recursive(
    st.sampled_from(["short", "long-enough-value", "Gr4fana-secret-value", "x" * 8]),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(_STEP_NAMES), inner,
                                                                         max_size=4)), max_leaves=20)
_paths = st.lists(st.lists(st.one_of(st.sampled_from(_STEP_NAMES), st.integers(0, 2)), max_size=3).map(tuple),
                  max_size=4)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(_STEP_NAMES), _attr_values, max_size=5), _paths)
def test_sensitive_values_checking_only_the_new_step_finds_what_the_whole_path_check_finds(attrs, paths):
    inst = ResourceInstance(
        address="x.y", module="", mode="managed", type="x", name="y", index_key=None, provider="aws",
        attributes=attrs, sensitive_paths=tuple(SensitivePath(p) for p in paths))
    assert sensitive_values(inst) == _sensitive_values_by_whole_path(inst)
