"""Options shared by the commands that read an estate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from converter.pipeline import SAMPLE_DIR, Estate, load_estate

PHASES = ("network", "identity", "cluster", "addons", "other")


def estate_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("--region", default=None, help="AWS region for the region annotation (default: from ARNs in state).")(fn)
    fn = click.option("--var-file", "var_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
                      help="Terraform .tfvars file(s), applied after terraform.tfvars (repeatable).")(fn)
    fn = click.option("--hcl", "hcl_dir", type=click.Path(exists=True, file_okay=False),
                      help="Terraform configuration directory (optional; state alone converts).")(fn)
    fn = click.option("--state", "state_path", default=None,
                      help="terraform.tfstate (format 4), or - for stdin. Default: the bundled sample estate.")(fn)
    return fn


def open_estate(state_path: str | None, hcl_dir: str | None, var_files: tuple[str, ...], region: str | None,
                live: Any = None) -> Estate:
    if state_path is None:
        state_path = str(SAMPLE_DIR / "terraform.tfstate")
        if hcl_dir is None and (SAMPLE_DIR / "main.tf").exists():
            hcl_dir = str(SAMPLE_DIR)
        click.echo(f"(no --state given: using the sample estate {state_path})", err=True)
    return load_estate(state_path, hcl_dir, var_files, region=region, live=live)
