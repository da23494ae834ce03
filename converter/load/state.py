"""Load terraform.tfstate (format v4) into `StateFile`.

Why read the JSON directly: `terraform show -json` needs the provider schemas installed (see
reference/toolchain.md §2), while the v4 state is self-describing. Older formats (v3 and before, Terraform
≤ 0.11) have a different shape and are refused with a message that says how to upgrade, never half-read.
"""

from __future__ import annotations

import gc
import json
import math
import re
from pathlib import Path
from typing import IO, Any

from converter.load.address import hcl_quote
from converter.model import ResourceInstance, SensitivePath, StateFile, ToolError

SUPPORTED_VERSION = 4

#: Terraform's identifier grammar (hclsyntax: ID_Start/`_` then ID_Continue/`-`), restricted to what a resource
#: type, resource name or module call name can be. Anything else in state was hand-edited or crafted, and would
#: turn into code when it is interpolated into a generated `removed`/`import` block or a shell script.
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_MODULE_STEP = re.compile(r'module\.([A-Za-z_][A-Za-z0-9_-]*)(\[(?:[0-9]+|"(?:[^"\\\n\r]|\\.)*")\])?')
MODES = ("managed", "data")


def load_state(source: str | Path | IO[str], *, workspace: str | None = None, region: str | None = None) -> StateFile:
    """Read a state: a path, `-` for standard input (so `terraform state pull | tf2kro ...` works), or an
    `s3://bucket/key[?versionId=…]` URL (see converter.load.source)."""
    if isinstance(source, (str, Path)):
        from converter.load.source import read_source

        name, text = read_source(source, workspace=workspace, region=region)
    else:
        name, text = getattr(source, "name", "<stream>"), source.read()
    return parse_state(text, name)


#: From this size on, the document is parsed with the cyclic GC paused and then frozen (see parse_state).
FREEZE_BYTES = 4 * 2**20


def parse_state(text: str, name: str = "<state>") -> StateFile:
    """Parse state JSON. A large state is millions of small containers that live until the process ends and hold
    no reference cycles: the cyclic GC is paused while they are built (its collections would rescan them again and
    again) and they are then moved to the permanent generation (`gc.freeze`), so later stages' collections skip them.
    """
    if len(text) < FREEZE_BYTES:
        return _parse_state(text, name)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _parse_state(text, name)
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def _parse_state(text: str, name: str) -> StateFile:
    if not text.strip():
        raise ToolError("state file is empty", source=name)
    doc = strict_json_loads(text, name, what="state file")
    if not isinstance(doc, dict) or "version" not in doc or not any(
        k in doc for k in ("resources", "modules", "terraform_version", "lineage")
    ):
        raise ToolError("not a Terraform state file (no 'version'/'resources'); give the terraform.tfstate JSON", source=name)
    version = doc.get("version")
    if not isinstance(version, int):
        raise ToolError(f"state 'version' must be an integer, got {version!r}", source=name)
    if version < SUPPORTED_VERSION:
        raise ToolError(
            f"state format version {version} (its terraform_version field says {doc.get('terraform_version', '?')}) "
            "is not supported: tf2kro reads format 4, the format Terraform 0.12 and later write. Upgrade the file "
            "with Terraform ≥ 0.12: `terraform init`, then `terraform state pull > terraform.tfstate`, and convert "
            "that file",
            source=name,
        )
    if version > SUPPORTED_VERSION:
        raise ToolError(f"state format version {version} is newer than this tool understands (4)", source=name)
    resources = doc.get("resources")
    if not isinstance(resources, list):
        raise ToolError("state has no 'resources' list", source=name)

    instances: list[ResourceInstance] = []
    for ri, res in enumerate(resources):
        instances.extend(_resource_instances(res, ri, name))
    return StateFile(
        path=name,
        version=version,
        terraform_version=str(doc.get("terraform_version", "")),
        serial=_int(doc.get("serial"), "serial", name),
        lineage=str(doc.get("lineage", "")),
        instances=instances,
        outputs=_outputs(doc.get("outputs"), name),
        check_results=doc.get("check_results"),
    )


