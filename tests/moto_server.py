"""A real moto server (HTTP, threaded) for the diff tests: one per test session, reset between tests.

Not a conftest: test modules load it with `pytest_plugins = ["tests.moto_server"]`.
AWS-managed IAM policies are loaded (`MOTO_IAM_LOAD_MANAGED_POLICIES=true`) so role attachments of
`arn:aws:iam::aws:policy/...` work as in AWS.
"""

from __future__ import annotations

import logging
import os
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

REGION = "eu-west-1"


@dataclass
class MotoServer:
    url: str

    def post(self, path: str, body: bytes = b"", content_type: str = "text/plain") -> None:
        req = urllib.request.Request(self.url + path, data=body, method="POST", headers={"Content-Type": content_type})
        with urllib.request.urlopen(req, timeout=30) as resp:
            resp.read()

    def reset(self) -> None:
        self.post("/moto-api/reset")
        self.set_auth(None)

    def set_auth(self, initial_no_auth_actions: int | None) -> None:
        """moto IAM enforcement: 0 = enforce from the next request on; None = off."""
        self.post("/moto-api/reset-auth", b"inf" if initial_no_auth_actions is None else str(initial_no_auth_actions).encode())

    def client(self, service: str, **kw):
        import boto3

        return boto3.client(service, region_name=REGION, endpoint_url=self.url, aws_access_key_id=kw.pop("key", "testing"),
                            aws_secret_access_key=kw.pop("secret", "testing"), **kw)


def _quiet() -> None:
    for name in ("werkzeug", "moto", "botocore.credentials"):
        logging.getLogger(name).setLevel(logging.ERROR)


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    pytest.importorskip("moto")
    from moto.server import ThreadedMotoServer

    os.environ["MOTO_IAM_LOAD_MANAGED_POLICIES"] = "true"
    _quiet()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield MotoServer(url=f"http://{host}:{port}")
    server.stop()


@pytest.fixture
def moto(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[MotoServer]:
    """A clean moto server with test credentials and region in the environment."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    moto_server.reset()
    yield moto_server
    moto_server.set_auth(None)
