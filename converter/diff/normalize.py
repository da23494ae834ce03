"""Named normalisers for `tf2kro diff`, referred to by name from the `describe:` blocks in mappings/*.yaml.

A `describe.spec` / `describe.state` entry says where a field's live value is in the AWS response item (a JMESPath
expression) and which normalisers make the two sides comparable:

    ingressRules: {from: IpPermissions, normalize: [sg_rules]}      # live value → ACK shape
    assumeRolePolicyDocument: {from: AssumeRolePolicyDocument, compare: [policy_json]}   # both sides
    url: {from: Url, compare: [strip_scheme]}

`normalize` runs on the live value only, `expect` on the rendered/state value only, `compare` on both. After them
`canonical()` drops empty values (AWS returns `[]`/`""`/`null` for what Terraform and ACK leave out) on both
sides; lists are compared as sets (DeepDiff ignore_order) unless the entry says `ordered: true`.

Every normaliser is total: it never raises on an unexpected shape, it returns the value unchanged, so a shape it
does not know shows up as a difference (a false positive the user can see) rather than a silent match.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from converter.mapping.transforms import aggregate_permissions


@dataclass
class NormContext:
    """What a normaliser may look at besides the value: the live item (e.g. the SG's OwnerId) and the estate."""

    item: dict[str, Any] = field(default_factory=dict)
    account_id: str | None = None
    region: str | None = None


Normaliser = Callable[[Any, NormContext], Any]
NORMALISERS: dict[str, Normaliser] = {}


def normaliser(name: str) -> Callable[[Normaliser], Normaliser]:
    def register(fn: Normaliser) -> Normaliser:
        NORMALISERS[name] = fn
        return fn

    return register


def apply(names: list[str] | tuple[str, ...], value: Any, ctx: NormContext) -> Any:
    for n in names:
        value = NORMALISERS[n](value, ctx)
    return value


def canonical(value: Any) -> Any:
    """Drop None / "" / [] / {} recursively (AWS defaults vs omitted fields); keep False and 0."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            c = canonical(v)
            if c is not None and c != "" and c != [] and c != {}:
                out[k] = c
        return out
    if isinstance(value, list):
        return [c for c in (canonical(v) for v in value) if c is not None and c != "" and c != [] and c != {}]
    return value


# ------------------------------------------------------------------------------------------------- scalars
@normaliser("str")
def _str(value: Any, ctx: NormContext) -> Any:
    if value is None or isinstance(value, (dict, list)):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@normaliser("int")
def _int(value: Any, ctx: NormContext) -> Any:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return value


@normaliser("bool")
def _bool(value: Any, ctx: NormContext) -> Any:
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


@normaliser("false_if_missing")
def _false_if_missing(value: Any, ctx: NormContext) -> Any:
    return False if value is None else value


@normaliser("lower")
def _lower(value: Any, ctx: NormContext) -> Any:
    return value.lower() if isinstance(value, str) else value


@normaliser("first")
def _first(value: Any, ctx: NormContext) -> Any:
    if isinstance(value, list):
        return value[0] if value else None
    return value


@normaliser("list")
def _list(value: Any, ctx: NormContext) -> Any:
    if value is None or value == "":
        return None
    return value if isinstance(value, list) else [value]


@normaliser("sorted")
def _sorted(value: Any, ctx: NormContext) -> Any:
    if isinstance(value, list):
        return sorted(value, key=lambda v: json.dumps(v, sort_keys=True, default=str))
    return value


@normaliser("strip_scheme")
def _strip_scheme(value: Any, ctx: NormContext) -> Any:
    if isinstance(value, str):
        return re.sub(r"^https?://", "", value).rstrip("/")
    if isinstance(value, list):
        return [_strip_scheme(v, ctx) for v in value]
    return value


@normaliser("arn_name")
def _arn_name(value: Any, ctx: NormContext) -> Any:
    """`arn:aws:iam::1:role/path/x` → `x`; names pass unchanged (ARNs vs names compare equal)."""
    if isinstance(value, list):
        return [_arn_name(v, ctx) for v in value]
    if isinstance(value, str) and value.startswith("arn:"):
        return value.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
    return value


@normaliser("kms_key_id")
def _kms_key_id(value: Any, ctx: NormContext) -> Any:
    """A KMS key ARN or id → the key id (alias ARNs/names pass unchanged)."""
    if isinstance(value, str) and value.startswith("arn:") and ":key/" in value:
        return value.split(":key/", 1)[1]
    return value


# ------------------------------------------------------------------------------------------------- tags
_TAG_KEYS = (("Key", "Value"), ("key", "value"), ("TagKey", "TagValue"), ("tagKey", "tagValue"))


def tags_to_map(value: Any) -> dict[str, str] | Any:
    """Any tag shape AWS or ACK uses (list of {Key,Value}/{key,value}/{TagKey,TagValue}/{tagKey,tagValue}, or a
    map) → {key: value}, without AWS-owned `aws:*` keys (ACK never writes them)."""
    if value is None:
        return {}
    items: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        for t in value:
            if not isinstance(t, dict):
                return value
            for k, v in _TAG_KEYS:
                if k in t:
                    items.append((t[k], t.get(v)))
                    break
            else:
                return value
    else:
        return value
    return {str(k): "" if v is None else str(v) for k, v in sorted(items) if not str(k).startswith("aws:")}


@normaliser("tags")
def _tags(value: Any, ctx: NormContext) -> Any:
    return tags_to_map(value)


# ------------------------------------------------------------------------------------------------- JSON policy documents
def parse_json_doc(value: Any) -> Any:
    """A policy document as AWS or Terraform hold it: a dict (boto3 decodes IAM documents), a JSON string, or a
    URL-encoded JSON string (IAM's wire form) → the parsed document; anything else unchanged."""
    if isinstance(value, (dict, list)):
        return value
    if not isinstance(value, str) or not value.strip():
        return value
    text = value.strip()
    for candidate in (text, urllib.parse.unquote(text)):
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    return value


_LISTY = {"Action", "NotAction", "Resource", "NotResource"}


def _canon_policy(node: Any, key: str | None = None) -> Any:
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "Sid" and v == "":
                continue
            if k == "Principal" and isinstance(v, dict):
                out[k] = {pk: sorted(pv) if isinstance(pv, list) else [pv] for pk, pv in v.items()}
                out[k] = {pk: pv[0] if len(pv) == 1 else pv for pk, pv in out[k].items()}
                continue
            if k == "Condition" and isinstance(v, dict):
                out[k] = {op: {ck: (sorted(cv)[0] if len(cv) == 1 else sorted(cv)) if isinstance(cv, list) else cv
                               for ck, cv in (body or {}).items()} if isinstance(body, dict) else body
                          for op, body in v.items()}
                continue
            out[k] = _canon_policy(v, k)
        return out
    if isinstance(node, list):
        items = [_canon_policy(v) for v in node]
        if key in _LISTY:
            items = sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
            return items[0] if len(items) == 1 else items
        if key == "Statement":
            return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
        return items
    return node


@normaliser("policy_json")
def _policy_json(value: Any, ctx: NormContext) -> Any:
    """IAM-style JSON policy: parsed (URL-decoded if needed), single-element lists == scalars, statements and
    action/resource lists as sets, empty Sid dropped — the equivalence IAM itself applies."""
    doc = parse_json_doc(value)
    if isinstance(doc, dict) and isinstance(doc.get("Statement"), dict):
        doc = dict(doc, Statement=[doc["Statement"]])
    return _canon_policy(doc)


def _policy_pairs(value: Any) -> list[tuple[Any, Any]] | None:
    """(name, document) pairs of inline policies in either shape: [{PolicyName, PolicyDocument}] (IAM) or
    {name: document} / [{name, policy}] (ACK); None when the value is neither (compared as it is)."""
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, list):
        pairs: list[tuple[Any, Any]] = []
        for p in value:
            if isinstance(p, dict) and "PolicyName" in p:
                pairs.append((p["PolicyName"], p.get("PolicyDocument")))
            elif isinstance(p, dict) and "name" in p:
                pairs.append((p["name"], p.get("policy")))
        return pairs
    return None


@normaliser("policy_map")
def _policy_map(value: Any, ctx: NormContext) -> Any:
    """Inline policies: [{PolicyName, PolicyDocument}] (IAM) or {name: document} (ACK) → {name: canonical doc}."""
    pairs = _policy_pairs(value)
    if pairs is None:
        return {} if value is None else value
    return {str(k): _policy_json(v, ctx) for k, v in sorted(pairs, key=lambda kv: str(kv[0])) if k}


def policy_text(value: Any) -> Any:
    """A policy document as the text iam-controller compares (GetRolePolicy's document, URL-decoded:
    role/hooks.go getInlinePolicies → decodeDocument), as far as it can be seen: boto3 hands IAM documents over
    already parsed (botocore's json_decode_policies), key order kept but whitespace gone. So both sides become their
    compact JSON in their own key order: a different key order, value or list order is a difference (the controller
    sees it too); whitespace alone is not visible. Text that is not JSON is compared as it is."""
    if isinstance(value, str):
        text = value
        if text.lstrip()[:3].upper() == "%7B":
            text = urllib.parse.unquote(text)
        try:
            parsed = json.loads(text)
        except ValueError:
            return text
        return json.dumps(parsed, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return value


@normaliser("policy_map_exact")
def _policy_map_exact(value: Any, ctx: NormContext) -> Any:
    """Inline policies as iam-controller compares them (delta.go `MapStringStringPEqual`: byte-exact text per name):
    [{PolicyName, PolicyDocument}] (IAM) or {name: text} (ACK) → {name: exact text}. Key order matters."""
    pairs = _policy_pairs(value)
    if pairs is None:
        return {} if value is None else value
    return {str(k): policy_text(v) for k, v in sorted(pairs, key=lambda kv: str(kv[0])) if k}


# ------------------------------------------------------------------------------------------------- AWS → ACK key names
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+[0-9]*|[A-Z]+[0-9]*|[0-9]+")
_INITIALISMS = {"Id": "ID", "Ids": "IDs", "Ip": "IP", "Ips": "IPs", "Cidr": "CIDR", "Arn": "ARN", "Arns": "ARNs",
                "Dns": "DNS", "Dns64": "DNS64", "Ipv6": "IPv6", "Ipv4": "IPv4", "Url": "URL", "Vpc": "VPC", "Kms": "KMS"}


def ack_name(aws_name: str) -> str:
    """EC2/EKS PascalCase member name → the ACK CRD field name (`CidrIpv6` → `cidrIPv6`, `UserIdGroupPairs` →
    `userIDGroupPairs`, `DestinationCidrBlock` → `destinationCIDRBlock`)."""
    words = _WORD.findall(aws_name)
    if not words:
        return aws_name
    return words[0].lower() + "".join(_INITIALISMS.get(w, w) for w in words[1:])


def ack_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {ack_name(k): ack_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [ack_keys(v) for v in value]
    return value


@normaliser("ack_keys")
def _ack_keys(value: Any, ctx: NormContext) -> Any:
    return ack_keys(value)


# ------------------------------------------------------------------------------------------------- EC2 shapes
_PROTO = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "all": "-1"}


def _canon_perm(p: dict[str, Any], owner: str | None) -> dict[str, Any]:
    p = canonical(ack_keys(p)) if any(k[:1].isupper() for k in p) else canonical(p)
    proto = str(p.get("ipProtocol", "-1")).lower()
    proto = _PROTO.get(proto, proto)
    out = {k: v for k, v in p.items() if k not in ("fromPort", "toPort", "ipProtocol")}
    out["ipProtocol"] = proto
    if proto != "-1":
        for k in ("fromPort", "toPort"):
            if k in p:
                out[k] = int(p[k])
    pairs = []
    for pair in out.get("userIDGroupPairs") or []:
        pair = dict(pair)
        if owner and pair.get("userID") == owner:
            pair.pop("userID")
        for k in ("groupName", "vpcID", "peeringStatus", "vpcPeeringConnectionID"):
            pair.pop(k, None)
        pairs.append(pair)
    if pairs:
        out["userIDGroupPairs"] = pairs
    return out


@normaliser("sg_rules")
def _sg_rules(value: Any, ctx: NormContext) -> Any:
    """EC2 IpPermissions (AWS or ACK key names) → ACK ingressRules/egressRules in EC2's aggregated form: one
    permission per (protocol, ports), grants as sets, no ports for protocol -1, own-account userID dropped."""
    if not isinstance(value, list):
        return value
    owner = ctx.item.get("OwnerId") or ctx.account_id
    perms = [_canon_perm(p, owner) for p in value if isinstance(p, dict)]
    return aggregate_permissions(perms)


@normaliser("tf_sg_rules")
def _tf_sg_rules(value: Any, ctx: NormContext) -> Any:
    """Terraform `ingress`/`egress` blocks of aws_security_group (state) → the same form as `sg_rules`."""
    from converter.mapping.transforms import sg_permission_from_block

    if not isinstance(value, list):
        return value
    own = ctx.item.get("GroupId")
    return _sg_rules([sg_permission_from_block(r, own) for r in value if isinstance(r, dict)], ctx)


_ROUTE_DROP = ("origin", "state", "instanceOwnerID", "instanceID")


@normaliser("ec2_routes")
def _ec2_routes(value: Any, ctx: NormContext) -> Any:
    """DescribeRouteTables Routes → ACK RouteTable.routes: the `local` route and AWS-owned gateway-endpoint
    prefix-list routes are dropped (ACK ignores them); VGW-propagated routes are kept (ACK would remove them)."""
    if not isinstance(value, list):
        return value
    out = []
    for r in value:
        if not isinstance(r, dict):
            continue
        r = ack_keys(r) if any(k[:1].isupper() for k in r) else dict(r)
        if r.get("gatewayID") == "local":
            continue
        if r.get("destinationPrefixListID") and str(r.get("gatewayID", "")).startswith("vpce-"):
            continue
        if r.get("origin") == "CreateRouteTable":
            continue
        out.append(canonical({k: v for k, v in r.items() if k not in _ROUTE_DROP}))
    return out


@normaliser("tf_routes")
def _tf_routes(value: Any, ctx: NormContext) -> Any:
    """Terraform aws_route_table `route` blocks (state) → the same form as `ec2_routes`."""
    if not isinstance(value, list):
        return value
    names = {"cidr_block": "destinationCIDRBlock", "ipv6_cidr_block": "destinationIPv6CIDRBlock",
             "destination_prefix_list_id": "destinationPrefixListID", "gateway_id": "gatewayID",
             "nat_gateway_id": "natGatewayID", "transit_gateway_id": "transitGatewayID", "vpc_endpoint_id": "gatewayID",
             "vpc_peering_connection_id": "vpcPeeringConnectionID", "network_interface_id": "networkInterfaceID",
             "egress_only_gateway_id": "egressOnlyInternetGatewayID", "carrier_gateway_id": "carrierGatewayID",
             "core_network_arn": "coreNetworkARN", "local_gateway_id": "localGatewayID"}
    return [canonical({names[k]: v for k, v in r.items() if k in names and v not in (None, "")})
            for r in value if isinstance(r, dict)]


@normaliser("vpce_gateway_id")
def _vpce_gateway_id(value: Any, ctx: NormContext) -> Any:
    """ACK routes write a gateway VPC endpoint as vpcEndpointID; EC2 returns it as GatewayId."""
    if not isinstance(value, list):
        return value
    out = []
    for r in value:
        if isinstance(r, dict) and "vpcEndpointID" in r and "gatewayID" not in r:
            r = dict(r)
            r["gatewayID"] = r.pop("vpcEndpointID")
        out.append(r)
    return out


# ------------------------------------------------------------------------------------------------- EKS shapes
@normaliser("eks_logging")
def _eks_logging(value: Any, ctx: NormContext) -> Any:
    """EKS logging ({clusterLogging: [{types, enabled}]}, either key case) → the sorted list of enabled types."""
    if isinstance(value, dict):
        entries = value.get("clusterLogging") or value.get("ClusterLogging") or []
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        return sorted(value)
    else:
        entries = value or []
    enabled: set[str] = set()
    for e in entries if isinstance(entries, list) else []:
        if isinstance(e, dict) and e.get("enabled"):
            enabled.update(e.get("types") or [])
    return sorted(enabled)


@normaliser("eks_access_policies")
def _eks_access_policies(value: Any, ctx: NormContext) -> Any:
    """ListAssociatedAccessPolicies `associatedAccessPolicies` ({policyArn, accessScope, associatedAt, …}) or ACK
    AccessEntry.accessPolicies ({policyARN, accessScope}) → [{policyARN, accessScope: {type, namespaces (sorted)}}]
    (timestamps dropped)."""
    if not isinstance(value, list):
        return value
    out = []
    for p in value:
        if not isinstance(p, dict):
            return value
        scope = p.get("accessScope")
        if isinstance(scope, dict):
            ns = scope.get("namespaces")
            scope = {"type": scope.get("type"), "namespaces": sorted(ns) if isinstance(ns, list) else ns}
        out.append(canonical({"policyARN": p.get("policyARN", p.get("policyArn")), "accessScope": scope}))
    return out


@normaliser("slr_service_name")
def _slr_service_name(value: Any, ctx: NormContext) -> Any:
    """A service-linked role's path `/aws-service-role/<service>/` → `<service>` (as Terraform reads
    aws_service_name from the role ARN); other paths pass unchanged."""
    if isinstance(value, str):
        parts = value.split("/")
        if len(parts) == 4 and parts[1] == "aws-service-role" and parts[0] == parts[3] == "":
            return parts[2]
    return value


@normaliser("slr_custom_suffix")
def _slr_custom_suffix(value: Any, ctx: NormContext) -> Any:
    """A service-linked role name `AWSServiceRoleForX_suffix` → `suffix`, None without one — Terraform's rule
    (exactly one `_`)."""
    if isinstance(value, str):
        parts = value.split("_")
        return parts[1] if len(parts) == 2 else None
    return value


@normaliser("acm_sans")
def _acm_sans(value: Any, ctx: NormContext) -> Any:
    """DescribeCertificate SubjectAlternativeNames always include the DomainName; Terraform (and the rendered
    spec) keep only the other names."""
    if isinstance(value, list):
        return [v for v in value if v != ctx.item.get("DomainName")]
    return value


@normaliser("dhcp_configurations")
def _dhcp_configurations(value: Any, ctx: NormContext) -> Any:
    """DescribeDhcpOptions DhcpConfigurations ([{Key, Values: [{Value}]}]) or ACK DHCPOptions.dhcpConfigurations
    ([{key, values}]) → [{key, values}] sorted by key; the order of the values is kept (DNS server order
    matters)."""
    if not isinstance(value, list):
        return value
    out = []
    for c in value:
        if not isinstance(c, dict):
            return value
        vals = c.get("values", c.get("Values"))
        vals = [v.get("Value") if isinstance(v, dict) else v for v in vals] if isinstance(vals, list) else vals
        out.append({"key": c.get("key", c.get("Key")), "values": vals})
    return sorted(out, key=lambda c: str(c["key"]))


@normaliser("nacl_entries")
def _nacl_entries(value: Any, ctx: NormContext) -> Any:
    """DescribeNetworkAcls Entries → ACK NetworkACL.entries (the AWS-owned default deny rule 32767 dropped)."""
    if not isinstance(value, list):
        return value
    out = []
    for e in value:
        if not isinstance(e, dict):
            continue
        e = ack_keys(e) if any(k[:1].isupper() for k in e) else dict(e)
        if e.get("ruleNumber") == 32767:
            continue
        itc = e.get("icmpTypeCode")
        if isinstance(itc, dict) and "type" in itc:
            itc = dict(itc)
            itc["type_"] = itc.pop("type")
            e["icmpTypeCode"] = itc
        out.append(canonical(e))
    return out


@normaliser("json_doc")
def _json_doc(value: Any, ctx: NormContext) -> Any:
    """Any JSON document (string, URL-encoded string or parsed) → parsed, for non-IAM JSON fields."""
    return parse_json_doc(value)


def format_path(prefix: str, steps: list[Any]) -> str:
    """`prefix` + deepdiff path steps as a readable path: `ingress[0].cidr_blocks`, `tags["kubernetes.io/role"]`."""
    out = prefix
    for s in steps:
        if isinstance(s, int):
            out += f"[{s}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(s)):
            out += f".{s}" if out else str(s)
        else:
            out += f"[{json.dumps(str(s))}]"
    return out


# ------------------------------------------------------------------------------------------------- status strings
@normaliser("status_enabled")
def _status_enabled(value: Any, ctx: NormContext) -> Any:
    """`ENABLED` → True, `DISABLED` → False (DynamoDB SSE/PITR/TTL statuses; ElastiCache's lower-case `enabled` /
    `disabled` too); transitional states (ENABLING, disabling, UPDATING) pass unchanged, so they show as a
    difference instead of guessing the outcome."""
    if value in ("ENABLED", "enabled"):
        return True
    if value in ("DISABLED", "disabled"):
        return False
    return value


# ------------------------------------------------------------------------------------------------- DynamoDB
def _ddb_on_demand(value: Any) -> Any:
    """OnDemandThroughput → ACK keys without the unset limits (AWS reports -1 or 0 for "no maximum")."""
    if not isinstance(value, dict):
        return value
    out = {ack_name(k): v for k, v in value.items() if not (isinstance(v, int) and v <= 0)}
    return out or None


@normaliser("dynamodb_on_demand")
def _dynamodb_on_demand(value: Any, ctx: NormContext) -> Any:
    return _ddb_on_demand(value)


@normaliser("dynamodb_indexes")
def _dynamodb_indexes(value: Any, ctx: NormContext) -> Any:
    """DescribeTable Global/LocalSecondaryIndexes → the fields ACK renders (indexName, keySchema, projection,
    provisionedThroughput read/write, onDemandThroughput); sizes, counts, ARNs and statuses dropped. An on-demand
    table's index reports 0/0 throughput, which is "not set"."""
    if not isinstance(value, list):
        return value
    out = []
    for ix in value:
        if not isinstance(ix, dict):
            return value
        e: dict[str, Any] = {"indexName": ix.get("IndexName"), "keySchema": ack_keys(ix.get("KeySchema")),
                             "projection": ack_keys(ix.get("Projection"))}
        pt = ix.get("ProvisionedThroughput")
        if isinstance(pt, dict) and (pt.get("ReadCapacityUnits") or pt.get("WriteCapacityUnits")):
            e["provisionedThroughput"] = {"readCapacityUnits": pt.get("ReadCapacityUnits"),
                                          "writeCapacityUnits": pt.get("WriteCapacityUnits")}
        odt = _ddb_on_demand(ix.get("OnDemandThroughput"))
        if odt:
            e["onDemandThroughput"] = odt
        out.append(e)
    return out
