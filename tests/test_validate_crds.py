"""CRD-based offline validation (converter.validate.crds) and the `tf2kro validate` CLI exit codes."""

from __future__ import annotations

import copy
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from converter.model import ToolError
from converter.validate.crds import CrdIndex, convert_schema, is_standalone_expression, validate_object

# A tiny ACK-style CRD for the features the shipped CRDs use rarely: int-or-string without anyOf, nullable,
# enum, preserve-unknown-fields, a string map.
TOY_CRD = """
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          apiVersion: {type: string}
          kind: {type: string}
          metadata: {type: object}
          spec:
            type: object
            required: [name]
            properties:
              name: {type: string, pattern: '^[a-z]+$'}
              port: {x-kubernetes-int-or-string: true}
              groups: {type: array, nullable: true, items: {type: string}}
              mode: {type: string, enum: [fast, slow]}
              logging: {type: object, x-kubernetes-preserve-unknown-fields: true}
              tags: {type: object, additionalProperties: {type: string}}
              rule:
                type: object
                x-kubernetes-validations: [{rule: "self.a > 0"}]
                properties: {a: {type: integer}}
          status: {type: object, properties: {ready: {type: boolean}}}
  - name: v0
    served: false
    storage: false
    schema: {openAPIV3Schema: {type: object}}
"""


@pytest.fixture(scope="module")
def toy_index(tmp_path_factory: pytest.TempPathFactory) -> CrdIndex:
    d = tmp_path_factory.mktemp("crds")
    (d / "widget.yaml").write_text(TOY_CRD)
    return CrdIndex.from_paths([d])


@pytest.fixture(scope="module")
def index() -> CrdIndex:
    return CrdIndex.bundled()


def widget(**spec) -> dict:
    return {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"name": "ok", **spec},
    }


def paths(problems) -> list[str]:
    return sorted(p.path for p in problems)


# ------------------------------------------------------------------------------------------------ toy CRD
def test_toy_good(toy_index: CrdIndex) -> None:
    obj = widget(port=8080, groups=None, mode="fast", logging={"any": {"nested": [1]}}, tags={"a": "b"})
    assert validate_object(obj, toy_index) == []
    assert validate_object(widget(port="http"), toy_index) == []


def test_toy_int_or_string_rejects_other_types(toy_index: CrdIndex) -> None:
    assert paths(validate_object(widget(port=2.5), toy_index)) == ["spec.port"]
    assert paths(validate_object(widget(port=[1]), toy_index)) == ["spec.port"]


def test_toy_nullable_and_unknown_fields(toy_index: CrdIndex) -> None:
    assert validate_object(widget(groups=None), toy_index) == []
    obj = widget(typoField=1, rule={"a": 1, "b": 2})
    probs = validate_object(obj, toy_index)
    assert paths(probs) == ["spec.rule.b", "spec.typoField"]
    assert all("unknown field" in p.message for p in probs)


def test_toy_enum_pattern_type_required_map(toy_index: CrdIndex) -> None:
    probs = validate_object(widget(mode="medium", tags={"a": 1}), toy_index)
    assert paths(probs) == ["spec.mode", "spec.tags.a"]
    obj = widget()
    obj["spec"] = {"port": 1}
    probs = validate_object(obj, toy_index)
    assert [(p.path, p.message) for p in probs] == [("spec.name", "missing required field")]
    probs = validate_object(widget(name="UPPER"), toy_index)
    assert paths(probs) == ["spec.name"]


def test_toy_cel_rules_are_ignored_and_status_metadata_allowed(toy_index: CrdIndex) -> None:
    obj = widget(rule={"a": -1})  # x-kubernetes-validations are CEL: not enforced here
    obj["status"] = {"ready": True}
    obj["metadata"] = {"name": "w", "labels": {"a": "b"}, "annotations": {"x": "y"}}
    assert validate_object(obj, toy_index) == []
    obj["metadata"]["labels"]["enabled"] = True  # YAML bool in a label: the API server rejects it
    assert paths(validate_object(obj, toy_index)) == ["metadata.labels.enabled"]
    obj = widget()
    obj["bogusTop"] = 1
    assert paths(validate_object(obj, toy_index)) == ["bogusTop"]


def test_unknown_kind_and_unserved_version(toy_index: CrdIndex) -> None:
    probs = validate_object(
        {"apiVersion": "example.com/v9", "kind": "Widget", "metadata": {"name": "x"}}, toy_index
    )
    assert [p.code for p in probs] == ["no-crd"]
    assert probs[0].message == "no CRD for example.com/v9 Widget"
    probs = validate_object(
        {"apiVersion": "example.com/v0", "kind": "Widget", "metadata": {"name": "x"}}, toy_index
    )
    assert "not served" in probs[0].message


