"""Emit: one kro ResourceGraphDefinition + one instance per phase (or per part of a phase split by size), every
child an ACK object that adopts.

Inside a part, a value that is another object's identifier becomes a CEL reference (`${vpc.status.vpcID}`)
so kro orders adoption along the graph; across parts and phases the referenced object (adopted by an earlier
instance) is read through an `externalRef`. A reference to a *later* part or phase stays the literal state value.
Names, kinds and namespaces come from converter.emit.naming (env + root in each); sizes from converter.emit.size.
"""

from __future__ import annotations

import copy
import io
import json
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from converter.emit.ids import kro_id
from converter.emit.naming import Naming, default_namespace
from converter.emit.size import RGD_SIZE_BUDGET, serialized_size
from converter.emit.variables import SchemaVariable, schema_variables, simple_schema
from converter.graph.build import EstateGraph
from converter.mapping.engine import READ_ONLY, REGION, MapResult
from converter.model import Status

KRO_API = "kro.run/v1alpha1"
SCHEMA_GROUP = "migration.tf2kro.dev"
SYNC_WAVE = "argocd.argoproj.io/sync-wave"
SYNC_OPTIONS = "argocd.argoproj.io/sync-options"


@dataclass
class EmitOptions:
    env: str = "main"
    namespace: str | None = None  # None = converter.emit.naming.default_namespace(env): one namespace per env
    read_only: bool = False
    phases: tuple[str, ...] | None = None  # None = all
    root: str = "root"  # the Terraform root (stack) name: Estate.root
    size_budget: int | None = RGD_SIZE_BUDGET  # split an RGD above this many serialised bytes (None = never)

    @property
    def naming(self) -> Naming:
        return Naming(self.env, self.root)

    @property
    def ns(self) -> str:
        return self.namespace or default_namespace(self.env)


@dataclass
class PhaseOutput:
    phase: str
    rgd: dict[str, Any]
    instance: dict[str, Any]
    ids: dict[str, str]  # address -> kro id
    external: dict[str, str] = field(default_factory=dict)  # address -> kro id of externalRef entries
    literal_refs: list[str] = field(default_factory=list)  # references left literal (later phase / later part)
    part: str = ""  # `network`, or `network-2` when the phase was split by size


LITERAL_DOLLAR_BRACE = '${"${"}'
# Server-side apply: no last-applied annotation (256 KiB limit), kro's own fields are not fought over.
# SkipDryRunOnMissingResource: an instance's CRD exists only after kro processed the RGD of the same sync.
ARGO_SYNC_OPTIONS = "ServerSideApply=true"
ARGO_INSTANCE_SYNC_OPTIONS = "SkipDryRunOnMissingResource=true,ServerSideApply=true"


def escape_literals(node: Any) -> Any:
    """Every string value (not map keys, which kro never parses) with each literal `${` written as the CEL
    expression `${"${"}`, kro's way to produce a literal `${` (an expression that returns the string "${")."""
    if isinstance(node, str):
        return node.replace("${", LITERAL_DOLLAR_BRACE) if "${" in node else node
    if isinstance(node, dict):
        return {k: escape_literals(v) for k, v in node.items()}
    if isinstance(node, list):
        return [escape_literals(v) for v in node]
    return node


_ATOMS = (str, int, float, bool, type(None))


def _copy_body(body: Any) -> Any:
    """copy.deepcopy for a state-derived body (dicts, lists, JSON scalars), about 4x faster; a container met twice
    stays shared in the copy, as deepcopy keeps it (the YAML then keeps its anchor). Any other type: deepcopy.
    A plain recursive function, not a closure: a self-referencing closure is a cycle that, with the GC paused
    during render (converter/gcpause.py), would keep every memo alive."""
    try:
        return _copy_node(body, {})
    except TypeError:
        return copy.deepcopy(body)


def _copy_node(node: Any, memo: dict[int, Any]) -> Any:
    t = type(node)
    if t is dict or t is list:
        done = memo.get(id(node))
        if done is not None:
            return done
        if t is dict:
            d: dict[Any, Any] = {}
            memo[id(node)] = d
            for k, v in node.items():
                d[k] = _copy_node(v, memo)
            return d
        seq: list[Any] = []
        memo[id(node)] = seq
        seq.extend(_copy_node(v, memo) for v in node)
        return seq
    if t in _ATOMS:
        return node
    raise TypeError(t)


