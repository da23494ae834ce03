"""Options shared by the commands that read an estate."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from converter.commands import checks
from converter.pipeline import SAMPLE_DIR, Estate, load_estate

PHASES = ("network", "identity", "cluster", "addons", "other")


def estate_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("--region", default=None, help="AWS region for the region annotation (default: from ARNs in state).")(fn)
    fn = click.option("--var-file", "var_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
                      help="Terraform .tfvars file(s), applied after terraform.tfvars (repeatable).")(fn)
    fn = click.option("--hcl", "hcl_dir", type=click.Path(exists=True, file_okay=False), callback=checks.hcl_dir,
                      help="Terraform configuration directory (optional; state alone converts).")(fn)
    fn = click.option("--sample", is_flag=True, expose_value=False, callback=_remember_sample,
                      help="Use the sample estate bundled with tf2kro (state + HCL) instead of --state.")(fn)
    fn = click.option("--state", "state_path", default=None, callback=checks.state_file,
                      help="terraform.tfstate (format 4), or - for stdin. Required (or --sample).")(fn)
    return fn


def _root(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from converter.emit.naming import is_dns_label

    if value is not None and not is_dns_label(value):
        raise click.BadParameter(f"{value!r} is not a DNS-1123 label (a-z, 0-9, '-', at most 63, alphanumeric ends)")
    return value


def root_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`--root NAME`: the Terraform root (stack) name in every emitted name and RGD kind (docs/naming.md)."""
    return click.option("--root", "root", default=None, callback=_root, metavar="NAME",
                        help="Root (stack) name, a DNS-1123 label, part of every emitted name and RGD kind "
                             "[default: the state file's directory (terraform.tfstate) or file name; 'stdin' for -].")(fn)


def _remember_sample(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    # kept out of the command's arguments, so every command takes --sample without a new parameter
    ctx.meta[_SAMPLE_KEY] = bool(value)
    return value


_SAMPLE_KEY = "tf2kro.sample"


def open_estate(state_path: str | None, hcl_dir: str | None, var_files: tuple[str, ...], region: str | None,
                *, root: str | None = None) -> Estate:
    """The estate named by --state (and --hcl), or the bundled sample with --sample.

    No silent default: a CI job that forgot --state must fail, not report on the sample estate.
    """
    ctx = click.get_current_context(silent=True)
    sample = bool(ctx and ctx.meta.get(_SAMPLE_KEY))
    if sample and state_path is not None:
        raise click.UsageError("--sample and --state exclude each other")
    if sample:
        state_path = str(SAMPLE_DIR / "terraform.tfstate")
        if hcl_dir is None:
            hcl_dir = str(SAMPLE_DIR)
        # one root name wherever the sample lies (a checkout's samples/estate or the wheel's _data/sample)
        root = root or "sample"
    elif state_path is None:
        raise click.UsageError("--state FILE is required (or --sample for the sample estate bundled with tf2kro)")
    return load_estate(state_path, hcl_dir, var_files, region=region, root=root)
