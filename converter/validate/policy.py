"""Offline Gatekeeper: evaluate ConstraintTemplates (Rego v0) + Constraints against manifests with regorus.

Emulates what Gatekeeper does at admission: the Constraint's `spec.match` is applied in Python (kinds,
namespaces / excludedNamespaces with prefix globs, labelSelector, namespaceSelector, scope, name), the Rego
gets Gatekeeper's input (`input.review.{object, kind{group,version,kind}, name, namespace, operation,
namespaceObject}`, `input.parameters`) and `data.inventory` (the other objects, as if synced by a Gatekeeper
Config), and every `violation[{"msg"}]` is reported like Gatekeeper does: `[constraint-name] message`.

kro RGD templates contain `${...}` CEL that is only resolved at runtime: their objects are evaluated too, but a
policy is skipped for an object when a path it declares it reads (template annotation `tf2kro.dev/reads`) holds an
unresolved expression. Concrete objects (the `review/ack-objects.yaml` files `tf2kro convert` writes, plain
manifests) are evaluated in full.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from converter.model import ToolError

TEMPLATE_API = "templates.gatekeeper.sh/v1"
CONSTRAINT_GROUP = "constraints.gatekeeper.sh"
TARGET = "admission.k8s.gatekeeper.sh"
READS = "tf2kro.dev/reads"
DEFAULT_POLICY_DIR = Path(__file__).resolve().parents[1] / "fleet" / "policies"
CASES_FILE = "cases.yaml"


@dataclass
class Policy:
    template: dict[str, Any]
    constraints: list[dict[str, Any]] = field(default_factory=list)

    @property
    def name(self) -> str:
        return self.template["metadata"]["name"]

    @property
    def kind(self) -> str:
        return self.template["spec"]["crd"]["spec"]["names"]["kind"]

    @property
    def rego(self) -> str:
        for t in self.template["spec"].get("targets") or []:
            if t.get("target") == TARGET and t.get("rego"):
                return t["rego"]
        raise ToolError(f"ConstraintTemplate {self.name}: no Rego for target {TARGET}")

    @property
    def package(self) -> str:
        m = re.search(r"^\s*package\s+([\w.]+)", self.rego, re.M)
        if not m:
            raise ToolError(f"ConstraintTemplate {self.name}: no package line")
        return m.group(1)

    @property
    def reads(self) -> list[str]:
        ann = (self.template.get("metadata") or {}).get("annotations") or {}
        return [p.strip() for p in str(ann.get(READS, "")).split(",") if p.strip()]


@dataclass
class Violation:
    constraint: str
    kind: str
    name: str
    namespace: str
    message: str
    enforcement: str = "deny"
    source: str = ""

    def __str__(self) -> str:
        return f"[{self.constraint}] {self.message}"


@dataclass
class PolicyReport:
    violations: list[Violation] = field(default_factory=list)
    checks: int = 0  # (object, constraint) pairs evaluated
    objects: int = 0
    skipped: list[str] = field(default_factory=list)  # "constraint: object (unresolved path)"

    @property
    def denied(self) -> list[Violation]:
        return [v for v in self.violations if v.enforcement == "deny"]


# --------------------------------------------------------------------------------------------- loading


def template_problems(t: dict[str, Any]) -> list[str]:
    """Gatekeeper's own admission checks on a ConstraintTemplate that a schema check does not catch."""
    out = []
    name = (t.get("metadata") or {}).get("name", "")
    kind = (((t.get("spec") or {}).get("crd") or {}).get("spec") or {}).get("names", {}).get("kind", "")
    if name != kind.lower():
        out.append(f"ConstraintTemplate {name}: metadata.name must equal the lowercase of the CRD kind ({kind.lower()})")
    schema = ((((t.get("spec") or {}).get("crd") or {}).get("spec") or {}).get("validation") or {}).get("openAPIV3Schema")
    if schema is not None and not _structural(schema):
        out.append(f"ConstraintTemplate {name}: parameters schema is not structural (a `type` is needed at every level)")
    if not re.search(r"violation\s*\[\s*\{\s*\"msg\"", json.dumps(t.get("spec", {}).get("targets", [])).replace('\\"', '"')):
        out.append(f"ConstraintTemplate {name}: Rego has no violation[{{\"msg\": msg}}] rule")
    return out


