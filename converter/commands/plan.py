"""`tf2kro plan`: the phase-by-phase migration plan (GitOps layout, Terraform handoff, rollback, PR bodies), and
`tf2kro plan --status`: which steps are done, from kubectl output.

Exit codes: plan — 0 written, 2 error. --status — 0 every checked step of every (selected) phase done, 1 not yet,
2 error. Format of plan.json: docs/plan.md.
"""

from __future__ import annotations

import sys

import click

from converter import progress
from converter.commands.common import PHASES, estate_options, open_estate, root_option
from converter.commands.output import force_option
from converter.model import ToolError
from converter.names import click_dns1123_label, dns1123_label, dns1123_subdomain


def _owners(values: tuple[str, ...]) -> dict[str, str]:
    out = {}
    for v in values:
        if "=" not in v:
            raise ToolError(f"--owners expects PHASE=@team, got {v!r}")
        k, team = v.split("=", 1)
        if k not in PHASES:
            raise ToolError(f"--owners: unknown phase {k!r} (one of {', '.join(PHASES)})")
        out[k] = " ".join(team.replace(",", " ").split())
    return out


@click.command()
@estate_options
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Plan directory: environments/ENV, terraform/ENV, prs/ENV of this --env are replaced, other "
                   "environments and files tf2kro did not write are kept (--status reads environments/ENV/plan.json).")
@force_option
@click.option("--env", "env_values", multiple=True, metavar="NAME[=STATE]",
              help="Environment name (directories, object names, RGD kinds, secret names) [default: main]. Repeat "
                   "as NAME=STATE for several environments in rollout order (dev=… staging=… prod=…): each later "
                   "environment's phases are gated on the one before.")
@click.option("--namespace", default=None, callback=click_dns1123_label,
              help="Namespace of the kro instances and ACK objects [default: <env>-infrastructure].")
@root_option
@click.option("--live", "live_files", multiple=True, metavar="[ENV=]CAPTURE",
              help="Live capture (`tf2kro inventory capture`): count adoption-would-change per phase; ENV=CAPTURE "
                   "per environment when several are planned (repeatable).")
@click.option("--owners", "owners", multiple=True, metavar="PHASE=@team",
              help="CODEOWNERS per phase (repeatable; default @platform-<phase>).")
@click.option("--secret-store-sa", default="external-secrets/external-secrets", show_default=True, metavar="NS/NAME",
              help="ServiceAccount (IRSA) the ClusterSecretStore authenticates with.")
@click.option("--repo-url", default=None, metavar="URL",
              help="Git repository ArgoCD reads the plan from: writes environments/ENV/argocd/ (AppProject + "
                   "Application per phase, app of apps) and argocd/argocd-cm-health.yaml.")
@click.option("--revision", default="HEAD", show_default=True, help="With --repo-url: targetRevision.")
@click.option("--repo-path", default="", metavar="DIR", help="With --repo-url: the --out directory's path inside the repository.")
@click.option("--destination", "destinations", multiple=True, metavar="[ENV=]URL",
              help="With --repo-url: API server of the cluster where kro and the ACK controllers run, as ArgoCD knows "
                   "it [default: https://kubernetes.default.svc]; ENV=URL for one environment (repeatable).")
@click.option("--argocd-namespace", default="argocd", show_default=True, callback=click_dns1123_label,
              help="Namespace of ArgoCD (Applications, AppProjects, argocd-cm).")
@click.option("--adopt", "adopt", multiple=True, metavar="[ENV/]PHASE",
              help="Point the phase's Application at adopt/ instead of read-only/ (repeatable; step 2 done by re-running).")
@click.option("--prod-env", "prod_envs", multiple=True, metavar="NAME",
              help="Production environment(s) [default: prod, production, prd]: extra CODEOWNERS and a sync window.")
@click.option("--prod-owners", default="@platform-prod-approvers", show_default=True, metavar="@team",
              help="Added to every CODEOWNERS rule of a production environment.")
@click.option("--sync-window", default="0 9 * * 1-4|4h", show_default=True, metavar="'CRON|DURATION'",
              help="ArgoCD allow window (UTC) of the production AppProjects.")
