"""The files other people's CI runs (pre-commit hook, Dockerfile, .ci/run) only use commands and options tf2kro
really has, and keep the promises the README makes about them (non-root image). The workflows tf2kro emits are
checked in tests/test_ci_workflows.py (they reuse `_command` / `_check_options` from here)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
import yaml

from converter.cli import main

ROOT = Path(__file__).resolve().parents[1]


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


def _check_options(words: list[str]) -> list[str]:
    cmd, rest = _command(words)
    assert not isinstance(cmd, click.Group), f"tf2kro {' '.join(words)}: names no command"
    known = {opt for p in cmd.params for opt in getattr(p, "opts", [])}
    return [w for w in rest if w.startswith("--") and w.split("=")[0] not in known]


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
