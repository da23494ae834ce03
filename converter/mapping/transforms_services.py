"""Named transforms for the smaller services (S3, RDS, ECR, …), registered into the same TRANSFORMS table.

Same contract as converter/mapping/transforms.py: every transform returns the value in the shape the AWS
describe/get API returns it (ACK writes any difference back to AWS), or None to leave the field out.
A transform that finds an instance it cannot represent safely raises MappingError: the engine then reports
the instance as unsupported with that reason instead of rendering a partial object.
"""

from __future__ import annotations

from typing import Any

from converter.mapping.transforms import Context, transform


def _unsupported(message: str, ctx: Context) -> Exception:
    # imported lazily: engine imports spec, which imports this module
    from converter.mapping.engine import MappingError

    return MappingError(message, ctx.inst)


def _nonempty(value: Any) -> bool:
    return value not in (None, "", [], {}, 0)


# ------------------------------------------------------------------------------------------------ generic
@transform("lower_str")
def _lower_str(value: Any, ctx: Context) -> Any:
    """SQS/SNS attributes and annotation values are strings: true → "true", 30 → "30"."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@transform("nonempty_bool")
def _nonempty_bool(value: Any, ctx: Context) -> Any:
    """A block's presence as a boolean (a private hosted zone is one with `vpc` blocks)."""
    return bool(value) if value is not None else None


@transform("fqdn")
def _fqdn(value: Any, ctx: Context) -> Any:
    """Route 53 returns names with the trailing dot; Terraform strips it."""
    if not isinstance(value, str) or not value:
        return None
    return value if value.endswith(".") else value + "."


@transform("parameter_map")
def _parameter_map(value: Any, ctx: Context) -> Any:
    """RDS parameter group `parameter` blocks ([{name, value, apply_method}]) → ACK parameterOverrides map."""
    if not isinstance(value, list):
        return None
    out = {str(p["name"]): "" if p.get("value") is None else str(p["value"])
           for p in value if isinstance(p, dict) and p.get("name")}
    return dict(sorted(out.items())) or None


# ------------------------------------------------------------------------------------------------ S3
def _tag_list(tags: Any) -> list[dict[str, str]]:
    if not isinstance(tags, dict):
        return []
    return [{"key": str(k), "value": "" if v is None else str(v)} for k, v in sorted(tags.items())]


def _single(value: Any) -> Any:
    if isinstance(value, list):
        return value[0] if len(value) == 1 and isinstance(value[0], dict) else None
    return value if isinstance(value, dict) else None


@transform("s3_filter")
def _s3_filter(value: Any, ctx: Context) -> Any:
    """A lifecycle/replication `filter` block → S3 (Lifecycle|Replication)RuleFilter.

    An empty `filter {}` (whole bucket) is stored by S3 as `<Filter><Prefix></Prefix></Filter>`, which the
    API returns as an empty prefix."""
    f = _single(value)
    if f is None:
        return None
    out: dict[str, Any] = {}
    and_ = _single(f.get("and"))
    tag = _single(f.get("tag"))
    if and_:
        a: dict[str, Any] = {}
        if and_.get("prefix"):
            a["prefix"] = and_["prefix"]
        if and_.get("tags"):
            a["tags"] = _tag_list(and_["tags"])
        for src, dst in (("object_size_greater_than", "objectSizeGreaterThan"), ("object_size_less_than", "objectSizeLessThan")):
            if _nonempty(and_.get(src)):
                a[dst] = int(and_[src])
        out["and"] = a
    elif tag and tag.get("key"):
        out["tag"] = {"key": tag["key"], "value": "" if tag.get("value") is None else str(tag["value"])}
    else:
        for src, dst in (("object_size_greater_than", "objectSizeGreaterThan"), ("object_size_less_than", "objectSizeLessThan")):
            if _nonempty(f.get(src)):
                out[dst] = int(f[src])
        if f.get("prefix") or not out:
            out["prefix"] = f.get("prefix") or ""
    return out


@transform("s3_notification_filter")
def _s3_notification_filter(value: Any, ctx: Context) -> Any:
    """`filter_prefix`/`filter_suffix` of a notification entry → {key: {filterRules: [{name, value}]}}."""
    if not isinstance(value, dict):
        return None
    rules = []
    if value.get("filter_prefix"):
        rules.append({"name": "Prefix", "value": value["filter_prefix"]})
    if value.get("filter_suffix"):
        rules.append({"name": "Suffix", "value": value["filter_suffix"]})
    return {"key": {"filterRules": rules}} if rules else None


# ------------------------------------------------------------------------------------------------ ACM
@transform("acm_not_imported")
def _acm_not_imported(value: Any, ctx: Context) -> Any:
    """Only ACM-issued (public or private-CA) certificates are adopted. An imported certificate is managed in
    ACK through Secrets holding the certificate body and the private key; the key is sensitive and never
    rendered, and an adopted object without it cannot be re-imported or renewed safely."""
    if str(ctx.inst.attributes.get("type") or "").upper() == "IMPORTED" or ctx.inst.attributes.get("certificate_body"):
        raise _unsupported(
            "imported ACM certificate: ACK needs its certificate and private key from Secrets and the private key is "
            "sensitive; it stays in Terraform (re-import it later with an ExternalSecret-backed Certificate)",
            ctx,
        )
    return value


