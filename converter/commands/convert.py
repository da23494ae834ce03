"""`tf2kro convert` and `tf2kro inspect`: the main job and its coverage view."""

from __future__ import annotations

import json

import click

from converter.commands.common import PHASES, estate_options, open_estate, root_option
from converter.emit.kro import EmitOptions, emit_phases, plain_objects, region_unknown, report, to_json
from converter.emit.writer import dump_yaml, write_tree
from converter.gcpause import gc_paused
from converter.model import Status
from converter.pipeline import Estate


@gc_paused()
def render_tree(estate: Estate, opts: EmitOptions) -> dict[str, str]:
    """Every output file of `convert`, in memory (written atomically by the caller)."""
    files: dict[str, str] = {}
    by_phase: dict[str, list] = {}
    for po in emit_phases(estate.result, estate.graph, opts, estate.hcl):
        by_phase.setdefault(po.phase, []).append(po)
    phases = [parts[0] for parts in by_phase.values()]
    for phase, parts in by_phase.items():
        base = phase
        # a phase split by size: its RGDs (and instances) are separate documents of the same file
        files[f"{base}/rgd.yaml"] = dump_yaml([po.rgd for po in parts])
        files[f"{base}/instance.yaml"] = dump_yaml([po.instance for po in parts])
        files[f"{base}/kustomization.yaml"] = dump_yaml([{
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": ["rgd.yaml", "instance.yaml"],
        }])
        files[f"{base}/review/ack-objects.yaml"] = dump_yaml(plain_objects(estate.result, opts, phase, estate.graph))
    files["kustomization.yaml"] = dump_yaml([{
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [po.phase for po in phases],
    }])
    files["report.json"] = to_json(report(estate.result, estate.graph, opts.naming))
    return files


@click.command()
@estate_options
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Output directory (replaced atomically).")
@click.option("--phase", type=click.Choice(PHASES + ("all",)), default="all", show_default=True)
@click.option("--env", default="main", show_default=True,
              help="Environment name: part of every object name, instance name and RGD kind.")
@click.option("--namespace", default=None, help="Namespace of the kro instances and ACK objects [default: <env>-infrastructure].")
@root_option
@click.option("--read-only", is_flag=True, help='Add services.k8s.aws/read-only: "true" (the dry-run stage: ACK adopts, writes nothing).')
def convert(state_path, hcl_dir, var_files, region, out_dir, phase, env, namespace, root, read_only):
    """Write kro RGDs + instances (per phase) whose ACK objects adopt the resources in the state."""
    estate = open_estate(state_path, hcl_dir, var_files, region, root=root)
    opts = EmitOptions(env=env, namespace=namespace, read_only=read_only, phases=None if phase == "all" else (phase,),
                       root=estate.root)
    files = render_tree(estate, opts)
    write_tree(out_dir, files, estate.secrets())
    c = estate.result.counts()
    click.echo(f"wrote {len(files)} files to {out_dir}: {c['mapped']} mapped, {c['folded']} folded, {c['unsupported']} unsupported")
    if region_unknown(estate.result):
        click.echo("note: region not determined from state (no regional ARN): the ACK objects carry no region "
                   "annotation; pass --region (details in report.json)", err=True)
    kinds: dict[str, int] = {}
    for f in estate.graph.findings:
        kinds[f.kind] = kinds.get(f.kind, 0) + 1
    if kinds:
        summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
        click.echo(f"note: graph findings: {summary} (details in report.json)", err=True)


@click.command()
@estate_options
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def inspect(state_path, hcl_dir, var_files, region, fmt):
    """Every managed resource with its phase and status (mapped / folded / unsupported) and the coverage figure."""
    estate = open_estate(state_path, hcl_dir, var_files, region)
    rep = report(estate.result, estate.graph)
    if fmt == "json":
        click.echo(json.dumps(rep, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(show_lines=False, box=None)
    for col in ("address", "type", "phase", "wave", "status", "ACK kind / fold parent / reason"):
        table.add_column(col, overflow="fold")
    for row in rep["resources"]:
        status = row["status"]
        detail = row.get("kind") if status == Status.MAPPED else row.get("fold_parent") if status == Status.FOLDED else row.get("reason")
        table.add_row(row["address"], row["type"], row["phase"], str(row.get("wave", "")), status, str(detail))
    console = Console(width=200)
    console.print(table)
    cov = rep["aws_coverage"]
    c = rep["counts"]
    console.print(
        f"\n{c['mapped']} mapped, {c['folded']} folded, {c['unsupported']} unsupported; "
        f"aws_* coverage {cov['mapped_or_folded']}/{cov['instances']} = {cov['percent']}%"
    )
