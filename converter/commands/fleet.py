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


def names_fleet_file(fn):
    """Errors about the fleet file raised while a command renders (gates, External Secrets roles, Flagger, add-ons
    settings) carry its path, like the ones load_fleet raises: the one boundary that knows `config_path`."""
    import functools

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except ToolError as exc:
            if not kwargs.get("config_path"):
                raise
            # imported only on error: `fleet upgrade --help` runs this group callback and stays light (test_startup)
            from converter.fleet.config import about_fleet_file

            tagged = about_fleet_file(exc, kwargs["config_path"])
            if tagged is exc:
                raise
            raise tagged from None
    return wrapper


@click.group(invoke_without_command=True)
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False), help="Fleet file (fleet.yaml).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False),
              help="Output directory: only files tf2kro wrote there are replaced (.tf2kro/manifest.json).")
@click.option("--force", is_flag=True, help=FORCE_HELP)
@no_cache_option
@click.pass_context
@names_fleet_file
def fleet(ctx, config_path, out_dir, force):
    """Render ArgoCD, Flagger, External Secrets and Gatekeeper manifests for a fleet file."""
    if ctx.invoked_subcommand is not None:
        return
    if not config_path or not out_dir:
        raise click.UsageError("tf2kro fleet needs --config FILE and --out DIR (or a subcommand: init, schema, upgrade, addons)")
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
@click.option("--env", "env_name", default=None, callback=click_dns1123_label, help="--env used for `tf2kro convert` (default: convert's default, so the names match).")
@click.option("--namespace", default=None, callback=click_dns1123_label,
              help="--namespace used for `tf2kro convert` (where blue's ACK objects live; default: the fleet's hub namespace).")
@root_option
@click.option("--region", default=None, help="Region for the EKS API (default: the cluster's).")
@click.option("--endpoint-url", default=None, help="Custom EKS endpoint (tests, VPC endpoints).")
@click.option("--profile", default=None, help="AWS profile for the EKS API (default: the environment's credentials).")
@names_fleet_file
def upgrade(config_path, cluster, to_version, out_dir, force, addon_versions, state_path, hcl_dir, env_name, namespace,
            root, region, endpoint_url, profile):
    """Plan a blue/green EKS upgrade as ordered PR-sized step directories, each with its gate."""
    from converter.commands.output import write_output
    from converter.emit.writer import OutputRun
    from converter.fleet.config import load_fleet
    from converter.fleet.upgrade import (
        fetch_addon_versions,
        load_addon_versions,
        plan_upgrade,
        require_blue_in_state,
    )

    fl = load_fleet(config_path)
    estate = _estate_for(fl, state_path, hcl_dir, root)
    if estate is None:
        raise click.UsageError("fleet upgrade needs the estate: --state FILE or spec.source.state in the fleet file")
    blue = fl.cluster(cluster)
    if blue is None:
        raise ToolError(f"cluster {cluster!r} is not in the fleet file")
    # before any AWS call: green is built only from this cluster's objects in the state
    require_blue_in_state(estate, blue, str(state_path or fl.state_path()))
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
    files, summary = plan_upgrade(fl, estate, cluster, to_version, describe, env_name, namespace)
    write_output(out_dir, files, leak_needles(estate), force=force,
                 run=OutputRun(command="fleet upgrade", scope_of=lambda rel: "fleet-upgrade",
                               replaces=lambda scope: scope == "fleet-upgrade"),
                 inputs=(config_path, state_path or fl.state_path(), hcl_dir or fl.hcl_path(), addon_versions))
    click.echo(f"wrote {len(summary['steps'])} steps to {out_dir}: "
               + ", ".join(s["dir"] for s in summary["steps"]))
    for name, v in sorted(summary["addons"].items()):
        click.echo(f"  {name}: {v}")


