"""The CRD schemas bundled with tf2kro: complete for what tf2kro emits, compact, reproducible from the pinned
upstream copies, overridable with --crds, and `validate` fails closed on a tree with nothing to check."""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from converter.cli import main
from converter.mapping.spec import load_mappings
from converter.model import ToolError
from converter.validate import bundle
from converter.validate.crds import CrdIndex, validate_object

SHARED_CRDS = Path(__file__).resolve().parents[2] / "shared" / "crds"

VPC = {
    "apiVersion": "ec2.services.k8s.aws/v1alpha1",
    "kind": "VPC",
    "metadata": {"name": "main"},
    "spec": {"cidrBlocks": ["10.0.0.0/16"], "enableDNSSupport": True},
}


def test_every_mapped_kind_and_every_fleet_kind_has_a_bundled_schema() -> None:
    """A mapping or emitter naming a kind the bundle lacks would make `validate` fail on our own output."""
    idx = CrdIndex.bundled()
    ms = load_mappings()
    missing = sorted(
        f"{tm.group}/{tm.kind}" for tm in ms.types.values()
        if tm.is_mapped and (f"{tm.group}/v1alpha1", tm.kind) not in idx
    )
    assert missing == []
    for api, kind in [
        ("kro.run/v1alpha1", "ResourceGraphDefinition"),
        ("argoproj.io/v1alpha1", "ApplicationSet"),
        ("argoproj.io/v1alpha1", "AppProject"),
        ("argoproj.io/v1alpha1", "CronWorkflow"),
        ("flagger.app/v1beta1", "Canary"),
        ("templates.gatekeeper.sh/v1", "ConstraintTemplate"),
        ("config.gatekeeper.sh/v1alpha1", "Config"),
        ("external-secrets.io/v1", "ExternalSecret"),
        ("external-secrets.io/v1", "ClusterSecretStore"),
        ("monitoring.coreos.com/v1", "PrometheusRule"),
    ]:
        assert (api, kind) in idx, (api, kind)
    # served: false upstream stays unserved in the bundle
    assert idx.is_unserved("external-secrets.io/v1beta1", "ExternalSecret")


def test_bundle_is_compact_and_records_its_upstream_releases() -> None:
    size = bundle.BUNDLE.stat().st_size
    assert size < 300_000, size
    doc = bundle.load()
    pins = yaml.safe_load(bundle.UPSTREAM.read_text())["sources"]
    assert set(doc["sources"]) == set(pins)
    for name, src in doc["sources"].items():
        assert src["commit"] == pins[name]["commit"] and src["release"] == pins[name]["release"]
        assert src["files"] and all(len(h) == 64 for h in src["files"].values())
    keywords: set[str] = set()
    for crd in doc["crds"]:
        for v in crd["spec"]["versions"]:
            _schema_keywords(v["schema"]["openAPIV3Schema"], keywords)
    assert not keywords & {"description", "example", "externalDocs", "default", "title"}, keywords
    assert {"x-kubernetes-preserve-unknown-fields", "x-kubernetes-int-or-string", "enum", "format"} <= keywords


def _schema_keywords(node: object, out: set[str]) -> None:
    """Every keyword used by a schema node and its sub-schemas (property names are not keywords)."""
    if not isinstance(node, dict):
        return
    out.update(node)
    for key in ("properties", "patternProperties"):
        for sub in (node.get(key) or {}).values():
            _schema_keywords(sub, out)
    for key in ("items", "additionalProperties", "not"):
        _schema_keywords(node.get(key), out)
    for key in ("allOf", "anyOf", "oneOf"):
        for sub in node.get(key) or []:
            _schema_keywords(sub, out)


def test_compact_schema_keeps_validation_keywords_and_drops_docs() -> None:
    schema = {
        "type": "object",
        "description": "doc",
        "required": ["a"],
        "properties": {
            "a": {"type": "string", "enum": ["x"], "default": "x", "description": "d", "format": "byte"},
            "description": {"type": "string", "pattern": "^d", "example": "d"},  # a field named like a keyword
            "b": {"type": "array", "items": {"type": "integer", "minimum": 1, "title": "t"}, "maxItems": 3},
            "c": {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]},
            "d": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                  "x-kubernetes-validations": [{"rule": "self.size() > 0", "message": "m"}]},
        },
    }
    assert bundle.compact_schema(schema) == {
        "type": "object",
        "required": ["a"],
        "properties": {
            "a": {"type": "string", "enum": ["x"], "format": "byte"},
            "description": {"type": "string", "pattern": "^d"},
            "b": {"type": "array", "items": {"type": "integer", "minimum": 1}, "maxItems": 3},
            "c": {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]},
            "d": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                  "x-kubernetes-validations": [{"rule": "self.size() > 0", "message": "m"}]},
        },
    }


