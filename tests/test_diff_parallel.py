"""Per-object reads in a thread pool (`--read-workers`): the report is byte-identical to the serial read, the pool
never has more than N calls in flight, and a failure in a worker still makes the type `unknown` (or stops the scan
when the endpoint is gone) — the fail-closed rules of the serial read hold in parallel."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from botocore.awsrequest import AWSResponse
from click.testing import CliRunner

from converter.cli import main
from converter.diff.aws import AwsClients, AwsUnreachable
from converter.diff.live import LiveReader
from converter.mapping.spec import load_mappings
from tests.estate_builder import PROJECT_TAGS, build
from tests.stubbed_aws import aws_env  # noqa: F401 - fixture
from tests.test_diff_eks_stubbed import ACCOUNT, REGION, TAGS, TS, FakeEks

if TYPE_CHECKING:
    from tests.moto_server import MotoServer

pytest_plugins = ["tests.moto_server"]


# ---------------------------------------------------------------------------------------------- moto: same bytes
def _json_report(moto: MotoServer, state: Path, workers: int) -> bytes:
    res = CliRunner().invoke(main, ["diff", "--state", str(state), "--region", "eu-west-1", "--endpoint-url", moto.url,
                                    "--format", "json", f"--scope-tag=Project={PROJECT_TAGS['Project']}",
                                    "--read-workers", str(workers)])
    assert res.exit_code in (0, 1), res.output + str(res.exception)
    # generated_at is when the scan ran (a clock reading, not data): the rest must be byte-identical
    lines = res.stdout_bytes.splitlines(keepends=True)
    assert sum(ln.startswith(b'  "generated_at": ') for ln in lines) == 1
    return b"".join(ln for ln in lines if not ln.startswith(b'  "generated_at": '))


@pytest.mark.moto
def test_parallel_report_is_byte_identical_to_serial(moto: MotoServer, tmp_path: Path) -> None:
    """The moto estate of test_diff.py, with out-of-band changes so the report has findings: the JSON report of a
    parallel read is the serial one, byte for byte (items are taken in id order, calls counted the same)."""
    est = build(moto.client)
    state = tmp_path / "terraform.tfstate"
    state.write_text(est.state_json())
    ec2 = moto.client("ec2")
    ec2.create_tags(Resources=[est.ids["vpc"]], Tags=[{"Key": "Owner", "Value": "someone-else"}])
    serial = _json_report(moto, state, 1)
    assert b'"drift"' in serial or b'"adoption-would-change"' in serial  # a report with findings, not an empty one
    for workers in (8, 32):
        assert _json_report(moto, state, workers) == serial, workers


def test_read_workers_is_bounded_on_the_command_line(tmp_path: Path) -> None:
    for bad in ("0", "33"):
        res = CliRunner().invoke(main, ["diff", "--state", str(tmp_path / "x.tfstate"), "--read-workers", bad])
        assert res.exit_code == 2 and "--read-workers" in res.output


# ---------------------------------------------------------------------------------------------- stubbed EKS add-ons
class _CountingEks(FakeEks):
    """FakeEks answering DescribeAddon after `delay` seconds, counting the calls in flight at once; `fail` maps an
    add-on name to a response status/error type (or an exception class to raise, a lost connection)."""

    def __init__(self, delay: float = 0.02) -> None:
        super().__init__()
        self.delay = delay
        self.lock = threading.Lock()
        self.in_flight = 0
        self.peak = 0
        self.fail: dict[str, Any] = {}

    def handler(self, request: Any, event_name: str = "", **kw: Any) -> AWSResponse | None:
        with self.lock:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            time.sleep(self.delay)
            name = request.url.rstrip("/").split("/")[-1]
            failure = self.fail.get(name)
            if isinstance(failure, type):
                raise failure(endpoint_url=request.url)
            if failure:
                status, err = failure
                return AWSResponse(request.url, status, {"Content-Type": "application/json", "x-amzn-ErrorType": err},
                                   _raw(b'{"message": "refused"}'))
            return super().handler(request, event_name=event_name, **kw)
        finally:
            with self.lock:
                self.in_flight -= 1


def _raw(body: bytes) -> Any:
    from tests.test_diff_eks_stubbed import _Raw

    return _Raw(body)


def _addons(fake: FakeEks, n: int) -> tuple[list[str], dict[str, dict[str, Any]]]:
    ids, instances = [], {}
    for k in range(n):
        name = f"addon-{k:03d}"
        fake.addons[("blue", name)] = {
            "addonName": name, "clusterName": "blue", "status": "ACTIVE", "addonVersion": "v1.0.0-eksbuild.1",
            "addonArn": f"arn:aws:eks:{REGION}:{ACCOUNT}:addon/blue/{name}/1a2b", "createdAt": TS, "modifiedAt": TS,
            "tags": dict(TAGS)}
        ids.append(f"blue:{name}")
        instances[f"blue:{name}"] = {"cluster_name": "blue", "addon_name": name}
    return ids, instances


def _read(fake: FakeEks, workers: int, ids: list[str], instances: dict[str, dict[str, Any]]):
    d = load_mappings().get("aws_eks_addon").describe
    clients = AwsClients(region=REGION, max_attempts=1, read_workers=workers,
                         extra_handlers=[("before-send.eks", fake.handler)])
    return LiveReader(clients).read_type("aws_eks_addon", d, ids, instances, {}, set()), clients


@pytest.mark.parametrize("workers", [1, 3, 8])
def test_pool_never_has_more_than_n_calls_in_flight(aws_env: None, workers: int) -> None:  # noqa: F811
    fake = _CountingEks()
    ids, instances = _addons(fake, 40)
    tr, clients = _read(fake, workers, ids, instances)
    assert tr.status == "ok" and sorted(tr.items) == ids and tr.missing == []
    assert list(tr.items) == ids  # id order, whatever order the workers finished in
    assert fake.peak <= workers
    if workers > 1:
        assert fake.peak > 1  # it did run in parallel
    assert clients.calls[("eks", "DescribeAddon")] == 40 == tr.calls  # counted exactly under concurrency


def test_parallel_items_equal_serial_items(aws_env: None) -> None:  # noqa: F811
    fake = _CountingEks(delay=0.0)
    ids, instances = _addons(fake, 25)
    del fake.addons[("blue", "addon-007")]  # deleted out of band: missing, in both
    serial, _ = _read(fake, 1, ids, instances)
    parallel, _ = _read(fake, 8, ids, instances)
    assert serial == parallel
    assert serial.missing == ["blue:addon-007"]


def test_a_denied_read_in_a_worker_makes_the_type_unknown(aws_env: None) -> None:  # noqa: F811
    fake = _CountingEks()
    ids, instances = _addons(fake, 30)
    fake.fail["addon-017"] = (403, "AccessDeniedException")
    tr, _ = _read(fake, 8, ids, instances)
    assert tr.status == "unknown" and tr.reason.startswith("denied:"), tr.reason
    assert tr.items == {} and tr.missing == []  # nothing half-read is reported


def test_first_read_runs_alone_so_a_missing_api_costs_one_call(aws_env: None) -> None:  # noqa: F811
    """moto 404s DescribeAddon: serially the type is unknown after one call; in parallel too (not N calls)."""
    fake = _CountingEks()
    ids, instances = _addons(fake, 20)
    for k in range(20):
        fake.fail[f"addon-{k:03d}"] = (501, "NotImplemented")
    tr, clients = _read(fake, 8, ids, instances)
    assert tr.status == "unknown" and tr.reason.startswith("unsupported:"), tr.reason
    assert clients.calls[("eks", "DescribeAddon")] == 1


def test_connection_lost_in_a_worker_stops_the_scan(aws_env: None) -> None:  # noqa: F811
    from botocore.exceptions import EndpointConnectionError

    fake = _CountingEks()
    ids, instances = _addons(fake, 200)
    for k in range(5, 200):
        fake.fail[f"addon-{k:03d}"] = EndpointConnectionError
    d = load_mappings().get("aws_eks_addon").describe
    clients = AwsClients(region=REGION, max_attempts=8, read_workers=8, extra_handlers=[("before-send.eks", fake.handler)])
    with pytest.raises(AwsUnreachable, match="endpoint unreachable"):
        LiveReader(clients).read_type("aws_eks_addon", d, ids, instances, {}, set())
    # the jobs not yet started were cancelled: far fewer than 195 failing reads were attempted
    assert clients.calls[("eks", "DescribeAddon")] < 60
    assert fake.in_flight == 0  # nothing outlives the read


@pytest.mark.moto
def test_types_read_concurrently_share_the_n_slots(moto: MotoServer, tmp_path: Path) -> None:
    """Types are read concurrently as well: across every service, never more than N requests at once."""
    from converter.diff.run import capture
    from converter.pipeline import load_estate

    est = build(moto.client)
    state = tmp_path / "terraform.tfstate"
    state.write_text(est.state_json())
    lock = threading.Lock()
    seen = {"now": 0, "peak": 0}

    def slow(request: Any, **kw: Any) -> None:
        with lock:
            seen["now"] += 1
            seen["peak"] = max(seen["peak"], seen["now"])
        time.sleep(0.03)
        with lock:
            seen["now"] -= 1

    for workers in (1, 3):
        seen["peak"] = 0
        clients = AwsClients(region="eu-west-1", endpoint_url=moto.url, max_attempts=2, read_workers=workers,
                             extra_handlers=[("before-send", slow)])
        live = capture(load_estate(state, region="eu-west-1"), clients)
        assert all(tr.status == "ok" for tr in live.types.values())
        assert seen["peak"] <= workers
    assert seen["peak"] > 1  # the 3-slot read did overlap calls
