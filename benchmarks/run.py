"""Benchmark the tf2kro pipeline on generated estates: `python -m benchmarks.run [--sizes 1000,10000,50000] [--hcl] [--diff]`.

Per size (each in a fresh subprocess, so the peak RSS is that size's own), per stage: wall time (best of
`--repeat` runs), process peak RSS after the stage (getrusage high-water mark), optionally the stage's own peak
of Python allocations (`--tracemalloc`, a separate pass: it slows everything 2-3x), and the AWS API calls made
during the stage (every botocore request is counted, so a local stage that called AWS would show it).

Stages (state-only path = what `tf2kro convert --state` does):
  load-state   converter.load.state.load_state
  mappings     converter.mapping.spec.load_mappings (constant cost)
  map          converter.mapping.engine.map_state
  graph        converter.graph.build.build_graph
  emit.render  converter.commands.convert.render_tree (kro RGDs + instances + review objects + report)
After the timed stages: the largest emitted object (compact JSON bytes) and the count over 256 KiB / 1 MiB / 1.5 MiB.
  emit.write   converter.emit.writer.write_tree (leak scan + atomic write)
  convert      sum of the above
With --hcl: load-hcl variants (workers=1 with GC on / GC off, workers=N, content-hash cache cold / warm) and the
HCL path (map + graph + emit with the HCL config). With --diff: the diff stage's describe phase against a moto
server on 127.0.0.1 with the estate's ids (nothing exists in moto: every managed object reads as deleted, which
exercises exactly the batched describe calls), plus the three-way compare.

The machine is shared and noisy: report the best of at least two runs (the default --repeat 2).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path
from typing import Any

DEFAULT_SIZES = (1000, 10000, 50000)
WORKDIR = Path(os.environ.get("TF2KRO_BENCH_DIR", Path(tempfile.gettempdir()) / "tf2kro-bench"))
TARGETS = {"convert_10k_s": 10.0, "convert_50k_s": 60.0, "rss_50k_mib": 1024.0, "ratio_50k_10k": 6.0}

# ------------------------------------------------------------------------------------------------ counters
_API_CALLS: Counter = Counter()


def _install_api_counter() -> None:
    """Count every botocore request made in this process (any stage, any client)."""
    try:
        from botocore.endpoint import Endpoint
    except ImportError:  # pragma: no cover
        return
    if getattr(Endpoint, "_tf2kro_bench", False):
        return
    orig = Endpoint.make_request

    def make_request(self, operation_model, request_dict):  # type: ignore[no-untyped-def]
        _API_CALLS[f"{operation_model.service_model.service_name}:{operation_model.name}"] += 1
        return orig(self, operation_model, request_dict)

    Endpoint.make_request = make_request  # type: ignore[method-assign]
    Endpoint._tf2kro_bench = True  # type: ignore[attr-defined]


def _rss_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # Linux: KiB


def _rss_now_mib() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # pragma: no cover
        return float("nan")


class Recorder:
    def __init__(self, trace: bool):
        self.trace = trace
        self.rows: dict[str, dict[str, Any]] = {}

    @contextlib.contextmanager
    def stage(self, name: str):
        calls_before = sum(_API_CALLS.values())
        if self.trace:
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
        t0 = time.perf_counter()
        yield
        dt = time.perf_counter() - t0
        row = self.rows.setdefault(name, {"times": []})
        row["times"].append(dt)
        row["rss_peak_mib"] = max(row.get("rss_peak_mib", 0.0), _rss_peak_mib())
        row["rss_now_mib"] = _rss_now_mib()
        row["api_calls"] = sum(_API_CALLS.values()) - calls_before
        if self.trace:
            row["py_peak_mib"] = max(row.get("py_peak_mib", 0.0), (tracemalloc.get_traced_memory()[1] - base) / 2**20)

    def add(self, name: str, value: dict[str, Any]) -> None:
        self.rows.setdefault(name, {}).update(value)


# ------------------------------------------------------------------------------------------------ the child run
def ensure_estate(size: int, seed: int, hcl: bool) -> tuple[Path, dict[str, Any]]:
    from benchmarks.generate import generate

    d = WORKDIR / f"estate-{size}-s{seed}"
    meta = d / "generated.json"
    if meta.exists() and (not hcl or (d / "main.tf").exists()):
        return d, json.loads(meta.read_text())
    if d.exists():
        shutil.rmtree(d)
    stats = generate(d, size, seed=seed, hcl=True)
    info = stats.as_dict()
    meta.write_text(json.dumps(info))
    return d, info


class _GcShim:
    """Stands in for the `gc` module inside the HCL loader to measure parsing with the collector left on."""

    def __getattr__(self, name: str) -> Any:
        return getattr(gc, name)

    @staticmethod
    def disable() -> None:
        return None


def child(size: int, seed: int, repeat: int, do_hcl: bool, do_diff: bool, trace: bool, workers: int) -> dict[str, Any]:
    _install_api_counter()
    estate_dir, info = ensure_estate(size, seed, do_hcl)
    state_path = estate_dir / "terraform.tfstate"
    from converter.commands.convert import render_tree
    from converter.emit.kro import EmitOptions
    from converter.emit.writer import write_tree
    from converter.graph.build import build_graph
    from converter.load.state import load_state
    from converter.mapping.engine import map_state
    from converter.mapping.spec import load_mappings
    from converter.pipeline import Estate

    if trace:
        tracemalloc.start()
    rec = Recorder(trace)
    out_root = Path(tempfile.mkdtemp(prefix="tf2kro-bench-out-"))
    estate = None
    try:
        for _ in range(repeat):
            estate = None
            gc.collect()
            with rec.stage("load-state"):
                state = load_state(state_path)
            with rec.stage("mappings"):
                mappings = load_mappings()
            with rec.stage("map"):
                result = map_state(state, mappings)
            with rec.stage("graph"):
                graph = build_graph(state, result, mappings, None)
            estate = Estate(state=state, hcl=None, mappings=mappings, result=result, graph=graph)
            with rec.stage("emit.render"):
                files = render_tree(estate, EmitOptions())
            with rec.stage("emit.write"):
                write_tree(out_root / "out", files, estate.secrets())
            del files
        rec.add("_estate", {"managed": len(state.managed), "instances": len(state.instances),
                            "edges": graph.graph.number_of_edges(), "value_refs": len(graph.value_refs),
                            "counts": result.counts(), "state_mib": state_path.stat().st_size / 2**20,
                            "types": len({i.type for i in state.managed}),
                            "out_files": sum(1 for _ in (out_root / "out").rglob("*") if _.is_file()),
                            "out_mib": sum(p.stat().st_size for p in (out_root / "out").rglob("*") if p.is_file()) / 2**20,
                            "largest": largest_objects(out_root / "out"),
                            "generated": info})
        if do_hcl:
            _bench_hcl(rec, estate_dir, state, mappings, repeat, workers, out_root)
        if do_diff:
            _bench_diff(rec, estate, repeat)
    finally:
        shutil.rmtree(out_root, ignore_errors=True)
        if trace:
            tracemalloc.stop()
    return {"size": size, "seed": seed, "rows": rec.rows}


def largest_objects(out: Path) -> dict[str, Any]:
    """The largest emitted object (compact JSON bytes, what the API server stores) and how many objects pass the
    client-side-apply (256 KiB) and etcd (1.5 MiB) limits, over every YAML document of the output tree. Measured
    after the timed stages (parsing the output is not part of convert)."""
    import yaml

    from converter.emit.size import CLIENT_SIDE_APPLY_LIMIT, ETCD_REQUEST_LIMIT, serialized_size

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    best: dict[str, Any] = {"bytes": 0}
    over_csa = over_1mib = over_etcd = n = 0
    rgds = 0
    for f in sorted(out.rglob("*.yaml")):
        for doc in yaml.load_all(f.read_text(encoding="utf-8"), Loader=loader):
            if not isinstance(doc, dict):
                continue
            n += 1
            rgds += doc.get("kind") == "ResourceGraphDefinition"
            size = serialized_size(doc)
            over_csa += size > CLIENT_SIDE_APPLY_LIMIT
            over_1mib += size > 1024 * 1024
            over_etcd += size > ETCD_REQUEST_LIMIT
            if size > best["bytes"]:
                best = {"bytes": size, "file": str(f.relative_to(out)), "kind": doc.get("kind"),
                        "name": (doc.get("metadata") or {}).get("name")}
    return {**best, "objects": n, "rgds": rgds, "over_256KiB": over_csa, "over_1MiB": over_1mib,
            "over_1.5MiB": over_etcd}


def _bench_hcl(rec: Recorder, estate_dir: Path, state: Any, mappings: Any, repeat: int, workers: int, out_root: Path) -> None:
    import converter.load.hcl as hcl_mod
    import converter.load.hcl_parse as hcl_parse_mod
    from converter.commands.convert import render_tree
    from converter.emit.kro import EmitOptions
    from converter.emit.writer import write_tree
    from converter.graph.build import build_graph
    from converter.load.hcl import load_hcl
    from converter.mapping.engine import map_state
    from converter.pipeline import Estate

    hcl = None
    for _ in range(repeat):
        # serial, collector left on (what a naive loader does)
        saved = hcl_mod.gc, hcl_parse_mod.gc
        hcl_mod.gc = hcl_parse_mod.gc = _GcShim()  # type: ignore[assignment]
        try:
            gc.enable()
            with rec.stage("load-hcl w=1 gc-on"):
                load_hcl(estate_dir, workers=1)
        finally:
            hcl_mod.gc, hcl_parse_mod.gc = saved
        with rec.stage("load-hcl w=1"):
            load_hcl(estate_dir, workers=1)
        with rec.stage(f"load-hcl w={workers}"):
            hcl = load_hcl(estate_dir, workers=workers)
        cache = Path(tempfile.mkdtemp(prefix="tf2kro-hcl-cache-"))
        try:
            with rec.stage(f"load-hcl w={workers} cache-cold"):
                load_hcl(estate_dir, workers=workers, cache_dir=cache)
            with rec.stage(f"load-hcl w={workers} cache-warm"):
                load_hcl(estate_dir, workers=workers, cache_dir=cache)
        finally:
            shutil.rmtree(cache, ignore_errors=True)
    rec.add("_hcl", {"files": hcl.files_parsed if hcl else 0})
    for _ in range(repeat):
        ignore = {r.address: list(r.ignore_changes) for r in hcl.resources() if r.mode == "managed"}
        with rec.stage("hcl: map"):
            result = map_state(state, mappings, ignore_changes=ignore)
        with rec.stage("hcl: graph"):
            graph = build_graph(state, result, mappings, hcl)
        estate = Estate(state=state, hcl=hcl, mappings=mappings, result=result, graph=graph)
        with rec.stage("hcl: emit.render"):
            files = render_tree(estate, EmitOptions())
        with rec.stage("hcl: emit.write"):
            write_tree(out_root / "out-hcl", files, estate.secrets())


def _bench_diff(rec: Recorder, estate: Any, repeat: int) -> None:
    try:
        from converter.diff.aws import AwsClients
        from converter.diff.compare import diff_estate
        from converter.diff.run import capture
    except ImportError:
        rec.add("diff", {"note": "diff: not measured (stage not present)"})
        return
    import logging

    from moto.server import ThreadedMotoServer

    for name in ("werkzeug", "moto", "botocore.credentials"):
        logging.getLogger(name).setLevel(logging.ERROR)
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-1"}
    saved = {k: os.environ.get(k) for k in (*env, "AWS_PROFILE", "AWS_ENDPOINT_URL")}
    os.environ.update(env)
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        for _ in range(repeat):
            clients = AwsClients(region=estate.result.region or "eu-west-1", endpoint_url=f"http://{host}:{port}", max_attempts=2)
            try:
                with rec.stage("diff: describe"):
                    live = capture(estate, clients)
                with rec.stage("diff: compare"):
                    report = diff_estate(estate, live, source="aws")
            except Exception as exc:  # noqa: BLE001 - the diff stage is under construction: report, keep the rest
                rec.rows.pop("diff: describe", None)
                rec.rows.pop("diff: compare", None)
                rec.add("diff", {"note": f"diff: not measured (the stage failed: {type(exc).__name__}: {str(exc)[:120]}; "
                                 f"{clients.total_calls} API calls before the failure)"})
                return
        per_service: Counter = Counter()
        for (svc, _op), n in clients.calls.items():
            per_service[svc] += n
        types_read = len(live.types)
        rec.add("_diff", {"api_calls": clients.total_calls, "http_attempts": clients.total_attempts,
                          "types_read": types_read, "per_service": dict(per_service),
                          "per_operation": {f"{s}:{o}": n for (s, o), n in sorted(clients.calls.items())},
                          "counts": report.counts()})
    finally:
        server.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# ------------------------------------------------------------------------------------------------ parent: end to end
def _output_docs(out: Path) -> list[Any]:
    """Every YAML document tf2kro wrote under `out`, in file order: the documents the PyYAML floor dumps."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    docs: list[Any] = []
    for p in sorted(out.rglob("*.yaml")):
        if p.is_file() and MANIFEST_PART not in p.parts:
            docs.extend(d for d in yaml.load_all(p.read_text(), Loader=loader) if d is not None)
    return docs


