"""Write an output tree atomically, after checking it for secrets.

Why: a half-written GitOps directory that ArgoCD syncs is worse than none, and a secret committed to Git
cannot be taken back. So everything is rendered in memory, scanned for every sensitive value of the state,
written to a temporary sibling directory, and only then swapped into place.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import ahocorasick
import yaml

from converter.model import ToolError
from converter.secrets import PEM_BLOCK

try:
    _Dumper: type = yaml.CSafeDumper
except AttributeError:  # pragma: no cover
    _Dumper = yaml.SafeDumper


def dump_yaml(docs: Iterable[Any]) -> str:
    """Multi-document YAML, keys in the order built (callers build them deterministically)."""
    parts = [yaml.dump(d, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=4096, allow_unicode=True)
             for d in docs]
    return "---\n".join(parts)


class LeakError(ToolError):
    pass


def check_no_secrets(files: dict[str, str], secrets: Iterable[str]) -> None:
    """Refuse output that contains any sensitive value of the state, or a private-key block.

    One Aho-Corasick pass per file (pyahocorasick) finds every needle at once: the scan is linear in the output
    size whatever the number of secrets. A `needle in text` loop was O(secrets x output) and dominated the write
    of large estates (50k resources: ~480 secrets x 80 MiB)."""
    needles = {s for s in secrets if isinstance(s, str) and len(s) >= 6}
    automaton = None
    if needles:
        automaton = ahocorasick.Automaton(ahocorasick.STORE_LENGTH)
        for s in needles:
            automaton.add_word(s)
        automaton.make_automaton()
    for rel, text in files.items():
        if automaton is not None:
            for _ in automaton.iter(text):
                raise LeakError(
                    "refusing to write output: a sensitive value from the state would appear in it "
                    "(this is a tf2kro bug; nothing was written)",
                    source=rel,
                )
        if PEM_BLOCK.search(text):
            raise LeakError("refusing to write output: a private key block would appear in it", source=rel)


def write_tree(out: str | Path, files: dict[str, str], secrets: Iterable[str] = ()) -> Path:
    """Replace directory `out` with exactly `files` (relative path → text). All or nothing."""
    check_no_secrets(files, secrets)
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists() and not out.is_dir():
        raise ToolError("output path exists and is not a directory", source=str(out))
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        for rel, text in sorted(files.items()):
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        old = None
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            old.rmdir()
            os.rename(out, old)
        os.rename(tmp, out)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out