# ------------------------------------------------------------------------------------------------ ELBv2
@transform("lb_scheme")
def _lb_scheme(value: Any, ctx: Context) -> Any:
    if value is None:
        return None
    return "internal" if value is True or str(value).lower() == "true" else "internet-facing"


@transform("lb_certificates")
def _lb_certificates(value: Any, ctx: Context) -> Any:
    """The listener's default certificate (DescribeListeners returns only that one)."""
    if not value:
        return None
    return [{"certificateARN": value}]


@transform("tg_matcher")
def _tg_matcher(value: Any, ctx: Context) -> Any:
    """health_check.matcher is an HTTP code list, or a gRPC code list for GRPC target groups."""
    if not value:
        return None
    key = "grpcCode" if str(ctx.inst.attributes.get("protocol_version") or "").upper() == "GRPC" else "httpCode"
    return {key: str(value)}


def _lb_action(a: dict[str, Any], ctx: Context) -> dict[str, Any]:
    typ = a.get("type")
    out: dict[str, Any] = {"type": typ}
    if _nonempty(a.get("order")):
        out["order"] = int(a["order"])
    if typ in ("authenticate-oidc",):
        raise _unsupported(
            "listener action authenticate-oidc carries an OIDC client secret (sensitive); it stays in Terraform", ctx
        )
    if typ == "authenticate-cognito":
        c = _single(a.get("authenticate_cognito")) or {}
        cfg = {
            "userPoolARN": c.get("user_pool_arn"),
            "userPoolClientID": c.get("user_pool_client_id"),
            "userPoolDomain": c.get("user_pool_domain"),
            "scope": c.get("scope"),
            "sessionCookieName": c.get("session_cookie_name"),
            "sessionTimeout": int(c["session_timeout"]) if _nonempty(c.get("session_timeout")) else None,
            "onUnauthenticatedRequest": c.get("on_unauthenticated_request"),
            "authenticationRequestExtraParams": c.get("authentication_request_extra_params") or None,
        }
        out["authenticateCognitoConfig"] = {k: v for k, v in cfg.items() if _nonempty(v)}
    if a.get("target_group_arn"):
        out["targetGroupARN"] = a["target_group_arn"]
    fwd = _single(a.get("forward"))
    if typ == "forward":
        if fwd:
            tgs = [{"targetGroupARN": t["arn"], **({"weight": int(t["weight"])} if t.get("weight") is not None else {})}
                   for t in fwd.get("target_group") or [] if isinstance(t, dict) and t.get("arn")]
            st = _single(fwd.get("stickiness")) or {}
            stick: dict[str, Any] = {"enabled": bool(st.get("enabled"))}
            if st.get("enabled") and _nonempty(st.get("duration")):
                stick["durationSeconds"] = int(st["duration"])
            out["forwardConfig"] = {"targetGroups": sorted(tgs, key=lambda t: t["targetGroupARN"]),
                                    "targetGroupStickinessConfig": stick}
        elif a.get("target_group_arn"):
            # ELBv2 describes a plain forward both ways: TargetGroupArn and a one-group ForwardConfig
            out["forwardConfig"] = {"targetGroups": [{"targetGroupARN": a["target_group_arn"], "weight": 1}],
                                    "targetGroupStickinessConfig": {"enabled": False}}
    red = _single(a.get("redirect"))
    if typ == "redirect" and red:
        cfg = {"host": red.get("host"), "path": red.get("path"), "port": red.get("port"),
               "protocol": red.get("protocol"), "query": red.get("query"), "statusCode": red.get("status_code")}
        out["redirectConfig"] = {k: str(v) for k, v in cfg.items() if v is not None and v != ""}
    fr = _single(a.get("fixed_response"))
    if typ == "fixed-response" and fr:
        cfg = {"contentType": fr.get("content_type"), "messageBody": fr.get("message_body"),
               "statusCode": fr.get("status_code")}
        out["fixedResponseConfig"] = {k: v for k, v in cfg.items() if v not in (None, "")}
    return out


@transform("lb_actions")
def _lb_actions(value: Any, ctx: Context) -> Any:
    """Listener `default_action` / rule `action` blocks → ELBv2 Actions, ordered as AWS orders them."""
    if not isinstance(value, list):
        return None
    actions = [_lb_action(a, ctx) for a in value if isinstance(a, dict) and a.get("type")]
    return sorted(actions, key=lambda a: a.get("order", 0)) or None


_CONDITION_FIELDS = (
    ("host_header", "host-header", "hostHeaderConfig"),
    ("path_pattern", "path-pattern", "pathPatternConfig"),
    ("http_request_method", "http-request-method", "httpRequestMethodConfig"),
    ("source_ip", "source-ip", "sourceIPConfig"),
)


