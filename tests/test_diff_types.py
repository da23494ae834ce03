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


# subnets made only to hold other resources (EKS, TGW attachments) are unmanaged in the estate's VPC: not the point
NOISE = ("unmanaged.aws_subnet[",)


def _findings(doc: dict[str, Any], *classes: str) -> list[dict[str, Any]]:
    return [f for r in doc["resources"] for f in r["findings"] if (not classes or f["class"] in classes)
            and not f["address"].startswith(NOISE)]


def _found(doc: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(f["class"], f["address"], f["path"]) for f in _findings(doc)}


def _assert_clean(doc: dict[str, Any], addresses: set[str], unverified: set[tuple[str, str]] = frozenset()) -> None:
    """Every address was checked, nothing counted, and only the expected fields are unverified."""
    assert not doc["not_checked"], doc["not_checked"]
    assert addresses <= {r["address"] for r in doc["resources"]}
    assert _findings(doc, *COUNTED) == []
    assert {(f["address"], f["path"]) for f in _findings(doc, "unverified")} <= set(unverified), _findings(doc, "unverified")
    assert doc["exit_code"] == 0 or all(f["address"].startswith(NOISE) for f in _findings(doc, *COUNTED) if not f["ignored"])
    assert all(t["status"] == "ok" for t in doc["types"].values()), doc["types"]


def _has(doc: dict[str, Any], cls: str, address: str, path_prefix: str = "") -> bool:
    return any(c == cls and a == address and p.startswith(path_prefix) for c, a, p in _found(doc))


def _only(doc: dict[str, Any], expected: set[tuple[str, str, str]]) -> None:
    """The counted findings are exactly `expected` ((class, address, path prefix))."""
    got = {(f["class"], f["address"], f["path"]) for f in _findings(doc, *COUNTED)}
    assert doc["exit_code"] == 1
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


def test_eks_node_groups_same_name_in_two_clusters(moto: MotoServer, tmp_path: Path) -> None:
    """`default` node groups of two clusters are read each in its own cluster (they used to share one read)."""
    eks = moto.client("eks")
    _, subnets = _network(moto)
    cluster_role = _role(moto, "cluster", "eks.amazonaws.com")
    node_role = _role(moto, "nodes", "ec2.amazonaws.com")
    resources = []
    for cluster, size in (("blue", 2), ("green", 5)):
        eks.create_cluster(name=cluster, roleArn=cluster_role, resourcesVpcConfig={"subnetIds": subnets})
        ng = eks.create_nodegroup(clusterName=cluster, nodegroupName="default", nodeRole=node_role, subnets=subnets,
                                  instanceTypes=["m6i.large"], scalingConfig={"minSize": size, "maxSize": size, "desiredSize": size},
                                  amiType="AL2023_x86_64_STANDARD", capacityType="ON_DEMAND", tags={**TAGS})["nodegroup"]
        resources.append(resource("aws_eks_node_group", cluster, {
            "id": f"{cluster}:default", "arn": ng["nodegroupArn"], "cluster_name": cluster, "node_group_name": "default",
            "node_group_name_prefix": "", "node_role_arn": node_role, "subnet_ids": sorted(ng["subnets"]),
            "scaling_config": [{"desired_size": size, "min_size": size, "max_size": size}],
            "update_config": [{"max_unavailable": (ng.get("updateConfig") or {}).get("maxUnavailable", 1),
                               "max_unavailable_percentage": 0}],
            "ami_type": ng["amiType"], "capacity_type": ng["capacityType"], "disk_size": ng.get("diskSize") or 0,
            "instance_types": ng["instanceTypes"], "labels": {}, "release_version": ng.get("releaseVersion", ""),
            "version": ng.get("version", ""), "taint": [], "launch_template": [], "remote_access": [],
            "status": ng.get("status", "ACTIVE"), **_tf_tags()}))
    doc = _diff(moto, tmp_path, resources)
    # moto leaves out updateConfig (AWS always returns it): unverified
    _assert_clean(doc, {"aws_eks_node_group.blue", "aws_eks_node_group.green"},
                  {(f"aws_eks_node_group.{c}", "spec.updateConfig.maxUnavailable") for c in ("blue", "green")})
    assert doc["api_calls"]["eks:DescribeNodegroup"] == 2


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


