"""`tf2kro diff` as a function: estate + (live AWS | capture) → DiffReport. The CLI and the tests call this."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

from converter.diff.aws import AwsClients
from converter.diff.compare import DiffReport, IgnoreRule, diff_estate
from converter.diff.live import LiveRead, LiveReader
from converter.model import ToolError


def parse_scope_tags(values: tuple[str, ...] | list[str]) -> dict[str, str]:
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
            clients = AwsClients(region=estate.result.region, allowed=estate_allowed(estate))
        live = capture(estate, clients, phase=phase, scope_tags=scope_tags, on_type=on_type)
        source = source or "aws"
    return diff_estate(estate, live, phase=phase, source=source or "capture", ignore=ignore)


_ARN_REGION = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:([a-z]{2}(?:-[a-z]+)+-\d):")


def state_regions(estate: Any) -> Counter:
    """Regions named by the state (ARNs and `region` attributes) → how many resources name each."""
    out: Counter = Counter()
    for inst in estate.state.managed:
        found = set()
        for key, v in inst.attributes.items():
            if not isinstance(v, str):
                continue
            if key == "region" and v:
                found.add(v)
            elif key == "arn":  # the resource's own ARN (not a referenced one: a CloudFront cert is in us-east-1)
                m = _ARN_REGION.match(v)
                if m:
                    found.add(m.group(1))
        out.update(found)
    return out


def estate_allowed(estate: Any) -> frozenset[tuple[str, str]]:
    """The guard's allow-list from the mappings this estate was loaded with (plus the fixed calls)."""
    from converter.diff.operations import allowed_operations

    return allowed_operations(tm.describe for tm in estate.mappings.types.values())


def check_region(estate: Any, region: str | None) -> None:
    """An explicit --region the state's ARNs do not name is refused: a read there finds none of the estate and
    would report every regional resource `deleted` (measured: 6 resources on the sample)."""
    if not region:
        return
    regions = state_regions(estate)
    if regions and region not in regions:
        named = ", ".join(f"{r} ({n} resources)" for r, n in regions.most_common(5))
        raise ToolError(f"--region {region} disagrees with the state, whose ARNs are in {named}: a read in {region} "
                        "would report them deleted. Drop --region (the state's region is used) or pass that "
                        "region's state")


def connect(estate: Any, *, region: str | None, profile: str | None, endpoint_url: str | None,
            max_attempts: int, echo: Callable[[str], None], read_workers: int = 8) -> AwsClients:
    """The guarded client factory for a live read, after the region check and the preflight (identity printed
    through `echo`). Raises AwsUnreachable (one line, exit 2) when nothing can be read."""
    check_region(estate, region)
    clients = AwsClients(region=region or estate.result.region, profile=profile, endpoint_url=endpoint_url,
                         max_attempts=max_attempts, read_workers=read_workers, allowed=estate_allowed(estate))
    echo(clients.preflight().line())
    return clients
