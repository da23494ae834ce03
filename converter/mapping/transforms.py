"""Named value transforms that mappings/*.yaml refer to by name.

The YAML says *what* goes where; these functions hold the few conversions that are not a rename: the shape
AWS (and so ACK) uses differs from Terraform's (EKS logging split, EC2 IpPermissions aggregation, strings that
are booleans). Every transform returns a value equal to what the AWS API returns for the same resource,
because ACK writes any difference back to AWS.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from converter.model import ResourceInstance


@dataclass
class Context:
    """What a transform may look at besides the value: the instance the value came from and, for folded
    children, the parent instance (a `self = true` SG rule needs the parent's group id)."""

    inst: ResourceInstance
    parent: ResourceInstance | None = None


Transform = Callable[[Any, Context], Any]
TRANSFORMS: dict[str, Transform] = {}


def transform(name: str) -> Callable[[Transform], Transform]:
    def register(fn: Transform) -> Transform:
        TRANSFORMS[name] = fn
        return fn

    return register


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


@transform("list")
def _as_list(value: Any, ctx: Context) -> Any:
    if value is None or value == "":
        return None
    return value if isinstance(value, list) else [value]


@transform("int")
def _as_int(value: Any, ctx: Context) -> Any:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@transform("bool")
def _as_bool(value: Any, ctx: Context) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        return {"true": True, "false": False}.get(value.lower())
    return bool(value)


@transform("str")
def _as_str(value: Any, ctx: Context) -> Any:
    return None if value is None else str(value)


@transform("first")
def _first(value: Any, ctx: Context) -> Any:
    return value[0] if isinstance(value, list) and value else None


@transform("sorted")
def _sorted(value: Any, ctx: Context) -> Any:
    return sorted(value, key=str) if isinstance(value, list) else value


@transform("json_string")
def _json_string(value: Any, ctx: Context) -> Any:
    """Objects Terraform stores decoded (rare) back to a JSON string; strings pass unchanged (the state text is
    Terraform's normalised form of what AWS stores)."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


@transform("map_to_key_value")
def _map_to_kv(value: Any, ctx: Context) -> Any:
    if not isinstance(value, dict):
        return None
    return [{"key": k, "value": "" if v is None else str(v)} for k, v in sorted(value.items())]


# EKS DescribeCluster returns logging as an enabled entry and a disabled entry; ACK compares with DeepEqual.
EKS_LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")


@transform("eks_logging")
def _eks_logging(value: Any, ctx: Context) -> Any:
    enabled = [t for t in EKS_LOG_TYPES if t in (value or [])]
    disabled = [t for t in EKS_LOG_TYPES if t not in enabled]
    entries = []
    if enabled:
        entries.append({"enabled": True, "types": enabled})
    if disabled:
        entries.append({"enabled": False, "types": disabled})
    return {"clusterLogging": entries}


@transform("addon_resolve_conflicts")
def _addon_resolve_conflicts(value: Any, ctx: Context) -> Any:
    """ACK has one `resolveConflicts`; Terraform splits it into on_create/on_update. The update one is what
    an adopted addon would be reconciled with."""
    a = ctx.inst.attributes
    return a.get("resolve_conflicts_on_update") or a.get("resolve_conflicts") or None


# ---------------------------------------------------------------------------------------------------------
# Security group rules: three Terraform styles → EC2 IpPermission (ACK's ingressRules/egressRules items).


def _ports(proto: str, from_port: Any, to_port: Any) -> dict[str, Any]:
    if proto in ("-1", "all"):
        return {}
    out: dict[str, Any] = {}
    if from_port is not None:
        out["fromPort"] = int(from_port)
    if to_port is not None:
        out["toPort"] = int(to_port)
    return out


def _protocol(value: Any) -> str:
    p = str(value if value is not None else "-1").lower()
    return {"all": "-1", "tcp": "tcp", "udp": "udp", "icmp": "icmp", "icmpv6": "icmpv6", "6": "tcp", "17": "udp", "1": "icmp"}.get(
        p, p
    )


def _grant_fields(desc: Any) -> dict[str, Any]:
    return {"description": desc} if desc else {}


def sg_permission_from_block(rule: dict[str, Any], own_group_id: str | None) -> dict[str, Any]:
    """An inline `ingress {}` block or an `aws_security_group_rule` → one IpPermission (not yet aggregated)."""
    proto = _protocol(rule.get("protocol"))
    perm: dict[str, Any] = {"ipProtocol": proto, **_ports(proto, rule.get("from_port"), rule.get("to_port"))}
    desc = rule.get("description") or None
    ip = [{"cidrIP": c, **_grant_fields(desc)} for c in rule.get("cidr_blocks") or []]
    ip6 = [{"cidrIPv6": c, **_grant_fields(desc)} for c in rule.get("ipv6_cidr_blocks") or []]
    pl = [{"prefixListID": c, **_grant_fields(desc)} for c in rule.get("prefix_list_ids") or []]
    groups = list(rule.get("security_groups") or [])
    src = rule.get("source_security_group_id")
    if src:
        groups.append(src)
    if rule.get("self") and own_group_id:
        groups.append(own_group_id)
    pairs = [_pair(g, desc) for g in groups]
    for key, val in (("ipRanges", ip), ("ipv6Ranges", ip6), ("prefixListIDs", pl), ("userIDGroupPairs", pairs)):
        if val:
            perm[key] = val
    return perm


def _pair(group: str, desc: Any) -> dict[str, Any]:
    # `123456789012/sg-0abc` (cross-account, as Terraform writes it) → userID + groupID
    if "/" in group:
        user, gid = group.split("/", 1)
        return {"groupID": gid, "userID": user, **_grant_fields(desc)}
    return {"groupID": group, **_grant_fields(desc)}


@transform("sg_rule")
def _sg_rule(value: Any, ctx: Context) -> Any:
    """aws_security_group_rule (whole instance) → IpPermission; `self` resolves to the parent group id."""
    own = (ctx.parent.attributes.get("id") if ctx.parent else None) or ctx.inst.attributes.get("security_group_id")
    return sg_permission_from_block(ctx.inst.attributes, own)


@transform("sg_inline_rules")
def _sg_inline_rules(value: Any, ctx: Context) -> Any:
    """The SG's own `ingress`/`egress` attribute (list of rule blocks) → IpPermissions."""
    if not isinstance(value, list):
        return None
    own = ctx.inst.attributes.get("id")
    return [sg_permission_from_block(r, own) for r in value if isinstance(r, dict)]


@transform("sg_vpc_rule")
def _sg_vpc_rule(value: Any, ctx: Context) -> Any:
    """aws_vpc_security_group_{ingress,egress}_rule (one grant per resource) → IpPermission."""
    a = ctx.inst.attributes
    proto = _protocol(a.get("ip_protocol"))
    perm: dict[str, Any] = {"ipProtocol": proto, **_ports(proto, a.get("from_port"), a.get("to_port"))}
    desc = a.get("description") or None
    if a.get("cidr_ipv4"):
        perm["ipRanges"] = [{"cidrIP": a["cidr_ipv4"], **_grant_fields(desc)}]
    elif a.get("cidr_ipv6"):
        perm["ipv6Ranges"] = [{"cidrIPv6": a["cidr_ipv6"], **_grant_fields(desc)}]
    elif a.get("prefix_list_id"):
        perm["prefixListIDs"] = [{"prefixListID": a["prefix_list_id"], **_grant_fields(desc)}]
    elif a.get("referenced_security_group_id"):
        perm["userIDGroupPairs"] = [_pair(a["referenced_security_group_id"], desc)]
    return perm


_GRANT_KEYS = ("ipRanges", "ipv6Ranges", "prefixListIDs", "userIDGroupPairs")


def aggregate_permissions(perms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Merge permissions with the same (protocol, fromPort, toPort) the way EC2's IpPermissions groups them,
    de-duplicating grants (a rule can appear both inline in the SG's refreshed state and as its own resource)."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for p in perms:
        key = (p.get("ipProtocol"), p.get("fromPort"), p.get("toPort"))
        agg = groups.setdefault(key, {k: v for k, v in p.items() if k not in _GRANT_KEYS})
        for gk in _GRANT_KEYS:
            for grant in p.get(gk) or []:
                lst = agg.setdefault(gk, [])
                if grant not in lst:
                    # same target with and without description: keep the one with a description
                    same = [g for g in lst if {k: v for k, v in g.items() if k != "description"}
                            == {k: v for k, v in grant.items() if k != "description"}]
                    if same:
                        if "description" in grant and "description" not in same[0]:
                            lst[lst.index(same[0])] = grant
                        continue
                    lst.append(grant)
    out = []
    for key in sorted(groups, key=lambda k: (str(k[0]), k[1] if k[1] is not None else -2, k[2] if k[2] is not None else -2)):
        perm = groups[key]
        for gk in _GRANT_KEYS:
            if gk in perm:
                perm[gk] = sorted(perm[gk], key=lambda g: json.dumps(g, sort_keys=True))
        out.append(perm)
    return out


# Post-processors run on a parent's finished spec (after folding) — named in the mapping's `post:` list.
POST: dict[str, Callable[[dict[str, Any]], None]] = {}


def post(name: str) -> Callable[[Callable[[dict[str, Any]], None]], Callable[[dict[str, Any]], None]]:
    def register(fn: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
        POST[name] = fn
        return fn

    return register


@post("sg_aggregate_rules")
def _post_sg(spec: dict[str, Any]) -> None:
    for field in ("ingressRules", "egressRules"):
        if isinstance(spec.get(field), list):
            spec[field] = aggregate_permissions(spec[field])


@post("dedupe_lists")
def _post_dedupe(spec: dict[str, Any]) -> None:
    """Folded list fields (policies, routeTables, cidrBlocks) keep first occurrence order, no duplicates."""
    for key, value in spec.items():
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            seen: list[str] = []
            for v in value:
                if v not in seen:
                    seen.append(v)
            spec[key] = seen


@post("sort_routes")
def _post_routes(spec: dict[str, Any]) -> None:
    routes = spec.get("routes")
    if isinstance(routes, list):
        uniq = []
        for r in routes:
            if r not in uniq:
                uniq.append(r)
        spec["routes"] = sorted(uniq, key=lambda r: json.dumps(r, sort_keys=True))


# ---------------------------------------------------------------------------------------------------------
# Network ACL entries: AWS returns protocol numbers as strings and ports in a PortRange object.
_PROTO_NUMBERS = {"all": "-1", "-1": "-1", "tcp": "6", "udp": "17", "icmp": "1", "icmpv6": "58"}


def _nacl_entry(rule: dict[str, Any], egress: bool) -> dict[str, Any]:
    proto = _PROTO_NUMBERS.get(str(rule.get("protocol", "-1")).lower(), str(rule.get("protocol")))
    entry: dict[str, Any] = {
        "egress": egress,
        "protocol": proto,
        "ruleAction": str(rule.get("action") or rule.get("rule_action") or "").lower(),
        "ruleNumber": int(rule.get("rule_no") or rule.get("rule_number") or 0),
    }
    if rule.get("cidr_block"):
        entry["cidrBlock"] = rule["cidr_block"]
    if rule.get("ipv6_cidr_block"):
        entry["ipv6CIDRBlock"] = rule["ipv6_cidr_block"]
    if proto in ("6", "17"):
        entry["portRange"] = {"from": int(rule.get("from_port") or 0), "to": int(rule.get("to_port") or 0)}
    if proto in ("1", "58"):
        entry["icmpTypeCode"] = {"type_": int(rule.get("icmp_type") or 0), "code": int(rule.get("icmp_code") or 0)}
    return entry


@transform("nacl_inline_entries")
def _nacl_inline(value: Any, ctx: Context) -> Any:
    a = ctx.inst.attributes
    out = [_nacl_entry(r, False) for r in a.get("ingress") or [] if isinstance(r, dict)]
    out += [_nacl_entry(r, True) for r in a.get("egress") or [] if isinstance(r, dict)]
    return out


@transform("nacl_rule")
def _nacl_rule(value: Any, ctx: Context) -> Any:
    return _nacl_entry(ctx.inst.attributes, bool(ctx.inst.attributes.get("egress")))


@post("sort_nacl_entries")
def _post_nacl(spec: dict[str, Any]) -> None:
    entries = spec.get("entries")
    if isinstance(entries, list):
        uniq = []
        for e in entries:
            if e not in uniq:
                uniq.append(e)
        spec["entries"] = sorted(uniq, key=lambda e: (e.get("egress", False), e.get("ruleNumber", 0)))


@transform("flow_log_resource_type")
def _flow_log_type(value: Any, ctx: Context) -> Any:
    a = ctx.inst.attributes
    for attr, kind in (("vpc_id", "VPC"), ("subnet_id", "Subnet"), ("eni_id", "NetworkInterface"),
                       ("transit_gateway_id", "TransitGateway"), ("transit_gateway_attachment_id", "TransitGatewayAttachment")):
        if a.get(attr):
            return kind
    return None


@transform("dhcp_configurations")
def _dhcp(value: Any, ctx: Context) -> Any:
    a = ctx.inst.attributes
    out = []
    for attr, key in (("domain_name", "domain-name"), ("domain_name_servers", "domain-name-servers"),
                      ("ntp_servers", "ntp-servers"), ("netbios_name_servers", "netbios-name-servers"),
                      ("netbios_node_type", "netbios-node-type")):
        v = a.get(attr)
        if v:
            out.append({"key": key, "values": v if isinstance(v, list) else [str(v)]})
    return out


@transform("desired_size_manager")
def _desired_size_manager(value: Any, ctx: Context) -> Any:
    """`value` is the node group's lifecycle.ignore_changes list, or None when no HCL was given.

    Without HCL we cannot tell whether an autoscaler owns desired_size; telling ACK to leave it alone is the
    choice that cannot fight a cluster autoscaler (reference/ack.md §2.1)."""
    if value is None:
        return "external-autoscaler"
    for entry in value:
        e = str(entry).replace(" ", "")
        if e in ("all", "scaling_config", "scaling_config[0]") or "desired_size" in e:
            return "external-autoscaler"
    return None


@post("sort_access_policies")
def _post_access_policies(spec: dict[str, Any]) -> None:
    pols = spec.get("accessPolicies")
    if isinstance(pols, list):
        spec["accessPolicies"] = sorted(pols, key=lambda p: json.dumps(p, sort_keys=True))


@transform("name_policy_map")
def _name_policy_map(value: Any, ctx: Context) -> Any:
    """Role `inline_policy` blocks ([{name, policy}]) → {name: policy}; the empty placeholder block Terraform
    writes when there are none is dropped."""
    if not isinstance(value, list):
        return None
    return {str(b["name"]): b.get("policy") for b in sorted(value, key=lambda b: str(b.get("name")))
            if isinstance(b, dict) and b.get("name")}