# ---------------------------------------------------------------------------------------------- EC2 / VPC
def _tagspec(rtype: str, own: dict[str, str] | None = None) -> list[dict[str, Any]]:
    return [{"ResourceType": rtype, "Tags": _aws_tags(own)}]


def test_vpc_dhcp_options_and_association(moto: MotoServer, tmp_path: Path) -> None:
    ec2 = moto.client("ec2")
    vpc, _ = _network(moto)
    other, _ = _network(moto, "10.1.0.0/16")
    d = ec2.create_dhcp_options(DhcpConfigurations=[
        {"Key": "domain-name", "Values": ["corp.internal"]}, {"Key": "domain-name-servers", "Values": ["10.0.0.2", "10.0.0.3"]},
        {"Key": "ntp-servers", "Values": ["169.254.169.123"]}])["DhcpOptions"]
    dopt = d["DhcpOptionsId"]
    ec2.create_tags(Resources=[dopt], Tags=_aws_tags({"Name": "corp"}))  # moto drops TagSpecifications here
    ec2.associate_dhcp_options(DhcpOptionsId=dopt, VpcId=vpc)
    resources = [
        resource("aws_vpc_dhcp_options", "corp", {
            "id": dopt, "arn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:dhcp-options/{dopt}", "domain_name": "corp.internal",
            "domain_name_servers": ["10.0.0.2", "10.0.0.3"], "ntp_servers": ["169.254.169.123"], "netbios_name_servers": [],
            "netbios_node_type": "", "ipv6_address_preferred_lease_time": "", "owner_id": d.get("OwnerId", ACCOUNT),
            **_tf_tags({"Name": "corp"})}),
        resource("aws_vpc_dhcp_options_association", "corp", {"id": f"{dopt}-{vpc}", "dhcp_options_id": dopt, "vpc_id": vpc}),
    ]
    doc = _diff(moto, tmp_path, resources)
    _assert_clean(doc, {"aws_vpc_dhcp_options.corp"})
    assert (doc["api_calls"]["ec2:DescribeDhcpOptions"], doc["api_calls"]["ec2:DescribeVpcs"]) == (1, 1)

    # the set is also used by another VPC (ACK owns `vpc`: it would move that VPC back to the default set)
    ec2.associate_dhcp_options(DhcpOptionsId=dopt, VpcId=other)
    ec2.create_tags(Resources=[dopt], Tags=[{"Key": "CostCenter", "Value": "42"}])
    doc = _diff(moto, tmp_path, resources)
    _only(doc, {("adoption-would-change", "aws_vpc_dhcp_options.corp", "spec.vpc"),
                ("adoption-would-change", "aws_vpc_dhcp_options.corp", "spec.tags"),
                ("drift", "aws_vpc_dhcp_options.corp", "tags_all.CostCenter")})


def test_vpc_dhcp_options_server_order(moto: MotoServer, tmp_path: Path) -> None:
    """DHCP options are immutable; a state listing the DNS servers in another order than AWS is a difference."""
    ec2 = moto.client("ec2")
    dopt = ec2.create_dhcp_options(DhcpConfigurations=[{"Key": "domain-name-servers", "Values": ["10.0.0.2", "10.0.0.3"]}],
                                   )["DhcpOptions"]["DhcpOptionsId"]
    ec2.create_tags(Resources=[dopt], Tags=_aws_tags())
    attrs = {"id": dopt, "domain_name": "", "domain_name_servers": ["10.0.0.3", "10.0.0.2"], "ntp_servers": [],
             "netbios_name_servers": [], "netbios_node_type": "", "owner_id": ACCOUNT, **_tf_tags()}
    doc = _diff(moto, tmp_path, [resource("aws_vpc_dhcp_options", "dns", attrs)])
    _only(doc, {("adoption-would-change", "aws_vpc_dhcp_options.dns", "spec.dhcpConfigurations"),
                ("drift", "aws_vpc_dhcp_options.dns", "domain_name_servers")})


