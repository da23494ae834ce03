"""`describe:` blocks of the less common mapped types against a real moto server: each resource is created with
boto3, the state Terraform (hashicorp/aws 5.x) would hold for it is written, the fresh diff is clean (no
adoption-would-change, drift, deleted or unknown), and an out-of-band change made with boto3 is found on the right
field with the right class.

Types moto does not implement (EKS access entries, pod identity associations, identity provider configs) are in
test_diff_eks_stubbed.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from converter.cli import main
from tests.statefactory import resource, state

if TYPE_CHECKING:
    from tests.moto_server import MotoServer

pytest_plugins = ["tests.moto_server"]
pytestmark = pytest.mark.moto

REGION = "eu-west-1"
ACCOUNT = "123456789012"
COUNTED = ("adoption-would-change", "drift", "deleted", "unmanaged", "unknown")
TAGS = {"Project": "tf2kro-test"}  # provider default_tags


def _tf_tags(own: dict[str, str] | None = None) -> dict[str, Any]:
    return {"tags": dict(own or {}), "tags_all": {**TAGS, **(own or {})}}


def _aws_tags(own: dict[str, str] | None = None) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in {**TAGS, **(own or {})}.items()]


def _diff(moto: MotoServer, tmp_path: Path, resources: list[dict[str, Any]], *extra: str) -> dict[str, Any]:
    path = tmp_path / "terraform.tfstate"
    path.write_text(state(*resources))
    res = CliRunner().invoke(main, ["diff", "--state", str(path), "--region", REGION, "--endpoint-url", moto.url,
                                    "--format", "json", *extra])
    assert res.exit_code in (0, 1), res.output + str(res.exception)
    doc = json.loads(res.stdout)
    assert doc["exit_code"] == res.exit_code
    return doc


def _findings(doc: dict[str, Any], *classes: str) -> list[dict[str, Any]]:
    return [f for r in doc["resources"] for f in r["findings"] if not classes or f["class"] in classes]


def _found(doc: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(f["class"], f["address"], f["path"]) for f in _findings(doc)}


def _assert_clean(doc: dict[str, Any], addresses: set[str], unverified: set[tuple[str, str]] = frozenset()) -> None:
    """Every address was checked, nothing counted, and only the expected fields are unverified."""
    assert not doc["not_checked"], doc["not_checked"]
    assert addresses <= {r["address"] for r in doc["resources"]}
    assert _findings(doc, *COUNTED) == []
    assert {(f["address"], f["path"]) for f in _findings(doc, "unverified")} <= set(unverified), _findings(doc, "unverified")
    assert doc["exit_code"] == 0
    assert all(t["status"] == "ok" for t in doc["types"].values()), doc["types"]


def _has(doc: dict[str, Any], cls: str, address: str, path_prefix: str = "") -> bool:
    return any(c == cls and a == address and p.startswith(path_prefix) for c, a, p in _found(doc))


def _only(doc: dict[str, Any], expected: set[tuple[str, str, str]]) -> None:
    """The counted findings are exactly `expected` ((class, address, path prefix))."""
    got = {(f["class"], f["address"], f["path"]) for f in _findings(doc, *COUNTED)}
    for cls, addr, prefix in expected:
        assert any(c == cls and a == addr and p.startswith(prefix) for c, a, p in got), (cls, addr, prefix, got)
    for c, a, p in got:
        assert any(c == cls and a == addr and p.startswith(prefix) for cls, addr, prefix in expected), (c, a, p)


# ---------------------------------------------------------------------------------------------- builders
def _network(moto: MotoServer, cidr: str = "10.0.0.0/16") -> tuple[str, list[str]]:
    ec2 = moto.client("ec2")
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    base = cidr.split(".")
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"{base[0]}.{base[1]}.{i}.0/24",
                                 AvailabilityZone=f"{REGION}{az}")["Subnet"]["SubnetId"] for i, az in ((1, "a"), (2, "b"))]
    return vpc, subnets


def _role(moto: MotoServer, name: str, service: str = "eks-fargate-pods.amazonaws.com") -> str:
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": service},
                                                      "Action": "sts:AssumeRole"}]}
    return moto.client("iam").create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]


# ---------------------------------------------------------------------------------------------- EKS Fargate
def _fargate_state(cluster: str, name: str, prof: dict[str, Any]) -> dict[str, Any]:
    return resource("aws_eks_fargate_profile", f"{cluster}_{name}", {
        "id": f"{cluster}:{name}", "arn": prof["fargateProfileArn"], "cluster_name": cluster, "fargate_profile_name": name,
        "pod_execution_role_arn": prof["podExecutionRoleArn"], "subnet_ids": sorted(prof["subnets"]),
        "selector": [{"namespace": s["namespace"], "labels": s.get("labels") or {}} for s in prof["selectors"]],
        "status": prof["status"], "timeouts": None, **_tf_tags({"Name": name})})


def test_eks_fargate_profile_same_name_in_two_clusters(moto: MotoServer, tmp_path: Path) -> None:
    """Profiles are read per cluster: `default` in two clusters are two resources (state id `cluster:name`)."""
    eks = moto.client("eks")
    _, subnets = _network(moto)
    cluster_role = _role(moto, "cluster", "eks.amazonaws.com")
    pod_role = _role(moto, "fargate-pods")
    resources = []
    for cluster, ns in (("blue", "apps"), ("green", "batch")):
        eks.create_cluster(name=cluster, roleArn=cluster_role, resourcesVpcConfig={"subnetIds": subnets})
        prof = eks.create_fargate_profile(clusterName=cluster, fargateProfileName="default", podExecutionRoleArn=pod_role,
                                          subnets=subnets, selectors=[{"namespace": ns, "labels": {"tier": "web"}},
                                                                      {"namespace": "kube-system"}],
                                          tags={**TAGS, "Name": "default"})["fargateProfile"]
        resources.append(_fargate_state(cluster, "default", prof))
    doc = _diff(moto, tmp_path, resources)
    _assert_clean(doc, {"aws_eks_fargate_profile.blue_default", "aws_eks_fargate_profile.green_default"})
    assert doc["api_calls"]["eks:DescribeFargateProfile"] == 2

    # out of band (profiles are immutable): blue's is recreated with another role and an extra tag, green's deleted
    eks.delete_fargate_profile(clusterName="blue", fargateProfileName="default")
    eks.create_fargate_profile(clusterName="blue", fargateProfileName="default", podExecutionRoleArn=_role(moto, "other"),
                               subnets=subnets, selectors=[{"namespace": "apps", "labels": {"tier": "web"}},
                                                           {"namespace": "kube-system"}],
                               tags={**TAGS, "Name": "default", "CostCenter": "42"})
    eks.delete_fargate_profile(clusterName="green", fargateProfileName="default")
    doc = _diff(moto, tmp_path, resources)
    _only(doc, {("adoption-would-change", "aws_eks_fargate_profile.blue_default", "spec.tags.CostCenter"),
                ("drift", "aws_eks_fargate_profile.blue_default", "tags_all.CostCenter"),
                ("adoption-would-change", "aws_eks_fargate_profile.blue_default", "spec.podExecutionRoleARN"),
                ("drift", "aws_eks_fargate_profile.blue_default", "pod_execution_role_arn"),
                ("deleted", "aws_eks_fargate_profile.green_default", "")})


def test_eks_fargate_profile_selector_difference(moto: MotoServer, tmp_path: Path) -> None:
    """A selector the state does not have (profiles are immutable: the state is older than the profile)."""
    eks = moto.client("eks")
    _, subnets = _network(moto)
    eks.create_cluster(name="blue", roleArn=_role(moto, "cluster", "eks.amazonaws.com"), resourcesVpcConfig={"subnetIds": subnets})
    prof = eks.create_fargate_profile(clusterName="blue", fargateProfileName="apps", podExecutionRoleArn=_role(moto, "pods"),
                                      subnets=subnets[:1], selectors=[{"namespace": "apps"}, {"namespace": "jobs"}],
                                      tags={**TAGS, "Name": "apps"})["fargateProfile"]
    st = _fargate_state("blue", "apps", prof)
    st["instances"][0]["attributes"]["selector"] = [{"namespace": "apps", "labels": {}}]
    doc = _diff(moto, tmp_path, [st])
    _only(doc, {("adoption-would-change", "aws_eks_fargate_profile.blue_apps", "spec.selectors"),
                ("drift", "aws_eks_fargate_profile.blue_apps", "selector")})


# ---------------------------------------------------------------------------------------------- IAM users and groups
POLICY_RO = "arn:aws:iam::aws:policy/ReadOnlyAccess"
POLICY_S3 = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
INLINE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}]}


def _iam_estate(moto: MotoServer) -> list[dict[str, Any]]:
    iam = moto.client("iam")
    u = iam.create_user(UserName="deployer", Path="/ci/", Tags=_aws_tags({"Name": "deployer"}))["User"]
    iam.attach_user_policy(UserName="deployer", PolicyArn=POLICY_RO)
    iam.put_user_policy(UserName="deployer", PolicyName="artifacts", PolicyDocument=json.dumps(INLINE))
    g = iam.create_group(GroupName="operators", Path="/ops/")["Group"]
    iam.attach_group_policy(GroupName="operators", PolicyArn=POLICY_S3)
    iam.put_group_policy(GroupName="operators", PolicyName="artifacts", PolicyDocument=json.dumps(INLINE))
    return [
        resource("aws_iam_user", "deployer", {
            "id": "deployer", "arn": u["Arn"], "name": "deployer", "path": "/ci/", "permissions_boundary": None,
            "force_destroy": False, "unique_id": u["UserId"], **_tf_tags({"Name": "deployer"})}),
        resource("aws_iam_user_policy_attachment", "deployer_ro", {
            "id": "deployer-20250101000000000000000001", "user": "deployer", "policy_arn": POLICY_RO}),
        resource("aws_iam_user_policy", "deployer_artifacts", {
            "id": "deployer:artifacts", "user": "deployer", "name": "artifacts", "name_prefix": "",
            "policy": json.dumps(INLINE)}),
        resource("aws_iam_group", "operators", {
            "id": "operators", "arn": g["Arn"], "name": "operators", "path": "/ops/", "unique_id": g["GroupId"]}),
        resource("aws_iam_group_policy_attachment", "operators_s3", {
            "id": "operators-20250101000000000000000002", "group": "operators", "policy_arn": POLICY_S3}),
        resource("aws_iam_group_policy", "operators_artifacts", {
            "id": "operators:artifacts", "group": "operators", "name": "artifacts", "name_prefix": "",
            "policy": json.dumps(INLINE)}),
    ]


def test_iam_users_and_groups(moto: MotoServer, tmp_path: Path) -> None:
    resources = _iam_estate(moto)
    doc = _diff(moto, tmp_path, resources)
    _assert_clean(doc, {"aws_iam_user.deployer", "aws_iam_group.operators"})
    # one GetAccountAuthorizationDetails per filter (users, groups), whatever the number of users/groups
    assert doc["api_calls"] == {"iam:GetAccountAuthorizationDetails": 2}

    iam = moto.client("iam")
    iam.tag_user(UserName="deployer", Tags=[{"Key": "CostCenter", "Value": "42"}])
    iam.attach_user_policy(UserName="deployer", PolicyArn=POLICY_S3)  # ACK would detach it
    iam.put_group_policy(GroupName="operators", PolicyName="artifacts",
                         PolicyDocument=json.dumps({**INLINE, "Statement": [{**INLINE["Statement"][0], "Action": "s3:*"}]}))
    iam.detach_group_policy(GroupName="operators", PolicyArn=POLICY_S3)  # ACK would re-attach it
    # moto ignores UpdateGroup(NewPath): the state says the path was another one instead
    resources[3]["instances"][0]["attributes"]["path"] = "/moved/"
    doc = _diff(moto, tmp_path, resources)
    _only(doc, {("adoption-would-change", "aws_iam_user.deployer", "spec.tags"),
                ("drift", "aws_iam_user.deployer", "tags_all.CostCenter"),
                ("adoption-would-change", "aws_iam_user.deployer", "spec.policies"),
                ("adoption-would-change", "aws_iam_group.operators", "spec.inlinePolicies.artifacts"),
                ("adoption-would-change", "aws_iam_group.operators", "spec.path"),
                ("adoption-would-change", "aws_iam_group.operators", "spec.policies"),
                ("drift", "aws_iam_group.operators", "path")})


def test_iam_unmanaged_user_named_like_a_managed_role(moto: MotoServer, tmp_path: Path) -> None:
    """Users and roles share GetAccountAuthorizationDetails but not a namespace: an unmanaged user named like a
    managed role is still reported (with --scope-tag)."""
    iam = moto.client("iam")
    resources = _iam_estate(moto)
    r = iam.create_role(RoleName="ci", AssumeRolePolicyDocument=json.dumps(INLINE), Tags=_aws_tags())["Role"]
    resources.append(resource("aws_iam_role", "ci", {
        "id": "ci", "arn": r["Arn"], "name": "ci", "name_prefix": "", "path": "/", "description": "",
        "assume_role_policy": json.dumps(INLINE), "max_session_duration": 3600, "permissions_boundary": "",
        "force_detach_policies": False, "managed_policy_arns": [], "inline_policy": [{"name": "", "policy": ""}],
        "unique_id": r["RoleId"], **_tf_tags()}))
    iam.create_user(UserName="ci", Tags=_aws_tags())
    iam.create_user(UserName="outside-scope")
    doc = _diff(moto, tmp_path, resources, f"--scope-tag=Project={TAGS['Project']}")
    unmanaged = {(r["type"], r["live_id"]) for r in doc["resources"] if r["status"] == "unmanaged"}
    assert unmanaged == {("aws_iam_user", "ci")}


def test_iam_service_linked_role(moto: MotoServer, tmp_path: Path) -> None:
    iam = moto.client("iam")
    r = iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com", CustomSuffix="ci",
                                       Description="ASG for CI runners")["Role"]
    plain = iam.create_service_linked_role(AWSServiceName="elasticloadbalancing.amazonaws.com")["Role"]
    resources = [
        resource("aws_iam_service_linked_role", name, {
            "id": role["Arn"], "arn": role["Arn"], "name": role["RoleName"], "path": role["Path"],
            "aws_service_name": service, "custom_suffix": suffix, "description": role.get("Description", ""),
            "unique_id": role["RoleId"], "create_date": str(role["CreateDate"]), "tags": {}, "tags_all": {}})
        for name, role, service, suffix in (("asg", r, "autoscaling.amazonaws.com", "ci"),
                                            ("elb", plain, "elasticloadbalancing.amazonaws.com", ""))]
    doc = _diff(moto, tmp_path, resources)
    _assert_clean(doc, {"aws_iam_service_linked_role.asg", "aws_iam_service_linked_role.elb"})
    assert doc["api_calls"]["iam:ListRoles"] == 1

    iam.update_role_description(RoleName=r["RoleName"], Description="changed by hand")
    iam.tag_role(RoleName=plain["RoleName"], Tags=[{"Key": "Owner", "Value": "someone"}])
    doc = _diff(moto, tmp_path, resources)
    _only(doc, {("adoption-would-change", "aws_iam_service_linked_role.asg", "spec.description"),
                ("drift", "aws_iam_service_linked_role.asg", "description"),
                ("drift", "aws_iam_service_linked_role.elb", "tags_all")})
    iam.delete_service_linked_role(RoleName=plain["RoleName"])
    doc = _diff(moto, tmp_path, resources)
    assert _has(doc, "deleted", "aws_iam_service_linked_role.elb")
