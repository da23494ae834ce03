"""Validate a whole emitted manifest tree offline: every object against its CRD, every RGD with kro's static
checks, every kro instance against the CRD its RGD would generate, plus pluggable extra checks.

Why a tree walk and not per-file: RGDs and their instances (and CRDs shipped next to the manifests) live in
different files, and an instance can only be checked once its RGD has been seen. So all documents are loaded
first, the index is extended with CRDs and RGD-generated kinds found in the tree, then everything is checked.

Gatekeeper: every ConstraintTemplate in the tree defines a Constraint kind (constraints.gatekeeper.sh), whose
CRD is built like Gatekeeper does (policy.constraint_crd: `spec.parameters` from the template's schema, plus
`match`/`enforcementAction`), so Constraints are checked. A Constraint whose kind no template in the tree and no
CRD file defines is an error.

Not everything under the root is a cluster manifest; these are reported once as `info` and skipped:
- a gator test-suite directory (one holding a `kind: Suite`, apiVersion test.gatekeeper.sh/*) with everything
  below it: its templates/constraints are copies and its case objects reuse names (the same test as
  policy.PolicyCheck uses to leave them out of policy evaluation);
- a YAML file none of whose documents has an apiVersion or a kind (Helm values.yaml and the like). A document
  without them in a file that does hold manifests is still an error.

Extension point: `extra_checks` — callables `(obj, file) -> list[Problem]` run on every object (mapping). A
Gatekeeper/Rego evaluator plugs in here (module-level `EXTRA_CHECKS`, the `extra_checks=` argument, or the
`rego=` argument, which is simply one more such callable) without this module knowing about Rego.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from converter.emit.size import CLIENT_SIDE_APPLY_LIMIT, ETCD_REQUEST_LIMIT, RGD_SIZE_BUDGET, serialized_size
from converter.model import ToolError
from converter.validate.crds import CrdIndex, Problem, is_builtin_api, load_yaml_documents, validate_object
from converter.validate.kro import check_rgd, rgd_instance_schema
from converter.validate.policy import CONSTRAINT_GROUP, Policy, constraint_crd, is_gator_suite

__all__ = ["EXTRA_CHECKS", "ExtraCheck", "Finding", "Report", "validate_tree"]

ExtraCheck = Callable[[dict[str, Any], str], list[Problem]]

# Checks registered by other modules (e.g. a Gatekeeper policy evaluator); run on every object.
EXTRA_CHECKS: list[ExtraCheck] = []

RGD_API = ("kro.run/v1alpha1", "ResourceGraphDefinition")
TEMPLATE_GROUP = "templates.gatekeeper.sh"


@dataclass
class Finding:
    """One problem, located: file, 0-based document index in the file, `Kind/name`, field path.

    `severity` is error | warning | info; `info` findings (doc -1) are about a whole file or directory that
    was skipped, not about an object.
    """

    file: str
    doc: int
    object: str
    path: str
    message: str
    severity: str = "error"
    code: str = ""

    def __str__(self) -> str:
        if self.doc < 0:
            return f"{self.severity}: {self.file}: {self.message}"
        where = f"{self.file} [doc {self.doc}] {self.object}"
        return f"{self.severity}: {where}: {self.path or '(object)'}: {self.message}"


@dataclass
class Report:
    """Everything `validate_tree` found, with counts so "0 errors" can be told apart from "0 objects"."""

    root: str
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    objects: int = 0
    checks: int = 0

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def skipped(self) -> list[Finding]:
        """`info` findings: files/directories left out as not being cluster manifests."""
        return [f for f in self.findings if f.severity == "info"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_dict(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "ok": self.ok,
            "counts": {
                "files": self.files,
                "objects": self.objects,
                "checks": self.checks,
                "errors": len(self.errors),
                "warnings": len(self.warnings),
                "skipped": len(self.skipped),
            },
            "findings": [asdict(f) for f in self.findings],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_text(self) -> str:
        lines = [str(f) for f in self.findings]
        skipped = f", {len(self.skipped)} skipped" if self.skipped else ""
        lines.append(
            f"{self.files} files, {self.objects} objects, {self.checks} checks: "
            f"{len(self.errors)} errors, {len(self.warnings)} warnings{skipped}"
        )
        return "\n".join(lines) + "\n"


def _yaml_files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    if not root.is_dir():
        raise ToolError("no such file or directory", str(root))
    out = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).parts
        if any(part.startswith(".") for part in rel):
            continue  # .git, .argocd-source-* etc.
        if p.suffix in (".yaml", ".yml") and p.is_file():
            out.append(p)
    return out


def _object_label(obj: Any) -> str:
    if not isinstance(obj, dict):
        return "?"
    md = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    name = md.get("name") or md.get("generateName") or "?"
    ns = md.get("namespace")
    return f"{obj.get('kind', '?')}/{f'{ns}/' if ns else ''}{name}"


def _looks_like_manifest(doc: Any) -> bool:
    """A document that is (or tries to be) a Kubernetes object: a mapping with an apiVersion or a kind, or a
    list of such mappings (a mistake we want reported, not skipped)."""
    if isinstance(doc, dict):
        return "apiVersion" in doc or "kind" in doc
    if isinstance(doc, list):
        return any(isinstance(d, dict) and ("apiVersion" in d or "kind" in d) for d in doc)
    return False


def _under(path: Path, dirs: Iterable[Path]) -> Path | None:
    for d in dirs:
        if d == path.parent or d in path.parents:
            return d
    return None


def _gatekeeper_match_schema(idx: CrdIndex) -> dict[str, Any] | None:
    """`spec.match` as Gatekeeper generates it, borrowed from any constraint CRD in the CRD dirs (it is the same
    for every constraint kind); None (= any object) if there is none."""
    for api, kind in idx.kinds():
        if not api.startswith(CONSTRAINT_GROUP + "/"):
            continue
        raw = idx.raw_schema(api, kind) or {}
        match = (((raw.get("properties") or {}).get("spec") or {}).get("properties") or {}).get("match")
        if isinstance(match, dict) and match.get("properties"):
            return match
    return None


def _template_kind(doc: Any) -> str | None:
    """The Constraint kind a ConstraintTemplate defines, or None if `doc` is not a (well-formed enough) one."""
    if not (
        isinstance(doc, dict)
        and doc.get("kind") == "ConstraintTemplate"
        and str(doc.get("apiVersion", "")).startswith(TEMPLATE_GROUP + "/")
    ):
        return None
    node: Any = doc
    for key in ("spec", "crd", "spec", "names", "kind"):
        node = node.get(key) if isinstance(node, dict) else None
    if not isinstance(node, str) or not node:
        return None
    validation = doc["spec"]["crd"]["spec"].get("validation")
    if validation is not None and not (
        isinstance(validation, dict) and isinstance(validation.get("openAPIV3Schema") or {}, dict)
    ):
        return None  # malformed: the template's own CRD validation reports it
    return node


def size_problems(obj: dict[str, Any]) -> list[Problem]:
    """An object the API server cannot store (over etcd's 1.5 MiB request limit: error) or that client-side apply
    cannot apply (over the 256 KiB annotation limit its last-applied copy must fit: warning). Size = compact JSON,
    what the API server stores for a custom resource (converter/emit/size.py)."""
    size = serialized_size(obj)
    if size > ETCD_REQUEST_LIMIT:
        return [Problem("", f"object is {size} bytes serialised, over etcd's {ETCD_REQUEST_LIMIT}-byte (1.5 MiB) request "
                            "limit: the API server rejects it; split it (tf2kro splits RGDs above "
                            f"{RGD_SIZE_BUDGET} bytes)", "error", "object-too-large")]
    if size > CLIENT_SIDE_APPLY_LIMIT:
        md = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        ann = md.get("annotations") if isinstance(md.get("annotations"), dict) else {}
        ssa = "ServerSideApply=true" in str(ann.get("argocd.argoproj.io/sync-options", ""))
        return [Problem("", f"object is {size} bytes serialised, over the {CLIENT_SIDE_APPLY_LIMIT}-byte (256 KiB) "
                            "annotation limit: client-side apply (kubectl apply, ArgoCD without ServerSideApply=true) "
                            "cannot store its last-applied copy"
                            + ("; it carries ServerSideApply=true for ArgoCD" if ssa else
                               "; apply it server-side (argocd.argoproj.io/sync-options: ServerSideApply=true)"),
                        "warning", "object-large")]
    return []


def validate_tree(
    root: Path,
    crd_paths: list[Path],
    rego: ExtraCheck | None = None,
    *,
    extra_checks: Iterable[ExtraCheck] = (),
    index: CrdIndex | None = None,
) -> Report:
    """Validate every *.yaml/*.yml under `root` (multi-document; dot-directories skipped).

    `crd_paths`: CRD files/directories added to (or overriding) the bundled schemas; both are ignored if a
    prebuilt `index` is passed. `rego`/`extra_checks`:
    callables run on every object (see module doc). Unparseable YAML → ToolError naming the file.
    A missing CRD is an error, except for built-in API groups (core, apps, …): those are warnings,
    as we only lack their schema offline.
    """
    root = Path(root)
    files = _yaml_files(root)

    def relpath(p: Path) -> str:
        if not root.is_dir():
            return p.name
        return str(p.relative_to(root)) if p != root else "."

    loaded: list[tuple[Path, list[tuple[int, Any]]]] = []
    for f in files:
        loaded.append((f, [(i, d) for i, d in enumerate(load_yaml_documents(f)) if d is not None]))

    skipped: list[Finding] = []
    suites: dict[Path, tuple[Path, str]] = {}  # suite dir -> (suite file, Suite name)
    for f, fdocs in loaded:
        for _i, d in fdocs:
            if is_gator_suite(d) and f.parent not in suites:
                md = d.get("metadata") if isinstance(d.get("metadata"), dict) else {}
                suites[f.parent] = (f, str(md.get("name") or "?"))
    for d, (suite_file, name) in sorted(suites.items()):
        if _under(d, (s for s in suites if s != d)) is not None:
            continue  # nested inside another suite dir: covered by that one's line
        n = sum(1 for f, _ in loaded if _under(f, [d]) is not None)
        skipped.append(
            Finding(relpath(d), -1, "", "",
                    f"gator test suite (Suite/{name} in {relpath(suite_file)}): {n} file(s) of test fixtures, "
                    "not cluster manifests; skipped (no CRD validation, duplicate detection or checks)",
                    "info", "gator-suite")
        )

    docs: list[tuple[str, int, Any]] = []
    for f, fdocs in loaded:
        if _under(f, suites) is not None:
            continue
        rel = relpath(f)
        if fdocs and not any(_looks_like_manifest(d) for _i, d in fdocs):
            skipped.append(
                Finding(rel, -1, "", "",
                        "no document has an apiVersion or a kind: not a Kubernetes manifest (e.g. Helm values); "
                        "skipped", "info", "not-a-manifest")
            )
            continue
        docs.extend((rel, i, d) for i, d in fdocs)

    base = index if index is not None else CrdIndex.bundled().add_paths([Path(p) for p in crd_paths])
    idx = base.copy()
    for rel, _i, d in docs:  # CRDs and RGDs shipped in the tree define kinds too
        if isinstance(d, dict) and d.get("kind") == "CustomResourceDefinition":
            idx.add_crd(d, rel)
    match_schema = _gatekeeper_match_schema(base)
    for rel, _i, d in docs:  # and so does every Gatekeeper ConstraintTemplate (Gatekeeper generates the CRD)
        if _template_kind(d) is not None:
            idx.add_crd(constraint_crd(Policy(template=d), match_schema), rel)
    for rel, _i, d in docs:
        if isinstance(d, dict) and (d.get("apiVersion"), d.get("kind")) == RGD_API:
            gen = rgd_instance_schema(d)
            if gen is not None:
                api, kind, schema, scope = gen
                idx.add_schema(api, kind, schema, scope, rel)

    checks: list[ExtraCheck] = [*EXTRA_CHECKS, *extra_checks]
    if rego is not None:
        checks.append(rego)

    report = Report(str(root), files=len(files))
    report.findings.extend(skipped)
    seen: dict[tuple[Any, ...], tuple[str, int]] = {}
    for rel, i, obj in docs:
        report.objects += 1
        label = _object_label(obj)

        def add(problems: list[Problem], rel: str = rel, i: int = i, label: str = label) -> None:
            for p in problems:
                report.findings.append(Finding(rel, i, label, p.path, p.message, p.severity, p.code))

        problems = validate_object(obj, idx)
        report.checks += 1
        api = obj.get("apiVersion") if isinstance(obj, dict) else None
        for p in problems:
            if p.code == "no-crd" and isinstance(api, str) and is_builtin_api(api):
                p.severity = "warning"
                p.message += " (built-in kind: schema not checked offline)"
            elif p.code == "no-crd" and isinstance(api, str) and api.startswith(CONSTRAINT_GROUP + "/"):
                p.message += f" (no ConstraintTemplate in the tree or the CRD files defines kind {obj.get('kind')})"
        add(problems)
        if not isinstance(obj, dict):
            continue
        if (obj.get("apiVersion"), obj.get("kind")) == RGD_API:
            add(check_rgd(obj, idx))
            report.checks += 1
        add(size_problems(obj))
        report.checks += 1
        md = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        key = (obj.get("apiVersion"), obj.get("kind"), md.get("namespace"), md.get("name"))
        if md.get("name"):
            if key in seen:
                first = seen[key]
                add(
                    [
                        Problem(
                            "metadata.name",
                            f"duplicate object: also defined in {first[0]} [doc {first[1]}]",
                            "warning",
                            "duplicate-object",
                        )
                    ]
                )
            else:
                seen[key] = (rel, i)
        for check in checks:
            report.checks += 1
            try:
                add(list(check(obj, rel) or []))
            except ToolError:
                raise
            except Exception as exc:  # noqa: BLE001 - a broken plug-in must not hide the other findings
                name = getattr(check, "__name__", repr(check))
                add(
                    [
                        Problem(
                            "", f"check {name} failed: {type(exc).__name__}: {exc}", "error", "check-crashed"
                        )
                    ]
                )
    report.findings.sort(key=lambda f: (f.file, f.doc))
    return report
