"""Shared ownership: per ACK object and per field ACK syncs as a whole (tags, security-group rules, routes, role
policies), who else writes it, and what tf2kro does about it.

Why: after `adopt`, ACK writes every spec ≠ AWS difference back, and these fields are replaced as a whole — a tag
key, rule, route or policy in AWS but not in the spec is deleted (mappings/_ownership.yaml names the controller
code). A field someone else also writes therefore cannot simply be rendered from one Terraform state:

- the writer is a Terraform resource of the estate (`aws_ec2_tag`, `aws_security_group_rule`, … in this state or in
  another root given with `other_instances`) → **fold** it into the object (it leaves Terraform with it);
- an AWS service or an in-cluster controller writes it (markers in state: `revoke_rules_on_delete`,
  `kubernetes.io/cluster/*` / `elbv2.k8s.aws/*` / `aws:eks:*` tags, the EKS cluster security group, …) →
  **not-adopted** (ACK would fight it on every resync) or **omit** the field;
- a live capture shows values no given state holds → **omit** the field (adopt keeps AWS's value) with a note.

The analysis edits the MapResult in place (before the graph is built, so a not-adopted object is never a
reference target and its ids stay literal) and returns the decisions for inspect, report.json and the PR body.
"""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from converter.mapping.engine import Mapper, MapResult
from converter.mapping.paths import MISSING, lookup, resolve
from converter.mapping.spec import MappingSet
from converter.mapping.transforms import POST
from converter.model import Conversion, Omission, ResourceInstance, StateFile, Status
from converter.ownership.rules import DECISION_RANK, Marker, OwnershipRules, load_rules


@dataclass
class Writer:
    kind: str  # terraform (another resource of the estate) | aws-service | controller | live
    name: str  # who: an address, a service, a controller, "outside the estate"
    address: str | None = None
    root: str | None = None  # the state file a Terraform writer lives in, when not this one


@dataclass
class Decision:
    address: str  # the ACK object's Terraform address
    tf_type: str
    field: str  # ACK spec field
    decision: str  # fold | omit | not-adopted | note
    writers: list[Writer]
    reason: str
    rule: str  # writers.<type> | markers.<id> | live_only.<field>
    controller: str = ""  # the controller code that syncs this field as a whole

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def summary(self) -> str:
        who = ", ".join(w.address or w.name for w in self.writers)
        return f"{self.field}: {self.decision} ({who})"


@dataclass
class OwnershipReport:
    decisions: list[Decision] = field(default_factory=list)

    def for_address(self, address: str) -> list[Decision]:
        cached = self.__dict__.get("_by_address")
        if cached is None or cached[0] != len(self.decisions):  # rebuilt when decisions were added
            index: dict[str, list[Decision]] = defaultdict(list)
            for d in self.decisions:
                index[d.address].append(d)
            cached = self.__dict__["_by_address"] = (len(self.decisions), index)
        return list(cached[1].get(address, ()))

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for d in self.decisions:
            out[d.decision] += 1
        return dict(sorted(out.items()))

    def to_json(self) -> dict[str, Any]:
        return {"counts": self.counts(), "decisions": [d.to_dict() for d in self.decisions]}


def _tags_of(inst: ResourceInstance) -> dict[str, Any]:
    for key in ("tags_all", "tags"):
        v = inst.attributes.get(key)
        if isinstance(v, dict) and v:
            return v
    return {}


class _References:
    """(type, path) -> values held there by any instance of the estate: answers `referenced_by` markers."""

    def __init__(self, instances: Iterable[ResourceInstance]):
        self.by_type: dict[str, list[ResourceInstance]] = defaultdict(list)
        for inst in instances:
            self.by_type[inst.type].append(inst)
        self._cache: dict[tuple[str, str], dict[str, str]] = {}

    def holders(self, tf_type: str, path: str) -> dict[str, str]:
        key = (tf_type, path)
        if key not in self._cache:
            out: dict[str, str] = {}
            for inst in self.by_type.get(tf_type, ()):
                v = resolve(inst.attributes, path)
                if isinstance(v, str) and v:
                    out.setdefault(v, inst.address)
            self._cache[key] = out
        return self._cache[key]


