"""Source paths into Terraform state attributes, as written in mappings/*.yaml.

`vpc_config.subnet_ids`, `scaling_config[0].desired_size`, `tags_all`. Terraform stores single nested blocks
as one-element lists, so a name step applied to a one-element list descends into its element: mapping
authors write `vpc_config.subnet_ids` and it works for both shapes.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")
MISSING = object()


@lru_cache(maxsize=4096)
def parse_path(path: str) -> tuple[str | int, ...]:
    steps: list[str | int] = []
    for name, idx in _STEP.findall(path):
        if idx:
            steps.append(int(idx))
        elif name.isdigit():
            steps.append(int(name))
        else:
            steps.append(name)
    return tuple(steps)


def resolve(data: Any, path: str) -> Any:
    """The value at `path`, or MISSING. Never raises on shape mismatches: absent is absent."""
    node = data
    for step in parse_path(path):
        if isinstance(step, int):
            if isinstance(node, list) and -len(node) <= step < len(node):
                node = node[step]
            else:
                return MISSING
            continue
        if isinstance(node, list):
            if len(node) == 1 and isinstance(node[0], dict):
                node = node[0]
            else:
                return MISSING
        if not isinstance(node, dict) or step not in node:
            return MISSING
        node = node[step]
    return node


def resolved_steps(data: Any, path: str) -> tuple[str | int, ...]:
    """The concrete steps `resolve` walked (with implicit `[0]`s), used to test sensitivity of a path."""
    out: list[str | int] = []
    node = data
    for step in parse_path(path):
        if isinstance(step, str) and isinstance(node, list) and len(node) == 1:
            out.append(0)
            node = node[0]
        out.append(step)
        try:
            node = node[step]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            break
    return tuple(out)


def assign(target: dict[str, Any], dotted: str, value: Any) -> None:
    """Set `a.b.c` in a nested dict, creating intermediate objects (ACK field paths are plain dotted names)."""
    parts = dotted.split(".")
    node = target
    for part in parts[:-1]:
        nxt = node.get(part)
        if not isinstance(nxt, dict):
            nxt = {}
            node[part] = nxt
        node = nxt
    node[parts[-1]] = value


def lookup(target: dict[str, Any], dotted: str) -> Any:
    node: Any = target
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return MISSING
        node = node[part]
    return node
