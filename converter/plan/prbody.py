"""The per-phase PR body: what a reviewer needs in two minutes at the top (counts, steps with exit checks,
blocking findings), everything long folded into `<details>` (Atlantis/tfcmt convention), an Infracost-style
coverage line. GitHub caps a PR body at 65,536 characters: larger tables move to a linked second file.
"""

from __future__ import annotations

import json
import re
import shlex
from typing import Any

import networkx as nx

from converter.plan.model import PhasePlan, Plan, PlanItem

PR_LIMIT = 60_000
FOLD_ROWS = 15  # tables longer than this go into <details>

UNSUPPORTED_ADVICE = (
    "stays in Terraform (not in removed.tf / state-rm.sh). Keep it in a residual Terraform root, or delete it from "
    "Terraform with a later change if it is obsolete."
)


def cell(value: Any) -> str:
    s = "" if value is None else str(value)
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def code(value: Any) -> str:
    s = "" if value is None else str(value)
    return "`" + s.replace("|", "\\|").replace("`", "'") + "`"


def _details(summary: str, body: str, *, open_: bool = False) -> str:
    return f"<details{' open' if open_ else ''}><summary>{summary}</summary>\n\n{body.rstrip()}\n\n</details>\n"


def _maybe_fold(summary: str, body: str, rows: int) -> str:
    if rows > FOLD_ROWS:
        return _details(summary, body)
    return f"**{summary}**\n\n{body.rstrip()}\n"


def diff_command(pp: PhasePlan, state: dict[str, Any] | None) -> str:
    """The runnable `tf2kro diff` of one phase: the state (and --hcl) as plan recorded them (plan.json
    state.source), shell-quoted; a placeholder when the state came from stdin or would break the Markdown."""
    def arg(value: str, placeholder: str) -> str:
        return shlex.quote(value) if value and not re.search(r"[`\r\n]", value) else placeholder
    state = state or {}
    cmd = f"tf2kro diff --state {arg(str(state.get('source') or ''), '<STATE>')}"
    if state.get("hcl"):
        cmd += f" --hcl {arg(str(state['hcl']), '<HCL-DIR>')}"
    return f"{cmd} --phase {pp.phase}"


def summary_line(pp: PhasePlan, diff_available: bool, state: dict[str, Any] | None = None) -> str:
    c = pp.counts()
    if pp.adoption is not None:
        adopt = f"{pp.adoption['count']} adoption-would-change"
    elif diff_available:
        adopt = ("adoption-would-change: not checked (pass --live CAPTURE.json, or run `"
                 + diff_command(pp, state) + "`: it reads live AWS read-only)")
    else:
        adopt = "adoption-would-change: not checked: run tf2kro diff"
    blocking = sum(1 for f in pp.findings if f.severity == "blocking")
    review = sum(1 for f in pp.findings if f.severity != "blocking")
    return (f"**{c['mapped']} mapped · {c['folded']} folded · {c['unsupported']} unsupported · "
            f"{c['not-adopted']} not adopted (co-managed) · {adopt} · "
            f"{blocking} blocking · {review} to review**")


