"""The migration plan as data: phases in order, the steps of each phase with their exit checks, and one item per
Terraform instance (what adopts it, how Terraform lets go of it, how to take it back).

Invariant (tested on every corpus state): the Terraform handoff of a phase — `removed {}` config addresses expanded
to their instances, plus the `terraform state rm` addresses — is exactly the set of instances the phase's manifests
adopt (mapped) or fold into an adopted object (folded). Nothing is managed twice, nothing is orphaned.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from converter.load.address import config_address
from converter.model import STAYS_IN_TERRAFORM, Status
from converter.pipeline import Estate
from converter.plan.terraform import import_id

PLAN_FORMAT = "tf2kro.plan/v1"
STEP_IDS = ("read-only", "adopt", "handoff", "rollback")

# controller → minimum version (reference/ack.md §7): releases built on runtime ≥ v0.51.0, where the
# ResourceAdoption and ReadOnlyResources gates are beta and on by default.
MIN_CONTROLLER = {"ec2": "1.5.0", "eks": "1.9.0", "iam": "1.5.0", "kms": "1.1.0", "s3": "1.1.0", "rds": "1.5.0",
                  "ecr": "1.1.0"}
EC2_SG_MIN = "1.18.4"  # canonicalised SecurityGroup rule comparison (ec2-controller PR #359)
# chart versions whose CRDs the mappings were checked against (shared/crds/ack/VERSIONS.md)
TESTED_CONTROLLER = {"ec2": "1.20.0", "eks": "1.20.0", "iam": "1.8.1", "kms": "1.4.1", "s3": "1.10.0", "rds": "1.11.1",
                     "elasticache": "1.8.0", "ecr": "1.8.1", "route53": "1.5.2", "secretsmanager": "1.4.1",
                     "cloudwatchlogs": "1.4.1", "elbv2": "1.6.1", "sqs": "1.6.1", "sns": "1.6.0", "dynamodb": "1.9.2",
                     "acm": "1.3.4", "efs": "1.4.1"}
MIN_RUNTIME = "v0.51.0"
SECRET_STORE = "aws-secrets-manager"


@dataclass
class PlanItem:
    phase: str
    wave: int
    address: str
    type: str
    status: str  # mapped | folded | unsupported
    config_address: str
    kind: str | None = None  # "VPC"
    api_version: str | None = None  # "ec2.services.k8s.aws/v1alpha1"
    name: str | None = None  # metadata.name of the ACK object (of the parent, for folded)
    namespace: str | None = None
    fold_parent: str | None = None
    reason: str | None = None
    adoption_fields: dict[str, str] = field(default_factory=dict)
    import_id: str | None = None
    import_manual: str | None = None  # why no import block could be generated
    handoff: str | None = None  # removed | state-rm | None (stays in Terraform)
    from_state: list[str] = field(default_factory=list)  # top-level spec fields rendered from state
    from_state_values: int = 0  # leaf values rendered from state
    omissions: list[dict[str, str]] = field(default_factory=list)
    steps: dict[str, str] = field(default_factory=dict)
    # shared-ownership decisions on this object's fields (converter.ownership): {field, decision, writers, reason}
    ownership: list[dict[str, str]] = field(default_factory=list)


@dataclass
class HandoffGroup:
    config_address: str
    mode: str  # removed | state-rm
    instances: list[str]
    reason: str = ""  # why state-rm instead of a removed block
    declared_at: str | None = None  # file:line of the resource block (with --hcl)


@dataclass
class SecretNeed:
    address: str
    kind: str
    object_name: str
    field: str  # ACK field, e.g. spec.masterUserPassword
    secret_name: str  # Secrets Manager secret to create: <env>/<address-derived>
    property: str  # JSON key inside it
    k8s_secret: str  # Secret the ExternalSecret writes (namespace = plan namespace)
    reason: str


@dataclass
class PhaseFinding:
    severity: str  # blocking | review
    kind: str
    message: str
    addresses: list[str] = field(default_factory=list)


@dataclass
class PhasePlan:
    phase: str
    number: int
    owners: str
    items: list[PlanItem]
    handoff: list[HandoffGroup]
    controllers: list[dict[str, str]]
    prerequisites: list[dict[str, str]]
    steps: list[dict[str, Any]]
    secrets: list[SecretNeed]
    findings: list[PhaseFinding]
    adoption: dict[str, Any] | None  # None = not checked; else {"count": n, "findings": [...], "source": ...}
    literal_refs: list[str] = field(default_factory=list)
    # (kind, name) of the kro instance(s) of the phase: one, or one per part when the phase was split by size
    instances: list[tuple[str, str]] = field(default_factory=list)
    # gate on the previous environment (converter.plan.environments), None for the first (pilot) environment
    gate: dict[str, Any] | None = None
    # the ArgoCD Application syncing this phase: {application, project, file, path, step}; None without --repo-url
    argocd: dict[str, Any] | None = None

    @property
    def dirname(self) -> str:
        return f"{self.number:02d}-{self.phase}"

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Status}
        for it in self.items:
            out[it.status] += 1
        return out

    @property
    def removed_addresses(self) -> list[str]:
        return [g.config_address for g in self.handoff if g.mode == "removed"]

    @property
    def state_rm_addresses(self) -> list[str]:
        return [a for g in self.handoff if g.mode == "state-rm" for a in g.instances]

    @property
    def handed_over(self) -> list[PlanItem]:
        return [it for it in self.items if it.status not in {s.value for s in STAYS_IN_TERRAFORM}]

    @property
    def mapped(self) -> list[PlanItem]:
        return [it for it in self.items if it.status == Status.MAPPED.value]


@dataclass
class Plan:
    env: str
    namespace: str
    state: dict[str, Any]
    region: str | None
    account_id: str | None
    phases: list[PhasePlan]
    findings: list[dict[str, Any]]
    counts: dict[str, int]
    diff_available: bool
    root: str = "root"  # Terraform root (stack) name, part of every emitted name (converter.emit.naming)
    # rollout order of the environments planned together (converter.plan.environments)
    order: int = 0
    environments: list[str] = field(default_factory=list)
    predecessor: str | None = None
    prod: bool = False
    prod_owners: str | None = None  # the owners of every CODEOWNERS rule of a prod environment (alone)
    sync_window: dict[str, Any] | None = None  # the ArgoCD sync window of a prod environment
    repo_path: str = ""  # where the plan tree lives in the repository (--repo-path): CODEOWNERS and CI paths

    def phase(self, name: str) -> PhasePlan:
        for p in self.phases:
            if p.phase == name:
                return p
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        def phase_dict(p: PhasePlan) -> dict[str, Any]:
            return {
                "phase": p.phase, "number": p.number, "dir": p.dirname, "owners": p.owners, "counts": p.counts(),
                "adoption_would_change": None if p.adoption is None else p.adoption["count"],
                "controllers": p.controllers, "prerequisites": p.prerequisites, "steps": p.steps,
                "handoff": {
                    "removed": p.removed_addresses,
                    "state_rm": p.state_rm_addresses,
                    "groups": [asdict(g) for g in p.handoff],
                },
                "secrets": [asdict(s) for s in p.secrets],
                "findings": [asdict(f) for f in p.findings],
                "items": [asdict(it) for it in p.items],
                "instances": [{"kind": k, "name": n} for k, n in p.instances],
                "gate": p.gate, "argocd": p.argocd,
            }

        return {
            "format": PLAN_FORMAT, "env": self.env, "root": self.root, "namespace": self.namespace, "state": self.state,
            "region": self.region, "account_id": self.account_id, "counts": self.counts,
            "findings": self.findings, "order": self.order, "environments": self.environments or [self.env],
            "predecessor": self.predecessor, "prod": self.prod, "prod_owners": self.prod_owners,
            "sync_window": self.sync_window, "repo_path": self.repo_path, "phases": [phase_dict(p) for p in self.phases],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------------------- helpers
def kind_short(kind_ref: str | None) -> str | None:
    return kind_ref.rsplit("/", 1)[-1] if kind_ref else None


def plural(kind: str) -> str:
    """CRD plural of an ACK kind (lowercase; VPC → vpcs, Policy → policies, ElasticIPAddress → elasticipaddresses)."""
    k = kind.lower()
    if k.endswith("s"):
        return k + "es"
    if k.endswith("y") and k[-2:-1] not in "aeiou":
        return k[:-1] + "ies"
    return k + "s"


def _leaves(node: Any) -> int:
    if isinstance(node, dict):
        return sum(_leaves(v) for v in node.values())
    if isinstance(node, list):
        return sum(_leaves(v) for v in node) if node else 1
    return 1


def _slug(s: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", s.lower()).strip("-")


def _dns_name(*parts: str) -> str:
    name = "-".join(p for p in (_slug(x) for x in parts) if p)
    return name[:63].rstrip("-")


def _secret_k8s_name(object_name: str, leaf: str) -> str:
    """`<object>-<field>`: cut before the suffix with a digest when over 63 (converter.emit.naming.with_suffix), so
    two long object names never share a Secret (a plain cut at 63 could)."""
    from converter.emit.naming import with_suffix

    return with_suffix(object_name, "-" + (_slug(leaf) or "value"))


def default_owner(phase: str) -> str:
    return f"@platform-{phase}"


def _decl(hcl: Any, hcl_dir: str | None) -> dict[str, str] | None:
    if hcl is None:
        return None
    out = {}
    for r in hcl.resources():
        if r.mode != "managed":
            continue
        f = r.file
        if hcl_dir:
            with contextlib.suppress(ValueError):
                f = os.path.relpath(r.file, hcl_dir)
        out[r.address] = f"{f}:{r.line}"
    return out


def _handoff_groups(estate: Estate, hcl_dir: str | None) -> dict[str, list[HandoffGroup]]:
    """Per phase: how Terraform lets go of each handed-over instance (removed block by config address, or
    `terraform state rm` of the exact instance when a removed block would also drop something else)."""
    conv = estate.result.conversions
    phases = estate.graph.phases
    decl = _decl(estate.hcl, hcl_dir)
    by_cfg: dict[str, list[str]] = defaultdict(list)
    for inst in estate.state.managed:
        by_cfg[config_address(inst.address)].append(inst.address)
    out: dict[str, list[HandoffGroup]] = defaultdict(list)
    for cfg in sorted(by_cfg):
        addrs = sorted(set(by_cfg[cfg]))
        handed = [a for a in addrs if conv[a].status not in STAYS_IN_TERRAFORM]
        if not handed:
            continue
        ph = {phases.get(a, conv[a].phase) for a in handed}
        reason = ""
        if len(handed) < len(addrs):
            stay = len(addrs) - len(handed)
            reason = (f"{stay} of {len(addrs)} instances of {cfg} stay in Terraform (unsupported): a removed block "
                      "would drop them too")
        elif len(ph) > 1:
            reason = f"the instances of {cfg} are adopted in different phases ({', '.join(sorted(ph))})"
        elif any("(deposed" in a for a in addrs):
            reason = "a deposed object exists for this resource"
        elif decl is not None and cfg not in decl:
            reason = ("declared in a module that is not in the --hcl directory (a registry/remote module): a removed "
                      "block fails with 'Removed resource still exists' while the module is still called")
        if reason:
            for a in handed:
                out[phases.get(a, conv[a].phase)].append(
                    HandoffGroup(cfg, "state-rm", [a], reason, decl.get(cfg) if decl else None))
        else:
            out[ph.pop()].append(HandoffGroup(cfg, "removed", handed, "", decl.get(cfg) if decl else None))
    return out


def _secret_needs(estate: Estate, env: str, phase_of: dict[str, str]) -> dict[str, list[SecretNeed]]:
    from converter.emit.naming import Naming

    naming = Naming(env, estate.root)
    out: dict[str, list[SecretNeed]] = defaultdict(list)
    for addr in sorted(estate.result.objects):
        mo = estate.result.objects[addr]
        c = mo.conversion
        oname = naming.object_name(c.object_name or _slug(addr))
        kind = mo.mapping.kind
        seen: set[str] = set()
        for om in c.omissions:
            if "sensitive" not in om.reason.lower():
                continue
            leaf = re.sub(r"\[\]", "", om.field).split(".")[-1] or "value"
            fld = om.field if om.field.startswith("spec.") else f"spec.{om.field}"
            if fld in seen:
                continue
            seen.add(fld)
            out[phase_of[addr]].append(SecretNeed(
                addr, kind, oname, fld, f"{env}/{oname}", leaf, _secret_k8s_name(oname, leaf), om.reason))
        if kind in ("DBInstance", "DBCluster") and "spec.masterUserPassword" not in seen:
            a = mo.inst.attributes
            managed_by_rds = bool(a.get("manage_master_user_password"))
            has_pw = any(a.get(k) for k in ("password", "master_password", "password_wo", "master_password_wo")) or any(
                sp.steps and sp.steps[0] in ("password", "master_password") for sp in mo.inst.sensitive_paths)
            if has_pw and not managed_by_rds:
                out[phase_of[addr]].append(SecretNeed(
                    addr, kind, oname, "spec.masterUserPassword", f"{env}/{oname}", "password",
                    _secret_k8s_name(oname, "master-password"),
                    "RDS master password: never rendered from state; masterUserPassword is a secretKeyRef "
                    "{name, namespace, key}"))
    return out


def _controllers(items: list[PlanItem]) -> list[dict[str, str]]:
    kinds: dict[str, set[str]] = defaultdict(set)
    for it in items:
        if it.status == Status.MAPPED.value and it.api_version:
            svc = it.api_version.split("/")[0].split(".")[0]
            kinds[svc].add(it.kind or "")
    out = []
    for svc in sorted(kinds):
        minimum = MIN_CONTROLLER.get(svc, f"a release built on ACK runtime ≥ {MIN_RUNTIME}")
        note = ""
        if svc == "ec2" and "SecurityGroup" in kinds[svc]:
            minimum = EC2_SG_MIN
            note = "SecurityGroup rule comparison is canonicalised only from 1.18.4 (older: rule revoke/re-authorise churn)"
        out.append({"controller": f"{svc}-controller", "api_group": f"{svc}.services.k8s.aws",
                    "kinds": ", ".join(sorted(kinds[svc])), "minimum": minimum,
                    "tested": TESTED_CONTROLLER.get(svc, ""), "note": note})
    return out


def _prerequisites(pp_items: list[PlanItem], controllers: list[dict[str, str]], secrets: list[SecretNeed],
                   n_retain: int, n_mapped: int, tf_version: str) -> list[dict[str, str]]:
    pre = [
        {"check": f"ACK runtime ≥ {MIN_RUNTIME} in every controller below (ResourceAdoption + ReadOnlyResources "
                  "feature gates beta/on by default)",
         "why": "with the gate off, adoption annotations are silently ignored and ID-keyed kinds are CREATED as duplicates",
         "verify": "helm -n ack-system list; or set Helm featureGates.ResourceAdoption=true and "
                   "featureGates.ReadOnlyResources=true explicitly"},
    ]
    for c in controllers:
        pre.append({"check": f"{c['controller']} ≥ {c['minimum']}" + (f" (CRDs checked against {c['tested']})" if c["tested"] else ""),
                    "why": c["note"] or f"reconciles {c['kinds']}",
                    "verify": f"kubectl get crd -o name | grep {c['api_group']}"})
    pre += [
        {"check": "Helm `resourceTags: []` on every controller",
         "why": "default controller tags are an AWS write right after adoption (not a strict no-op)",
         "verify": "helm -n ack-system get values <release> | grep -A1 resourceTags"},
        {"check": "Helm `deletionPolicy: retain` on every controller",
         "why": f"belt and braces: {n_retain}/{n_mapped} rendered objects already carry "
                "services.k8s.aws/deletion-policy: retain; kro deletes children when an instance is deleted",
         "verify": "helm -n ack-system get values <release> | grep deletionPolicy"},
        {"check": "kro installed (ResourceGraphDefinition kro.run/v1alpha1)",
         "why": "the phase is one RGD + one instance", "verify": "kubectl get crd resourcegraphdefinitions.kro.run"},
        {"check": "Terraform ≥ 1.7 for `removed {}` (≥ 1.5 for rollback `import {}`)",
         "why": f"state was written by Terraform {tf_version or 'unknown'}", "verify": "terraform version"},
        {"check": "`terraform apply` frozen for these resources until the handoff is merged",
         "why": "two owners would fight (ACK re-applies its spec every 10 h)", "verify": "CI/Atlantis lock"},
    ]
    if secrets:
        pre.append({"check": "External Secrets Operator (external-secrets.io/v1) + the ClusterSecretStore in 00-prerequisites",
                    "why": f"{len(secrets)} secret(s) are provided from AWS Secrets Manager, never from state",
                    "verify": "kubectl get clustersecretstore " + SECRET_STORE})
    return pre


def _steps(pp: PhasePlan, env: str, namespace: str, root: str = "root") -> list[dict[str, Any]]:
    base = f"environments/{env}/{pp.dirname}"
    n = len(pp.mapped)
    kinds = ",".join(sorted({f"{plural(it.kind or '')}.{(it.api_version or '').split('/')[0]}" for it in pp.mapped}))
    tfdir = f"terraform/{env}/{pp.dirname}"
    return [
        {"id": "read-only", "title": "Adopt read-only",
         "do": f"sync {base}/read-only (every object: adoption-policy adopt, read-only \"true\", deletion-policy retain)",
         "exit_check": f"all {n} objects ACK.ResourceSynced=True and annotated services.k8s.aws/adopted: \"true\"; "
                       "no 'desired resource state has changed' line in the controller logs",
         "commands": [f"kubectl get {kinds} -n {namespace} -o json > {pp.dirname}.json" if kinds else "",
                      f"tf2kro plan --status --out <plan dir> --env {env} --phase {pp.phase} --kubectl-json {pp.dirname}.json",
                      "kubectl -n ack-system logs deploy/<controller> --since=1h | grep -c 'desired resource state has changed'  # must be 0"]},
        {"id": "adopt", "title": "Take read-only off",
         "do": f"point the phase at {base}/adopt (same objects, no read-only annotation)",
         "exit_check": f"all {n} objects still adopted + synced, none read-only; no 'desired resource state has changed' "
                       "log lines and no CloudTrail write events from the controller role",
         "commands": [f"tf2kro plan --status --out <plan dir> --env {env} --phase {pp.phase} --kubectl-json {pp.dirname}.json"]},
        {"id": "handoff", "title": "Hand over from Terraform",
         "do": f"copy {tfdir}/removed.tf into the Terraform root and delete the resource blocks it names; run "
               f"{tfdir}/state-rm.sh; terraform plan must show only 'will no longer be managed' (0 to add/change/destroy); "
               "terraform apply",
         "exit_check": "terraform plan -detailed-exitcode returns 0 (no changes) after the apply",
         "commands": ["terraform plan   # only forget actions", "terraform apply",
                      "terraform plan -detailed-exitcode   # exit 0"]},
        {"id": "rollback", "title": "Rollback material (not run unless needed)",
         "do": f"{tfdir}/rollback-imports.tf re-imports every handed-over instance; undo ACK ownership without deleting "
               "anything (deletion-policy retain: deleting the kro instance/CRs only removes ACK finalizers)",
         "exit_check": "after rollback: terraform plan -detailed-exitcode returns 0 and no ACK CRs of the phase remain",
         "commands": [f"kubectl get {kinds} -n {namespace} -o jsonpath='{{range .items[*]}}"
                      "{.metadata.annotations.services\\.k8s\\.aws/deletion-policy}{\"\\n\"}{end}' | sort | uniq -c  # all retain",
                      f"kubectl delete {_instance_ref(pp, env, namespace, root)}",
                      "git revert the HCL removal; copy rollback-imports.tf into the root; terraform plan (imports only); "
                      "terraform apply"]},
    ]


def _instance_ref(pp: PhasePlan, env: str, namespace: str, root: str = "root") -> str:
    """`kind/name [kind/name…] -n ns` of the phase's kro instance(s), named by converter.emit.naming like convert."""
    from converter.emit.naming import Naming

    insts = pp.instances or [(Naming(env, root).kind(pp.phase), Naming(env, root).instance_name(pp.phase))]
    return " ".join(f"{k.lower()}/{n}" for k, n in insts) + f" -n {namespace}"


