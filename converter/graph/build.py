"""Graph: a networkx DiGraph of managed resources, edges pointing from a dependency to its dependent
(so a topological order is an adoption order), phases, and waves inside each phase.

Edges come from state `dependencies`, from HCL references (when HCL is given), from folds (a child is part
of its parent) and from values: a rendered field holding another resource's id/ARN/name is a reference even
where Terraform recorded none (e.g. a hard-coded ARN).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from converter.gcpause import gc_paused
from converter.load.address import config_address, resource_of
from converter.mapping.engine import MapResult
from converter.mapping.paths import MISSING, resolve
from converter.mapping.spec import MappingSet
from converter.model import ResourceInstance, StateFile, Status


@dataclass
class ValueRef:
    """A rendered spec value that is another mapped object's identifier."""

    source: str  # address of the referencing object
    path: tuple[str | int, ...]  # where in its spec
    target: str  # address of the referenced object
    ack_path: str  # e.g. status.vpcID on the target


@dataclass(frozen=True)
class ExternalObject:
    """An ACK object another root of the estate emits: a reference to it becomes a kro `externalRef`."""

    root: str
    address: str
    api_version: str
    kind: str
    name: str  # metadata.name
    namespace: str | None = None


@dataclass
class Finding:
    kind: str  # cycle | back-edge
    message: str
    addresses: list[str] = field(default_factory=list)


@dataclass
class EstateGraph:
    graph: nx.DiGraph  # all managed instances
    phases: dict[str, str]  # address -> phase
    waves: dict[str, int]  # address -> wave within its phase (mapped objects; folded get the parent's)
    value_refs: list[ValueRef]
    findings: list[Finding]
    phase_order: list[str]
    # value_refs targets that are objects of another root (key: "<root>//<address>"); see converter.estate.link
    external_objects: dict[str, ExternalObject] = field(default_factory=dict)

    def phase_members(self, phase: str) -> list[str]:
        return sorted(a for a, p in self.phases.items() if p == phase)