def test_builtin_kinds_get_shape_checks(toy_index: CrdIndex) -> None:
    secret = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "stringData": {"a": "b"}}
    assert validate_object(secret, toy_index) == []
    secret["stringData"]["n"] = 1
    assert paths(validate_object(secret, toy_index)) == ["stringData.n"]
    kust = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": ["a.yaml"]}
    assert validate_object(kust, toy_index) == []
    comp = {"apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component",
            "patches": [{"target": {"kind": "Bucket"}, "patch": "kind: Bucket\n"}]}
    assert validate_object(comp, toy_index) == []
    comp["patches"][0]["patch"] = {"kind": "Bucket"}  # must be the patch's YAML text
    assert paths(validate_object(comp, toy_index)) == ["patches[0].patch"]
    for kind in ("ConfigMap", "ServiceAccount", "Namespace"):
        assert validate_object({"apiVersion": "v1", "kind": kind, "metadata": {"name": "x"}}, toy_index) == []
    assert [p.code for p in validate_object({"kind": "X"}, toy_index)] == ["shape"]


def test_template_mode_accepts_cel(toy_index: CrdIndex) -> None:
    obj = widget(
        port="${schema.spec.port}", groups="${subnets.map(s, s.status.id)}", mode="${schema.spec.mode}"
    )
    obj["spec"]["name"] = "${schema.spec.name}"
    obj["spec"]["tags"] = {"owner": "team-${schema.spec.team}"}
    assert validate_object(obj, toy_index, template=True) == []
    assert validate_object(obj, toy_index) != []  # not a template: those strings are wrong
    # a templated string is still a string: not OK for a boolean/array field
    obj = widget(groups="a-${x}")
    assert paths(validate_object(obj, toy_index, template=True)) == ["spec.groups"]
    assert is_standalone_expression('${a.b == "}"}')
    assert not is_standalone_expression("${a}-${b}")
    assert not is_standalone_expression("${a}\n")


def test_list_kind_and_multidoc(tmp_path: Path) -> None:
    crd = yaml.safe_load(TOY_CRD)
    (tmp_path / "list.yaml").write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [crd]}))
    other = copy.deepcopy(crd)
    other["spec"]["names"]["kind"] = "Gadget"
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "multi.yml").write_text(
        yaml.safe_dump(other) + "---\n" + yaml.safe_dump({"apiVersion": "v1", "kind": "ConfigMap"})
    )
    idx = CrdIndex.from_paths([tmp_path])
    assert ("example.com/v1", "Widget") in idx and ("example.com/v1", "Gadget") in idx
    assert idx.schema("example.com/v1", "Widget") is idx.schema("example.com/v1", "Widget")  # cached
    assert idx.scope("example.com/v1", "Widget") == "Namespaced"


def test_bad_yaml_and_missing_path(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("a: [1,\n")
    with pytest.raises(ToolError) as ei:
        CrdIndex.from_paths([tmp_path])
    assert "bad.yaml" in str(ei.value)
    with pytest.raises(ToolError):
        CrdIndex.from_paths([tmp_path / "nope"])


def test_convert_schema_rules() -> None:
    out = convert_schema(
        {
            "type": "object",
            "properties": {
                "a": {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]},
                "b": {"type": "string", "nullable": True, "enum": ["x"]},
                "c": {
                    "type": "object",
                    "x-kubernetes-preserve-unknown-fields": True,
                    "properties": {"d": {}},
                },
            },
        }
    )
    props = out["properties"]
    assert props["a"] == {"type": ["integer", "string"]}
    assert props["b"]["type"] == ["string", "null"] and None in props["b"]["enum"]
    assert "additionalProperties" not in props["c"]
    assert out["additionalProperties"] is False


# ------------------------------------------------------------------------------------------------ real CRDs
GOOD_VPC = {
    "apiVersion": "ec2.services.k8s.aws/v1alpha1",
    "kind": "VPC",
    "metadata": {"name": "main", "annotations": {"services.k8s.aws/region": "us-east-1"}},
    "spec": {
        "cidrBlocks": ["10.0.0.0/16"],
        "enableDNSSupport": True,
        "enableDNSHostnames": True,
        "tags": [{"key": "Name", "value": "main"}],
    },
}
GOOD_SUBNET = {
    "apiVersion": "ec2.services.k8s.aws/v1alpha1",
    "kind": "Subnet",
    "metadata": {"name": "a"},
    "spec": {"vpcID": "vpc-123", "cidrBlock": "10.0.0.0/19", "availabilityZone": "us-east-1a"},
}
GOOD_CLUSTER = {
    "apiVersion": "eks.services.k8s.aws/v1alpha1",
    "kind": "Cluster",
    "metadata": {"name": "prod"},
    "spec": {
        "name": "prod",
        "version": "1.33",
        "roleARN": "arn:aws:iam::123456789012:role/eks",
        "resourcesVPCConfig": {"subnetIDs": ["subnet-1", "subnet-2"], "endpointPrivateAccess": True},
    },
}


