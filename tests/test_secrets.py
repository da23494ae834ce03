"""converter.secrets: which state paths are sensitive for rendering, and which strings the leak scan hunts."""

from __future__ import annotations

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
