"""`tf2kro --help` must not import the pipeline: the heavy libraries load only when a command runs them.

Behavioural, not timed: a fresh interpreter imports the CLI (and renders help) and reports which modules it holds.
benchmarks/startup.py measures the time this buys."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("networkx", "jsonschema", "boto3", "botocore", "yaml", "rich", "converter.pipeline", "hcl2")

PROBE = """
import json, sys
from click.testing import CliRunner
import converter.cli
loaded = set(sys.modules)
argv = json.loads(sys.argv[1])
if argv:
    res = CliRunner().invoke(converter.cli.main, argv)
    assert res.exit_code == 0, res.output
    loaded = set(sys.modules)
print(json.dumps(sorted(loaded)))
"""


def _modules_after(argv: list[str]) -> set[str]:
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(argv)], capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout))


def _heavy(mods: set[str]) -> list[str]:
    return sorted(h for h in HEAVY if h in mods)


def test_importing_the_cli_loads_no_heavy_library():
    assert _heavy(_modules_after([])) == []


@pytest.mark.parametrize("argv", [["--help"], ["convert", "--help"], ["inspect", "--help"], ["graph", "--help"],
                                  ["diff", "--help"], ["inventory", "capture", "--help"], ["plan", "--help"],
                                  ["fleet", "--help"], ["fleet", "upgrade", "--help"], ["validate", "--help"]],
                         ids=" ".join)
def test_help_loads_no_heavy_library(argv):
    assert _heavy(_modules_after(argv)) == []


def test_running_a_command_still_loads_what_it_needs():
    """The check above can fail: a command that runs imports the pipeline (guards against a probe that sees nothing)."""
    mods = _modules_after(["inspect", "--sample", "--format", "json"])
    assert "converter.pipeline" in mods and "networkx" in mods
