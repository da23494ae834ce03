"""The three-way comparison behind `tf2kro diff`, at attribute level, with deepdiff.

For every mapped resource that has a `describe:` block:

1. **adoption-would-change** — the ACK spec tf2kro renders vs the live value of the same field (`describe.spec`:
   ACK field path → where it is in the AWS response item). After adoption ACK writes every difference to AWS
   (reference/ack.md §4), so these come first and loudest.
2. **drift** — Terraform state vs live AWS (`describe.state`: state attribute → AWS path); `deleted` when the
   resource is gone.
3. **pending-terraform-change** — with `--hcl`: a configured value that differs from state, i.e. a change the
   next `terraform apply` would make. tf2kro renders from state, so after the hand-over to ACK it is lost
   (`converter.diff.pending`; needs no AWS read).
4. **unmanaged** — live resources of the mapped types in the estate's scope that no state manages.

A rendered field whose live value the batch read cannot give is `unverified` (listed, never counted, never
guessed); a type whose read failed is `unknown`. Secret values never appear: rendered specs have none (the
mapper omits them), state attributes under a sensitive path are not compared.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from converter.diff.live import LiveRead, search, state_id
from converter.diff.normalize import NORMALISERS, NormContext, apply, canonical, format_path
from converter.gcpause import gc_paused
from converter.mapping.paths import MISSING, lookup, resolve
from converter.model import ToolError
from converter.secrets import is_sensitive_path

ADOPTION = "adoption-would-change"
DRIFT = "drift"
DELETED = "deleted"
PENDING = "pending-terraform-change"
UNMANAGED = "unmanaged"
UNVERIFIED = "unverified"
UNKNOWN = "unknown"
CLASSES = (ADOPTION, DELETED, DRIFT, PENDING, UNMANAGED, UNVERIFIED, UNKNOWN)
COUNTED = frozenset({ADOPTION, DRIFT, DELETED, PENDING, UNMANAGED})


@dataclass
class Finding:
    cls: str
    address: str
    tf_type: str
    path: str = ""
    expected: Any = None  # the rendered ACK value (adoption) or the state value (drift, pending)
    live: Any = None
    detail: str = ""
    ignored: bool = False
    config: Any = None  # pending only: the configured value
    source: str | None = None  # pending only: file:line of the argument

    def to_dict(self) -> dict[str, Any]:
        out = {"class": self.cls, "address": self.address, "type": self.tf_type, "path": self.path,
               "expected": self.expected, "live": self.live, "detail": self.detail, "ignored": self.ignored}
        if self.cls == PENDING:
            out["config"] = self.config
            out["source"] = self.source
        return out


@dataclass
class ResourceDiff:
    address: str
    tf_type: str
    kind: str | None
    phase: str
    live_id: str | None
    status: str  # in-sync | changed | deleted | unknown | unmanaged
    findings: list[Finding] = field(default_factory=list)
    folded: list[str] = field(default_factory=list)

    def counted(self) -> list[Finding]:
        return [f for f in self.findings if f.cls in COUNTED and not f.ignored]


@dataclass
class DiffReport:
    resources: list[ResourceDiff]
    types: dict[str, dict[str, Any]]  # tf type -> {status, reason, calls, unmanaged_scan}
    api_calls: dict[str, int]
    http_attempts: int
    scope: dict[str, Any]
    region: str | None
    source: str  # "aws" | capture file
    not_checked: list[dict[str, str]] = field(default_factory=list)  # mapped resources without a describe block
    # why nothing could be read (failed preflight / endpoint lost): the reports state it once, not once per resource
    failure: str | None = None

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.resources for f in r.findings]

    def counts(self) -> dict[str, int]:
        out = {c: 0 for c in CLASSES}
        out["ignored"] = 0
        for f in self.findings:
            if f.ignored:
                out["ignored"] += 1
            else:
                out[f.cls] += 1
        return out

    @property
    def total_calls(self) -> int:
        return sum(self.api_calls.values())

    @property
    def exit_code(self) -> int:
        return 1 if any(r.counted() for r in self.resources) else 0


# ---------------------------------------------------------------------------------------------- entries
@dataclass
class Entry:
    """One `describe.spec` / `describe.state` entry."""

    source: str | None  # JMESPath into the live item; None = not readable with the batch call
    normalize: tuple[str, ...] = ()
    expect: tuple[str, ...] = ()
    compare: tuple[str, ...] = ()
    default: Any = MISSING
    ordered: bool = False
    unverified: str | None = None
    unless_annotation: dict[str, str] = field(default_factory=dict)  # skipped when the object has these annotations
    # `unverified`: AWS always returns this field, so an absent value means the endpoint (an emulator, an old
    # API version) did not say — report the field unverified instead of comparing with "not set"
    absent: str = "compare"
    # state entries only: the ACK spec field that also holds this attribute's folded children (SG rules, role
    # policies, routes). Terraform does not refresh the parent after creating the children in the same apply,
    # so when children are folded in, the merged rendered field is the state's view of the live value.
    when_folded: str | None = None
    # the controller code whose delta this comparison follows (e.g. "iam-controller pkg/resource/role/delta.go:
    # MapStringStringPEqual (byte-exact)"); the comparison above must be the same one
    ack: str | None = None
    # spec entries whose ACK comparison is stricter than Terraform's (byte-exact vs semantic JSON): the comparison
    # drift uses when a folded state attribute is compared through this entry (Terraform's view of "changed")
    terraform_compare: tuple[str, ...] | None = None
    # a normaliser turning the live value into the ACK field, when only AWS knows the exact value (`convert --live`)
    render_from_live: str | None = None

    @classmethod
    def parse(cls, raw: Any, where: str) -> Entry:
        if isinstance(raw, str):
            return cls(source=raw)
        if not isinstance(raw, dict):
            raise ToolError(f"describe entry must be a JMESPath string or an object, got {raw!r}", source=where)

        def names(key: str) -> tuple[str, ...]:
            v = raw.get(key) or ()
            v = (v,) if isinstance(v, str) else tuple(v)
            for n in v:
                if n not in NORMALISERS:
                    raise ToolError(f"unknown normaliser {n!r} (known: {', '.join(sorted(NORMALISERS))})", source=where)
            return v

        render = raw.get("render_from_live")
        if render is not None and render not in NORMALISERS:
            raise ToolError(f"unknown normaliser {render!r} in render_from_live", source=where)
        return cls(source=raw.get("from"), normalize=names("normalize"), expect=names("expect"),
                   compare=names("compare"), default=raw.get("default", MISSING), ordered=bool(raw.get("ordered")),
                   unverified=raw.get("unverified"), unless_annotation=dict(raw.get("unless_annotation") or {}),
                   absent=str(raw.get("absent", "compare")), when_folded=raw.get("when_folded"), ack=raw.get("ack"),
                   terraform_compare=names("terraform_compare") if "terraform_compare" in raw else None,
                   render_from_live=render)

    def joins(self) -> set[str]:
        return set(re.findall(r"_join\.([A-Za-z0-9_]+)", self.source or ""))


def _entries(d: dict[str, Any], key: str, where: str) -> dict[str, Entry]:
    return {k: Entry.parse(v, f"{where}: describe.{key}.{k}") for k, v in (d.get(key) or {}).items()}


def _notpresent(v: Any) -> Any:
    return None if type(v).__name__ == "NotPresent" else v


def _empty_none(v: Any) -> Any:
    return None if v in ("", [], {}) else v


def diff_values(expected: Any, live: Any, entry: Entry, ctx: NormContext, prefix: str) -> list[tuple[str, Any, Any, str]]:
    """[(path, expected, live, what)] — empty when equal after normalisation."""
    e = _empty_none(canonical(apply(entry.expect + entry.compare, expected, ctx)))
    if live is None and entry.default is not MISSING:
        live = entry.default
    lv = _empty_none(canonical(apply(entry.normalize + entry.compare, live, ctx)))
    if e == lv:
        return []
    # imported here, on the first difference: deepdiff brings pydantic and numpy (~0.1-0.3 s), and `convert`
    # reaches this module (Entry, normalisers) without ever comparing
    from deepdiff import DeepDiff

    dd = DeepDiff(e, lv, ignore_order=not entry.ordered, view="tree", report_repetition=False)
    if not dd:
        return []
    out = []
    for report_type, levels in dd.items():
        for level in levels:
            steps = level.path(output_format="list")
            what = {"values_changed": "changed", "type_changes": "changed", "dictionary_item_added": "only in AWS",
                    "dictionary_item_removed": "not in AWS", "iterable_item_added": "only in AWS",
                    "iterable_item_removed": "not in AWS"}.get(report_type, report_type)
            out.append((format_path(prefix, steps), _notpresent(level.t1), _notpresent(level.t2), what))
    return sorted(out, key=lambda x: x[0])


# ---------------------------------------------------------------------------------------------- per resource
def _rendered_leaves(node: Any, prefix: str, covered: set[str]) -> list[tuple[str, Any]]:
    """(dotted path, value) for each rendered field: a path in `covered` is one comparison unit; other objects
    are walked into; anything else is a leaf without a live source."""
    if prefix in covered:
        return [(prefix, node)]
    if isinstance(node, dict) and node and not any(c.startswith(prefix + ".") for c in covered) and prefix:
        return [(prefix, node)]
    if isinstance(node, dict) and node:
        out = []
        for k, v in node.items():
            out.extend(_rendered_leaves(v, f"{prefix}.{k}" if prefix else k, covered))
        return out
    return [(prefix, node)]


def compare_resource(mo: Any, live: LiveRead, *, account_id: str | None) -> ResourceDiff:
    inst, tm = mo.inst, mo.mapping
    d = tm.describe or {}
    where = f"{tm.file}: {tm.tf_type}"
    sid = state_id(d, inst.attributes)
    rd = ResourceDiff(address=inst.address, tf_type=inst.type, kind=tm.kind_ref, phase=mo.conversion.phase,
                      live_id=sid, status="in-sync", folded=list(mo.folded))
    tr = live.types.get(inst.type)

    def add(cls: str, path: str = "", expected: Any = None, live_v: Any = None, detail: str = "") -> None:
        rd.findings.append(Finding(cls=cls, address=inst.address, tf_type=inst.type, path=path, expected=expected,
                                   live=live_v, detail=detail))

    if tr is None or (sid is not None and not tr.was_requested(sid) and tr.status == "ok"):
        rd.status = UNKNOWN
        add(UNKNOWN, detail="not in the live read (capture taken from another state or phase?)")
        return rd
    if tr.status != "ok":
        rd.status = UNKNOWN
        add(UNKNOWN, detail=tr.reason or "type not read")
        return rd
    if sid in tr.unreadable:
        rd.status = UNKNOWN
        add(UNKNOWN, detail=tr.unreadable[sid])
        return rd
    if tr.is_missing(sid) or sid not in tr.items:
        rd.status = DELETED
        add(DELETED, detail=f"{sid} not found in AWS (deleted out of band?); adopting it would fail (adopted resource not found)")
        return rd
    item = tr.items[sid]
    ctx = NormContext(item=item, account_id=account_id, region=live.region)

    # 1. rendered ACK spec vs live
    spec_entries = _entries(d, "spec", where)
    rendered = (mo.conversion.body or {}).get("spec") or {}
    annotations = ((mo.conversion.body or {}).get("metadata") or {}).get("annotations") or {}
    for path, value in _rendered_leaves(rendered, "", set(spec_entries)):
        entry = spec_entries.get(path)
        label = f"spec.{path}"
        if entry is None:
            add(UNVERIFIED, label, value, None, "no live source for this field in the describe: block")
            continue
        if entry.unless_annotation and all(annotations.get(k) == v for k, v in entry.unless_annotation.items()):
            continue  # ACK ignores this field for this object (e.g. desired size owned by an autoscaler)
        if entry.unverified or entry.source is None:
            add(UNVERIFIED, label, value, None, entry.unverified or "not readable with the batch call")
            continue
        failed = [tr.join_errors[j] for j in entry.joins() if j in tr.join_errors]
        if failed:
            add(UNVERIFIED, label, value, None, f"live read failed: {failed[0]}")
            continue
        if not entry.joins() <= set(item.get("_join") or {}):
            add(UNVERIFIED, label, value, None, "its live read was not made (capture from another estate?)")
            continue
        live_value = search(entry.source, item)
        if live_value is None and entry.absent == "unverified":
            add(UNVERIFIED, label, value, None, "AWS did not return this field (it always should: emulator or API version?)")
            continue
        for p, e, lv, what in diff_values(value, live_value, entry, ctx, label):
            how = f" ({entry.ack})" if entry.ack and entry.terraform_compare is not None else ""
            add(ADOPTION, p, e, lv, f"{what}: ACK would write this to AWS after adoption{how}")

    # 2. Terraform state vs live
    for attr, entry in _entries(d, "state", where).items():
        sv = resolve(inst.attributes, attr)
        if sv is MISSING or entry.source is None or entry.unverified:
            continue
        if entry.when_folded and mo.folded and entry.when_folded in spec_entries:
            merged = lookup(rendered, entry.when_folded)
            sv = None if merged is MISSING else merged
            entry = spec_entries[entry.when_folded]
            if entry.terraform_compare is not None:  # drift is Terraform's notion of equal, not the controller's
                entry = replace(entry, compare=entry.terraform_compare)
        if is_sensitive_path(inst, tuple(attr.split("."))):
            continue
        if any(j in tr.join_errors for j in entry.joins()) or not entry.joins() <= set(item.get("_join") or {}):
            continue
        live_value = search(entry.source, item)
        if live_value is None and entry.absent == "unverified":
            continue
        for p, e, lv, what in diff_values(sv, live_value, entry, ctx, attr):
            add(DRIFT, p, e, lv, f"{what}: changed outside Terraform")

    if any(f.cls in COUNTED for f in rd.findings):
        rd.status = "changed"
    return rd


def unmanaged_resources(live: LiveRead, mappings: Any) -> list[ResourceDiff]:
    out = []
    for t, tr in sorted(live.types.items()):
        tm = mappings.get(t)
        for lid, summary in sorted(tr.unmanaged.items()):
            addr = f"unmanaged.{t}[{json.dumps(lid)}]"
            name = (summary or {}).get("name")
            rd = ResourceDiff(address=addr, tf_type=t, kind=tm.kind_ref if tm else None,
                              phase=tm.phase if tm else "other", live_id=lid, status=UNMANAGED)
            rd.findings.append(Finding(cls=UNMANAGED, address=addr, tf_type=t, live=summary,
                                       detail=f"{lid}{f' ({name})' if name else ''} exists in the estate's scope but no state manages it"))
            out.append(rd)
    return out


def _short_value(value: Any, limit: int = 80) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def add_pending(estate: Any, resources: list[ResourceDiff], *, phase: str | None = None) -> None:
    """HCL vs state for every instance tf2kro converts (mapped, or folded into a parent's object): each difference
    is a `pending-terraform-change` on the object that carries it (a folded child's finding keeps its own address).
    Objects without a `describe:` block get a ResourceDiff only when they have such a finding."""
    from converter.diff.pending import PendingComparer
    from converter.model import Status

    comparer = PendingComparer(estate.hcl)
    by_address = {r.address: r for r in resources}
    instances = {i.address: i for i in estate.state.managed}
    for addr in sorted(estate.result.conversions):
        conv = estate.result.conversions[addr]
        if conv.status not in (Status.MAPPED, Status.FOLDED) or (phase and conv.phase != phase):
            continue
        owner = conv.fold_parent if conv.status == Status.FOLDED else addr
        mo = estate.result.objects.get(owner or "")
        inst = instances.get(addr)
        if mo is None or inst is None:
            continue
        changes = comparer.compare(inst)
        if not changes:
            continue
        rd = by_address.get(mo.inst.address)
        if rd is None:
            rd = ResourceDiff(address=mo.inst.address, tf_type=mo.inst.type, kind=mo.mapping.kind_ref,
                              phase=mo.conversion.phase, live_id=None, status="changed", folded=list(mo.folded))
            resources.append(rd)
            by_address[rd.address] = rd
        for ch in changes:
            if ch.what == "not in config":
                detail = (f"not in config ({ch.source}): the next terraform apply would remove it, but tf2kro renders "
                          "the state value — the change is lost after the hand-over to ACK")
            else:
                verb = "add" if ch.what == "only in config" else "set"
                detail = (f"config {_short_value(ch.config)} ({ch.source}): the next terraform apply would {verb} it, "
                          "but tf2kro renders the state value — the change is lost after the hand-over to ACK")
            rd.findings.append(Finding(cls=PENDING, address=ch.address, tf_type=ch.tf_type, path=ch.path,
                                       expected=ch.state, live=None, detail=detail, config=ch.config, source=ch.source))
        if rd.status == "in-sync":
            rd.status = "changed"
    resources.sort(key=lambda r: r.address)


# ---------------------------------------------------------------------------------------------- ignore baseline
@dataclass
class IgnoreRule:
    address: str
    path: str = "*"
    cls: str = "*"
    reason: str = ""

    def matches(self, f: Finding) -> bool:
        return (fnmatch.fnmatchcase(f.address, self.address) and fnmatch.fnmatchcase(f.path or "", self.path)
                and fnmatch.fnmatchcase(f.cls, self.cls))


def load_ignore(path: str | Path) -> list[IgnoreRule]:
    """YAML/JSON list of {address, path?, class?, reason?}; address/path/class are globs (`*`, `?`, `[..]`)."""
    import yaml

    try:
        doc = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ToolError(f"cannot read the ignore file: {exc}", source=str(path)) from None
    if isinstance(doc, dict) and "ignore" in doc:
        doc = doc["ignore"]
    if doc is None:
        return []
    if not isinstance(doc, list):
        raise ToolError("the ignore file must be a list of {address, path} entries", source=str(path))
    rules = []
    for i, e in enumerate(doc):
        if not isinstance(e, dict) or not isinstance(e.get("address"), str):
            raise ToolError(f"entry {i}: needs an `address` (glob)", source=str(path))
        rules.append(IgnoreRule(address=e["address"], path=str(e.get("path", "*")), cls=str(e.get("class", "*")),
                                reason=str(e.get("reason", ""))))
    return rules


def apply_ignore(report: DiffReport, rules: list[IgnoreRule]) -> None:
    for r in report.resources:
        for f in r.findings:
            if any(rule.matches(f) for rule in rules):
                f.ignored = True
        if r.status in ("changed", DELETED, UNMANAGED) and not r.counted():
            r.status = "in-sync (ignored)"


# ---------------------------------------------------------------------------------------------- driver
@gc_paused()
def diff_estate(estate: Any, live: LiveRead, *, phase: str | None = None, source: str = "aws",
                ignore: list[IgnoreRule] | None = None) -> DiffReport:
    resources: list[ResourceDiff] = []
    not_checked = []
    for addr in sorted(estate.result.objects):
        mo = estate.result.objects[addr]
        if phase and mo.conversion.phase != phase:
            continue
        if not (mo.mapping.describe or {}).get("operation"):
            not_checked.append({"address": addr, "type": mo.inst.type, "reason": "no describe: block for this type"})
            continue
        resources.append(compare_resource(mo, live, account_id=estate.result.account_id))
    if getattr(estate, "hcl", None) is not None:
        add_pending(estate, resources, phase=phase)
    # an instance the state manages but tf2kro does not adopt (status not-adopted: co-managed, converter.ownership)
    # is still Terraform's: never "unmanaged"
    kept = _state_ids_not_adopted(estate)
    resources.extend(r for r in unmanaged_resources(live, estate.mappings)
                     if (not phase or r.phase == phase) and (r.tf_type, r.live_id) not in kept)
    types = {t: {"status": tr.status, "reason": tr.reason, "calls": tr.calls, "unmanaged_scan": tr.unmanaged_scan,
                 "join_errors": tr.join_errors} for t, tr in sorted(live.types.items())}
    report = DiffReport(resources=resources, types=types, api_calls=dict(live.api_calls), http_attempts=live.http_attempts,
                        scope=live.scope, region=live.region, source=source, not_checked=not_checked)
    if ignore:
        apply_ignore(report, ignore)
    return report


def _state_ids_not_adopted(estate: Any) -> set[tuple[str, str]]:
    from converter.model import Status

    out: set[tuple[str, str]] = set()
    conv = estate.result.conversions
    for inst in estate.state.managed:
        c = conv.get(inst.address)
        tm = estate.mappings.get(inst.type)
        if c is None or c.status is not Status.NOT_ADOPTED or tm is None or not (tm.describe or {}).get("operation"):
            continue
        sid = state_id(tm.describe, inst.attributes)
        if sid is not None:
            out.add((inst.type, sid))
    return out


def check_describe_blocks(mappings: Any) -> list[str]:
    """Parse every describe spec/state entry (unknown normalisers are errors); returns the types checked."""
    out = []
    for t, tm in sorted(mappings.types.items()):
        d = tm.describe or {}
        if d.get("operation"):
            _entries(d, "spec", f"{tm.file}: {t}")
            _entries(d, "state", f"{tm.file}: {t}")
            out.append(t)
    return out


__all__ = ["DiffReport", "Finding", "ResourceDiff", "diff_estate", "load_ignore", "lookup"]
