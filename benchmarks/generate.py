"""Synthetic but realistic Terraform estates for benchmarks and hardening tests.

`generate(out, target)` writes `out/terraform.tfstate` (format 4) and the matching HCL (root module + local
modules) for an estate of about `target` managed resource instances, deterministically for a seed:

- `module.vpc["netN"]` (for_each over `var.networks`): VPC, public/private subnets (`count`), IGW, EIP + NAT per
  AZ, route tables, routes, route-table associations, security groups (`for_each`) with rules in all three
  Terraform styles (inline `ingress`/`egress` blocks, `aws_security_group_rule`, `aws_vpc_security_group_*_rule`);
- `module.eks["cN"]` (for_each over `var.clusters`, one per network): cluster IAM role + attachments, cluster SG +
  rule, EKS cluster, OIDC provider, addons (`for_each`), a Secrets Manager secret whose version holds a
  (fake) sensitive `secret_string`, the nested `module.node_group["name"]` (IAM role + 3 attachments, launch
  template, node group) and `module.irsa["addon"]` (IRSA role with an OIDC trust, policy, attachment);
- explicit root resources, many per file (`teams/…` → root `team-*.tf` files of ~2,000 lines): per service an IAM
  role + attachment, an SQS queue and a log group; every 50th service a CI user with an `aws_iam_access_key`
  whose `secret` (AKIA id + 40-char secret, fake) is sensitive;
- a large `terraform.tfvars` with the network and cluster maps.

Addresses, index keys, `dependencies` (config addresses without instance keys, transitive, as Terraform writes
them), `tags`/`tags_all` (provider default_tags) and `sensitive_attributes` follow the hashicorp/aws provider 5.x
shapes used by samples/estate. Sizes: `python -m benchmarks.generate --size 10000 --out /tmp/est10k`.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

AWS = 'provider["registry.terraform.io/hashicorp/aws"]'
ACCOUNT = "111122223333"
REGION = "eu-west-1"
AZS = ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
AZ_IDS = {"eu-west-1a": "euw1-az3", "eu-west-1b": "euw1-az1", "eu-west-1c": "euw1-az2"}
DEFAULT_TAGS = {"Environment": "bench", "Team": "platform", "ManagedBy": "terraform"}
ADDONS = ["vpc-cni", "coredns", "kube-proxy", "aws-ebs-csi-driver", "eks-pod-identity-agent", "aws-efs-csi-driver",
          "snapshot-controller", "amazon-cloudwatch-observability"]
IRSA_ADDONS = {"vpc-cni": "AmazonEKS_CNI_Policy", "aws-ebs-csi-driver": "service-role/AmazonEBSCSIDriverPolicy",
               "aws-efs-csi-driver": "service-role/AmazonEFSCSIDriverPolicy",
               "amazon-cloudwatch-observability": "CloudWatchAgentServerPolicy"}
NODE_GROUPS = ["general", "spot", "system", "gpu", "batch", "memory"]
NODE_POLICIES = ["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"]
SG_NAMES = ["web", "app", "db", "cache", "mq", "bastion"]
PRIVATE = "eyJlMmJmYjczMC1lY2FhLTExZTYtOGY4OC0zNDM2M2JjN2M0YzAiOnsiY3JlYXRlIjo2MDAwMDAwMDAwMDB9fQ=="
TRUST_EC2 = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                                                                "Action": "sts:AssumeRole", "Sid": "EKSNodeAssumeRole"}]},
                       separators=(",", ":"))
TRUST_EKS = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"},
                                                                "Action": ["sts:TagSession", "sts:AssumeRole"]}]},
                       separators=(",", ":"))
SVC_TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                                "Action": "sts:AssumeRole"}]}, separators=(",", ":"))


def _arn(service: str, resource: str, region: str = REGION) -> str:
    return f"arn:aws:{service}:{region}:{ACCOUNT}:{resource}"


def _iam_arn(resource: str) -> str:
    return f"arn:aws:iam::{ACCOUNT}:{resource}"


@dataclass
class GenStats:
    managed: int = 0
    data: int = 0
    resource_blocks: int = 0
    networks: int = 0
    clusters: int = 0
    services: int = 0
    hcl_files: int = 0
    hcl_lines: int = 0
    hcl_bytes: int = 0
    state_bytes: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)  # planted sensitive values (for leak tests)

    def as_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["secrets"] = len(self.secrets)
        return d


class _Ids:
    """Deterministic AWS-shaped ids: a counter hashed with the seed (unique within an estate)."""

    def __init__(self, seed: int):
        self.seed = seed
        self.n = 0

    def hex(self, k: int = 17) -> str:
        self.n += 1
        return hashlib.blake2b(f"{self.seed}:{self.n}".encode(), digest_size=16).hexdigest()[:k]

    def eid(self, prefix: str, k: int = 17) -> str:
        return f"{prefix}-{self.hex(k)}"

    def upper(self, k: int) -> str:
        return self.hex(32).upper()[:k]

    def uuid(self) -> str:
        h = self.hex(32)
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"

    def stamp(self) -> str:
        return f"2024110509{self.n % 60:02d}{(self.n * 7) % 60:02d}{self.n:013d}"[:26]


class _State:
    """Collects resources grouped per (module, mode, type, name) block, in insertion order."""

    def __init__(self) -> None:
        self.blocks: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        self.stats = GenStats()

    def add(self, module: str, rtype: str, name: str, attrs: dict[str, Any], *, key: Any = None,
            deps: list[str] | None = None, sensitive: list[str] = (), mode: str = "managed", schema_version: int = 0,
            provider: str = AWS) -> None:
        bkey = (module, mode, rtype, name)
        block = self.blocks.get(bkey)
        if block is None:
            block = {"mode": mode, "type": rtype, "name": name, "provider": provider, "instances": []}
            if module:
                block = {"module": module, **block}
            self.blocks[bkey] = block
        inst: dict[str, Any] = {}
        if key is not None:
            inst["index_key"] = key
        inst["schema_version"] = schema_version
        inst["attributes"] = attrs
        inst["sensitive_attributes"] = [[{"type": "get_attr", "value": s}] for s in sensitive]
        if mode == "managed":
            inst["private"] = PRIVATE
        if deps:
            inst["dependencies"] = sorted(set(deps))
        block["instances"].append(inst)
        if mode == "managed":
            self.stats.managed += 1
            self.stats.by_type[rtype] = self.stats.by_type.get(rtype, 0) + 1
        else:
            self.stats.data += 1

    def merge(self, other: _State) -> None:
        for bkey, block in other.blocks.items():
            mine = self.blocks.get(bkey)
            if mine is None:
                self.blocks[bkey] = block
            else:
                mine["instances"].extend(block["instances"])
        self.stats.managed += other.stats.managed
        self.stats.data += other.stats.data
        for t, n in other.stats.by_type.items():
            self.stats.by_type[t] = self.stats.by_type.get(t, 0) + n

    def document(self, seed: int) -> dict[str, Any]:
        return {
            "version": 4,
            "terraform_version": "1.9.8",
            "serial": 1000 + seed,
            "lineage": f"b3nch{seed:03d}-0000-4000-8000-{hashlib.sha256(str(seed).encode()).hexdigest()[:12]}",
            "outputs": {
                "cluster_names": {"value": [], "type": ["list", "string"]},
                "ci_access_key_secret": {"value": "", "type": "string", "sensitive": True},
            },
            "resources": list(self.blocks.values()),
            "check_results": None,
        }


def _tags(own: dict[str, str]) -> dict[str, Any]:
    return {"tags": dict(own), "tags_all": {**DEFAULT_TAGS, **own}}


def _sg_rule_block(**kw: Any) -> dict[str, Any]:
    b = {"cidr_blocks": [], "description": "", "from_port": 0, "ipv6_cidr_blocks": [], "prefix_list_ids": [],
         "protocol": "-1", "security_groups": [], "self": False, "to_port": 0}
    b.update(kw)
    return b


# ------------------------------------------------------------------------------------------------ network unit
def _network(st: _State, ids: _Ids, rng: random.Random, k: int) -> dict[str, Any]:
    key = f"net{k}"
    mod = f'module.vpc["{key}"]'
    cfg = "module.vpc"
    name = f"bench-{key}"
    nazs = rng.choice((2, 3, 3, 3))
    azs = AZS[:nazs]
    second = k % 250
    cidr = f"10.{second}.0.0/16"
    base_tags = {"Project": "bench", "Network": key}
    vpc_id = ids.eid("vpc")
    st.add(mod, "aws_vpc", "this", {
        "arn": _arn("ec2", f"vpc/{vpc_id}"), "assign_generated_ipv6_cidr_block": False, "cidr_block": cidr,
        "default_network_acl_id": ids.eid("acl"), "default_route_table_id": ids.eid("rtb"),
        "default_security_group_id": ids.eid("sg"), "dhcp_options_id": ids.eid("dopt"), "enable_dns_hostnames": True,
        "enable_dns_support": True, "enable_network_address_usage_metrics": False, "id": vpc_id,
        "instance_tenancy": "default", "ipv4_ipam_pool_id": None, "ipv4_netmask_length": None, "ipv6_association_id": "",
        "ipv6_cidr_block": "", "ipv6_cidr_block_network_border_group": "", "ipv6_ipam_pool_id": "", "ipv6_netmask_length": 0,
        "main_route_table_id": ids.eid("rtb"), "owner_id": ACCOUNT, **_tags({**base_tags, "Name": name}),
    }, schema_version=1)
    d_vpc = [f"{cfg}.aws_vpc.this"]
    subnets: dict[str, list[str]] = {"public": [], "private": []}
    for tier, off in (("public", 48), ("private", 0)):
        for i, az in enumerate(azs):
            sid = ids.eid("subnet")
            subnets[tier].append(sid)
            extra = {"kubernetes.io/role/elb": "1"} if tier == "public" else {"kubernetes.io/role/internal-elb": "1",
                                                                             "karpenter.sh/discovery": f"bench-c{k}"}
            st.add(mod, "aws_subnet", tier, {
                "arn": _arn("ec2", f"subnet/{sid}"), "assign_ipv6_address_on_creation": False, "availability_zone": az,
                "availability_zone_id": AZ_IDS[az], "cidr_block": f"10.{second}.{(off + i) * 4 if tier == 'public' else i * 32}.0/"
                + ("22" if tier == "public" else "19"),
                "customer_owned_ipv4_pool": "", "enable_dns64": False, "enable_lni_at_device_index": 0,
                "enable_resource_name_dns_a_record_on_launch": False, "enable_resource_name_dns_aaaa_record_on_launch": False,
                "id": sid, "ipv6_cidr_block": "", "ipv6_cidr_block_association_id": "", "ipv6_native": False,
                "map_customer_owned_ip_on_launch": False, "map_public_ip_on_launch": tier == "public", "outpost_arn": "",
                "owner_id": ACCOUNT, "private_dns_hostname_type_on_launch": "ip-name",
                **_tags({**base_tags, "Name": f"{name}-{tier}-{az}", **extra}), "timeouts": None, "vpc_id": vpc_id,
            }, key=i, deps=d_vpc, schema_version=1)
    igw = ids.eid("igw")
    st.add(mod, "aws_internet_gateway", "this", {
        "arn": _arn("ec2", f"internet-gateway/{igw}"), "id": igw, "owner_id": ACCOUNT,
        **_tags({**base_tags, "Name": name}), "timeouts": None, "vpc_id": vpc_id}, deps=d_vpc)
    nats = []
    for i, az in enumerate(azs):
        alloc, eni = ids.eid("eipalloc"), ids.eid("eni")
        ip = f"54.{170 + k % 80}.{i}.{k % 250}"
        st.add(mod, "aws_eip", "nat", {
            "address": None, "allocation_id": alloc, "arn": _arn("ec2", f"elastic-ip/{alloc}"),
            "associate_with_private_ip": None, "association_id": ids.eid("eipassoc"), "carrier_ip": "",
            "customer_owned_ip": "", "customer_owned_ipv4_pool": "", "domain": "vpc", "id": alloc, "instance": "",
            "ipam_pool_id": None, "network_border_group": REGION, "network_interface": eni, "private_dns": "",
            "private_ip": f"10.{second}.{192 + i}.10", "ptr_record": "", "public_dns": "", "public_ip": ip,
            "public_ipv4_pool": "amazon", **_tags({**base_tags, "Name": f"{name}-nat-{az}"}), "timeouts": None, "vpc": True,
        }, key=i, deps=[f"{cfg}.aws_internet_gateway.this", *d_vpc])
        nat = ids.eid("nat")
        nats.append(nat)
        st.add(mod, "aws_nat_gateway", "this", {
            "allocation_id": alloc, "association_id": ids.eid("eipassoc"), "connectivity_type": "public", "id": nat,
            "network_interface_id": eni, "private_ip": f"10.{second}.{192 + i}.10", "public_ip": ip,
            "secondary_allocation_ids": [], "secondary_private_ip_address_count": 0, "secondary_private_ip_addresses": [],
            "subnet_id": subnets["public"][i], **_tags({**base_tags, "Name": f"{name}-{az}"}), "timeouts": None,
        }, key=i, deps=[f"{cfg}.aws_eip.nat", f"{cfg}.aws_internet_gateway.this", f"{cfg}.aws_subnet.public", *d_vpc])

    def route_entry(**kw: Any) -> dict[str, Any]:
        r = {"carrier_gateway_id": "", "cidr_block": "0.0.0.0/0", "core_network_arn": "", "destination_prefix_list_id": "",
             "egress_only_gateway_id": "", "gateway_id": "", "ipv6_cidr_block": "", "local_gateway_id": "",
             "nat_gateway_id": "", "network_interface_id": "", "transit_gateway_id": "", "vpc_endpoint_id": "",
             "vpc_peering_connection_id": ""}
        r.update(kw)
        return r

    def route(rt: str, **kw: Any) -> dict[str, Any]:
        r = {"carrier_gateway_id": "", "core_network_arn": "", "destination_cidr_block": "0.0.0.0/0",
             "destination_ipv6_cidr_block": "", "destination_prefix_list_id": "", "egress_only_gateway_id": "",
             "gateway_id": "", "id": f"r-{rt}1080289494", "instance_id": "", "instance_owner_id": "", "local_gateway_id": "",
             "nat_gateway_id": "", "network_interface_id": "", "origin": "CreateRoute", "route_table_id": rt,
             "state": "active", "timeouts": {"create": "5m", "delete": None, "update": None}, "transit_gateway_id": "",
             "vpc_endpoint_id": "", "vpc_peering_connection_id": ""}
        r.update(kw)
        return r

    def route_table(rt: str, routes: list[dict[str, Any]], nm: str) -> dict[str, Any]:
        return {"arn": _arn("ec2", f"route-table/{rt}"), "id": rt, "owner_id": ACCOUNT, "propagating_vgws": [],
                "route": routes, **_tags({**base_tags, "Name": nm}), "timeouts": None, "vpc_id": vpc_id}

    rt_pub = ids.eid("rtb")
    st.add(mod, "aws_route_table", "public", route_table(rt_pub, [route_entry(gateway_id=igw)], f"{name}-public"), deps=d_vpc)
    st.add(mod, "aws_route", "public_internet_gateway", route(rt_pub, gateway_id=igw),
           deps=[f"{cfg}.aws_internet_gateway.this", f"{cfg}.aws_route_table.public", *d_vpc])
    for i, az in enumerate(azs):
        rt = ids.eid("rtb")
        st.add(mod, "aws_route_table", "private", route_table(rt, [route_entry(nat_gateway_id=nats[i])], f"{name}-private-{az}"),
               key=i, deps=d_vpc)
        st.add(mod, "aws_route", "private_nat_gateway", route(rt, nat_gateway_id=nats[i]), key=i,
               deps=[f"{cfg}.aws_eip.nat", f"{cfg}.aws_internet_gateway.this", f"{cfg}.aws_nat_gateway.this",
                     f"{cfg}.aws_route_table.private", f"{cfg}.aws_subnet.public", *d_vpc])
        st.add(mod, "aws_route_table_association", "private", {
            "gateway_id": "", "id": ids.eid("rtbassoc"), "route_table_id": rt, "subnet_id": subnets["private"][i],
            "timeouts": None}, key=i, deps=[f"{cfg}.aws_route_table.private", f"{cfg}.aws_subnet.private", *d_vpc])
        st.add(mod, "aws_route_table_association", "public", {
            "gateway_id": "", "id": ids.eid("rtbassoc"), "route_table_id": rt_pub, "subnet_id": subnets["public"][i],
            "timeouts": None}, key=i, deps=[f"{cfg}.aws_route_table.public", f"{cfg}.aws_subnet.public", *d_vpc])

    # security groups: inline rules, aws_security_group_rule, aws_vpc_security_group_*_rule
    sg_names = SG_NAMES[: rng.randint(2, 4)]
    sgs = {n: ids.eid("sg") for n in sg_names}
    rules: dict[str, dict[str, Any]] = {}
    for j, n in enumerate(sg_names):
        sg = sgs[n]
        port = [443, 8080, 5432, 6379, 5672, 22][SG_NAMES.index(n)]
        peer = sgs[sg_names[j - 1]] if j else None
        ingress = [_sg_rule_block(cidr_blocks=[cidr], description=f"{n} from VPC", from_port=port, protocol="tcp", to_port=port)]
        legacy = {f"{n}_from_peer": dict(type="ingress", from_port=port, to_port=port, protocol="tcp", src=peer,
                                         cidr=None if peer else "10.99.0.0/20")}
        legacy[f"{n}_self"] = dict(type="ingress", from_port=0, to_port=65535, protocol="tcp", src=None, cidr=None, self=True)
        for lk, lr in legacy.items():
            ingress.append(_sg_rule_block(cidr_blocks=[lr["cidr"]] if lr["cidr"] else [], from_port=lr["from_port"],
                                          protocol=lr["protocol"], security_groups=[lr["src"]] if lr["src"] else [],
                                          self=bool(lr.get("self")), to_port=lr["to_port"], description=lk))
        new_ing = {f"{n}_https_{m}": f"10.{(second + m) % 250}.0.0/16" for m in range(rng.randint(1, 3))}
        for nk, ncidr in new_ing.items():
            ingress.append(_sg_rule_block(cidr_blocks=[ncidr], from_port=443, to_port=443, protocol="tcp", description=nk))
        egress = [_sg_rule_block(cidr_blocks=["0.0.0.0/0"], description="all egress")]
        st.add(mod, "aws_security_group", "this", {
            "arn": _arn("ec2", f"security-group/{sg}"), "description": f"{name} {n} tier", "egress": egress, "id": sg,
            "ingress": ingress, "name": f"{name}-{n}", "name_prefix": "", "owner_id": ACCOUNT, "revoke_rules_on_delete": False,
            **_tags({**base_tags, "Name": f"{name}-{n}"}), "timeouts": None, "vpc_id": vpc_id,
        }, key=n, deps=d_vpc, schema_version=1)
        sg_deps = [f"{cfg}.aws_security_group.this", *d_vpc]
        for lk, lr in legacy.items():
            st.add(mod, "aws_security_group_rule", "this", {
                "cidr_blocks": [lr["cidr"]] if lr["cidr"] else None, "description": lk, "from_port": lr["from_port"],
                "id": f"sgrule-{int(ids.hex(8), 16)}", "ipv6_cidr_blocks": None, "prefix_list_ids": None,
                "protocol": lr["protocol"], "security_group_id": sg, "security_group_rule_id": ids.eid("sgr"),
                "self": bool(lr.get("self")), "source_security_group_id": lr["src"], "timeouts": None,
                "to_port": lr["to_port"], "type": lr["type"]}, key=lk, deps=sg_deps, schema_version=2)
        for nk, ncidr in new_ing.items():
            rid = ids.eid("sgr")
            st.add(mod, "aws_vpc_security_group_ingress_rule", "this", {
                "arn": _arn("ec2", f"security-group-rule/{rid}"), "cidr_ipv4": ncidr, "cidr_ipv6": None, "description": nk,
                "from_port": 443, "id": rid, "ip_protocol": "tcp", "prefix_list_id": None, "referenced_security_group_id": None,
                "security_group_id": sg, "security_group_rule_id": rid, **_tags({**base_tags, "Name": nk}), "to_port": 443,
            }, key=nk, deps=sg_deps)
        rid = ids.eid("sgr")
        st.add(mod, "aws_vpc_security_group_egress_rule", "this", {
            "arn": _arn("ec2", f"security-group-rule/{rid}"), "cidr_ipv4": "0.0.0.0/0", "cidr_ipv6": None,
            "description": "all egress", "from_port": None, "id": rid, "ip_protocol": "-1", "prefix_list_id": None,
            "referenced_security_group_id": None, "security_group_id": sg, "security_group_rule_id": rid,
            **_tags({**base_tags, "Name": f"{n}-egress"}), "to_port": None}, key=f"{n}_all", deps=sg_deps)
        rules[n] = {"port": port, "peer": sg_names[j - 1] if j else None, "https": sorted(new_ing.values())}
    return {"key": key, "cidr": cidr, "azs": azs, "vpc_id": vpc_id, "private": subnets["private"], "sgs": sgs,
            "security_groups": rules}


# ------------------------------------------------------------------------------------------------ cluster unit
def _cluster(st: _State, ids: _Ids, rng: random.Random, k: int, net: dict[str, Any], secrets: list[str]) -> dict[str, Any]:
    key = f"c{k}"
    mod = f'module.eks["{key}"]'
    cfg = "module.eks"
    cname = f"bench-{key}"
    base_tags = {"Project": "bench", "Cluster": cname}
    vpc_deps = ["module.vpc.aws_vpc.this", "module.vpc.aws_subnet.private"]
    role_deps = [f"{cfg}.aws_iam_role.cluster", f"{cfg}.aws_iam_role_policy_attachment.cluster"]
    st.add(mod, "aws_iam_role", "cluster", {
        "arn": _iam_arn(f"role/{cname}-cluster"), "assume_role_policy": TRUST_EKS, "create_date": "2024-11-05T09:01:10Z",
        "description": f"EKS cluster role for {cname}", "force_detach_policies": True, "id": f"{cname}-cluster",
        "inline_policy": [], "managed_policy_arns": ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
                                                     "arn:aws:iam::aws:policy/AmazonEKSVPCResourceController"],
        "max_session_duration": 3600, "name": f"{cname}-cluster", "name_prefix": "", "path": "/", "permissions_boundary": "",
        **_tags(base_tags), "unique_id": "AROA" + ids.upper(17)}, deps=[f"{cfg}.data.aws_iam_policy_document.assume_role_policy"])
    for p in ("AmazonEKSClusterPolicy", "AmazonEKSVPCResourceController"):
        st.add(mod, "aws_iam_role_policy_attachment", "cluster", {
            "id": f"{cname}-cluster-{ids.stamp()}", "policy_arn": f"arn:aws:iam::aws:policy/{p}", "role": f"{cname}-cluster"},
            key=p, deps=[f"{cfg}.aws_iam_role.cluster"])
    csg = ids.eid("sg")
    st.add(mod, "aws_security_group", "cluster", {
        "arn": _arn("ec2", f"security-group/{csg}"), "description": "EKS cluster security group",
        "egress": [_sg_rule_block(cidr_blocks=["0.0.0.0/0"], description="all egress")], "id": csg,
        "ingress": [_sg_rule_block(cidr_blocks=[net["cidr"]], from_port=443, to_port=443, protocol="tcp",
                                   description="API from VPC")],
        "name": f"{cname}-cluster", "name_prefix": "", "owner_id": ACCOUNT, "revoke_rules_on_delete": False,
        **_tags({**base_tags, "Name": f"{cname}-cluster"}), "timeouts": None, "vpc_id": net["vpc_id"]},
        deps=["module.vpc.aws_vpc.this"], schema_version=1)
    st.add(mod, "aws_security_group_rule", "cluster", {
        "cidr_blocks": [net["cidr"]], "description": "API from VPC", "from_port": 443, "id": f"sgrule-{int(ids.hex(8), 16)}",
        "ipv6_cidr_blocks": None, "prefix_list_ids": None, "protocol": "tcp", "security_group_id": csg,
        "security_group_rule_id": ids.eid("sgr"), "self": False, "source_security_group_id": None, "timeouts": None,
        "to_port": 443, "type": "ingress"}, key="ingress_vpc_443", deps=[f"{cfg}.aws_security_group.cluster", *vpc_deps],
        schema_version=2)
    oidc = ids.upper(32)
    key_arn = _arn("kms", f"key/{ids.uuid()}")
    version = rng.choice(["1.29", "1.30", "1.31"])
    cl_deps = [*role_deps, f"{cfg}.aws_security_group.cluster", *vpc_deps]
    st.add(mod, "aws_eks_cluster", "this", {
        "access_config": [{"authentication_mode": "API_AND_CONFIG_MAP", "bootstrap_cluster_creator_admin_permissions": False}],
        "arn": _arn("eks", f"cluster/{cname}"), "bootstrap_self_managed_addons": False,
        "certificate_authority": [{"data": base64.b64encode(f"-----BEGIN CERTIFICATE-----\n{ids.hex(32)}\n-----END CERTIFICATE-----\n"
                                                            .encode()).decode()}],
        "cluster_id": None, "compute_config": [], "created_at": "2024-11-05 09:41:27.318 +0000 UTC",
        "enabled_cluster_log_types": ["api", "audit", "authenticator"],
        "encryption_config": [{"provider": [{"key_arn": key_arn}], "resources": ["secrets"]}],
        "endpoint": f"https://{oidc}.gr7.{REGION}.eks.amazonaws.com", "force_update_version": None, "id": cname,
        "identity": [{"oidc": [{"issuer": f"https://oidc.eks.{REGION}.amazonaws.com/id/{oidc}"}]}],
        "kubernetes_network_config": [{"elastic_load_balancing": [{"enabled": False}], "ip_family": "ipv4",
                                       "service_ipv4_cidr": "172.20.0.0/16", "service_ipv6_cidr": ""}],
        "name": cname, "outpost_config": [], "platform_version": "eks.12", "remote_network_config": [],
        "role_arn": _iam_arn(f"role/{cname}-cluster"), "status": "ACTIVE", "storage_config": [], **_tags(base_tags),
        "timeouts": None, "upgrade_policy": [{"support_type": "STANDARD"}], "version": version,
        "vpc_config": [{"cluster_security_group_id": ids.eid("sg"), "endpoint_private_access": True,
                        "endpoint_public_access": True, "public_access_cidrs": ["198.51.100.16/28"],
                        "security_group_ids": [csg], "subnet_ids": list(net["private"]), "vpc_id": net["vpc_id"]}],
        "zonal_shift_config": []}, deps=cl_deps, schema_version=1)
    cl_deps = [*cl_deps, f"{cfg}.aws_eks_cluster.this"]
    oidc_arn = _iam_arn(f"oidc-provider/oidc.eks.{REGION}.amazonaws.com/id/{oidc}")
    st.add(mod, "aws_iam_openid_connect_provider", "this", {
        "arn": oidc_arn, "client_id_list": ["sts.amazonaws.com"], "id": oidc_arn, **_tags({**base_tags, "Name": f"{cname}-irsa"}),
        "thumbprint_list": ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"],
        "url": f"oidc.eks.{REGION}.amazonaws.com/id/{oidc}"}, deps=cl_deps)
    # IRSA roles (nested module, for_each over the addons that need one)
    addons = ADDONS[: rng.randint(4, len(ADDONS))]
    irsa_roles = {}
    for a in addons:
        if a not in IRSA_ADDONS:
            continue
        imod = f'{mod}.module.irsa["{a}"]'
        icfg = f"{cfg}.module.irsa"
        rname = f"{cname}-{a}"
        trust = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRoleWithWebIdentity", "Principal": {"Federated": oidc_arn},
            "Condition": {"StringEquals": {f"oidc.eks.{REGION}.amazonaws.com/id/{oidc}:sub": f"system:serviceaccount:kube-system:{a}",
                                           f"oidc.eks.{REGION}.amazonaws.com/id/{oidc}:aud": "sts.amazonaws.com"}}}]},
            separators=(",", ":"))
        pol_arn = _iam_arn(f"policy/{rname}")
        st.add(imod, "aws_iam_policy", "this", {
            "arn": pol_arn, "attachment_count": 1, "description": "extra permissions", "id": pol_arn, "name": rname,
            "name_prefix": "", "path": "/", "policy": json.dumps({"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": key_arn}]},
                separators=(",", ":")), "policy_id": "ANPA" + ids.upper(17), **_tags(base_tags)},
            deps=[f"{icfg}.data.aws_iam_policy_document.this"])
        st.add(imod, "aws_iam_role", "this", {
            "arn": _iam_arn(f"role/{rname}"), "assume_role_policy": trust, "create_date": "2024-11-05T09:20:00Z",
            "description": f"IRSA role for kube-system/{a}", "force_detach_policies": False, "id": rname, "inline_policy": [],
            "managed_policy_arns": sorted([pol_arn, f"arn:aws:iam::aws:policy/{IRSA_ADDONS[a]}"]), "max_session_duration": 3600,
            "name": rname, "name_prefix": "", "path": "/", "permissions_boundary": "", **_tags(base_tags),
            "unique_id": "AROA" + ids.upper(17)}, deps=[*cl_deps, f"{cfg}.aws_iam_openid_connect_provider.this",
                                                         f"{icfg}.data.aws_iam_policy_document.assume_role"])
        st.add(imod, "aws_iam_role_policy_attachment", "this", {
            "id": f"{rname}-{ids.stamp()}", "policy_arn": pol_arn, "role": rname},
            deps=[f"{icfg}.aws_iam_policy.this", f"{icfg}.aws_iam_role.this", *cl_deps])
        st.add(imod, "aws_iam_role_policy_attachment", "extra", {
            "id": f"{rname}-{ids.stamp()}", "policy_arn": f"arn:aws:iam::aws:policy/{IRSA_ADDONS[a]}", "role": rname},
            key=IRSA_ADDONS[a].rsplit("/", 1)[-1], deps=[f"{icfg}.aws_iam_role.this", *cl_deps])
        irsa_roles[a] = _iam_arn(f"role/{rname}")
    # node groups (nested module, for_each)
    groups = NODE_GROUPS[: rng.randint(2, 4)]
    ng_cfg = f"{cfg}.module.node_group"
    for g in groups:
        gmod = f'{mod}.module.node_group["{g}"]'
        ngn = f"{cname}-{g}"
        st.add(gmod, "aws_iam_role", "this", {
            "arn": _iam_arn(f"role/{ngn}-node"), "assume_role_policy": TRUST_EC2, "create_date": "2024-11-05T09:05:10Z",
            "description": f"EKS managed node group IAM role ({g})", "force_detach_policies": True, "id": f"{ngn}-node",
            "inline_policy": [], "managed_policy_arns": [f"arn:aws:iam::aws:policy/{p}" for p in NODE_POLICIES],
            "max_session_duration": 3600, "name": f"{ngn}-node", "name_prefix": "", "path": "/", "permissions_boundary": "",
            **_tags(base_tags), "unique_id": "AROA" + ids.upper(17)},
            deps=[f"{ng_cfg}.data.aws_iam_policy_document.assume_role_policy"])
        for p in NODE_POLICIES:
            st.add(gmod, "aws_iam_role_policy_attachment", "this", {
                "id": f"{ngn}-node-{ids.stamp()}", "policy_arn": f"arn:aws:iam::aws:policy/{p}", "role": f"{ngn}-node"},
                key=p, deps=[f"{ng_cfg}.aws_iam_role.this"])
        lt = ids.eid("lt")
        lt_name = f"{ngn}-{ids.stamp()}"
        st.add(gmod, "aws_launch_template", "this", {
            "arn": _arn("ec2", f"launch-template/{lt}"),
            "block_device_mappings": [{"device_name": "/dev/xvda", "ebs": [{
                "delete_on_termination": "true", "encrypted": "true", "iops": 3000, "kms_key_id": "", "snapshot_id": "",
                "throughput": 125, "volume_initialization_rate": 0, "volume_size": rng.choice((50, 100, 200)),
                "volume_type": "gp3"}], "no_device": "", "virtual_name": ""}],
            "capacity_reservation_specification": [], "cpu_options": [], "credit_specification": [], "default_version": 1,
            "description": f"Custom launch template for {ngn} EKS managed node group", "disable_api_stop": False,
            "disable_api_termination": False, "ebs_optimized": "", "elastic_gpu_specifications": [],
            "elastic_inference_accelerator": [], "enclave_options": [], "hibernation_options": [], "iam_instance_profile": [],
            "id": lt, "image_id": "", "instance_initiated_shutdown_behavior": "", "instance_market_options": [],
            "instance_requirements": [], "instance_type": "", "kernel_id": "", "key_name": "", "latest_version": 1,
            "license_specification": [], "maintenance_options": [],
            "metadata_options": [{"http_endpoint": "enabled", "http_protocol_ipv6": "", "http_put_response_hop_limit": 2,
                                  "http_tokens": "required", "instance_metadata_tags": ""}],
            "monitoring": [{"enabled": True}], "name": lt_name, "name_prefix": f"{ngn}-", "network_interfaces": [],
            "placement": [], "private_dns_name_options": [], "ram_disk_id": "", "security_group_names": None,
            "tag_specifications": [{"resource_type": "instance", "tags": {**base_tags, "Name": ngn}}],
            **_tags(base_tags), "update_default_version": True, "user_data": "",
            "vpc_security_group_ids": [net["sgs"][next(iter(net["sgs"]))]]},
            deps=["module.vpc.aws_security_group.this", "module.vpc.aws_vpc.this"])
        spot = g in ("spot", "batch")
        st.add(gmod, "aws_eks_node_group", "this", {
            "ami_type": "AL2023_x86_64_STANDARD", "arn": _arn("eks", f"nodegroup/{cname}/{ngn}/{ids.uuid()}"),
            "capacity_type": "SPOT" if spot else "ON_DEMAND", "cluster_name": cname, "disk_size": 0,
            "force_update_version": None, "id": f"{cname}:{ngn}", "instance_types": ["m6i.large", "m5.large"],
            "labels": {"workload-class": g}, "launch_template": [{"id": lt, "name": lt_name, "version": "1"}],
            "node_group_name": ngn, "node_group_name_prefix": "", "node_repair_config": [],
            "node_role_arn": _iam_arn(f"role/{ngn}-node"), "release_version": f"{version}.4-20241024", "remote_access": [],
            "resources": [{"autoscaling_groups": [{"name": f"eks-{ngn}-{ids.uuid()}"}], "remote_access_security_group_id": ""}],
            "scaling_config": [{"desired_size": 3, "max_size": 6, "min_size": 1}], "status": "ACTIVE",
            "subnet_ids": list(net["private"]), **_tags({**base_tags, "Name": ngn}),
            "taint": [{"effect": "NO_SCHEDULE", "key": "spot", "value": "true"}] if spot else [], "timeouts": None,
            "update_config": [{"max_unavailable": 0, "max_unavailable_percentage": 33}], "version": version},
            deps=[*cl_deps, f"{ng_cfg}.aws_iam_role.this", f"{ng_cfg}.aws_iam_role_policy_attachment.this",
                  f"{ng_cfg}.aws_launch_template.this"])
    for a in addons:
        st.add(mod, "aws_eks_addon", "this", {
            "addon_name": a, "addon_version": "v1.35.0-eksbuild.1", "arn": _arn("eks", f"addon/{cname}/{a}/{ids.uuid()}"),
            "cluster_name": cname, "configuration_values": "", "created_at": "2024-11-05T10:03:13Z", "id": f"{cname}:{a}",
            "modified_at": "2025-01-14T08:43:02Z", "pod_identity_association": [], "preserve": None, "resolve_conflicts": None,
            "resolve_conflicts_on_create": "OVERWRITE", "resolve_conflicts_on_update": "OVERWRITE",
            "service_account_role_arn": irsa_roles.get(a, ""), **_tags(base_tags),
            "timeouts": {"create": "20m", "delete": "20m", "update": "20m"}},
            key=a, deps=[*cl_deps, f"{ng_cfg}.aws_eks_node_group.this", f"{cfg}.module.irsa.aws_iam_role.this"])
    # a secret whose version carries a sensitive value (never to be rendered)
    sarn = _arn("secretsmanager", f"secret:bench/{cname}/app-{ids.hex(6)}")
    pw = f"Bench-PW-{ids.hex(20)}-do-not-leak"
    secrets.append(pw)
    st.add(mod, "aws_secretsmanager_secret", "app", {
        "arn": sarn, "description": f"App credentials for {cname}", "force_overwrite_replica_secret": False, "id": sarn,
        "kms_key_id": key_arn, "name": f"bench/{cname}/app", "name_prefix": "", "policy": "", "recovery_window_in_days": 7,
        "replica": [], **_tags(base_tags)})
    st.add(mod, "aws_secretsmanager_secret_version", "app", {
        "arn": sarn, "has_secret_string_wo": None, "id": f"{sarn}|{ids.uuid()}", "secret_binary": "", "secret_id": sarn,
        "secret_string": json.dumps({"username": "app", "password": pw}), "secret_string_wo": None,
        "secret_string_wo_version": None, "version_id": ids.uuid(), "version_stages": ["AWSCURRENT"]},
        deps=[f"{cfg}.aws_secretsmanager_secret.app"], sensitive=["secret_binary", "secret_string"])
    return {"key": key, "name": cname, "network": net["key"], "version": version, "addons": addons, "node_groups": groups}


# ------------------------------------------------------------------------------------------------ explicit services
def _service(st: _State, ids: _Ids, team: str, s: int) -> list[str]:
    """Explicit root resources for one service; returns its HCL blocks."""
    n = f"{team}_svc{s}"
    dn = n.replace("_", "-")
    tags = {"Project": "bench", "Team": team, "Service": dn}
    role_arn = _iam_arn(f"role/{dn}")
    st.add("", "aws_iam_role", n, {
        "arn": role_arn, "assume_role_policy": SVC_TRUST, "create_date": "2024-11-05T09:30:00Z",
        "description": f"{dn} runtime role", "force_detach_policies": False, "id": dn, "inline_policy": [],
        "managed_policy_arns": ["arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess"], "max_session_duration": 3600, "name": dn,
        "name_prefix": "", "path": "/services/", "permissions_boundary": "", **_tags(tags), "unique_id": "AROA" + ids.upper(17)})
    st.add("", "aws_iam_role_policy_attachment", f"{n}_xray", {
        "id": f"{dn}-{ids.stamp()}", "policy_arn": "arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess", "role": dn},
        deps=[f"aws_iam_role.{n}"])
    qurl = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{dn}"
    st.add("", "aws_sqs_queue", n, {
        "arn": _arn("sqs", dn), "content_based_deduplication": False, "deduplication_scope": "", "delay_seconds": 0,
        "fifo_queue": False, "fifo_throughput_limit": "", "id": qurl, "kms_data_key_reuse_period_seconds": 300,
        "kms_master_key_id": "", "max_message_size": 262144, "message_retention_seconds": 345600, "name": dn,
        "name_prefix": "", "policy": "", "receive_wait_time_seconds": 20, "redrive_allow_policy": "", "redrive_policy": "",
        "sqs_managed_sse_enabled": True, **_tags(tags), "url": qurl, "visibility_timeout_seconds": 60})
    st.add("", "aws_cloudwatch_log_group", n, {
        "arn": _arn("logs", f"log-group:/bench/{team}/{dn}"), "id": f"/bench/{team}/{dn}", "kms_key_id": "",
        "log_group_class": "STANDARD", "name": f"/bench/{team}/{dn}", "name_prefix": "", "retention_in_days": 30,
        "skip_destroy": False, **_tags(tags)})
    blocks = [
        f'resource "aws_iam_role" "{n}" {{\n  name               = "{dn}"\n  path               = "/services/"\n'
        f'  description        = "{dn} runtime role"\n  assume_role_policy = data.aws_iam_policy_document.lambda_trust.json\n\n'
        f'  tags = merge(local.common_tags, {{\n    Team    = "{team}"\n    Service = "{dn}"\n  }})\n}}\n',
        f'resource "aws_iam_role_policy_attachment" "{n}_xray" {{\n  role       = aws_iam_role.{n}.name\n'
        f'  policy_arn = "arn:${{data.aws_partition.current.partition}}:iam::aws:policy/AWSXRayDaemonWriteAccess"\n}}\n',
        f'resource "aws_sqs_queue" "{n}" {{\n  name                       = "{dn}"\n  receive_wait_time_seconds  = 20\n'
        f'  visibility_timeout_seconds = 60\n  sqs_managed_sse_enabled    = true\n\n'
        f'  tags = merge(local.common_tags, {{\n    Team    = "{team}"\n    Service = "{dn}"\n  }})\n}}\n',
        f'resource "aws_cloudwatch_log_group" "{n}" {{\n  name              = "/bench/{team}/{dn}"\n'
        f'  retention_in_days = var.log_retention_days\n\n  tags = merge(local.common_tags, {{\n    Team    = "{team}"\n'
        f'    Service = "{dn}"\n  }})\n}}\n',
    ]
    return blocks


def _ci_user(st: _State, ids: _Ids, team: str, secrets: list[str]) -> list[str]:
    n = f"{team}_ci"
    dn = n.replace("_", "-")
    st.add("", "aws_iam_user", n, {
        "arn": _iam_arn(f"user/ci/{dn}"), "force_destroy": False, "id": dn, "name": dn, "path": "/ci/",
        "permissions_boundary": "", **_tags({"Project": "bench", "Team": team}), "unique_id": "AIDA" + ids.upper(17)})
    key_id = "AKIA" + ids.upper(16)
    raw = hashlib.sha256(f"secret:{ids.seed}:{ids.n}".encode()).digest() + hashlib.sha256(f"s2:{ids.n}".encode()).digest()
    secret = base64.b64encode(raw).decode()[:40]
    secrets.append(secret)
    st.add("", "aws_iam_access_key", n, {
        "create_date": "2024-11-05T09:40:00Z", "encrypted_secret": None, "encrypted_ses_smtp_password_v4": None,
        "id": key_id, "key_fingerprint": None, "pgp_key": None, "secret": secret,
        "ses_smtp_password_v4": base64.b64encode(raw[:32]).decode(), "status": "Active", "user": dn},
        deps=[f"aws_iam_user.{n}"], sensitive=["secret", "ses_smtp_password_v4"])
    return [
        f'resource "aws_iam_user" "{n}" {{\n  name = "{dn}"\n  path = "/ci/"\n  tags = merge(local.common_tags, {{ Team = "{team}" }})\n}}\n',
        f'resource "aws_iam_access_key" "{n}" {{\n  user = aws_iam_user.{n}.name\n}}\n',
    ]


# ------------------------------------------------------------------------------------------------ HCL
ROOT_MAIN = '''terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.70"
    }
  }
}

provider "aws" {
  region = var.region
  default_tags {
    tags = {
      Environment = "bench"
      Team        = "platform"
      ManagedBy   = "terraform"
    }
  }
}

data "aws_partition" "current" {}

data "aws_iam_policy_document" "lambda_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

locals {
  common_tags = {
    Project = "bench"
  }
}

module "vpc" {
  source   = "./modules/vpc"
  for_each = var.networks

  name            = "bench-${each.key}"
  cidr            = each.value.cidr
  azs             = each.value.azs
  security_groups = each.value.security_groups
  tags            = merge(local.common_tags, { Network = each.key })
}

module "eks" {
  source   = "./modules/eks"
  for_each = var.clusters

  cluster_name       = "bench-${each.key}"
  cluster_version    = each.value.version
  vpc_id             = module.vpc[each.value.network].vpc_id
  vpc_cidr           = module.vpc[each.value.network].cidr
  subnet_ids         = module.vpc[each.value.network].private_subnet_ids
  node_sg_ids        = [module.vpc[each.value.network].first_sg_id]
  addons             = each.value.addons
  node_groups        = each.value.node_groups
  tags               = merge(local.common_tags, { Cluster = "bench-${each.key}" })
}

output "cluster_names" {
  value = [for c in module.eks : c.cluster_name]
}
'''

ROOT_VARS = '''variable "region" {
  type    = string
  default = "eu-west-1"
}

variable "log_retention_days" {
  type        = number
  default     = 30
  description = "Retention of the service log groups"
}

variable "networks" {
  description = "VPCs by key"
  type = map(object({
    cidr            = string
    azs             = list(string)
    security_groups = map(any)
  }))
}

variable "clusters" {
  description = "EKS clusters by key"
  type = map(object({
    network     = string
    version     = string
    addons      = list(string)
    node_groups = list(string)
  }))
}

variable "ci_secret" {
  type      = string
  default   = null
  sensitive = true
}
'''

VPC_MAIN = '''data "aws_region" "current" {}

resource "aws_vpc" "this" {
  cidr_block           = var.cidr
  instance_tenancy     = "default"
  enable_dns_hostnames = true
  enable_dns_support   = true

  tags = merge(var.tags, { Name = var.name })
}

resource "aws_internet_gateway" "this" {
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = var.name })
}

resource "aws_subnet" "public" {
  count = length(var.azs)

  vpc_id                  = aws_vpc.this.id
  cidr_block              = cidrsubnet(var.cidr, 6, count.index + 48)
  availability_zone       = var.azs[count.index]
  map_public_ip_on_launch = true

  tags = merge(var.tags, { Name = "${var.name}-public-${var.azs[count.index]}", "kubernetes.io/role/elb" = "1" })
}

resource "aws_subnet" "private" {
  count = length(var.azs)

  vpc_id            = aws_vpc.this.id
  cidr_block        = cidrsubnet(var.cidr, 3, count.index)
  availability_zone = var.azs[count.index]

  tags = merge(var.tags, { Name = "${var.name}-private-${var.azs[count.index]}", "kubernetes.io/role/internal-elb" = "1" })
}

resource "aws_eip" "nat" {
  count  = length(var.azs)
  domain = "vpc"
  tags   = merge(var.tags, { Name = "${var.name}-nat-${var.azs[count.index]}" })

  depends_on = [aws_internet_gateway.this]
}

resource "aws_nat_gateway" "this" {
  count         = length(var.azs)
  allocation_id = aws_eip.nat[count.index].id
  subnet_id     = aws_subnet.public[count.index].id
  tags          = merge(var.tags, { Name = "${var.name}-${var.azs[count.index]}" })

  depends_on = [aws_internet_gateway.this]
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name}-public" })
}

resource "aws_route" "public_internet_gateway" {
  route_table_id         = aws_route_table.public.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.this.id

  timeouts {
    create = "5m"
  }
}

resource "aws_route_table" "private" {
  count  = length(var.azs)
  vpc_id = aws_vpc.this.id
  tags   = merge(var.tags, { Name = "${var.name}-private-${var.azs[count.index]}" })
}

resource "aws_route" "private_nat_gateway" {
  count                  = length(var.azs)
  route_table_id         = aws_route_table.private[count.index].id
  destination_cidr_block = "0.0.0.0/0"
  nat_gateway_id         = aws_nat_gateway.this[count.index].id

  timeouts {
    create = "5m"
  }
}

resource "aws_route_table_association" "public" {
  count          = length(var.azs)
  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

resource "aws_route_table_association" "private" {
  count          = length(var.azs)
  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private[count.index].id
}

locals {
  sg_names = keys(var.security_groups)
  legacy_rules = merge([
    for n, sg in var.security_groups : {
      "${n}_from_peer" = { sg = n, port = sg.port, peer = sg.peer }
      "${n}_self"      = { sg = n, port = null, peer = null }
    }
  ]...)
  https_rules = merge([
    for n, sg in var.security_groups : { for i, c in sg.https : "${n}_https_${i}" => { sg = n, cidr = c } }
  ]...)
}

resource "aws_security_group" "this" {
  for_each = var.security_groups

  name        = "${var.name}-${each.key}"
  description = "${var.name} ${each.key} tier"
  vpc_id      = aws_vpc.this.id

  ingress {
    description = "${each.key} from VPC"
    from_port   = each.value.port
    to_port     = each.value.port
    protocol    = "tcp"
    cidr_blocks = [var.cidr]
  }

  egress {
    description = "all egress"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = merge(var.tags, { Name = "${var.name}-${each.key}" })
}

resource "aws_security_group_rule" "this" {
  for_each = local.legacy_rules

  type                     = "ingress"
  security_group_id        = aws_security_group.this[each.value.sg].id
  from_port                = each.value.port == null ? 0 : each.value.port
  to_port                  = each.value.port == null ? 65535 : each.value.port
  protocol                 = "tcp"
  self                     = each.value.port == null ? true : null
  source_security_group_id = each.value.peer == null ? null : aws_security_group.this[each.value.peer].id
  cidr_blocks              = each.value.port != null && each.value.peer == null ? ["10.99.0.0/20"] : null
  description              = each.key
}

resource "aws_vpc_security_group_ingress_rule" "this" {
  for_each = local.https_rules

  security_group_id = aws_security_group.this[each.value.sg].id
  cidr_ipv4         = each.value.cidr
  from_port         = 443
  to_port           = 443
  ip_protocol       = "tcp"
  description       = each.key
  tags              = merge(var.tags, { Name = each.key })
}

resource "aws_vpc_security_group_egress_rule" "this" {
  for_each = var.security_groups

  security_group_id = aws_security_group.this[each.key].id
  cidr_ipv4         = "0.0.0.0/0"
  ip_protocol       = "-1"
  description       = "all egress"
  tags              = merge(var.tags, { Name = "${each.key}-egress" })
}
'''

VPC_VARS = '''variable "name" {
  type = string
}

variable "cidr" {
  type = string
}

variable "azs" {
  type = list(string)
}

variable "security_groups" {
  type    = map(any)
  default = {}
}

variable "tags" {
  type    = map(string)
  default = {}
}
'''

VPC_OUT = '''output "vpc_id" {
  value = aws_vpc.this.id
}

output "cidr" {
  value = aws_vpc.this.cidr_block
}

output "private_subnet_ids" {
  value = aws_subnet.private[*].id
}

output "first_sg_id" {
  value = aws_security_group.this[local.sg_names[0]].id
}
'''

EKS_MAIN = '''data "aws_iam_policy_document" "assume_role_policy" {
  statement {
    actions = ["sts:AssumeRole", "sts:TagSession"]
    principals {
      type        = "Service"
      identifiers = ["eks.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "cluster" {
  name                  = "${var.cluster_name}-cluster"
  description           = "EKS cluster role for ${var.cluster_name}"
  assume_role_policy    = data.aws_iam_policy_document.assume_role_policy.json
  force_detach_policies = true
  tags                  = var.tags
}

resource "aws_iam_role_policy_attachment" "cluster" {
  for_each   = toset(["AmazonEKSClusterPolicy", "AmazonEKSVPCResourceController"])
  role       = aws_iam_role.cluster.name
  policy_arn = "arn:aws:iam::aws:policy/${each.value}"
}

resource "aws_security_group" "cluster" {
  name        = "${var.cluster_name}-cluster"
  description = "EKS cluster security group"
  vpc_id      = var.vpc_id

  ingress {
    description = "API from VPC"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = [var.vpc_cidr]
  }

  egress {
    description = "all egress"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }

  tags = merge(var.tags, { Name = "${var.cluster_name}-cluster" })
}

resource "aws_security_group_rule" "cluster" {
  for_each = { ingress_vpc_443 = var.vpc_cidr }

  type              = "ingress"
  security_group_id = aws_security_group.cluster.id
  from_port         = 443
  to_port           = 443
  protocol          = "tcp"
  cidr_blocks       = [each.value]
  description       = "API from VPC"
}

resource "aws_eks_cluster" "this" {
  name     = var.cluster_name
  version  = var.cluster_version
  role_arn = aws_iam_role.cluster.arn

  enabled_cluster_log_types = ["api", "audit", "authenticator"]

  access_config {
    authentication_mode                         = "API_AND_CONFIG_MAP"
    bootstrap_cluster_creator_admin_permissions = false
  }

  vpc_config {
    subnet_ids              = var.subnet_ids
    security_group_ids      = [aws_security_group.cluster.id]
    endpoint_private_access = true
    endpoint_public_access  = true
    public_access_cidrs     = ["198.51.100.16/28"]
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy_attachment.cluster]
}

resource "aws_iam_openid_connect_provider" "this" {
  url             = aws_eks_cluster.this.identity[0].oidc[0].issuer
  client_id_list  = ["sts.amazonaws.com"]
  thumbprint_list = ["9e99a48a9960b14926bb7f3b02e22da2b0ab7280"]
  tags            = merge(var.tags, { Name = "${var.cluster_name}-irsa" })
}

locals {
  irsa_policies = {
    "vpc-cni"                         = "AmazonEKS_CNI_Policy"
    "aws-ebs-csi-driver"              = "service-role/AmazonEBSCSIDriverPolicy"
    "aws-efs-csi-driver"              = "service-role/AmazonEFSCSIDriverPolicy"
    "amazon-cloudwatch-observability" = "CloudWatchAgentServerPolicy"
  }
  irsa_addons = { for a in var.addons : a => local.irsa_policies[a] if contains(keys(local.irsa_policies), a) }
}

module "irsa" {
  source   = "../irsa"
  for_each = local.irsa_addons

  name            = "${var.cluster_name}-${each.key}"
  oidc_arn        = aws_iam_openid_connect_provider.this.arn
  oidc_url        = aws_iam_openid_connect_provider.this.url
  service_account = "kube-system:${each.key}"
  managed_policy  = each.value
  tags            = var.tags
}

module "node_group" {
  source   = "./modules/node-group"
  for_each = toset(var.node_groups)

  cluster_name           = aws_eks_cluster.this.name
  cluster_version        = aws_eks_cluster.this.version
  name                   = each.key
  subnet_ids             = var.subnet_ids
  vpc_security_group_ids = var.node_sg_ids
  capacity_type          = contains(["spot", "batch"], each.key) ? "SPOT" : "ON_DEMAND"
  tags                   = var.tags
}

resource "aws_eks_addon" "this" {
  for_each = toset(var.addons)

  cluster_name                = aws_eks_cluster.this.name
  addon_name                  = each.key
  addon_version               = "v1.35.0-eksbuild.1"
  resolve_conflicts_on_create = "OVERWRITE"
  resolve_conflicts_on_update = "OVERWRITE"
  service_account_role_arn    = try(module.irsa[each.key].role_arn, null)
  tags                        = var.tags

  timeouts {
    create = "20m"
    update = "20m"
    delete = "20m"
  }

  depends_on = [module.node_group]
}

resource "aws_secretsmanager_secret" "app" {
  name                    = "bench/${var.cluster_name}/app"
  description             = "App credentials for ${var.cluster_name}"
  recovery_window_in_days = 7
  tags                    = var.tags
}

resource "aws_secretsmanager_secret_version" "app" {
  secret_id     = aws_secretsmanager_secret.app.id
  secret_string = jsonencode({ username = "app", password = var.app_password })
}
'''

EKS_VARS = '''variable "cluster_name" {
  type = string
}

variable "cluster_version" {
  type = string
}

variable "vpc_id" {
  type = string
}

variable "vpc_cidr" {
  type = string
}

variable "subnet_ids" {
  type = list(string)
}

variable "node_sg_ids" {
  type = list(string)
}

variable "addons" {
  type = list(string)
}

variable "node_groups" {
  type = list(string)
}

variable "app_password" {
  type      = string
  default   = null
  sensitive = true
}

variable "tags" {
  type    = map(string)
  default = {}
}
'''

EKS_OUT = '''output "cluster_name" {
  value = aws_eks_cluster.this.name
}

output "oidc_provider_arn" {
  value = aws_iam_openid_connect_provider.this.arn
}
'''

NG_MAIN = '''data "aws_iam_policy_document" "assume_role_policy" {
  statement {
    sid     = "EKSNodeAssumeRole"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

locals {
  node_group_name = "${var.cluster_name}-${var.name}"
}

resource "aws_iam_role" "this" {
  name                  = "${local.node_group_name}-node"
  description           = "EKS managed node group IAM role (${var.name})"
  assume_role_policy    = data.aws_iam_policy_document.assume_role_policy.json
  force_detach_policies = true
  tags                  = var.tags
}

resource "aws_iam_role_policy_attachment" "this" {
  for_each = toset(["AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"])

  role       = aws_iam_role.this.name
  policy_arn = "arn:aws:iam::aws:policy/${each.value}"
}

resource "aws_launch_template" "this" {
  name_prefix            = "${local.node_group_name}-"
  description            = "Custom launch template for ${local.node_group_name} EKS managed node group"
  update_default_version = true
  vpc_security_group_ids = var.vpc_security_group_ids

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size           = var.disk_size
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }

  metadata_options {
    http_endpoint               = "enabled"
    http_tokens                 = "required"
    http_put_response_hop_limit = 2
  }

  monitoring {
    enabled = true
  }

  tag_specifications {
    resource_type = "instance"
    tags          = merge(var.tags, { Name = local.node_group_name })
  }

  tags = var.tags

  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_eks_node_group" "this" {
  cluster_name    = var.cluster_name
  node_group_name = local.node_group_name
  node_role_arn   = aws_iam_role.this.arn
  subnet_ids      = var.subnet_ids
  version         = var.cluster_version
  ami_type        = "AL2023_x86_64_STANDARD"
  capacity_type   = var.capacity_type
  instance_types  = ["m6i.large", "m5.large"]
  labels          = { "workload-class" = var.name }

  launch_template {
    id      = aws_launch_template.this.id
    version = aws_launch_template.this.latest_version
  }

  scaling_config {
    desired_size = 3
    max_size     = 6
    min_size     = 1
  }

  update_config {
    max_unavailable_percentage = 33
  }

  dynamic "taint" {
    for_each = var.capacity_type == "SPOT" ? [1] : []
    content {
      key    = "spot"
      value  = "true"
      effect = "NO_SCHEDULE"
    }
  }

  tags = merge(var.tags, { Name = local.node_group_name })

  lifecycle {
    ignore_changes        = [scaling_config[0].desired_size]
    create_before_destroy = true
  }

  depends_on = [aws_iam_role_policy_attachment.this]
}
'''

NG_VARS = '''variable "cluster_name" {
  type = string
}

variable "cluster_version" {
  type = string
}

variable "name" {
  type = string
}

variable "subnet_ids" {
  type = list(string)
}

variable "vpc_security_group_ids" {
  type = list(string)
}

variable "capacity_type" {
  type    = string
  default = "ON_DEMAND"
}

variable "disk_size" {
  type    = number
  default = 100
}

variable "tags" {
  type    = map(string)
  default = {}
}
'''

IRSA_MAIN = '''data "aws_iam_policy_document" "assume_role" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [var.oidc_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${var.oidc_url}:sub"
      values   = ["system:serviceaccount:${var.service_account}"]
    }
  }
}

data "aws_iam_policy_document" "this" {
  statement {
    actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
  }
}

resource "aws_iam_role" "this" {
  name               = var.name
  description        = "IRSA role for ${var.service_account}"
  assume_role_policy = data.aws_iam_policy_document.assume_role.json
  tags               = var.tags
}

resource "aws_iam_policy" "this" {
  name        = var.name
  description = "extra permissions"
  policy      = data.aws_iam_policy_document.this.json
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "this" {
  role       = aws_iam_role.this.name
  policy_arn = aws_iam_policy.this.arn
}

resource "aws_iam_role_policy_attachment" "extra" {
  for_each   = toset([basename(var.managed_policy)])
  role       = aws_iam_role.this.name
  policy_arn = "arn:aws:iam::aws:policy/${var.managed_policy}"
}

output "role_arn" {
  value = aws_iam_role.this.arn
}
'''

IRSA_VARS = '''variable "name" {
  type = string
}

variable "oidc_arn" {
  type = string
}

variable "oidc_url" {
  type = string
}

variable "service_account" {
  type = string
}

variable "managed_policy" {
  type = string
}

variable "tags" {
  type    = map(string)
  default = {}
}
'''


def _hcl_value(v: Any, indent: int) -> str:
    pad = "  " * indent
    if isinstance(v, dict):
        if not v:
            return "{}"
        w = max(len(_hcl_key(k)) for k in v)
        inner = "\n".join(f"{pad}  {_hcl_key(k).ljust(w)} = {_hcl_value(x, indent + 1)}" for k, x in v.items())
        return "{\n" + inner + f"\n{pad}}}"
    if isinstance(v, list):
        return "[" + ", ".join(_hcl_value(x, indent) for x in v) + "]"
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    return json.dumps(v)


def _hcl_key(k: str) -> str:
    return k if k.replace("_", "").replace("-", "").isalnum() and not k[0].isdigit() and "-" not in k else json.dumps(k)


def _write(out: Path, rel: str, text: str, stats: GenStats) -> None:
    p = out / rel
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    stats.hcl_files += 1
    stats.hcl_lines += text.count("\n")
    stats.hcl_bytes += len(text.encode())


# ------------------------------------------------------------------------------------------------ driver
SERVICES_PER_FILE = 50
SERVICE_SHARE = 0.15  # part of the target made of explicit root resources (many HCL blocks, many files)


def generate(out: str | Path, target: int, *, seed: int = 0, hcl: bool = True) -> GenStats:
    """Write an estate of about `target` managed instances (exactly `target` when target ≥ ~150) to `out`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    ids = _Ids(seed)
    st = _State()
    secrets: list[str] = []
    networks: dict[str, Any] = {}
    clusters: dict[str, Any] = {}
    service_budget = max(8, int(target * SERVICE_SHARE))
    unit_budget = target - service_budget
    k = 0
    # network + cluster units while they fit (a unit is ~100-180 instances); each is built in a scratch state
    # and merged only if it fits, so the count never overshoots (a discarded unit still consumed ids: deterministic)
    while True:
        unit = _State()
        net = _network(unit, ids, rng, k)
        unit_secrets: list[str] = []
        cl = _cluster(unit, ids, rng, k, net, unit_secrets)
        if st.stats.managed + unit.stats.managed > unit_budget and k > 0:
            break
        st.merge(unit)
        secrets.extend(unit_secrets)
        networks[net["key"]] = net
        clusters[cl["key"]] = cl
        k += 1
    # explicit services (4 resources each) and CI users (2 each) fill the rest exactly
    team_files: dict[str, list[str]] = {}
    s = 0
    while st.stats.managed < target:
        team = f"team{s // SERVICES_PER_FILE:03d}"
        remaining = target - st.stats.managed
        blocks = team_files.setdefault(team, [])
        if s % SERVICES_PER_FILE == 0 and remaining >= 2 and remaining % 4 in (2, 3):
            blocks.extend(_ci_user(st, ids, team, secrets))
        elif remaining >= 4:
            blocks.extend(_service(st, ids, team, s))
            s += 1
        else:  # 1-3 left: single roles
            n = f"{team}_extra{st.stats.managed}"
            st.add("", "aws_iam_role", n, {
                "arn": _iam_arn(f"role/{n}"), "assume_role_policy": SVC_TRUST, "create_date": "2024-11-05T09:30:00Z",
                "description": "", "force_detach_policies": False, "id": n, "inline_policy": [], "managed_policy_arns": [],
                "max_session_duration": 3600, "name": n, "name_prefix": "", "path": "/", "permissions_boundary": "",
                **_tags({"Project": "bench"}), "unique_id": "AROA" + ids.upper(17)})
            blocks.append(f'resource "aws_iam_role" "{n}" {{\n  name               = "{n}"\n'
                          f'  assume_role_policy = data.aws_iam_policy_document.lambda_trust.json\n}}\n')
    # data sources Terraform keeps in state (one per module instance that declares them)
    st.add("", "aws_partition", "current", {"dns_suffix": "amazonaws.com", "id": "aws", "partition": "aws",
                                            "reverse_dns_prefix": "com.amazonaws"}, mode="data")
    for ck in clusters:
        st.add(f'module.eks["{ck}"]', "aws_iam_policy_document", "assume_role_policy",
               {"id": ids.hex(10), "json": TRUST_EKS}, mode="data")
    st.stats.networks, st.stats.clusters, st.stats.services = len(networks), len(clusters), s
    st.stats.resource_blocks = len(st.blocks)
    st.stats.secrets = secrets
    doc = st.document(seed)
    text = json.dumps(doc, indent=2)
    (out / "terraform.tfstate").write_text(text, encoding="utf-8")
    st.stats.state_bytes = len(text)
    if hcl:
        _write_hcl(out, networks, clusters, team_files, st.stats)
    return st.stats