@click.option("--status", "status", is_flag=True, help="Report which steps are done (needs --kubectl-json).")
@click.option("--kubectl-json", "kubectl_json", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Output of `kubectl get <kinds> -A -o json` (repeatable; with --status).")
@click.option("--applications-json", "apps_json", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="With --status: output of `kubectl -n argocd get applications -o json`: each phase's Application "
                   "must be Synced and Healthy.")
@click.option("--terraform-state-list", "state_list", type=click.Path(exists=True, dir_okay=False),
              help="Output of `terraform state list` (with --status): checks the handoff step.")
@click.option("--phase", "phases", multiple=True, type=click.Choice(PHASES), help="With --status: only these phases.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="With --status: output format.")
def plan(state_path, hcl_dir, var_files, region, out_dir, force, env_values, namespace, root, live_files, owners,
         secret_store_sa, repo_url, revision, repo_path, destinations, argocd_namespace, adopt, prod_envs, prod_owners, sync_window,
         status, kubectl_json, apps_json, state_list, phases, fmt):
    """Write the migration plan: per phase, read-only adoption → read-write → Terraform handoff → rollback material."""
    from converter.plan.environments import parse_envs

    envs = parse_envs(env_values or ("main",))
    env = envs[0][0]
    if status:
        if len(envs) > 1 or envs[0][1] is not None:
            raise ToolError("--status reads one environment: --env NAME")
        from converter.plan.status import load_kubectl, load_plan, phase_status, render_status, status_json

        if not kubectl_json:
            raise ToolError("--status needs at least one --kubectl-json FILE (kubectl get <kinds> -A -o json)")
        doc = load_plan(out_dir, env)
        objs = load_kubectl(kubectl_json)
        sl = None
        if state_list:
            with open(state_list, encoding="utf-8") as fh:
                sl = {line.strip() for line in fh if line.strip()}
        apps = load_kubectl(apps_json) if apps_json else None
        statuses = phase_status(doc, objs, sl, tuple(phases) or None, apps)
        click.echo(status_json(statuses) if fmt == "json" else render_status(statuses), nl=False)
        sys.exit(0 if statuses and all(s.done for s in statuses) else 1)

    from converter.commands.output import write_output
    from converter.gitops.argocd import IN_CLUSTER, GitOpsOptions, SyncWindow
    from converter.plan import make_plan
    from converter.plan.environments import (
        PROD_NAMES,
        Rollout,
        codeowners_value,
        parse_adopt,
        parse_destinations,
        parse_live,
    )
    from converter.plan.render import plan_output_run

    if "/" not in secret_store_sa:
        raise ToolError(f"--secret-store-sa expects NAMESPACE/NAME, got {secret_store_sa!r}")
    dns1123_label(secret_store_sa.split("/", 1)[0], "--secret-store-sa namespace")
    dns1123_subdomain(secret_store_sa.split("/", 1)[1], "--secret-store-sa name")
    for pe in prod_envs:
        dns1123_label(pe, "--prod-env")
    prod_owners = codeowners_value(prod_owners, "--prod-owners")
    if (adopt or destinations) and not repo_url:
        raise ToolError("--adopt/--destination set the phases' ArgoCD Applications: they need --repo-url")
    loads = _environments(envs, state_path, hcl_dir, var_files, region, root)
    names = [n for n, _ in loads]
    default_dest, per_dest = parse_destinations(destinations, names)
    gitops = (GitOpsOptions(repo_url, revision, repo_path, argocd_namespace, default_dest or IN_CLUSTER)
              if repo_url else None)
    for url in per_dest.values():
        GitOpsOptions(repo_url, revision, repo_path, argocd_namespace, url)  # checks the URL
    if len(loads) > 1 and namespace:
        raise ToolError("--namespace names one environment: with several environments each gets <env>-infrastructure")
    lives = parse_live(live_files, names)
    rollout = Rollout(names, gitops, SyncWindow.parse(sync_window), frozenset(prod_envs) or PROD_NAMES,
                      prod_owners, parse_adopt(adopt, names, PHASES), per_dest)
    files: dict[str, str] = {}
    secrets: set[str] = set()
    plans = []
    pred = None
    for name, open_one in loads:
        estate = open_one()
        progress.stage("render", name)
        plan_, env_files = make_plan(estate, env=name, namespace=namespace, owners=_owners(owners), live_path=lives.get(name),
                                     hcl_dir=hcl_dir, sa=tuple(secret_store_sa.split("/", 1)), rollout=rollout,
                                     predecessor=pred)
        if any(pp.secrets for pp in plan_.phases) and not plan_.region:
            raise ToolError(f"env {name}: the plan needs a ClusterSecretStore region and none is in the state's ARNs: "
                            "pass --region")
        files.update(env_files)
        secrets |= set(estate.secrets())
        plans.append(plan_)
        pred = plan_
    if len(plans) > 1:
        from converter.plan.render import index_files

        files.update(index_files([p.to_dict() for p in plans]))
    progress.stage("write", f"{len(files)} files")
    write_output(out_dir, files, secrets, run=plan_output_run(names if len(names) > 1 else names[0]), force=force,
                 inputs=(*(s for _, s in envs if s and s != "-"), *state_path, hcl_dir, *var_files, *lives.values()))
    progress.finish()
    for plan_ in plans:
        c = plan_.counts
        click.echo(f"wrote {plan_.env}: {len(plan_.phases)} phases "
                   f"({', '.join(p.dirname for p in plan_.phases)}); {c['mapped']} mapped, {c['folded']} folded, "
                   f"{c['unsupported']} unsupported" + (f"; after {plan_.predecessor}" if plan_.predecessor else ""))
        for pp in plan_.phases:
            blocking = [f for f in pp.findings if f.severity == "blocking"]
            if blocking:
                click.echo(f"note: {plan_.env}/{pp.dirname}: {len(blocking)} blocking finding(s) — see "
                           f"prs/{plan_.env}/{pp.dirname}.md", err=True)
    click.echo(f"wrote {len(files)} files to {out_dir}")
    if gitops:
        by_dest: dict[str, list[str]] = {}
        for p in plans:
            if any(pp.secrets for pp in p.phases):
                by_dest.setdefault(rollout.gitops_for(p.env).destination, []).append(p.env)
        for url, shared in by_dest.items():
            if len(shared) > 1:
                click.echo(f"note: {', '.join(shared)} sync into the same cluster ({url}) and share the "
                           "ClusterSecretStore aws-secrets-manager of 00-prerequisites: give each environment its "
                           "cluster with --destination ENV=URL, or sync 00-prerequisites from one of them", err=True)
    if not gitops:
        click.echo("note: no --repo-url: ArgoCD Applications/AppProjects not written (docs/plan.md)", err=True)


def _environments(envs, state_path, hcl_dir, var_files, region, root):
    """[(env name, () -> Estate)] in rollout order: one --env with --state/--sample/--estate (one root), several
    --env NAME=STATE, or an estate file whose roots each name a distinct `env:`."""
    from converter.commands.common import root_specs

    if len(envs) == 1 and envs[0][1] is None:
        specs, _multi, _sample = root_specs(state_path, hcl_dir, var_files, region)
        if len(specs) > 1:
            if not all(s.env for s in specs):
                raise ToolError(f"{len(specs)} roots given: plan reads one root per environment; give each root an "
                                "`env:` in the estate file (one root per environment, in rollout order), or run it per root")
            named = [s.env for s in specs]
            dup = sorted({e for e in named if named.count(e) > 1})
            if dup:
                raise ToolError(f"{len(specs)} roots given, {named.count(dup[0])} of them for env {dup[0]!r}: plan reads "
                                "one root per environment (run it per root, or one root per env: in rollout order)")
            return [(s.env, _loader(s, region)) for s in specs]
        return [(envs[0][0], lambda: open_estate(state_path, hcl_dir, var_files, region, root=root))]
    if state_path:
        raise ToolError("--env NAME=STATE names the state of each environment: do not give --state as well")
    return [(n, (lambda st=st: open_estate((st,), hcl_dir, var_files, region, root=root))) for n, st in envs]


def _loader(spec, region):
    def load():
        from converter.pipeline import load_estate

        dns1123_label(spec.env, "estate env")
        return load_estate(spec.state, spec.hcl, spec.var_files, region=spec.region or region,
                           workspace=spec.workspace, root=spec.name)
    return load