def _set_path(obj: Any, path: tuple[str | int, ...], value: Any) -> None:
    node = obj
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value


def rgd_kind(env: str, phase: str, root: str = "root") -> str:
    return Naming(env, root).kind(phase)


def ready_when(rid: str) -> list[str]:
    """Ready = adopted and in sync, never the resource's health (docs/naming.md "Readiness").

    ACK sets `ACK.ResourceSynced=True` only after ReadOne found the resource (with `adopt`, a missing one is an error,
    never a create) and spec == AWS; the eks Nodegroup/Cluster managers report synced whatever the status
    (`IsSynced` returns true; only an update attempted in a non-ACTIVE state sets it False). A health condition such
    as `status.status == "ACTIVE"` would hold a DEGRADED node group's or a stopped database's dependents forever."""
    return ["${" + rid + '.status.conditions.exists(c, c.type == "ACK.ResourceSynced" && c.status == "True")}']


def module_of(addr: str) -> str:
    """The top-level module call of an address (`module.eks.module.x.aws_y.z` → `module.eks`), "" for the root."""
    return addr.split(".", 2)[0] + "." + addr.split(".", 2)[1] if addr.startswith("module.") else ""


def partition(members: list[str], sizes: dict[str, int], edges: list[tuple[str, str]], budget: int | None,
              waves: dict[str, int]) -> list[list[str]]:
    """Split a phase's objects into parts of at most `budget` bytes: whole modules first (a module and everything
    it is in a reference cycle with stays together), in dependency order; a module larger than the budget is cut by
    wave. References then point to the same or an earlier part (an earlier part's object is read through an
    externalRef), because waves and the module order both follow the dependency graph. `edges` are (target, source):
    source's spec references target. One object larger than the budget is a part of its own."""
    if budget is None or len(members) < 2 or sum(sizes[a] for a in members) <= budget:
        return [list(members)]
    unit_of = {a: module_of(a) for a in members}
    ug = nx.DiGraph()
    ug.add_nodes_from(set(unit_of.values()))
    ug.add_edges_from((unit_of[t], unit_of[s]) for t, s in edges if unit_of[t] != unit_of[s])
    cond = nx.condensation(ug)
    # each condensed node's objects, collected once (scanning every member per node was quadratic: 4 s of
    # emit at 50k resources, where for_each module instances make thousands of units)
    by_unit: dict[str, list[str]] = {}
    for a in members:
        by_unit.setdefault(unit_of[a], []).append(a)
    objects_of = {c: [a for m in cond.nodes[c]["members"] for a in by_unit[m]] for c in cond.nodes}
    order_key = {c: min((waves.get(a, 0), a) for a in objs) for c, objs in objects_of.items()}
    slices: list[list[str]] = []
    for c in nx.lexicographical_topological_sort(cond, key=lambda c: order_key[c]):
        unit = sorted(objects_of[c], key=lambda a: (waves.get(a, 0), a))
        if sum(sizes[a] for a in unit) <= budget:
            slices.append(unit)
            continue
        cur: list[str] = []
        size = 0
        for a in unit:
            if cur and size + sizes[a] > budget:
                slices.append(cur)
                cur, size = [], 0
            cur.append(a)
            size += sizes[a]
        slices.append(cur)
    parts: list[list[str]] = []
    cur, size = [], 0
    for sl in slices:
        ssize = sum(sizes[a] for a in sl)
        if cur and size + ssize > budget:
            parts.append(cur)
            cur, size = [], 0
        cur.extend(sl)
        size += ssize
    if cur:
        parts.append(cur)
    return parts


