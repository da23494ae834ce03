"""Structural scrubbing of state secrets out of live reads and report data.

WHY structural: scrubbing the serialised text only finds a secret in its raw form; once JSON-escaped (`\\"`),
XML-escaped (`&amp;`) or HTML-entity-escaped (Markdown cells) it slips through. Scrubbing every string leaf (and
key) *before* serialisation catches it in whatever form it is later written; the renderers still scrub their
final text as a second guard.
"""

from __future__ import annotations

from typing import Any

from converter.secrets import scrub

MASK = "***"


def scrub_tree(node: Any, secrets: list[str] | tuple[str, ...] | set[str]) -> Any:
    """A copy of `node` (JSON-like) with every occurrence of a secret in any string leaf or key replaced by ***."""
    needles = sorted({s for s in secrets if s}, key=len, reverse=True)
    if not needles:
        return node

    def walk(n: Any) -> Any:
        if isinstance(n, str):
            return scrub(n, needles) if any(s in n for s in needles) else n
        if isinstance(n, dict):
            return {walk(k) if isinstance(k, str) else k: walk(v) for k, v in n.items()}
        if isinstance(n, (list, tuple)):
            return [walk(v) for v in n]
        return n

    return walk(node)


def contains_secret(node: Any, secrets: list[str] | tuple[str, ...] | set[str]) -> bool:
    """True when any string leaf or key of `node` contains a secret (used by tests and as a last check)."""
    needles = [s for s in secrets if s]
    if isinstance(node, str):
        return any(s in node for s in needles)
    if isinstance(node, dict):
        return any(contains_secret(k, needles) or contains_secret(v, needles) for k, v in node.items())
    if isinstance(node, (list, tuple)):
        return any(contains_secret(v, needles) for v in node)
    return False
