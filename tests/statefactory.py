"""Build small, realistic tfstate v4 documents in tests (attribute names as the hashicorp/aws provider
writes them), so each test states exactly the input it exercises."""

from __future__ import annotations

import json
from typing import Any

AWS = 'provider["registry.terraform.io/hashicorp/aws"]'


def resource(rtype: str, name: str, attrs: Any, *, module: str = "", mode: str = "managed", deps: list[str] | None = None,
             index_keys: list[Any] | None = None, sensitive: list[list[str]] | None = None, provider: str = AWS,
             schema_version: int = 0) -> dict[str, Any]:
    """One state resource; `attrs` is one attribute dict, or a list of them together with `index_keys`."""
    attr_list = attrs if isinstance(attrs, list) else [attrs]
    keys = index_keys if index_keys is not None else [None] * len(attr_list)
    instances = []
    for key, a in zip(keys, attr_list, strict=True):
        inst: dict[str, Any] = {"schema_version": schema_version, "attributes": a,
                                "sensitive_attributes": [[{"type": "get_attr", "value": s} for s in path] for path in (sensitive or [])]}
        if key is not None:
            inst["index_key"] = key
        if deps:
            inst["dependencies"] = deps
        instances.append(inst)
    res: dict[str, Any] = {"mode": mode, "type": rtype, "name": name, "provider": provider, "instances": instances}
    if module:
        res["module"] = module
    return res


def state(*resources: dict[str, Any], outputs: dict[str, Any] | None = None) -> str:
    return json.dumps({"version": 4, "terraform_version": "1.9.8", "serial": 7, "lineage": "0c0ffee0-test",
                       "outputs": outputs or {}, "resources": list(resources), "check_results": None})


TAGS = {"Name": "main", "Environment": "test"}


def vpc(**over: Any) -> dict[str, Any]:
    a = {"id": "vpc-0a1b2c3d4e5f60718", "arn": "arn:aws:ec2:eu-west-1:111122223333:vpc/vpc-0a1b2c3d4e5f60718",
         "cidr_block": "10.0.0.0/16", "enable_dns_support": True, "enable_dns_hostnames": True,
         "enable_network_address_usage_metrics": False, "instance_tenancy": "default", "ipv6_cidr_block": "",
         "assign_generated_ipv6_cidr_block": False, "owner_id": "111122223333",
         "tags": {"Name": "main"}, "tags_all": dict(TAGS)}
    a.update(over)
    return a


def subnet(i: int, **over: Any) -> dict[str, Any]:
    a = {"id": f"subnet-0{i}aaaaaaaaaaaaaa", "arn": f"arn:aws:ec2:eu-west-1:111122223333:subnet/subnet-0{i}aaaaaaaaaaaaaa",
         "vpc_id": "vpc-0a1b2c3d4e5f60718", "cidr_block": f"10.0.{i}.0/24", "availability_zone": f"eu-west-1{'abc'[i % 3]}",
         "availability_zone_id": f"euw1-az{i % 3 + 1}", "map_public_ip_on_launch": False, "assign_ipv6_address_on_creation": False,
         "ipv6_cidr_block": "", "ipv6_native": False, "enable_dns64": False, "tags": {}, "tags_all": dict(TAGS)}
    a.update(over)
    return a


def security_group(**over: Any) -> dict[str, Any]:
    a = {"id": "sg-0123456789abcdef0", "arn": "arn:aws:ec2:eu-west-1:111122223333:security-group/sg-0123456789abcdef0",
         "name": "nodes", "description": "Managed by Terraform", "vpc_id": "vpc-0a1b2c3d4e5f60718",
         "ingress": [], "egress": [], "tags": {}, "tags_all": dict(TAGS), "revoke_rules_on_delete": False}
    a.update(over)
    return a
