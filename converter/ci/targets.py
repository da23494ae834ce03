"""Drift targets: one Terraform root in one account and region, the unit of the scheduled fan-out.

They come from the plan documents (environments/<env>/plan.json: env, root, account, region, the state the plan
was made from) and are written to ci/drift-targets.json, which the GitHub workflows read at run time and the
Argo CronWorkflow carries inline. Every field is checked against a conservative grammar here (and again by
ci/drift-targets.sh), because the values travel into job names, environment variables, YAML and Argo's
`{{...}}` substitution: no braces, quotes, spaces, `$` or newlines can get through.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from converter.model import ToolError

NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
ACCOUNT = re.compile(r"^[0-9]{12}$")
REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]$")
# a path in the repository or s3://bucket/key[?versionId=..&workspace=..] (what `--state` accepts, minus stdin)
STATE = re.compile(r"^(s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/[A-Za-z0-9!_.*'()/=&?+:-]+|[A-Za-z0-9_.][A-Za-z0-9._/+-]*)$")
HCL = re.compile(r"^([A-Za-z0-9_.][A-Za-z0-9._/+-]*)?$")
TARGETS_FILE = "ci/drift-targets.json"
TARGETS_FORMAT = "tf2kro.drift-targets/v1"


@dataclass(frozen=True)
class Target:
    name: str
    env: str
    root: str
    account: str
    region: str
    state: str
    hcl: str = ""

    def check(self) -> Target:
        where = f"drift target {self.name!r}"
        for value, rx, what in ((self.name, NAME, "name"), (self.env, NAME, "env"), (self.root, NAME, "root"),
                                (self.account, ACCOUNT, "account (12 digits)"),
                                (self.region, REGION, "region (e.g. eu-west-1)"),
                                (self.state, STATE, "state (a repository path or s3://bucket/key)"),
                                (self.hcl, HCL, "hcl (a repository path)")):
            if not isinstance(value, str) or not rx.match(value) or ".." in value.split("/"):
                raise ToolError(f"{where}: invalid {what}: {value!r}")
        return self


def target_name(env: str, root: str) -> str:
    """`<env>-<root>`, shortened with a stable hash when longer than a DNS label."""
    name = f"{env}-{root}" if root and root != env else env
    if len(name) > 63:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = f"{name[:54].rstrip('-')}-{digest}"
    return name


def targets_from_plans(plans: list[dict[str, Any]]) -> list[Target]:
    """One target per plan document that knows its account and region (a plan without them cannot be scanned:
    it is left out and listed by `missing_targets`)."""
    out = []
    for doc in plans:
        if not doc.get("account_id") or not doc.get("region"):
            continue
        root = str(doc.get("root") or "")
        name = target_name(str(doc["env"]), root)
        recorded = doc.get("state") or {}
        # `source`: the --state as given (plan.json since it has the field); older plans only have the basename
        state = str(recorded.get("source") or recorded.get("path") or "")
        if state.startswith("/"):
            raise ToolError(f"drift target {name!r}: state {state!r} is an absolute path: CI cannot read it "
                            "(give tf2kro plan --state a path relative to this repository, or an s3:// URL)")
        hcl = str(recorded.get("hcl") or "")
        if hcl.startswith("/"):
            raise ToolError(f"drift target {name!r}: hcl {hcl!r} is an absolute path: CI cannot read it "
                            "(give tf2kro plan --hcl a path relative to this repository)")
        out.append(Target(name=name, env=str(doc["env"]), root=root or str(doc["env"]),
                          account=str(doc["account_id"]), region=str(doc["region"]), state=state, hcl=hcl).check())
    names = [t.name for t in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ToolError(f"two plans scan as the same drift target {dup[0]!r} (same env and root)")
    return sorted(out, key=lambda t: t.name)


def split_targets(plans: list[dict[str, Any]]) -> tuple[list[Target], list[str]]:
    """(targets, one line per plan left out and why): a plan whose state CI cannot name (an absolute or odd local
    path) or that lacks account/region is listed in ci/README.md instead of failing `tf2kro plan`."""
    ok, left_out = [], []
    for doc in sorted(plans, key=lambda d: str(d.get("env"))):
        try:
            ok.extend(targets_from_plans([doc]))
        except ToolError as exc:
            left_out.append(f"`{doc.get('env')}`: {exc}")
            continue
        if not doc.get("account_id") or not doc.get("region"):
            left_out.append(f"`{doc.get('env')}`: its plan.json has no account or region")
    names = [t.name for t in ok]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ToolError(f"two plans scan as the same drift target {dup[0]!r} (same env and root)")
    return sorted(ok, key=lambda t: t.name), left_out


def targets_json(targets: list[Target]) -> str:
    return json.dumps({"format": TARGETS_FORMAT, "targets": [asdict(t) for t in targets]}, indent=2) + "\n"