def _structural(node: Any) -> bool:
    if not isinstance(node, dict):
        return False
    if "type" not in node and not node.get("x-kubernetes-preserve-unknown-fields"):
        return False
    for sub in (node.get("properties") or {}).values():
        if not _structural(sub):
            return False
    if isinstance(node.get("items"), dict) and not _structural(node["items"]):
        return False
    ap = node.get("additionalProperties")
    return not (isinstance(ap, dict) and not _structural(ap))


def _yaml_docs(path: Path) -> list[Any]:
    try:
        return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    except yaml.YAMLError as exc:
        raise ToolError(f"not valid YAML: {exc}", source=str(path)) from None


def load_policies(paths: Iterable[str | Path] | None = None) -> list[Policy]:
    """ConstraintTemplates and their Constraints from files/directories (recursive). Default: the bundled set.

    Constraints are paired with templates by kind; a template without a Constraint is loaded but checks nothing.
    """
    files: list[Path] = []
    for p in [Path(x) for x in (paths or [DEFAULT_POLICY_DIR])]:
        if p.is_dir():
            files.extend(sorted(f for f in p.rglob("*") if f.suffix in (".yaml", ".yml") and f.name != CASES_FILE))
        elif p.exists():
            files.append(p)
        else:
            raise ToolError("policy path does not exist", source=str(p))
    templates: dict[str, Policy] = {}
    constraints: list[dict[str, Any]] = []
    for f in files:
        for doc in _yaml_docs(f):
            if not isinstance(doc, dict):
                continue
            if doc.get("kind") == "ConstraintTemplate" and str(doc.get("apiVersion", "")).startswith("templates.gatekeeper.sh/"):
                pol = Policy(template=doc)
                templates[pol.kind] = pol
            elif str(doc.get("apiVersion", "")).startswith(CONSTRAINT_GROUP + "/"):
                constraints.append(doc)
    for c in constraints:
        pol = templates.get(c.get("kind"))
        if pol is None:
            raise ToolError(f"Constraint {c.get('metadata', {}).get('name')}: no ConstraintTemplate defines kind {c.get('kind')}")
        pol.constraints.append(c)
    return sorted(templates.values(), key=lambda p: p.name)


def load_cases(path: str | Path | None = None) -> dict[str, list[dict[str, Any]]]:
    p = Path(path) if path else DEFAULT_POLICY_DIR / CASES_FILE
    doc = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
    return doc


# --------------------------------------------------------------------------------------------- matching


def _glob(pattern: str, value: str) -> bool:
    if pattern.endswith("*"):
        return value.startswith(pattern[:-1])
    return pattern == value


