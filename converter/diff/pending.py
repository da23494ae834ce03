"""HCL configuration vs Terraform state: changes the next `terraform apply` would make (`pending-terraform-change`).

tf2kro renders the ACK spec from *state*. A configured value that differs from state is a change Terraform has
not applied yet; once Terraform hands the resource to ACK nobody applies it — it is lost. This module finds those
differences for one state instance, and is deliberately conservative (a false positive is as bad as a miss):

* only top-level arguments (no nested blocks, no meta-arguments, nothing under `lifecycle.ignore_changes`);
* only values fixed by the configuration itself (`evaluate_static`: literals, `var.*`, `local.*`, the instance's
  `count.index` / `each.*`, a set of pure functions) — a reference to a resource, data source or module output is
  unknown until apply and skipped;
* no sensitive attribute (marked in state, secret-named, or fed by a `sensitive` variable) is compared at all, so
  no such value can be printed;
* `null` or empty (`""`, `[]`, `{}`) in the configuration means "provider default" and is skipped, and so is an
  attribute that is null or absent in state;
* values are compared the way Terraform and the AWS provider would see them: type conversion ("5" = 5,
  "true" = true), JSON documents parsed (IAM policies with `policy_json`, other JSON ignoring keys AWS adds),
  scalar strings without case and trailing whitespace (the provider lower-cases several), lists of scalars as
  sets when state holds them in set order, and the provider's known diff suppressions (`QUIRKS`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deepdiff import DeepDiff

from converter.diff.normalize import NORMALISERS, NormContext, canonical, format_path, parse_json_doc
from converter.load.hcl import HclConfig, HclModule, HclResource, evaluate_static
from converter.model import ResourceInstance
from converter.secrets import is_secret_name, is_sensitive_path

#: Arguments that are not resource attributes.
META_ARGUMENTS = frozenset({"count", "for_each", "provider", "depends_on", "lifecycle", "provisioner", "connection"})

#: (type, attribute) the provider stores in a form the configuration value cannot be compared with.
SKIP = frozenset({
    ("aws_instance", "user_data"), ("aws_instance", "user_data_base64"),  # state holds a hash
    ("aws_launch_configuration", "user_data"), ("aws_launch_configuration", "user_data_base64"),
})

_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_PROTOCOLS = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6", "-1": "all"}


@dataclass
class PendingChange:
    address: str
    tf_type: str
    path: str
    config: Any
    state: Any
    what: str  # changed | only in config | not in config
    source: str  # file:line of the argument


# ---------------------------------------------------------------------------------------------- instance context
def _bindings(res: HclResource, inst: ResourceInstance, module: HclModule) -> dict[str, dict[str, Any]] | None:
    """`count` / `each` of this instance, {} for a single instance, None when state and config disagree on the
    instance's key shape (then nothing is compared)."""
    key = inst.index_key
    if res.count is not None:
        return {"count": {"index": key}} if isinstance(key, int) and not isinstance(key, bool) else None
    if res.for_each is not None:
        if not isinstance(key, str):
            return None
        each: dict[str, Any] = {"key": key}
        known, coll = evaluate_static(res.for_each, module)
        if known and isinstance(coll, dict) and key in coll:
            each["value"] = coll[key]
        elif known and isinstance(coll, list) and key in coll:
            each["value"] = key  # a set of strings: each.value is each.key
        return {"each": each}
    return {} if key is None else None


def _ignored(res: HclResource) -> tuple[bool, set[str]]:
    """(ignore everything, the top-level attributes under ignore_changes)."""
    tops: set[str] = set()
    for entry in res.ignore_changes:
        e = str(entry).strip()
        if e == "all":
            return True, set()
        tops.add(re.split(r"[.\[]", e, maxsplit=1)[0])
    return False, tops


# ---------------------------------------------------------------------------------------------- shapes
def _scalar(v: Any) -> bool:
    return v is None or isinstance(v, (str, int, float, bool))


def _comparable(v: Any) -> bool:
    """A scalar, a list of scalars or a map of scalars: what a top-level argument may hold for us to compare."""
    if isinstance(v, list):
        return all(_scalar(x) for x in v)
    if isinstance(v, dict):
        return all(isinstance(k, str) and _scalar(x) for k, x in v.items())
    return _scalar(v)


def _empty(v: Any) -> bool:
    return v is None or v == "" or v == [] or v == {}


