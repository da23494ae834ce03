"""Behaviour check for performance work: fingerprint every output of the pipeline on a set of estates, so a change
can be shown to leave them byte-identical.

    python -m benchmarks.equivalence snapshot /tmp/before.json      # before the change
    python -m benchmarks.equivalence compare  /tmp/before.json      # after: lists every estate/file that differs

Estates: the sample (state-only and with HCL), every v4 state of /work/shared/corpus/tfstate (when present) and
generated estates of 1,000 and 3,000 resources (state-only and with HCL). Fingerprints: each `tf2kro convert`
output file, the graph as JSON (`tf2kro graph --format json`: nodes, phases, waves, edges, findings) and the
value references. Runs under PYTHONHASHSEED=0: the order of cycle findings follows string hashing (networkx
`simple_cycles` iterates sets), so without a fixed seed two runs of the same code can differ.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus" / "tfstate"


def _estates() -> list[tuple[str, Path, Path | None]]:
    from benchmarks.run import ensure_estate

    sample = ROOT / "samples" / "estate"
    out: list[tuple[str, Path, Path | None]] = [("sample", sample / "terraform.tfstate", None),
                                                ("sample+hcl", sample / "terraform.tfstate", sample)]
    if CORPUS.is_dir():
        for p in sorted(CORPUS.iterdir()):
            if p.is_file() and p.name != "SOURCES.md":
                out.append((f"corpus/{p.name}", p, None))
    for n in (1000, 3000):
        d, _ = ensure_estate(n, 0, True)
        out.append((f"gen{n}", d / "terraform.tfstate", None))
        out.append((f"gen{n}+hcl", d / "terraform.tfstate", d))
    return out


def _h(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def fingerprint() -> dict[str, Any]:
    from converter.commands.convert import render_tree
    from converter.emit.kro import EmitOptions
    from converter.graph.build import to_json
    from converter.model import ToolError
    from converter.pipeline import load_estate

    result: dict[str, Any] = {}
    for name, state, hcl in _estates():
        try:
            estate = load_estate(state, hcl)
        except ToolError as exc:
            result[name] = {"error": str(exc)}
            continue
        files = render_tree(estate, EmitOptions(env="staging"))
        g = to_json(estate.graph)
        refs = sorted((r.source, ".".join(map(str, r.path)), r.target, r.ack_path) for r in estate.graph.value_refs)
        result[name] = {"files": {k: _h(v) for k, v in sorted(files.items())},
                        "graph": _h(json.dumps(g, sort_keys=True)), "edges": len(g["edges"]),
                        "value_refs": _h(json.dumps(refs)), "findings": _h(json.dumps(g["findings"]))}
    return result


def main(argv: list[str]) -> int:
    if os.environ.get("PYTHONHASHSEED") != "0":
        # cycle findings come from networkx.simple_cycles, whose order follows set iteration (string hashes):
        # fix the hash seed so two runs of unchanged code fingerprint the same
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        return subprocess.call([sys.executable, "-m", "benchmarks.equivalence", *argv], env=env, cwd=ROOT)
    if len(argv) != 2 or argv[0] not in ("snapshot", "compare"):
        print(__doc__)
        return 2
    cur = fingerprint()
    if argv[0] == "snapshot":
        Path(argv[1]).write_text(json.dumps(cur, indent=1))
        print(f"{len(cur)} estates fingerprinted")
        return 0
    old = json.loads(Path(argv[1]).read_text())
    bad = 0
    for name in sorted(set(old) | set(cur)):
        a, b = old.get(name), cur.get(name)
        if a == b:
            continue
        bad += 1
        if a is None or b is None:
            print(f"{name}: only in {'after' if a is None else 'before'}")
            continue
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                if key == "files":
                    diff = sorted(k for k in set(a["files"]) | set(b["files"]) if a["files"].get(k) != b["files"].get(k))
                    print(f"{name}: files differ: {diff}")
                else:
                    print(f"{name}: {key} differs ({a.get(key)} -> {b.get(key)})")
    print(f"{len(cur)} estates compared, {bad} differ")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
