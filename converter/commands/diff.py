"""`tf2kro diff`: three-way, attribute-level diff of an estate against live AWS (or a capture).

Exit codes: 0 no drift; 1 drift, deletion, unmanaged resource, adoption-would-change or (with --hcl) a pending
Terraform change found; 2 error.
Types that could not be read (AccessDenied, API missing) are reported `unknown` and do not change the exit code.
Format of the output, the ignore file and the capture: docs/diff.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from converter import progress
from converter.commands.common import PHASES, estate_options, open_estate


def aws_options(fn):
    fn = click.option("--max-attempts", type=click.IntRange(1, 30), default=8, show_default=True,
                      help="Attempts per AWS call (adaptive retry mode: backoff + client-side rate limiting).")(fn)
    fn = click.option("--scope-tag", "scope_tags", multiple=True, metavar="KEY=VALUE",
                      help="Scope the unmanaged scan to resources with this tag (repeatable; default: the estate's VPCs).")(fn)
    fn = click.option("--endpoint-url", default=None, help="AWS endpoint URL (e.g. a moto server).")(fn)
    fn = click.option("--profile", default=None, help="AWS profile.")(fn)
    fn = click.option("--phase", type=click.Choice(PHASES), default=None, help="Only this phase's resources.")(fn)
    return fn


@click.command()
@estate_options
@aws_options
@click.option("--format", "fmt", type=click.Choice(["table", "json", "md", "junit"]), default="table", show_default=True)
@click.option("--ignore", "ignore_file", type=click.Path(exists=True, dir_okay=False),
              help="Baseline of accepted differences: YAML/JSON list of {address, path, class} globs.")
@click.option("--live", "live_file", type=click.Path(exists=True, dir_okay=False),
              help="Diff against a capture from `tf2kro inventory capture` instead of AWS (no credentials needed).")
@click.option("--output", "output", type=click.Path(dir_okay=False),
              help="Write the report here instead of stdout (Markdown chunks: FILE, FILE.2, ...).")
def diff(state_path, hcl_dir, var_files, region, phase, profile, endpoint_url, scope_tags, max_attempts, fmt, ignore_file,
         live_file, output):
    """Diff the estate: ACK spec vs live AWS (adoption-would-change), state vs live (drift), HCL vs state with --hcl
    (pending-terraform-change), unmanaged."""
    from converter.diff.aws import AwsClients
    from converter.diff.compare import load_ignore
    from converter.diff.live import LiveRead
    from converter.diff.report import render_json, render_junit, render_markdown, render_table
    from converter.diff.run import parse_scope_tags, run_diff

    estate = open_estate(state_path, hcl_dir, var_files, region)
    ignore = load_ignore(ignore_file) if ignore_file else None
    tags = parse_scope_tags(scope_tags)
    if live_file:
        progress.stage("compare", str(live_file))
        report = run_diff(estate, live=LiveRead.load(live_file), phase=phase, ignore=ignore, source=str(live_file))
    else:
        clients = AwsClients(region=region or estate.result.region, profile=profile, endpoint_url=endpoint_url,
                             max_attempts=max_attempts)
        progress.stage("read", "live AWS, per type")
        report = run_diff(estate, clients=clients, phase=phase, scope_tags=tags, ignore=ignore, on_type=progress.step)
    progress.finish()
    secrets = estate.secrets()
    if fmt == "json":
        chunks = [render_json(report, secrets)]
    elif fmt == "md":
        chunks = render_markdown(report, secrets)
    elif fmt == "junit":
        chunks = [render_junit(report, secrets)]
    else:
        from converter.commands.tables import NO_WRAP_WIDTH, stdout_width

        chunks = [render_table(report, secrets, width=NO_WRAP_WIDTH if output else stdout_width())]
    if output:
        for i, text in enumerate(chunks):
            Path(output if i == 0 else f"{output}.{i + 1}").write_text(text, encoding="utf-8")
        click.echo(f"wrote {len(chunks)} file(s) starting at {output}", err=True)
    else:
        click.echo("\n<!-- tf2kro diff: next chunk -->\n".join(chunks))
    c = report.counts()
    click.echo(f"tf2kro diff: {c['adoption-would-change']} adoption-would-change, {c['deleted']} deleted, {c['drift']} drift, "
               f"{c['pending-terraform-change']} pending-terraform-change, {c['unmanaged']} unmanaged, {c['unverified']} unverified, {c['unknown']} unknown; "
               f"{report.total_calls} AWS API calls", err=True)
    sys.exit(report.exit_code)
