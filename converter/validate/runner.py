"""Validate a whole emitted manifest tree offline: every object against its CRD, every RGD with kro's static
checks, every kro instance against the CRD its RGD would generate, plus pluggable extra checks.

Why a tree walk and not per-file: RGDs and their instances (and CRDs shipped next to the manifests) live in
different files, and an instance can only be checked once its RGD has been seen. So all documents are loaded
first, the index is extended with CRDs and RGD-generated kinds found in the tree, then everything is checked.

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

from converter.model import ToolError
from converter.validate.crds import CrdIndex, Problem, is_builtin_api, load_yaml_documents, validate_object
from converter.validate.kro import check_rgd, rgd_instance_schema

__all__ = ["EXTRA_CHECKS", "ExtraCheck", "Finding", "Report", "validate_tree"]

ExtraCheck = Callable[[dict[str, Any], str], list[Problem]]

# Checks registered by other modules (e.g. a Gatekeeper policy evaluator); run on every object.
EXTRA_CHECKS: list[ExtraCheck] = []

RGD_API = ("kro.run/v1alpha1", "ResourceGraphDefinition")


@dataclass
class Finding:
    """One problem, located: file, 0-based document index in the file, `Kind/name`, field path."""

    file: str
    doc: int
    object: str
    path: str
    message: str
    severity: str = "error"
    code: str = ""

    def __str__(self) -> str:
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
        return [f for f in self.findings if f.severity != "error"]

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
            },
            "findings": [asdict(f) for f in self.findings],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def to_text(self) -> str:
        lines = [str(f) for f in self.findings]
        lines.append(
            f"{self.files} files, {self.objects} objects, {self.checks} checks: "
            f"{len(self.errors)} errors, {len(self.warnings)} warnings"
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


def validate_tree(
    root: Path,
    crd_paths: list[Path],
    rego: ExtraCheck | None = None,
    *,
    extra_checks: Iterable[ExtraCheck] = (),
    index: CrdIndex | None = None,
) -> Report:
    """Validate every *.yaml/*.yml under `root` (multi-document; dot-directories skipped).

    `crd_paths`: CRD files/directories (ignored if a prebuilt `index` is passed). `rego`/`extra_checks`:
    callables run on every object (see module doc). Unparseable YAML → ToolError naming the file.
    A missing CRD is an error, except for built-in API groups (core, apps, …): those are warnings,
    as we only lack their schema offline.
    """
    root = Path(root)
    files = _yaml_files(root)
    docs: list[tuple[str, int, Any]] = []
    for f in files:
        rel = str(f.relative_to(root)) if root.is_dir() else f.name
        for i, d in enumerate(load_yaml_documents(f)):
            if d is not None:
                docs.append((rel, i, d))

    base = index if index is not None else CrdIndex.from_paths([Path(p) for p in crd_paths])
    idx = base.copy()
    for rel, _i, d in docs:  # CRDs and RGDs shipped in the tree define kinds too
        if isinstance(d, dict) and d.get("kind") == "CustomResourceDefinition":
            idx.add_crd(d, rel)
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
        add(problems)
        if not isinstance(obj, dict):
            continue
        if (obj.get("apiVersion"), obj.get("kind")) == RGD_API:
            add(check_rgd(obj, idx))
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
