"""Signing, approval and CI of a `tf2kro fleet` tree (the fleet repository).

Every Application runs in a project that requires signed commits: the environment projects (converter.fleet.argocd
.app_project) and `platform`, the project of the bootstrap app-of-apps, computed here from the objects under hub/
(it may only create what the hub tree holds). The public keys land in argocd-gpg-keys-cm. CODEOWNERS and the
ruleset come from `spec.approval`; the ruleset's required checks are the job names of the fleet workflow.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from converter.ci import approval, workflows
from converter.emit.writer import dump_yaml
from converter.fleet import argocd
from converter.fleet.config import Fleet
from converter.model import ToolError

PR_WORKFLOW = ".github/workflows/tf2kro-fleet-pr.yml"
CODEOWNERS = ".github/CODEOWNERS"
GPG_FILE = "hub/argocd/gpg-keys.yaml"
PLATFORM_FILE = f"hub/argocd/projects/{argocd.PLATFORM_PROJECT}.yaml"


def _hub_docs(files: dict[str, str]) -> list[dict[str, Any]]:
    docs = []
    for rel, text in sorted(files.items()):
        if rel.startswith("hub/") and rel.endswith((".yaml", ".yml")):
            docs.extend(d for d in yaml.safe_load_all(text) if isinstance(d, dict) and d.get("kind"))
    return docs


def _codeowners(fleet: Fleet) -> str:
    ap = fleet.approval
    owners = approval.check_owners(ap.get("owners") or [], "fleet file: approval.owners")
    env_owners = {e: approval.check_owners(o, f"fleet file: approval.environmentOwners.{e}")
                  for e, o in sorted((ap.get("environmentOwners") or {}).items())}
    unknown = sorted(set(env_owners) - {e.name for e in fleet.environments})
    if unknown:
        raise ToolError(f"fleet file: approval.environmentOwners.{unknown[0]}: not one of the environments")
    root = f"/{fleet.path}/" if fleet.path else "/"
    rules: list[tuple[str, list[str]]] = []
    if owners:
        rules.append(("*", owners))
    for env, eo in env_owners.items():
        rules.append((f"{root}apps/*/envs/{env}/", eo))
        rules.append((f"{root}hub/argocd/projects/{env}.yaml", eo))
        for c in fleet.clusters:
            if c.env == env:
                rules.append((f"{root}hub/argocd/clusters/{c.name}.yaml", eo))
    if owners:  # who may change trust itself: the default owners, whatever an environment rule above says
        for p in ("bootstrap/", "ci/", GPG_FILE, PLATFORM_FILE):
            rules.append((f"{root}{p}", owners))
        rules.append(("/.github/", owners))
    head = (f"tf2kro fleet: owners of fleet {fleet.name} (spec.approval of the fleet file). The last matching rule wins.\n"
            "GitHub reads .github/CODEOWNERS at the repository root: move .github/ there if this tree is in a "
            "sub-directory.")
    if not owners and not env_owners:
        head += "\nNo spec.approval.owners in the fleet file: no rule, so no review is required by CODEOWNERS."
    return approval.codeowners(rules, head)


def _branch(revision: str) -> str | None:
    """The branch ArgoCD follows, if `gitops.revision` names one (HEAD, a tag-like `v1.2` or a commit: the
    repository's default branch is protected instead)."""
    if revision in ("", "HEAD") or re.fullmatch(r"[0-9a-f]{7,40}|v?\d+(\.\d+)*", revision):
        return None
    return revision


def fleet_ci_files(fleet: Fleet, files: dict[str, str]) -> dict[str, str]:
    """The files this module adds to a fleet tree; `files` is the tree rendered so far (its hub/ objects decide
    what the platform project may create)."""
    if fleet.env(argocd.PLATFORM_PROJECT) is not None:
        raise ToolError(f"fleet file: an environment may not be named {argocd.PLATFORM_PROJECT!r} "
                        "(the AppProject of the bootstrap app-of-apps)")
    out: dict[str, str] = {}
    cm = argocd.gpg_keys_configmap(fleet)
    if cm is not None:
        out[GPG_FILE] = dump_yaml([cm])
    out[PLATFORM_FILE] = dump_yaml([argocd.platform_project(fleet, _hub_docs({**files, **out}))])
    pr = workflows.template("fleet-pr.yml", fleet.path or ".")
    out[PR_WORKFLOW] = pr
    out.update(workflows.scripts(workflows.FLEET_SCRIPTS))
    out[CODEOWNERS] = _codeowners(fleet)
    ap = fleet.approval
    out[approval.RULESET_FILE] = approval.ruleset_json(approval.ruleset(
        f"tf2kro fleet {fleet.name}", workflows.job_names(pr), int(ap.get("requiredApprovals") or 1),
        ap.get("branch") or _branch(fleet.revision)))
    return out


def fleet_ci_readme(fleet: Fleet, files: dict[str, str]) -> str:
    """The README section on signing, bootstrap order and approval."""
    ns = fleet.argocd_namespace
    if fleet.signature_keys:
        keys = "\n".join(f"| `{k.key_id}` | `{k.fingerprint}` |" for k in fleet.signing_keys)
        legacy = [k for k in fleet.signature_keys if k not in {s.key_id for s in fleet.signing_keys}]
        if legacy:
            keys += "\n" + "\n".join(f"| `{k}` | not in the fleet file: import it yourself (`argocd gpg add`) |" for k in legacy)
        signing = f"""Every AppProject — the environments' and `{argocd.PLATFORM_PROJECT}`, the project of the bootstrap
app-of-apps — lists these `signatureKeys`: ArgoCD syncs only commits signed by one of them. The public keys are in
`{GPG_FILE}` (`argocd-gpg-keys-cm`).

| key id | fingerprint |
|---|---|
{keys}
"""
    else:
        signing = """**Commits are NOT verified**: the fleet file has no `spec.gitSigning.keys`, so no AppProject has
`signatureKeys`. Add the public keys of the people or bots who sign (`tf2kro fleet init --signing-key FILE`, or
`gitSigning.keys: [{publicKey: ...}]`) and re-render.
"""
    gpg_apply = f" -f {GPG_FILE}" if GPG_FILE in files else ""
    return f"""
## Signed commits and bootstrap

{signing}
Bootstrap once, in this order, so the first sync of the root is already verified:

```sh
kubectl apply -n {ns}{gpg_apply} -f {PLATFORM_FILE} -f bootstrap/root-app.yaml
```

From then on the root application syncs `hub/` (these objects included) from signed commits only.

## Review

`{CODEOWNERS}`: owners from `spec.approval` of the fleet file (per-environment owners for `apps/*/envs/<env>/`,
the environment's project and cluster Secrets; the default owners for trust itself: `bootstrap/`, `ci/`, the
keyring, the platform project, `.github/`). `{PR_WORKFLOW}` gates every PR (steps in `ci/*.sh`).

{approval.apply_doc(workflows.job_names(files.get(PR_WORKFLOW) or workflows.template("fleet-pr.yml", fleet.path or ".")))}"""