def test_vpc_peering_connection(moto: MotoServer, tmp_path: Path) -> None:
    ec2 = moto.client("ec2")
    vpc, _ = _network(moto)
    peer, _ = _network(moto, "10.1.0.0/16")
    pcx = ec2.create_vpc_peering_connection(VpcId=vpc, PeerVpcId=peer, TagSpecifications=_tagspec(
        "vpc-peering-connection", {"Name": "to-shared"}))["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    ec2.accept_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    opts = [{"allow_remote_vpc_dns_resolution": False}]
    st = resource("aws_vpc_peering_connection", "shared", {
        "id": pcx, "accept_status": "active", "auto_accept": True, "peer_owner_id": ACCOUNT, "peer_region": REGION,
        "peer_vpc_id": peer, "vpc_id": vpc, "accepter": opts, "requester": opts, "timeouts": None,
        **_tf_tags({"Name": "to-shared"})})
    doc = _diff(moto, tmp_path, [st])
    _assert_clean(doc, {"aws_vpc_peering_connection.shared"})
    assert doc["types"]["aws_vpc_peering_connection"]["unmanaged_scan"].startswith("requester-vpc-info.vpc-id")

    # a second peering requested from the estate's VPC, made by hand: unmanaged; a tag on the managed one
    third, _ = _network(moto, "10.2.0.0/16")
    stray = ec2.create_vpc_peering_connection(VpcId=vpc, PeerVpcId=third)["VpcPeeringConnection"]["VpcPeeringConnectionId"]
    ec2.create_tags(Resources=[pcx], Tags=[{"Key": "CostCenter", "Value": "42"}])
    doc = _diff(moto, tmp_path, [st])
    _only(doc, {("adoption-would-change", "aws_vpc_peering_connection.shared", "spec.tags"),
                ("drift", "aws_vpc_peering_connection.shared", "tags_all.CostCenter"),
                ("unmanaged", f'unmanaged.aws_vpc_peering_connection["{stray}"]', "")})
    # deleted peerings stay visible (status-code deleted) for a while: still deleted for the diff
    ec2.delete_vpc_peering_connection(VpcPeeringConnectionId=pcx)
    doc = _diff(moto, tmp_path, [st])
    assert _has(doc, "deleted", "aws_vpc_peering_connection.shared")


def test_egress_only_internet_gateway(moto: MotoServer, tmp_path: Path) -> None:
    ec2 = moto.client("ec2")
    vpc, _ = _network(moto)
    eigws = []
    for name in ("a", "b"):
        eigws.append(ec2.create_egress_only_internet_gateway(VpcId=vpc, TagSpecifications=_tagspec(
            "egress-only-internet-gateway", {"Name": name}))["EgressOnlyInternetGateway"]["EgressOnlyInternetGatewayId"])
    resources = [resource("aws_egress_only_internet_gateway", name, {"id": i, "vpc_id": vpc, **_tf_tags({"Name": name})})
                 for name, i in zip(("a", "b"), eigws, strict=True)]
    doc = _diff(moto, tmp_path, resources)
    _assert_clean(doc, {"aws_egress_only_internet_gateway.a", "aws_egress_only_internet_gateway.b"})
    assert doc["api_calls"]["ec2:DescribeEgressOnlyInternetGateways"] == 1

    ec2.create_tags(Resources=[eigws[0]], Tags=[{"Key": "Name", "Value": "renamed"}])
    ec2.delete_egress_only_internet_gateway(EgressOnlyInternetGatewayId=eigws[1])
    doc = _diff(moto, tmp_path, resources)
    _only(doc, {("adoption-would-change", "aws_egress_only_internet_gateway.a", "spec.tags.Name"),
                ("drift", "aws_egress_only_internet_gateway.a", "tags_all.Name"),
                ("deleted", "aws_egress_only_internet_gateway.b", "")})


def _tgw_state(tgw: dict[str, Any]) -> dict[str, Any]:
    o = tgw["Options"]
    return resource("aws_ec2_transit_gateway", "hub", {
        "id": tgw["TransitGatewayId"], "arn": tgw["TransitGatewayArn"], "description": tgw["Description"],
        "amazon_side_asn": o["AmazonSideAsn"], "auto_accept_shared_attachments": o["AutoAcceptSharedAttachments"],
        "default_route_table_association": o["DefaultRouteTableAssociation"],
        "default_route_table_propagation": o["DefaultRouteTablePropagation"], "dns_support": o["DnsSupport"],
        "multicast_support": o["MulticastSupport"], "vpn_ecmp_support": o["VpnEcmpSupport"],
        "security_group_referencing_support": o.get("SecurityGroupReferencingSupport", "disable"),
        "transit_gateway_cidr_blocks": o.get("TransitGatewayCidrBlocks") or [],
        "association_default_route_table_id": o.get("AssociationDefaultRouteTableId", ""),
        "propagation_default_route_table_id": o.get("PropagationDefaultRouteTableId", ""), "owner_id": tgw["OwnerId"],
        "timeouts": None, **_tf_tags({"Name": "hub"})})


def test_transit_gateway_and_vpc_attachment(moto: MotoServer, tmp_path: Path) -> None:
    ec2 = moto.client("ec2")
    vpc, subnets = _network(moto)
    tgw = ec2.create_transit_gateway(Description="hub", Options={"AmazonSideAsn": 64600, "DnsSupport": "enable"},
                                     TagSpecifications=_tagspec("transit-gateway", {"Name": "hub"}))["TransitGateway"]
    tgw = ec2.describe_transit_gateways(TransitGatewayIds=[tgw["TransitGatewayId"]])["TransitGateways"][0]
    att = ec2.create_transit_gateway_vpc_attachment(
        TransitGatewayId=tgw["TransitGatewayId"], VpcId=vpc, SubnetIds=subnets,
        Options={"DnsSupport": "enable", "Ipv6Support": "disable", "ApplianceModeSupport": "disable"},
        TagSpecifications=_tagspec("transit-gateway-attachment", {"Name": "platform"}))["TransitGatewayVpcAttachment"]
    ec2.create_tags(Resources=[att["TransitGatewayAttachmentId"]], Tags=_aws_tags({"Name": "platform"}))  # moto: idem
    o = att["Options"]
    resources = [_tgw_state(tgw), resource("aws_ec2_transit_gateway_vpc_attachment", "platform", {
        "id": att["TransitGatewayAttachmentId"], "transit_gateway_id": tgw["TransitGatewayId"], "vpc_id": vpc,
        "vpc_owner_id": att["VpcOwnerId"], "subnet_ids": sorted(subnets), "appliance_mode_support": o["ApplianceModeSupport"],
        "dns_support": o["DnsSupport"], "ipv6_support": o["Ipv6Support"],
        "security_group_referencing_support": o.get("SecurityGroupReferencingSupport", "enable"),
        "transit_gateway_default_route_table_association": True, "transit_gateway_default_route_table_propagation": True,
        **_tf_tags({"Name": "platform"})})]
    doc = _diff(moto, tmp_path, resources)
    _assert_clean(doc, {"aws_ec2_transit_gateway.hub", "aws_ec2_transit_gateway_vpc_attachment.platform"})

    ec2.modify_transit_gateway(TransitGatewayId=tgw["TransitGatewayId"], Description="hub (edited)",
                               Options={"DnsSupport": "disable"})
    ec2.modify_transit_gateway_vpc_attachment(TransitGatewayAttachmentId=att["TransitGatewayAttachmentId"],
                                              Options={"ApplianceModeSupport": "enable"})
    other, other_subnets = _network(moto, "10.1.0.0/16")  # an attachment of a VPC outside the estate: not reported
    ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=tgw["TransitGatewayId"], VpcId=other, SubnetIds=other_subnets)
    # an attachment of the estate's VPC to another transit gateway, made by hand: unmanaged
    other_tgw = ec2.create_transit_gateway(Description="elsewhere")["TransitGateway"]["TransitGatewayId"]
    stray = ec2.create_transit_gateway_vpc_attachment(TransitGatewayId=other_tgw, VpcId=vpc,
                                                      SubnetIds=subnets[:1])["TransitGatewayVpcAttachment"]
    doc = _diff(moto, tmp_path, resources)
    _only(doc, {("adoption-would-change", "aws_ec2_transit_gateway.hub", "spec.description"),
                ("drift", "aws_ec2_transit_gateway.hub", "description"),
                ("adoption-would-change", "aws_ec2_transit_gateway.hub", "spec.options.dnsSupport"),
                ("drift", "aws_ec2_transit_gateway.hub", "dns_support"),
                ("adoption-would-change", "aws_ec2_transit_gateway_vpc_attachment.platform", "spec.options.applianceModeSupport"),
                ("drift", "aws_ec2_transit_gateway_vpc_attachment.platform", "appliance_mode_support"),
                ("unmanaged", f'unmanaged.aws_ec2_transit_gateway_vpc_attachment["{stray["TransitGatewayAttachmentId"]}"]', "")})


