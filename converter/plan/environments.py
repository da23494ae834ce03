"""Several environments in one plan, rolled out in order (dev pilot → staging → prod).

The order is the order given (`--env NAME=STATE` repeated, or the roots of the estate file). Each phase of a later
environment is gated on the same phase of the environment before it: all its ACK objects adopted and synced (none
read-only), `terraform plan -detailed-exitcode` = 0 after its handoff, and no adoption-would-change. When the
predecessor has no resources in that phase, the gate is its last earlier phase (everything up to here done there).

A prod environment (named prod/production/prd, or given with --prod-env) gets extra CODEOWNERS (--prod-owners) on
every phase and an ArgoCD sync window on its AppProjects.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from converter.gitops.argocd import GitOpsOptions, SyncWindow, app_name
from converter.model import ToolError
from converter.names import dns1123_label
from converter.plan.model import PhasePlan, Plan

PROD_NAMES = frozenset({"prod", "production", "prd"})


def parse_envs(values: tuple[str, ...]) -> list[tuple[str, str | None]]:
    """`--env` values → [(name, state or None)], in the order given. A bare NAME (the single-environment form, with
    --state) may appear once; NAME=STATE forms name one state per environment; names are unique DNS labels."""
    out: list[tuple[str, str | None]] = []
    for v in values:
        name, sep, st = v.partition("=")
        dns1123_label(name, "--env")
        if sep and not st:
            raise ToolError(f"--env {v!r}: expected NAME=STATE (a state file, - or s3:// URL)")
        out.append((name, st if sep else None))
    names = [n for n, _ in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ToolError(f"--env: environment {dup[0]!r} given twice")
    if len(out) > 1 and any(st is None for _, st in out):
        raise ToolError("several --env: give each as NAME=STATE (dev=dev.tfstate --env prod=prod.tfstate)")
    return out


def parse_destinations(values: tuple[str, ...], envs: list[str]) -> tuple[str | None, dict[str, str]]:
    """`--destination [ENV=]URL` → (default URL or None, {env: URL}); URLs are checked by GitOpsOptions."""
    default, per = None, {}
    for v in values:
        env, sep, url = v.partition("=")
        if not sep:
            default = v
            continue
        if env not in envs:
            raise ToolError(f"--destination {v[:80]!r}: environment {env!r} is not planned here ({', '.join(envs)})")
        per[env] = url
    return default, per


def parse_live(values: tuple[str, ...], envs: list[str]) -> dict[str, str]:
    """`--live [ENV=]CAPTURE` → {env: capture file}. A bare file is for the single planned environment."""
    from pathlib import Path

    out: dict[str, str] = {}
    for v in values:
        env, sep, path = v.partition("=")
        if not (sep and env in envs):
            if len(envs) > 1:
                raise ToolError(f"--live {v[:80]!r}: several environments are planned: give ENV=CAPTURE "
                                f"(ENV one of {', '.join(envs)})")
            env, path = envs[0], v
        if env in out:
            raise ToolError(f"--live: two captures for environment {env!r}")
        if not Path(path).is_file():
            raise ToolError(f"--live {path[:80]!r}: no such capture file")
        out[env] = path
    return out


def codeowners_value(value: str, what: str) -> str:
    """Owners for a CODEOWNERS rule: whitespace-separated @user, @org/team or e-mail tokens, on one line (no
    comment character, no path, nothing that would start another rule)."""
    import re

    tokens = value.split()
    ok = re.compile(r"\A(@[A-Za-z0-9][A-Za-z0-9_.-]*(/[A-Za-z0-9][A-Za-z0-9_.-]*)?|[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+)\Z")
    bad = [t for t in tokens if not ok.match(t)]
    if not tokens or bad:
        raise ToolError(f"{what} {value[:80]!r}: expected @user, @org/team or an e-mail address"
                        + (f" (not {bad[0][:40]!r})" if bad else ""))
    return " ".join(tokens)


def parse_adopt(values: tuple[str, ...], envs: list[str], phases: tuple[str, ...]) -> set[tuple[str, str]]:
    """`--adopt [ENV/]PHASE` → {(env, phase)} whose Application syncs `adopt/` instead of `read-only/`."""
    out = set()
    for v in values:
        env, _, ph = v.rpartition("/")
        if ph not in phases:
            raise ToolError(f"--adopt {v!r}: unknown phase {ph!r} (one of {', '.join(phases)})")
        if env and env not in envs:
            raise ToolError(f"--adopt {v!r}: environment {env!r} is not planned here ({', '.join(envs)})")
        out |= {(e, ph) for e in ([env] if env else envs)}
    return out


@dataclass
class Rollout:
    """What one environment's plan needs to know about the others and about ArgoCD."""

    environments: list[str]
    gitops: GitOpsOptions | None = None
    window: SyncWindow = field(default_factory=SyncWindow)
    prod_envs: frozenset[str] = PROD_NAMES
    prod_owners: str = "@platform-prod-approvers"
    adopt: set[tuple[str, str]] = field(default_factory=set)
    destinations: dict[str, str] = field(default_factory=dict)  # env → API server URL (default: gitops.destination)

    def gitops_for(self, env: str) -> GitOpsOptions | None:
        if self.gitops is None or env not in self.destinations:
            return self.gitops
        return replace(self.gitops, destination=self.destinations[env])

    def is_prod(self, env: str) -> bool:
        return env in self.prod_envs