@pytest.mark.parametrize("obj", [GOOD_VPC, GOOD_SUBNET, GOOD_CLUSTER], ids=["vpc", "subnet", "cluster"])
def test_real_ack_good(index: CrdIndex, obj: dict) -> None:
    assert validate_object(obj, index) == []


def test_real_ack_errors(index: CrdIndex) -> None:
    c = copy.deepcopy(GOOD_CLUSTER)
    c["spec"]["resourcesVPCConfig"]["subnetIds"] = ["x"]  # wrong case → unknown field
    c["spec"]["resourcesVPCConfig"]["subnetIDs"] = ["subnet-1", 7]  # wrong type
    c["spec"]["resourcesVPCConfig"]["endpointPrivateAccess"] = "yes"
    probs = validate_object(c, index)
    assert paths(probs) == [
        "spec.resourcesVPCConfig.endpointPrivateAccess",
        "spec.resourcesVPCConfig.subnetIDs[1]",
        "spec.resourcesVPCConfig.subnetIds",
    ]
    fe = {
        "apiVersion": "services.k8s.aws/v1alpha1",
        "kind": "FieldExport",
        "metadata": {"name": "x"},
        "spec": {
            "from": {"path": ".status.vpcID", "resource": {"group": "ec2", "kind": "VPC", "name": "v"}},
            "to": {"kind": "file", "name": "cm"},
        },
    }
    probs = validate_object(fe, index)
    assert [(p.path, p.code) for p in probs] == [("spec.to.kind", "enum")]


def test_real_int_or_string_argocd(index: CrdIndex) -> None:
    app = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "a", "namespace": "argocd"},
        "spec": {
            "project": "default",
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "x"},
            "source": {
                "repoURL": "https://git",
                "path": "p",
                "kustomize": {"replicas": [{"name": "d", "count": 2}]},
            },
        },
    }
    assert validate_object(app, index) == []
    app["spec"]["source"]["kustomize"]["replicas"][0]["count"] = "2"
    assert validate_object(app, index) == []
    app["spec"]["source"]["kustomize"]["replicas"][0]["count"] = 2.5
    assert paths(validate_object(app, index)) == ["spec.source.kustomize.replicas[0].count"]


def test_speed_2000_objects(index: CrdIndex) -> None:
    objs = [GOOD_VPC, GOOD_SUBNET, GOOD_CLUSTER] * 700
    t = time.perf_counter()
    for o in objs:
        assert not validate_object(o, index)
    assert time.perf_counter() - t < 10


# ------------------------------------------------------------------------------------------------ CLI
def test_cli_exit_codes(tmp_path: Path) -> None:
    from converter.cli import main

    good = tmp_path / "good"
    good.mkdir()
    (good / "vpc.yaml").write_text(yaml.safe_dump(GOOD_VPC) + "---\n" + yaml.safe_dump(GOOD_SUBNET))
    runner = CliRunner()
    r = runner.invoke(main, ["validate", str(good)])
    assert r.exit_code == 0, r.output
    assert "2 objects" in r.output

    bad = tmp_path / "bad"
    bad.mkdir()
    v = copy.deepcopy(GOOD_VPC)
    v["spec"]["cidrBlock"] = "10.0.0.0/16"
    (bad / "vpc.yaml").write_text(yaml.safe_dump(v))
    r = runner.invoke(main, ["validate", str(bad)])
    assert r.exit_code == 1
    assert "vpc.yaml" in r.output and "VPC/main" in r.output and "spec.cidrBlock" in r.output
    r = runner.invoke(main, ["validate", str(bad), "--format", "json"])
    assert r.exit_code == 1
    import json

    data = json.loads(r.output)
    assert data["counts"]["errors"] == 1 and data["findings"][0]["path"] == "spec.cidrBlock"

    (bad / "broken.yaml").write_text("a: [\n")
    r = runner.invoke(main, ["validate", str(bad)])
    assert r.exit_code == 2
    r = runner.invoke(main, ["validate", str(tmp_path / "missing")])
    assert r.exit_code == 2
    r = runner.invoke(main, ["validate", str(good), "--crds", str(tmp_path / "nocrds")])
    assert r.exit_code == 2