def _walk_strings(node: Any, path: tuple[str | int, ...] = ()):
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _walk_strings(v, path + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk_strings(v, path + (i,))
    elif isinstance(node, str):
        yield path, node


def value_index(result: MapResult) -> dict[str, list[tuple[str, str]]]:
    """identifier value -> [(address, ack_path)] from each mapping's `references:`."""
    index: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for addr, mo in result.objects.items():
        for attr, ack_path in mo.mapping.references.items():
            v = resolve(mo.inst.attributes, attr)
            if v is MISSING or not isinstance(v, str) or len(v) < 4:
                continue
            if (addr, ack_path) not in index[v]:
                index[v].append((addr, ack_path))
    return index


_IDENTITY_ATTRS = ("id", "arn")
# spec steps under which strings are data (tag values), never references, at any depth (`data.tagSpecifications`)
_DATA_STEPS = frozenset({"tags", "tagging", "labels", "tagSpecifications", "tagSet"})


def _identity_attrs(mo: Any) -> set[str]:
    """The state attributes that ARE this object's identity (id, arn, the adoption-field sources), as opposed to
    attributes holding another object's identifier (an ALB's vpc_id)."""
    out = set(_IDENTITY_ATTRS)
    if len(mo.mapping.adopt) == 1:  # a composite key (an addon's clusterName + name) names its parent too
        for fs in mo.mapping.adopt.values():
            out.update(s for s in fs.sources if not s.startswith("@"))
    return out


def identity_index(result: MapResult) -> dict[str, set[str]]:
    """value -> addresses whose own identifier (id, ARN, adoption field) it is."""
    index: dict[str, set[str]] = defaultdict(set)
    for addr, mo in result.objects.items():
        for attr in _identity_attrs(mo):
            v = resolve(mo.inst.attributes, attr)
            if isinstance(v, str) and len(v) >= 4:
                index[v].add(addr)
    return index


_MODULE_STEP = re.compile(r'module\.([A-Za-z0-9_-]+)((?:\[(?:"(?:[^"\\]|\\.)*"|[0-9]+)\])?)\.')


def _split_module(address: str) -> tuple[list[tuple[str, str]], str]:
    """`module.a["x"].module.b.aws_y.z[0]` → ([("a", '["x"]'), ("b", "")], "aws_y.z[0]")."""
    steps: list[tuple[str, str]] = []
    pos = 0
    while True:
        m = _MODULE_STEP.match(address, pos)
        if not m:
            return steps, address[pos:]
        steps.append((m.group(1), m.group(2)))
        pos = m.end()


def _module_steps(address: str) -> list[tuple[str, str]]:
    return _split_module(address.split(" (deposed", 1)[0])[0]


def _prefixes(steps: list[tuple[str, str]]) -> list[str]:
    out = [""]
    for name, key in steps:
        out.append(f"{out[-1]}module.{name}{key}.")
    return out


def _shared_prefix(inst_steps: list[tuple[str, str]], dep_steps: list[tuple[str, str]]) -> tuple[str, int]:
    """The dependent's module-instance prefix over the module steps it shares with the dependency, and their count."""
    prefix, depth = "", 0
    for (dn, dk), (name, key) in zip(dep_steps, inst_steps, strict=False):
        if dn != name or (dk and dk != key):
            break
        prefix += f"module.{name}{key}."
        depth += 1
    return prefix, depth


class _ModuleEvidence:
    """Narrows a dependency that enters another module call (`module.eks["c1"]` → `module.vpc.aws_subnet.private`,
    recorded because an input reads `module.vpc[each.value.network]`) to the instances of that call whose ids or
    ARNs appear in the dependent's own module instance; with no such evidence every instance stays a target."""

    def __init__(self, under: dict[str, list[ResourceInstance]], inst_prefixes: dict[str, list[str]]):
        self.under = under
        self.inst_prefixes = inst_prefixes
        self._evidence: dict[str, set[str]] = {}
        self._owner: dict[str, list[str]] | None = None  # id/ARN -> module-instance prefixes of its resource
        self._cache: dict[tuple[str, str, int], Any] = {}

    def _evidence_of(self, scope: str, inst: ResourceInstance) -> set[str]:
        key = scope or inst.address
        got = self._evidence.get(key)
        if got is None:
            got = set()
            for member in (self.under.get(scope, ()) if scope else (inst,)):
                _id_strings(member.attributes, got)
            self._evidence[key] = got
        return got

    def _owners(self) -> dict[str, list[str]]:
        if self._owner is None:
            self._owner = {}
            for member in self.under.get("", ()):
                for k in ("id", "arn"):
                    v = member.attributes.get(k)
                    if isinstance(v, str) and v:
                        self._owner.setdefault(v, self.inst_prefixes[member.address])
        return self._owner

    def targets(self, inst: ResourceInstance, cfg: str, depth: int, targets: Any) -> Any:
        """`targets`: the instances of config address `cfg` under the dependent's prefix at `depth`, all of them
        inside a module call one level deeper (so each has a module-instance prefix at depth + 1)."""
        prefixes = self.inst_prefixes[inst.address]
        scope = prefixes[depth + 1] if len(prefixes) > depth + 1 else ""
        key = (scope or inst.address, cfg, depth)
        got = self._cache.get(key)
        if got is None:
            owners = self._owners()
            chosen = set()
            for v in self._evidence_of(scope, inst):
                op = owners.get(v)
                if op is not None and len(op) > depth + 1:
                    chosen.add(op[depth + 1])
            got = [t for t in targets if self.inst_prefixes[t][depth + 1] in chosen] if chosen else []
            got = got or targets
            self._cache[key] = got
        return got


def _id_strings(node: Any, out: set[str]) -> None:
    if isinstance(node, str):
        if node.startswith("arn:") or _AWS_ID.match(node):
            out.add(node)
    elif isinstance(node, dict):
        for v in node.values():
            _id_strings(v, out)
    elif isinstance(node, list):
        for v in node:
            _id_strings(v, out)


_AWS_ID = re.compile(r"^[a-z]+(-[a-z]+)?-[0-9a-f]{8,17}$")


def _is_identifier_like(value: str) -> bool:
    """IDs (`vpc-0a1b2c3d`) and ARNs are globally unique; plain names only count when an edge already says so."""
    return value.startswith("arn:") or bool(_AWS_ID.match(value))


@gc_paused()
def build_graph(state: StateFile, result: MapResult, mappings: MappingSet, hcl: Any = None) -> EstateGraph:
    g = nx.DiGraph()
    managed = [i for i in state.managed]
    for inst in managed:
        conv = result.conversions[inst.address]
        g.add_node(inst.address, type=inst.type, status=conv.status.value, phase=conv.phase)

    by_resource: dict[str, list[str]] = defaultdict(list)
    # (config address, module-instance prefix) -> instances: the prefix is the instance's module path cut after
    # 0..all of its module steps (`""`, `module.eks["a"].`, `module.eks["a"].module.ng["x"].`)
    by_scope: dict[tuple[str, str], list[str]] = defaultdict(list)
    inst_steps: dict[str, list[tuple[str, str]]] = {}
    inst_prefixes: dict[str, list[str]] = {}
    under: dict[str, list[ResourceInstance]] = defaultdict(list)  # module-instance prefix -> instances in it
    for inst in managed:
        by_resource[resource_of(inst.address)].append(inst.address)
        cfg = config_address(inst.address)
        steps = inst_steps[inst.address] = _module_steps(inst.address)
        prefixes = inst_prefixes[inst.address] = _prefixes(steps)
        for prefix in prefixes:
            by_scope[(cfg, prefix)].append(inst.address)
            under[prefix].append(inst)
    narrow = _ModuleEvidence(under, inst_prefixes)

    # 1. state dependencies: Terraform records config addresses (`module.vpc.aws_vpc.this`, no instance keys).
    # Inside a module instance a reference can only reach that same instance (nothing in `module.vpc["a"]` can
    # name `module.vpc["b"]`), so the module steps a dependency shares with its dependent take the dependent's
    # keys; the remaining steps (reached through module inputs) match every instance.
    for inst in managed:
        steps = inst_steps[inst.address]
        for dep in inst.dependencies:
            targets = by_resource.get(dep)
            if not targets:
                dep_steps, _rest = _split_module(dep)
                shared, depth = _shared_prefix(steps, dep_steps)
                cfg = config_address(dep)
                targets = by_scope.get((cfg, shared), ())
                if len(dep_steps) > depth and len(targets) > 1:
                    targets = narrow.targets(inst, cfg, depth, targets)
            for t in targets:
                if t != inst.address:
                    g.add_edge(t, inst.address, via="state")

    # 2. HCL references between resources of the same module
    if hcl is not None:
        for res in hcl.resources():
            if res.mode != "managed":
                continue
            for ref in res.references:
                parts = ref.target.split(".")
                if len(parts) < 2 or parts[0] in ("var", "local", "module", "data", "each", "count", "path", "self"):
                    continue
                target_cfg = (res.module_address + "." if res.module_address else "") + ".".join(parts[:2])
                # the target is in the same module *instance* as the source
                for src in by_scope.get((res.address, ""), ()):
                    for t in by_scope.get((target_cfg, inst_prefixes[src][-1]), ()):
                        if t != src:
                            g.add_edge(t, src, via=f"hcl {ref.file}:{ref.line}")

    # 3. folds: the child is part of the parent
    for addr, conv in result.conversions.items():
        if conv.status is Status.FOLDED and conv.fold_parent:
            g.add_edge(addr, conv.fold_parent, via="fold")

    # 4. values that are other objects' identifiers
    index = value_index(result)
    identities = identity_index(result)
    preds = {a: set(g.predecessors(a)) for a in result.objects}
    value_refs: list[ValueRef] = []
    for addr, mo in sorted(result.objects.items()):
        spec = (mo.conversion.body or {}).get("spec") or {}
        # a top-level field rendered from the object's own identity attribute (an InstanceProfile's spec.name) is
        # never a reference, even when another object (its role) has the same name
        own_fields = {f for f, src in mo.field_sources.items() if src in _identity_attrs(mo)}
        for path, value in _walk_strings(spec):
            if any(step in _DATA_STEPS for step in path if isinstance(step, str)):
                continue  # tag values are data, never references
            if path and path[0] in own_fields:
                continue
            targets = [t for t in index.get(value, ()) if t[0] != addr]
            if not targets:
                continue
            related = [t for t in targets if t[0] in preds[addr]]
            chosen = related or (targets if _is_identifier_like(value) else [])
            if not chosen:
                continue
            # prefer the object whose own identifier the value is (a target group's vpcID is the VPC's id, not the
            # ALB's status.vpcID), then a stable order
            owners = [t for t in chosen if t[0] in identities.get(value, ())]
            target, ack_path = sorted(owners or chosen)[0]
            value_refs.append(ValueRef(source=addr, path=path, target=target, ack_path=ack_path))
            if not g.has_edge(target, addr):
                g.add_edge(target, addr, via="value")

    phases = {a: result.conversions[a].phase for a in g.nodes}
    _move_addon_only_roles(g, result, phases)
    # folded children travel with their parent
    for addr, conv in result.conversions.items():
        if conv.status is Status.FOLDED and conv.fold_parent:
            phases[addr] = phases[conv.fold_parent]
    for addr, phase in phases.items():
        result.conversions[addr].phase = phase
        g.nodes[addr]["phase"] = phase

    findings: list[Finding] = []
    order = mappings.phase_order
    rank = {p: i for i, p in enumerate(order)}
    # Adoption creates nothing, so creation-order dependencies (state `dependencies`, module depends_on) do not
    # constrain it; only a value reference does (kro waits for the referenced object). Report those that point
    # to a later phase: they stay literal values.
    for ref in value_refs:
        ps, pt = phases.get(ref.source), phases.get(ref.target)
        if ps is None or pt is None or rank.get(pt, len(order)) <= rank.get(ps, len(order)):
            continue
        findings.append(
            Finding(
                "back-edge",
                f"{ref.source} ({ps}) references {ref.target} ({pt}, a later phase) at spec.{'.'.join(map(str, ref.path))}: "
                "the value stays literal",
                [ref.target, ref.source],
            )
        )
    waves = _waves(g, result, phases, findings)
    return EstateGraph(graph=g, phases=phases, waves=waves, value_refs=value_refs, findings=findings, phase_order=order)


def _move_addon_only_roles(g: nx.DiGraph, result: MapResult, phases: dict[str, str]) -> None:
    """An IAM role used only by addons (IRSA / pod identity) moves to the addons phase with them."""
    for addr, mo in result.objects.items():
        if mo.inst.type != "aws_iam_role":
            continue
        users = [s for s in g.successors(addr)
                 if result.conversions[s].status is Status.MAPPED]
        if users and all(phases.get(u) == "addons" for u in users):
            phases[addr] = "addons"


def _waves(g: nx.DiGraph, result: MapResult, phases: dict[str, str], findings: list[Finding]) -> dict[str, int]:
    waves: dict[str, int] = {}
    mapped = [a for a in g.nodes if result.conversions[a].status is Status.MAPPED]
    for phase in sorted({phases[a] for a in mapped}):
        members = [a for a in mapped if phases[a] == phase]
        sub = nx.DiGraph()
        sub.add_nodes_from(members)
        sub.add_edges_from((u, v) for u, v in g.subgraph(members).edges)
        if not nx.is_directed_acyclic_graph(sub):
            # simple_cycles starts each cycle wherever networkx's internal sets happen to: rotate every cycle to
            # its smallest address and sort, so the report is the same under any PYTHONHASHSEED.
            cycles: list[list[str]] = []
            for cycle in nx.simple_cycles(sub):
                start = cycle.index(min(cycle))
                cycles.append(cycle[start:] + cycle[:start])
                if len(cycles) > 50:
                    break
            for cycle in sorted(cycles):
                findings.append(Finding("cycle", f"dependency cycle in phase {phase}: {' → '.join(cycle + cycle[:1])}", list(cycle)))
            cond = nx.condensation(sub)
            for i, gen in enumerate(nx.topological_generations(cond)):
                for c in gen:
                    for a in cond.nodes[c]["members"]:
                        waves[a] = i
        else:
            for i, gen in enumerate(nx.topological_generations(sub)):
                for a in gen:
                    waves[a] = i
    for addr, conv in result.conversions.items():
        if conv.status is Status.MAPPED:
            conv.wave = waves.get(addr, 0)
        elif conv.status is Status.FOLDED and conv.fold_parent:
            conv.wave = waves.get(conv.fold_parent, 0)
            waves[addr] = conv.wave
    return waves


def to_mermaid(eg: EstateGraph, phase: str | None = None) -> str:
    lines = ["flowchart LR"]
    ids: dict[str, str] = {}
    for n, addr in enumerate(sorted(eg.graph.nodes)):
        ids[addr] = f"n{n}"
    for ph in eg.phase_order:
        if phase and ph != phase:
            continue
        members = eg.phase_members(ph)
        if not members:
            continue
        lines.append(f"  subgraph {ph}")
        for a in members:
            label = a.replace('"', "'")
            lines.append(f'    {ids[a]}["{label}"]')
        lines.append("  end")
    for u, v in sorted(eg.graph.edges):
        if phase and (eg.phases.get(u) != phase or eg.phases.get(v) != phase):
            continue
        lines.append(f"  {ids[u]} --> {ids[v]}")
    return "\n".join(lines) + "\n"


def to_dot(eg: EstateGraph) -> str:
    lines = ["digraph tf2kro {", "  rankdir=LR;"]
    for ph in eg.phase_order:
        members = eg.phase_members(ph)
        if not members:
            continue
        lines.append(f'  subgraph "cluster_{ph}" {{ label="{ph}";')
        for a in members:
            lines.append(f'    "{a.replace(chr(34), chr(92) + chr(34))}";')
        lines.append("  }")
    for u, v, data in sorted(eg.graph.edges(data=True)):
        esc = chr(92) + chr(34)
        lines.append(f'  "{u.replace(chr(34), esc)}" -> "{v.replace(chr(34), esc)}" [label="{data.get("via", "").split(" ")[0]}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_json(eg: EstateGraph) -> dict[str, Any]:
    return {
        "nodes": [
            {"address": a, "type": d.get("type"), "phase": eg.phases.get(a), "wave": eg.waves.get(a), "status": d.get("status")}
            for a, d in sorted(eg.graph.nodes(data=True))
        ],
        "edges": [{"from": u, "to": v, "via": d.get("via")} for u, v, d in sorted(eg.graph.edges(data=True))],
        "findings": [{"kind": f.kind, "message": f.message, "addresses": f.addresses} for f in eg.findings],
    }