def _refuse_constant(token: str) -> Any:
    raise ValueError(f"{token} is not a JSON number (Terraform never writes it)")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r} in one object (which one would Terraform use?)")
        out[k] = v
    return out


def _finite_float(text: str) -> float:
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"number {text[:40]} is out of range")
    return value


def strict_json_loads(text: str, name: str, what: str = "file") -> Any:
    """JSON as Terraform writes it, refusing what it never writes: NaN/Infinity, numbers out of float range,
    integers longer than Python converts (ValueError), duplicate keys, nesting deeper than the parser's stack.
    Every refusal is one ToolError naming the file, never a traceback."""
    try:
        return json.loads(text, object_pairs_hook=_unique_keys, parse_constant=_refuse_constant,
                          parse_float=_finite_float)
    except json.JSONDecodeError as exc:
        hint = " (the file looks truncated)" if exc.pos >= len(text.rstrip()) - 1 else ""
        raise ToolError(f"not valid JSON at line {exc.lineno} column {exc.colno}{hint}: {exc.msg}", source=name) from None
    except RecursionError:
        raise ToolError(f"{what} is nested too deeply to be a Terraform document", source=name) from None
    except ValueError as exc:
        raise ToolError(f"{what} refused: {str(exc).splitlines()[0][:200]}", source=name) from None


def _identifier(value: str, what: str, where: str) -> str:
    if not IDENTIFIER.match(value):
        raise ToolError(f"{what} {value[:80]!r} is not a Terraform identifier (letters, digits, '_' and '-', "
                        "starting with a letter or '_')", source=where)
    return value


def _module_path(module: str, where: str) -> str:
    pos = 0
    while pos < len(module):
        m = _MODULE_STEP.match(module, pos)
        if m is None:
            raise ToolError(f"module address {module[:120]!r} is not a Terraform module path "
                            '(module.NAME, module.NAME[0], module.NAME["key"], joined by ".")', source=where)
        pos = m.end()
        if pos < len(module):
            if module[pos] != ".":
                raise ToolError(f"module address {module[:120]!r} is not a Terraform module path", source=where)
            pos += 1
            if pos == len(module):
                raise ToolError(f"module address {module[:120]!r} ends with '.'", source=where)
    return module


def _resource_instances(res: Any, ri: int, name: str) -> list[ResourceInstance]:
    where = f"{name}: resources[{ri}]"
    if not isinstance(res, dict):
        raise ToolError("resource entry is not an object", source=where)
    for key in ("mode", "type", "name"):
        if not isinstance(res.get(key), str):
            raise ToolError(f"resource entry lacks '{key}'", source=where)
    if res["mode"] not in MODES:
        raise ToolError(f"resource mode {res['mode'][:40]!r} is neither 'managed' nor 'data'", source=where)
    _identifier(res["type"], "resource type", where)
    _identifier(res["name"], "resource name", where)
    module = res.get("module") or ""
    if not isinstance(module, str):
        raise ToolError("resource entry's 'module' is not a string", source=where)
    _module_path(module, where)
    out: list[ResourceInstance] = []
    raw_instances = res.get("instances") or []  # zero-instance blocks (count = 0) are legal and skipped
    if not isinstance(raw_instances, list):
        raise ToolError("'instances' is not a list", source=where)
    for ii, inst in enumerate(raw_instances):
        if not isinstance(inst, dict):
            raise ToolError(f"instances[{ii}] is not an object", source=where)
        attrs = inst.get("attributes")
        if attrs is None and "attributes_flat" in inst:
            flat = inst["attributes_flat"]
            if not isinstance(flat, dict) or not all(isinstance(v, str) for v in flat.values()):
                raise ToolError(f"instances[{ii}].attributes_flat is not an object of strings", source=where)
            attrs = _unflatten(flat)
        if not isinstance(attrs, dict):
            raise ToolError(f"instances[{ii}] has no attributes object", source=f"{where} {res['type']}.{res['name']}")
        key = inst.get("index_key")
        if key is not None and (isinstance(key, bool) or not isinstance(key, (int, str))):
            raise ToolError(f"instances[{ii}].index_key is neither a number nor a string", source=where)
        address = instance_address(module, res["mode"], res["type"], res["name"], key)
        deposed = inst.get("deposed")
        out.append(
            ResourceInstance(
                address=address + (f" (deposed {deposed})" if deposed else ""),
                mode=res["mode"],
                type=res["type"],
                name=res["name"],
                module=module,
                index_key=key,
                provider=str(res.get("provider", "")),
                attributes=attrs,
                schema_version=_int(inst.get("schema_version"), f"instances[{ii}].schema_version", where),
                sensitive_paths=tuple(_sensitive_paths(inst.get("sensitive_attributes"), f"{where} instances[{ii}]")),
                dependencies=tuple(d for d in _list(inst.get("dependencies"), f"instances[{ii}].dependencies", where)
                                   if isinstance(d, str)),
                tainted=inst.get("status") == "tainted",
                deposed=bool(deposed),
                identity=inst.get("identity") if isinstance(inst.get("identity"), dict) else None,
                source_file=name,
            )
        )
    return out


