"""`tf2kro diff`: three-way, attribute-level diff of an estate against live AWS (or a capture).

Exit codes: 0 no drift; 1 drift, deletion, unmanaged resource, adoption-would-change or (with --hcl) a pending
Terraform change found; 2 error or **not checked**: no credentials, endpoint unreachable (the `sts
get-caller-identity` preflight fails within seconds), or any resource left `unknown` (AccessDenied, API missing)
unless --allow-unknown. The reports then say "not checked", never "No drift".
Format of the output, the ignore file and the capture: docs/diff.md.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from converter import progress
from converter.commands.common import PHASES, estate_options, open_estate

FORMATS = ("table", "json", "md", "junit")
IGNORE_FILE = ".tf2kroignore"


def aws_options(fn):
    fn = click.option("--allow-unknown", is_flag=True, default=False,
                      help="Accept resources that could not be read (`unknown`): exit 0/1 on what was read instead "
                           "of 2 (no credentials / unreachable endpoint is still 2).")(fn)
    fn = click.option("--max-attempts", type=click.IntRange(1, 30), default=8, show_default=True,
                      help="Attempts per AWS call (adaptive retry mode: backoff + client-side rate limiting).")(fn)
    fn = click.option("--read-workers", type=click.IntRange(1, 32), default=8, show_default=True,
                      help="Per-object AWS reads in flight at once (EKS node groups, SQS queues, secrets); "
                           "1 = serial. Output is identical either way.")(fn)
    fn = click.option("--scope-tag", "scope_tags", multiple=True, metavar="KEY=VALUE",
                      help="Scope the unmanaged scan to resources with this tag (repeatable; default: the estate's VPCs).")(fn)
    fn = click.option("--endpoint-url", default=None, help="AWS endpoint URL (e.g. a moto server).")(fn)
    fn = click.option("--profile", default=None, help="AWS profile (default: the environment's credentials).")(fn)
    fn = click.option("--phase", type=click.Choice(PHASES), default=None, help="Only this phase's resources.")(fn)
    return fn


def parse_outputs(values: tuple[str, ...], fmt: str) -> list[tuple[str, str]]:
    """`--output FORMAT:FILE` (repeatable) → [(format, file)]; a bare FILE takes `--format`."""
    out = []
    for v in values:
        kind, sep, path = v.partition(":")
        if sep and kind in FORMATS and path:
            out.append((kind, path))
        elif sep and kind in FORMATS:
            raise click.UsageError(f"--output {v!r}: no file after {kind}:")
        else:
            out.append((fmt, v))
    return out


def discover_ignore(ignore_file: str | None) -> str | None:
    """--ignore FILE, else `.tf2kroignore` in the working directory (announced on stderr)."""
    if ignore_file:
        return ignore_file
    found = Path.cwd() / IGNORE_FILE
    if found.is_file():
        click.echo(f"using the ignore baseline {IGNORE_FILE} from the working directory", err=True)
        return str(found)
    return None


@click.command()
@estate_options
@aws_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="Format on stdout.")
@click.option("--ignore", "ignore_file", type=click.Path(exists=True, dir_okay=False),
              help=f"Baseline of accepted differences: YAML/JSON list of {{address, path, class}} globs "
                   f"(default: {IGNORE_FILE} in the working directory, if present).")
@click.option("--live", "live_file", type=click.Path(exists=True, dir_okay=False),
              help="Diff against a capture from `tf2kro inventory capture` instead of AWS (no credentials needed).")
@click.option("--output", "outputs", multiple=True, metavar="[FORMAT:]FILE",
              help="Also write the report to FILE, in FORMAT (md, junit, json, table; default --format); repeatable: "
                   "one scan, several reports. Markdown is chunked: FILE, FILE.2, ...")
def diff(state_path, hcl_dir, var_files, region, phase, profile, endpoint_url, scope_tags, read_workers, max_attempts,
         allow_unknown,
         fmt, ignore_file, live_file, outputs):
    """Diff the estate: ACK spec vs live AWS (adoption-would-change), state vs live (drift), HCL vs state with --hcl
    (pending-terraform-change), unmanaged.

    \b
    Examples:
      tf2kro diff --state terraform.tfstate --format md --output junit:diff.xml --output md:diff.md
      tf2kro inventory capture --state terraform.tfstate --out live.json && tf2kro diff --state terraform.tfstate --live live.json
    """
    from converter.diff.aws import AwsUnreachable
    from converter.diff.compare import load_ignore
    from converter.diff.live import LiveRead
    from converter.diff.report import (
        now_iso,
        render_json,
        render_junit,
        render_markdown,
        render_table,
        verdict,
    )
    from converter.diff.run import connect, parse_scope_tags, run_diff

    targets = parse_outputs(outputs, fmt)
    estate = open_estate(state_path, hcl_dir, var_files, region)
    ignore_path = discover_ignore(ignore_file)
    ignore = load_ignore(ignore_path) if ignore_path else None
    tags = parse_scope_tags(scope_tags)
    started = time.monotonic()
    generated_at = now_iso()  # one scan time for every report of this run (JSON generated_at, JUnit timestamp)
    failure: str | None = None
    if live_file:
        progress.stage("compare", str(live_file))
        report = run_diff(estate, live=LiveRead.load(live_file), phase=phase, ignore=ignore, source=str(live_file))
    else:
        try:
            clients = connect(estate, region=region, profile=profile, endpoint_url=endpoint_url,
                              max_attempts=max_attempts, read_workers=read_workers,
                              echo=lambda line: click.echo(line, err=True))
            progress.stage("read", "live AWS, per type")
            report = run_diff(estate, clients=clients, phase=phase, scope_tags=tags, ignore=ignore,
                              on_type=progress.step)
        except AwsUnreachable as exc:
            # nothing (more) can be read: every resource is reported "not checked", then exit 2
            failure = str(exc)
            unread = LiveRead.unread(estate, failure, phase=phase, region=region or estate.result.region)
            report = run_diff(estate, live=unread, phase=phase, ignore=ignore, source="aws")
            report.failure = failure
    progress.finish()
    elapsed = time.monotonic() - started
    secrets = estate.secrets()

    def render(kind: str, to_file: bool = True) -> list[str]:
        if kind == "json":
            return [render_json(report, secrets, allow_unknown=allow_unknown, generated_at=generated_at)]
        if kind == "md":
            return render_markdown(report, secrets, allow_unknown=allow_unknown)
        if kind == "junit":
            return [render_junit(report, secrets, allow_unknown=allow_unknown, timestamp=generated_at,
                                 elapsed=elapsed)]
        from converter.commands.tables import NO_WRAP_WIDTH, stdout_width

        width = NO_WRAP_WIDTH if to_file else stdout_width()
        return [render_table(report, secrets, width=width, allow_unknown=allow_unknown)]

    for kind, path in targets:
        chunks = render(kind)
        for i, text in enumerate(chunks):
            Path(path if i == 0 else f"{path}.{i + 1}").write_text(text, encoding="utf-8")
        if not failure:  # a failed preflight is one stderr line; the files are written all the same
            click.echo(f"wrote {kind} report ({len(chunks)} file(s)) to {path}", err=True)
    click.echo("\n<!-- tf2kro diff: next chunk -->\n".join(render(fmt, to_file=False)))  # stdout keeps --format
    if failure:  # one line: the cause, and that nothing was checked (the report on stdout says it once too)
        click.echo(f"error: {failure}" + ("" if "checked" in failure else "; nothing was checked"), err=True)
        sys.exit(2)
    c = report.counts()
    v = verdict(report, allow_unknown)
    click.echo(f"tf2kro diff: {c['adoption-would-change']} adoption-would-change, {c['deleted']} deleted, {c['drift']} drift, "
               f"{c['pending-terraform-change']} pending-terraform-change, {c['unmanaged']} unmanaged, {c['unverified']} unverified, {c['unknown']} unknown; "
               f"{report.total_calls} AWS API calls" + ("; NOT CHECKED" if v.status == "not-checked" else ""), err=True)
    sys.exit(v.exit_code)
