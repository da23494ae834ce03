"""The pipeline as one call: load (state [+ HCL]) → map → graph. CLI commands and later stages
(diff, plan, fleet) start from an `Estate`, so they all see the same phases, waves and objects."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from converter import progress
from converter.graph.build import EstateGraph, build_graph
from converter.load.state import load_state
from converter.mapping.engine import MapResult, map_state
from converter.mapping.spec import MappingSet, load_mappings
from converter.model import ResourceInstance, StateFile
from converter.ownership import analyze_ownership
from converter.packagedata import sample_dir
from converter.secrets import sensitive_values

REPO_ROOT = Path(__file__).resolve().parents[1]  # the checkout (tests, benchmarks); installed: site-packages
SAMPLE_DIR = sample_dir()


@dataclass
class Estate:
    state: StateFile
    hcl: Any  # converter.load.hcl.HclConfig | None
    mappings: MappingSet
    result: MapResult
    graph: EstateGraph
    root: str = "root"  # the root (stack) name: part of every emitted name and RGD kind (converter/emit/naming.py)
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
    workspace: str | None = None,
    root: str | None = None,
    other_instances: Sequence[ResourceInstance] = (),
    live: Any = None,
    state: StateFile | None = None,
) -> Estate:
    """`workspace` selects an S3 state's workspace key (`env:/<ws>/<key>`); `root` names the Terraform root (stack)
    in every emitted name; default `root_name_for(state_path)`. `other_instances`: the estate's other roots (their
    `aws_ec2_tag`/rule writers fold into this root's objects); `live`: a capture (`converter.diff.live.LiveRead`) —
    values in AWS no state holds are not rendered, and fields whose exact bytes only AWS knows (inline policies) are
    rendered from it. `state`: the state already read (multi-root loading reads every root first)."""
    progress.stage("load")
    from converter.emit.naming import validate_root

    root = validate_root(root) if root is not None else root_name_for(state_path)
    if state is None:
        state = load_state(state_path, workspace=workspace)
    hcl = None
    ignore_changes = None
    if hcl_dir:
        from converter.load.hcl import load_hcl

        hcl = load_hcl(hcl_dir, var_files)
        ignore_changes = {r.address: list(r.ignore_changes) for r in hcl.resources() if r.mode == "managed"}
    progress.stage("map", f"{len(state.instances)} resource instances")
    mappings = load_mappings(mappings_dir)
    result = map_state(state, mappings, region=region, ignore_changes=ignore_changes)
    ownership = analyze_ownership(state, result, mappings, other_instances=other_instances, live=live)
    progress.stage("graph")
    graph = build_graph(state, result, mappings, hcl)
    return Estate(state=state, hcl=hcl, mappings=mappings, result=result, graph=graph, root=root, ownership=ownership)


def root_name_for(state_path: str | Path) -> str:
    """The default root name of a state source (converter.emit.naming.default_root): a local file is resolved first,
    so `terraform.tfstate` in the current directory is named after that directory."""
    from converter.emit.naming import default_root

    src = str(state_path)
    if src != "-" and "://" not in src:
        src = Path(src).resolve().as_posix()
    return default_root(src)
