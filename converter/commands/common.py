"""Options shared by the commands that read an estate."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from converter.commands import checks
from converter.model import ToolError

if TYPE_CHECKING:  # the pipeline (networkx, jsonschema, yaml, the mappings) loads when an estate is opened, not for `--help`
    from converter.pipeline import Estate

PHASES = ("network", "identity", "cluster", "addons", "other")
_META = "tf2kro.estate"  # ctx.meta key: --estate / --workspace (not passed to each command's function)


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    ctx.meta.setdefault(_META, {})[param.name] = value
    return value


def _hcl_cache(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        from converter.load import hclcache

        hclcache.configure(None)
    return value


def no_cache_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """`--no-cache`: parse the --hcl files again. The CLI turns the parse cache on (`cli.main`); this turns it off."""
    return click.option("--no-cache", is_flag=True, expose_value=False, callback=_hcl_cache,
                        help="Parse the --hcl files again instead of reusing the parses cached (JSON, keyed by file "
                             "content) in $XDG_CACHE_HOME/tf2kro or ~/.cache/tf2kro.")(fn)


def estate_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = no_cache_option(fn)
    fn = click.option("--region", default=None, help="Main AWS region for the region annotation (default: the most common in the state's ARNs; "
                      "a resource whose own ARN names another region is annotated with that one).")(fn)
    fn = click.option("--var-file", "var_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
                      help="Terraform .tfvars file(s), applied after terraform.tfvars (repeatable).")(fn)
    fn = click.option("--hcl", "hcl_dir", type=click.Path(exists=True, file_okay=False), callback=checks.hcl_dir,
                      help="Terraform configuration directory (optional; state alone converts).")(fn)
    fn = click.option("--workspace", default=None, expose_value=False, callback=_remember,
                      help="Terraform workspace of an s3:// state: reads env:/<workspace>/<key> (like the S3 backend).")(fn)
    fn = click.option("--estate", "estate_file", default=None, expose_value=False, callback=_remember,
                      type=click.Path(exists=True, dir_okay=False),
                      help="Estate file (tf2kro.yaml) listing several Terraform roots; see docs/estates.md.")(fn)
    fn = click.option("--sample", is_flag=True, expose_value=False, callback=_remember,
                      help="Use the sample estate bundled with tf2kro (state + HCL) instead of --state.")(fn)
    fn = click.option("--state", "state_path", multiple=True, callback=checks.state_file,
                      help="terraform.tfstate (format 4), - for stdin, or s3://bucket/key[?versionId=…]. Repeat for "
                           "several roots ([NAME=]SOURCE). Required (or --sample, or --estate).")(fn)
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


def _estate_meta() -> dict[str, Any]:
    ctx = click.get_current_context(silent=True)
    return (ctx.meta.get(_META) if ctx else None) or {}


def root_specs(state_path: str | tuple[str, ...] | None, hcl_dir: str | None, var_files: tuple[str, ...],
               region: str | None) -> tuple[list, bool, str | None]:
    """The roots the options name, whether this is a multi-root run (an estate file or several --state), and the
    root name the bundled sample gets.

    No silent default: a CI job that forgot --state must fail, not report on the sample estate."""
    from converter.estate.config import load_estate_file, roots_from_states
    from converter.pipeline import SAMPLE_DIR

    meta = _estate_meta()
    states = (state_path,) if isinstance(state_path, str) else tuple(state_path or ())
    sample_root = None
    if meta.get("sample"):
        if states or meta.get("estate_file"):
            raise click.UsageError("--sample and --state/--estate exclude each other")
        states = (str(SAMPLE_DIR / "terraform.tfstate"),)
        if hcl_dir is None:
            hcl_dir = str(SAMPLE_DIR)
        # one root name wherever the sample lies (a checkout's samples/estate or the wheel's _data/sample)
        sample_root = "sample"
    if meta.get("estate_file"):
        if states or hcl_dir or var_files or meta.get("workspace"):
            raise ToolError("--estate lists the roots: give --state/--hcl/--var-file/--workspace per root in the file, "
                            "not as options")
        return load_estate_file(meta["estate_file"]), True, None
    if not states:
        raise click.UsageError("--state FILE is required (or --sample for the sample estate bundled with tf2kro, "
                               "or --estate tf2kro.yaml)")
    return roots_from_states(states, hcl_dir, var_files, meta.get("workspace"), region), len(states) > 1, sample_root


def open_estate(state_path: str | tuple[str, ...] | None, hcl_dir: str | None, var_files: tuple[str, ...],
                region: str | None, *, root: str | None = None, live: Any = None) -> Estate:
    """One root (the commands that do not handle several yet: diff, plan, inventory)."""
    from converter.pipeline import load_estate

    specs, multi, sample_root = root_specs(state_path, hcl_dir, var_files, region)
    if len(specs) > 1:
        raise ToolError(f"{len(specs)} roots given: this command reads one root at a time (convert, inspect and "
                        "graph read several); run it per root")
    s = specs[0]
    return load_estate(s.state, s.hcl, s.var_files, region=s.region or region, workspace=s.workspace,
                       root=s.name if multi else (root or sample_root), live=live)


def open_roots(state_path: tuple[str, ...], hcl_dir: str | None, var_files: tuple[str, ...], region: str | None,
               *, root: str | None = None, live: Any = None):
    """Every root (convert, inspect, graph), linked: (EstateRoots, multi-root?)."""
    from converter.estate.roots import load_roots

    specs, multi, sample_root = root_specs(state_path, hcl_dir, var_files, region)
    return load_roots(specs, region=region, multi=multi, root=root or sample_root, live=live), multi
