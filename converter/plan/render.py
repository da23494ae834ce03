"""Render a Plan into the GitOps repository layout (written atomically by `write_tree`):

    environments/<env>/00-prerequisites/          ClusterSecretStore (only when a phase needs secrets)
    environments/<env>/<NN-phase>/read-only/      step 1: RGD + instance, every object read-only
    environments/<env>/<NN-phase>/adopt/          step 2: the same without read-only
    environments/<env>/<NN-phase>/secrets/        ExternalSecrets (referenced by both kustomizations)
    environments/<env>/plan.json, README.md       the plan of this environment (plan --status --env reads it)
    terraform/<env>/<NN-phase>/removed.tf         step 3: removed {} blocks (Terraform ≥ 1.7)
    terraform/<env>/<NN-phase>/state-rm.sh        step 3: exact instances a removed block cannot express
    terraform/<env>/<NN-phase>/rollback-imports.tf step 4: import {} blocks (Terraform ≥ 1.5)
    prs/<env>/<NN-phase>.md                       PR body per phase
    environments/<env>/argocd/                    with --repo-url: AppProject + Application per phase, the
                                                  Namespace, the env's app of apps (converter.gitops.argocd)
    argocd/argocd-cm-health.yaml                  argocd-cm health checks for every kind synced (converter.gitops)
    CODEOWNERS, README.md                         index of every environment in the tree (regenerated on each run)

Everything of one environment lives under a directory named after it, so `plan --env dev` and `plan --env prod`
into one --out merge (each run replaces only its environment; see `plan_output_run`).
"""

from __future__ import annotations

from typing import Any

from converter.emit.kro import EmitOptions, PhaseOutput, emit_phases
from converter.emit.writer import dump_yaml
from converter.gcpause import gc_paused
from converter.pipeline import Estate
from converter.plan.environments import Rollout
from converter.plan.model import SECRET_STORE, PhasePlan, Plan
from converter.plan.prbody import render_pr
from converter.plan.terraform import import_block, removed_block, shell_quote, terraform_fmt

ESO_API = "external-secrets.io/v1"
KUSTOMIZE_API = "kustomize.config.k8s.io/v1beta1"


def emit_both(estate: Estate, env: str, namespace: str | None
              ) -> tuple[dict[str, list[PhaseOutput]], dict[str, list[PhaseOutput]]]:
    """Read-only and read-write emissions, by phase: each a list of parts (one unless the phase was split by size)."""
    out: tuple[dict[str, list[PhaseOutput]], dict[str, list[PhaseOutput]]] = ({}, {})
    for i, read_only in enumerate((True, False)):
        opts = EmitOptions(env=env, namespace=namespace, read_only=read_only, root=estate.root)
        for po in emit_phases(estate.result, estate.graph, opts, estate.hcl):
            out[i].setdefault(po.phase, []).append(po)
    return out


def _kustomization(resources: list[str]) -> str:
    return dump_yaml([{"apiVersion": KUSTOMIZE_API, "kind": "Kustomization", "resources": resources}])


def removed_tf(pp: PhasePlan, plan: Plan) -> str:
    head = (f"# tf2kro plan — {pp.dirname} (env {plan.env}): Terraform stops managing these resources; ACK has adopted them.\n"
            "# Terraform >= 1.7. In the same change, delete the resource blocks named here from the configuration.\n"
            "# `terraform plan` then shows only \"will no longer be managed\"; after `terraform apply`,\n"
            "# `terraform plan -detailed-exitcode` must return 0.\n")
    objs = {it.address: it for it in pp.items}
    blocks = []
    for g in pp.handoff:
        if g.mode != "removed":
            continue
        names = sorted({f"{objs[a].kind}/{objs[a].name}" for a in g.instances if objs[a].kind})
        shown = ", ".join(names[:4]) + (f" (+{len(names) - 4})" if len(names) > 4 else "")
        note = f"{len(g.instances)} instance(s) → {shown}"
        if g.declared_at:
            note += f"\ndeclared at {g.declared_at}"
        blocks.append(removed_block(g.config_address, note))
    if not blocks:
        head += "# Nothing in this phase can be handed over with a removed block (see state-rm.sh).\n"
    return terraform_fmt(head + "\n" + "\n".join(blocks))


