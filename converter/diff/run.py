"""`tf2kro diff` as a function: estate + (live AWS | capture) → DiffReport. The CLI and the tests call this."""

from __future__ import annotations

from typing import Any

from converter.diff.aws import AwsClients
from converter.diff.compare import DiffReport, IgnoreRule, diff_estate
from converter.diff.live import LiveRead, LiveReader


def parse_scope_tags(values: tuple[str, ...] | list[str]) -> dict[str, str]:
    from converter.model import ToolError

    out = {}
    for v in values:
        if "=" not in v:
            raise ToolError(f"--scope-tag expects KEY=VALUE, got {v!r}")
        k, val = v.split("=", 1)
        out[k] = val
    return out


def capture(estate: Any, clients: AwsClients, *, phase: str | None = None, scope_tags: dict[str, str] | None = None,
            on_type: Any = None) -> LiveRead:
    region = clients.region or estate.result.region
    if clients.region is None:
        clients.region = region
    return LiveReader(clients, scope_tags=scope_tags).read_estate(estate, phase=phase, region=region, on_type=on_type)


def run_diff(estate: Any, *, clients: AwsClients | None = None, live: LiveRead | None = None, phase: str | None = None,
             scope_tags: dict[str, str] | None = None, ignore: list[IgnoreRule] | None = None,
             source: str | None = None, on_type: Any = None) -> DiffReport:
    if live is None:
        if clients is None:
            clients = AwsClients(region=estate.result.region)
        live = capture(estate, clients, phase=phase, scope_tags=scope_tags, on_type=on_type)
        source = source or "aws"
    return diff_estate(estate, live, phase=phase, source=source or "capture", ignore=ignore)