MANIFEST_PART = ".tf2kro"


def yaml_floor(docs: list[Any]) -> float:
    """Seconds PyYAML's C dumper alone takes to serialise `docs` with tf2kro's options: the floor issue 14 judges
    `convert` against (what any Python tool emitting these documents through PyYAML pays at least)."""
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    gc.collect()
    t0 = time.perf_counter()
    yaml.dump_all(docs, Dumper=dumper, sort_keys=False, default_flow_style=False, width=4096, allow_unicode=True)
    return time.perf_counter() - t0


def cli_convert(size: int, seed: int, repeat: int, hcl: bool) -> dict[str, Any]:
    """`tf2kro convert` as a user runs it, in its own process: wall time (best of `repeat`) and that process's own
    peak RSS (wait4), so the figure is the real cost of one run, not a high-water mark shared with other stages.
    State only: each run is followed by the PyYAML floor for the same documents (interleaved, best of `repeat`),
    so the ratio compares figures taken under the same machine load."""
    estate_dir = WORKDIR / f"estate-{size}-s{seed}"
    times: list[float] = []
    rss: list[float] = []
    floors: list[float] = []
    docs: list[Any] | None = None
    for _ in range(repeat):
        out = Path(tempfile.mkdtemp(prefix="tf2kro-bench-cli-"))
        cmd = [sys.executable, "-m", "converter", "convert", "--state", str(estate_dir / "terraform.tfstate"),
               "--out", str(out / "o")] + (["--hcl", str(estate_dir)] if hcl else [])
        try:
            t0 = time.perf_counter()
            proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                    cwd=Path(__file__).resolve().parents[1])
            _, status, usage = os.wait4(proc.pid, 0)
            times.append(time.perf_counter() - t0)
            err = proc.stderr.read().decode() if proc.stderr else ""
            if os.waitstatus_to_exitcode(status) != 0:
                raise RuntimeError(f"tf2kro convert failed on N={size}: {err[-2000:]}")
            rss.append(usage.ru_maxrss / 1024)
            if not hcl:
                if docs is None:
                    docs = _output_docs(out / "o")
                floors.append(yaml_floor(docs))
        finally:
            shutil.rmtree(out, ignore_errors=True)
    best = min(range(len(times)), key=times.__getitem__)
    res: dict[str, Any] = {"wall_s": times[best], "rss_mib": rss[best], "times": times}
    if floors:
        res.update(floor_s=min(floors), floor_times=floors, floor_docs=len(docs or ()),
                   floor_ratio=times[best] / min(floors))
    return res