def _marker_hit(marker: Marker, inst: ResourceInstance, refs: _References) -> str | None:
    """Why the marker matches (a short evidence string), or None."""
    when = marker.when
    if "attribute" in when:
        v = resolve(inst.attributes, when["attribute"])
        if v is MISSING:
            return None
        if "equals" in when and v != when["equals"]:
            return None
        if "glob" in when and not (isinstance(v, str) and fnmatch.fnmatchcase(v, when["glob"])):
            return None
        return f"{when['attribute']} = {v!r}" if not isinstance(v, str) or "glob" in when or "equals" in when else when["attribute"]
    if "tag" in when:
        keys = sorted(k for k in _tags_of(inst) if fnmatch.fnmatchcase(str(k), when["tag"]))
        return f"tag {keys[0]}" if keys else None
    if "referenced_by" in when:
        rb = when["referenced_by"]
        own = inst.attributes.get("id")
        if not isinstance(own, str):
            return None
        for path in rb["paths"]:
            holder = refs.holders(rb["type"], path).get(own)
            if holder:
                return f"{holder}.{path}"
    return None


def _rebody(mo: Any) -> None:
    for name in mo.mapping.post:
        POST[name](mo.spec)
    mo.conversion.body = mo.body()


def _drop_field(mo: Any, path: str) -> bool:
    """Remove a (dotted) spec field; True when it was rendered."""
    parts = path.split(".")
    node = mo.spec
    for p in parts[:-1]:
        node = node.get(p) if isinstance(node, dict) else None
        if node is None:
            return False
    if isinstance(node, dict) and parts[-1] in node:
        del node[parts[-1]]
        return True
    return False


def _settle_tags(objects: Any, set_by: str, winner: str) -> None:
    """One tag entry per key after folding (the later writer wins, as in AWS), the clash noted, the body rebuilt."""
    for mo in objects:
        clashes = _dedupe_tags(mo)
        if clashes:
            mo.conversion.omissions.append(Omission(
                "spec.tags", f"keys {', '.join(sorted(clashes))} are set {set_by} with different values: "
                             f"{winner} is rendered"))
        _rebody(mo)


def _dedupe_tags(mo: Any) -> list[str]:
    """Tags folded from `aws_ec2_tag` can repeat a key the object already has: one entry per key (the fold's
    value wins — it is the later write). Returns the keys whose values disagreed."""
    tspec = mo.mapping.tags
    if tspec is None or tspec.shape != "list":
        return []
    tags = lookup(mo.spec, tspec.field)
    if not isinstance(tags, list):
        return []
    merged: dict[str, str] = {}
    clashes = []
    for t in tags:
        if not isinstance(t, dict):
            continue
        k, v = str(t.get("key")), t.get("value")
        if k in merged and merged[k] != v:
            clashes.append(k)
        merged[k] = v
    from converter.mapping.paths import assign

    assign(mo.spec, tspec.field, [{"key": k, "value": v} for k, v in sorted(merged.items())])
    return clashes