@transform("lb_rule_conditions")
def _lb_rule_conditions(value: Any, ctx: Context) -> Any:
    """Rule `condition` blocks → ELBv2 RuleConditions. DescribeRules also repeats host-header/path-pattern
    values in the legacy `Values` list."""
    if not isinstance(value, list):
        return None
    out: list[dict[str, Any]] = []
    for cond in value:
        if not isinstance(cond, dict):
            continue
        for tf, field, cfg in _CONDITION_FIELDS:
            block = _single(cond.get(tf))
            if block and block.get("values"):
                vals = sorted(block["values"])
                item: dict[str, Any] = {"field": field, cfg: {"values": vals}}
                if field in ("host-header", "path-pattern"):
                    item["values"] = vals
                out.append(item)
        hh = _single(cond.get("http_header"))
        if hh and hh.get("http_header_name"):
            out.append({"field": "http-header",
                        "httpHeaderConfig": {"httpHeaderName": hh["http_header_name"], "values": sorted(hh.get("values") or [])}})
        qs = cond.get("query_string")
        if isinstance(qs, list) and qs:
            vals = [{k: v for k, v in (("key", q.get("key")), ("value", q.get("value"))) if v not in (None, "")}
                    for q in qs if isinstance(q, dict)]
            out.append({"field": "query-string", "queryStringConfig": {"values": vals}})
    return out or None


# ------------------------------------------------------------------------------------------------ DynamoDB
def _key_schema(hash_key: Any, range_key: Any) -> list[dict[str, str]]:
    ks = [{"attributeName": hash_key, "keyType": "HASH"}] if hash_key else []
    if range_key:
        ks.append({"attributeName": range_key, "keyType": "RANGE"})
    return ks


@transform("dynamodb_key_schema")
def _ddb_key_schema(value: Any, ctx: Context) -> Any:
    a = ctx.inst.attributes
    return _key_schema(a.get("hash_key"), a.get("range_key")) or None


def _ddb_index(ix: dict[str, Any], with_throughput: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"indexName": ix.get("name"), "keySchema": _key_schema(ix.get("hash_key"), ix.get("range_key"))}
    proj: dict[str, Any] = {"projectionType": ix.get("projection_type")}
    if ix.get("non_key_attributes"):
        proj["nonKeyAttributes"] = list(ix["non_key_attributes"])
    out["projection"] = proj
    if with_throughput and (_nonempty(ix.get("read_capacity")) or _nonempty(ix.get("write_capacity"))):
        out["provisionedThroughput"] = {"readCapacityUnits": int(ix.get("read_capacity") or 0),
                                        "writeCapacityUnits": int(ix.get("write_capacity") or 0)}
    odt = _single(ix.get("on_demand_throughput"))
    if odt and (_nonempty(odt.get("max_read_request_units")) or _nonempty(odt.get("max_write_request_units"))):
        out["onDemandThroughput"] = {k: int(odt[s]) for k, s in (("maxReadRequestUnits", "max_read_request_units"),
                                                                  ("maxWriteRequestUnits", "max_write_request_units"))
                                     if _nonempty(odt.get(s))}
    return out


@transform("dynamodb_gsis")
def _ddb_gsis(value: Any, ctx: Context) -> Any:
    if not isinstance(value, list):
        return None
    provisioned = str(ctx.inst.attributes.get("billing_mode") or "PROVISIONED") == "PROVISIONED"
    return sorted((_ddb_index(ix, provisioned) for ix in value if isinstance(ix, dict)), key=lambda i: str(i["indexName"])) or None


@transform("dynamodb_lsis")
def _ddb_lsis(value: Any, ctx: Context) -> Any:
    if not isinstance(value, list):
        return None
    # a Terraform local_secondary_index has no hash_key: it is the table's (DescribeTable lists it in the LSI's
    # KeySchema, and CreateTable requires it there)
    hash_key = ctx.inst.attributes.get("hash_key")
    return sorted((_ddb_index({"hash_key": hash_key, **ix}, False) for ix in value if isinstance(ix, dict)),
                  key=lambda i: str(i["indexName"])) or None


@transform("dynamodb_throughput")
def _ddb_throughput(value: Any, ctx: Context) -> Any:
    """Table provisioned throughput, only for PROVISIONED tables (on-demand tables report 0/0)."""
    a = ctx.inst.attributes
    if str(a.get("billing_mode") or "PROVISIONED") != "PROVISIONED":
        return None
    if a.get("read_capacity") is None and a.get("write_capacity") is None:
        return None
    return {"readCapacityUnits": int(a.get("read_capacity") or 0), "writeCapacityUnits": int(a.get("write_capacity") or 0)}


@transform("dynamodb_stream")
def _ddb_stream(value: Any, ctx: Context) -> Any:
    a = ctx.inst.attributes
    if not a.get("stream_enabled"):
        return None  # DescribeTable omits StreamSpecification for tables without a stream
    out: dict[str, Any] = {"streamEnabled": True}
    if a.get("stream_view_type"):
        out["streamViewType"] = a["stream_view_type"]
    return out