def _gate_target(pred: Plan, pp: PhasePlan) -> PhasePlan | None:
    same = [p for p in pred.phases if p.phase == pp.phase]
    if same:
        return same[0]
    from converter.commands.common import PHASES

    rank = {p: i for i, p in enumerate(PHASES)}
    earlier = [p for p in pred.phases if rank.get(p.phase, len(PHASES)) < rank.get(pp.phase, len(PHASES))]
    return earlier[-1] if earlier else None


def gate(pred: Plan, pp: PhasePlan) -> dict[str, Any]:
    """The exit checks of the predecessor's phase this phase waits for (named in its PR body and plan.json)."""
    target = _gate_target(pred, pp)
    if target is None:
        return {"env": pred.env, "phase": None, "dir": None,
                "summary": f"{pred.env} has no phase up to {pp.phase}: nothing to wait for", "checks": [], "commands": []}
    blocking = [f for f in target.findings if f.severity == "blocking"]
    if target.adoption is None:
        adoption = (f"adoption-would-change not checked for {pred.env}: re-plan it with --live CAPTURE.json; "
                    "it must be 0 with no blocking finding")
    elif blocking:
        adoption = (f"{pred.env}/{target.dirname} has {len(blocking)} blocking finding(s) "
                    f"({', '.join(sorted({f.kind for f in blocking}))}): resolve them and re-plan with --live until none")
    else:
        adoption = f"adoption-would-change = 0 in {pred.env} (checked with --live), no blocking finding"
    checks = [
        f"every ACK object of {pred.env}/{target.dirname} adopted and ACK.ResourceSynced=True, none read-only "
        f"({len(target.mapped)} objects)",
        f"`terraform plan -detailed-exitcode` returns 0 in {pred.env}'s Terraform root after the handoff",
        adoption,
    ]
    if target.argocd:
        checks.append(f"ArgoCD Application `{target.argocd['application']}` Synced and Healthy on `adopt/`")
    cmds = [f"tf2kro plan --status --out <plan dir> --env {pred.env} --phase {target.phase} "
            f"--kubectl-json {pred.env}-{target.dirname}.json --terraform-state-list {pred.env}-state.txt"
            + (" --applications-json applications.json" if target.argocd else "") + "   # exit 0",
            f"terraform plan -detailed-exitcode   # in {pred.env}'s root: exit 0"]
    return {"env": pred.env, "phase": target.phase, "dir": target.dirname,
            "summary": f"{pred.env}/{target.dirname} done (adopted, handed over, Terraform clean)",
            "checks": checks, "commands": cmds}


def apply_rollout(plan: Plan, rollout: Rollout, pred: Plan | None) -> None:
    """Set the order, predecessor, prod settings, gates and ArgoCD names of `plan` (before it is rendered)."""
    plan.environments = list(rollout.environments)
    plan.order = rollout.environments.index(plan.env) if plan.env in rollout.environments else 0
    plan.predecessor = pred.env if pred else None
    plan.prod = rollout.is_prod(plan.env)
    plan.prod_owners = rollout.prod_owners if plan.prod else None
    plan.sync_window = rollout.window.to_dict() if plan.prod and rollout.gitops else None
    plan.repo_path = rollout.gitops.path_prefix if rollout.gitops else ""
    for pp in plan.phases:
        pp.gate = gate(pred, pp) if pred else None
        if rollout.gitops:
            step = "adopt" if (plan.env, pp.phase) in rollout.adopt else "read-only"
            name = app_name(plan.env, pp.dirname)
            pp.argocd = {"application": name, "project": name, "file": f"environments/{plan.env}/argocd/{pp.dirname}.yaml",
                         "path": rollout.gitops.path(f"environments/{plan.env}/{pp.dirname}/{step}"), "step": step,
                         "adopt_path": rollout.gitops.path(f"environments/{plan.env}/{pp.dirname}/adopt")}
            _status_with_applications(pp, rollout.gitops.argocd_namespace)


def _status_with_applications(pp: PhasePlan, argocd_ns: str) -> None:
    """The steps' `plan --status` commands also check the phase's Application (Synced, Healthy, which path)."""
    for step in pp.steps:
        if step["id"] not in ("read-only", "adopt"):
            continue
        cmds = []
        for c in step["commands"]:
            if c.startswith("tf2kro plan --status") and "--applications-json" not in c:
                cmds.append(f"kubectl -n {argocd_ns} get applications -o json > applications.json")
                c += " --applications-json applications.json"
            cmds.append(c)
        step["commands"] = cmds
