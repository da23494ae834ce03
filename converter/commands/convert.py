"""`tf2kro convert` and `tf2kro inspect`: the main job and its coverage view."""

from __future__ import annotations

import json

import click

from converter.commands.common import PHASES, estate_options, open_estate
from converter.emit.kro import EmitOptions, emit_phases, plain_objects, region_unknown, report, to_json
from converter.emit.writer import dump_yaml, write_tree
from converter.gcpause import gc_paused
from converter.model import Status
from converter.pipeline import Estate


def live_option(fn):
    return click.option(
        "--live", "live_file", type=click.Path(exists=True, dir_okay=False), default=None,
        help="A capture from `tf2kro inventory capture`: values in AWS that no state holds are not rendered (noted in "
             "the report), and fields whose exact text only AWS holds (inline policies) are rendered from it.")(fn)


def _load_live(live_file: str | None):
    if not live_file:
        return None
    from converter.diff.live import LiveRead

    return LiveRead.load(live_file)


@gc_paused()
def render_tree(estate: Estate, opts: EmitOptions) -> dict[str, str]:
    """Every output file of `convert`, in memory (written atomically by the caller)."""
    files: dict[str, str] = {}
    phases = emit_phases(estate.result, estate.graph, opts, estate.hcl)
    for po in phases:
        base = po.phase
        files[f"{base}/rgd.yaml"] = dump_yaml([po.rgd])
        files[f"{base}/instance.yaml"] = dump_yaml([po.instance])
        files[f"{base}/kustomization.yaml"] = dump_yaml([{
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": ["rgd.yaml", "instance.yaml"],
        }])
        files[f"{base}/review/ack-objects.yaml"] = dump_yaml(plain_objects(estate.result, opts, po.phase, estate.graph))
    files["kustomization.yaml"] = dump_yaml([{
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [po.phase for po in phases],
    }])
    files["report.json"] = to_json(report(estate.result, estate.graph, estate.ownership))
    return files


@click.command()
@estate_options
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Output directory (replaced atomically).")
@click.option("--phase", type=click.Choice(PHASES + ("all",)), default="all", show_default=True)
@click.option("--env", default="main", show_default=True, help="Environment name: names the RGD kinds and instances.")
@click.option("--namespace", default="infrastructure", show_default=True, help="Namespace of the kro instances and ACK objects.")
@click.option("--read-only", is_flag=True, help='Add services.k8s.aws/read-only: "true" (the dry-run stage: ACK adopts, writes nothing).')
@live_option
def convert(state_path, hcl_dir, var_files, region, out_dir, phase, env, namespace, read_only, live_file):
    """Write kro RGDs + instances (per phase) whose ACK objects adopt the resources in the state."""
    estate = open_estate(state_path, hcl_dir, var_files, region, live=_load_live(live_file))
    opts = EmitOptions(env=env, namespace=namespace, read_only=read_only, phases=None if phase == "all" else (phase,))
    files = render_tree(estate, opts)
    write_tree(out_dir, files, estate.secrets())
    c = estate.result.counts()
    click.echo(f"wrote {len(files)} files to {out_dir}: {c['mapped']} mapped, {c['folded']} folded, {c['unsupported']} unsupported, "
               f"{c['not-adopted']} not adopted (co-managed)")
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
@live_option
def inspect(state_path, hcl_dir, var_files, region, fmt, live_file):
    """Every managed resource with its phase and status (mapped / folded / unsupported / not-adopted), the
    shared-ownership decisions and the coverage figure."""
    estate = open_estate(state_path, hcl_dir, var_files, region, live=_load_live(live_file))
    rep = report(estate.result, estate.graph, estate.ownership)
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
        if row.get("ownership") and status != Status.NOT_ADOPTED:
            detail = f"{detail}; ownership: {'; '.join(row['ownership'])}"
        table.add_row(row["address"], row["type"], row["phase"], str(row.get("wave", "")), status, str(detail))
    console = Console(width=200)
    console.print(table)
    cov = rep["aws_coverage"]
    c = rep["counts"]
    console.print(
        f"\n{c['mapped']} mapped, {c['folded']} folded, {c['unsupported']} unsupported, {c['not-adopted']} not adopted; "
        f"aws_* coverage {cov['mapped_or_folded']}/{cov['instances']} = {cov['percent']}%"
    )
