"""`tf2kro inventory capture`: save the live read of an estate (JSON, format in docs/diff.md) so that
`tf2kro diff --live FILE` can run in CI without AWS credentials.

A capture holds whole AWS items, so it is scrubbed of every state secret (each string leaf, before serialising)
and written mode 0600. Nothing readable (preflight failed) writes no file and exits 2; types left `unknown` are
written (the diff of the capture says "not checked") and exit 2 unless --allow-unknown.
"""

from __future__ import annotations

import sys

import click

from converter import progress
from converter.commands.common import estate_options, open_estate
from converter.commands.diff import aws_options
from converter.model import ToolError


@click.group()
def inventory() -> None:
    """Live AWS inventory of an estate."""


@inventory.command("capture")
@estate_options
@aws_options
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False), help="Capture file (JSON, mode 0600).")
def capture_cmd(state_path, hcl_dir, var_files, region, phase, profile, endpoint_url, scope_tags, read_workers, max_attempts,
                allow_unknown, out_file):
    """Read every mapped resource of the estate from AWS (read-only, batched) and save it.

    \b
    Example:
      tf2kro inventory capture --state terraform.tfstate --out live.json
    """
    import json
    import os
    import tempfile
    from pathlib import Path

    from converter.diff.redact import scrub_tree
    from converter.diff.run import capture, connect, parse_scope_tags
    from converter.secrets import scrub

    estate = open_estate(state_path, hcl_dir, var_files, region)
    tags = parse_scope_tags(scope_tags)
    clients = connect(estate, region=region, profile=profile, endpoint_url=endpoint_url, max_attempts=max_attempts,
                      read_workers=read_workers, echo=lambda line: click.echo(line, err=True))
    progress.stage("read", "live AWS, per type")
    live = capture(estate, clients, phase=phase, scope_tags=tags, on_type=progress.step)
    progress.finish()
    secrets = estate.secrets()
    doc = scrub_tree(json.loads(live.to_json()), secrets)
    text = scrub(json.dumps(doc, indent=1), secrets)  # key order kept: inline policy text is compared byte-exactly
    unknown = sorted(t for t, tr in live.types.items() if tr.status != "ok")
    if not live.types:
        raise ToolError("nothing to capture: no resource of the estate (or --phase) has a live read; no file written")
    if len(unknown) == len(live.types):
        reasons = sorted({str(tr.reason) for tr in live.types.values()})
        raise ToolError(f"nothing could be read ({len(unknown)} types unknown: {reasons[0]}"
                        + (f"; +{len(reasons) - 1} more reasons" if len(reasons) > 1 else "") + "); no file written")
    target = Path(out_file)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".capture-")  # mkstemp: mode 0600 from the start
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    click.echo(f"captured {sum(len(tr.items) for tr in live.types.values())} resources of {len(live.types)} types "
               f"({live.total_calls} AWS API calls) to {out_file}"
               + (f"; unknown: {', '.join(unknown)}" if unknown else ""), err=True)
    if unknown and not allow_unknown:
        click.echo(f"error: {len(unknown)} type(s) could not be read ({', '.join(unknown)}): the capture is incomplete "
                   "and its diff will say \"not checked\" (--allow-unknown accepts it)", err=True)
        sys.exit(2)


@inventory.command("metrics")
@click.argument("report", type=click.Path(dir_okay=False))
@click.option("--env", "env_name", required=True, help="Environment label (a Kubernetes label value).")
@click.option("--root", "root_name", required=True, help="Root label (a Kubernetes label value).")
@click.option("--push", "push_url", default=None, metavar="URL",
              help="PUT the metrics to this Pushgateway (group job/tf2kro-drift/env/ENV/root/ROOT) instead of printing.")
def metrics_cmd(report, env_name, root_name, push_url):
    """Print (or push) a `tf2kro diff --format json` report as Prometheus metrics.

    What the fleet's dashboard and drift alerts read (docs/monitoring.md): findings per class, Terraform instances
    left, when the scan ran. --env/--root are also the Pushgateway grouping key (URL path segments), so they must
    be label values. A push replaces the group (PUT): the metrics are the latest scan, nothing else.
    A not-checked or partially-checked report, or one without `generated_at`, is refused (exit 2): the time is
    the report's, so a stale scan stays stale on the dashboard.
    """
    import json
    from pathlib import Path

    from converter.fleet.monitoring import drift_metrics

    try:
        doc = json.loads(Path(report).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ToolError(f"cannot read drift report: {exc}", source=report) from None
    text = drift_metrics(doc, env_name, root_name, source=report)
    if not push_url:
        sys.stdout.write(text)
        return
    push_metrics(push_url, env_name, root_name, text)
    click.echo(f"pushed drift metrics of {env_name}/{root_name}")


def push_metrics(base_url: str, env_name: str, root_name: str, text: str, timeout: float = 30) -> None:
    """PUT `text` to the Pushgateway group job/tf2kro-drift/env/<env>/root/<root> (names already checked as
    label values by drift_metrics, so they are plain path segments). Any failure is one ToolError line."""
    import urllib.error
    import urllib.parse
    import urllib.request

    parts = urllib.parse.urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ToolError("--push: expected an http(s) URL of a Pushgateway (no query or fragment)", source=base_url)
    url = f"{base_url.rstrip('/')}/metrics/job/tf2kro-drift/env/{env_name}/root/{root_name}"
    req = urllib.request.Request(url, data=text.encode("utf-8"), method="PUT",
                                 headers={"Content-Type": "text/plain; version=0.0.4"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 - http(s) checked above
            resp.read()
    except urllib.error.HTTPError as exc:
        raise ToolError(f"Pushgateway answered HTTP {exc.code}", source=url) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ToolError(f"Pushgateway unreachable: {reason}", source=url) from None