def _write_hcl(out: Path, networks: dict[str, Any], clusters: dict[str, Any], team_files: dict[str, list[str]],
               stats: GenStats) -> None:
    _write(out, "versions.tf", ROOT_MAIN.split("\nprovider")[0] + "\n", stats)
    _write(out, "main.tf", "provider" + ROOT_MAIN.split("\nprovider", 1)[1], stats)
    _write(out, "variables.tf", ROOT_VARS, stats)
    tfvars_networks = {k: {"cidr": n["cidr"], "azs": n["azs"], "security_groups": n["security_groups"]}
                       for k, n in networks.items()}
    tfvars_clusters = {k: {"network": c["network"], "version": c["version"], "addons": c["addons"],
                           "node_groups": c["node_groups"]} for k, c in clusters.items()}
    _write(out, "terraform.tfvars", f"region = \"{REGION}\"\n\nnetworks = {_hcl_value(tfvars_networks, 0)}\n\n"
           f"clusters = {_hcl_value(tfvars_clusters, 0)}\n", stats)
    for team, blocks in sorted(team_files.items()):
        _write(out, f"team-{team}.tf", f"# Services of {team} (generated)\n\n" + "\n".join(blocks), stats)
    for rel, text in (("modules/vpc/main.tf", VPC_MAIN), ("modules/vpc/variables.tf", VPC_VARS),
                      ("modules/vpc/outputs.tf", VPC_OUT), ("modules/eks/main.tf", EKS_MAIN),
                      ("modules/eks/variables.tf", EKS_VARS), ("modules/eks/outputs.tf", EKS_OUT),
                      ("modules/eks/modules/node-group/main.tf", NG_MAIN),
                      ("modules/eks/modules/node-group/variables.tf", NG_VARS),
                      ("modules/irsa/main.tf", IRSA_MAIN), ("modules/irsa/variables.tf", IRSA_VARS)):
        _write(out, rel, text, stats)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.generate", description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=1000, help="target number of managed resource instances")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", required=True)
    ap.add_argument("--no-hcl", action="store_true")
    args = ap.parse_args(argv)
    stats = generate(args.out, args.size, seed=args.seed, hcl=not args.no_hcl)
    print(json.dumps({**stats.as_dict(), "out": os.path.abspath(args.out)}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