def test_flow_logs(moto: MotoServer, tmp_path: Path) -> None:
    ec2, s3, logs = moto.client("ec2"), moto.client("s3"), moto.client("logs")
    vpc, subnets = _network(moto)
    for bucket in ("flow-logs-123", "flow-logs-security"):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    logs.create_log_group(logGroupName="vpc-flow")
    role = _role(moto, "flow-logs", "vpc-flow-logs.amazonaws.com")
    (to_s3,) = ec2.create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType="ALL", LogDestinationType="s3",
                                    LogDestination="arn:aws:s3:::flow-logs-123",
                                    TagSpecifications=_tagspec("vpc-flow-log", {"Name": "vpc"}))["FlowLogIds"]
    (to_cwl,) = ec2.create_flow_logs(ResourceIds=[subnets[0]], ResourceType="Subnet", TrafficType="REJECT",
                                     LogDestinationType="cloud-watch-logs",
                                     LogDestination=f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:vpc-flow",
                                     DeliverLogsPermissionArn=role, MaxAggregationInterval=60,
                                     TagSpecifications=_tagspec("vpc-flow-log", {"Name": "subnet"}))["FlowLogIds"]
    live = {f["FlowLogId"]: f for f in ec2.describe_flow_logs()["FlowLogs"]}
    resources = []
    for name, fl_id, ids in (("vpc", to_s3, {"vpc_id": vpc}), ("subnet", to_cwl, {"subnet_id": subnets[0]})):
        f = live[fl_id]
        # the provider sets only the attribute of the flow log's resource; the others stay null
        attrs = {"id": fl_id, "arn": f"arn:aws:ec2:{REGION}:{ACCOUNT}:vpc-flow-log/{fl_id}", "vpc_id": None,
                 "subnet_id": None, "eni_id": None, "transit_gateway_id": None, "transit_gateway_attachment_id": None,
                 "log_destination": f["LogDestination"], "log_destination_type": f["LogDestinationType"],
                 "log_group_name": f.get("LogGroupName", ""), "traffic_type": f["TrafficType"],
                 "max_aggregation_interval": f["MaxAggregationInterval"], "log_format": f["LogFormat"],
                 "iam_role_arn": f.get("DeliverLogsPermissionArn", ""), "deliver_cross_account_role": "",
                 "destination_options": [], **_tf_tags({"Name": name})}
        attrs.update(ids)
        resources.append(resource("aws_flow_log", name, attrs))
    doc = _diff(moto, tmp_path, resources)
    _assert_clean(doc, {"aws_flow_log.vpc", "aws_flow_log.subnet"})
    assert doc["api_calls"]["ec2:DescribeFlowLogs"] == 2  # the VPC-scoped scan + the subnet flow log by id

    ec2.delete_flow_logs(FlowLogIds=[to_cwl])
    (stray,) = ec2.create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType="REJECT", LogDestinationType="s3",
                                    LogDestination="arn:aws:s3:::flow-logs-security")["FlowLogIds"]
    doc = _diff(moto, tmp_path, resources)
    _only(doc, {("deleted", "aws_flow_log.subnet", ""), ("unmanaged", f'unmanaged.aws_flow_log["{stray}"]', "")})

    # a state older than the flow log (recreated by hand with another traffic type)
    resources[0]["instances"][0]["attributes"]["traffic_type"] = "ACCEPT"
    doc = _diff(moto, tmp_path, resources[:1])
    assert _has(doc, "adoption-would-change", "aws_flow_log.vpc", "spec.trafficType")
    assert _has(doc, "drift", "aws_flow_log.vpc", "traffic_type")