def rollback_tf(pp: PhasePlan, plan: Plan) -> str:
    head = (f"# tf2kro plan — {pp.dirname} (env {plan.env}): ROLLBACK ONLY. Do not add this file during the migration.\n"
            "# Re-imports every instance this phase handed over (Terraform >= 1.5), after the ACK objects are\n"
            "# deleted with deletion-policy retain and the resource blocks are restored (git revert).\n")
    blocks, manual = [], []
    for it in pp.handed_over:
        if it.import_id is None:
            manual.append(f"# MANUAL: {it.address} — {it.import_manual}")
            continue
        blocks.append(import_block(it.address, it.import_id))
    text = head
    if manual:
        text += "#\n# Import IDs tf2kro cannot build (write these import blocks by hand):\n" + "\n".join(manual) + "\n"
    return terraform_fmt(text + "\n" + "\n".join(blocks))


def state_rm_sh(pp: PhasePlan, plan: Plan) -> str:
    addrs = pp.state_rm_addresses
    lines = [
        "#!/usr/bin/env bash",
        f"# tf2kro plan — {pp.dirname} (env {plan.env}): instances a removed {{}} block cannot hand over",
        "# (config address split across phases, partly unsupported, or declared in a module you cannot edit).",
        "# Run from the Terraform root after the phase's ACK objects are adopted and synced.",
        "set -euo pipefail",
    ]
    if not addrs:
        lines.append('echo "tf2kro: nothing to remove from state with terraform state rm in this phase"')
        return "\n".join(lines) + "\n"
    lines.append(f'terraform state pull > "tf2kro-backup-{pp.dirname}-$(date +%Y%m%d%H%M%S).tfstate"')
    lines.append("terraform state rm \\")
    lines += [f"  {shell_quote(a)}" + (" \\" if i < len(addrs) - 1 else "") for i, a in enumerate(addrs)]
    return "\n".join(lines) + "\n"