def emit_phases(result: MapResult, eg: EstateGraph, opts: EmitOptions, hcl: Any = None) -> list[PhaseOutput]:
    naming = opts.naming
    # stable global ids (an object keeps its id wherever it is referenced from)
    used: set[str] = set()
    global_ids: dict[str, str] = {}
    for addr in sorted(result.objects, key=lambda a: (eg.phase_order.index(eg.phases[a]) if eg.phases[a] in eg.phase_order else 99,
                                                      eg.waves.get(a, 0), a)):
        global_ids[addr] = kro_id(result.objects[addr].conversion.object_name or addr, used)
    for key, xo in sorted(eg.external_objects.items()):  # another root's objects (multi-root estates)
        global_ids[key] = kro_id(f"{xo.root}-{xo.name}", used)

    refs_by_source: dict[str, list] = {}
    for ref in eg.value_refs:
        refs_by_source.setdefault(ref.source, []).append(ref)

    rank = {p: i for i, p in enumerate(eg.phase_order)}
    # (phase rank, part index) of every emitted object: a reference may only point to an earlier one or its own part
    position: dict[str, tuple[int, int]] = {}
    outputs: list[PhaseOutput] = []
    for phase in eg.phase_order:
        members = sorted(
            (a for a in result.objects if eg.phases.get(a) == phase),
            key=lambda a: (eg.waves.get(a, 0), a),
        )
        if not members:
            continue
        # pack the resources into 90 % of the budget (the rest of the RGD: schema, status, externalRefs); when a
        # part still comes out over the budget (many externalRefs), pack again tighter (at most 4 times)
        budget = int(opts.size_budget * 0.9) if opts.size_budget else None
        sizes = {a: serialized_size(result.objects[a].conversion.body or result.objects[a].body()) + 200
                 for a in members} if budget is not None else {}
        mset = set(members)
        edges = [(r.target, a) for a in members for r in refs_by_source.get(a, ()) if r.target in mset]
        selected = not opts.phases or phase in opts.phases
        emitted: list[PhaseOutput] = []
        for _attempt in range(5):
            parts = partition(members, sizes, edges, budget, eg.waves)
            for i, part_members in enumerate(parts):
                for a in part_members:
                    position[a] = (rank.get(phase, 99), i)
            if not selected:  # only the positions matter (later phases' externalRefs)
                break
            emitted = [_emit_part(result, eg, opts, hcl, phase, phase if len(parts) == 1 else f"{phase}-{i + 1}",
                                  part_members, global_ids, refs_by_source, position, naming)
                       for i, part_members in enumerate(parts)]
            if budget is None or opts.size_budget is None or len(members) < 2:
                break
            # a part of one object cannot shrink (validate reports it if it passes a limit)
            worst = max((serialized_size(po.rgd) for po in emitted if len(po.ids) > 1), default=0)
            if worst <= opts.size_budget:
                break
            budget = int(budget * opts.size_budget / worst * 0.95)
        outputs.extend(emitted)
    return outputs


