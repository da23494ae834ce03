"""Shared ownership (issue 11 §1): fields someone besides this state writes are folded, omitted or the object is not
adopted — never silently rendered as an exact set ACK would enforce. States are built with tests/statefactory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from converter.cli import main
from converter.load.state import load_state
from converter.model import Status
from converter.ownership import analyze_ownership, load_rules
from converter.pipeline import load_estate
from tests import statefactory as sf

EKS_TAGS = {"kubernetes.io/cluster/prod": "shared", "kubernetes.io/role/internal-elb": "1"}


def _write(tmp_path: Path, name: str, text: str) -> str:
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def _vpc_root(tmp_path: Path) -> str:
    return _write(tmp_path, "vpc.tfstate", sf.state(
        sf.resource("aws_vpc", "this", sf.vpc(), module="module.vpc"),
        sf.resource("aws_subnet", "private", [sf.subnet(0), sf.subnet(1)], module="module.vpc", index_keys=[0, 1]),
    ))


def _eks_root(tmp_path: Path) -> str:
    tags = [{"id": f"subnet-0{i}aaaaaaaaaaaaaa,{k}", "resource_id": f"subnet-0{i}aaaaaaaaaaaaaa", "key": k, "value": v}
            for i in (0, 1) for k, v in sorted(EKS_TAGS.items())]
    keys = [f"{i}-{k}" for i in (0, 1) for k in sorted(EKS_TAGS)]
    return _write(tmp_path, "eks.tfstate", sf.state(sf.resource("aws_ec2_tag", "subnet", tags, index_keys=keys)))


def _tag_map(obj: dict) -> dict[str, str]:
    return {t["key"]: t["value"] for t in obj["spec"].get("tags", [])}


def test_rules_file_matches_its_schema_and_every_marker_names_a_known_field():
    rules = load_rules()
    assert rules.markers and rules.writers["aws_ec2_tag"] == ("tags",)
    for m in rules.markers:
        assert m.decision in ("omit", "not-adopted", "note") and m.why


def test_ec2_tag_of_another_root_folds_into_the_subnet_tags(tmp_path):
    vpc, eks = _vpc_root(tmp_path), _eks_root(tmp_path)
    others = load_state(eks).instances
    estate = load_estate(vpc, other_instances=others)
    for i in (0, 1):
        addr = f"module.vpc.aws_subnet.private[{i}]"
        tags = _tag_map(estate.result.objects[addr].conversion.body)
        assert tags == {**sf.TAGS, **EKS_TAGS}, "the other root's discovery tags are part of the exact set ACK syncs"
        folds = [d for d in estate.ownership.for_address(addr) if d.decision == "fold"]
        assert {w.address for d in folds for w in d.writers} == {f'aws_ec2_tag.subnet["{i}-{k}"]' for k in EKS_TAGS}
        assert all(d.writers[0].root == eks for d in folds)
    # without the other root the same subnet renders only its own tags: the analysis is what adds them
    alone = load_estate(vpc)
    assert _tag_map(alone.result.objects["module.vpc.aws_subnet.private[0]"].conversion.body) == sf.TAGS


def test_ec2_tag_converted_with_its_target_root_is_accounted_for(tmp_path):
    vpc, eks = _vpc_root(tmp_path), _eks_root(tmp_path)
    estate = load_estate(eks, other_instances=load_state(vpc).instances)
    for conv in estate.result.conversions.values():
        assert conv.status is Status.UNSUPPORTED
        assert "module.vpc.aws_subnet.private" in conv.reason and "folds into that object" in conv.reason


def _capture(tmp_path: Path, tf_type: str, items: dict[str, dict]) -> str:
    doc = {"format": "tf2kro-live-capture/v1", "region": "eu-west-1", "captured_at": "2026-01-01T00:00:00Z", "scope": {},
           "types": {tf_type: {"tf_type": tf_type, "status": "ok", "requested": sorted(items), "items": items}}}
    return _write(tmp_path, "capture.json", json.dumps(doc))


def test_vpc_root_alone_with_a_capture_does_not_render_tags_as_an_exact_set(tmp_path):
    vpc = _vpc_root(tmp_path)
    live_tags = [{"Key": k, "Value": v} for k, v in {**sf.TAGS, **EKS_TAGS, "aws:cloudformation:stack-name": "x"}.items()]
    items = {f"subnet-0{i}aaaaaaaaaaaaaa": {"SubnetId": f"subnet-0{i}aaaaaaaaaaaaaa", "VpcId": "vpc-0a1b2c3d4e5f60718",
                                           "Tags": live_tags} for i in (0, 1)}
    cap = _capture(tmp_path, "aws_subnet", items)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["convert", "--state", vpc, "--live", cap, "--out", str(out)])
    assert res.exit_code == 0, res.output
    objs = [o for o in yaml.safe_load_all((out / "network" / "review" / "ack-objects.yaml").read_text()) if o]
    subnets = [o for o in (objs[0] if isinstance(objs[0], list) else objs) if o["kind"] == "Subnet"]
    assert len(subnets) == 2 and all("tags" not in s.get("spec", {}) for s in subnets)
    report = json.loads((out / "report.json").read_text())
    row = next(r for r in report["resources"] if r["address"] == "module.vpc.aws_subnet.private[0]")
    om = next(o for o in row["omitted"] if o["field"] == "spec.tags")
    assert "kubernetes.io/cluster/prod" in om["reason"] and "aws:cloudformation" not in om["reason"]
    dec = [d for d in report["ownership"]["decisions"] if d["address"] == row["address"] and d["rule"] == "live_only.tags"]
    assert dec and dec[0]["decision"] == "omit"
    # a capture that holds exactly the state's tags changes nothing
    same = {k: {**v, "Tags": [{"Key": a, "Value": b} for a, b in sf.TAGS.items()]} for k, v in items.items()}
    estate = load_estate(vpc, live=__import__("converter.diff.live", fromlist=["LiveRead"]).LiveRead.load(
        _capture(tmp_path, "aws_subnet", same)))
    assert _tag_map(estate.result.objects["module.vpc.aws_subnet.private[0]"].conversion.body) == sf.TAGS


@pytest.mark.parametrize(("over", "marker", "writer"), [
    ({"revoke_rules_on_delete": True, "name": "ElasticMapReduce-master"}, "emr-managed-sg", "Amazon EMR"),
    ({"tags_all": {**sf.TAGS, "elbv2.k8s.aws/cluster": "prod", "ingress.k8s.aws/stack": "default/web"}},
     "lb-controller-sg", "AWS Load Balancer Controller"),
    ({"tags_all": {**sf.TAGS, "kubernetes.io/cluster/prod": "owned"}}, "k8s-cluster-sg", "AWS Load Balancer Controller"),
])
def test_security_groups_written_by_a_service_or_controller_are_not_adopted(tmp_path, over, marker, writer):
    rule = {"id": "sgrule-1", "security_group_id": "sg-0123456789abcdef0", "type": "ingress", "from_port": 443,
            "to_port": 443, "protocol": "tcp", "cidr_blocks": ["10.0.0.0/16"], "ipv6_cidr_blocks": [], "prefix_list_ids": [],
            "self": False, "source_security_group_id": None, "description": "https"}
    path = _write(tmp_path, "s.tfstate", sf.state(
        sf.resource("aws_vpc", "this", sf.vpc()),
        sf.resource("aws_security_group", "sg", sf.security_group(**over)),
        sf.resource("aws_security_group_rule", "https", rule),
        sf.resource("aws_instance", "web", {"id": "i-0123456789abcdef0", "ami": "ami-12345678", "instance_type": "t3.micro",
                                            "subnet_id": "subnet-00aaaaaaaaaaaaaa",
                                            "vpc_security_group_ids": ["sg-0123456789abcdef0"], "tags_all": sf.TAGS}),
    ))
    estate = load_estate(path)
    conv = estate.result.conversions["aws_security_group.sg"]
    assert conv.status is Status.NOT_ADOPTED and conv.reason.startswith(f"co-managed by {writer}")
    assert "aws_security_group.sg" not in estate.result.objects
    child = estate.result.conversions["aws_security_group_rule.https"]
    assert child.status is Status.NOT_ADOPTED and "aws_security_group.sg" in child.reason
    assert any(d.rule == f"markers.{marker}" for d in estate.ownership.for_address("aws_security_group.sg"))
    # references to it stay literal ids (it is no object kro could wait for)
    assert not any(r.target == "aws_security_group.sg" for r in estate.graph.value_refs)
    inst = estate.result.objects.get("aws_instance.web")
    if inst is not None:
        assert "sg-0123456789abcdef0" in json.dumps(inst.conversion.body)
    # inspect and the plan's PR body say so
    res = CliRunner().invoke(main, ["inspect", "--state", path, "--format", "json"])
    rep = json.loads(res.output)
    row = next(r for r in rep["resources"] if r["address"] == "aws_security_group.sg")
    assert row["status"] == "not-adopted" and writer in row["reason"]
    out = tmp_path / "plan"
    assert CliRunner().invoke(main, ["plan", "--state", path, "--out", str(out)]).exit_code == 0
    pr = "".join(p.read_text() for p in (out / "prs").rglob("*.md"))
    assert "## Shared ownership" in pr and "`aws_security_group.sg`" in pr and "not-adopted" in pr


def test_eks_cluster_security_group_is_not_adopted_by_reference(tmp_path):
    cluster = {"id": "prod", "name": "prod", "arn": "arn:aws:eks:eu-west-1:111122223333:cluster/prod", "version": "1.30",
               "role_arn": "arn:aws:iam::111122223333:role/eks", "tags_all": sf.TAGS,
               "vpc_config": [{"cluster_security_group_id": "sg-0123456789abcdef0", "subnet_ids": ["subnet-00aaaaaaaaaaaaaa"],
                               "security_group_ids": [], "endpoint_private_access": True, "endpoint_public_access": False,
                               "public_access_cidrs": [], "vpc_id": "vpc-0a1b2c3d4e5f60718"}]}
    path = _write(tmp_path, "s.tfstate", sf.state(sf.resource("aws_security_group", "cluster", sf.security_group())))
    eks = _write(tmp_path, "e.tfstate", sf.state(sf.resource("aws_eks_cluster", "this", cluster)))
    estate = load_estate(path, other_instances=load_state(eks).instances)
    conv = estate.result.conversions["aws_security_group.cluster"]
    assert conv.status is Status.NOT_ADOPTED and "Amazon EKS" in conv.reason and "aws_eks_cluster.this" in conv.reason


def test_plain_security_group_stays_adopted_with_folded_rules(tmp_path):
    path = _write(tmp_path, "s.tfstate", sf.state(sf.resource("aws_security_group", "sg", sf.security_group())))
    estate = load_estate(path)
    assert estate.result.conversions["aws_security_group.sg"].status is Status.MAPPED
    assert not estate.ownership.for_address("aws_security_group.sg")
    assert analyze_ownership(estate.state, estate.result, estate.mappings).decisions == []


def test_rules_known_only_from_folded_resources_are_flagged_and_live_only_rules_omitted(tmp_path):
    rule = {"id": "sgrule-1", "security_group_id": "sg-0123456789abcdef0", "type": "ingress", "from_port": 443,
            "to_port": 443, "protocol": "tcp", "cidr_blocks": ["10.0.0.0/16"], "ipv6_cidr_blocks": [], "prefix_list_ids": [],
            "self": False, "source_security_group_id": None, "description": "https"}
    path = _write(tmp_path, "s.tfstate", sf.state(sf.resource("aws_security_group", "sg", sf.security_group()),
                                                  sf.resource("aws_security_group_rule", "https", rule)))
    estate = load_estate(path)
    dec = [d for d in estate.ownership.for_address("aws_security_group.sg") if d.field == "ingressRules"]
    assert dec and dec[0].decision == "fold" and "folded set is all that is known" in dec[0].reason
    assert estate.result.objects["aws_security_group.sg"].conversion.body["spec"]["ingressRules"]
    # a capture shows a rule nobody in the estate wrote (the LB controller, a console edit): not rendered
    perm = {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/16", "Description": "https"}],
            "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []}
    extra = {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080, "IpRanges": [{"CidrIp": "10.1.0.0/16"}],
             "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []}
    item = {"GroupId": "sg-0123456789abcdef0", "GroupName": "nodes", "VpcId": "vpc-0a1b2c3d4e5f60718", "OwnerId": "111122223333",
            "IpPermissions": [perm, extra], "IpPermissionsEgress": [], "Tags": [{"Key": k, "Value": v} for k, v in sf.TAGS.items()]}
    from converter.diff.live import LiveRead

    live = LiveRead.load(_capture(tmp_path, "aws_security_group", {"sg-0123456789abcdef0": item}))
    estate = load_estate(path, live=live)
    spec = estate.result.objects["aws_security_group.sg"].conversion.body["spec"]
    assert "ingressRules" not in spec and spec["tags"]
    assert any(d.rule == "live_only.ingressRules" and d.decision == "omit" for d in estate.ownership.decisions)
    # the same capture without the extra rule: rendered as before
    item["IpPermissions"] = [perm]
    estate = load_estate(path, live=LiveRead.load(_capture(tmp_path, "aws_security_group", {"sg-0123456789abcdef0": item})))
    assert "ingressRules" in estate.result.objects["aws_security_group.sg"].conversion.body["spec"]


def test_ec2_tag_in_the_same_state_keeps_one_entry_per_key(tmp_path):
    sub = sf.subnet(0, tags_all={**sf.TAGS, "kubernetes.io/role/elb": "1"})
    tag = {"id": "subnet-00aaaaaaaaaaaaaa,kubernetes.io/role/elb", "resource_id": "subnet-00aaaaaaaaaaaaaa",
           "key": "kubernetes.io/role/elb", "value": "1"}
    path = _write(tmp_path, "s.tfstate", sf.state(sf.resource("aws_subnet", "a", sub), sf.resource("aws_ec2_tag", "elb", tag)))
    estate = load_estate(path)
    tags = estate.result.objects["aws_subnet.a"].conversion.body["spec"]["tags"]
    assert [t["key"] for t in tags] == sorted({*sf.TAGS, "kubernetes.io/role/elb"})
    assert estate.result.conversions["aws_ec2_tag.elb"].status is Status.FOLDED


_KEYS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(own=st.dictionaries(_KEYS, st.text(max_size=10), max_size=4), extra=st.dictionaries(_KEYS, st.text(max_size=10), max_size=4))
def test_live_tags_property_rendered_set_never_drops_a_live_key(tmp_path, own, extra):
    """Whatever the keys: after the analysis the rendered tags either hold every live key (bar aws:*) or are not
    rendered at all — ACK is never given a set that would delete a live key."""
    from converter.diff.live import LiveRead

    path = _write(tmp_path, "p.tfstate", sf.state(sf.resource("aws_subnet", "a", sf.subnet(0, tags_all=own))))
    live_tags = {**own, **extra}
    item = {"SubnetId": "subnet-00aaaaaaaaaaaaaa", "Tags": [{"Key": k, "Value": v} for k, v in live_tags.items()]}
    estate = load_estate(path, live=LiveRead.load(_capture(tmp_path, "aws_subnet", {"subnet-00aaaaaaaaaaaaaa": item})))
    spec = estate.result.objects["aws_subnet.a"].conversion.body.get("spec", {})
    if "tags" in spec:
        rendered = {t["key"] for t in spec["tags"]}
        assert {k for k in live_tags if not k.startswith("aws:")} <= rendered
    else:
        new = {k for k in extra if k not in own and not k.startswith("aws:")}
        assert new or not {k for k in own if not k.startswith("aws:")}


def test_ec2_tag_on_the_eks_cluster_security_group_names_eks_as_owner(tmp_path):
    cluster = {"id": "prod", "name": "prod", "arn": "arn:aws:eks:eu-west-1:111122223333:cluster/prod", "version": "1.30",
               "role_arn": "arn:aws:iam::111122223333:role/eks", "tags_all": sf.TAGS,
               "vpc_config": [{"cluster_security_group_id": "sg-0eks0000000000000", "subnet_ids": [], "security_group_ids": [],
                               "endpoint_private_access": True, "endpoint_public_access": False, "public_access_cidrs": []}]}
    tag = {"id": "sg-0eks0000000000000,Team", "resource_id": "sg-0eks0000000000000", "key": "Team", "value": "platform"}
    path = _write(tmp_path, "s.tfstate", sf.state(sf.resource("aws_eks_cluster", "this", cluster),
                                                  sf.resource("aws_ec2_tag", "cluster_primary_security_group", tag)))
    conv = load_estate(path).result.conversions["aws_ec2_tag.cluster_primary_security_group"]
    assert conv.status is Status.UNSUPPORTED
    assert "Amazon EKS" in conv.reason and "aws_eks_cluster.this.vpc_config.0.cluster_security_group_id" in conv.reason


def test_two_roots_converted_together_keep_the_other_roots_subnet_tags(tmp_path):
    """The CLI path: `convert --state vpc=… --state eks=…` reads every root before mapping any, so the VPC root's
    subnets carry the EKS root's `aws_ec2_tag` keys in the tags ACK syncs as an exact set, and the EKS root says
    where its tags went instead of leaving them silently in Terraform."""
    vpc, eks = _vpc_root(tmp_path), _eks_root(tmp_path)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["convert", "--state", f"vpc={vpc}", "--state", f"eks={eks}", "--out", str(out)])
    assert res.exit_code == 0, res.output
    review = list(yaml.safe_load_all((out / "vpc" / "network" / "review" / "ack-objects.yaml").read_text()))
    subnets = [o for o in review if o and o["kind"] == "Subnet"]
    assert len(subnets) == 2
    for obj in subnets:
        assert _tag_map(obj) == {**sf.TAGS, **EKS_TAGS}
    report = json.loads((out / "eks" / "report.json").read_text())
    assert {r["status"] for r in report["resources"]} == {"unsupported"}
    assert all("folds into that object" in r["reason"] for r in report["resources"])


def test_a_folded_rule_is_reported_under_the_field_it_writes():
    """An aws_security_group_rule of type ingress writes ingressRules only (its fold rule's target): the ownership
    report must not also name it as a writer of egressRules."""
    from converter.packagedata import sample_dir
    from converter.pipeline import load_estate

    estate = load_estate(str(sample_dir() / "terraform.tfstate"))
    types = {i.address: i for i in estate.state.managed}
    seen = 0
    for d in estate.ownership.decisions:
        for w in d.writers:
            inst = types.get(w.address)
            if inst is None or inst.type != "aws_security_group_rule":
                continue
            seen += 1
            want = "ingressRules" if inst.attributes.get("type") == "ingress" else "egressRules"
            assert d.field == want, (w.address, d.field)
    assert seen >= 1