def test_bundled_index_judges_like_the_upstream_crds() -> None:
    idx = CrdIndex.bundled()
    assert validate_object(VPC, idx) == []
    bad = copy.deepcopy(VPC)
    bad["spec"]["cidrBlock"] = "10.0.0.0/16"  # the field is cidrBlocks
    bad["spec"]["enableDNSSupport"] = "yes"
    assert sorted((p.path, p.code) for p in validate_object(bad, idx)) == [
        ("spec.cidrBlock", "unknown-field"), ("spec.enableDNSSupport", "type")]
    assert idx.sources[("ec2.services.k8s.aws/v1alpha1", "VPC")].startswith("bundled:ack/ec2/")


@pytest.mark.corpus
@pytest.mark.skipif(not SHARED_CRDS.is_dir(), reason="../shared/crds absent (the upstream copies)")
def test_bundle_regenerates_byte_identical_from_the_pinned_upstream(tmp_path: Path) -> None:
    out = tmp_path / "crds.json.gz"
    assert bundle.main([str(SHARED_CRDS), "--out", str(out)]) == 0
    assert out.read_bytes() == bundle.BUNDLE.read_bytes(), "bundle is stale: python -m converter.validate.bundle ../shared/crds"


def test_generator_refuses_an_unpinned_source(tmp_path: Path) -> None:
    (tmp_path / "kro").mkdir()
    (tmp_path / "kro" / "x.yaml").write_text("kind: CustomResourceDefinition\n")
    (tmp_path / "VERSIONS.md").write_text("kro at some other commit 1234\n")
    pins = tmp_path / "upstream.yaml"
    pins.write_text("sources:\n  kro: {repo: kubernetes-sigs/kro, release: v0, commit: 0302e659ede7}\n")
    with pytest.raises(ToolError, match="pinned commit 0302e659ede7"):
        bundle.build(tmp_path, pins)
    (tmp_path / "VERSIONS.md").write_text("kro 0302e659ede7\n")
    assert bundle.build(tmp_path, pins)["sources"]["kro"]["files"]


def test_write_is_reproducible(tmp_path: Path) -> None:
    doc = {"crds": [], "sources": {"a": {"commit": "c"}}}
    a, b = tmp_path / "a.gz", tmp_path / "b.gz"
    bundle.write(doc, a)
    bundle.write(doc, b)
    assert a.read_bytes() == b.read_bytes()
    assert json.loads(gzip.decompress(a.read_bytes())) == doc


# ------------------------------------------------------------------------------------------------ CLI
def _tree(tmp_path: Path, obj: dict) -> Path:
    d = tmp_path / "tree"
    d.mkdir()
    (d / "vpc.yaml").write_text(yaml.safe_dump(obj))
    return d


def test_validate_without_crds_uses_the_bundle(tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["validate", str(_tree(tmp_path, VPC))])
    assert r.exit_code == 0, r.output
    assert "1 objects" in r.output


def test_crds_override_a_bundled_kind_directory_or_kubectl_list(tmp_path: Path) -> None:
    """A cluster running another ACK release: its CRD (from a directory, or `kubectl get crd -o yaml`,
    a `kind: List`) replaces the bundled schema of that kind."""
    obj = copy.deepcopy(VPC)
    obj["spec"]["newField"] = "x"
    tree = _tree(tmp_path, obj)
    r = CliRunner().invoke(main, ["validate", str(tree)])
    assert r.exit_code == 1 and "unknown field 'newField'" in r.output
    crd = {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": {"name": "vpcs.ec2.services.k8s.aws"},
        "spec": {"group": "ec2.services.k8s.aws", "names": {"kind": "VPC", "plural": "vpcs"}, "scope": "Namespaced",
                 "versions": [{"name": "v1alpha1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                     "type": "object", "properties": {"spec": {"type": "object", "properties": {
                         "cidrBlocks": {"type": "array", "items": {"type": "string"}},
                         "enableDNSSupport": {"type": "boolean"}, "newField": {"type": "string"}}}}}}}]},
    }
    crd_dir = tmp_path / "crds"
    crd_dir.mkdir()
    (crd_dir / "vpc.yaml").write_text(yaml.safe_dump(crd))
    r = CliRunner().invoke(main, ["validate", str(tree), "--crds", str(crd_dir)])
    assert r.exit_code == 0, r.output
    listing = tmp_path / "kubectl-get-crd.yaml"
    listing.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [crd]}))
    r = CliRunner().invoke(main, ["validate", str(tree), "--crds", str(listing)])
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("content", [None, "", "a: 1\n", "# only a comment\n"])
def test_validate_with_nothing_to_validate_exits_2(tmp_path: Path, content: str | None) -> None:
    """An empty output directory (or a wrong path) must not pass a CI gate as "0 errors"."""
    d = tmp_path / "empty"
    d.mkdir()
    if content is not None:
        (d / "values.yaml").write_text(content)
    r = CliRunner().invoke(main, ["validate", str(d)])
    assert r.exit_code == 2, r.output
    assert "nothing to validate" in r.output and "Traceback" not in r.output
