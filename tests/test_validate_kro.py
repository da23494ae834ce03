"""kro RGD static checks (converter.validate.kro) and the tree runner (converter.validate.runner)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from converter.model import ToolError
from converter.validate.crds import CrdIndex, Problem, validate_object
from converter.validate.kro import check_rgd, extract_expressions, simpleschema_to_openapi
from converter.validate.runner import validate_tree

GOOD_RGD = """
apiVersion: kro.run/v1alpha1
kind: ResourceGraphDefinition
metadata: {name: network.platform.example.com}
spec:
  schema:
    apiVersion: v1alpha1
    kind: Network
    group: platform.example.com
    scope: Namespaced
    spec:
      name: string | required=true immutable=true
      region: string | default="us-west-2"
      cidr: string | default="10.0.0.0/16" pattern="^[0-9./]+$"
      azs: '[]string | minItems=1 required=true'
      subnetCidrs: '[]string | required=true'
      tags: map[string]string
    status:
      vpcID: ${vpc.status.vpcID}
      subnetIDs: ${subnets.map(s, s.status.subnetID)}
  resources:
    - id: vpc
      readyWhen:
        - ${vpc.status.conditions.exists(c, c.type == "ACK.ResourceSynced" && c.status == "True")}
      template:
        apiVersion: ec2.services.k8s.aws/v1alpha1
        kind: VPC
        metadata:
          name: ${schema.spec.name}-vpc
          annotations: {services.k8s.aws/region: '${schema.spec.region}'}
        spec:
          cidrBlocks: ['${schema.spec.cidr}']
          enableDNSSupport: true
          tags: [{key: Name, value: '${schema.spec.name}'}]
    - id: subnets
      forEach: [{idx: '${lists.range(size(schema.spec.azs))}'}]
      readyWhen: ['${each.status.state == "available"}']
      template:
        apiVersion: ec2.services.k8s.aws/v1alpha1
        kind: Subnet
        metadata: {name: '${schema.spec.name + "-" + string(idx)}'}
        spec:
          vpcID: ${vpc.status.vpcID}
          availabilityZone: ${schema.spec.azs[idx]}
          cidrBlock: ${schema.spec.subnetCidrs[idx]}
          mapPublicIPOnLaunch: ${schema.spec.?public.orValue(false)}
    - id: subnetA
      includeWhen: ['${size(schema.spec.azs) > 0}']
      readyWhen:
        - ${subnetA.status.conditions.exists(c, c.type == "ACK.ResourceSynced" && c.status == "True")}
      template:
        apiVersion: ec2.services.k8s.aws/v1alpha1
        kind: Subnet
        metadata: {name: '${schema.spec.name}-a', labels: {app.kubernetes.io/part-of: network}}
        spec:
          vpcID: ${vpc.status.vpcID}
          cidrBlock: ${schema.spec.subnetCidrs[0]}
          vpcRef: {from: {name: '${vpc.metadata.name}'}}
          tags: '${[{"key": "hash", "value": hash.sha256(json.marshal(schema.spec.tags))}]}'
