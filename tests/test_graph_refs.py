"""Value references bind to the object whose identifier the value is (issue 11 §2): not to another object that
merely holds the same value (an ALB's vpc_id), not to a namesake (a role named like its instance profile), and
never from tag values at any depth."""

from __future__ import annotations

from pathlib import Path

from converter.pipeline import load_estate
from tests import statefactory as sf

ACCOUNT = "111122223333"
VPC = "vpc-0a1b2c3d4e5f60718"


def _estate(tmp_path: Path, *resources):
    p = tmp_path / "s.tfstate"
    p.write_text(sf.state(*resources))
    return load_estate(str(p))


def _refs(estate, source: str) -> dict[tuple, tuple[str, str]]:
    return {r.path: (r.target, r.ack_path) for r in estate.graph.value_refs if r.source == source}


def test_target_group_vpc_binds_to_the_vpc_not_the_load_balancer(tmp_path):
    alb_arn = f"arn:aws:elasticloadbalancing:eu-west-1:{ACCOUNT}:loadbalancer/app/web/0123456789abcdef"
    tg_arn = f"arn:aws:elasticloadbalancing:eu-west-1:{ACCOUNT}:targetgroup/web/0123456789abcdef"
    # the ALB's address sorts before the VPC's: the old choice (sorted(chosen)[0]) picked it
    estate = _estate(
        tmp_path,
        sf.resource("aws_vpc", "this", sf.vpc()),
        sf.resource("aws_lb", "a_web", {"id": alb_arn, "arn": alb_arn, "name": "web", "vpc_id": VPC, "internal": False,
                                        "load_balancer_type": "application", "subnets": [], "security_groups": [],
                                        "tags_all": {"Name": VPC}}),
        sf.resource("aws_lb_target_group", "web", {"id": tg_arn, "arn": tg_arn, "name": "web", "port": 80,
                                                   "protocol": "HTTP", "target_type": "ip", "vpc_id": VPC, "tags_all": {}}),
    )
    refs = _refs(estate, "aws_lb_target_group.web")
    assert refs[("vpcID",)] == ("aws_vpc.this", "status.vpcID")
    # a tag value equal to an id is data, never a reference
    assert not any("tags" in map(str, p) for p in _refs(estate, "aws_lb.a_web"))


def test_instance_profile_name_is_its_own_not_the_roles(tmp_path):
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/nodes"
    estate = _estate(
        tmp_path,
        sf.resource("aws_iam_role", "nodes", {"id": "nodes", "name": "nodes", "arn": role_arn, "path": "/",
                                              "assume_role_policy": "{}", "unique_id": "AROAEXAMPLE000000001", "tags_all": {}}),
        sf.resource("aws_iam_instance_profile", "nodes", {"id": "nodes", "name": "nodes", "path": "/", "role": "nodes",
                                                          "arn": f"arn:aws:iam::{ACCOUNT}:instance-profile/nodes",
                                                          "tags_all": {}},
                    deps=["aws_iam_role.nodes"]),
    )
    refs = _refs(estate, "aws_iam_instance_profile.nodes")
    assert ("name",) not in refs, refs
    assert refs[("role",)] == ("aws_iam_role.nodes", "spec.name")


def test_nested_tag_specifications_are_not_references(tmp_path):
    lt = {"id": "lt-0123456789abcdef0", "arn": f"arn:aws:ec2:eu-west-1:{ACCOUNT}:launch-template/lt-0123456789abcdef0",
          "name": "nodes", "default_version": 1, "latest_version": 1, "image_id": "ami-12345678",
          "tag_specifications": [{"resource_type": "instance", "tags": {"vpc": VPC}}], "tags_all": {}}
    estate = _estate(tmp_path, sf.resource("aws_vpc", "this", sf.vpc()), sf.resource("aws_launch_template", "nodes", lt))
    body = estate.result.objects["aws_launch_template.nodes"].conversion.body
    assert VPC in str(body), "the tag value is rendered"
    assert not _refs(estate, "aws_launch_template.nodes")
