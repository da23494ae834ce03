"""The files other people's CI runs (example workflow, pre-commit hook, Dockerfile, .ci/run) only use commands and
options tf2kro really has, and keep the promises the README makes about them (non-root image, fail-closed job)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
import yaml

from converter.cli import main

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / "docs" / "ci" / "drift.yml"


def _command(words: list[str]) -> tuple[click.Command, list[str]]:
    """The click command named by `tf2kro <words...>` and the remaining words."""
    cmd: click.Command = main
    rest = list(words)
    while isinstance(cmd, click.Group) and rest:
        sub = cmd.get_command(click.Context(cmd), rest[0])  # the top-level group loads its commands lazily
        if sub is None:
            break
        rest.pop(0)
        cmd = sub
    return cmd, rest


def _tf2kro_invocations(script: str) -> list[list[str]]:
    """Every `tf2kro ...` command line in a shell script (folded `>` lines included), as words."""
    out = []
    for line in script.replace("\\\n", " ").splitlines():
        line = line.strip()
        if line.startswith("tf2kro "):
            out.append(shlex.split(line.split("#")[0])[1:])
    return out


def _check_options(words: list[str]) -> list[str]:
    cmd, rest = _command(words)
    assert not isinstance(cmd, click.Group), f"tf2kro {' '.join(words)}: names no command"
    known = {opt for p in cmd.params for opt in getattr(p, "opts", [])}
    return [w for w in rest if w.startswith("--") and w.split("=")[0] not in known]


def test_workflow_uses_only_real_commands_and_options() -> None:
    doc = yaml.safe_load(WORKFLOW.read_text())
    steps = [s for job in doc["jobs"].values() for s in job["steps"]]
    calls = [words for s in steps for words in _tf2kro_invocations(s.get("run", ""))]
    used = {tuple(w for w in words[:2] if not w.startswith("-")) for words in calls}
    assert ("inventory", "capture") in used and ("diff",) in {u[:1] for u in used}
    for words in calls:
        assert _check_options(words) == [], words
    # the live read happens once: only `inventory capture` talks to AWS, every diff reads the capture
    diffs = [w for w in calls if w[0] == "diff"]
    assert len(diffs) == 2 and all("--live" in w for w in diffs)
    assert {w[w.index("--format") + 1] for w in diffs} == {"md", "junit"}


def test_workflow_fails_closed() -> None:
    doc = yaml.safe_load(WORKFLOW.read_text())
    steps = doc["jobs"]["drift"]["steps"]
    verdict = next(s for s in steps if s.get("name") == "Verdict")["run"]
    assert re.search(r"0\) .*;;", verdict) and "exit 1" in verdict and re.search(r"\*\) .*exit 2", verdict)
    # no step may swallow the capture's exit code
    capture = next(s for s in steps if "inventory capture" in s.get("run", ""))
    assert "continue-on-error" not in capture and "|| true" not in capture["run"]
    assert doc["permissions"]["contents"] == "read"


def test_pre_commit_hook_runs_validate() -> None:
    [hook] = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "tf2kro-validate" and hook["language"] == "python"
    words = shlex.split(hook["entry"])
    assert words[0] == "tf2kro"
    cmd, _ = _command(words[1:])
    assert cmd.name == "validate"


def test_dockerfile_is_slim_non_root_with_tf2kro_entrypoint() -> None:
    text = (ROOT / "Dockerfile").read_text()
    froms = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert froms and all(re.fullmatch(r"python:3\.\d+-slim", f) for f in froms), froms
    [user] = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert user.split(":")[0] not in ("root", "0")
    assert re.search(r'^ENTRYPOINT \["tf2kro"\]$', text, re.M)
    for src in re.findall(r"^COPY\s+(?!--from)(.+)\s+\S+$", text, re.M):
        for path in src.split():
            assert (ROOT / path).exists(), f"Dockerfile copies missing {path}"


@pytest.mark.parametrize("needle", ["-e '.[test]' && tf2kro convert --sample --out out/sample",
                                    "python -m pytest -q -n 2", "ruff check converter tests benchmarks"])
def test_ci_run_is_the_readme_commands(needle: str) -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    assert needle in ci
    assert needle in readme or needle.startswith("ruff")
    assert "set -euo pipefail" in ci