# ---------------------------------------------------------------------------------------------- KMS grants
def test_kms_grants(moto: MotoServer, tmp_path: Path) -> None:
    kms = moto.client("kms")
    key = kms.create_key(Description="data")["KeyMetadata"]
    app = _role(moto, "app", "ec2.amazonaws.com")
    ops = _role(moto, "ops", "ec2.amazonaws.com")
    resources = []
    for name, grantee, operations, key_ref in (("app", app, ["Decrypt", "GenerateDataKey"], key["Arn"]),  # key by ARN
                                               ("ops", ops, ["DescribeKey"], key["KeyId"])):             # key by id
        g = kms.create_grant(KeyId=key["KeyId"], GranteePrincipal=grantee, Operations=operations, Name=name,
                             RetiringPrincipal=ops)
        resources.append(resource("aws_kms_grant", name, {
            "id": f"{key_ref}:{g['GrantId']}", "grant_id": g["GrantId"], "key_id": key_ref, "grantee_principal": grantee,
            "operations": sorted(operations), "name": name, "retiring_principal": ops, "constraints": [],
            "grant_creation_tokens": None, "retire_on_delete": False, "grant_token": g["GrantToken"]},
            sensitive=[["grant_token"]]))
    doc = _diff(moto, tmp_path, resources)
    _assert_clean(doc, {"aws_kms_grant.app", "aws_kms_grant.ops"})
    assert doc["api_calls"] == {"kms:ListGrants": 2}

    # grants are immutable: a revoked one is deleted; a state written for other operations differs
    kms.revoke_grant(KeyId=key["KeyId"], GrantId=resources[1]["instances"][0]["attributes"]["grant_id"])
    resources[0]["instances"][0]["attributes"]["operations"] = ["Decrypt"]
    doc = _diff(moto, tmp_path, resources)
    _only(doc, {("adoption-would-change", "aws_kms_grant.app", "spec.operations"),
                ("drift", "aws_kms_grant.app", "operations"),
                ("deleted", "aws_kms_grant.ops", "")})