def _emit_part(result: MapResult, eg: EstateGraph, opts: EmitOptions, hcl: Any, phase: str, part: str,
               members: list[str], global_ids: dict[str, str], refs_by_source: dict[str, list],
               position: dict[str, tuple[int, int]], naming: Naming) -> PhaseOutput:
    resources: list[dict[str, Any]] = []
    external: dict[str, str] = {}
    literal: list[str] = []
    here = position[members[0]]
    # kro rejects a graph with a cycle; a reference that would close one stays a literal value
    cel_edges = nx.DiGraph()
    cel_edges.add_nodes_from(members)
    bound_at: dict[str, list[tuple[str, SchemaVariable]]] = {}  # by object: a scan of all per object was quadratic
    for (baddr, target), sv in schema_variables(hcl, result.objects, members).items():
        bound_at.setdefault(baddr, []).append((target, sv))
    schema_vars: dict[str, SchemaVariable] = {}
    for addr in members:
        mo = result.objects[addr]
        # kro parses every string of a template for `${…}`: a literal `${` from state (IAM policy variables
        # such as `${aws:username}`, user data) must not become an expression. escape_literals builds new dicts and
        # lists, so the mapped body is not shared with the template below (no deepcopy needed first)
        body = escape_literals(mo.conversion.body or mo.body())
        body["metadata"]["name"] = naming.object_name(mo.conversion.object_name or "resource")
        for target, sv in bound_at.get(addr, ()):
            _set_path(body["spec"], tuple(target.split(".")), "${schema.spec." + sv.field + "}")
            schema_vars[sv.field] = sv
        ann = body["metadata"]["annotations"]
        if result.region and ann.get(REGION) == result.region:
            # the instance's spec.region is the one place the main region is written (per-object ARN regions that
            # differ stay literal)
            ann[REGION] = "${schema.spec.region}"
        if opts.read_only:
            ann[READ_ONLY] = "true"
        body["metadata"]["annotations"] = dict(sorted(ann.items()))
        for ref in refs_by_source.get(addr, ()):
            there = position.get(ref.target)
            where = ".".join(map(str, ref.path))
            if there == here:
                if nx.has_path(cel_edges, addr, ref.target):
                    literal.append(f"{addr} → {ref.target} ({where}): would close a cycle")
                    continue
                cel_edges.add_edge(ref.target, addr)
                _set_path(body["spec"], ref.path, f"${{{global_ids[ref.target]}.{ref.ack_path}}}")
            elif ref.target in eg.external_objects or (there is not None and there < here):
                external.setdefault(ref.target, global_ids[ref.target])
                _set_path(body["spec"], ref.path, f"${{{global_ids[ref.target]}.{ref.ack_path}}}")
            else:
                literal.append(f"{addr} → {ref.target} ({where})")
        rid = global_ids[addr]
        resources.append({"id": rid, "template": body, "readyWhen": ready_when(rid)})
    ext_entries = []
    for taddr, tid in sorted(external.items(), key=lambda kv: kv[1]):
        xo = eg.external_objects.get(taddr)
        if xo is not None:  # another root's object: named by that root's naming, in its namespace
            meta = {"name": Naming(naming.env, xo.root).object_name(xo.name)}
            meta |= {"namespace": xo.namespace} if xo.namespace else {}
            ext_entries.append({"id": tid, "externalRef": {"apiVersion": xo.api_version, "kind": xo.kind, "metadata": meta}})
            continue
        tmo = result.objects[taddr]
        ext_entries.append(
            {
                "id": tid,
                "externalRef": {
                    "apiVersion": tmo.mapping.api_version,
                    "kind": tmo.mapping.kind,
                    "metadata": {"name": naming.object_name(tmo.conversion.object_name or "resource")},
                },
            }
        )
    kind = naming.kind(part)
    # region unknown (e.g. an IAM-only state: IAM ARNs carry no region): no schema field rather than a required
    # one the instance cannot fill; the report says to pass --region
    spec_schema: dict[str, Any] = {"region": f"string | default={result.region}"} if result.region else {}
    for fname in sorted(schema_vars):
        spec_schema[fname] = simple_schema(schema_vars[fname])
    meta_ann = {SYNC_WAVE: "-1", SYNC_OPTIONS: ARGO_SYNC_OPTIONS, "tf2kro.dev/phase": phase,
                "tf2kro.dev/environment": opts.env, "tf2kro.dev/root": opts.root}
    if part != phase:
        meta_ann["tf2kro.dev/part"] = part
    rgd = {
        "apiVersion": KRO_API,
        "kind": "ResourceGraphDefinition",
        "metadata": {"name": naming.rgd_name(part, SCHEMA_GROUP), "annotations": meta_ann},
        "spec": {
            "schema": {
                "apiVersion": "v1alpha1",
                "kind": kind,
                "group": SCHEMA_GROUP,
                "scope": "Namespaced",
                "spec": spec_schema,
                "status": _status_projection(members, result, global_ids),
            },
            "resources": ext_entries + resources,
        },
    }
    instance = {
        "apiVersion": f"{SCHEMA_GROUP}/v1alpha1",
        "kind": kind,
        "metadata": {
            "name": naming.instance_name(part),
            "namespace": opts.ns,
            "annotations": {SYNC_WAVE: "0", SYNC_OPTIONS: ARGO_INSTANCE_SYNC_OPTIONS},
        },
        "spec": ({"region": result.region} if result.region else {})
        | {f: schema_vars[f].value for f in sorted(schema_vars)},
    }
    return PhaseOutput(phase, rgd, instance, {a: global_ids[a] for a in members}, external, literal, part)


