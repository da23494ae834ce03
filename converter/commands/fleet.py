"""`tf2kro fleet` (render the GitOps layer from a fleet file), `tf2kro fleet init` (derive a fleet file from a
state) and `tf2kro fleet upgrade` (blue/green EKS upgrade as PR-sized steps)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from converter.commands.common import root_option
from converter.model import ToolError


def _estate_for(fleet, state_path: str | None = None, hcl_dir: str | None = None, root: str | None = None):
    from converter.pipeline import load_estate

    st = Path(state_path) if state_path else fleet.state_path()
    if st is None:
        return None
    if not st.exists():
        raise ToolError("state named in the fleet file does not exist", source=str(st))
    hcl = Path(hcl_dir) if hcl_dir else fleet.hcl_path()
    return load_estate(st, hcl if hcl and hcl.exists() else None, root=root)


def leak_needles(estate) -> list[str]:
    """The estate's sensitive strings for the leak scan, minus the *names* of helm `set_sensitive` entries.

    Older helm providers and some state rewriters mark the whole `set_sensitive` attribute, which makes every
    entry's `name` (e.g. `auth.password`) a sensitive string, yet that name is a Helm value path the fleet output
    must name (it is not the secret). Only those exact name strings are exempted, and only when they are not
    themselves at a sensitive path or equal to a value."""
    if estate is None:
        return []
    names: set[str] = set()
    for inst in estate.state.instances:
        if inst.type != "helm_release":
            continue
        exact = {tuple(p.steps) for p in inst.sensitive_paths}
        for i, entry in enumerate(inst.attributes.get("set_sensitive") or []):
            if isinstance(entry, dict) and ("set_sensitive", i, "name") not in exact:
                names.add(str(entry.get("name", "")))
        values = {str(e.get("value")) for e in inst.attributes.get("set_sensitive") or [] if isinstance(e, dict)}
        names -= values
    return [s for s in estate.secrets() if s not in names]


@click.group(invoke_without_command=True)
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False), help="Fleet file (fleet.yaml).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), help="Output directory (replaced atomically).")
@click.pass_context
def fleet(ctx, config_path, out_dir):
    """Render ArgoCD, Flagger, External Secrets and Gatekeeper manifests for a fleet file."""
    if ctx.invoked_subcommand is not None:
        return
    if not config_path or not out_dir:
        raise click.UsageError("tf2kro fleet needs --config FILE and --out DIR (or a subcommand: init, upgrade)")
    from converter.emit.writer import write_tree
    from converter.fleet.config import load_fleet
    from converter.fleet.render import kind_counts, render_fleet

    fl = load_fleet(config_path)
    estate = _estate_for(fl)
    files = render_fleet(fl, estate)
    write_tree(out_dir, files, leak_needles(estate))
    counts = kind_counts(files)
    click.echo(f"wrote {len(files)} files to {out_dir}: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))


@fleet.command("init")
@click.option("--state", "state_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="terraform.tfstate (format 4).")
@click.option("--hcl", "hcl_dir", type=click.Path(exists=True, file_okay=False), help="Terraform configuration directory.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False), help="Fleet file to write.")
@click.option("--repo-url", default="", help="Git repository ArgoCD syncs the fleet output from.")
@click.option("--progressive", multiple=True, metavar="APP=canary|bluegreen",
              help="Mark an application for Flagger progressive delivery (repeatable).")
def init(state_path, hcl_dir, out_path, repo_url, progressive):
    """Derive a fleet file from a state: clusters (aws_eks_cluster), applications (helm_release), secrets."""
    from converter.emit.writer import check_no_secrets
    from converter.fleet.config import derive_fleet, dump_fleet
    from converter.pipeline import load_estate

    marks = {}
    for p in progressive:
        name, _, mode = p.partition("=")
        if mode not in ("canary", "bluegreen"):
            raise click.UsageError(f"--progressive {p}: expected APP=canary or APP=bluegreen")
        marks[name] = mode
    estate = load_estate(state_path, hcl_dir)
    out = Path(os.path.abspath(out_path))  # not resolve(): paths stay as the user laid them out (symlinks)
    base = out.parent

    def rel(p: str | None) -> str:
        if not p:
            return ""
        return os.path.relpath(os.path.abspath(p), base)

    doc = derive_fleet(estate, state_ref=rel(state_path), hcl_ref=rel(hcl_dir), repo_url=repo_url, progressive=marks)
    unknown = set(marks) - {a["name"] for a in doc["spec"]["applications"]}
    if unknown:
        raise click.UsageError(f"--progressive: no application named {', '.join(sorted(unknown))}")
    text = dump_fleet(doc)
    check_no_secrets({out.name: text}, leak_needles(estate))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, out)
    spec = doc["spec"]
    click.echo(f"wrote {out_path}: {len(spec['clusters'])} clusters, {len(spec['applications'])} applications, "
               f"{len(spec['externalSecrets']['secrets'])} external secrets")


@fleet.command("upgrade")
@click.option("--config", "config_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--cluster", required=True, help="Cluster (fleet file name) to upgrade.")
@click.option("--to", "to_version", required=True, help="Target Kubernetes version, e.g. 1.31.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False))
@click.option("--addon-versions", type=click.Path(exists=True, dir_okay=False),
              help="Captured `aws eks describe-addon-versions` JSON (otherwise the API is called, read-only).")
@click.option("--state", "state_path", type=click.Path(exists=True, dir_okay=False),
              help="State of the cluster's estate (default: spec.source.state of the fleet file).")
@click.option("--hcl", "hcl_dir", type=click.Path(exists=True, file_okay=False))
@click.option("--env", "env_name", default=None, help="--env used for `tf2kro convert` (default: the cluster's env).")
@root_option
@click.option("--region", default=None, help="Region for the EKS API (default: the cluster's).")
@click.option("--endpoint-url", default=None, help="Custom EKS endpoint (tests, VPC endpoints).")
def upgrade(config_path, cluster, to_version, out_dir, addon_versions, state_path, hcl_dir, env_name, root, region,
            endpoint_url):
    """Plan a blue/green EKS upgrade as ordered PR-sized step directories, each with its gate."""
    from converter.emit.writer import write_tree
    from converter.fleet.config import load_fleet
    from converter.fleet.upgrade import fetch_addon_versions, load_addon_versions, plan_upgrade

    fl = load_fleet(config_path)
    estate = _estate_for(fl, state_path, hcl_dir, root)
    if estate is None:
        raise click.UsageError("fleet upgrade needs the estate: --state FILE or spec.source.state in the fleet file")
    blue = fl.cluster(cluster)
    if blue is None:
        raise ToolError(f"cluster {cluster!r} is not in the fleet file")
    if addon_versions:
        describe = load_addon_versions(addon_versions)
    else:
        names = sorted({i.attributes.get("addon_name") for i in estate.state.instances
                        if i.type == "aws_eks_addon" and i.attributes.get("cluster_name") == cluster})
        describe = fetch_addon_versions(to_version, names, region or blue.region, endpoint_url)
    files, summary = plan_upgrade(fl, estate, cluster, to_version, describe, env_name)
    write_tree(out_dir, files, leak_needles(estate))
    click.echo(f"wrote {len(summary['steps'])} steps to {out_dir}: "
               + ", ".join(s["dir"] for s in summary["steps"]))
    for name, v in sorted(summary["addons"].items()):
        click.echo(f"  {name}: {v}")
