"""The workflow templates and step scripts shipped as package data, and the job names other files refer to.

The branch-protection ruleset must name exactly the check names GitHub reports (a job's `name:`, with the matrix
values for matrix jobs); they are read from the rendered workflow, never typed twice.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import yaml

from converter import __version__
from converter.model import ToolError

SCRIPTS = ("validate.sh", "gator-verify.sh", "kustomize-changed.sh", "drift.sh", "pr-comment.sh", "drift-targets.sh",
           "drift-combine.sh")
PLAN_SCRIPTS = ("validate.sh", "kustomize-changed.sh", "drift.sh", "pr-comment.sh", "drift-targets.sh",
                "drift-combine.sh")
FLEET_SCRIPTS = ("validate.sh", "gator-verify.sh", "kustomize-changed.sh")
_TREE = re.compile(r"^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$")


def _data(sub: str, name: str) -> str:
    return resources.files("converter.ci").joinpath(sub, name).read_text(encoding="utf-8")


def script(name: str) -> str:
    return _data("scripts", name)


def scripts(names: tuple[str, ...]) -> dict[str, str]:
    """`ci/<name>` → text, for the output tree."""
    return {f"ci/{n}": script(n) for n in names}


def template(name: str, tree: str = ".") -> str:
    """A workflow template with its two placeholders filled: the tf2kro version (a constant) and the tree the fleet
    jobs run in, as a JSON string (a valid YAML double-quoted scalar, so no value can break out of it)."""
    if tree != "." and (not _TREE.match(tree) or any(p in (".", "..") for p in tree.split("/"))):
        raise ToolError(f"gitops.path {tree!r}: not a plain relative path (letters, digits, . _ - and /)")
    return _data("templates", name).replace("@VERSION@", __version__).replace("@TREE@", json.dumps(tree))


def job_names(workflow_text: str, matrix: dict[str, list[dict[str, Any]]] | None = None) -> list[str]:
    """The check names a workflow reports on a PR: each job's `name` (its id if none); a matrix job's
    `${{ matrix.K }}` is expanded once per entry of `matrix[job id]` (the targets)."""
    doc = yaml.safe_load(workflow_text)
    out: list[str] = []
    for job_id, job in doc["jobs"].items():
        name = str(job.get("name") or job_id)
        if "${{" not in name:
            out.append(name)
            continue
        for entry in (matrix or {}).get(job_id, []):
            out.append(re.sub(r"\$\{\{\s*matrix\.([A-Za-z0-9_-]+)\s*\}\}", lambda m, e=entry: str(e[m.group(1)]), name))
    return out
