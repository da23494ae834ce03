"""A block-style YAML writer byte-identical to `yaml.dump(doc, Dumper=CSafeDumper, sort_keys=False,
default_flow_style=False, width=4096, allow_unicode=True)`, about twice as fast on tf2kro's documents.

Why: PyYAML's representer is Python even with the C dumper, and it re-decides every scalar's style each time it
meets it; emitted documents repeat the same keys and values thousands of times. Here each distinct scalar is
rendered ONCE by PyYAML itself (dumped as a one-item sequence, the text cut out and cached), so quoting is exactly
PyYAML's; this module only lays out block mappings and sequences, which is fixed and simple. Anything whose
layout could depend on context is handed back to PyYAML for the whole document: another value type (PyYAML then
raises or represents it as before), a container met twice in one document (PyYAML writes an anchor and alias), a
scalar that renders over several lines, a key PyYAML writes as a complex `? ` key, or a line long enough that
PyYAML's width-4096 folding could apply.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

try:
    _Dumper: type = yaml.CSafeDumper
except AttributeError:  # pragma: no cover
    _Dumper = yaml.SafeDumper

OPTIONS: dict[str, Any] = {"sort_keys": False, "default_flow_style": False, "width": 4096, "allow_unicode": True}

# PyYAML folds a quoted or plain scalar at a space only once the column passes the width (4096); lines kept
# under this bound can never be folded, so their layout does not depend on where they sit.
_MAX_LINE = 4000
_BREAKS = ("\n", "\r", "\x85", "\u2028", "\u2029")
_SCALAR_TYPES = (str, int, float, bool, type(None))


# A string of these characters, not starting with an indicator, has none of the indicators, spaces, breaks or
# non-printable characters that make PyYAML's emitter quote; it is written plain unless PyYAML's resolver reads it
# back as something else (`yes`, `null`, `True`, ...), which _is_plain asks the resolver itself. Most scalars of a
# manifest (kinds, names, ids, ARNs without `:`) take this path and skip a yaml.dump call.
# Inside the string `:` and `,`, `@`, `=`, `+`, `(`, `)` and single spaces are not indicators to the emitter in
# block context, as long as `:` is not followed by a space or ends the string (ARNs, CIDRs, descriptions).
_PLAIN_SHAPE = re.compile(r"[A-Za-z0-9_./][A-Za-z0-9_./:@=+,()-]*(?: [A-Za-z0-9_./:@=+,()-]+)*\Z")
_STR_TAG = "tag:yaml.org,2002:str"
_resolve = yaml.resolver.Resolver().resolve


def _is_plain(v: Any) -> bool:
    return (type(v) is str and _PLAIN_SHAPE.match(v) is not None and not v.endswith(":") and ": " not in v
            and not v.startswith("...")
            and _resolve(yaml.ScalarNode, v, (True, False)) == _STR_TAG)


_CACHE_LIMIT = 50_000


class _Fallback(Exception):
    """This document needs PyYAML's own layout."""


def pyyaml_dump(doc: Any) -> str:
    """The reference rendering (what tf2kro wrote before this module)."""
    return yaml.dump(doc, Dumper=_Dumper, **OPTIONS)