# ------------------------------------------------------------------------------------------------ parent: tables
STATE_STAGES = ("load-state", "mappings", "map", "graph", "emit.render", "emit.write")


def _best(row: dict[str, Any]) -> float | None:
    t = row.get("times")
    return min(t) if t else None


def summarise(res: dict[str, Any]) -> dict[str, Any]:
    rows = res["rows"]
    conv = sum(_best(rows[s]) or 0.0 for s in STATE_STAGES if s in rows)
    res["convert_s"] = conv
    res["rss_peak_mib"] = max((r.get("rss_peak_mib", 0.0) for r in rows.values() if isinstance(r, dict)), default=0.0)
    return res


def fmt_table(results: list[dict[str, Any]], trace: bool) -> str:
    stages: list[str] = []
    for r in results:
        for s, row in r["rows"].items():
            if not s.startswith("_") and "times" in row and s not in stages:
                stages.append(s)
    sizes = [r["size"] for r in results]
    head = f"{'stage':<28}" + "".join(f"{f'N={n:,}':>26}" for n in sizes)
    if len(sizes) >= 2:
        head += f"{f'{sizes[-1] // 1000}k/{sizes[-2] // 1000}k':>10}"
    lines = [head, "-" * len(head)]
    sub = "  (best wall s | peak RSS MiB" + (" | py peak MiB" if trace else "") + " | AWS calls)"
    lines.append(sub)
    for s in stages + ["convert (state-only)"]:
        cells = []
        vals = []
        for r in results:
            if s == "convert (state-only)":
                t = r["convert_s"]
                cells.append(f"{t:>8.2f}s {r['rows']['emit.write']['rss_peak_mib']:>7.0f}M {'':>7}")
                vals.append(t)
                continue
            row = r["rows"].get(s)
            if not row or "times" not in row:
                cells.append(f"{'-':>26}")
                vals.append(None)
                continue
            t = _best(row)
            vals.append(t)
            extra = f" {row.get('py_peak_mib', 0):>5.0f}" if trace else ""
            cells.append(f"{t:>8.2f}s {row['rss_peak_mib']:>7.0f}M{extra} {row.get('api_calls', 0):>6}")
        line = f"{s:<28}" + "".join(f"{c:>26}" for c in cells)
        if len(vals) >= 2 and vals[-1] and vals[-2]:
            line += f"{vals[-1] / vals[-2]:>10.2f}"
        lines.append(line)
    for key, label in (("cli", "tf2kro convert (CLI)"), ("cli_hcl", "tf2kro convert --hcl (CLI)")):
        if all(key in r for r in results):
            cells = [f"{r[key]['wall_s']:>8.2f}s {r[key]['rss_mib']:>7.0f}M {'':>7}" for r in results]
            line = f"{label:<28}" + "".join(f"{c:>26}" for c in cells)
            if len(results) >= 2:
                line += f"{results[-1][key]['wall_s'] / results[-2][key]['wall_s']:>10.2f}"
            lines.append(line)
    if all("floor_s" in r.get("cli", {}) for r in results):
        cells = [f"{r['cli']['floor_s']:>8.2f}s {r['cli']['floor_docs']:>7} docs" for r in results]
        lines.append(f"{'PyYAML floor (dump_all C)':<28}" + "".join(f"{c:>26}" for c in cells))
        cells = [f"{r['cli']['floor_ratio']:>8.2f}x {'':>12}" for r in results]
        lines.append(f"{'convert / floor':<28}" + "".join(f"{c:>26}" for c in cells))
    lines.append("")
    for r in results:
        e = r["rows"].get("_estate", {})
        g = e.get("generated", {})
        lines.append(f"N={r['size']:,}: {e.get('managed')} managed ({e.get('counts')}), {e.get('types')} types, "
                     f"state {e.get('state_mib', 0):.1f} MiB, {e.get('edges')} graph edges, {e.get('value_refs')} value refs, "
                     f"{e.get('out_files')} output files ({e.get('out_mib', 0):.1f} MiB); HCL {g.get('hcl_files')} files / "
                     f"{g.get('hcl_lines')} lines")
        big = e.get("largest")
        if big:
            lines.append(f"    largest object: {big['bytes'] / 1024:.1f} KiB ({big.get('kind')} {big.get('name')} in "
                         f"{big.get('file')}); {big['objects']} objects, {big['rgds']} RGDs; over 256 KiB: "
                         f"{big['over_256KiB']}, over 1 MiB: {big['over_1MiB']}, over 1.5 MiB: {big['over_1.5MiB']}")
        d = r["rows"].get("_diff")
        if d:
            lines.append(f"    diff: {d['api_calls']} API calls ({d['http_attempts']} HTTP attempts) for {d['types_read']} "
                         f"types read; per service {d['per_service']}")
        elif "diff" in r["rows"]:
            lines.append(f"    {r['rows']['diff'].get('note')}")
    return "\n".join(lines)


