"""Emit: one kro ResourceGraphDefinition + one instance per phase, every child an ACK object that adopts.

Inside a phase, a value that is another object's identifier becomes a CEL reference (`${vpc.status.vpcID}`)
so kro orders adoption along the graph; across phases the referenced object (adopted by an earlier phase's
instance) is read through an `externalRef`. A reference to a *later* phase stays the literal state value.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from converter.emit.ids import camel, kro_id
from converter.emit.variables import SchemaVariable, schema_variables, simple_schema
from converter.graph.build import EstateGraph
from converter.mapping.engine import READ_ONLY, MapResult
from converter.model import Status

KRO_API = "kro.run/v1alpha1"
SCHEMA_GROUP = "migration.tf2kro.dev"
SYNC_WAVE = "argocd.argoproj.io/sync-wave"
SYNC_OPTIONS = "argocd.argoproj.io/sync-options"


@dataclass
class EmitOptions:
    env: str = "main"
    namespace: str = "infrastructure"
    read_only: bool = False
    phases: tuple[str, ...] | None = None  # None = all


@dataclass
class PhaseOutput:
    phase: str
    rgd: dict[str, Any]
    instance: dict[str, Any]
    ids: dict[str, str]  # address -> kro id
    external: dict[str, str] = field(default_factory=dict)  # address -> kro id of externalRef entries
    literal_refs: list[str] = field(default_factory=list)  # references left literal (later phase)


LITERAL_DOLLAR_BRACE = '${"${"}'


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


def _set_path(obj: Any, path: tuple[str | int, ...], value: Any) -> None:
    node = obj
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value


def rgd_kind(env: str, phase: str) -> str:
    return camel(f"{env} {phase}", upper=True)


def emit_phases(result: MapResult, eg: EstateGraph, opts: EmitOptions, hcl: Any = None) -> list[PhaseOutput]:
    # stable global ids (an object keeps its id wherever it is referenced from)
    used: set[str] = set()
    global_ids: dict[str, str] = {}
    for addr in sorted(result.objects, key=lambda a: (eg.phase_order.index(eg.phases[a]) if eg.phases[a] in eg.phase_order else 99,
                                                      eg.waves.get(a, 0), a)):
        global_ids[addr] = kro_id(result.objects[addr].conversion.object_name or addr, used)

    refs_by_source: dict[str, list] = {}
    for ref in eg.value_refs:
        refs_by_source.setdefault(ref.source, []).append(ref)

    rank = {p: i for i, p in enumerate(eg.phase_order)}
    outputs: list[PhaseOutput] = []
    for phase in eg.phase_order:
        if opts.phases and phase not in opts.phases:
            continue
        members = sorted(
            (a for a in result.objects if eg.phases.get(a) == phase),
            key=lambda a: (eg.waves.get(a, 0), a),
        )
        if not members:
            continue
        resources: list[dict[str, Any]] = []
        external: dict[str, str] = {}
        literal: list[str] = []
        # kro rejects a graph with a cycle; a reference that would close one stays a literal value
        cel_edges = nx.DiGraph()
        cel_edges.add_nodes_from(members)
        bound = schema_variables(hcl, result.objects, members)
        schema_vars: dict[str, SchemaVariable] = {}
        for addr in members:
            mo = result.objects[addr]
            # kro parses every string of a template for `${…}`: a literal `${` from state (IAM policy variables
            # such as `${aws:username}`, user data) must not become an expression
            body = escape_literals(copy.deepcopy(mo.conversion.body or mo.body()))
            for (baddr, target), sv in bound.items():
                if baddr == addr:
                    _set_path(body["spec"], tuple(target.split(".")), "${schema.spec." + sv.field + "}")
                    schema_vars[sv.field] = sv
            if opts.read_only:
                body["metadata"]["annotations"][READ_ONLY] = "true"
                body["metadata"]["annotations"] = dict(sorted(body["metadata"]["annotations"].items()))
            for ref in refs_by_source.get(addr, ()):
                tphase = eg.phases.get(ref.target)
                if tphase == phase:
                    if nx.has_path(cel_edges, addr, ref.target):
                        literal.append(f"{addr} → {ref.target} ({'.'.join(map(str, ref.path))}): would close a cycle")
                        continue
                    cel_edges.add_edge(ref.target, addr)
                    _set_path(body["spec"], ref.path, f"${{{global_ids[ref.target]}.{ref.ack_path}}}")
                elif tphase is not None and rank.get(tphase, 99) < rank.get(phase, 99):
                    external.setdefault(ref.target, global_ids[ref.target])
                    _set_path(body["spec"], ref.path, f"${{{global_ids[ref.target]}.{ref.ack_path}}}")
                else:
                    literal.append(f"{addr} → {ref.target} ({'.'.join(map(str, ref.path))})")
            entry: dict[str, Any] = {"id": global_ids[addr], "template": body}
            ready = mo.mapping.ready_when
            rid = global_ids[addr]
            entry["readyWhen"] = [
                "${" + rid + '.status.conditions.exists(c, c.type == "ACK.ResourceSynced" && c.status == "True")}'
            ]
            if ready:
                entry["readyWhen"].append("${" + rid + ".status." + ready + "}")
            resources.append(entry)
        ext_entries = []
        for taddr, tid in sorted(external.items(), key=lambda kv: kv[1]):
            tmo = result.objects[taddr]
            ext_entries.append(
                {
                    "id": tid,
                    "externalRef": {
                        "apiVersion": tmo.mapping.api_version,
                        "kind": tmo.mapping.kind,
                        "metadata": {"name": tmo.conversion.object_name},
                    },
                }
            )
        kind = rgd_kind(opts.env, phase)
        rgd_name = f"{_dns(opts.env)}-{phase}.{SCHEMA_GROUP}"
        # region unknown (e.g. an IAM-only state: IAM ARNs carry no region): no schema field rather than a required
        # one the instance cannot fill; the report says to pass --region
        spec_schema: dict[str, Any] = {"region": f"string | default={result.region}"} if result.region else {}
        for fname in sorted(schema_vars):
            spec_schema[fname] = simple_schema(schema_vars[fname])
        rgd = {
            "apiVersion": KRO_API,
            "kind": "ResourceGraphDefinition",
            "metadata": {
                "name": rgd_name,
                "annotations": {
                    SYNC_WAVE: "-1",
                    "tf2kro.dev/phase": phase,
                    "tf2kro.dev/environment": opts.env,
                },
            },
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
                "name": f"{_dns(opts.env)}-{phase}",
                "namespace": opts.namespace,
                "annotations": {SYNC_WAVE: "0", SYNC_OPTIONS: "SkipDryRunOnMissingResource=true"},
            },
            "spec": ({"region": result.region} if result.region else {})
            | {f: schema_vars[f].value for f in sorted(schema_vars)},
        }
        outputs.append(PhaseOutput(phase, rgd, instance, {a: global_ids[a] for a in members}, external, literal))
    return outputs


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
        body = copy.deepcopy(result.objects[addr].conversion.body)
        body["metadata"]["namespace"] = opts.namespace
        if opts.read_only:
            body["metadata"]["annotations"][READ_ONLY] = "true"
            body["metadata"]["annotations"] = dict(sorted(body["metadata"]["annotations"].items()))
        out.append(body)
    return out


def region_unknown(result: MapResult) -> bool:
    """Objects were mapped but no regional ARN told the region: they get no region annotation (report + CLI note)."""
    return bool(result.objects) and not result.region


def report(result: MapResult, eg: EstateGraph, ownership: Any = None) -> dict[str, Any]:
    """The inspect/coverage report: one row per managed instance (+ the shared-ownership decisions, when given)."""
    rows = []
    for addr in sorted(result.conversions):
        c = result.conversions[addr]
        row: dict[str, Any] = {"address": addr, "type": c.type, "phase": c.phase, "status": c.status.value}
        if c.status is Status.MAPPED:
            row.update(kind=c.kind, name=c.object_name, wave=c.wave, adoption_fields=c.adoption_fields)
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
    return json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n"
