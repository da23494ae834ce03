"""The pipeline as one call: load (state [+ HCL]) → map → graph. CLI commands and later stages
(diff, plan, fleet) start from an `Estate`, so they all see the same phases, waves and objects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from converter.graph.build import EstateGraph, build_graph
from converter.load.state import load_state
from converter.mapping.engine import MapResult, map_state
from converter.mapping.spec import MappingSet, load_mappings
from converter.model import ResourceInstance, StateFile
from converter.ownership import analyze_ownership
from converter.secrets import sensitive_values

REPO_ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = REPO_ROOT / "samples" / "estate"


@dataclass
class Estate:
    state: StateFile
    hcl: Any  # converter.load.hcl.HclConfig | None
    mappings: MappingSet
    result: MapResult
    graph: EstateGraph
    ownership: Any = None  # converter.ownership.OwnershipReport: who else writes the fields ACK syncs as a whole

    def secrets(self) -> list[str]:
        """Every sensitive string in the state: none of them may reach an output file or a log line."""
        out: list[str] = []
        for inst in self.state.instances:
            out.extend(sensitive_values(inst))
        for output in (self.state.outputs or {}).values():
            if isinstance(output, dict) and output.get("sensitive"):
                out.extend(_strings(output.get("value")))
        return out


def _strings(node: Any) -> list[str]:
    if isinstance(node, str):
        return [node] if len(node) >= 6 else []
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


def load_estate(
    state_path: str | Path,
    hcl_dir: str | Path | None = None,
    var_files: tuple[str, ...] = (),
    *,
    region: str | None = None,
    mappings_dir: str | None = None,
    other_instances: Sequence[ResourceInstance] = (),
    live: Any = None,
) -> Estate:
    """`other_instances`: the estate's other roots (their `aws_ec2_tag`/rule writers fold into this root's objects);
    `live`: a capture (`converter.diff.live.LiveRead`) — values in AWS no state holds are not rendered, and fields
    whose exact bytes only AWS knows (inline policies) are rendered from it."""
    state = load_state(state_path)
    hcl = None
    ignore_changes = None
    if hcl_dir:
        from converter.load.hcl import load_hcl

        hcl = load_hcl(hcl_dir, var_files)
        ignore_changes = {r.address: list(r.ignore_changes) for r in hcl.resources() if r.mode == "managed"}
    mappings = load_mappings(mappings_dir)
    result = map_state(state, mappings, region=region, ignore_changes=ignore_changes)
    ownership = analyze_ownership(state, result, mappings, other_instances=other_instances, live=live)
    graph = build_graph(state, result, mappings, hcl)
    return Estate(state=state, hcl=hcl, mappings=mappings, result=result, graph=graph, ownership=ownership)
