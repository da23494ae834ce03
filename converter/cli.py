"""The `tf2kro` command line. Each subcommand lives in `converter/commands/<name>.py` and is registered here."""

from __future__ import annotations

import importlib

import click

from converter import __version__

# (module, attribute) of each click command; imported lazily-ish at start so a broken optional stage names itself.
COMMANDS: list[tuple[str, str]] = []


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tf2kro")
def main() -> None:
    """Convert Terraform-managed AWS infrastructure into ACK objects grouped in kro RGDs (adopt, never recreate)."""


for _mod, _attr in COMMANDS:
    main.add_command(getattr(importlib.import_module(_mod), _attr))