"""


@pytest.fixture(scope="module")
def index() -> CrdIndex:
    return CrdIndex.bundled()


@pytest.fixture
def rgd() -> dict:
    return yaml.safe_load(GOOD_RGD)


def res(rgd: dict, rid: str) -> dict:
    return next(r for r in rgd["spec"]["resources"] if r["id"] == rid)


def codes(problems: list[Problem]) -> list[str]:
    return [p.code for p in problems]


def test_good_rgd_passes(rgd: dict, index: CrdIndex) -> None:
    assert check_rgd(rgd, index) == []
    assert validate_object(rgd, index) == []  # the envelope against the RGD CRD


def test_unknown_field_in_template(rgd: dict, index: CrdIndex) -> None:
    res(rgd, "vpc")["template"]["spec"]["enableDnsSupport"] = True
    probs = check_rgd(rgd, index)
    assert [(p.path, p.code) for p in probs] == [
        ("spec.resources[0].template.spec.enableDnsSupport", "unknown-field")
    ]


def test_wrong_literal_type_in_template(rgd: dict, index: CrdIndex) -> None:
    res(rgd, "vpc")["template"]["spec"]["enableDNSSupport"] = "yes"
    assert [p.path for p in check_rgd(rgd, index)] == ["spec.resources[0].template.spec.enableDNSSupport"]


def test_bad_cel_syntax(rgd: dict, index: CrdIndex) -> None:
    res(rgd, "subnets")["template"]["spec"]["vpcID"] = "${vpc.status.}"
    probs = check_rgd(rgd, index)
    assert codes(probs) == ["cel-syntax"] and probs[0].path == "spec.resources[1].template.spec.vpcID"


def test_unknown_identifier(rgd: dict, index: CrdIndex) -> None:
    res(rgd, "subnets")["template"]["spec"]["vpcID"] = "${vpcc.status.vpcID}"
    probs = check_rgd(rgd, index)
    assert codes(probs) == ["unknown-identifier"]
    assert "references unknown identifiers: vpcc" in probs[0].message


def test_nonexistent_status_field(rgd: dict, index: CrdIndex) -> None:
    res(rgd, "subnets")["template"]["spec"]["vpcID"] = "${vpc.status.vpcId}"
    probs = check_rgd(rgd, index)
    assert codes(probs) == ["no-such-member"]
    assert "no such member 'vpcId'" in probs[0].message
    # optional access disables the check, as in kro
    res(rgd, "subnets")["template"]["spec"]["vpcID"] = '${vpc.status.?vpcId.orValue("")}'
    assert check_rgd(rgd, index) == []


def test_nonexistent_field_through_macro_and_schema(rgd: dict, index: CrdIndex) -> None:
    rgd["spec"]["schema"]["status"]["subnetIDs"] = "${subnets.map(s, s.status.subnetId)}"
    res(rgd, "vpc")["template"]["metadata"]["name"] = "${schema.spec.nme}"
    probs = check_rgd(rgd, index)
    assert sorted(p.path for p in probs if p.code == "no-such-member") == [
        "spec.resources[0].template.metadata.name",
        "spec.schema.status.subnetIDs",
    ]
    # metadata always exists; a collection is a list
    res(rgd, "subnetA")["template"]["spec"]["vpcID"] = "${subnets.status.vpcID}"
    probs = check_rgd(rgd, index)
    assert any("on a list" in p.message for p in probs)


def test_cycle(rgd: dict, index: CrdIndex) -> None:
    res(rgd, "vpc")["template"]["metadata"]["labels"] = {"subnet": "${subnetA.status.subnetID}"}
    probs = check_rgd(rgd, index)
    assert codes(probs) == ["cycle"]
    assert probs[0].message.startswith("circular dependency")
    assert "vpc -> subnetA -> vpc" in probs[0].message


@pytest.mark.parametrize(
    "bad_id,code",
    [
        ("namespace", "reserved-id"),
        ("schema", "reserved-id"),
        ("my-vpc", "bad-id"),
        ("Vpc", "bad-id"),
        ("vpc_1", "bad-id"),
    ],
)
def test_bad_ids(rgd: dict, index: CrdIndex, bad_id: str, code: str) -> None:
    r = res(rgd, "subnetA")
    r["id"] = bad_id
    r["readyWhen"] = []
    probs = check_rgd(rgd, index)
    assert codes(probs) == [code]
    assert probs[0].path == "spec.resources[2].id"


def test_duplicate_id_and_template_xor_external(rgd: dict, index: CrdIndex) -> None:
    extra = copy.deepcopy(res(rgd, "vpc"))
    extra["externalRef"] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}}
    rgd["spec"]["resources"].append(extra)
    assert sorted(codes(check_rgd(rgd, index))) == ["duplicate-id", "template-or-external"]


def test_readywhen_rules(rgd: dict, index: CrdIndex) -> None:
    res(rgd, "vpc")["readyWhen"] = ["${subnetA.status.state == 'available'}"]
    probs = check_rgd(rgd, index)
    assert codes(probs) == ["unknown-identifier"] and "readyWhen may only reference" in probs[0].message
    res(rgd, "vpc")["readyWhen"] = ["${vpc.status.state}"]
    assert codes(check_rgd(rgd, index)) == ["cel-type"]
    res(rgd, "vpc")["readyWhen"] = ['${vpc.status.state == "available"}\n']
    assert codes(check_rgd(rgd, index)) == ["not-standalone"]
    res(rgd, "vpc")["readyWhen"] = []
    res(rgd, "vpc")["includeWhen"] = ["${schema.spec.region}"]
    assert codes(check_rgd(rgd, index)) == ["cel-type"]


def test_type_mismatch_and_string_template(rgd: dict, index: CrdIndex) -> None:
    spec = res(rgd, "vpc")["template"]["spec"]
    spec["cidrBlocks"] = "${schema.spec.cidr}"  # string into an array field
    spec["enableDNSSupport"] = "${size(schema.spec.azs)}"  # int into a bool field
    res(rgd, "subnetA")["template"]["metadata"]["name"] = (
        "n-${size(schema.spec.azs)}"  # int in a string template
    )
    probs = check_rgd(rgd, index)
    assert [(p.path, p.code) for p in probs] == [
        ("spec.resources[0].template.spec.cidrBlocks", "cel-type"),
        ("spec.resources[0].template.spec.enableDNSSupport", "cel-type"),
        ("spec.resources[2].template.metadata.name", "cel-type"),
    ]


def test_kro_labels_unknown_kind_and_schema_header(rgd: dict, index: CrdIndex) -> None:
    res(rgd, "vpc")["template"]["metadata"]["labels"] = {"kro.run/owned": "true"}
    res(rgd, "subnetA")["template"]["kind"] = "Subnett"
    rgd["spec"]["schema"]["kind"] = "network"
    rgd["spec"]["schema"]["apiVersion"] = "1"
    assert sorted(codes(check_rgd(rgd, index))) == ["kro-label", "no-crd", "schema-header", "schema-header"]


def test_simpleschema() -> None:
    schema, probs = simpleschema_to_openapi(
        {
            "name": 'string | required=true description="a b" minLength=1',
            "port": "integer | default=80 minimum=1 maximum=65535",
            "ratio": "float",
            "ports": "[]integer | default=[80] uniqueItems=true",
            "labels": "map[string]string",
            "nested": "map[string][]Person",
            "obj": "object",
            "mode": 'string | enum="a,b"',
            "people": {"owner": "Person"},
        },
        {"Person": {"name": "string | required=true", "age": "integer"}},
    )
    assert probs == []
    p = schema["properties"]
    assert schema["required"] == ["name"]
    assert p["ratio"] == {"type": "number"} and p["port"]["default"] == 80
    assert p["nested"]["additionalProperties"]["items"]["properties"]["age"] == {"type": "integer"}
    assert p["mode"]["enum"] == ["a", "b"] and p["name"]["description"] == "a b"
    for bad in [
        "strin",
        "string | requird=true",
        "map[int]string",
        'integer | enum="a"',
        "string | minItems=1",
        "integer | default=x",
        "[]string | listMapKey=a",
        'string | pattern="("',
        "array",
    ]:
        _, probs = simpleschema_to_openapi({"f": bad})
        assert probs, bad
    _, probs = simpleschema_to_openapi({"f": "A"}, {"A": {"b": "B"}, "B": {"a": "A"}})
    assert any("cycle" in p.message for p in probs)


def test_extract_expressions() -> None:
    assert extract_expressions("a-${x}-${y.z}") == (["x", "y.z"], None)
    assert extract_expressions('${a == "}"}') == (['a == "}"'], None)
    assert extract_expressions('${{"a": 1}.a}') == (['{"a": 1}.a'], None)
    assert extract_expressions("${a")[1] is not None
    assert extract_expressions("${a ${b}}")[1] is not None
    assert extract_expressions('${"${VAR}"}') == (['"${VAR}"'], None)


# ------------------------------------------------------------------------------------------------ runner
def test_runner_instances_extra_checks_and_bad_yaml(tmp_path: Path, index: CrdIndex) -> None:
    (tmp_path / "rgd.yaml").write_text(GOOD_RGD)
    inst = {
        "apiVersion": "platform.example.com/v1alpha1",
        "kind": "Network",
        "metadata": {"name": "prod", "namespace": "infra"},
        "spec": {"name": "prod", "azs": ["a"], "subnetCidrs": ["10.0.0.0/19"]},
    }
    bad_inst = copy.deepcopy(inst)
    bad_inst["metadata"]["name"] = "dev"
    bad_inst["spec"]["azs"] = "a"
    del bad_inst["spec"]["name"]
    (tmp_path / "instances").mkdir()
    (tmp_path / "instances" / "net.yml").write_text(yaml.safe_dump_all([inst, bad_inst]))
    (tmp_path / "deploy.yaml").write_text(
        yaml.safe_dump({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"}})
    )
    seen: list[str] = []

    def policy(obj: dict, file: str) -> list[Problem]:
        seen.append(file)
        return (
            [Problem("metadata.labels", "missing owner label", "error", "policy")]
            if obj["kind"] == "Network"
            else []
        )

    report = validate_tree(tmp_path, [], index=index, extra_checks=[policy])
    assert (report.files, report.objects) == (3, 4)
    assert report.checks >= 4 + 1 + 4
    errs = [(f.file, f.doc, f.object, f.path, f.code) for f in report.errors]
    assert errs == [
        ("instances/net.yml", 0, "Network/infra/prod", "metadata.labels", "policy"),
        ("instances/net.yml", 1, "Network/infra/dev", "spec.azs", "type"),
        ("instances/net.yml", 1, "Network/infra/dev", "spec.name", "required"),
        ("instances/net.yml", 1, "Network/infra/dev", "metadata.labels", "policy"),
    ]
    assert [(f.object, f.code) for f in report.warnings] == [("Deployment/d", "no-crd")]
    assert len(seen) == 4 and not report.ok
    assert "instances/net.yml [doc 1] Network/infra/dev: spec.azs" in report.to_text()

    (tmp_path / "broken.yaml").write_text("kind: [\n")
    with pytest.raises(ToolError) as ei:
        validate_tree(tmp_path, [])
    assert "broken.yaml" in str(ei.value)