def selector_matches(sel: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    if not sel:
        return True
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        key, op, vals = e.get("key"), e.get("operator"), e.get("values") or []
        if op == "In" and labels.get(key) not in vals:
            return False
        if op == "NotIn" and key in labels and labels[key] in vals:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _group_version(api_version: str) -> tuple[str, str]:
    if "/" in api_version:
        g, v = api_version.rsplit("/", 1)
        return g, v
    return "", api_version


def constraint_matches(constraint: dict[str, Any], obj: dict[str, Any], namespace: str,
                       namespace_labels: dict[str, dict[str, str]] | None = None) -> bool:
    """Gatekeeper's `spec.match` semantics for one object (namespace "" = cluster-scoped)."""
    match = (constraint.get("spec") or {}).get("match") or {}
    group, _version = _group_version(str(obj.get("apiVersion", "")))
    kind = obj.get("kind", "")
    md = obj.get("metadata") or {}
    kinds = match.get("kinds")
    if kinds:
        ok = False
        for k in kinds:
            groups = k.get("apiGroups") or ["*"]
            ks = k.get("kinds") or ["*"]
            if ("*" in groups or group in groups) and ("*" in ks or kind in ks):
                ok = True
                break
        if not ok:
            return False
    scope = match.get("scope", "*")
    if scope == "Cluster" and namespace:
        return False
    if scope == "Namespaced" and not namespace:
        return False
    is_ns = kind == "Namespace" and group == ""
    ns_of = md.get("name", "") if is_ns else namespace
    if match.get("namespaces") and ns_of and not any(_glob(p, ns_of) for p in match["namespaces"]):
        return False
    if match.get("excludedNamespaces") and ns_of and any(_glob(p, ns_of) for p in match["excludedNamespaces"]):
        return False
    if match.get("name") and not _glob(match["name"], md.get("name", "")):
        return False
    if not selector_matches(match.get("labelSelector"), md.get("labels") or {}):
        return False
    if match.get("namespaceSelector") and ns_of:
        labels = (md.get("labels") or {}) if is_ns else (namespace_labels or {}).get(ns_of, {})
        if not selector_matches(match["namespaceSelector"], labels):
            return False
    return True


# --------------------------------------------------------------------------------------------- evaluation


def _has_unresolved(node: Any) -> bool:
    if isinstance(node, str):
        return "${" in node
    if isinstance(node, dict):
        return any(_has_unresolved(v) for v in node.values())
    if isinstance(node, list):
        return any(_has_unresolved(v) for v in node)
    return False


_PATH_STEP = re.compile(r'([^.\[\]]+)|\["([^"]*)"\]')


def _get(obj: Any, path: str) -> Any:
    """`metadata.annotations["services.k8s.aws/region"]`: dotted steps, and bracketed keys for names that hold dots
    (annotation keys), so a policy can declare exactly the keys it reads."""
    cur = obj
    for m in _PATH_STEP.finditer(path):
        part = m.group(1) if m.group(1) is not None else m.group(2)
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def unresolved_reads(policy: Policy, obj: dict[str, Any]) -> list[str]:
    return [p for p in policy.reads if _has_unresolved(_get(obj, p))]


def build_inventory(objects: Iterable[tuple[dict[str, Any], str]]) -> dict[str, Any]:
    inv: dict[str, Any] = {"cluster": {}, "namespace": {}}
    for obj, ns in objects:
        md = obj.get("metadata") or {}
        if _has_unresolved(md.get("name", "")):
            continue
        av, kind, name = obj.get("apiVersion", ""), obj.get("kind", ""), md.get("name", "")
        if ns:
            inv["namespace"].setdefault(ns, {}).setdefault(av, {}).setdefault(kind, {})[name] = obj
        else:
            inv["cluster"].setdefault(av, {}).setdefault(kind, {})[name] = obj
    return inv


class Evaluator:
    """One regorus engine per ConstraintTemplate, reused across objects."""

    def __init__(self, policies: list[Policy], inventory: dict[str, Any] | None = None):
        try:
            import regorus
        except ImportError as exc:  # pragma: no cover - dependency declared in pyproject
            raise ToolError("policy checks need the `gordon-to-regorus` package (import regorus)") from exc
        self.policies = policies
        self.engines: dict[str, Any] = {}
        for pol in policies:
            e = regorus.Engine()
            e.set_rego_v0(True)
            try:
                e.add_policy(f"{pol.name}.rego", pol.rego)
            except Exception as exc:  # regorus raises RuntimeError with the parse error
                raise ToolError(f"ConstraintTemplate {pol.name}: Rego does not compile: {exc}") from None
            e.add_data_json(json.dumps({"inventory": inventory or {"cluster": {}, "namespace": {}}}))
            self.engines[pol.name] = e

    def review(self, pol: Policy, constraint: dict[str, Any], obj: dict[str, Any], namespace: str,
               namespace_object: dict[str, Any] | None = None) -> list[str]:
        group, version = _group_version(str(obj.get("apiVersion", "")))
        review: dict[str, Any] = {
            "kind": {"group": group, "version": version, "kind": obj.get("kind", "")},
            "name": (obj.get("metadata") or {}).get("name", ""),
            "namespace": namespace,
            "operation": "CREATE",
            "object": obj,
            "userInfo": {"username": "tf2kro-offline", "groups": []},
        }
        if namespace_object is not None:
            review["namespaceObject"] = namespace_object
        inp = {"review": review, "parameters": (constraint.get("spec") or {}).get("parameters") or {}}
        e = self.engines[pol.name]
        e.set_input_json(json.dumps(inp))
        try:
            raw = json.loads(e.eval_rule_as_json(f"data.{pol.package}.violation"))
        except Exception as exc:
            raise ToolError(f"ConstraintTemplate {pol.name}: evaluation failed: {exc}") from None
        if isinstance(raw, dict):  # defensive: a set serialised as an object
            raw = list(raw.values())
        if not isinstance(raw, list):
            return []
        return sorted(str(v.get("msg", v)) if isinstance(v, dict) else str(v) for v in raw)


@dataclass
class Subject:
    obj: dict[str, Any]
    namespace: str
    source: str = ""
    template: bool = False  # from a kro RGD: may hold unresolved ${...}


def evaluate(policies: list[Policy], subjects: list[Subject],
             namespace_labels: dict[str, dict[str, str]] | None = None,
             inventory: dict[str, Any] | None = None) -> PolicyReport:
    if inventory is None:
        inventory = build_inventory((s.obj, s.namespace) for s in subjects if not s.template)
    ns_labels = dict(namespace_labels or {})
    for s in subjects:
        if s.obj.get("kind") == "Namespace" and s.obj.get("apiVersion") == "v1":
            md = s.obj.get("metadata") or {}
            ns_labels.setdefault(md.get("name", ""), md.get("labels") or {})
    ev = Evaluator(policies, inventory)
    rep = PolicyReport(objects=len(subjects))
    for s in subjects:
        md = s.obj.get("metadata") or {}
        for pol in policies:
            for c in pol.constraints:
                if not constraint_matches(c, s.obj, s.namespace, ns_labels):
                    continue
                cname = c["metadata"]["name"]
                if s.template:
                    unresolved = unresolved_reads(pol, s.obj)
                    if unresolved:
                        rep.skipped.append(f"{cname}: {s.obj.get('kind')} {md.get('name')} in {s.source} "
                                           f"(unresolved {', '.join(unresolved)})")
                        continue
                ns_obj = None
                if s.namespace in ns_labels:
                    ns_obj = {"apiVersion": "v1", "kind": "Namespace",
                              "metadata": {"name": s.namespace, "labels": ns_labels[s.namespace]}}
                rep.checks += 1
                action = (c.get("spec") or {}).get("enforcementAction", "deny")
                for msg in ev.review(pol, c, s.obj, s.namespace, ns_obj):
                    rep.violations.append(Violation(cname, s.obj.get("kind", ""), md.get("name", ""), s.namespace,
                                                    msg, action, s.source))
    return rep


# --------------------------------------------------------------------------------------------- trees

SKIP_KINDS = {"ConstraintTemplate", "Suite", "CustomResourceDefinition", "Kustomization", "Component"}


def subjects_from_docs(docs: Iterable[Any], source: str = "", default_namespace: str = "") -> list[Subject]:
    out: list[Subject] = []
    for doc in docs:
        if not isinstance(doc, dict) or not isinstance(doc.get("kind"), str):
            continue
        if doc["kind"] in SKIP_KINDS or str(doc.get("apiVersion", "")).startswith(CONSTRAINT_GROUP + "/"):
            continue
        if doc["kind"] == "List":
            out.extend(subjects_from_docs(doc.get("items") or [], source, default_namespace))
            continue
        if doc["kind"] == "ResourceGraphDefinition" and str(doc.get("apiVersion", "")).startswith("kro.run/"):
            for r in (doc.get("spec") or {}).get("resources") or []:
                t = r.get("template") if isinstance(r, dict) else None
                if isinstance(t, dict) and "kind" in t:
                    ns = (t.get("metadata") or {}).get("namespace", default_namespace)
                    out.append(Subject(t, "" if _has_unresolved(ns) else ns,
                                       f"{source}#{r.get('id')}", template=True))
            continue
        ns = (doc.get("metadata") or {}).get("namespace", "")
        out.append(Subject(doc, ns, source, template=_has_unresolved(doc)))
    return out


SUITE_GROUP = "test.gatekeeper.sh"


def is_gator_suite(doc: Any) -> bool:
    """A gator test Suite (`kind: Suite`, apiVersion `test.gatekeeper.sh/*`): its directory is a test fixture set
    (templates, constraints and case objects that violate on purpose), not manifests for a cluster."""
    return (
        isinstance(doc, dict)
        and doc.get("kind") == "Suite"
        and str(doc.get("apiVersion", "")).startswith(SUITE_GROUP + "/")
    )


def _suite_dirs(files: list[Path]) -> list[Path]:
    """Directories holding a gator Suite document (the same test as `validate_tree` uses: see is_gator_suite)."""
    dirs = []
    for f in files:
        try:
            text = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if "Suite" not in text or SUITE_GROUP not in text:  # cheap filter before parsing
            continue
        try:
            docs = list(yaml.safe_load_all(text))
        except yaml.YAMLError:
            continue  # reported when the file is read as a subject
        if any(is_gator_suite(d) for d in docs):
            dirs.append(f.parent)
    return dirs


def subjects_from_tree(root: str | Path) -> list[Subject]:
    """Every object under `root` (files and RGD templates), except gator Suite directories (their cases violate
    on purpose) and the policies themselves."""
    root = Path(root)
    files = [root] if root.is_file() else sorted(f for f in root.rglob("*") if f.suffix in (".yaml", ".yml"))
    skip = _suite_dirs(files)
    out: list[Subject] = []
    for f in files:
        if any(d == f.parent or d in f.parents for d in skip):
            continue
        rel = str(f.relative_to(root)) if root.is_dir() else f.name
        out.extend(subjects_from_docs(_yaml_docs(f), rel))
    return out


def check_tree(root: str | Path, policy_paths: Iterable[str | Path] | None = None) -> PolicyReport:
    return evaluate(load_policies(policy_paths), subjects_from_tree(root))


def format_report(rep: PolicyReport) -> str:
    lines = [f"{v.source}: {v}" + ("" if v.enforcement == "deny" else f" ({v.enforcement})") for v in rep.violations]
    lines.append(f"{rep.checks} policy checks on {rep.objects} objects: {len(rep.denied)} denied, "
                 f"{len(rep.violations) - len(rep.denied)} warnings, {len(rep.skipped)} skipped (unresolved CEL)")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------- gator


def gator_suite(policies: list[Policy], cases: dict[str, list[dict[str, Any]]], dump) -> dict[str, str]:
    """Files of a gator Suite (`gator verify suite.yaml`): one template/constraint pair per policy and the cases."""
    files: dict[str, str] = {}
    tests = []
    for pol in policies:
        if not pol.constraints:
            continue
        c = pol.constraints[0]
        files[f"templates/{pol.name}.yaml"] = dump([pol.template])
        files[f"constraints/{pol.name}.yaml"] = dump([c])
        tcases = []
        for case in cases.get(pol.name, []):
            obj_rel = f"cases/{pol.name}/{case['name']}.yaml"
            files[obj_rel] = dump([case["object"]])
            entry: dict[str, Any] = {"name": case["name"], "object": obj_rel,
                                     "assertions": [{"violations": case["violations"] if case["violations"] else "no"}]}
            if case.get("message") and case["violations"]:
                entry["assertions"].append({"message": case["message"], "violations": "yes"})
            if case.get("inventory"):
                inv_rel = f"cases/{pol.name}/{case['name']}-inventory.yaml"
                files[inv_rel] = dump(case["inventory"])
                entry["inventory"] = [inv_rel]
            tcases.append(entry)
        tests.append({"name": c["metadata"]["name"], "template": f"templates/{pol.name}.yaml",
                      "constraint": f"constraints/{pol.name}.yaml", "cases": tcases})
    files["suite.yaml"] = dump([{"apiVersion": "test.gatekeeper.sh/v1alpha1", "kind": "Suite",
                                 "metadata": {"name": "tf2kro-policies"}, "tests": tests}])
    return files


def constraint_crd(pol: Policy, match_schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """The CRD Gatekeeper generates from a ConstraintTemplate (for offline schema validation of Constraints)."""
    params = copy.deepcopy(((pol.template["spec"]["crd"]["spec"].get("validation") or {}).get("openAPIV3Schema"))
                           or {"type": "object", "x-kubernetes-preserve-unknown-fields": True})
    params.setdefault("x-kubernetes-preserve-unknown-fields", True)
    schema = {
        "type": "object",
        "properties": {
            "metadata": {"type": "object", "properties": {"name": {"type": "string", "maxLength": 63}}},
            "spec": {"type": "object", "properties": {
                "enforcementAction": {"type": "string"},
                "scopedEnforcementActions": {"type": "array", "items": {"type": "object",
                                                                         "x-kubernetes-preserve-unknown-fields": True}},
                "match": copy.deepcopy(match_schema) if match_schema else {"type": "object",
                                                                          "x-kubernetes-preserve-unknown-fields": True},
                "parameters": params,
            }},
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
    }
    kind = pol.kind
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{kind.lower()}.{CONSTRAINT_GROUP}"},
        "spec": {
            "group": CONSTRAINT_GROUP,
            "names": {"kind": kind, "listKind": kind + "List", "plural": kind.lower(), "singular": kind.lower(),
                      "categories": ["constraint", "constraints"]},
            "scope": "Cluster",
            "versions": [{"name": v, "served": True, "storage": v == "v1beta1", "schema": {"openAPIV3Schema": schema}}
                         for v in ("v1beta1", "v1alpha1")],
        },
    }


# --------------------------------------------------------------------------------------------- runner hook


class PolicyCheck:
    """An `extra_checks` callable for `converter.validate.runner.validate_tree`: `(obj, file) -> [Problem]`.

    Built once per tree (the inventory for `data.inventory` needs every object); objects in gator Suite
    directories are skipped. Deny violations are errors, dryrun/warn ones warnings (code `policy`).
    """

    __name__ = "gatekeeper-policies"

    def __init__(self, root: str | Path, policy_paths: Iterable[str | Path] | None = None):
        from converter.validate.crds import Problem

        self._problem = Problem
        self.root = Path(root)
        self.policies = load_policies(policy_paths)
        subjects = subjects_from_tree(self.root)
        self.scanned = {s.source.split("#", 1)[0] for s in subjects}
        inventory = build_inventory((s.obj, s.namespace) for s in subjects if not s.template)
        self.ns_labels: dict[str, dict[str, str]] = {}
        for s in subjects:
            if s.obj.get("kind") == "Namespace" and s.obj.get("apiVersion") == "v1":
                md = s.obj.get("metadata") or {}
                self.ns_labels[md.get("name", "")] = md.get("labels") or {}
        self.inventory = inventory
        self.report = PolicyReport()

    def __call__(self, obj: dict[str, Any], rel: str) -> list[Any]:
        if rel not in self.scanned and self.root.is_dir():
            return []
        subs = subjects_from_docs([obj], rel)
        if not subs:
            return []
        rep = evaluate(self.policies, subs, self.ns_labels, self.inventory)
        self.report.checks += rep.checks
        self.report.objects += rep.objects
        self.report.violations.extend(rep.violations)
        self.report.skipped.extend(rep.skipped)
        out = []
        for v in rep.violations:
            path = v.source.split("#", 1)[1] if "#" in v.source else ""
            out.append(self._problem(f"resources[{path}]" if path else "", str(v),
                                     "error" if v.enforcement == "deny" else "warning", "policy"))
        return out
