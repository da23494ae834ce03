"""The `tf2kro` command line. Each subcommand lives in `converter/commands/<name>.py` and is registered here.

Exit codes: 0 success, 1 findings (drift, policy violations — per command), 2 bad input or an error.
A `ToolError` anywhere becomes one line on stderr naming the file/resource, and exit code 2.
"""

from __future__ import annotations

import importlib
import sys

import click

from converter import __version__, progress
from converter.commands import helptext
from converter.model import ToolError

# (module, attribute) of each click command.
COMMANDS: list[tuple[str, str]] = [
    ("converter.commands.convert", "convert"),
    ("converter.commands.convert", "inspect"),
    ("converter.commands.graph", "graph"),
    ("converter.commands.diff", "diff"),
    ("converter.commands.inventory", "inventory"),
    ("converter.commands.plan", "plan"),
    ("converter.commands.fleet", "fleet"),
    ("converter.commands.validate", "validate"),
]


class _Group(click.Group):
    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except ToolError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tf2kro")
def main() -> None:
    """Convert Terraform-managed AWS infrastructure into ACK objects grouped in kro RGDs (adopt, never recreate)."""
    progress.activate()  # stage lines on stderr, only if it is a terminal


for _mod, _attr in COMMANDS:
    main.add_command(getattr(importlib.import_module(_mod), _attr))
helptext.apply(main)
