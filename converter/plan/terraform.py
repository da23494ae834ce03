"""The Terraform half of a phase handoff, as text: `removed {}` blocks (Terraform ≥ 1.7), rollback `import {}`
blocks (Terraform ≥ 1.5) and a `terraform state rm` script.

The HCL is generated here (python-hcl2's `dumps` quotes labels and strings poorly) and, when `terraform` is on
PATH, normalised with `terraform fmt -` (no provider or init needed). Tests parse every file back with python-hcl2.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from typing import Any

from converter.load.address import hcl_quote, is_address
from converter.model import ToolError

MANUAL = "manual"
_FIELD = re.compile(r"\{([^{}]+)\}")


@dataclass
class ImportId:
    value: str | None  # None = could not be built: `manual` says why
    manual: str | None = None


def import_id(template: str | None, attributes: dict[str, Any]) -> ImportId:
    """Build a Terraform import ID from a mapping's `import_id` template (default `{id}`).

    `{a}` is the state attribute `a`; `{a|b|c}` takes the first of them that is set (aws_route's destination is
    one of three attributes). A template starting with `manual` is not buildable: the rest is the reason."""
    tpl = template or "{id}"
    if tpl.strip().lower().startswith(MANUAL):
        reason = tpl.strip()[len(MANUAL):].lstrip(" :-—") or "the import ID cannot be derived from state"
        return ImportId(None, reason)
    missing: list[str] = []

    def sub(m: re.Match[str]) -> str:
        for name in m.group(1).split("|"):
            v = attributes.get(name.strip())
            if isinstance(v, bool):
                return "true" if v else "false"
            if isinstance(v, (str, int)) and str(v) != "":
                return str(v)
        missing.append(m.group(1))
        return ""

    value = _FIELD.sub(sub, tpl)
    if missing:
        return ImportId(None, f"attribute(s) {', '.join(missing)} not set in state (template {tpl!r})")
    return ImportId(value)


def hcl_string(value: str) -> str:
    """A quoted HCL string literal: escapes, and template sequences made literal (the one quoting function,
    `converter.load.address.hcl_quote`, which is Terraform's own)."""
    return hcl_quote(value)


def hcl_address(address: str) -> str:
    """An address placed unquoted in HCL (`from =`, `to =`): only ever a well-formed Terraform address, whose
    instance keys the loader rendered through hcl_quote. Anything else would be code, so it is refused."""
    if not is_address(address):
        raise ToolError(f"refusing to write {address[:120]!r} into Terraform: not a resource address "
                        "(this is a tf2kro bug; nothing was written)")
    return address


def hcl_comment(text: str) -> list[str]:
    """`# ` comment lines: every line break Python knows (a superset of HCL's) starts a new comment line."""
    return [f"# {c}" for c in text.splitlines()]


def removed_block(config_address: str, comment: str = "") -> str:
    lines = hcl_comment(comment) if comment else []
    lines += [
        "removed {",
        f"  from = {hcl_address(config_address)}",
        "",
        "  lifecycle {",
        "    destroy = false",
        "  }",
        "}",
    ]
    return "\n".join(lines) + "\n"


def import_block(address: str, ident: str, comment: str = "") -> str:
    lines = hcl_comment(comment) if comment else []
    lines += ["import {", f"  to = {hcl_address(address)}", f"  id = {hcl_string(ident)}", "}"]
    return "\n".join(lines) + "\n"


def shell_quote(s: str) -> str:
    """One shell word, whatever `s` holds (shlex.quote: single quotes, `'` spelled `'"'"'`)."""
    return shlex.quote(s)


def terraform_fmt(text: str) -> str:
    """`terraform fmt -` when terraform is on PATH (HOME in a temp dir, no checkpoint calls); else `text`."""
    exe = shutil.which("terraform")
    if not exe or not text.strip():
        return text
    with tempfile.TemporaryDirectory(prefix="tf2kro-fmt-") as home:
        env = {**os.environ, "HOME": home, "CHECKPOINT_DISABLE": "1", "TF_CLI_CONFIG_FILE": os.devnull,
               "TF_IN_AUTOMATION": "1"}
        try:
            proc = subprocess.run([exe, "fmt", "-no-color", "-"], input=text, capture_output=True, text=True,
                                  env=env, timeout=60, cwd=home)
        except (OSError, subprocess.SubprocessError):
            return text
    return proc.stdout if proc.returncode == 0 and proc.stdout else text
