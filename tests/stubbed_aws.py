"""Shared by the tests that answer a real boto3 client from an in-memory service (APIs moto lacks): the botocore
`before-send` hook returns canned responses, the live read goes through the real engine, and the result is written
as a capture and diffed with `tf2kro diff --live` — the same path a user's offline diff takes."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from converter.cli import main
from converter.diff.aws import AwsClients
from converter.diff.run import capture
from converter.pipeline import load_estate
from tests.statefactory import state

REGION = "eu-west-1"


class RawBody:
    """The raw body botocore reads an AWSResponse from (a canned answer of a `before-send` handler)."""

    def __init__(self, body: bytes):
        self.body = body

    def stream(self, **kw: Any):
        yield self.body


def json_response(request: Any, body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Any:
    """A canned JSON answer to `request`, for a botocore `before-send` handler."""
    from botocore.awsrequest import AWSResponse

    return AWSResponse(request.url, status, headers or {"Content-Type": "application/json"},
                       RawBody(json.dumps(body).encode()))


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials and no profile/endpoint from the machine, so nothing can reach a real account."""
    for k, v in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_DEFAULT_REGION", REGION)):
        monkeypatch.setenv(k, v)
    for k in ("AWS_PROFILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(k, raising=False)


def capture_and_diff(service: str, handler: Callable[..., Any], resources: list[dict[str, Any]],
                     tmp_path: Path) -> dict[str, Any]:
    """Read the estate through `handler` (answering `service`), capture, diff the capture; the JSON report plus
    `_calls` (API calls of the read)."""
    st = tmp_path / "terraform.tfstate"
    st.write_text(state(*resources))
    clients = AwsClients(region=REGION, max_attempts=1, extra_handlers=[(f"before-send.{service}", handler)])
    live = capture(load_estate(st, region=REGION), clients)
    cap = tmp_path / "live.json"
    cap.write_text(live.to_json())
    res = CliRunner().invoke(main, ["diff", "--state", str(st), "--live", str(cap), "--format", "json"])
    assert res.exit_code in (0, 1), res.output + str(res.exception)
    doc = json.loads(res.stdout)
    doc["_calls"] = dict(live.api_calls)
    return doc
