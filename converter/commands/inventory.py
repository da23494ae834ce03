"""`tf2kro inventory capture`: save the live read of an estate (JSON, format in docs/diff.md) so that
`tf2kro diff --live FILE` can run in CI without AWS credentials."""

from __future__ import annotations

import click

from converter import progress
from converter.commands.common import estate_options, open_estate
from converter.commands.diff import aws_options


@click.group()
def inventory() -> None:
    """Live AWS inventory of an estate."""


@inventory.command("capture")
@estate_options
@aws_options
@click.option("--out", "out_file", required=True, type=click.Path(dir_okay=False), help="Capture file (JSON).")
def capture_cmd(state_path, hcl_dir, var_files, region, phase, profile, endpoint_url, scope_tags, max_attempts, out_file):
    """Read every mapped resource of the estate from AWS (read-only, batched) and save it."""
    from converter.diff.aws import AwsClients
    from converter.diff.run import capture, parse_scope_tags
    from converter.secrets import scrub

    estate = open_estate(state_path, hcl_dir, var_files, region)
    clients = AwsClients(region=region or estate.result.region, profile=profile, endpoint_url=endpoint_url,
                         max_attempts=max_attempts)
    progress.stage("read", "live AWS, per type")
    live = capture(estate, clients, phase=phase, scope_tags=parse_scope_tags(scope_tags), on_type=progress.step)
    progress.finish()
    text = scrub(live.to_json(), estate.secrets())
    import os
    import tempfile
    from pathlib import Path

    target = Path(out_file)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".capture-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, target)
    unknown = [t for t, tr in live.types.items() if tr.status != "ok"]
    click.echo(f"captured {sum(len(tr.items) for tr in live.types.values())} resources of {len(live.types)} types "
               f"({live.total_calls} AWS API calls) to {out_file}"
               + (f"; unknown: {', '.join(unknown)}" if unknown else ""), err=True)