def _name_eq_values(opt: str, items: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name or not value:
            raise click.UsageError(f"{opt} {item}: expected NAME=VALUE")
        out[name] = value
    return out


@fleet.command("addons")
@click.option("--config", "config_path", required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Output directory: only files tf2kro wrote there are replaced (.tf2kro/manifest.json).")
@click.option("--force", is_flag=True, help=FORCE_HELP)
@click.option("--addon-versions", type=click.Path(exists=True, dir_okay=False),
              help="Captured `aws eks describe-addon-versions` JSON (otherwise eks:DescribeAddonVersions per cluster "
                   "Kubernetes version, read-only).")
@click.option("--addon-config", type=click.Path(exists=True),
              help="Captured `aws eks describe-addon-configuration` JSON: one file or a directory of *.json "
                   "(otherwise eks:DescribeAddonConfiguration, read-only).")
@click.option("--installed", default="state", show_default=True, metavar="state|aws|FILE",
              help="Installed EKS add-ons: the fleet's Terraform state, eks:ListAddons/DescribeAddon, or a JSON file "
                   '{"clusters": {NAME: [describe-addon output, ...]}}.')
@click.option("--helm-index", multiple=True, metavar="NAME=FILE",
              help="Helm repository index.yaml for an application or chart (repeatable; otherwise fetched over HTTP).")
@click.option("--pin", multiple=True, metavar="NAME=VERSION",
              help="Move an add-on/application to this version instead of the newest compatible (repeatable).")
@click.option("--configuration-values", multiple=True, metavar="ADDON=FILE",
              help="New configurationValues (JSON or YAML) for an EKS add-on, validated against the new version's schema.")
@click.option("--offline", is_flag=True, help="No AWS or HTTP reads: what is not given as a file is reported not checked.")
@click.option("--repo-path", default=None, metavar="PATH",
              help="Where --out lives in the fleet git repository, for the smoke ApplicationSets "
                   "(default: <spec.gitops.path>/addon-bumps).")
@click.option("--state", "state_path", type=click.Path(exists=True, dir_okay=False),
              help="State of the estate (default: spec.source.state of the fleet file).")
@click.option("--hcl", "hcl_dir", type=click.Path(exists=True, file_okay=False), callback=checks.hcl_dir)
@no_cache_option
@click.option("--env", "env_name", default=None, callback=click_dns1123_label,
              help="--env used for `tf2kro convert` of the estate (default: each cluster's env).")
@root_option
@click.option("--region", default=None, help="Region for the EKS API (default: the first cluster's).")
@click.option("--endpoint-url", default=None, help="Custom EKS endpoint (tests, VPC endpoints).")
@click.option("--profile", default=None, help="AWS profile for the EKS API (default: the environment's credentials).")
@names_fleet_file
def addons(config_path, out_dir, force, addon_versions, addon_config, installed, helm_index, pin, configuration_values,
           offline, repo_path, state_path, hcl_dir, env_name, root, region, endpoint_url, profile):
    """Propose EKS and Helm add-on bumps dev → staging → prod as PR-sized directories, each gated on the previous
    environment's soak, with the smoke-test Jobs that gate promotion.

    \b
    Exit codes: 0 every add-on current; 1 bumps proposed or versions refused; 2 something could not be checked
    (the output is still written, its README lists what).
    """
    from converter.commands.output import write_output
    from converter.emit.writer import OutputRun
    from converter.fleet import addons as ad
    from converter.fleet.config import load_fleet
    from converter.fleet.upgrade import load_addon_versions

    fl = load_fleet(config_path)
    settings = ad.Settings.from_fleet(fl, _name_eq_values("--pin", pin))
    src = ad.Sources()
    by_region: dict = {}

    def aws(cluster_region: str | None = None):
        """The one guarded factory per region (EKS is regional): sts preflight once (no credentials / unreachable =
        one line, exit 2), read allow-list. Clusters of another account need captured files (no AssumeRole)."""
        r = region or cluster_region or (fl.clusters[0].region if fl.clusters else None)
        if r not in by_region:
            from converter.diff.aws import AwsClients

            by_region[r] = AwsClients(region=r, profile=profile, endpoint_url=endpoint_url, max_attempts=4)
            click.echo(by_region[r].preflight().line(), err=True)
        return by_region[r]

    estate = None
    if installed == "state":
        estate = _estate_for(fl, state_path, hcl_dir, root)
        if estate is None:
            raise click.UsageError("--installed state needs the estate: --state FILE or spec.source.state in the fleet file")
        src.installed = ad.installed_from_state(estate)
        src.installed_clusters = ad.state_clusters(estate)
    elif installed == "aws":
        if offline:
            raise click.UsageError("--installed aws and --offline exclude each other")
        src.installed = [ia for c in fl.clusters for ia in ad.fetch_installed(c, aws(c.region))]
        src.installed_clusters = {c.name for c in fl.clusters}
    else:
        if not Path(installed).is_file():
            raise click.UsageError(f"--installed {installed}: expected state, aws or an existing JSON file")
        src.installed = ad.load_installed(installed)
        src.installed_clusters = ad.installed_file_clusters(installed)
    if addon_versions:
        src.addon_versions = load_addon_versions(addon_versions)
    elif not offline:
        src.fetch_versions = lambda versions, names: ad.fetch_for_versions(versions, names, aws())
    if addon_config:
        src.configs = ad.load_addon_configs(addon_config)
    elif not offline:
        src.fetch_config = lambda name, version: ad.fetch_addon_config(name, version, aws())
    for name, path in _name_eq_values("--helm-index", helm_index).items():
        src.helm_indexes[name] = ad.load_helm_index(path)
    if not offline:
        src.fetch_index = ad.fetch_helm_index
    for name, path in _name_eq_values("--configuration-values", configuration_values).items():
        try:
            src.configuration_values[name] = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ToolError(f"cannot read configurationValues: {exc.strerror}", source=path) from None
    plan = ad.plan_addons(fl, src, settings, estate, env_name)
    files = ad.render_plan(fl, plan, settings, repo_path)
    write_output(out_dir, files, leak_needles(estate), force=force,
                 run=OutputRun(command="fleet addons", scope_of=lambda rel: "fleet-addons",
                               replaces=lambda scope: scope == "fleet-addons"),
                 inputs=(config_path, state_path or fl.state_path(), addon_versions, addon_config))
    click.echo(f"wrote {len(plan.bumps)} bumps to {out_dir}")
    for b in plan.bumps:
        click.echo(f"  {b.env}: {b.addon} → {b.to} on {', '.join(sorted(b.clusters))}"
                   + (f" (after {b.after} soaked {settings.soak})" if b.after else ""))
    for r in plan.refusals:
        click.echo(f"refused: {r.cluster}/{r.addon} {r.version}: {r.reason}")
    for n in plan.not_checked:
        click.echo(f"not checked: {n.what}: {n.reason}", err=True)
    raise SystemExit(plan.exit_code)


@fleet.command("addon-gate")
@click.argument("gate_path", metavar="GATE_JSON", type=click.Path(exists=True, dir_okay=False))
@click.option("--config", "config_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="Fleet file (fleet.yaml): which clusters form the previous environment.")
@click.option("--installed", default=None, metavar="aws|FILE",
              help="EKS add-ons of the previous environment: eks:DescribeAddon (read-only) or captured JSON "
                   '{"clusters": {NAME: [describe-addon output, ...]}}.')
@click.option("--argocd-apps", type=click.Path(exists=True, dir_okay=False),
              help="Helm add-ons: `kubectl -n argocd get applications -o json` from the hub.")
@click.option("--now", "now_text", default=None, metavar="ISO8601", help="Evaluate at this time (CI replays; default: now).")
@click.option("--region", default=None, help="Region for the EKS API (default: the first cluster's).")
@click.option("--endpoint-url", default=None, help="Custom EKS endpoint (tests, VPC endpoints).")
@click.option("--profile", default=None, help="AWS profile for the EKS API (default: the environment's credentials).")
@names_fleet_file
def addon_gate(gate_path, config_path, installed, argocd_apps, now_text, region, endpoint_url, profile):
    """Check a bump's promotion gate (the gate.json of a `fleet addons` directory): the previous environment runs
    the version, healthy, for at least the soak time.

    \b
    Exit codes: 0 the gate holds (merge); 1 not yet or failing; 2 could not check (missing data is never a pass).
    """
    import json
    from datetime import UTC, datetime

    from converter.fleet import addons as ad
    from converter.fleet.config import load_fleet

    fl = load_fleet(config_path)
    gate = ad.load_gate(gate_path)
    now = datetime.now(UTC)
    if now_text:
        now = ad.parse_time(now_text)
        if now is None:
            raise click.UsageError(f"--now {now_text}: expected an ISO 8601 time")
    inst = None
    if gate["kind"] == "eks" and gate.get("requires"):
        if installed == "aws":
            from converter.diff.aws import AwsClients

            prev = [c for c in fl.clusters if c.env == gate["requires"]["env"]]
            by_region: dict = {}
            inst = []
            for c in prev:
                r = region or c.region
                if r not in by_region:
                    by_region[r] = AwsClients(region=r, profile=profile, endpoint_url=endpoint_url, max_attempts=4)
                    click.echo(by_region[r].preflight().line(), err=True)
                inst += [ia for ia in ad.fetch_installed(c, by_region[r]) if ia.addon == gate["addon"]]
        elif installed:
            inst = ad.load_installed(installed)
    apps = None
    if argocd_apps:
        try:
            doc = json.loads(Path(argocd_apps).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ToolError(f"cannot read ArgoCD Applications JSON: {exc}", source=argocd_apps) from None
        apps = doc.get("items") if isinstance(doc, dict) else None
        if not isinstance(apps, list):
            raise ToolError("expected `kubectl get applications -o json` output (an object with items)", source=argocd_apps)
    res = ad.check_gate(gate, fl, now, inst, apps)
    for line in res.lines:
        click.echo(line)
    click.echo({0: "gate holds", 1: "gate does not hold yet", 2: "gate could not be checked"}[res.code])
    raise SystemExit(res.code)
