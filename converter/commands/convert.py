"""`tf2kro convert` and `tf2kro inspect`: the main job and its coverage view."""

from __future__ import annotations

import dataclasses
import json
from typing import TYPE_CHECKING

import click

from converter import progress
from converter.commands.common import PHASES, estate_options, open_roots, root_option
from converter.commands.output import force_option, write_output
from converter.gcpause import gc_paused
from converter.model import Status
from converter.names import click_dns1123_label

if TYPE_CHECKING:  # the pipeline (networkx, jsonschema, yaml) is imported by the functions that run it, not by `--help`
    from converter.emit.kro import EmitOptions
    from converter.emit.writer import OutputRun
    from converter.estate.roots import EstateRoots
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
def render_tree(estate: Estate, opts: EmitOptions, *, secrets_out: list[str] | None = None,
                fork: bool | None = None) -> dict[str, str]:
    """Every output file of `convert`, in memory (written atomically by the caller). With `secrets_out`, the
    estate's sensitive values (what the leak scan looks for) are appended to it.

    Two independent halves — the kro RGDs + instances here, the review objects + report.json (+ the secret list)
    in a forked child on a second core (converter/forkjoin.py; serial where that is not safe or possible). The
    files come out in the same order with the same bytes either way (tests/test_forkjoin.py)."""
    from converter.emit.kro import emit_phases, plain_objects, report, to_json
    from converter.emit.writer import dump_yaml
    from converter.forkjoin import beside

    candidates = [p for p in PHASES if opts.phases is None or p in opts.phases]

    def review_half() -> tuple[dict[str, str], str, list[str]]:
        reviews = {p: dump_yaml(plain_objects(estate.result, opts, p, estate.graph)) for p in candidates}
        rep = to_json(report(estate.result, estate.graph, opts.naming, estate.ownership))
        return reviews, rep, (estate.secrets() if secrets_out is not None else [])

    def kro_half() -> list[tuple[str, str, str]]:
        by_phase: dict[str, list] = {}
        for po in emit_phases(estate.result, estate.graph, opts, estate.hcl):
            by_phase.setdefault(po.phase, []).append(po)
        # a phase split by size: its RGDs (and instances) are separate documents of the same file
        return [(phase, dump_yaml([po.rgd for po in parts]), dump_yaml([po.instance for po in parts]))
                for phase, parts in by_phase.items()]

    (reviews, rep, secrets), rendered = beside(review_half, kro_half, fork=fork)
    files: dict[str, str] = {}
    for phase, rgd, instance in rendered:
        files[f"{phase}/rgd.yaml"] = rgd
        files[f"{phase}/instance.yaml"] = instance
        files[f"{phase}/kustomization.yaml"] = _kustomization(["rgd.yaml", "instance.yaml"])
        files[f"{phase}/review/ack-objects.yaml"] = (reviews[phase] if phase in reviews else  # a phase outside PHASES
                                                     dump_yaml(plain_objects(estate.result, opts, phase, estate.graph)))
    files["kustomization.yaml"] = _kustomization([phase for phase, _, _ in rendered])
    files["report.json"] = rep
    if secrets_out is not None:
        secrets_out.extend(secrets)
    return files


def _kustomization(resources: list[str]) -> str:
    """A kustomize Kustomization listing `resources` (a phase's files, the phases, or the roots)."""
    from converter.emit.writer import dump_yaml

    return dump_yaml([{
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    }])


def convert_output_run(phase: str, env: str = "main", *, multi: bool = False, root: str | None = None) -> OutputRun:
    """A `convert --env E --phase P` run owns P's directory of environment E; `all` owns every phase directory of E.
    The root kustomization.yaml is regenerated from the phase directories present after the merge, so phase runs
    into one --out add up; report.json always describes the whole estate of the latest run. Another environment's
    output at the same paths is not replaced (the writer refuses without --force): one --out per environment. A
    multi-root run (`<root>/<phase>/…`) owns the whole convert tree of E: its root kustomization lists the roots.

    A single-root run's scopes name its Terraform root (`convert:E:P@ROOT`): another root's output of E in the same
    --out is refused without --force, like another environment's. A scope without `@ROOT` (written before roots
    were recorded) counts as this root's, so existing output directories keep working."""
    from converter.emit.writer import OutputRun

    if multi:
        return OutputRun(command=f"convert --estate --env {env}", scope_of=lambda rel: f"convert:{env}:estate",
                         replaces=lambda scope: scope.startswith(f"convert:{env}:"))
    suffix = f"@{root}" if root else ""

    def mine(scope: str) -> bool:  # E's output of this root, or of an older run that did not record its root
        return "@" not in scope or not root or scope.endswith(suffix)

    def scope_of(rel: str) -> str:
        return f"convert:{env}:{rel.split('/', 1)[0]}{suffix}" if "/" in rel else "convert:index"

    def replaces(scope: str) -> bool:
        if not mine(scope):
            return False
        bare = scope.split("@", 1)[0]
        return bare == f"convert:{env}:{phase}" if phase != "all" else bare.startswith(f"convert:{env}:")

    def conflicts(scope: str) -> bool:
        return scope.startswith(f"convert:{env}:") and scope != f"convert:{env}:estate" and not mine(scope)

    def index(paths: list[str], read) -> dict[str, str]:
        present = {p.split("/", 1)[0] for p in paths if p.endswith("/kustomization.yaml") and p.count("/") == 1}
        order = {p: i for i, p in enumerate(PHASES)}
        return {"kustomization.yaml": _kustomization(sorted(present, key=lambda p: (order.get(p, len(order)), p)))}

    return OutputRun(command=f"convert --env {env}" + ("" if phase == "all" else f" --phase {phase}"),
                     scope_of=scope_of, replaces=replaces, conflicts=conflicts, index=index,
                     index_scope="convert:index")


