"""The estate file `tf2kro.yaml` and the repeatable `--state`: which Terraform roots make up the estate.

Why a file: a real estate is several roots (network, cluster, addons; per account and region) whose states live in S3
under different keys and workspaces. Converting them together is what lets a subnet id in the cluster root become a
reference to the network root's Subnet object instead of a literal; the file records that set once, reviewably.

The file is validated against the JSON Schema shipped next to this module (`tf2kro.schema.json`, additionalProperties
false everywhere): a typo such as `stat:` is an error naming the key and the file, never silently ignored.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

from converter.load.source import is_s3
from converter.model import ToolError

SCHEMA_FILE = Path(__file__).with_name("tf2kro.schema.json")
_ROOT_NAME = re.compile(r"^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$")


@dataclass(frozen=True)
class RootSpec:
    """One Terraform root of the estate."""

    name: str
    state: str  # path, "-" or s3:// URL
    hcl: str | None = None
    var_files: tuple[str, ...] = ()
    workspace: str | None = None
    env: str | None = None
    account: str | None = None
    region: str | None = None


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))


def load_estate_file(path: str | Path) -> list[RootSpec]:
    """Read and validate `tf2kro.yaml`; relative paths in it are relative to the file's directory."""
    import yaml
    from jsonschema import Draft202012Validator

    p = Path(path)
    try:
        doc = yaml.safe_load(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ToolError("estate file not found", source=str(p)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ToolError(f"cannot read estate file: {exc}", source=str(p)) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        raise ToolError(f"not valid YAML{where}", source=str(p)) from None
    # an unknown key first: `stat:` also makes `state` missing, and the typo is what to fix
    errors = sorted(Draft202012Validator(schema()).iter_errors(doc),
                    key=lambda e: (e.validator != "additionalProperties", [str(s) for s in e.absolute_path], e.message))
    if errors:
        err = errors[0]
        raise ToolError(f"{_json_path(err.absolute_path)}: {_message(err)}", source=str(p))
    base = p.parent
    roots = [_root(r, base) for r in doc["roots"]]
    check_roots(roots, str(p))
    return roots


def _json_path(steps: Any) -> str:
    out = "estate"
    for s in steps:
        out += f"[{s}]" if isinstance(s, int) else f".{s}"
    return out


def _message(err: Any) -> str:
    """jsonschema's message, without echoing long values (a state URL can carry a versionId, which is harmless, but a
    mistyped YAML document can be large)."""
    if err.validator == "additionalProperties":
        known = sorted(err.schema.get("properties", {}))
        extra = sorted(str(k) for k in set(err.instance) - set(known))
        close = difflib.get_close_matches(extra[0], known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return f"unknown key {_short(extra[0])} ({hint}known: {', '.join(known)})"
    if err.validator == "required":
        return err.message.replace(" is a required property", " is required")
    if err.validator == "pattern":
        return f"{_short(err.instance)} does not match {err.validator_value}"
    return err.message if len(err.message) < 200 else err.message[:200] + "…"


def _short(v: Any) -> str:
    r = repr(v)
    return r if len(r) <= 80 else r[:77] + "…"


def _rel(value: str, base: Path) -> str:
    return value if value == "-" or is_s3(value) or Path(value).is_absolute() else str(base / value)


def _root(raw: dict[str, Any], base: Path) -> RootSpec:
    return RootSpec(
        name=raw["name"],
        state=_rel(raw["state"], base),
        hcl=_rel(raw["hcl"], base) if raw.get("hcl") else None,
        var_files=tuple(_rel(v, base) for v in raw.get("var_files", ())),
        workspace=raw.get("workspace"),
        env=raw.get("env"),
        account=raw.get("account"),
        region=raw.get("region"),
    )


def check_roots(roots: list[RootSpec], where: str) -> None:
    """Names are unique output directories; standard input can be read once."""
    seen: set[str] = set()
    for r in roots:
        if r.name in seen:
            raise ToolError(f"root name {r.name!r} is used twice (each root needs its own name)", source=where)
        seen.add(r.name)
    if sum(1 for r in roots if r.state == "-") > 1:
        raise ToolError("only one root can read its state from standard input ('-')", source=where)


def roots_from_states(states: tuple[str, ...], hcl_dir: str | None, var_files: tuple[str, ...],
                      workspace: str | None, region: str | None) -> list[RootSpec]:
    """Repeatable `--state [NAME=]SOURCE`: one root per value. Without `NAME=` the root is named after the directory
    (or S3 key prefix) holding the state, else the file's stem. `--hcl`/`--var-file` only fit one root."""
    if len(states) > 1 and (hcl_dir or var_files):
        raise ToolError("--hcl/--var-file apply to one root; with several --state give the HCL per root in an "
                        "estate file (--estate tf2kro.yaml)")
    roots: list[RootSpec] = []
    for value in states:
        name, source = split_named(value)
        if name is None:
            name = default_root_name(source) if len(states) > 1 else "main"
        roots.append(RootSpec(name=name, state=source, hcl=hcl_dir, var_files=var_files, workspace=workspace, region=region))
    if len(roots) > 1:
        taken: dict[str, int] = {}
        for i, r in enumerate(roots):  # same directory names (two `terraform.tfstate` in `.`): number them
            n = taken[r.name] = taken.get(r.name, 0) + 1
            if n > 1:
                roots[i] = RootSpec(**{**r.__dict__, "name": f"{r.name[:28].rstrip('-')}-{n}"})
        check_roots(roots, "--state")
    return roots


def split_named(value: str) -> tuple[str | None, str]:
    m = re.match(r"^([a-z][a-z0-9-]{0,31})=(.+)$", value)
    if m and _ROOT_NAME.match(m.group(1)) and not value.startswith("s3://"):
        return m.group(1), m.group(2)
    return None, value


def default_root_name(source: str) -> str:
    if source == "-":
        return "stdin"
    path = source.split("?", 1)[0]
    path = path[len("s3://"):].split("/", 1)[-1] if is_s3(path) else path
    pp = PurePosixPath(path.replace("\\", "/"))
    stem = pp.name.removesuffix(".tfstate").removesuffix(".json")
    candidate = pp.parent.name if stem in ("terraform", "") and pp.parent.name not in ("", ".", "..") else stem
    name = re.sub(r"[^a-z0-9-]+", "-", candidate.lower()).strip("-")[:32].strip("-")
    if not name or not name[0].isalpha():
        name = f"root-{name}".strip("-")[:32].strip("-")
    return name
