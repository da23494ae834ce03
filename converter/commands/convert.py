"""`tf2kro convert` and `tf2kro inspect`: the main job and its coverage view."""

from __future__ import annotations

import dataclasses
import json

import click

from converter.commands.common import PHASES, estate_options, open_roots
from converter.emit.kro import EmitOptions, emit_phases, plain_objects, region_unknown, report, to_json
from converter.emit.writer import dump_yaml, write_tree
from converter.estate.roots import EstateRoots
from converter.gcpause import gc_paused
from converter.model import Status
from converter.pipeline import Estate


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
    files["report.json"] = to_json(report(estate.result, estate.graph))
    return files


def render_roots(roots: EstateRoots, opts: EmitOptions) -> dict[str, str]:
    """Several roots: each root's tree under `<root>/` (the same files as one root), a kustomization over the roots,
    and `estate.json` (where each state came from, the cross-root references, the estate findings)."""
    files: dict[str, str] = {}
    for spec, est in zip(roots.specs, roots.estates, strict=True):
        ropts = dataclasses.replace(opts, env=spec.env or opts.env)
        for path, text in render_tree(est, ropts).items():
            files[f"{spec.name}/{path}"] = text
    files["kustomization.yaml"] = dump_yaml([{
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [s.name for s in roots.specs],
    }])
    files["estate.json"] = to_json(roots.summary())
    return files


@click.command()
@estate_options
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False), help="Output directory (replaced atomically).")
@click.option("--phase", type=click.Choice(PHASES + ("all",)), default="all", show_default=True)
@click.option("--env", default="main", show_default=True, help="Environment name: names the RGD kinds and instances.")
@click.option("--namespace", default="infrastructure", show_default=True, help="Namespace of the kro instances and ACK objects.")
@click.option("--read-only", is_flag=True, help='Add services.k8s.aws/read-only: "true" (the dry-run stage: ACK adopts, writes nothing).')
def convert(state_path, hcl_dir, var_files, region, out_dir, phase, env, namespace, read_only):
    """Write kro RGDs + instances (per phase) whose ACK objects adopt the resources in the state."""
    roots, multi = open_roots(state_path, hcl_dir, var_files, region)
    opts = EmitOptions(env=env, namespace=namespace, read_only=read_only, phases=None if phase == "all" else (phase,))
    files = render_roots(roots, opts) if multi else render_tree(roots.estates[0], opts)
    write_tree(out_dir, files, roots.secrets())
    for spec, estate in zip(roots.specs, roots.estates, strict=True):
        who = f"{spec.name}: " if multi else ""
        c = estate.result.counts()
        click.echo(f"{who}{c['mapped']} mapped, {c['folded']} folded, {c['unsupported']} unsupported" if multi else
                   f"wrote {len(files)} files to {out_dir}: {c['mapped']} mapped, {c['folded']} folded, {c['unsupported']} unsupported")
        if region_unknown(estate.result):
            click.echo(f"note: {who}region not determined from state (no regional ARN): the ACK objects carry no region "
                       "annotation; pass --region (details in report.json)", err=True)
        kinds: dict[str, int] = {}
        for f in estate.graph.findings:
            kinds[f.kind] = kinds.get(f.kind, 0) + 1
        if kinds:
            summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
            click.echo(f"note: {who}graph findings: {summary} (details in report.json)", err=True)
    if multi:
        click.echo(f"wrote {len(files)} files to {out_dir}: {len(roots.specs)} roots, "
                   f"{len(roots.cross_refs)} cross-root references")
        for f in roots.findings:
            click.echo(f"note: {f.kind}: {f.message}", err=True)


@click.command()
@estate_options
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def inspect(state_path, hcl_dir, var_files, region, fmt):
    """Every managed resource with its phase and status (mapped / folded / unsupported) and the coverage figure."""
    roots, multi = open_roots(state_path, hcl_dir, var_files, region)
    if multi:
        if fmt == "json":
            doc = roots.summary() | {"reports": {s.name: report(e.result, e.graph) for s, e in zip(roots.specs, roots.estates, strict=True)}}
            click.echo(json.dumps(doc, indent=2))
            return
        for spec, estate in zip(roots.specs, roots.estates, strict=True):
            click.echo(f"== root {spec.name} ({estate.state.path})")
            _inspect_table(report(estate.result, estate.graph))
        click.echo(f"\n{len(roots.cross_refs)} cross-root references")
        for ref in roots.cross_refs:
            d = ref.as_dict()
            click.echo(f"  {d['from']} {d['path']} → {d['to']} ({d['via']})")
        for f in roots.findings:
            click.echo(f"note: {f.kind}: {f.message}", err=True)
        return
    rep = report(roots.estates[0].result, roots.estates[0].graph)
    if fmt == "json":
        click.echo(json.dumps(rep, indent=2))
        return
    _inspect_table(rep)


def _inspect_table(rep: dict) -> None:
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