# ---------------------------------------------------------------------------------------------- RDS cluster members
def test_rds_cluster_instances(moto: MotoServer, tmp_path: Path) -> None:
    rds = moto.client("rds")
    rds.create_db_cluster(DBClusterIdentifier="orders", Engine="aurora-postgresql", MasterUsername="app",
                          MasterUserPassword="not-a-real-password-1")
    resources = []
    for i in (1, 2):
        db = rds.create_db_instance(DBInstanceIdentifier=f"orders-{i}", DBClusterIdentifier="orders",
                                    Engine="aurora-postgresql", DBInstanceClass="db.r6g.large", PromotionTier=i,
                                    Tags=_aws_tags({"Name": f"orders-{i}"}))["DBInstance"]
        resources.append(resource("aws_rds_cluster_instance", f"orders_{i}", {
            "id": db["DBInstanceIdentifier"], "identifier": db["DBInstanceIdentifier"], "identifier_prefix": "",
            "arn": db["DBInstanceArn"], "cluster_identifier": "orders", "instance_class": db["DBInstanceClass"],
            "engine": db["Engine"], "engine_version": db["EngineVersion"], "engine_version_actual": db["EngineVersion"],
            "db_subnet_group_name": (db.get("DBSubnetGroup") or {}).get("DBSubnetGroupName", ""),
            "db_parameter_group_name": db["DBParameterGroups"][0]["DBParameterGroupName"],
            "availability_zone": db["AvailabilityZone"], "publicly_accessible": db.get("PubliclyAccessible", False),
            "auto_minor_version_upgrade": db["AutoMinorVersionUpgrade"], "copy_tags_to_snapshot": db.get("CopyTagsToSnapshot", False),
            "promotion_tier": i, "monitoring_interval": db.get("MonitoringInterval", 0),
            "monitoring_role_arn": db.get("MonitoringRoleArn", ""),
            "performance_insights_enabled": db.get("PerformanceInsightsEnabled", False),
            "performance_insights_kms_key_id": "", "performance_insights_retention_period": 0,
            "ca_cert_identifier": db.get("CACertificateIdentifier", ""),
            "preferred_maintenance_window": db["PreferredMaintenanceWindow"], "preferred_backup_window": "",
            "custom_iam_instance_profile": "", "apply_immediately": None, "writer": i == 1,
            "endpoint": db["Endpoint"]["Address"], "port": db["Endpoint"]["Port"], "dbi_resource_id": db["DbiResourceId"],
            "storage_encrypted": False, "kms_key_id": "", "network_type": "", "force_destroy": False,
            **_tf_tags({"Name": f"orders-{i}"})}))
    doc = _diff(moto, tmp_path, resources)
    # moto leaves these out; AWS always returns them → unverified, never a difference
    gaps = {(f"aws_rds_cluster_instance.orders_{i}", f"spec.{f}") for i in (1, 2)
            for f in ("publiclyAccessible", "monitoringInterval", "performanceInsightsEnabled")}
    _assert_clean(doc, {"aws_rds_cluster_instance.orders_1", "aws_rds_cluster_instance.orders_2"}, gaps)
    assert doc["api_calls"] == {"rds:DescribeDBInstances": 1}  # both members, one filtered call

    rds.modify_db_instance(DBInstanceIdentifier="orders-2", DBInstanceClass="db.r6g.xlarge", ApplyImmediately=True)
    rds.add_tags_to_resource(ResourceName=resources[0]["instances"][0]["attributes"]["arn"],
                             Tags=[{"Key": "CostCenter", "Value": "42"}])
    doc = _diff(moto, tmp_path, resources)
    _only(doc, {("adoption-would-change", "aws_rds_cluster_instance.orders_2", "spec.dbInstanceClass"),
                ("drift", "aws_rds_cluster_instance.orders_2", "instance_class"),
                ("adoption-would-change", "aws_rds_cluster_instance.orders_1", "spec.tags"),
                ("drift", "aws_rds_cluster_instance.orders_1", "tags_all.CostCenter")})
    rds.delete_db_instance(DBInstanceIdentifier="orders-2")
    doc = _diff(moto, tmp_path, resources)
    assert _has(doc, "deleted", "aws_rds_cluster_instance.orders_2")
    assert not _has(doc, "deleted", "aws_rds_cluster_instance.orders_1")