class BlockWriter:
    """Writes documents; keeps its scalar caches across documents (use one writer per output batch)."""

    def __init__(self) -> None:
        self._values: dict[Any, str | None] = {}
        self._keys: dict[Any, str | None] = {}

    @staticmethod
    def _cache_key(v: Any) -> Any:
        t = type(v)
        if t is str:
            return v
        if t not in _SCALAR_TYPES:
            raise _Fallback
        # 1 == 1.0 == True and 0.0 == -0.0 hash alike: key by type and repr
        return (t, repr(v))

    def _value(self, v: Any) -> str:
        ck = self._cache_key(v)
        text = self._values.get(ck, "")
        if text == "" and _is_plain(v):
            self._values[ck] = text = v
        elif text == "":
            out = yaml.dump([v], Dumper=_Dumper, **OPTIONS)
            body = out[2:-1]
            ok = out.startswith("- ") and out.endswith("\n") and not any(b in body for b in _BREAKS)
            text = (v if body == v else body) if ok else None  # a plain scalar: keep one copy of the text
            self._values[ck] = text
        if text is None:
            raise _Fallback
        return text

    def _key(self, k: Any) -> str:
        ck = self._cache_key(k)
        text = self._keys.get(ck, "")
        if text == "" and _is_plain(k) and len(k) < 128:  # PyYAML writes a key of 128+ characters as `? key`
            self._keys[ck] = text = k
        elif text == "":
            out = yaml.dump({k: None}, Dumper=_Dumper, **OPTIONS)
            body = out[:-len(": null\n")]
            ok = (out.endswith(": null\n") and not out.startswith("? ")
                  and not any(b in body for b in _BREAKS))
            text = body if ok else None
            self._keys[ck] = text
        if text is None:
            raise _Fallback
        return text

    def dump(self, doc: Any) -> str:
        """One document, exactly as `pyyaml_dump(doc)` writes it."""
        if len(self._values) + len(self._keys) > _CACHE_LIMIT:
            # bounded memory on large estates (unbounded, the caches added ~115 MiB peak RSS at 50k); the
            # hot keys and values are back after a few documents
            self._values.clear()
            self._keys.clear()
        t = type(doc)
        if (t is dict or t is list) and doc:
            out: list[str] = []
            seen: set[int] = set()
            try:
                if t is dict:
                    self._map(doc, 0, out, False, seen)
                else:
                    self._seq(doc, 0, out, False, seen)
                return "".join(out)
            except _Fallback:
                pass
        return pyyaml_dump(doc)

    def _map(self, d: dict[Any, Any], ind: int, out: list[str], inline: bool, seen: set[int]) -> None:
        if id(d) in seen:
            raise _Fallback
        seen.add(id(d))
        pad = " " * ind
        first = inline
        for k, v in d.items():
            ks = self._key(k)
            if first:
                first = False
            else:
                out.append(pad)
            tv = type(v)
            if tv is dict:
                if v:
                    out.append(ks + ":\n")
                    self._map(v, ind + 2, out, False, seen)
                else:
                    if id(v) in seen:
                        raise _Fallback
                    seen.add(id(v))
                    out.append(ks + ": {}\n")
            elif tv is list:
                if v:
                    out.append(ks + ":\n")
                    self._seq(v, ind, out, False, seen)
                else:
                    if id(v) in seen:
                        raise _Fallback
                    seen.add(id(v))
                    out.append(ks + ": []\n")
            else:
                s = self._value(v)
                if ind + len(ks) + len(s) + 2 > _MAX_LINE:
                    raise _Fallback
                out.append(ks + ": " + s + "\n")

    def _seq(self, items: list[Any], ind: int, out: list[str], inline: bool, seen: set[int]) -> None:
        if id(items) in seen:
            raise _Fallback
        seen.add(id(items))
        item_pad = " " * ind + "- "
        first = inline
        for v in items:
            if first:
                out.append("- ")
                first = False
            else:
                out.append(item_pad)
            tv = type(v)
            if tv is dict:
                if v:
                    self._map(v, ind + 2, out, True, seen)
                    continue
                if id(v) in seen:
                    raise _Fallback
                seen.add(id(v))
                out.append("{}\n")
            elif tv is list:
                if v:
                    self._seq(v, ind + 2, out, True, seen)
                    continue
                if id(v) in seen:
                    raise _Fallback
                seen.add(id(v))
                out.append("[]\n")
            else:
                s = self._value(v)
                if ind + len(s) + 2 > _MAX_LINE:
                    raise _Fallback
                out.append(s + "\n")


_writer = BlockWriter()


def dump_all(docs: Any) -> str:
    """Multi-document YAML joined by `---` lines, as tf2kro's dump_yaml always wrote it. One writer is shared
    by every call (a convert writes many files with the same keys and values); its caches are dropped once they
    hold _CACHE_LIMIT scalars."""
    w = _writer
    return "---\n".join([w.dump(d) for d in docs])