def _canon(v: Any, *, fold_case: bool) -> Any:
    """Terraform's type conversion made symmetric: "true"/true, "5"/5/5.0 compare equal."""
    if isinstance(v, bool):
        return ("b", v)
    if isinstance(v, (int, float)):
        return ("n", float(v))
    if isinstance(v, str):
        t = v.rstrip()
        if t.lower() in ("true", "false"):
            return ("b", t.lower() == "true")
        if _NUMBER.fullmatch(t):
            return ("n", float(t))
        return ("s", t.lower() if fold_case else t)
    return ("?", json.dumps(v, sort_keys=True, default=str))


def _set_ordered(values: list[Any]) -> bool:
    """True when `values` is in the order Terraform serialises a set of primitives (strings lexically, numbers
    ascending, no duplicates) — the state value may be a set, so its order says nothing."""
    if any(isinstance(v, bool) or v is None for v in values):
        return False
    if all(isinstance(v, str) for v in values) or all(isinstance(v, (int, float)) for v in values):
        return all(a < b for a, b in zip(values, values[1:], strict=False))
    return False


# ---------------------------------------------------------------------------------------------- equivalences
def _scalar_equal(tf_type: str, attr: str, c: Any, s: Any, inst: ResourceInstance) -> bool:
    if _canon(c, fold_case=True) == _canon(s, fold_case=True):
        return True
    if not isinstance(c, (str, int, float)) or not isinstance(s, (str, int, float)) or isinstance(c, bool) or isinstance(s, bool):
        return False
    cs, ss = str(c).strip(), str(s).strip()
    # ARN vs name / KMS key ARN vs id: the provider accepts either and keeps what AWS returns
    for norm in ("arn_name", "kms_key_id"):
        fn = NORMALISERS[norm]
        if (cs.startswith("arn:") or ss.startswith("arn:")) and fn(cs, NormContext()) == fn(ss, NormContext()):
            return True
    if attr in ("protocol", "ip_protocol") and (
            _PROTOCOLS.get(cs.lower(), cs.lower()) == _PROTOCOLS.get(ss.lower(), ss.lower())):
        return True
    if attr == "url" or attr.endswith("_url"):
        strip = NORMALISERS["strip_scheme"]
        if strip(cs.lower(), NormContext()) == strip(ss.lower(), NormContext()):
            return True
    if tf_type.startswith("aws_route53_") and cs.lower().rstrip(".") == ss.lower().rstrip("."):
        return True
    # RDS: "16" in the configuration matches "16.4" in state (minor versions are upgraded by AWS)
    if attr == "engine_version" and ss.startswith(cs + "."):
        return True
    # RDS storage autoscaling: AWS grows allocated_storage up to max_allocated_storage; the provider ignores it
    if attr == "allocated_storage" and (inst.attributes.get("max_allocated_storage") or 0) > 0:
        try:
            return float(ss) >= float(cs)
        except ValueError:
            return False
    return False


def _json_docs(c: Any, s: Any) -> tuple[Any, Any] | None:
    if not isinstance(c, str) or not isinstance(s, str):
        return None
    if not c.strip().startswith(("{", "[")) or not s.strip().startswith(("{", "[")):
        return None
    pc, ps = parse_json_doc(c), parse_json_doc(s)
    if isinstance(pc, (dict, list)) and isinstance(ps, (dict, list)):
        return pc, ps
    return None


