"""Who may merge: CODEOWNERS and a GitHub repository ruleset (required reviews from code owners, the CI jobs as
required status checks, signed commits, no force-push or deletion), applied with one `gh api` call.

Why a ruleset rather than the classic branch-protection endpoint: one JSON document carries all of it
(`required_signatures` included), and `gh api --method POST repos/OWNER/REPO/rulesets --input FILE` applies it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from converter.model import ToolError

# @user, @org/team, or an e-mail address: what GitHub accepts as an owner. Checked because a newline or a space in
# an owner would add a rule of its own to CODEOWNERS.
OWNER = re.compile(r"^(@[A-Za-z0-9][A-Za-z0-9-]{0,38}(/[A-Za-z0-9][A-Za-z0-9._-]{0,99})?|[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})$")
_PATTERN = re.compile(r"^/?[A-Za-z0-9._*/-]+/?$")
RULESET_FILE = ".github/branch-protection.json"


def check_owners(owners: Iterable[Any], where: str) -> list[str]:
    out = []
    for o in owners:
        if not isinstance(o, str) or not OWNER.match(o):
            raise ToolError(f"{where}: {o!r} is not a code owner (@user, @org/team or an e-mail address)")
        out.append(o)
    return out


def codeowners(rules: list[tuple[str, list[str]]], header: str) -> str:
    """CODEOWNERS text; the last matching pattern wins on GitHub, so rules go from general to specific."""
    lines = [f"# {ln}" if ln else "#" for ln in header.splitlines()]
    for pattern, owners in rules:
        if not _PATTERN.match(pattern) or ".." in pattern.split("/"):
            raise ToolError(f"CODEOWNERS pattern {pattern!r} is not a plain path")
        lines.append(f"{pattern} {' '.join(check_owners(owners, f'CODEOWNERS {pattern}'))}")
    return "\n".join(lines) + "\n"


def ruleset(name: str, checks: list[str], approvals: int = 1, branch: str | None = None) -> dict[str, Any]:
    """The ruleset body of POST /repos/{owner}/{repo}/rulesets."""
    if not 1 <= approvals <= 6:
        raise ToolError(f"approval.requiredApprovals must be 1..6, got {approvals}")
    ref = "~DEFAULT_BRANCH" if not branch else f"refs/heads/{branch}"
    if branch and not re.match(r"^[A-Za-z0-9._/-]+$", branch):
        raise ToolError(f"approval.branch {branch!r} is not a plain branch name")
    return {
        "name": name,
        "target": "branch",
        "enforcement": "active",
        "conditions": {"ref_name": {"include": [ref], "exclude": []}},
        "rules": [
            {"type": "deletion"},
            {"type": "non_fast_forward"},
            {"type": "required_signatures"},
            {"type": "pull_request", "parameters": {
                "required_approving_review_count": approvals,
                "require_code_owner_review": True,
                "dismiss_stale_reviews_on_push": True,
                "require_last_push_approval": True,
                "required_review_thread_resolution": True,
            }},
            {"type": "required_status_checks", "parameters": {
                "strict_required_status_checks_policy": True,
                "required_status_checks": [{"context": c} for c in checks],
            }},
        ],
    }


def ruleset_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2) + "\n"


def apply_doc(checks: list[str]) -> str:
    """The README section that says how to apply the ruleset, and what it enforces."""
    rows = "\n".join(f"| `{c}` |" for c in checks)
    return f"""## Branch protection

`{RULESET_FILE}` is a GitHub repository ruleset: pull requests only, reviews from CODEOWNERS (stale approvals
dismissed, the last push approved by someone else), signed commits, no force-push or deletion, and these
required status checks (the CI job names; strict: the branch must be up to date):

| required check |
|---|
{rows}

Apply it once (repository admin; `gh` authenticated):

```sh
gh api --method POST "repos/OWNER/REPO/rulesets" --input {RULESET_FILE}
```

After a change of the required checks (e.g. a new drift target), update it: `gh api "repos/OWNER/REPO/rulesets"` lists the id,
then `gh api --method PUT "repos/OWNER/REPO/rulesets/ID" --input {RULESET_FILE}`.
"""