def _adoption_by_phase(estate: Estate, live_path: str | None) -> tuple[bool, dict[str, dict[str, Any]] | None]:
    """adoption-would-change from `converter.diff` (when importable and --live given)."""
    try:
        from converter.diff.compare import ADOPTION
        from converter.diff.live import LiveRead
        from converter.diff.run import run_diff
    except ImportError:
        return False, None
    if not live_path:
        return True, None
    report = run_diff(estate, live=LiveRead.load(live_path), source=str(live_path))

    def empty() -> dict[str, Any]:
        return {"count": 0, "findings": [], "source": str(live_path), "unknown": [], "deleted": []}

    out: dict[str, dict[str, Any]] = {p: empty() for p in estate.graph.phase_order}
    for r in report.resources:
        if r.address not in estate.result.conversions:
            continue
        ph = estate.graph.phases.get(r.address, r.phase)
        # a resource the capture could not read, or that AWS no longer has, cannot be adopted safely either
        if r.status == "unknown":
            out.setdefault(ph, empty())["unknown"].append(r.address)
        if any(f.cls == "deleted" and not f.ignored for f in r.findings):
            out.setdefault(ph, empty())["deleted"].append(r.address)
        for f in r.findings:
            if f.cls == ADOPTION and not f.ignored:
                out.setdefault(ph, empty())
                out[ph]["count"] += 1
                out[ph]["findings"].append({"address": f.address, "path": f.path, "expected": f.expected,
                                            "live": f.live, "detail": f.detail})
    return True, out