def test_rds_db_instance_is_found_by_identifier(moto: MotoServer, tmp_path: Path) -> None:
    """Since provider v5 the state id of aws_db_instance is the DbiResourceId: the read keys on `identifier`, so a
    live instance is never reported deleted (its fields: test_diff_types_data.py)."""
    rds = moto.client("rds")
    db = rds.create_db_instance(DBInstanceIdentifier="app", Engine="postgres", DBInstanceClass="db.t3.micro",
                                MasterUsername="app", MasterUserPassword="not-a-real-password-1",
                                AllocatedStorage=20, Tags=_aws_tags())["DBInstance"]
    st = resource("aws_db_instance", "app", {
        "id": db["DbiResourceId"], "resource_id": db["DbiResourceId"], "identifier": "app", "engine": "postgres",
        "instance_class": "db.t3.micro", "allocated_storage": 20, "username": "app", "arn": db["DBInstanceArn"],
        **_tf_tags()})
    doc = _diff(moto, tmp_path, [st])
    assert _findings(doc, *COUNTED) == [] and doc["exit_code"] == 0
    rds.delete_db_instance(DBInstanceIdentifier="app", SkipFinalSnapshot=True)
    doc = _diff(moto, tmp_path, [st])
    assert _has(doc, "deleted", "aws_db_instance.app")
