"""Build a small platform estate in a moto server with boto3, and the tfstate v4 Terraform would hold for it.

The state is written from the boto3 responses with the attribute names (and shapes) the hashicorp/aws provider
5.x writes — the mappings read those names — so `tf2kro diff` of the fresh estate must find nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from tests.statefactory import resource, state

PROJECT_TAGS = {"Project": "tf2kro-test", "Environment": "ci"}  # provider default_tags → tags_all everywhere
CLUSTER = "platform"
TRUST_EKS = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"},
                                                      "Action": "sts:AssumeRole"}]}
TRUST_EC2 = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                      "Action": "sts:AssumeRole"}]}
NODE_INLINE = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ec2:DescribeInstances", "ec2:DescribeTags"],
                                                        "Resource": "*"}]}
NODE_POLICIES = ["arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy", "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
                 "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"]


def _tags(extra: dict[str, str] | None = None) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in {**PROJECT_TAGS, **(extra or {})}.items()]


def _tagspec(rtype: str, extra: dict[str, str] | None = None) -> list[dict[str, Any]]:
    return [{"ResourceType": rtype, "Tags": _tags(extra)}]


def _tf_tags(own: dict[str, str]) -> dict[str, Any]:
    return {"tags": dict(own), "tags_all": {**PROJECT_TAGS, **own}}


@dataclass
class Estate:
    """Ids of what was built, and the state resources (statefactory dicts)."""

    ids: dict[str, str] = field(default_factory=dict)
    resources: list[dict[str, Any]] = field(default_factory=list)

    def add(self, rtype: str, name: str, attrs: dict[str, Any]) -> None:
        self.resources.append(resource(rtype, name, attrs))

    def state_json(self) -> str:
        return state(*self.resources)


def _rule_block(**kw: Any) -> dict[str, Any]:
    block = {"cidr_blocks": [], "description": "", "from_port": 0, "ipv6_cidr_blocks": [], "prefix_list_ids": [],
             "protocol": "-1", "security_groups": [], "self": False, "to_port": 0}
    block.update(kw)
    return block


def build(client) -> Estate:  # noqa: PLR0915 - one linear build script
    """`client(service)` returns a boto3 client for the moto server."""
    ec2, iam, kms, s3, eks = (client(s) for s in ("ec2", "iam", "kms", "s3", "eks"))
    est = Estate()
    account = "123456789012"
    region = "eu-west-1"

    # ------------------------------------------------------------------ VPC
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", TagSpecifications=_tagspec("vpc", {"Name": "platform"}))["Vpc"]
    vpc_id = vpc["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    est.ids["vpc"] = vpc_id
    main_rt = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"][0]["RouteTableId"]
    default_sg = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]},
                                                       {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]
    est.add("aws_vpc", "main", {
        "id": vpc_id, "arn": f"arn:aws:ec2:{region}:{account}:vpc/{vpc_id}", "cidr_block": vpc["CidrBlock"],
        "enable_dns_support": True, "enable_dns_hostnames": True, "enable_network_address_usage_metrics": False,
        "instance_tenancy": vpc["InstanceTenancy"], "ipv6_cidr_block": "", "ipv6_association_id": "",
        "ipv6_cidr_block_network_border_group": "", "ipv6_ipam_pool_id": "", "ipv6_netmask_length": 0,
        "assign_generated_ipv6_cidr_block": False, "dhcp_options_id": vpc.get("DhcpOptionsId", ""),
        "main_route_table_id": main_rt, "default_route_table_id": main_rt, "default_security_group_id": default_sg["GroupId"],
        "default_network_acl_id": "", "owner_id": account, "ipv4_ipam_pool_id": None, "ipv4_netmask_length": None,
        **_tf_tags({"Name": "platform"}),
    })

    # ------------------------------------------------------------------ subnets
    subnets = {}
    for name, cidr, az, extra in (("private_a", "10.0.1.0/24", "eu-west-1a", {"kubernetes.io/role/internal-elb": "1"}),
                                  ("private_b", "10.0.2.0/24", "eu-west-1b", {"kubernetes.io/role/internal-elb": "1"}),
                                  ("public_a", "10.0.101.0/24", "eu-west-1a", {"kubernetes.io/role/elb": "1"})):
        own = {"Name": f"platform-{name}", **extra}
        sn = ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=az, TagSpecifications=_tagspec("subnet", own))["Subnet"]
        if name.startswith("public"):
            ec2.modify_subnet_attribute(SubnetId=sn["SubnetId"], MapPublicIpOnLaunch={"Value": True})
        subnets[name] = sn["SubnetId"]
        est.ids[f"subnet_{name}"] = sn["SubnetId"]
        est.add("aws_subnet", name, {
            "id": sn["SubnetId"], "arn": f"arn:aws:ec2:{region}:{account}:subnet/{sn['SubnetId']}", "vpc_id": vpc_id,
            "cidr_block": cidr, "availability_zone": az, "availability_zone_id": sn["AvailabilityZoneId"],
            "map_public_ip_on_launch": name.startswith("public"), "assign_ipv6_address_on_creation": False,
            "ipv6_cidr_block": "", "ipv6_cidr_block_association_id": "", "ipv6_native": False, "enable_dns64": False,
            "customer_owned_ipv4_pool": "", "outpost_arn": "", "map_customer_owned_ip_on_launch": False,
            "enable_resource_name_dns_a_record_on_launch": False, "enable_resource_name_dns_aaaa_record_on_launch": False,
            "private_dns_hostname_type_on_launch": "ip-name", "enable_lni_at_device_index": 0, "owner_id": account,
            **_tf_tags(own),
        })

    # ------------------------------------------------------------------ IGW, EIP, NAT
    igw = ec2.create_internet_gateway(TagSpecifications=_tagspec("internet-gateway", {"Name": "platform"}))["InternetGateway"]
    ec2.attach_internet_gateway(InternetGatewayId=igw["InternetGatewayId"], VpcId=vpc_id)
    est.ids["igw"] = igw["InternetGatewayId"]
    est.add("aws_internet_gateway", "main", {
        "id": igw["InternetGatewayId"], "arn": f"arn:aws:ec2:{region}:{account}:internet-gateway/{igw['InternetGatewayId']}",
        "vpc_id": vpc_id, "owner_id": account, **_tf_tags({"Name": "platform"})})
    eip = ec2.allocate_address(Domain="vpc", TagSpecifications=_tagspec("elastic-ip", {"Name": "platform-nat"}))
    est.ids["eip"] = eip["AllocationId"]
    est.add("aws_eip", "nat", {
        "id": eip["AllocationId"], "allocation_id": eip["AllocationId"], "public_ip": eip["PublicIp"], "domain": "vpc",
        "public_ipv4_pool": eip.get("PublicIpv4Pool", "amazon"), "network_border_group": eip.get("NetworkBorderGroup", region),
        "address": None, "customer_owned_ipv4_pool": "", "association_id": "", "instance": "", "network_interface": "",
        "private_ip": "", "carrier_ip": "", **_tf_tags({"Name": "platform-nat"})})
    nat = ec2.create_nat_gateway(SubnetId=subnets["public_a"], AllocationId=eip["AllocationId"],
                                 TagSpecifications=_tagspec("natgateway", {"Name": "platform"}))["NatGateway"]
    est.ids["nat"] = nat["NatGatewayId"]
    est.add("aws_nat_gateway", "main", {
        "id": nat["NatGatewayId"], "allocation_id": eip["AllocationId"], "subnet_id": subnets["public_a"],
        "connectivity_type": "public", "network_interface_id": "", "private_ip": "", "public_ip": eip["PublicIp"],
        "secondary_allocation_ids": [], "secondary_private_ip_addresses": [], "secondary_private_ip_address_count": 0,
        **_tf_tags({"Name": "platform"})})

    # ------------------------------------------------------------------ route tables (inline route + aws_route)
    def route_block(**kw: Any) -> dict[str, Any]:
        b = {k: "" for k in ("cidr_block", "ipv6_cidr_block", "destination_prefix_list_id", "gateway_id", "nat_gateway_id",
                             "transit_gateway_id", "vpc_endpoint_id", "vpc_peering_connection_id", "network_interface_id",
                             "egress_only_gateway_id", "carrier_gateway_id", "core_network_arn", "local_gateway_id")}
        b.update(kw)
        return b

    rts = {}
    for name, target in (("public", {"GatewayId": igw["InternetGatewayId"]}), ("private", {"NatGatewayId": nat["NatGatewayId"]})):
        rt = ec2.create_route_table(VpcId=vpc_id, TagSpecifications=_tagspec("route-table", {"Name": f"platform-{name}"}))["RouteTable"]
        ec2.create_route(RouteTableId=rt["RouteTableId"], DestinationCidrBlock="0.0.0.0/0", **target)
        rts[name] = rt["RouteTableId"]
        est.ids[f"rt_{name}"] = rt["RouteTableId"]
        blk = route_block(cidr_block="0.0.0.0/0", gateway_id=target.get("GatewayId", ""), nat_gateway_id=target.get("NatGatewayId", ""))
        est.add("aws_route_table", name, {
            "id": rt["RouteTableId"], "arn": f"arn:aws:ec2:{region}:{account}:route-table/{rt['RouteTableId']}", "vpc_id": vpc_id,
            "owner_id": account, "route": [blk], "propagating_vgws": [], **_tf_tags({"Name": f"platform-{name}"})})
    est.add("aws_route", "private_nat", {
        "id": f"r-{rts['private']}1080289494", "route_table_id": rts["private"], "destination_cidr_block": "0.0.0.0/0",
        "destination_ipv6_cidr_block": "", "destination_prefix_list_id": "", "nat_gateway_id": nat["NatGatewayId"],
        "gateway_id": "", "carrier_gateway_id": "", "core_network_arn": "", "egress_only_gateway_id": "", "instance_id": "",
        "instance_owner_id": "", "local_gateway_id": "", "network_interface_id": "", "transit_gateway_id": "",
        "vpc_endpoint_id": "", "vpc_peering_connection_id": "", "origin": "CreateRoute", "state": "active"})
    for sname, rname in (("private_a", "private"), ("private_b", "private"), ("public_a", "public")):
        assoc = ec2.associate_route_table(RouteTableId=rts[rname], SubnetId=subnets[sname])["AssociationId"]
        est.add("aws_route_table_association", sname, {"id": assoc, "subnet_id": subnets[sname], "route_table_id": rts[rname],
                                                       "gateway_id": ""})

    # ------------------------------------------------------------------ security groups
    cluster_sg = ec2.create_security_group(GroupName="platform-cluster", Description="EKS control plane", VpcId=vpc_id,
                                           TagSpecifications=_tagspec("security-group", {"Name": "platform-cluster"}))["GroupId"]
    node_sg = ec2.create_security_group(GroupName="platform-nodes", Description="EKS nodes", VpcId=vpc_id,
                                        TagSpecifications=_tagspec("security-group", {"Name": "platform-nodes"}))["GroupId"]
    est.ids["sg_cluster"], est.ids["sg_nodes"] = cluster_sg, node_sg
    # cluster SG: inline rules (ingress 443 from the VPC with a description; egress default all)
    ec2.authorize_security_group_ingress(GroupId=cluster_sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/16", "Description": "VPC to API"}]}])
    cluster_ingress = [_rule_block(protocol="tcp", from_port=443, to_port=443, cidr_blocks=["10.0.0.0/16"], description="VPC to API")]
    all_egress = [_rule_block(cidr_blocks=["0.0.0.0/0"])]
    est.add("aws_security_group", "cluster", {
        "id": cluster_sg, "arn": f"arn:aws:ec2:{region}:{account}:security-group/{cluster_sg}", "name": "platform-cluster",
        "name_prefix": "", "description": "EKS control plane", "vpc_id": vpc_id, "owner_id": account,
        "ingress": cluster_ingress, "egress": all_egress, "revoke_rules_on_delete": False, **_tf_tags({"Name": "platform-cluster"})})
    # node SG: separate aws_security_group_rule resources — self (all), from the cluster SG (tcp range), icmp, IPv6
    node_rules = [
        ("self_all", dict(type="ingress", protocol="-1", from_port=0, to_port=0, self=True, description="node to node"),
         {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": node_sg, "Description": "node to node"}]}),
        ("from_cluster", dict(type="ingress", protocol="tcp", from_port=1025, to_port=65535, source_security_group_id=cluster_sg,
                              description="control plane"),
         {"IpProtocol": "tcp", "FromPort": 1025, "ToPort": 65535, "UserIdGroupPairs": [{"GroupId": cluster_sg, "Description": "control plane"}]}),
        ("icmp", dict(type="ingress", protocol="icmp", from_port=-1, to_port=-1, cidr_blocks=["10.0.0.0/16"]),
         {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1, "IpRanges": [{"CidrIp": "10.0.0.0/16"}]}),
        ("https_v6", dict(type="ingress", protocol="tcp", from_port=443, to_port=443, ipv6_cidr_blocks=["::/0"]),
         {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "Ipv6Ranges": [{"CidrIpv6": "::/0"}]}),
    ]
    node_ingress = []
    for name, tf, perm in node_rules:
        ec2.authorize_security_group_ingress(GroupId=node_sg, IpPermissions=[perm])
        attrs = {"id": f"sgrule-{abs(hash(name)) % 10**10}", "security_group_id": node_sg, "cidr_blocks": [], "ipv6_cidr_blocks": [],
                 "prefix_list_ids": [], "source_security_group_id": None, "self": False, "description": None,
                 "security_group_rule_id": "", **tf}
        est.add("aws_security_group_rule", f"nodes_{name}", attrs)
        blk = _rule_block(protocol=tf["protocol"], from_port=tf["from_port"], to_port=tf["to_port"],
                          cidr_blocks=tf.get("cidr_blocks", []), ipv6_cidr_blocks=tf.get("ipv6_cidr_blocks", []),
                          security_groups=[tf["source_security_group_id"]] if tf.get("source_security_group_id") else [],
                          self=bool(tf.get("self")), description=tf.get("description") or "")
        node_ingress.append(blk)
    est.add("aws_security_group", "nodes", {
        "id": node_sg, "arn": f"arn:aws:ec2:{region}:{account}:security-group/{node_sg}", "name": "platform-nodes",
        "name_prefix": "", "description": "EKS nodes", "vpc_id": vpc_id, "owner_id": account, "ingress": node_ingress,
        "egress": all_egress, "revoke_rules_on_delete": False, **_tf_tags({"Name": "platform-nodes"})})

    # ------------------------------------------------------------------ IAM
    def role(name: str, trust: dict[str, Any], policies: list[str], inline: dict[str, Any] | None, description: str) -> str:
        r = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust), Description=description,
                            Tags=_tags({"Name": name}))["Role"]
        for p in policies:
            iam.attach_role_policy(RoleName=name, PolicyArn=p)
        inline_blocks = [{"name": "", "policy": ""}]
        if inline:
            iam.put_role_policy(RoleName=name, PolicyName=f"{name}-inline", PolicyDocument=json.dumps(inline))
            inline_blocks = [{"name": f"{name}-inline", "policy": json.dumps(inline)}]
            est.add("aws_iam_role_policy", name.replace("-", "_"), {
                "id": f"{name}:{name}-inline", "role": name, "name": f"{name}-inline", "name_prefix": "",
                "policy": json.dumps(inline)})
        est.add("aws_iam_role", name.replace("-", "_"), {
            "id": name, "arn": r["Arn"], "name": name, "name_prefix": "", "path": "/", "description": description,
            "assume_role_policy": json.dumps(trust), "max_session_duration": 3600, "permissions_boundary": "",
            "force_detach_policies": False, "managed_policy_arns": sorted(policies), "inline_policy": inline_blocks,
            "unique_id": r["RoleId"], "create_date": str(r["CreateDate"]), **_tf_tags({"Name": name})})
        for i, p in enumerate(policies):
            est.add("aws_iam_role_policy_attachment", f"{name.replace('-', '_')}_{i}", {
                "id": f"{name}-2025010100000000000000000{i}", "role": name, "policy_arn": p})
        est.ids[f"role_{name}"] = r["Arn"]
        return r["Arn"]

    cluster_role = role("platform-cluster", TRUST_EKS, ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"], None, "EKS cluster role")
    node_role = role("platform-nodes", TRUST_EC2, NODE_POLICIES, NODE_INLINE, "EKS node role")

    # ------------------------------------------------------------------ KMS
    key = kms.create_key(Description="platform secrets", Tags=[{"TagKey": k, "TagValue": v} for k, v in
                                                               {**PROJECT_TAGS, "Name": "platform"}.items()])["KeyMetadata"]
    kms.enable_key_rotation(KeyId=key["KeyId"])
    policy = kms.get_key_policy(KeyId=key["KeyId"], PolicyName="default")["Policy"]
    est.ids["kms_key"] = key["KeyId"]
    est.add("aws_kms_key", "platform", {
        "id": key["KeyId"], "key_id": key["KeyId"], "arn": key["Arn"], "description": "platform secrets",
        "key_usage": key.get("KeyUsage", "ENCRYPT_DECRYPT"), "customer_master_key_spec": key.get("KeySpec", "SYMMETRIC_DEFAULT"), "policy": policy,
        "enable_key_rotation": True, "rotation_period_in_days": 365, "is_enabled": True, "multi_region": False,
        "deletion_window_in_days": 30, "bypass_policy_lockout_safety_check": False, "custom_key_store_id": "", "xks_key_id": "",
        **_tf_tags({"Name": "platform"})})
    kms.create_alias(AliasName="alias/platform", TargetKeyId=key["KeyId"])
    est.add("aws_kms_alias", "platform", {
        "id": "alias/platform", "arn": f"arn:aws:kms:{region}:{account}:alias/platform", "name": "alias/platform",
        "name_prefix": "", "target_key_id": key["KeyId"], "target_key_arn": key["Arn"]})

    # ------------------------------------------------------------------ S3
    bucket = "platform-artifacts-123456789012"
    s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": region})
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": _tags({"Name": bucket})})
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key["Arn"]}, "BucketKeyEnabled": True}]})
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    est.ids["bucket"] = bucket
    est.add("aws_s3_bucket", "artifacts", {
        "id": bucket, "bucket": bucket, "bucket_prefix": "", "arn": f"arn:aws:s3:::{bucket}", "region": region,
        "force_destroy": False, "object_lock_enabled": False, "policy": "", **_tf_tags({"Name": bucket})})
    est.add("aws_s3_bucket_versioning", "artifacts", {
        "id": bucket, "bucket": bucket, "expected_bucket_owner": "", "mfa": None,
        "versioning_configuration": [{"status": "Enabled", "mfa_delete": ""}]})
    est.add("aws_s3_bucket_server_side_encryption_configuration", "artifacts", {
        "id": bucket, "bucket": bucket, "expected_bucket_owner": "", "rule": [{
            "apply_server_side_encryption_by_default": [{"sse_algorithm": "aws:kms", "kms_master_key_id": key["Arn"]}],
            "bucket_key_enabled": True}]})
    est.add("aws_s3_bucket_public_access_block", "artifacts", {
        "id": bucket, "bucket": bucket, "block_public_acls": True, "block_public_policy": True, "ignore_public_acls": True,
        "restrict_public_buckets": True})

    # ------------------------------------------------------------------ EKS
    cl = eks.create_cluster(name=CLUSTER, version="1.31", roleArn=cluster_role,
                            resourcesVpcConfig={"subnetIds": [subnets["private_a"], subnets["private_b"]],
                                                "securityGroupIds": [cluster_sg], "endpointPublicAccess": False,
                                                "endpointPrivateAccess": True},
                            logging={"clusterLogging": [{"types": ["api", "audit"], "enabled": True}]},
                            encryptionConfig=[{"resources": ["secrets"], "provider": {"keyArn": key["Arn"]}}],
                            tags={**PROJECT_TAGS, "Name": CLUSTER})["cluster"]
    vc = cl["resourcesVpcConfig"]
    issuer = (cl.get("identity") or {}).get("oidc", {}).get("issuer", f"https://oidc.eks.{region}.amazonaws.com/id/EXAMPLE")
    est.add("aws_eks_cluster", "main", {
        "id": CLUSTER, "name": CLUSTER, "arn": cl["arn"], "version": cl["version"], "role_arn": cluster_role,
        "vpc_config": [{"subnet_ids": sorted(vc["subnetIds"]), "security_group_ids": vc["securityGroupIds"],
                        "endpoint_private_access": vc["endpointPrivateAccess"], "endpoint_public_access": vc["endpointPublicAccess"],
                        "public_access_cidrs": vc.get("publicAccessCidrs") or [], "cluster_security_group_id": vc.get("clusterSecurityGroupId", ""),
                        "vpc_id": vc.get("vpcId", vpc_id)}],
        "enabled_cluster_log_types": ["api", "audit"],
        "encryption_config": [{"resources": ["secrets"], "provider": [{"key_arn": key["Arn"]}]}],
        "kubernetes_network_config": [], "access_config": [], "upgrade_policy": [], "zonal_shift_config": [],
        "identity": [{"oidc": [{"issuer": issuer}]}], "status": cl.get("status", "ACTIVE"), "endpoint": cl.get("endpoint", ""),
        "platform_version": cl.get("platformVersion", ""), "bootstrap_self_managed_addons": True,
        **_tf_tags({"Name": CLUSTER})})
    ng = eks.create_nodegroup(clusterName=CLUSTER, nodegroupName="default", nodeRole=node_role,
                              subnets=[subnets["private_a"], subnets["private_b"]], instanceTypes=["m6i.large"],
                              scalingConfig={"minSize": 2, "maxSize": 5, "desiredSize": 3}, amiType="AL2023_x86_64_STANDARD",
                              capacityType="ON_DEMAND", labels={"role": "general"}, tags={**PROJECT_TAGS, "Name": "default"})["nodegroup"]
    est.add("aws_eks_node_group", "default", {
        "id": f"{CLUSTER}:default", "arn": ng["nodegroupArn"], "cluster_name": CLUSTER, "node_group_name": "default",
        "node_group_name_prefix": "", "node_role_arn": node_role, "subnet_ids": sorted(ng["subnets"]),
        "scaling_config": [{"desired_size": 3, "min_size": 2, "max_size": 5}],
        "update_config": [{"max_unavailable": (ng.get("updateConfig") or {}).get("maxUnavailable", 1), "max_unavailable_percentage": 0}],
        "ami_type": ng["amiType"], "capacity_type": ng["capacityType"], "disk_size": ng.get("diskSize") or 0,
        "instance_types": ng["instanceTypes"], "labels": ng.get("labels") or {}, "release_version": ng.get("releaseVersion", ""),
        "version": ng.get("version", cl["version"]), "taint": [], "launch_template": [], "remote_access": [],
        "status": ng.get("status", "ACTIVE"), **_tf_tags({"Name": "default"})})

    # ------------------------------------------------------------------ OIDC provider (IRSA)
    url = issuer.removeprefix("https://")
    thumb = "9e99a48a9960b14926bb7f3b02e22da2b0ab7280"
    oidc = iam.create_open_id_connect_provider(Url=f"https://{url}", ClientIDList=["sts.amazonaws.com"], ThumbprintList=[thumb],
                                               Tags=_tags({"Name": CLUSTER}))["OpenIDConnectProviderArn"]
    est.ids["oidc"] = oidc
    est.add("aws_iam_openid_connect_provider", "cluster", {
        "id": oidc, "arn": oidc, "url": url, "client_id_list": ["sts.amazonaws.com"], "thumbprint_list": [thumb],
        **_tf_tags({"Name": CLUSTER})})
    return est