class OwnershipAnalysis:
    def __init__(self, state: StateFile, result: MapResult, mappings: MappingSet, rules: OwnershipRules,
                 other_instances: Iterable[ResourceInstance] = (), live: Any = None):
        self.state, self.result, self.mappings, self.rules = state, result, mappings, rules
        self.others = [i for i in other_instances if i.is_managed]
        self.live = live
        self.report = OwnershipReport()

    def _controller(self, mo: Any, fld: str) -> str:
        return self.rules.atomic(mo.inst.type, mo.mapping.tags.field if mo.mapping.tags else None).get(fld, "")

    # ------------------------------------------------------------------------------------------ markers
    def apply_markers(self) -> None:
        refs = _References(list(self.state.managed) + self.others)
        for addr in sorted(self.result.objects):
            mo = self.result.objects[addr]
            hits = [(m, ev) for m in self.rules.markers if m.applies(mo.inst.type)
                    for ev in [_marker_hit(m, mo.inst, refs)] if ev]
            if not hits:
                continue
            strongest = max(hits, key=lambda h: DECISION_RANK[h[0].decision])
            for m, ev in hits:
                writer = Writer(kind=m.writer_kind, name=m.writer_name)
                for fld in m.fields:
                    self.report.decisions.append(Decision(
                        address=addr, tf_type=mo.inst.type, field=fld, decision=m.decision, writers=[writer],
                        reason=f"{m.why} (marker: {ev})", rule=f"markers.{m.id}", controller=self._controller(mo, fld)))
            m, ev = strongest
            if m.decision == "not-adopted":
                self._not_adopt(addr, f"co-managed by {m.writer_name}: {m.why} (marker: {ev})")
            elif m.decision == "omit":
                for fld in m.fields:
                    if _drop_field(mo, fld):
                        mo.conversion.omissions.append(Omission(f"spec.{fld}", f"owned by {m.writer_name}: {m.why}; adopt keeps AWS's value"))
                _rebody(mo)

    def _not_adopt(self, addr: str, reason: str) -> None:
        mo = self.result.objects.pop(addr)
        conv = mo.conversion
        conv.status, conv.reason, conv.body = Status.NOT_ADOPTED, reason, None
        for child in mo.folded:
            cc = self.result.conversions.get(child)
            if cc is not None:
                self.result.conversions[child] = Conversion(
                    address=child, type=cc.type, phase=cc.phase, status=Status.NOT_ADOPTED,
                    reason=f"part of {addr}, which is not adopted ({reason})")

    # ------------------------------------------------------------------------------------------ Terraform writers
    def _written_fields(self, inst: Any, fields: list[str]) -> list[str]:
        """The writer fields this instance really writes: the targets of the fold rule its `when` selects (an
        aws_security_group_rule of type ingress writes ingressRules, not egressRules). All of them when no rule
        says (the report then errs on the side of naming a field too many)."""
        tm = self.mappings.get(inst.type)
        for rule in (tm.folds if tm is not None else ()):
            if any(str(resolve(inst.attributes, p)) != str(v) for p, v in rule.when.items()):
                continue
            targets = {fs.target for fs in rule.append + rule.set} | {e[0] for e in rule.entry}
            hit = [f for f in fields if any(t == f or t.startswith(f + ".") for t in targets)]
            return hit or list(fields)
        return list(fields)

    def record_local_folds(self) -> None:
        tagged: dict[str, Any] = {}
        insts = {i.address: i for i in self.state.managed}
        for addr in sorted(self.result.conversions):
            conv = self.result.conversions[addr]
            fields = self.rules.writers.get(conv.type)
            if fields is None or conv.status is not Status.FOLDED or conv.fold_parent not in self.result.objects:
                continue
            if addr in insts:
                fields = self._written_fields(insts[addr], fields)
            mo = self.result.objects[conv.fold_parent]
            if mo.mapping.tags is not None and mo.mapping.tags.field in fields:
                tagged[mo.inst.address] = mo
            for fld in fields:
                if lookup(mo.spec, fld) is MISSING:
                    continue
                reason = f"also written by {addr} (same state): folded, it leaves Terraform with the object"
                if self._own_attribute_empty(mo, fld):
                    reason += ("; the object's own state lists none of this field's values (not refreshed after the "
                               "folded resources were created), so the folded set is all that is known: values "
                               "added outside Terraform would be removed — check with `tf2kro diff` or convert --live")
                self.report.decisions.append(Decision(
                    address=mo.inst.address, tf_type=mo.inst.type, field=fld, decision="fold",
                    writers=[Writer(kind="terraform", name=conv.type, address=addr)],
                    reason=reason, rule=f"writers.{conv.type}", controller=self._controller(mo, fld)))
        # a folded aws_ec2_tag can repeat a key the object's own tags_all already has
        _settle_tags(tagged.values(), "by the object and by aws_ec2_tag", "the aws_ec2_tag value")

    @staticmethod
    def _own_attribute_empty(mo: Any, fld: str) -> bool:
        """The state attribute the field is rendered from (e.g. aws_security_group.ingress) is present but empty."""
        for fs in mo.mapping.spec:
            if fs.target == fld and fs.sources:
                v = resolve(mo.inst.attributes, fs.sources[0])
                return v is not MISSING and not v
        return False

    def fold_other_roots(self) -> None:
        """Writer resources of other roots whose target is an object of this one fold into it, as they would if they
        were in this state; the writer must leave its own root's Terraform in the same phase."""
        mapper = Mapper(self.mappings)
        touched: dict[str, Any] = {}
        index: dict[tuple[str, tuple[str, ...]], dict[tuple[str, ...], Any]] = {}

        def parents(ptype: str, paths: tuple[str, ...]) -> dict[tuple[str, ...], Any]:
            key = (ptype, paths)
            if key not in index:
                idx: dict[tuple[str, ...], Any] = {}
                for mo in self.result.objects.values():
                    if mo.inst.type == ptype:
                        idx.setdefault(tuple(str(resolve(mo.inst.attributes, p)) for p in paths), mo)
                index[key] = idx
            return index[key]

        for inst in sorted(self.others, key=lambda i: i.address):
            fields = self.rules.writers.get(inst.type)
            tm = self.mappings.get(inst.type)
            if fields is None or tm is None or not tm.is_fold:
                continue
            for rule in tm.folds:
                if any(str(resolve(inst.attributes, p)) != str(v) for p, v in rule.when.items()):
                    continue
                vals = tuple(str(resolve(inst.attributes, c)) for c in rule.match)
                parent = next((p for pt in rule.into for p in [parents(pt, tuple(rule.match.values())).get(vals)] if p), None)
                if parent is None:
                    continue
                mapper._fold_into(inst, rule, parent)
                touched[parent.inst.address] = parent
                for fld in self._written_fields(inst, fields):
                    if lookup(parent.spec, fld) is MISSING:
                        continue
                    self.report.decisions.append(Decision(
                        address=parent.inst.address, tf_type=parent.inst.type, field=fld, decision="fold",
                        writers=[Writer(kind="terraform", name=inst.type, address=inst.address, root=inst.source_file or None)],
                        reason=(f"also written by {inst.address} in {inst.source_file or 'another root'}: folded into the "
                                "rendered field; remove it from that root's Terraform in the same phase"),
                        rule=f"writers.{inst.type}", controller=self._controller(parent, fld)))
                break
        _settle_tags(touched.values(), "by this state and by another root's aws_ec2_tag", "the folded value")

    def account_foreign_writers(self) -> None:
        """A writer in THIS state whose target is in another given root: say where it folds (never silently left).
        One whose target is owned by an AWS service (a `referenced_by` marker: the EKS cluster security group that
        `aws_ec2_tag.cluster_primary_security_group` tags) says so and stays in Terraform."""
        self._writers_on_service_objects()
        if not self.others:
            return
        by_value: dict[str, str] = {}
        for inst in self.others:
            for k in ("id", "name", "arn"):
                v = inst.attributes.get(k)
                if isinstance(v, str) and v:
                    by_value.setdefault(v, inst.address)
        insts = {i.address: i for i in self.state.managed}
        for addr, conv in self.result.conversions.items():
            tm = self.mappings.get(conv.type)
            if conv.status is not Status.UNSUPPORTED or conv.type not in self.rules.writers or tm is None or not tm.is_fold:
                continue
            inst = insts.get(addr)
            if inst is None:
                continue
            for rule in tm.folds:
                for child_path in rule.match:
                    target = by_value.get(str(resolve(inst.attributes, child_path)))
                    if target:
                        conv.reason = (f"writes {', '.join(self.rules.writers[conv.type])} of {target} in another root: "
                                       "it folds into that object when that root is converted with this one, and leaves "
                                       "Terraform with it")
                        break

    def _writers_on_service_objects(self) -> None:
        refs = _References(list(self.state.managed) + self.others)
        insts = {i.address: i for i in self.state.managed}
        for addr, conv in sorted(self.result.conversions.items()):
            tm = self.mappings.get(conv.type)
            inst = insts.get(addr)
            if conv.status is not Status.UNSUPPORTED or conv.type not in self.rules.writers or tm is None or not tm.is_fold \
                    or inst is None:
                continue
            targets = {str(resolve(inst.attributes, c)) for rule in tm.folds for c in rule.match}
            for m in self.rules.markers:
                rb = m.when.get("referenced_by")
                if not rb:
                    continue
                for path in rb["paths"]:
                    holder = next((refs.holders(rb["type"], path)[t] for t in sorted(targets)
                                   if t in refs.holders(rb["type"], path)), None)
                    if holder:
                        conv.reason = (f"writes {', '.join(self.rules.writers[conv.type])} of an object {m.writer_name} "
                                       f"owns ({holder}.{path}; {m.why}): it stays in Terraform")
                        break

    # ------------------------------------------------------------------------------------------ live values
    def apply_live(self) -> None:
        if self.live is None:
            return
        from converter.diff.compare import Entry, diff_values
        from converter.diff.live import search, state_id
        from converter.diff.normalize import NormContext, tags_to_map

        for addr in sorted(self.result.objects):
            mo = self.result.objects[addr]
            d = mo.mapping.describe or {}
            tr = self.live.types.get(mo.inst.type)
            sid = state_id(d, mo.inst.attributes) if d else None
            if tr is None or sid is None or sid not in tr.items:
                continue
            item = tr.items[sid]
            spec_entries = d.get("spec") or {}
            for fld in self.rules.atomic(mo.inst.type, mo.mapping.tags.field if mo.mapping.tags else None):
                rule = self.rules.live_only.get(fld)
                raw = spec_entries.get(fld)
                rendered = lookup(mo.spec, fld)
                if rule is None or raw is None or rendered is MISSING:
                    continue
                entry = Entry.parse(raw, f"{mo.mapping.file}: {mo.inst.type}")
                if entry.source is None:
                    continue
                live_value = search(entry.source, item)
                if fld == (mo.mapping.tags.field if mo.mapping.tags else None):
                    lv = tags_to_map(live_value) if live_value is not None else {}
                    rv = tags_to_map(rendered)
                    extra = sorted(k for k in (lv if isinstance(lv, dict) else {}) if not str(k).startswith("aws:")
                                   and k not in (rv if isinstance(rv, dict) else {}))
                    what = f"keys {', '.join(extra)}"
                else:
                    found = diff_values(rendered, live_value, entry, NormContext(item=item, account_id=self.result.account_id,
                                                                                 region=self.live.region), f"spec.{fld}")
                    extra = [p for p, _e, _lv, w in found if w == "only in AWS"]
                    what = f"{len(extra)} item(s)"
                if not extra:
                    continue
                self.report.decisions.append(Decision(
                    address=addr, tf_type=mo.inst.type, field=fld, decision=rule["decision"],
                    writers=[Writer(kind="live", name="outside the estate (seen in the live capture)")],
                    reason=f"{rule['why']}: {what}", rule=f"live_only.{fld}", controller=self._controller(mo, fld)))
                if rule["decision"] == "omit" and _drop_field(mo, fld):
                    mo.conversion.omissions.append(Omission(
                        f"spec.{fld}", f"{rule['why']} ({what}): not rendered, adopt keeps AWS's value; "
                                       "find the writer before ACK owns this field"))
                    _rebody(mo)


def analyze_ownership(state: StateFile, result: MapResult, mappings: MappingSet, *, rules: OwnershipRules | None = None,
                      other_instances: Iterable[ResourceInstance] = (), live: Any = None) -> OwnershipReport:
    """Run the analysis over one root's MapResult (edited in place). `other_instances`: the instances of the estate's
    other roots (their writers fold into this root's objects, their references count as markers); `live`: a
    `converter.diff.live.LiveRead` (a capture) whose values no state holds."""
    a = OwnershipAnalysis(state, result, mappings, rules or load_rules(mappings.directory), other_instances, live)
    a.apply_markers()
    a.record_local_folds()
    a.fold_other_roots()
    a.account_foreign_writers()
    a.apply_live()
    from converter.ownership.exact import render_exact_fields

    render_exact_fields(result, a.report, live)
    return a.report
