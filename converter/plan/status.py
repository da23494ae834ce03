"""`tf2kro plan --status`: which steps of which phase are done, from `kubectl get <kinds> -A -o json` output
(and optionally `terraform state list`), compared with the plan.json the plan wrote.

Per phase: step `read-only` is done when every expected ACK object exists, is annotated
`services.k8s.aws/adopted: "true"` and has `ACK.ResourceSynced=True`; step `adopt` additionally needs none of
them to be read-only any more; step `handoff` (only with a state list) needs none of the phase's handed-over
instances left in Terraform state. `rollback` is material, never "done". With `kubectl get applications -o json`
(plans written with --repo-url), step `argocd` needs the phase's Application Synced and Healthy; its path tells
which step ArgoCD syncs (read-only or adopt), and `adopt` is only done once the Application syncs adopt/.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from converter.model import ToolError
from converter.plan.model import PLAN_FORMAT

ADOPTED = "services.k8s.aws/adopted"
READ_ONLY = "services.k8s.aws/read-only"
SYNCED = "ACK.ResourceSynced"
TERMINAL = "ACK.Terminal"


@dataclass
class ObjectStatus:
    address: str
    kind: str
    name: str
    namespace: str
    found: bool = False
    adopted: bool = False
    synced: bool = False
    read_only: bool = False
    terminal: str | None = None  # message of an ACK.Terminal=True condition


@dataclass
class PhaseStatus:
    phase: str
    dir: str
    objects: list[ObjectStatus] = field(default_factory=list)
    steps: dict[str, str] = field(default_factory=dict)  # done | pending | not-checked | n/a
    terraform_left: list[str] = field(default_factory=list)
    argocd: dict[str, Any] | None = None  # {application, sync, health, path, step} when applications were given

    def counts(self) -> dict[str, int]:
        o = self.objects
        return {"expected": len(o), "found": sum(x.found for x in o), "adopted": sum(x.adopted for x in o),
                "synced": sum(x.synced for x in o), "adopted_and_synced": sum(x.adopted and x.synced for x in o),
                "read_only": sum(x.read_only for x in o), "terminal": sum(1 for x in o if x.terminal)}

    @property
    def done(self) -> bool:
        return all(v in ("done", "n/a", "not-checked") for v in self.steps.values())


def load_plan(out_dir: str | Path, env: str = "main") -> dict[str, Any]:
    """The plan.json of environment `env` (environments/<env>/plan.json; plan.json at the root for older plans)."""
    p = Path(out_dir) / "environments" / env / "plan.json"
    if not p.exists() and (Path(out_dir) / "plan.json").exists():
        p = Path(out_dir) / "plan.json"
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ToolError(f"cannot read the plan (run `tf2kro plan --env {env} --out {out_dir}` first): {exc}", source=str(p)) from None
    if doc.get("format") != PLAN_FORMAT:
        raise ToolError(f"not a tf2kro plan (format must be {PLAN_FORMAT!r})", source=str(p))
    return doc


def _items(doc: Any) -> list[dict[str, Any]]:
    if isinstance(doc, list):
        return [x for d in doc for x in _items(d)]
    if not isinstance(doc, dict):
        return []
    if isinstance(doc.get("items"), list):
        return [x for x in doc["items"] if isinstance(x, dict)]
    return [doc] if doc.get("kind") and doc.get("metadata") else []


def _kubectl_doc(doc: Any) -> bool:
    """A `kubectl get -o json` document: a List (`items` a list) or one object (apiVersion, kind, metadata)."""
    if not isinstance(doc, dict):
        return False
    if isinstance(doc.get("items"), list):
        return True
    return bool(doc.get("apiVersion") and doc.get("kind") and isinstance(doc.get("metadata"), dict))


def load_kubectl(paths: list[str] | tuple[str, ...]) -> dict[tuple[str, str, str, str], dict[str, Any]]:
    """(api group, kind, namespace, name) → object, from `kubectl get ... -o json` files (List or single objects,
    or several JSON documents concatenated)."""
    index: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ToolError(f"cannot read kubectl output: {exc}", source=str(path)) from None
        dec = json.JSONDecoder()
        pos, docs = 0, []
        while pos < len(text):
            while pos < len(text) and text[pos].isspace():
                pos += 1
            if pos >= len(text):
                break
            try:
                doc, pos = dec.raw_decode(text, pos)
            except ValueError as exc:
                raise ToolError(f"not kubectl JSON output (-o json): {exc}", source=str(path)) from None
            docs.append(doc)
        # an empty file or JSON that is not kubectl's is what a failed `kubectl get … > FILE` leaves: reading it as
        # "no objects" would report every object missing (a finding), not the failed check it is
        if not docs:
            raise ToolError("empty kubectl output: did `kubectl get … -o json` fail?", source=str(path))
        for doc in docs:
            if not _kubectl_doc(doc):
                raise ToolError("not kubectl JSON output (-o json): expected a List with `items` or an object with "
                                "apiVersion, kind and metadata", source=str(path))
        for obj in _items(docs):
            group = str(obj.get("apiVersion", "")).split("/")[0] if "/" in str(obj.get("apiVersion", "")) else ""
            md = obj.get("metadata") or {}
            index[(group, str(obj.get("kind")), str(md.get("namespace") or ""), str(md.get("name")))] = obj
    return index


def _condition(obj: dict[str, Any], ctype: str) -> dict[str, Any] | None:
    for c in (obj.get("status") or {}).get("conditions") or []:
        if isinstance(c, dict) and c.get("type") == ctype:
            return c
    return None


def application_status(ph: dict[str, Any], apps: dict[tuple[str, str, str, str], dict[str, Any]]) -> dict[str, Any]:
    """The phase's Application as ArgoCD reports it (sync/health status, the path it syncs)."""
    want = (ph.get("argocd") or {}).get("application")
    found = [o for (g, k, _ns, n), o in apps.items() if g == "argoproj.io" and k == "Application" and n == want]
    if not found:
        return {"application": want, "found": False, "sync": None, "health": None, "path": None, "step": None}
    st, spec = found[0].get("status") or {}, found[0].get("spec") or {}
    path = str((spec.get("source") or {}).get("path") or "")
    return {"application": want, "found": True, "sync": (st.get("sync") or {}).get("status"),
            "health": (st.get("health") or {}).get("status"), "path": path,
            "step": path.rstrip("/").rsplit("/", 1)[-1] if path else None}


