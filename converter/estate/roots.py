"""Load every root of an estate (one `Estate` per root, each through the single-root pipeline) and link them."""

from __future__ import annotations

from dataclasses import dataclass, field

import networkx as nx

from converter.estate.config import RootSpec
from converter.estate.link import CrossRef, link_roots
from converter.graph.build import EstateGraph, Finding
from converter.model import ToolError
from converter.pipeline import Estate, load_estate


@dataclass
class EstateRoots:
    specs: list[RootSpec]
    estates: list[Estate]
    cross_refs: list[CrossRef] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    def secrets(self) -> list[str]:
        return [s for e in self.estates for s in e.secrets()]

    def summary(self) -> dict:
        """estate.json: the roots, where each state came from, and the references between them."""
        return {
            "roots": [{"name": s.name, "state": e.state.path, "env": s.env, "account": e.result.account_id,
                       "region": e.result.region, "counts": e.result.counts()} for s, e in zip(self.specs, self.estates, strict=True)],
            "cross_root_refs": [r.as_dict() for r in self.cross_refs],
            "findings": [{"kind": f.kind, "message": f.message} for f in self.findings],
        }


def load_roots(specs: list[RootSpec], *, region: str | None = None, multi: bool = True) -> EstateRoots:
    """`multi` False: the single-state run, whose object names stay what they always were (no root name in them)."""
    estates: list[Estate] = []
    for spec in specs:
        est = load_estate(spec.state, spec.hcl, spec.var_files, region=spec.region or region,
                          workspace=spec.workspace, root=spec.name if multi else None)
        if spec.account and est.result.account_id and est.result.account_id != spec.account:
            raise ToolError(f"root {spec.name!r}: the state's ARNs are in account {est.result.account_id}, the estate "
                            f"file says {spec.account} (wrong state for this root?)", source=est.state.path)
        estates.append(est)
    out = EstateRoots(specs=specs, estates=estates)
    if len(estates) > 1:
        out.cross_refs, out.findings = link_roots(estates)
        out.findings.extend(_name_collisions(specs, estates))
    return out


def _name_collisions(specs: list[RootSpec], estates: list[Estate]) -> list[Finding]:
    """Two roots emitting the same ACK object name: in one namespace the second would overwrite the first (object names
    come from the Terraform address; root-qualified names are converter.emit.naming's job). Reported until then."""
    seen: dict[tuple[str, str], str] = {}
    out: list[Finding] = []
    rgds: dict[tuple[str | None, str], str] = {}  # (env, phase) -> first root: the RGD and instance names derive from both
    for spec, est in zip(specs, estates, strict=True):
        for phase in sorted({est.graph.phases[a] for a in est.result.objects if a in est.graph.phases}):
            other = rgds.setdefault((spec.env, phase), spec.name)
            if other != spec.name:
                out.append(Finding("name-collision", f"roots {other} and {spec.name} both emit the {phase} RGD and instance "
                                   f"of environment {spec.env or '(--env)'}: give them different env: values", []))
        for addr, mo in sorted(est.result.objects.items()):
            key = (mo.mapping.kind_ref, mo.conversion.object_name or addr)
            other = seen.setdefault(key, spec.name)
            if other != spec.name:
                out.append(Finding("name-collision", f"{key[0]} {key[1]} is emitted by roots {other} and {spec.name}: "
                                   "apply them to different namespaces", [addr]))
    return out


def merged_graph(roots: EstateRoots) -> EstateGraph:
    """One graph over every root for `tf2kro graph`: addresses become `<root>: <address>`, and each cross-root
    reference is an edge (via "cross-root") from the referenced object to its user, so a reviewer sees what links
    the roots."""
    g = nx.DiGraph()
    phases: dict[str, str] = {}
    waves: dict[str, int] = {}
    findings: list[Finding] = list(roots.findings)
    order: list[str] = []
    for spec, est in zip(roots.specs, roots.estates, strict=True):
        q = f"{spec.name}: ".__add__
        g.add_nodes_from((q(a), d) for a, d in est.graph.graph.nodes(data=True))
        g.add_edges_from((q(u), q(v), d) for u, v, d in est.graph.graph.edges(data=True))
        phases.update({q(a): p for a, p in est.graph.phases.items()})
        waves.update({q(a): w for a, w in est.graph.waves.items()})
        findings.extend(Finding(f.kind, f"{spec.name}: {f.message}", [q(a) for a in f.addresses]) for f in est.graph.findings)
        order.extend(p for p in est.graph.phase_order if p not in order)
    for ref in roots.cross_refs:
        g.add_edge(f"{ref.target_root}: {ref.target}", f"{ref.source_root}: {ref.source}", via="cross-root")
    return EstateGraph(graph=g, phases=phases, waves=waves, value_refs=[], findings=findings, phase_order=order)
