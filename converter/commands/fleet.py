"""`tf2kro fleet` (render the GitOps layer from a fleet file), `tf2kro fleet init` (derive a fleet file from a
state) and `tf2kro fleet upgrade` (blue/green EKS upgrade as PR-sized steps)."""

from __future__ import annotations

import os
from pathlib import Path

import click

from converter.commands import checks
from converter.commands.common import no_cache_option, root_option
from converter.commands.output import FORCE_HELP
from converter.model import ToolError
from converter.names import click_dns1123_label


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
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Output directory: only files tf2kro wrote there are replaced (.tf2kro/manifest.json).")
@click.option("--force", is_flag=True, help=FORCE_HELP)
@no_cache_option
@click.pass_context
def fleet(ctx, config_path, out_dir, force):
    """Render ArgoCD, Flagger, External Secrets and Gatekeeper manifests for a fleet file."""
    if ctx.invoked_subcommand is not None:
        return
    if not config_path or not out_dir:
        raise click.UsageError("tf2kro fleet needs --config FILE and --out DIR (or a subcommand: init, schema, upgrade)")
    from converter.commands.output import write_output
    from converter.emit.writer import OutputRun
    from converter.fleet.config import load_fleet
    from converter.fleet.render import kind_counts, render_fleet

    fl = load_fleet(config_path)
    estate = _estate_for(fl)
    files = render_fleet(fl, estate)
    write_output(out_dir, files, leak_needles(estate), force=force,
                 run=OutputRun(command="fleet", scope_of=lambda rel: "fleet", replaces=lambda scope: scope == "fleet"),
                 inputs=(config_path, fl.state_path(), fl.hcl_path()))
    counts = kind_counts(files)
    click.echo(f"wrote {len(files)} files to {out_dir}: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))


@fleet.command("init")
@click.option("--state", "state_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="terraform.tfstate (format 4).")
@click.option("--hcl", "hcl_dir", type=click.Path(exists=True, file_okay=False), callback=checks.hcl_dir,
              help="Terraform configuration directory.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False),
              help="Fleet file to write (refused if it exists, unless --force; never written through a symlink).")
@click.option("--force", is_flag=True, help="Overwrite an existing --out file.")
@click.option("--repo-url", default="", help="Git repository ArgoCD syncs the fleet output from.")
@click.option("--progressive", multiple=True, metavar="APP=canary|bluegreen",
              help="Mark an application for Flagger progressive delivery (repeatable).")
@click.option("--signing-key", "signing_keys", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="ASCII-armored GPG public key (`gpg --armor --export KEYID > FILE`) whose signatures ArgoCD requires "
                   "on every synced commit (repeatable; its id is computed from the key; a private key is refused).")
@no_cache_option
def init(state_path, hcl_dir, out_path, force, repo_url, progressive, signing_keys):
    """Derive a fleet file from a state: clusters (aws_eks_cluster), applications (helm_release), secrets."""
    from converter.emit.writer import check_no_secrets
    from converter.fleet.config import check_schema, derive_fleet, dump_fleet
    from converter.pipeline import load_estate
    from converter.safefile import write_new_file

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

    from converter.ci.gpg import read_public_key_file

    keys = [read_public_key_file(p) for p in signing_keys]
    doc = derive_fleet(estate, state_ref=rel(state_path), hcl_ref=rel(hcl_dir), repo_url=repo_url, progressive=marks,
                       signing_keys=keys)
    unknown = set(marks) - {a["name"] for a in doc["spec"]["applications"]}
    if unknown:
        raise click.UsageError(f"--progressive: no application named {', '.join(sorted(unknown))}")
    check_schema(doc, "fleet init output")  # what init writes, `tf2kro fleet` must accept
    text = dump_fleet(doc)
    check_no_secrets({out.name: text}, leak_needles(estate))
    write_new_file(out_path, text, force=force)  # same file as `out`; errors name it as the user typed it
    spec = doc["spec"]
    click.echo(f"wrote {out_path}: {len(spec['clusters'])} clusters, {len(spec['applications'])} applications, "
               f"{len(spec['externalSecrets']['secrets'])} external secrets")
    if not keys:
        click.echo("note: no --signing-key: ArgoCD will sync unsigned commits until spec.gitSigning.keys is set", err=True)


@fleet.command("schema", short_help="Print the JSON Schema of the fleet file.")
def schema_cmd():
    """Print the JSON Schema (draft 2020-12) the fleet file is validated against, for editors and CI linters.

    \b
    Examples:
      tf2kro fleet schema > fleet.schema.json
      # then, first line of fleet.yaml (VS Code / yaml-language-server):
      # yaml-language-server: $schema=fleet.schema.json
    """
    from converter.fleet.config import SCHEMA_PATH

    click.echo(SCHEMA_PATH.read_text(encoding="utf-8"), nl=False)


@fleet.command("upgrade")
@click.option("--config", "config_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--cluster", required=True, help="Cluster (fleet file name) to upgrade.")
@click.option("--to", "to_version", required=True, callback=checks.k8s_version, help="Target Kubernetes version, e.g. 1.31.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Output directory: only files tf2kro wrote there are replaced (.tf2kro/manifest.json).")
@click.option("--force", is_flag=True, help=FORCE_HELP)
@click.option("--addon-versions", type=click.Path(exists=True, dir_okay=False),
              help="Captured `aws eks describe-addon-versions` JSON (otherwise the API is called, read-only).")
@click.option("--state", "state_path", type=click.Path(exists=True, dir_okay=False),
              help="State of the cluster's estate (default: spec.source.state of the fleet file).")
@click.option("--hcl", "hcl_dir", type=click.Path(exists=True, file_okay=False), callback=checks.hcl_dir)
@no_cache_option
@click.option("--env", "env_name", default=None, callback=click_dns1123_label, help="--env used for `tf2kro convert` (default: the cluster's env).")
@root_option
@click.option("--region", default=None, help="Region for the EKS API (default: the cluster's).")
@click.option("--endpoint-url", default=None, help="Custom EKS endpoint (tests, VPC endpoints).")
@click.option("--profile", default=None, help="AWS profile for the EKS API (default: the environment's credentials).")
def upgrade(config_path, cluster, to_version, out_dir, force, addon_versions, state_path, hcl_dir, env_name, root, region,
            endpoint_url, profile):
    """Plan a blue/green EKS upgrade as ordered PR-sized step directories, each with its gate."""
    from converter.commands.output import write_output
    from converter.emit.writer import OutputRun
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
        from converter.diff.aws import AwsClients

        # the one guarded factory: sts preflight (no credentials / unreachable = one line, exit 2), allow-list
        clients = AwsClients(region=region or blue.region, profile=profile, endpoint_url=endpoint_url, max_attempts=4)
        click.echo(clients.preflight().line(), err=True)
        describe = fetch_addon_versions(to_version, names, clients)
    files, summary = plan_upgrade(fl, estate, cluster, to_version, describe, env_name)
    write_output(out_dir, files, leak_needles(estate), force=force,
                 run=OutputRun(command="fleet upgrade", scope_of=lambda rel: "fleet-upgrade",
                               replaces=lambda scope: scope == "fleet-upgrade"),
                 inputs=(config_path, state_path or fl.state_path(), hcl_dir or fl.hcl_path(), addon_versions))
    click.echo(f"wrote {len(summary['steps'])} steps to {out_dir}: "
               + ", ".join(s["dir"] for s in summary["steps"]))
    for name, v in sorted(summary["addons"].items()):
        click.echo(f"  {name}: {v}")
