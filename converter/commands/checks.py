"""Click callbacks that reject a bad option value at parse time with a usage error (exit 2) that says what is
wrong in the user's terms, instead of a failure deep in the pipeline (or, for `--hcl`, a silent state-only run)."""

from __future__ import annotations

import re
from pathlib import Path

import click

K8S_VERSION = re.compile(r"^[1-9]\d*\.\d+$")


def state_file(ctx: click.Context, param: click.Parameter, value):
    """`--state`: a file, `-` or an s3:// URL, optionally `NAME=`-prefixed (repeatable). A directory is the usual
    slip (`--state .`): name the file it probably meant."""
    if isinstance(value, tuple):
        return tuple(state_file(ctx, param, v) for v in value)
    if value is None or value == "-" or "://" in value:
        return value
    from converter.estate.config import split_named

    p = Path(split_named(value)[1])
    if p.is_dir():
        hint = f"; did you mean {p / 'terraform.tfstate'}?" if (p / "terraform.tfstate").is_file() else ""
        raise click.BadParameter(f"{value} is a directory: pass the state file (terraform.tfstate){hint}")
    return value


def hcl_dir(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """`--hcl`: a Terraform root module. A directory without `.tf` files would load no configuration and the
    run would quietly fall back to state-only (no pending-change checks, no ignore_changes)."""
    if value is None:
        return value
    p = Path(value)
    if p.is_dir() and not any(p.glob("*.tf")) and not any(p.glob("*.tf.json")):
        raise click.BadParameter(f"{value} has no .tf files: pass the Terraform configuration directory (root module)")
    return value


def k8s_version(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """`--to 1.31`: a Kubernetes MAJOR.MINOR (what EKS takes); `v1.31` is accepted and normalised."""
    if value is None:
        return value
    v = value.strip().removeprefix("v")
    if not K8S_VERSION.match(v):
        raise click.BadParameter(f"{value!r} is not a Kubernetes version (expected MAJOR.MINOR, e.g. 1.31)")
    return v