def _int(value: Any, what: str, where: str) -> int:
    """Terraform writes these as JSON integers; anything else means the file was damaged or hand-edited."""
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int):
        raise ToolError(f"'{what}' is not an integer", source=where)
    return value


def _list(value: Any, what: str, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ToolError(f"'{what}' is not a list", source=where)
    return value


def _outputs(value: Any, where: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise ToolError("'outputs' is not an object of output objects", source=where)
    return value


def instance_address(module: str, mode: str, rtype: str, rname: str, key: int | str | None) -> str:
    """Terraform's own address syntax: `module.a["k"].aws_x.y[0]`."""
    base = f"{rtype}.{rname}" if mode == "managed" else f"data.{rtype}.{rname}"
    if module:
        base = f"{module}.{base}"
    if key is None:
        return base
    if isinstance(key, bool) or not isinstance(key, (int, str)):
        key = str(key)
    return f"{base}[{key}]" if isinstance(key, int) else f"{base}[{hcl_quote(key)}]"


def _sensitive_paths(raw: Any, where: str = "") -> list[SensitivePath]:
    """Terraform writes `[[{"type": "get_attr", "value": "password"}, {"type": "index", "value": {...}}]]`."""
    paths: list[SensitivePath] = []
    if not isinstance(raw, list):
        return paths
    for path in raw:
        steps: list[str | int] = []
        if isinstance(path, list):
            for step in path:
                if not isinstance(step, dict):
                    continue
                value = step.get("value")
                if step.get("type") == "get_attr" and isinstance(value, str):
                    steps.append(value)
                elif step.get("type") == "index":
                    v = value.get("value") if isinstance(value, dict) else value
                    if isinstance(v, float) and not v.is_integer():
                        raise ToolError(f"sensitive_attributes index {v!r} is not a whole number", source=where)
                    steps.append(int(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v))
        elif isinstance(path, str):  # tolerate a flat "a.b" form
            steps = list(path.split("."))
        if steps:
            paths.append(SensitivePath(tuple(steps)))
    return paths


def _unflatten(flat: dict[str, str]) -> dict[str, Any]:
    """`attributes_flat` (legacy SDKv1 shape inside v4) → nested; counts (`x.#`, `x.%`) dropped."""
    out: dict[str, Any] = {}
    for key, value in sorted(flat.items()):
        parts = key.split(".")
        if parts[-1] in ("#", "%"):
            continue
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                break
        else:
            node[parts[-1]] = value
    return out
