"""tf2kro works as an installed tool, outside the checkout: the wheel carries the mappings, the sample estate and
the CRD schemas, so `convert --sample` and `validate` run from any directory with no ../shared and no checkout.

Why a real wheel in a fresh venv: an editable install (or the test process, which has the checkout on sys.path)
reads the repository's files and would hide a file missing from the wheel. Kept fast (~10 s) by building without
build isolation (hatchling comes with the `test` extra), installing with --no-deps into a venv that sees this
environment's site-packages (the dependencies) but not its editable tf2kro.
"""

from __future__ import annotations

import os
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.install


def _sh(cmd: list[str], cwd: Path, env: dict[str, str], timeout: int = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """(bin dir of a fresh venv with the wheel installed, env to run it with)."""
    try:
        import hatchling  # noqa: F401
    except ImportError:
        pytest.fail("hatchling missing: install the test extra (pip install -e '.[test]')")
    tmp = tmp_path_factory.mktemp("install")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TF2KRO_MAPPINGS", "PYTHONHOME")}
    dist = tmp / "dist"
    res = _sh([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(dist),
               str(ROOT)], tmp, env)
    assert res.returncode == 0, res.stderr
    [wheel] = dist.glob("tf2kro-*.whl")
    target = tmp / "venv"
    venv.EnvBuilder(with_pip=False, system_site_packages=True).create(target)
    bindir = target / ("Scripts" if os.name == "nt" else "bin")
    py = bindir / "python"
    purelib = Path(_sh([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], tmp, env).stdout.strip())
    # the dependencies, from this environment (appended after the venv's own site-packages, and without this
    # environment's .pth files, so its editable tf2kro is not visible)
    (purelib / "_deps_from_test_env.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    res = _sh([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps", str(wheel)], tmp, env)
    assert res.returncode == 0, res.stderr
    return bindir, env


def test_wheel_install_converts_the_sample_and_validates_it_offline(installed, tmp_path: Path) -> None:
    bindir, env = installed
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    where = _sh([str(bindir / "python"), "-c", "import converter; print(converter.__file__)"], cwd, env)
    assert Path(where.stdout.strip()).is_relative_to(bindir.parent), where.stdout  # the wheel, not the checkout

    res = _sh([str(bindir / "tf2kro"), "convert", "--sample", "--out", "o"], cwd, env)
    assert res.returncode == 0, res.stderr
    assert "mapped" in res.stdout
    assert (cwd / "o" / "network" / "rgd.yaml").is_file()
    report = yaml.safe_load((cwd / "o" / "report.json").read_text())
    assert report["counts"]["mapped"] > 0

    res = _sh([str(bindir / "tf2kro"), "validate", "o"], cwd, env)
    assert res.returncode == 0, res.stdout + res.stderr
    assert " 0 errors" in res.stdout and " 0 objects" not in res.stdout

    # the CI templates and step scripts (converter/ci package data) ship in the wheel
    res = _sh([str(bindir / "tf2kro"), "plan", "--sample", "--out", "p"], cwd, env)
    assert res.returncode == 0, res.stderr
    assert (cwd / "p" / ".github" / "workflows" / "tf2kro-pr.yml").is_file() and (cwd / "p" / "ci" / "drift.sh").is_file()

    res = _sh([str(bindir / "tf2kro"), "convert", "--out", "o2"], cwd, env)
    assert res.returncode == 2 and "--state" in res.stderr and not (cwd / "o2").exists()