def verdict(results: list[dict[str, Any]]) -> list[str]:
    """Targets judged on the end-to-end CLI run (its own process: time and peak RSS), the state-only path and,
    where measured, the HCL path; the in-process stage sum is the fallback."""
    by = {r["size"]: r for r in results}
    out = []
    paths = [("cli", "tf2kro convert"), ("cli_hcl", "tf2kro convert --hcl")] if any("cli" in r for r in results) \
        else [(None, "convert (stage sum)")]

    def fig(r: dict[str, Any], key: str | None) -> tuple[float, float]:
        if key is None:
            return r["convert_s"], r["rss_peak_mib"]
        return r[key]["wall_s"], r[key]["rss_mib"]

    for key, label in paths:
        if key is not None and not all(key in r for r in results):
            continue
        if 10000 in by:
            t, _ = fig(by[10000], key)
            out.append(f"10k {label}: {t:.2f} s (target < {TARGETS['convert_10k_s']:.0f} s): "
                       f"{'OK' if t < TARGETS['convert_10k_s'] else 'MISSED'}")
        if 50000 in by:
            t, m = fig(by[50000], key)
            out.append(f"50k {label}: {t:.2f} s (target < {TARGETS['convert_50k_s']:.0f} s): "
                       f"{'OK' if t < TARGETS['convert_50k_s'] else 'MISSED'}")
            out.append(f"50k {label} peak RSS {m:.0f} MiB (target < {TARGETS['rss_50k_mib']:.0f} MiB): "
                       f"{'OK' if m < TARGETS['rss_50k_mib'] else 'MISSED'}")
            if 10000 in by:
                ratio = t / fig(by[10000], key)[0]
                out.append(f"50k/10k {label} time ratio {ratio:.2f} (target <= {TARGETS['ratio_50k_10k']:.0f}; "
                           f"5.0 = linear): {'OK' if ratio <= TARGETS['ratio_50k_10k'] else 'MISSED'}")
    for r in results:
        c = r.get("cli", {})
        if "floor_ratio" in c:
            out.append(f"N={r['size']:,} tf2kro convert {c['wall_s']:.2f} s vs PyYAML floor {c['floor_s']:.2f} s for the "
                       f"same {c['floor_docs']} documents: {c['floor_ratio']:.2f}x (target <= 1.0x): "
                       f"{'OK' if c['floor_ratio'] <= 1.0 else 'MISSED'}")
    for r in results:
        d = r["rows"].get("_diff")
        if d:
            out.append(f"N={r['size']:,} diff: {d['api_calls']} API calls for {r['rows']['_estate']['managed']} resources, "
                       f"{d['types_read']} types")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--repeat", type=int, default=2, help="runs per size; the best time is reported (default 2)")
    ap.add_argument("--hcl", action="store_true", help="also measure HCL loading (parallel, GC, cache) and the HCL path")
    ap.add_argument("--diff", action="store_true", help="also measure the diff stage against a moto server")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="parse workers for the parallel HCL run")
    ap.add_argument("--tracemalloc", action="store_true", help="per-stage peak of Python allocations (slow: separate pass)")
    ap.add_argument("--json", dest="json_out", help="write the raw results here")
    ap.add_argument("--no-cli", action="store_true", help="skip the end-to-end `tf2kro convert` runs")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if args.child:
        res = child(sizes[0], args.seed, args.repeat, args.hcl, args.diff, args.tracemalloc, args.workers)
        sys.stdout.write("\n@@RESULT@@" + json.dumps(res) + "\n")
        return 0
    results = []
    WORKDIR.mkdir(parents=True, exist_ok=True)
    for n in sizes:
        cmd = [sys.executable, "-m", "benchmarks.run", "--child", "--sizes", str(n), "--seed", str(args.seed),
               "--repeat", str(args.repeat), "--workers", str(args.workers)]
        cmd += ["--hcl"] * args.hcl + ["--diff"] * args.diff + ["--tracemalloc"] * args.tracemalloc
        print(f"# N={n:,} ...", file=sys.stderr, flush=True)
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
        if proc.returncode != 0 or "@@RESULT@@" not in proc.stdout:
            sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-4000:])
            return 1
        res = summarise(json.loads(proc.stdout.rsplit("@@RESULT@@", 1)[1]))
        if not args.no_cli:
            res["cli"] = cli_convert(n, args.seed, args.repeat, hcl=False)
            if args.hcl:
                res["cli_hcl"] = cli_convert(n, args.seed, args.repeat, hcl=True)
        results.append(res)
    print(f"# tf2kro benchmark — {platform.node()} {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"best of {args.repeat} run(s) per stage (shared machine: figures are noisy)")
    print(fmt_table(results, args.tracemalloc))
    print()
    for line in verdict(results):
        print(line)
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