def _steps_table(pp: PhasePlan, plan: Plan) -> str:
    rm = pp.removed_addresses
    srm = pp.state_rm_addresses
    imports = sum(1 for it in pp.handed_over if it.import_id is not None)
    manual = sum(1 for it in pp.handed_over if it.import_id is None)
    base = f"environments/{plan.env}/{pp.dirname}"
    tf = f"terraform/{plan.env}/{pp.dirname}"
    rows = [
        ("1", f"Adopt **read-only**: sync `{base}/read-only`",
         f"all {len(pp.mapped)} objects `ACK.ResourceSynced=True` and annotated `services.k8s.aws/adopted: \"true\"`; "
         "no `desired resource state has changed` in controller logs"),
        ("2", f"Take read-only off: sync `{base}/adopt`",
         "still adopted + synced, none read-only; no `desired resource state has changed` log lines, no CloudTrail writes"),
        ("3", f"Hand over from Terraform: `{tf}/removed.tf` ({len(rm)} blocks; delete the resource blocks they name) + "
              f"`{tf}/state-rm.sh` ({len(srm)} addresses); `terraform apply` (forget only)",
         "`terraform plan -detailed-exitcode` returns **0**"),
        ("4", f"Rollback material: `{tf}/rollback-imports.tf` ({imports} import blocks"
              + (f", {manual} manual" if manual else "") + "); delete the kro instance → ACK only drops finalizers (retain)",
         "not run unless needed"),
    ]
    lines = ["| # | step | exit check |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    check = next((c for c in pp.steps[0]["commands"] if c.startswith("kubectl get")), "") if pp.steps else ""
    if check:
        # the read-only step's own commands: the kubectl capture(s), then plan --status (with the Application
        # when ArgoCD syncs the phase)
        cmds = [c for c in pp.steps[0]["commands"]
                if c.startswith(("kubectl get", "tf2kro plan --status")) or " get applications " in c]
        lines += ["", "Check steps 1–2 (exit 0 = done):", "", "```sh", *cmds, "```"]
    return "\n".join(lines) + "\n"


def _findings(pp: PhasePlan) -> str:
    if not pp.findings:
        return "No blocking findings; nothing to review.\n"
    lines = ["| severity | kind | finding |", "|---|---|---|"]
    for f in pp.findings:
        lines.append(f"| {'**blocking**' if f.severity == 'blocking' else 'review'} | {f.kind} | {cell(f.message)} |")
    return _maybe_fold(f"Findings ({len(pp.findings)})", "\n".join(lines), len(pp.findings))


def _kind_name(it: PlanItem) -> str:
    if it.status == "mapped":
        return f"{it.kind} `{it.name}`"
    if it.status == "folded":
        return f"↳ folded into {it.kind} `{it.name}`"
    return "—"


def resources_table(pp: PhasePlan) -> tuple[str, int]:
    lines = ["| wave | Terraform address | ACK kind / name | adoption id | from state | handoff |",
             "|---|---|---|---|---|---|"]
    rows = 0
    for it in pp.items:
        if it.status in ("unsupported", "not-adopted"):
            continue
        adoption = code(json.dumps(it.adoption_fields, separators=(",", ":"), sort_keys=True)) if it.adoption_fields else ""
        fs = f"{it.from_state_values} values" if it.status == "mapped" else "(in parent)"
        lines.append(f"| {it.wave} | {code(it.address)} | {_kind_name(it)} | {adoption} | {fs} | {it.handoff or ''} |")
        rows += 1
    return "\n".join(lines) + "\n", rows


def _fields_from_state(pp: PhasePlan) -> tuple[str, int]:
    lines = ["| ACK object | values | spec fields rendered from state |", "|---|---|---|"]
    rows = 0
    for it in pp.mapped:
        lines.append(f"| {it.kind} `{it.name}` | {it.from_state_values} | {cell(', '.join(it.from_state))} |")
        rows += 1
    return "\n".join(lines) + "\n", rows


def _omissions(pp: PhasePlan) -> tuple[str, int]:
    rows = [(it, o) for it in pp.mapped for o in it.omissions]
    if not rows:
        return "No field was left out: every rendered value comes from state; fields not rendered are filled by `adopt` from AWS.\n", 0
    lines = ["| ACK object | field | reason |", "|---|---|---|"]
    lines += [f"| {it.kind} `{it.name}` | `{cell(o['field'])}` | {cell(o['reason'])} |" for it, o in rows]
    return "\n".join(lines) + "\n", len(rows)


def _ownership(pp: PhasePlan) -> tuple[str, int]:
    """Fields someone besides this state writes (converter.ownership, docs/ownership.md), and objects not adopted
    because ACK would fight that writer."""
    rows = [(it, o) for it in pp.items for o in it.ownership if o["decision"] != "fold" or it.status == "mapped"]
    rows += [(it, {"field": "—", "decision": "not-adopted", "writers": "", "reason": it.reason or ""})
             for it in pp.items if it.status == "not-adopted" and not it.ownership]
    if not rows:
        return "No field of this phase is written by anyone but this state.\n", 0
    lines = ["| Terraform address | status | field | decision | also written by | why |", "|---|---|---|---|---|---|"]
    lines += [f"| {code(it.address)} | {it.status} | `{cell(o['field'])}` | **{o['decision']}** | {cell(o['writers'])} | "
              f"{cell(o['reason'])} |" for it, o in rows]
    return "\n".join(lines) + "\n", len(rows)


def _unsupported(pp: PhasePlan) -> tuple[str, int]:
    rows = [it for it in pp.items if it.status == "unsupported"]
    if not rows:
        return "None.\n", 0
    lines = ["| Terraform address | type | reason | what to do |", "|---|---|---|---|"]
    lines += [f"| {code(it.address)} | `{it.type}` | {cell(it.reason)} | {UNSUPPORTED_ADVICE} |" for it in rows]
    return "\n".join(lines) + "\n", len(rows)


def _secrets(pp: PhasePlan, plan: Plan) -> str:
    if not pp.secrets:
        return ""
    lines = ["Create these in AWS Secrets Manager **before step 1** (values are never written by tf2kro; take them "
             "from your password manager or rotate them). ExternalSecrets are in "
             f"`environments/{plan.env}/{pp.dirname}/secrets/`, store `ClusterSecretStore/aws-secrets-manager` in "
             f"`environments/{plan.env}/00-prerequisites/`.", "",
             "| Secrets Manager secret | JSON key | needed by | Kubernetes Secret |", "|---|---|---|---|"]
    for s in pp.secrets:
        lines.append(f"| `{s.secret_name}` | `{s.property}` | {s.kind} `{s.object_name}` `{s.field}` | "
                     f"`{plan.namespace}/{s.k8s_secret}` |")
    if any(s.field == "spec.masterUserPassword" for s in pp.secrets):
        lines += ["", "RDS: `masterUserPassword` is a secretKeyRef `{name, namespace, key: password}` to the Secret above. "
                  "It is **not** set during adoption (setting it makes ACK call ModifyDBInstance with ApplyImmediately); "
                  "add it only when ACK should rotate the password."]
    return "\n".join(lines) + "\n"


def _handoff(pp: PhasePlan) -> str:
    out = []
    removed = [g for g in pp.handoff if g.mode == "removed"]
    srm = [g for g in pp.handoff if g.mode == "state-rm"]
    if removed:
        lines = ["| config address | instances | resource block to delete |", "|---|---|---|"]
        lines += [f"| {code(g.config_address)} | {len(g.instances)} | {code(g.declared_at) if g.declared_at else 'delete it (no --hcl given)'} |"
                  for g in removed]
        out.append(_maybe_fold(f"removed.tf: {len(removed)} blocks covering "
                               f"{sum(len(g.instances) for g in removed)} instances", "\n".join(lines), len(removed)))
    if srm:
        lines = ["| instance address | why not a removed block |", "|---|---|"]
        lines += [f"| {code(a)} | {cell(g.reason)} |" for g in srm for a in g.instances]
        out.append(_maybe_fold(f"state-rm.sh: {len(srm)} instance addresses", "\n".join(lines), len(srm)))
    if not out:
        return "Nothing to hand over.\n"
    out.append("`removed` blocks forget *every* instance of a config address and need the resource block deleted "
               "(else: `Removed resource still exists`); `terraform plan` before the apply shows only "
               "\"will no longer be managed\" — exit code 2 is expected *then*; after the apply it must be 0.")
    return "\n".join(out) + "\n"


def _prereqs(pp: PhasePlan) -> str:
    lines = [f"- [ ] {p['check']} — {p['why']} (`{p['verify']}`)" for p in pp.prerequisites]
    ctl = ["| controller | kinds | minimum | CRDs checked against |", "|---|---|---|---|"]
    ctl += [f"| {c['controller']} | {c['kinds']} | {c['minimum']} | {c['tested']} |" for c in pp.controllers]
    return "\n".join(lines) + "\n\n" + "\n".join(ctl) + "\n"


def _adoption(pp: PhasePlan) -> str:
    if pp.adoption is None or not pp.adoption["findings"]:
        return ""
    lines = ["| Terraform address | field | rendered | live |", "|---|---|---|---|"]
    for f in pp.adoption["findings"][:200]:
        lines.append(f"| {code(f['address'])} | `{cell(f['path'])}` | {code(_short(f['expected']))} | {code(_short(f['live']))} |")
    return _details(f"adoption-would-change ({pp.adoption['count']}, from {pp.adoption['source']})", "\n".join(lines), open_=True)


def _short(v: Any, limit: int = 100) -> str:
    s = json.dumps(v, sort_keys=True, default=str) if not isinstance(v, str) else v
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _rollback(pp: PhasePlan, plan: Plan) -> str:
    from converter.plan.model import _instance_ref

    ref = _instance_ref(pp, plan.env, plan.namespace, plan.root)
    return (
        "1. Point the phase back at `read-only/` (ACK stops writing to AWS).\n"
        "2. Check every object carries `services.k8s.aws/deletion-policy: retain` (rendered on all of them).\n"
        f"3. Remove the phase from ArgoCD, then `kubectl delete {ref}` "
        "— kro deletes the child CRs, ACK removes its finalizers only; AWS is untouched.\n"
        f"4. `git revert` the HCL removal, copy `terraform/{plan.env}/{pp.dirname}/rollback-imports.tf` into the root, "
        "`terraform plan` (imports only) → `terraform apply` → `terraform plan -detailed-exitcode` returns 0.\n"
    )


def phase_mermaid(pp: PhasePlan, eg: Any) -> tuple[str, int]:
    """The phase as mermaid: one node per ACK object (folded children counted into it) or unsupported resource;
    edges are the dependency graph between them (what orders the waves), transitively reduced over the
    condensation so a 40-object phase stays readable; edges inside a cycle are all kept (they are findings)."""
    folded: dict[str, int] = {}
    for it in pp.items:
        if it.status == "folded" and it.fold_parent:
            folded[it.fold_parent] = folded.get(it.fold_parent, 0) + 1
    nodes = [it.address for it in pp.items if it.status != "folded"]
    sub = nx.DiGraph()
    sub.add_nodes_from(nodes)
    sub.add_edges_from((u, v) for u, v in eg.graph.subgraph(nodes).edges if u != v)
    cond = nx.condensation(sub)
    members = {c: sorted(cond.nodes[c]["members"]) for c in cond.nodes}
    edges: set[tuple[str, str]] = set()
    for c1, c2 in nx.transitive_reduction(cond).edges:
        cands = sorted((u, v) for u in members[c1] for v in sub.successors(u) if v in cond.nodes[c2]["members"])
        if cands:
            edges.add(cands[0])
    for c in cond.nodes:
        if len(members[c]) > 1:
            edges.update((u, v) for u, v in sub.subgraph(members[c]).edges)
    ids = {a: f"n{i}" for i, a in enumerate(sorted(nodes))}
    items = {it.address: it for it in pp.items}
    lines = ["flowchart LR"]
    for a in sorted(nodes):
        it = items[a]
        label = a.replace('"', "'")
        if it.status == "mapped":
            label = f"{it.kind}<br/>{label}" + (f"<br/>+{folded[a]} folded" if folded.get(a) else "")
            lines.append(f'  {ids[a]}["{label}"]')
        else:
            lines.append(f'  {ids[a]}["{label}<br/>(unsupported)"]:::unsupported')
    for u, v in sorted(edges):
        lines.append(f"  {ids[u]} --> {ids[v]}")
    lines.append("  classDef unsupported stroke-dasharray: 5 5")
    return "\n".join(lines) + "\n", len(nodes)


def _gate(pp: PhasePlan, plan: Plan) -> str:
    """Which environment goes before this one, and the exit checks of its phase this PR waits for."""
    envs = plan.environments or [plan.env]
    order = " → ".join(f"**{e}**" if e == plan.env else e for e in envs)
    prod = (f"\n\n**Production**: CODEOWNERS require an approval from {plan.prod_owners} (the phase owners "
            f"{pp.owners} review)"
            + ("; ArgoCD syncs only in the AppProject's sync window "
               f"(`{plan.sync_window['schedule']}` for {plan.sync_window['duration']}, {plan.sync_window['timeZone']})"
               if plan.sync_window else "") + "." if plan.prod else "")
    if pp.gate is None:
        return f"## Gate\n\nRollout {order}: `{plan.env}` is the pilot — no earlier environment to wait for.{prod}\n"
    g = pp.gate
    if not g["dir"]:
        return f"## Gate\n\nRollout {order}: {g['summary']}.{prod}\n"
    checks = "\n".join(f"- [ ] {c}" for c in g["checks"])
    cmds = "\n".join(g["commands"])
    return (f"## Gate: `{g['env']}/{g['dir']}` first\n\nRollout {order}. Do not merge before the same phase passed in "
            f"`{g['env']}` ([prs/{g['env']}/{g['dir']}.md](../{g['env']}/{g['dir']}.md)):\n\n{checks}\n\n"
            f"```sh\n{cmds}\n```{prod}\n")


def _argocd(pp: PhasePlan, plan: Plan) -> str:
    """The Application of the phase, and the one reviewed change that moves it from read-only to adopt."""
    a = pp.argocd
    if not a:
        return ""
    ro = a["path"].rsplit("/", 1)[0] + "/read-only"
    return (f"## ArgoCD\n\nApplication `{a['application']}` (project `{a['project']}`, sync wave {pp.number}) in "
            f"`{a['file']}` syncs `{a['path']}` (step **{a['step']}**). Step 2 (take read-only off) is this one reviewed "
            f"change in that file (or re-run `tf2kro plan … --adopt {plan.env}/{pp.phase}`):\n\n"
            f"```diff\n   source:\n-    path: {ro}\n+    path: {a['adopt_path']}\n```\n\n"
            "No auto-prune: `automated.prune: false`, RGD and instance carry `Prune=false,Delete=false`, no "
            "resources-finalizer; ACK objects keep `deletion-policy: retain`.\n")


def render_pr(plan: Plan, pp: PhasePlan, eg: Any) -> dict[str, str]:
    """{relative file name: markdown}: the body, plus `<NN-phase>.resources.md` when the body would be too long."""
    total = len(plan.phases)
    head = [
        f"# tf2kro: adopt `{pp.phase}` into ACK — phase {pp.number} of {total} (env `{plan.env}`)",
        "",
        f"State `{plan.state['path']}` (serial {plan.state['serial']}, Terraform {plan.state['terraform_version']}), "
        f"region `{plan.region}`, account `{plan.account_id}`. Owners: {pp.owners}.",
        "",
        summary_line(pp, plan.diff_available, plan.state),
        "",
        _gate(pp, plan),
        _argocd(pp, plan),
        "## Steps",
        "",
        _steps_table(pp, plan),
        "## Findings",
        "",
        _findings(pp),
        _adoption(pp),
    ]
    res_md, res_rows = resources_table(pp)
    mermaid, n_nodes = phase_mermaid(pp, eg)
    fields_md, fields_rows = _fields_from_state(pp)
    om_md, om_rows = _omissions(pp)
    un_md, un_rows = _unsupported(pp)
    own_md, own_rows = _ownership(pp)
    secrets = _secrets(pp, plan)
    body_parts = [
        "## Resources",
        "",
        _maybe_fold(f"{res_rows} Terraform instances → ACK objects", res_md, res_rows),
        _details(f"Dependency graph ({n_nodes} nodes, folded resources inside their parent)", f"```mermaid\n{mermaid}```"),
        "## Fields",
        "",
        _maybe_fold(f"Values rendered from state ({sum(i.from_state_values for i in pp.mapped)} in {fields_rows} objects)",
                    fields_md, fields_rows),
        _maybe_fold(f"Omitted fields ({om_rows})", om_md, om_rows),
        "## Shared ownership",
        "",
        _maybe_fold(f"{own_rows} field(s) with another writer", own_md, own_rows),
        "## Unsupported resources",
        "",
        _maybe_fold(f"{un_rows} unsupported", un_md, un_rows),
    ]
    if secrets:
        head += ["## Secrets", "", secrets]
    tail = [
        "## Terraform handoff",
        "",
        _handoff(pp),
        "## Prerequisites",
        "",
        _prereqs(pp),
        "## Rollback",
        "",
        _rollback(pp, plan),
        f"<sub>Generated by `tf2kro plan`. Coverage: {len(pp.items)} Terraform instances in this phase: "
        f"{pp.counts()['mapped']} adopted, {pp.counts()['folded']} folded, {pp.counts()['unsupported']} not supported.</sub>",
        "",
    ]
    files = {}
    text = "\n".join(head + body_parts + tail)
    if len(text) > PR_LIMIT:
        extra = "\n".join([f"# {pp.dirname}: resources", ""] + body_parts)
        files[f"{pp.dirname}.resources.md"] = extra
        text = "\n".join(head + ["## Resources", "",
                                 f"{res_rows} instances, graph, fields and unsupported resources: see "
                                 f"[`{pp.dirname}.resources.md`]({pp.dirname}.resources.md) (too long for one PR body).", ""]
                         + tail)
    files[f"{pp.dirname}.md"] = text
    return files
