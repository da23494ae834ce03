"""tf2kro's loading stages side by side with Terraform's and python-hcl2's on the same generated estate.

`python -m benchmarks.terraform_side [--sizes 1000,10000] [--repeat 3]` prints, per size, the best wall time of
`--repeat` interleaved runs of:

- `terraform validate` (after `init` with the hashicorp/aws provider from a filesystem mirror; not timed)
  vs tf2kro's HCL load (python-hcl2 in the worker pool + evaluation, no cache) — both read every .tf file;
- `terraform graph` vs `tf2kro graph --format dot --hcl` (CLI, end to end);
- `terraform show -json terraform.tfstate` vs tf2kro's state load (`load_state`);
- plain python-hcl2 (`hcl2.load` of every .tf file, one process) vs tf2kro's HCL load.

The ratios are what to read (both sides run on the same machine, interleaved); the absolute times move with the
machine's load. Needs `terraform` on PATH and the provider mirror (TF2KRO_TF_MIRROR, default /opt/tf-plugins);
without them only the python-hcl2 row is printed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

MIRROR = Path(os.environ.get("TF2KRO_TF_MIRROR", "/opt/tf-plugins"))


def _best(fn: Callable[[], object], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def _terraform_env(home: Path) -> dict[str, str] | None:
    if not shutil.which("terraform") or not (MIRROR / "registry.terraform.io/hashicorp/aws").is_dir():
        return None
    rc = home / "terraformrc"
    rc.write_text(f'provider_installation {{\n  filesystem_mirror {{\n    path = "{MIRROR}"\n'
                  '    include = ["registry.terraform.io/hashicorp/aws"]\n  }\n'
                  '  direct { exclude = ["registry.terraform.io/hashicorp/aws"] }\n}\n', encoding="utf-8")
    return {**os.environ, "HOME": str(home), "CHECKPOINT_DISABLE": "1", "TF_CLI_CONFIG_FILE": str(rc),
            "TF_IN_AUTOMATION": "1"}


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def measure(size: int, repeat: int, work: Path) -> list[tuple[str, float, str, float]]:
    """Rows (tf2kro stage, seconds, other tool, seconds) for one estate size."""
    import hcl2

    from benchmarks.generate import generate
    from converter.load.hcl import load_hcl
    from converter.load.state import load_state

    estate = work / f"estate-{size}"
    generate(estate, size)
    tf_files = sorted(estate.rglob("*.tf"))

    def hcl_python() -> None:
        for p in tf_files:
            with p.open(encoding="utf-8") as fh:
                hcl2.load(fh)

    def hcl_tf2kro() -> None:
        load_hcl(estate)  # the library call: no parse cache (the CLI's cache is per user, opt-out)

    rows = [("load HCL (tf2kro)", _best(hcl_tf2kro, repeat), "python-hcl2, every file", _best(hcl_python, repeat))]
    env = _terraform_env(work)
    if env is None:
        print(f"N={size:,}: terraform or the provider mirror at {MIRROR} absent: terraform rows skipped")
        return rows
    _run(["terraform", "init", "-backend=false", "-input=false", "-no-color"], estate, env)
    state = estate / "terraform.tfstate"
    cli = [sys.executable, "-m", "converter"]
    pairs: list[tuple[str, Callable[[], object], str, Callable[[], object]]] = [
        ("load HCL (tf2kro)", hcl_tf2kro, "terraform validate",
         lambda: _run(["terraform", "validate", "-no-color"], estate, env)),
        ("tf2kro graph --hcl (CLI)", lambda: subprocess.run(
            [*cli, "graph", "--state", str(state), "--hcl", str(estate), "--format", "dot", "--no-cache"],
            check=True, stdout=subprocess.DEVNULL, cwd=work), "terraform graph",
         lambda: _run(["terraform", "graph"], estate, env)),
        ("load state (tf2kro)", lambda: load_state(state), "terraform show -json <state>",
         lambda: _run(["terraform", "show", "-json", "terraform.tfstate"], estate, env)),
    ]
    for name, ours, other, theirs in pairs:
        a = b = float("inf")
        for _ in range(repeat):  # interleaved: both sides see the same machine load
            a = min(a, _best(ours, 1))
            b = min(b, _best(theirs, 1))
        rows.append((name, a, other, b))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tf2kro-tfside-") as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            print(f"\nN = {size:,}")
            print(f"{'tf2kro':<28}{'s':>8}   {'other':<30}{'s':>8}{'tf2kro/other':>14}")
            for name, a, other, b in measure(size, args.repeat, Path(tmp)):
                print(f"{name:<28}{a:>8.2f}   {other:<30}{b:>8.2f}{a / b:>13.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