# ---------------------------------------------------------------------------------------------- build
def build_plan(estate: Estate, *, env: str = "main", namespace: str | None = None,
               owners: dict[str, str] | None = None, live_path: str | None = None,
               hcl_dir: str | None = None, literal_refs: dict[str, list[str]] | None = None,
               instances: dict[str, list[tuple[str, str]]] | None = None) -> Plan:
    from converter.emit.naming import Naming

    naming = Naming(env, estate.root)
    namespace = namespace or naming.namespace()
    res, eg = estate.result, estate.graph
    owners = owners or {}
    phase_of = {a: eg.phases.get(a, c.phase) for a, c in res.conversions.items()}
    groups = _handoff_groups(estate, hcl_dir)
    handoff_mode = {a: g.mode for gs in groups.values() for g in gs for a in g.instances}
    secrets = _secret_needs(estate, env, phase_of)
    diff_available, adoption = _adoption_by_phase(estate, live_path)

    attrs_of = {i.address: i.attributes for i in estate.state.managed}
    items_by_phase: dict[str, list[PlanItem]] = defaultdict(list)
    for addr in sorted(res.conversions):
        c = res.conversions[addr]
        ph = phase_of[addr]
        inst_type = c.type
        it = PlanItem(phase=ph, wave=eg.waves.get(addr, c.wave), address=addr, type=inst_type, status=c.status.value,
                      config_address=config_address(addr), reason=c.reason)
        tm = estate.mappings.get(inst_type)
        if getattr(estate, "ownership", None) is not None:
            it.ownership = [{"field": d.field, "decision": d.decision, "reason": d.reason,
                             "writers": ", ".join(w.address or w.name for w in d.writers)}
                            for d in estate.ownership.for_address(addr)]
        if c.status is Status.MAPPED:
            mo = res.objects[addr]
            it.kind, it.api_version = mo.mapping.kind, mo.mapping.api_version
            it.name = naming.object_name(c.object_name or "resource")
            it.namespace = namespace
            it.adoption_fields = dict(c.adoption_fields)
            spec = (c.body or {}).get("spec") or {}
            it.from_state = sorted(spec)
            it.from_state_values = _leaves(spec) if spec else 0
            it.omissions = [{"field": o.field, "reason": o.reason} for o in c.omissions]
        elif c.status is Status.FOLDED:
            parent = res.conversions.get(c.fold_parent or "")
            it.fold_parent = c.fold_parent
            if parent is not None:
                it.kind, it.namespace = kind_short(parent.kind), namespace
                it.name = naming.object_name(parent.object_name or "resource")
                pm = res.objects.get(c.fold_parent or "")
                it.api_version = pm.mapping.api_version if pm else None
        if c.status not in STAYS_IN_TERRAFORM:
            iid = import_id(tm.import_id if tm else None, attrs_of.get(addr, {}))
            it.import_id, it.import_manual = iid.value, iid.manual
            it.handoff = handoff_mode.get(addr)
            it.steps = {"read-only": "pending", "adopt": "pending", "handoff": "pending",
                        "rollback": "ready" if iid.value is not None else "manual"}
        else:
            it.steps = {s: "n/a" for s in STEP_IDS}
        items_by_phase[ph].append(it)

    # global findings → the phases they touch
    gfind = [{"kind": f.kind, "message": f.message, "addresses": list(f.addresses)} for f in eg.findings]
    phases: list[PhasePlan] = []
    n = 0
    for ph in eg.phase_order:
        items = sorted(items_by_phase.get(ph, []), key=lambda i: (i.wave, i.status != "mapped", i.address))
        if not items:
            continue
        n += 1
        members = {i.address for i in items}
        findings: list[PhaseFinding] = []
        for f in eg.findings:
            if not members.intersection(f.addresses):
                continue
            findings.append(PhaseFinding("review", f.kind, f.message, list(f.addresses)))
        for g in groups.get(ph, []):
            if g.mode == "state-rm":
                findings.append(PhaseFinding("review", "state-rm", f"{g.instances[0]}: {g.reason}", g.instances))
        manual: dict[tuple[str, str], list[str]] = defaultdict(list)
        for it in items:
            if it.import_manual:
                manual[(it.type, it.import_manual)].append(it.address)
        for (tf_type, why), addrs in sorted(manual.items()):
            findings.append(PhaseFinding("review", "manual-import", f"{len(addrs)} {tf_type} instance(s) "
                                         f"({', '.join(addrs[:3])}{', …' if len(addrs) > 3 else ''}): rollback import "
                                         f"ID is manual — {why}", addrs))
        adopt = adoption.get(ph, {"count": 0, "findings": [], "source": live_path}) if adoption is not None else None
        if adopt and adopt.get("deleted"):
            findings.insert(0, PhaseFinding("blocking", "deleted",
                                            f"{len(adopt['deleted'])} resource(s) of the state are gone from AWS in the "
                                            "capture: ACK would recreate them instead of adopting", sorted(adopt["deleted"])))
        if adopt and adopt.get("unknown"):
            findings.insert(0, PhaseFinding("blocking", "not-checked",
                                            f"{len(adopt['unknown'])} resource(s) could not be read in the capture "
                                            "(unknown): adoption safety was not checked", sorted(adopt["unknown"])))
        if adopt and adopt["count"]:
            findings.insert(0, PhaseFinding("blocking", "adoption-would-change",
                                            f"{adopt['count']} field(s) differ between the rendered spec and live AWS: "
                                            "ACK would write them after read-only is taken off", sorted({f["address"] for f in adopt["findings"]})))
        pp = PhasePlan(phase=ph, number=n, owners=owners.get(ph) or default_owner(ph), items=items,
                       handoff=sorted(groups.get(ph, []), key=lambda g: (g.mode, g.config_address, g.instances)),
                       controllers=[], prerequisites=[], steps=[], secrets=secrets.get(ph, []),
                       findings=findings, adoption=adopt,
                       literal_refs=list((literal_refs or {}).get(ph, [])),
                       instances=list((instances or {}).get(ph, [])))
        pp.controllers = _controllers(items)
        mapped = [res.objects[i.address] for i in items if i.status == "mapped"]
        n_retain = sum(1 for mo in mapped
                       if (mo.conversion.body or {}).get("metadata", {}).get("annotations", {}).get(
                           "services.k8s.aws/deletion-policy") == "retain")
        pp.prerequisites = _prerequisites(items, pp.controllers, pp.secrets, n_retain, len(mapped),
                                          estate.state.terraform_version)
        pp.steps = _steps(pp, env, namespace, estate.root)
        for s in pp.steps:
            s["commands"] = [c for c in s["commands"] if c]
            s["status"] = "pending"
        phases.append(pp)

    st = estate.state
    return Plan(env=env, namespace=namespace,
                state={"path": os.path.basename(st.path), "source": repo_source(st.path), "hcl": repo_source(hcl_dir),
                       "serial": st.serial, "lineage": st.lineage, "terraform_version": st.terraform_version},
                region=res.region, account_id=res.account_id, phases=phases, findings=gfind,
                counts=res.counts(), diff_available=diff_available, root=estate.root)


def repo_source(given: str | None) -> str:
    """The state/--hcl as the user gave it, for CI (ci/drift-targets.json): an s3:// URL verbatim (query
    included), a local path normalised (`./a/../b` → `b`). An absolute path is kept as given: CI cannot read it,
    converter.ci.targets leaves that plan out with the reason. `path` keeps the basename (the PR bodies' label)."""
    if not given or given == "-":
        return ""
    given = str(given)
    if given.startswith("s3://"):
        return given
    return os.path.normpath(given) if not os.path.isabs(given) else given