def phase_status(plan: dict[str, Any], objects: dict[tuple[str, str, str, str], dict[str, Any]],
                 state_list: set[str] | None = None, phases: tuple[str, ...] | None = None,
                 apps: dict[tuple[str, str, str, str], dict[str, Any]] | None = None) -> list[PhaseStatus]:
    out = []
    for ph in plan["phases"]:
        if phases and ph["phase"] not in phases:
            continue
        ps = PhaseStatus(ph["phase"], ph["dir"])
        for it in ph["items"]:
            if it["status"] != "mapped":
                continue
            group = (it.get("api_version") or "").split("/")[0]
            os_ = ObjectStatus(it["address"], it["kind"], it["name"], it.get("namespace") or plan.get("namespace", ""))
            obj = objects.get((group, it["kind"], os_.namespace, it["name"]))
            if obj is not None:
                ann = (obj.get("metadata") or {}).get("annotations") or {}
                os_.found = True
                os_.adopted = ann.get(ADOPTED) == "true"
                os_.read_only = ann.get(READ_ONLY) == "true"
                c = _condition(obj, SYNCED)
                os_.synced = bool(c and str(c.get("status")) == "True")
                t = _condition(obj, TERMINAL)
                if t and str(t.get("status")) == "True":
                    os_.terminal = str(t.get("message") or t.get("reason") or "terminal")
            ps.objects.append(os_)
        ok = all(o.found and o.adopted and o.synced for o in ps.objects)
        ps.steps["read-only"] = "done" if ok else "pending"
        ps.steps["adopt"] = "done" if ok and not any(o.read_only for o in ps.objects) else "pending"
        if apps is None or not ph.get("argocd"):
            ps.steps["argocd"] = "not-checked"
        else:
            ps.argocd = application_status(ph, apps)
            good = ps.argocd["sync"] == "Synced" and ps.argocd["health"] == "Healthy"
            ps.steps["argocd"] = "done" if good else "pending"
            if ps.argocd["step"] != "adopt":
                ps.steps["adopt"] = "pending"  # ArgoCD still syncs read-only/: it would put the annotation back
        handed = [it["address"] for it in ph["items"] if it["status"] not in ("unsupported", "not-adopted")]
        if state_list is None:
            ps.steps["handoff"] = "not-checked"
        else:
            ps.terraform_left = sorted(a for a in handed if a in state_list)
            ps.steps["handoff"] = "done" if not ps.terraform_left else "pending"
        ps.steps["rollback"] = "n/a"
        out.append(ps)
    return out


def render_status(statuses: list[PhaseStatus]) -> str:
    lines = []
    for ps in statuses:
        c = ps.counts()
        steps = ", ".join(f"{k}: {v}" for k, v in ps.steps.items()
                          if k != "rollback" and not (k == "argocd" and v == "not-checked"))
        lines.append(f"{ps.dir}: {c['adopted_and_synced']}/{c['expected']} adopted+synced "
                     f"({c['found']} found, {c['read_only']} read-only, {c['terminal']} terminal) — {steps}")
        for o in ps.objects:
            if not (o.found and o.adopted and o.synced) or o.terminal:
                why = ("missing" if not o.found else
                       ", ".join(w for w, bad in (("not adopted", not o.adopted), ("not synced", not o.synced)) if bad))
                if o.terminal:
                    why = (why + "; " if why else "") + f"terminal: {o.terminal}"
                lines.append(f"  - {o.kind}/{o.name} ({o.address}): {why}")
        if ps.argocd is not None:
            a = ps.argocd
            lines.append(f"  - argocd {a['application']}: " + (f"{a['sync']}/{a['health']}, syncs {a['step']}/"
                                                               if a["found"] else "Application not found"))
        for a in ps.terraform_left[:50]:
            lines.append(f"  - still in Terraform state: {a}")
    done = sum(ps.done for ps in statuses)
    lines.append(f"{done}/{len(statuses)} phases done")
    return "\n".join(lines) + "\n"


def status_json(statuses: list[PhaseStatus]) -> str:
    return json.dumps([{"phase": s.phase, "dir": s.dir, "counts": s.counts(), "steps": s.steps, "done": s.done,
                        "terraform_left": s.terraform_left, "argocd": s.argocd,
                        "objects": [o.__dict__ for o in s.objects]} for s in statuses], indent=2) + "\n"