def _typed_leaves(node: Any) -> Any:
    """JSON leaves with Terraform's / AWS's string forms of numbers and booleans made typed ("true" = true,
    "256" = 256): IAM returns condition values as strings, services echo numbers as strings."""
    if isinstance(node, dict):
        return {k: _typed_leaves(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_typed_leaves(v) for v in node]
    if isinstance(node, str):
        t = node.strip()
        if t in ("true", "false"):
            return t == "true"
        if _NUMBER.fullmatch(t):
            return float(t)
    if isinstance(node, (int, float)) and not isinstance(node, bool):
        return float(node)
    return node


def _json_diff(attr: str, pc: Any, ps: Any) -> list[tuple[str, Any, Any, str]]:
    iam = any(isinstance(d, dict) and "Statement" in d for d in (pc, ps))
    if iam:
        norm = NORMALISERS["policy_json"]
        pc, ps = norm(pc, NormContext()), norm(ps, NormContext())
    pc, ps = _typed_leaves(canonical(pc)), _typed_leaves(canonical(ps))
    if pc == ps:
        return []
    dd = DeepDiff(pc, ps, ignore_order=True, view="tree", report_repetition=False)
    out = []
    for report_type, levels in dd.items():
        if not iam and report_type == "dictionary_item_added":
            continue  # a key only AWS/state has: a service default, not something the configuration sets
        what = {"dictionary_item_removed": "only in config", "iterable_item_removed": "only in config",
                "dictionary_item_added": "not in config", "iterable_item_added": "not in config"}.get(report_type, "changed")
        for level in levels:
            t1, t2 = level.t1, level.t2
            out.append((format_path(attr, level.path(output_format="list")),
                        None if type(t1).__name__ == "NotPresent" else t1,
                        None if type(t2).__name__ == "NotPresent" else t2, what))
    return sorted(out, key=lambda x: x[0])


def compare_attribute(tf_type: str, attr: str, c: Any, s: Any, inst: ResourceInstance) -> list[tuple[str, Any, Any, str]]:
    """[(path, config value, state value, what)] — empty when Terraform would plan no change."""
    if (tf_type, attr) in SKIP:
        return []
    docs = _json_docs(c, s)
    if docs is not None:
        return _json_diff(attr, *docs)
    if isinstance(c, dict) and isinstance(s, dict):
        out = []
        for k in sorted(set(c) | set(s)):
            cv, sv = c.get(k), s.get(k)
            if k in c and cv is None:
                continue  # a null map value: unknown to us how the provider treats it
            if _empty(cv) and _empty(sv):
                continue
            path = format_path(attr, [k])
            if k not in s:
                out.append((path, cv, None, "only in config"))
            elif k not in c:
                out.append((path, None, sv, "not in config"))
            elif _canon(cv, fold_case=False) != _canon(sv, fold_case=False):
                out.append((path, cv, sv, "changed"))
        return out
    if isinstance(c, list) and isinstance(s, list):
        if _set_ordered(s):
            same = {_canon(x, fold_case=True) for x in c} == {_canon(x, fold_case=True) for x in s}
        else:
            same = len(c) == len(s) and all(_scalar_equal(tf_type, attr, a, b, inst) for a, b in zip(c, s, strict=True))
        return [] if same else [(attr, c, s, "changed")]
    if isinstance(c, (dict, list)) or isinstance(s, (dict, list)):
        return []  # shapes differ (e.g. a block in state): not comparable
    return [] if _scalar_equal(tf_type, attr, c, s, inst) else [(attr, c, s, "changed")]


# ---------------------------------------------------------------------------------------------- driver
def _read(path: str) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


class PendingComparer:
    """Compares state instances with their HCL resource blocks (one per estate, modules indexed once)."""

    def __init__(self, hcl: HclConfig):
        self.hcl = hcl
        self.modules = {m.address: m for m in hcl.modules()}
        # a provider `ignore_tags` block hides keys from `tags` in state and from Terraform's plan; without
        # evaluating provider blocks we cannot tell which, so tags are not compared at all then
        self.compare_tags = not any("ignore_tags" in _read(f) for m in self.modules.values() for f in m.files)

    def compare(self, inst: ResourceInstance) -> list[PendingChange]:
        if not inst.is_managed or inst.deposed:
            return []
        res = self.hcl.resource(inst.address)
        if res is None or res.mode != "managed" or res.type != inst.type:
            return []
        module = self.modules.get(res.module_address)
        if module is None:
            return []
        everything, ignored = _ignored(res)
        if everything:
            return []
        bindings = _bindings(res, inst, module)
        if bindings is None:
            return []
        out: list[PendingChange] = []
        for attr, text in res.sources.items():
            if attr in META_ARGUMENTS or attr in ignored or attr.endswith("_wo"):
                continue
            if attr == "tags" and not self.compare_tags:
                continue
            if is_secret_name(attr) or is_sensitive_path(inst, (attr,)):
                continue  # never compared, so never printed
            if attr not in inst.attributes or inst.attributes[attr] is None:
                continue
            state_value = inst.attributes[attr]
            known, value = evaluate_static(text, module, bindings=bindings)
            if not known or _empty(value) or not _comparable(value) or not _comparable(state_value):
                continue
            source = f"{res.file}:{res.attribute_lines.get(attr, res.line)}"
            for path, c, s, what in compare_attribute(inst.type, attr, value, state_value, inst):
                out.append(PendingChange(address=inst.address, tf_type=inst.type, path=path, config=c, state=s,
                                         what=what, source=source))
        return out


__all__ = ["PendingChange", "PendingComparer", "compare_attribute"]
