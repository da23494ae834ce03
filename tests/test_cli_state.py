"""No silent fallback to the sample estate: every command that reads an estate needs --state (or --sample).

Why: a CI job whose --state went missing (typo in a variable, empty matrix entry) used to convert or diff the
bundled sample and exit 0, a green report about the wrong estate.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from converter.cli import main
from converter.pipeline import SAMPLE_DIR

COMMANDS = [
    ["convert", "--out", "{out}"],
    ["inspect"],
    ["graph"],
    ["plan", "--out", "{out}"],
    ["diff", "--live", "{capture}"],
    ["inventory", "capture", "--out", "{out}"],
]


def _args(cmd: list[str], tmp_path: Path) -> list[str]:
    capture = tmp_path / "capture.json"
    capture.write_text("{}")
    return [a.format(out=tmp_path / "out", capture=capture) for a in cmd]


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: " ".join(w for w in c if not w.startswith(("-", "{"))))
def test_missing_state_is_a_usage_error_and_writes_nothing(cmd: list[str], tmp_path: Path) -> None:
    res = CliRunner().invoke(main, _args(cmd, tmp_path))
    assert res.exit_code == 2, res.output
    assert "--state FILE is required (or --sample" in res.output
    assert "Traceback" not in res.output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("cmd", COMMANDS, ids=lambda c: " ".join(w for w in c if not w.startswith(("-", "{"))))
def test_sample_and_state_exclude_each_other(cmd: list[str], tmp_path: Path) -> None:
    args = [*_args(cmd, tmp_path), "--sample", "--state", str(SAMPLE_DIR / "terraform.tfstate")]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 2 and "exclude each other" in res.output
    assert not (tmp_path / "out").exists()


def test_sample_selects_the_bundled_estate_with_its_hcl() -> None:
    """--sample is the same as --state <bundled tfstate> --hcl <bundled dir> (HCL makes references resolve)."""
    sample = CliRunner().invoke(main, ["inspect", "--sample", "--format", "json"])
    explicit = CliRunner().invoke(main, ["inspect", "--state", str(SAMPLE_DIR / "terraform.tfstate"),
                                         "--hcl", str(SAMPLE_DIR), "--format", "json"])
    assert sample.exit_code == explicit.exit_code == 0
    assert json.loads(sample.output) == json.loads(explicit.output)
    assert json.loads(sample.output)["counts"]["mapped"] > 0
    assert "sample estate" not in sample.output  # no "(no --state given...)" note any more