def render_roots(roots: EstateRoots, opts: EmitOptions) -> dict[str, str]:
    """Several roots: each root's tree under `<root>/` (the same files as one root), a kustomization over the roots,
    and `estate.json` (where each state came from, the cross-root references, the estate findings)."""
    from converter.emit.kro import to_json

    files: dict[str, str] = {}
    for spec, est in zip(roots.specs, roots.estates, strict=True):
        ropts = dataclasses.replace(opts, env=spec.env or opts.env, root=est.root)
        for path, text in render_tree(est, ropts).items():
            files[f"{spec.name}/{path}"] = text
    files["kustomization.yaml"] = _kustomization([s.name for s in roots.specs])
    files["estate.json"] = to_json(roots.summary())
    return files


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
@live_option
def convert(state_path, hcl_dir, var_files, region, out_dir, force, phase, env, namespace, root, read_only, live_file):
    """Write kro RGDs + instances (per phase) whose ACK objects adopt the resources in the state."""
    from converter.emit.kro import EmitOptions, region_unknown

    roots, multi = open_roots(state_path, hcl_dir, var_files, region, root=root, live=_load_live(live_file))
    opts = EmitOptions(env=env, namespace=namespace, read_only=read_only, phases=None if phase == "all" else (phase,),
                       root=roots.estates[0].root)
    progress.stage("render")
    secrets: list[str] = []
    if multi:
        files = render_roots(roots, opts)
        secrets = roots.secrets()
    else:  # the secret list is gathered beside the rendering (render_tree)
        files = render_tree(roots.estates[0], opts, secrets_out=secrets)
    progress.stage("write", f"{len(files)} files")
    inputs = tuple(str(s.state) for s in roots.specs) + tuple(str(s.hcl) for s in roots.specs if s.hcl) + tuple(var_files) + ((live_file,) if live_file else ())
    run = convert_output_run(phase, env, multi=multi, root=None if multi else roots.estates[0].root)
    write_output(out_dir, files, secrets, run=run, force=force, inputs=inputs)
    progress.finish()
    for spec, estate in zip(roots.specs, roots.estates, strict=True):
        who = f"{spec.name}: " if multi else ""
        c = estate.result.counts()
        click.echo(f"{who}{c['mapped']} mapped, {c['folded']} folded, {c['unsupported']} unsupported, "
                   f"{c['not-adopted']} not adopted" if multi else
                   f"wrote {len(files)} files to {out_dir}: {c['mapped']} mapped, {c['folded']} folded, {c['unsupported']} unsupported, "
                   f"{c['not-adopted']} not adopted (co-managed)")
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
@live_option
def inspect(state_path, hcl_dir, var_files, region, fmt, live_file):
    """Every managed resource with its phase and status (mapped / folded / unsupported / not-adopted), the
    shared-ownership decisions and the coverage figure."""
    from converter.emit.kro import report

    roots, multi = open_roots(state_path, hcl_dir, var_files, region, live=_load_live(live_file))
    if multi:
        if fmt == "json":
            doc = roots.summary() | {"reports": {s.name: report(e.result, e.graph, ownership=e.ownership) for s, e in zip(roots.specs, roots.estates, strict=True)}}
            click.echo(json.dumps(doc, indent=2))
            return
        for spec, estate in zip(roots.specs, roots.estates, strict=True):
            click.echo(f"== root {spec.name} ({estate.state.path})")
            _inspect_rows(report(estate.result, estate.graph, ownership=estate.ownership), fmt)
        click.echo(f"\n{len(roots.cross_refs)} cross-root references")
        for ref in roots.cross_refs:
            d = ref.as_dict()
            click.echo(f"  {d['from']} {d['path']} → {d['to']} ({d['via']})")
        for f in roots.findings:
            click.echo(f"note: {f.kind}: {f.message}", err=True)
        return
    rep = report(roots.estates[0].result, roots.estates[0].graph, ownership=roots.estates[0].ownership)
    if fmt == "json":
        click.echo(json.dumps(rep, indent=2))
        return
    _inspect_rows(rep, fmt)


def _inspect_rows(rep: dict, fmt: str) -> None:
    """One root's resources as a table that fits the terminal, or as tsv."""
    columns = ["address", "type", "phase", "wave", "status", "ACK kind / fold parent / reason"]
    rows = []
    for row in rep["resources"]:
        status = row["status"]
        detail = row.get("kind") if status == Status.MAPPED else row.get("fold_parent") if status == Status.FOLDED else row.get("reason")
        if row.get("ownership") and status != Status.NOT_ADOPTED:
            detail = f"{detail}; ownership: {'; '.join(row['ownership'])}"
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
        f"\n{c['mapped']} mapped, {c['folded']} folded, {c['unsupported']} unsupported, {c['not-adopted']} not adopted; "
        f"aws_* coverage {cov['mapped_or_folded']}/{cov['instances']} = {cov['percent']}%"
    )
