"""The diff's describe phase, serial vs parallel per-object reads, against a moto server behind a latency-injecting
proxy: `python -m benchmarks.diff_parallel [--sizes 1000,10000] [--latency-ms 50] [--workers 8] [--timeout 1200]`.

Why a proxy: moto on 127.0.0.1 answers in ~1 ms, so a serial read looks cheap; real AWS answers in tens of ms per
call, and the per-id reads (EKS node groups, add-ons, SQS queue attributes, DescribeSecret, ...) add up one after
another. The proxy (a threaded HTTP server in this script, 127.0.0.1, ephemeral port) sleeps `--latency-ms` per
request and forwards it to the moto server, so wall time reflects round trips the way AWS would.

Prints, per size: wall time of `capture()` with `read_workers=1` and with `--workers`, the ratio, whether the two
captures are identical (timestamps aside), and API calls per type and per operation. The moto estate holds none of
the generated objects (every managed object reads as deleted), and moto lacks some APIs (it 404s DescribeAddon and
GetQueueAttributes: those types end `unknown` after one call): docs/performance.md has the real-AWS estimate.
The run is bounded by `--timeout` seconds (SIGALRM). No timed tests use this: it prints figures.
"""

from __future__ import annotations

import argparse
import http.client
import json
import logging
import os
import signal
import sys
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "upgrade", "te", "trailer"}


def latency_proxy(target_host: str, target_port: int, latency_s: float) -> ThreadingHTTPServer:
    """A threaded HTTP/1.1 proxy on 127.0.0.1:0: sleep `latency_s`, forward the request to the target, relay."""
    local = threading.local()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a: Any) -> None:  # quiet
            return None

        def _forward(self) -> None:
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else None
            time.sleep(latency_s)
            conn = getattr(local, "conn", None)
            if conn is None:
                conn = local.conn = http.client.HTTPConnection(target_host, target_port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
            try:
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
            except (http.client.HTTPException, OSError):
                conn.close()
                local.conn = None
                raise
            self.send_response(resp.status, resp.reason)
            for k, v in resp.getheaders():
                if k.lower() not in HOP and k.lower() != "content-length":
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True, name="latency-proxy").start()
    return server


def _estate(size: int, seed: int) -> Any:
    from benchmarks.generate import generate
    from converter.pipeline import load_estate

    d = Path(os.environ.get("TF2KRO_BENCH_DIR", Path(tempfile.gettempdir()) / "tf2kro-bench")) / f"diffpar-{size}-s{seed}"
    if not (d / "terraform.tfstate").exists():
        generate(d, size, seed=seed, hcl=False)
    return load_estate(d / "terraform.tfstate", region="eu-west-1")


def _capture(estate: Any, endpoint: str, workers: int) -> tuple[float, Any, Any]:
    from converter.diff.aws import AwsClients
    from converter.diff.run import capture

    clients = AwsClients(region="eu-west-1", endpoint_url=endpoint, max_attempts=2, read_workers=workers)
    t0 = time.perf_counter()
    live = capture(estate, clients)
    return time.perf_counter() - t0, live, clients


def _comparable(live: Any) -> dict[str, Any]:
    doc = json.loads(live.to_json())
    doc.pop("captured_at", None)
    return doc


def bench(size: int, seed: int, latency_ms: float, workers: int) -> dict[str, Any]:
    from moto.server import ThreadedMotoServer

    estate = _estate(size, seed)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    proxy = latency_proxy(host, port, latency_ms / 1000)
    endpoint = f"http://127.0.0.1:{proxy.server_address[1]}"
    try:
        serial_s, serial, sc = _capture(estate, endpoint, 1)
        par_s, par, pc = _capture(estate, endpoint, workers)
    finally:
        proxy.shutdown()
        moto.stop()
    per_type = {t: {"calls": tr.calls, "status": tr.status, "requested": len(tr.requested)}
                for t, tr in sorted(serial.types.items())}
    return {"size": size, "resources": len(estate.state.managed), "latency_ms": latency_ms, "workers": workers,
            "serial_s": round(serial_s, 2), "parallel_s": round(par_s, 2), "speedup": round(serial_s / par_s, 2),
            "identical": _comparable(serial) == _comparable(par),
            "calls_serial": sc.total_calls, "calls_parallel": pc.total_calls,
            "per_type": per_type, "per_operation": {f"{s}:{o}": n for (s, o), n in sorted(sc.calls.items())}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--latency-ms", type=float, default=50.0)
    ap.add_argument("--workers", type=int, default=8)
    ap.add_argument("--timeout", type=int, default=1200, help="stop the whole run after this many seconds")
    ap.add_argument("--json", dest="json_out", default=None, help="also write the figures to this file")
    args = ap.parse_args(argv)
    for name in ("werkzeug", "moto", "botocore.credentials"):
        logging.getLogger(name).setLevel(logging.ERROR)
    os.environ.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                       "AWS_DEFAULT_REGION": "eu-west-1"})
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    if hasattr(signal, "SIGALRM"):
        signal.signal(signal.SIGALRM, lambda *a: (print("benchmark: --timeout reached", file=sys.stderr), os._exit(3)))
        signal.alarm(args.timeout)
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        r = bench(size, args.seed, args.latency_ms, args.workers)
        results.append(r)
        print(f"\n{r['resources']} resources, {r['latency_ms']:.0f} ms per request: serial {r['serial_s']} s, "
              f"{r['workers']} workers {r['parallel_s']} s -> {r['speedup']}x faster; captures identical: "
              f"{r['identical']}; API calls {r['calls_serial']} serial / {r['calls_parallel']} parallel")
        print("  calls per type (status, resources requested):")
        for t, info in r["per_type"].items():
            print(f"    {t:45} {info['calls']:6}  {info['status']:8} {info['requested']}")
        by_op = Counter(r["per_operation"])
        print("  calls per operation:", ", ".join(f"{op} {n}" for op, n in by_op.most_common()))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
