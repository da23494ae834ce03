"""`tf2kro convert` and `tf2kro inspect`: the main job and its coverage view."""

from __future__ import annotations

import json

import click

from converter import progress
from converter.commands.common import PHASES, estate_options, open_estate, root_option
from converter.commands.output import force_option, write_output
from converter.emit.kro import EmitOptions, emit_phases, plain_objects, region_unknown, report, to_json
from converter.emit.writer import OutputRun, dump_yaml
from converter.gcpause import gc_paused
from converter.model import Status
from converter.names import click_dns1123_label
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
    files["kustomization.yaml"] = _root_kustomization([po.phase for po in phases])
    files["report.json"] = to_json(report(estate.result, estate.graph, opts.naming))
    return files


def _root_kustomization(phases: list[str]) -> str:
    return dump_yaml([{
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": phases,
    }])


def convert_output_run(phase: str) -> OutputRun:
    """A `convert --phase P` run owns P's directory; `all` owns every phase directory. The root kustomization.yaml
    is regenerated from the phase directories present after the merge, so phase runs into one --out add up;
    report.json always describes the whole estate of the latest run."""
    def scope_of(rel: str) -> str:
        return f"convert:{rel.split('/', 1)[0]}" if "/" in rel else "convert:index"

    def replaces(scope: str) -> bool:
        return scope == f"convert:{phase}" if phase != "all" else scope.startswith("convert:")

    def index(paths: list[str], read) -> dict[str, str]:
        present = {p.split("/", 1)[0] for p in paths if p.endswith("/kustomization.yaml") and p.count("/") == 1}
        order = {p: i for i, p in enumerate(PHASES)}
        return {"kustomization.yaml": _root_kustomization(sorted(present, key=lambda p: (order.get(p, len(order)), p)))}

    return OutputRun(command="convert" + ("" if phase == "all" else f" --phase {phase}"), scope_of=scope_of,
                     replaces=replaces, index=index, index_scope="convert:index")


@click.command()
@estate_options
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Output directory: only files tf2kro wrote there are replaced (.tf2kro/manifest.json).")
@force_option
@click.option("--phase", type=click.Choice(PHASES + ("all",)), default="all", show_default=True)
@click.option("--env", default="main", show_default=True, callback=click_dns1123_label,
              help="Environment name: part of every object name, instance name and RGD kind.")
@click.option("--namespace", default=None, callback=click_dns1123_label,
              help="Namespace of the kro instances and ACK objects [default: <env>-infrastructure].")
@root_option
@click.option("--read-only", is_flag=True, help='Add services.k8s.aws/read-only: "true" (the dry-run stage: ACK adopts, writes nothing).')
def convert(state_path, hcl_dir, var_files, region, out_dir, force, phase, env, namespace, root, read_only):
    """Write kro RGDs + instances (per phase) whose ACK objects adopt the resources in the state."""
    estate = open_estate(state_path, hcl_dir, var_files, region, root=root)
    opts = EmitOptions(env=env, namespace=namespace, read_only=read_only, phases=None if phase == "all" else (phase,),
                       root=estate.root)
    progress.stage("render")
    files = render_tree(estate, opts)
    progress.stage("write", f"{len(files)} files")
    write_output(out_dir, files, estate.secrets(), run=convert_output_run(phase), force=force,
                 inputs=(state_path, hcl_dir, *var_files))
    progress.finish()
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


def tsv(columns: list[str], rows: list[list[str]]) -> str:
    """Tab-separated, header first, no styling. A tab or newline inside a value would shift or split a row:
    they become spaces, so every line is exactly one resource with len(columns) fields."""
    def clean(v: str) -> str:
        return " ".join(str(v).replace("\t", " ").splitlines())
    return "".join("\t".join(clean(c) for c in r) + "\n" for r in [columns, *rows])


@click.command()
@estate_options
@click.option("--format", "fmt", type=click.Choice(["table", "tsv", "json"]), default="table", show_default=True,
              help="table (fits the terminal), tsv (header + one resource per line, for grep/awk/cut) or json.")
def inspect(state_path, hcl_dir, var_files, region, fmt):
    """Every managed resource with its phase and status (mapped / folded / unsupported) and the coverage figure."""
    estate = open_estate(state_path, hcl_dir, var_files, region)
    rep = report(estate.result, estate.graph)
    if fmt == "json":
        click.echo(json.dumps(rep, indent=2))
        return
    columns = ["address", "type", "phase", "wave", "status", "ACK kind / fold parent / reason"]
    rows = []
    for row in rep["resources"]:
        status = row["status"]
        detail = row.get("kind") if status == Status.MAPPED else row.get("fold_parent") if status == Status.FOLDED else row.get("reason")
        rows.append([row["address"], row["type"], row["phase"], str(row.get("wave", "")), str(status), str(detail)])
    if fmt == "tsv":
        click.echo(tsv(columns, rows), nl=False)
        return
    from converter.commands.tables import print_table, stdout_console

    console = stdout_console()
    print_table(console, columns, [[" ".join(c.split()) for c in r] for r in rows], whole=("address", "type"),
                status="status", optional=("type",))
    cov = rep["aws_coverage"]
    c = rep["counts"]
    console.print(
        f"\n{c['mapped']} mapped, {c['folded']} folded, {c['unsupported']} unsupported; "
        f"aws_* coverage {cov['mapped_or_folded']}/{cov['instances']} = {cov['percent']}%"
    )
