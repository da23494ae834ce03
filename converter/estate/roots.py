"""Load every root of an estate (one `Estate` per root, each through the single-root pipeline) and link them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from converter.estate.config import RootSpec
from converter.estate.link import CrossRef, link_roots
from converter.graph.build import EstateGraph, Finding
from converter.load.state import load_state
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


def load_roots(specs: list[RootSpec], *, region: str | None = None, multi: bool = True,
               root: str | None = None, live: Any = None) -> EstateRoots:
    """`multi` False: the single-state run, whose root name is `root` (--root) or derived from the state source
    (converter.pipeline.root_name_for); in a multi-root estate each root's name is its spec's.

    Every root's state is read first, so the ownership analysis of each root sees the other roots' writers
    (`aws_ec2_tag` on another root's subnets, rules on its security groups)."""
    states = [load_state(spec.state, workspace=spec.workspace) for spec in specs]
    estates: list[Estate] = []
    for i, spec in enumerate(specs):
        others = [inst for j, st in enumerate(states) if j != i for inst in st.instances]
        est = load_estate(spec.state, spec.hcl, spec.var_files, region=spec.region or region,
                          workspace=spec.workspace, root=spec.name if multi else root, state=states[i],
                          other_instances=others, live=live)
        if spec.account and est.result.account_id and est.result.account_id != spec.account:
            raise ToolError(f"root {spec.name!r}: the state's ARNs are in account {est.result.account_id}, the estate "
                            f"file says {spec.account} (wrong state for this root?)", source=est.state.path)
        estates.append(est)
    out = EstateRoots(specs=specs, estates=estates)
    if len(estates) > 1:
        out.cross_refs, out.findings = link_roots(estates)
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
