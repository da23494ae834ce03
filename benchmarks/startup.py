"""Start-up time of the CLI: `tf2kro --help` and `tf2kro <cmd> --help` against `python -c pass`.

Why: a help text or a typo'd option must answer at once; the goal (issue 14) is at most 3x a bare interpreter start.
Each command line runs `--runs` times, interleaved so machine noise hits all of them alike; the best and the median
wall time are printed with the ratio of the median to `python -c pass`'s median, measured in the same run.
No thresholds are asserted here (no timed tests): tests/test_startup.py checks what `import converter.cli` imports.

    python -m benchmarks.startup [--runs 15]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

COMMANDS = ["convert", "inspect", "graph", "diff", "inventory", "inventory capture", "plan", "fleet", "fleet init",
            "fleet upgrade", "validate"]


def command_lines() -> list[tuple[str, list[str]]]:
    cli = [sys.executable, "-m", "converter"]  # the console script adds only its own tiny shim
    out = [("python -c pass", [sys.executable, "-c", "pass"]), ("tf2kro --help", [*cli, "--help"])]
    out += [(f"tf2kro {c} --help", [*cli, *c.split(), "--help"]) for c in COMMANDS]
    return out


def wall(argv: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t0


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=15, help="runs per command line (interleaved)")
    args = ap.parse_args(argv)
    lines = command_lines()
    times: dict[str, list[float]] = {name: [] for name, _ in lines}
    for _ in range(args.runs):
        for name, cmd in lines:
            times[name].append(wall(cmd))
    base = statistics.median(times["python -c pass"])
    print(f"{'command':<34} {'best ms':>8} {'median ms':>10} {'x python -c pass':>17}")
    for name, _ in lines:
        ts = times[name]
        med = statistics.median(ts)
        print(f"{name:<34} {min(ts) * 1000:8.1f} {med * 1000:10.1f} {med / base:17.2f}")


if __name__ == "__main__":
    main()