def cluster_secret_store(plan: Plan, sa: tuple[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": ESO_API,
        "kind": "ClusterSecretStore",
        "metadata": {"name": SECRET_STORE, "annotations": {"argocd.argoproj.io/sync-wave": "-5"}},
        "spec": {"provider": {"aws": {
            "service": "SecretsManager",
            "region": plan.region or "us-east-1",
            "auth": {"jwt": {"serviceAccountRef": {"name": sa[1], "namespace": sa[0]}}},
        }}},
    }


def external_secrets(pp: PhasePlan, plan: Plan) -> list[dict[str, Any]]:
    out = []
    for s in pp.secrets:
        out.append({
            "apiVersion": ESO_API,
            "kind": "ExternalSecret",
            "metadata": {"name": s.k8s_secret, "namespace": plan.namespace, "annotations": {
                "argocd.argoproj.io/sync-wave": "-2",
                "tf2kro.dev/terraform-address": s.address,
                "tf2kro.dev/used-by": f"{s.kind}/{s.object_name} {s.field}",
            }},
            "spec": {
                "refreshInterval": "1h",
                "secretStoreRef": {"name": SECRET_STORE, "kind": "ClusterSecretStore"},
                "target": {"name": s.k8s_secret, "creationPolicy": "Owner", "deletionPolicy": "Retain"},
                "data": [{"secretKey": s.property, "remoteRef": {"key": s.secret_name, "property": s.property}}],
            },
        })
    return out


def _owners_of(doc: dict[str, Any], owners: str) -> str:
    """The owners of one CODEOWNERS rule. On GitHub any one owner listed on a rule can approve, so a prod rule lists
    the prod owners alone: listing the phase team beside them would let that team approve prod by itself (the
    phase team still reviews: the comment above the rules and the PR body name it)."""
    return (doc.get("prod_owners") or owners) if doc.get("prod") else owners


def codeowners(plans: list[dict[str, Any]], root: str = "") -> str:
    """CODEOWNERS for every environment in the tree, from their plan.json documents (in rollout order). GitHub: the
    last matching rule wins and any one owner listed on a rule approves. So `*` comes first (nothing is unowned:
    the index README, new files), then each environment (its phases, its argocd/ directory, 00-prerequisites with
    the prod ClusterSecretStore, its PR bodies), and last what gates every environment (CODEOWNERS itself, the CI,
    the ArgoCD health checks): with a prod environment in the tree only its approvers own those, else any phase
    owner does. `root`: where the tree lives in the repository (`plan --repo-path`), '' = the repository root."""
    pre = f"/{root.strip('/')}/" if root.strip("/") else "/"
    lines = ["# tf2kro plan: owners per phase directory (--owners PHASE=@team; prod adds --prod-owners).",
             "# GitHub: the last matching rule wins; any one owner listed on a rule approves."]
    if pre != "/":
        lines.append(f"# This tree lives in {pre} of the repository: GitHub reads CODEOWNERS at the repository root "
                     "(or .github/, docs/): move this file and .github/ there.")
    prod_owners = [o for doc in plans if doc.get("prod") for o in str(doc.get("prod_owners") or "").split()]
    every_owner = prod_owners or [o for doc in plans for ph in doc["phases"] for o in ph["owners"].split()]
    ci_owners = " ".join(dict.fromkeys(every_owner))
    if ci_owners:
        lines.append(f"* {ci_owners}")
    for doc in plans:
        env = doc["env"]
        every = " ".join(dict.fromkeys(o for ph in doc["phases"] for o in ph["owners"].split()))
        if doc.get("prod") and doc.get("prod_owners"):
            lines.append(f"# {env}: production — only {doc.get('prod_owners')} approve these rules "
                         f"(phase teams review: {every})")
        env_owners = _owners_of(doc, every)
        if env_owners:
            lines.append(f"{pre}environments/{env}/ {env_owners}")
            lines.append(f"{pre}prs/{env}/ {env_owners}")
            lines.append(f"{pre}environments/{env}/00-prerequisites/ {env_owners}")
        if any(ph.get("argocd") for ph in doc["phases"]) and env_owners:
            lines.append(f"{pre}environments/{env}/argocd/ {env_owners}")
        for ph in doc["phases"]:
            owners = _owners_of(doc, ph["owners"])
            lines.append(f"{pre}environments/{env}/{ph['dir']}/ {owners}")
            lines.append(f"{pre}terraform/{env}/{ph['dir']}/ {owners}")
            if ph.get("argocd"):
                lines.append(f"{pre}{ph['argocd']['file']} {owners}")
    if ci_owners:
        # the CI (workflows, step scripts, drift targets with their read-only roles, the ruleset), the ArgoCD health
        # checks and this file gate every phase of every environment
        lines += [f"{pre}argocd/ {ci_owners}", f"{pre}ci/ {ci_owners}", f"/.github/ {ci_owners}",
                  f"{pre}.github/ {ci_owners}" if pre != "/" else "", f"{pre}CODEOWNERS {ci_owners}",
                  f"/CODEOWNERS {ci_owners}" if pre != "/" else ""]
    return "\n".join(ln for ln in lines if ln) + "\n"


def index_readme(plans: list[dict[str, Any]]) -> str:
    rows = ["| # | env | after | namespace | phases | state | plan |", "|---|---|---|---|---|---|---|"]
    for i, doc in enumerate(plans, 1):
        env = doc["env"]
        after = f"`{doc['predecessor']}`" if doc.get("predecessor") else "pilot"
        prod = " (prod)" if doc.get("prod") else ""
        rows.append(f"| {i} | `{env}`{prod} | {after} | `{doc.get('namespace')}` | {', '.join(ph['dir'] for ph in doc['phases'])} | "
                    f"`{doc['state'].get('path')}` (serial {doc['state'].get('serial')}) | "
                    f"[environments/{env}/README.md](environments/{env}/README.md) |")
    return f"""# Migration plans: Terraform → ACK

One plan per environment, in rollout order (`tf2kro plan --env dev=… --env staging=… --env prod=… --out <this dir>`,
or one `--env ENV` per run; each run replaces only its environments' `environments/ENV/`, `terraform/ENV/` and
`prs/ENV/`). A phase of an environment starts only after the same phase passed its exit checks in the environment
before it (its PR body names that gate). This index, `CODEOWNERS`, `argocd/argocd-cm-health.yaml` and the CI
(`.github/`, `ci/`: what runs on every PR and on schedule — [ci/README.md](ci/README.md)) are regenerated on every run.

{chr(10).join(rows)}
"""


PLAN_TREES = ("environments", "terraform", "prs")


def health_kinds(plans: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(group, kind) of every ACK object and kro instance the plans adopt."""
    from converter.gitops.health import INSTANCE_GROUP

    kinds: set[tuple[str, str]] = set()
    for doc in plans:
        for ph in doc["phases"]:
            for it in ph.get("items") or []:
                if it.get("status") == "mapped" and it.get("api_version") and it.get("kind"):
                    kinds.add((str(it["api_version"]).split("/")[0], str(it["kind"])))
            for inst in ph.get("instances") or []:
                if isinstance(inst, dict) and inst.get("kind"):
                    kinds.add((INSTANCE_GROUP, str(inst["kind"])))
    return kinds


def index_files(plans: list[dict[str, Any]]) -> dict[str, str]:
    """The files regenerated from every environment's plan.json (in rollout order, then by name)."""
    from converter.gitops.health import render_patch

    plans = sorted(plans, key=lambda d: (d.get("order") or 0, d["env"]))
    from converter.ci.plan import repo_path

    files = {"CODEOWNERS": codeowners(plans, repo_path(plans)), "README.md": index_readme(plans)}
    if any(ph.get("argocd") for d in plans for ph in d["phases"]):
        files["argocd/argocd-cm-health.yaml"] = render_patch(health_kinds(plans))
    return files


def plan_output_run(env: str | list[str]):
    """Ownership of a `plan --env ENV…` run in a shared --out: its environments' directories, plus the index."""
    envs = {env} if isinstance(env, str) else set(env)
    from converter.emit.writer import OutputRun

    def scope_of(rel: str) -> str:
        parts = rel.split("/")
        return f"plan:{parts[1]}" if len(parts) > 2 and parts[0] in PLAN_TREES else "plan:index"

    def index(paths: list[str], read) -> dict[str, str]:
        import json

        from converter.ci.plan import plan_ci_files
        from converter.model import ToolError

        docs = []
        for rel in paths:
            parts = rel.split("/")
            if len(parts) == 3 and parts[0] == "environments" and parts[2] == "plan.json":
                try:
                    doc = json.loads(read(rel))
                    ok = (isinstance(doc, dict) and isinstance(doc.get("env"), str) and isinstance(doc.get("state"), dict)
                          and isinstance(doc.get("phases"), list)
                          and all(isinstance(ph, dict) and {"dir", "owners"} <= ph.keys() for ph in doc["phases"]))
                except ValueError:
                    ok = False
                if not ok:
                    raise ToolError("cannot index the plan of another environment (not a tf2kro plan.json); "
                                    "re-run its `tf2kro plan --env` or remove its files", source=rel)
                docs.append(doc)
        return {**index_files(docs), **plan_ci_files(sorted(docs, key=lambda d: (d.get("order") or 0, d["env"])))}

    label = env if isinstance(env, str) else " --env ".join(env)
    return OutputRun(command=f"plan --env {label}", scope_of=scope_of,
                     replaces=lambda scope: scope in {f"plan:{e}" for e in envs}, index=index, index_scope="plan:index")


def _rollout_line(plan: Plan) -> str:
    envs = plan.environments or [plan.env]
    order = " → ".join(f"**{e}**" if e == plan.env else e for e in envs)
    line = f"Rollout order: {order}. "
    line += (f"Each phase here waits for the same phase in `{plan.predecessor}` (its gate is in the PR body)."
             if plan.predecessor else "This is the pilot environment: nothing to wait for.")
    if plan.prod:
        line += f" Production: every change also needs {plan.prod_owners}"
        line += "; ArgoCD syncs only inside the sync window of its AppProjects." if plan.sync_window else "."
    if any(pp.argocd for pp in plan.phases):
        line += (f"\nArgoCD: `kubectl apply -k environments/{plan.env}/argocd` once (app of apps); each phase's "
                 f"Application is in `environments/{plan.env}/argocd/<NN-phase>.yaml`.")
    return line


def readme(plan: Plan) -> str:
    rows = ["| # | phase | mapped | folded | unsupported | removed blocks | state rm | owners | PR body |",
            "|---|---|---|---|---|---|---|---|---|"]
    for pp in plan.phases:
        c = pp.counts()
        rows.append(f"| {pp.number} | {pp.phase} | {c['mapped']} | {c['folded']} | {c['unsupported']} | "
                    f"{len(pp.removed_addresses)} | {len(pp.state_rm_addresses)} | {pp.owners} | "
                    f"[prs/{plan.env}/{pp.dirname}.md](../../prs/{plan.env}/{pp.dirname}.md) |")
    findings = "\n".join(f"- **{f['kind']}**: {f['message']}" for f in plan.findings) or "None."
    return f"""# Migration plan: Terraform → ACK (env `{plan.env}`)

Generated by `tf2kro plan` from `{plan.state['path']}` (serial {plan.state['serial']}, lineage `{plan.state['lineage']}`).
Phases run strictly in this order, one PR each; phase N+1 starts only after phase N passed all its exit checks.
{_rollout_line(plan)}

{chr(10).join(rows)}

## Per phase

1. **Adopt read-only** — ArgoCD syncs `environments/{plan.env}/<NN-phase>/read-only/`. Exit: every object
   `ACK.ResourceSynced=True` and `services.k8s.aws/adopted: "true"`; no `desired resource state has changed` in the
   controller logs (a line there is the diff ACK *would* write: fix it before going on).
2. **Take read-only off** — switch the Application's path to `.../adopt/`. Exit: still adopted + synced, no writes.
3. **Hand over from Terraform** — `terraform/{plan.env}/<NN-phase>/removed.tf` (and delete the resource blocks it names) +
   `state-rm.sh`; `terraform apply` forgets them. Exit: `terraform plan -detailed-exitcode` returns 0.
4. **Rollback material** — `terraform/{plan.env}/<NN-phase>/rollback-imports.tf`; deleting the kro instance only removes ACK
   finalizers (deletion-policy retain), never the AWS resources.

Check progress: `kubectl get <kinds> -A -o json > live.json && tf2kro plan --status --out <plan dir> --env {plan.env} --kubectl-json live.json`.

## Graph findings (whole estate)

{findings}

`plan.json` is the machine-readable form (docs/plan.md).
"""


def argocd_files(plan: Plan, rollout: Rollout, phase_docs: dict[str, list[dict[str, Any]]],
                 prereq_docs: list[dict[str, Any]]) -> dict[str, str]:
    """environments/<env>/argocd/: the env's app of apps, its Namespace, and per phase AppProject + Application."""
    from converter.gitops import argocd as ga

    opts, env, ns = rollout.gitops_for(plan.env), plan.env, plan.namespace
    assert opts is not None
    window = rollout.window if plan.prod else None
    base = f"environments/{env}/argocd"
    files = {f"{base}/root-app.yaml": dump_yaml(ga.root_objects(env, ns, opts, window)),
             f"{base}/namespace.yaml": dump_yaml([ga.namespace_object(env, ns)])}
    resources = ["root-app.yaml", "namespace.yaml"]
    if prereq_docs:
        pk = ga.phase_kinds("00-prerequisites", "prerequisites", 0, prereq_docs)
        files[f"{base}/00-prerequisites.yaml"] = dump_yaml(ga.phase_objects(env, ns, pk, "", opts, window))
        resources.append("00-prerequisites.yaml")
    for pp in plan.phases:
        if not pp.argocd or pp.phase not in phase_docs:
            continue
        pk = ga.phase_kinds(pp.dirname, pp.phase, pp.number, phase_docs[pp.phase])
        files[f"{base}/{pp.dirname}.yaml"] = dump_yaml(ga.phase_objects(env, ns, pk, pp.argocd["step"], opts, window))
        resources.append(f"{pp.dirname}.yaml")
    files[f"{base}/kustomization.yaml"] = _kustomization(resources)
    return files


@gc_paused()
def render_plan_tree(estate: Estate, plan: Plan, ro: dict[str, list[PhaseOutput]], rw: dict[str, list[PhaseOutput]],
                     sa: tuple[str, str] = ("external-secrets", "external-secrets"),
                     rollout: Rollout | None = None) -> dict[str, str]:
    from converter.gitops.argocd import keep_annotations

    files: dict[str, str] = {}
    env = plan.env
    gitops = rollout is not None and rollout.gitops is not None
    phase_docs: dict[str, list[dict[str, Any]]] = {}
    prereq: list[dict[str, Any]] = []
    if any(pp.secrets for pp in plan.phases):
        prereq = [cluster_secret_store(plan, sa)]
        files[f"environments/{env}/00-prerequisites/cluster-secret-store.yaml"] = dump_yaml(prereq)
        files[f"environments/{env}/00-prerequisites/kustomization.yaml"] = _kustomization(["cluster-secret-store.yaml"])
    for pp in plan.phases:
        base = f"environments/{env}/{pp.dirname}"
        extra = []
        docs: list[dict[str, Any]] = []
        if pp.secrets:
            es = external_secrets(pp, plan)
            docs += es
            files[f"{base}/secrets/external-secrets.yaml"] = dump_yaml(es)
            files[f"{base}/secrets/kustomization.yaml"] = _kustomization(["external-secrets.yaml"])
            extra = ["../secrets"]
        for sub, outputs in (("read-only", ro), ("adopt", rw)):
            parts = outputs.get(pp.phase)
            if not parts:
                continue
            rgds, insts = [po.rgd for po in parts], [po.instance for po in parts]
            if gitops:
                for d in rgds + insts:
                    keep_annotations(d)
            docs += rgds + insts
            files[f"{base}/{sub}/rgd.yaml"] = dump_yaml(rgds)
            files[f"{base}/{sub}/instance.yaml"] = dump_yaml(insts)
            files[f"{base}/{sub}/kustomization.yaml"] = _kustomization(["rgd.yaml", "instance.yaml"] + extra)
        if docs:
            phase_docs[pp.phase] = docs
        else:
            pp.argocd = None  # nothing to sync (only unsupported resources): no Application, no CODEOWNERS line
        tf = f"terraform/{env}/{pp.dirname}"
        files[f"{tf}/removed.tf"] = removed_tf(pp, plan)
        files[f"{tf}/rollback-imports.tf"] = rollback_tf(pp, plan)
        files[f"{tf}/state-rm.sh"] = state_rm_sh(pp, plan)
        for name, text in render_pr(plan, pp, estate.graph).items():
            files[f"prs/{env}/{name}"] = text
    if gitops:
        assert rollout is not None
        files.update(argocd_files(plan, rollout, phase_docs, prereq))
    files[f"environments/{env}/plan.json"] = plan.to_json()
    files[f"environments/{env}/README.md"] = readme(plan)
    files.update(index_files([plan.to_dict()]))  # the index of this env alone; plan_output_run merges every env's
    return files
