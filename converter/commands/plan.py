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
@click.option("--env", default="main", show_default=True, callback=click_dns1123_label,
              help="Environment name (directories, object names, RGD kinds, secret names).")
@click.option("--namespace", default=None, callback=click_dns1123_label,
              help="Namespace of the kro instances and ACK objects [default: <env>-infrastructure].")
@root_option
@click.option("--live", "live_file", type=click.Path(exists=True, dir_okay=False),
              help="Live capture (`tf2kro inventory capture`): count adoption-would-change per phase.")
@click.option("--owners", "owners", multiple=True, metavar="PHASE=@team",
              help="CODEOWNERS per phase (repeatable; default @platform-<phase>).")
@click.option("--secret-store-sa", default="external-secrets/external-secrets", show_default=True, metavar="NS/NAME",
              help="ServiceAccount (IRSA) the ClusterSecretStore authenticates with.")
@click.option("--status", "status", is_flag=True, help="Report which steps are done (needs --kubectl-json).")
@click.option("--kubectl-json", "kubectl_json", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Output of `kubectl get <kinds> -A -o json` (repeatable; with --status).")
@click.option("--terraform-state-list", "state_list", type=click.Path(exists=True, dir_okay=False),
              help="Output of `terraform state list` (with --status): checks the handoff step.")
@click.option("--phase", "phases", multiple=True, type=click.Choice(PHASES), help="With --status: only these phases.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="With --status: output format.")
def plan(state_path, hcl_dir, var_files, region, out_dir, force, env, namespace, root, live_file, owners, secret_store_sa, status,
         kubectl_json, state_list, phases, fmt):
    """Write the migration plan: per phase, read-only adoption → read-write → Terraform handoff → rollback material."""
    if status:
        from converter.plan.status import load_kubectl, load_plan, phase_status, render_status, status_json

        if not kubectl_json:
            raise ToolError("--status needs at least one --kubectl-json FILE (kubectl get <kinds> -A -o json)")
        doc = load_plan(out_dir, env)
        objs = load_kubectl(kubectl_json)
        sl = None
        if state_list:
            with open(state_list, encoding="utf-8") as fh:
                sl = {line.strip() for line in fh if line.strip()}
        statuses = phase_status(doc, objs, sl, tuple(phases) or None)
        click.echo(status_json(statuses) if fmt == "json" else render_status(statuses), nl=False)
        sys.exit(0 if statuses and all(s.done for s in statuses) else 1)

    from converter.commands.output import write_output
    from converter.plan import make_plan
    from converter.plan.render import plan_output_run

    if "/" not in secret_store_sa:
        raise ToolError(f"--secret-store-sa expects NAMESPACE/NAME, got {secret_store_sa!r}")
    dns1123_label(secret_store_sa.split("/", 1)[0], "--secret-store-sa namespace")
    dns1123_subdomain(secret_store_sa.split("/", 1)[1], "--secret-store-sa name")
    estate = open_estate(state_path, hcl_dir, var_files, region, root=root)
    progress.stage("render")
    plan_, files = make_plan(estate, env=env, namespace=namespace, owners=_owners(owners), live_path=live_file,
                             hcl_dir=hcl_dir, sa=tuple(secret_store_sa.split("/", 1)))
    if any(pp.secrets for pp in plan_.phases) and not plan_.region:
        raise ToolError("the plan needs a ClusterSecretStore region and none is in the state's ARNs: pass --region")
    progress.stage("write", f"{len(files)} files")
    write_output(out_dir, files, estate.secrets(), run=plan_output_run(env), force=force,
                 inputs=(state_path, hcl_dir, *var_files, live_file))
    progress.finish()
    c = plan_.counts
    click.echo(f"wrote {len(files)} files to {out_dir}: {len(plan_.phases)} phases "
               f"({', '.join(p.dirname for p in plan_.phases)}); {c['mapped']} mapped, {c['folded']} folded, "
               f"{c['unsupported']} unsupported")
    for pp in plan_.phases:
        blocking = [f for f in pp.findings if f.severity == "blocking"]
        if blocking:
            click.echo(f"note: {pp.dirname}: {len(blocking)} blocking finding(s) — see prs/{env}/{pp.dirname}.md", err=True)