def _status_projection(members: list[str], result: MapResult, ids: dict[str, str]) -> dict[str, str]:
    """Project the primary identifier of a handful of objects into the instance status (for humans and for
    later phases' PR reviews): VPC/cluster ids and ARNs."""
    out: dict[str, str] = {}
    for addr in members:
        mo = result.objects[addr]
        if mo.mapping.kind not in ("VPC", "Cluster"):
            continue
        first = next(iter(mo.mapping.references.values()), None)
        if first and first.startswith("status."):
            out[ids[addr] + _cap(first.rsplit(".", 1)[-1])] = "${" + ids[addr] + "." + first + "}"
    return dict(sorted(out.items()))


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _dns(s: str) -> str:
    import re

    return re.sub(r"[^a-z0-9-]+", "-", s.lower()).strip("-") or "main"


def plain_objects(result: MapResult, opts: EmitOptions, phase: str, eg: EstateGraph) -> list[dict[str, Any]]:
    """The ACK objects of a phase with literal values (no kro): for `kubectl diff`, reviews, and
    environments that apply ACK objects without kro."""
    out = []
    for addr in sorted(result.objects, key=lambda a: (eg.waves.get(a, 0), a)):
        if eg.phases.get(addr) != phase:
            continue
        body = _copy_body(result.objects[addr].conversion.body)
        body["metadata"]["name"] = opts.naming.object_name(body["metadata"]["name"])
        body["metadata"]["namespace"] = opts.ns
        if opts.read_only:
            body["metadata"]["annotations"][READ_ONLY] = "true"
            body["metadata"]["annotations"] = dict(sorted(body["metadata"]["annotations"].items()))
        out.append(body)
    return out


def region_unknown(result: MapResult) -> bool:
    """Objects were mapped but no regional ARN told the region: they get no region annotation (report + CLI note)."""
    return bool(result.objects) and not result.region


def report(result: MapResult, eg: EstateGraph, naming: Naming | None = None, ownership: Any = None) -> dict[str, Any]:
    """The inspect/coverage report: one row per managed instance (+ the shared-ownership decisions, when given).
    With `naming` (convert), `name` is the emitted metadata.name; without (inspect: no environment given), the
    address-derived base name."""
    rows = []
    for addr in sorted(result.conversions):
        c = result.conversions[addr]
        row: dict[str, Any] = {"address": addr, "type": c.type, "phase": c.phase, "status": c.status.value}
        if c.status is Status.MAPPED:
            name = naming.object_name(c.object_name or "resource") if naming else c.object_name
            row.update(kind=c.kind, name=name, wave=c.wave, adoption_fields=c.adoption_fields)
            if c.omissions:
                row["omitted"] = [{"field": o.field, "reason": o.reason} for o in c.omissions]
            if c.reason:
                row["note"] = c.reason
        elif c.status is Status.FOLDED:
            row.update(fold_parent=c.fold_parent, wave=c.wave)
        else:
            row["reason"] = c.reason
        if ownership is not None and ownership.for_address(addr):
            row["ownership"] = [d.summary() for d in ownership.for_address(addr)]
        rows.append(row)
    counts = result.counts()
    aws = [r for r in rows if r["type"].startswith("aws_")]
    covered = sum(1 for r in aws if r["status"] not in ("unsupported", "not-adopted"))
    extra = {"ownership": ownership.to_json()} if ownership is not None else {}
    return {
        "region": result.region,
        "account_id": result.account_id,
        "counts": counts,
        "aws_coverage": {"instances": len(aws), "mapped_or_folded": covered,
                          "percent": round(100.0 * covered / len(aws), 1) if aws else 100.0},
        "findings": ([] if not region_unknown(result) else [{
            "kind": "region",
            "message": "region not determined from state (no regional ARN): ACK objects carry no "
                       "services.k8s.aws/region annotation and use the controller's default region; pass --region",
        }]) + [{"kind": f.kind, "message": f.message} for f in eg.findings],
        "resources": rows,
        **extra,
    }


def to_json(data: Any) -> str:
    """Indented JSON text. Streamed into a StringIO: `json.dumps` with `indent` collects every token in a list
    before joining (at 50k resources report.json is 40 MiB of text and that list peaked at ~150 MiB; streamed, ~45)."""
    buf = io.StringIO()
    json.dump(data, buf, indent=2, sort_keys=False, ensure_ascii=False)
    buf.write("\n")
    return buf.getvalue()
