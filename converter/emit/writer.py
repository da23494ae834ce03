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

import yaml

from converter import leakscan
from converter.model import ToolError

try:
    _Dumper: type = yaml.CSafeDumper
except AttributeError:  # pragma: no cover
    _Dumper = yaml.SafeDumper


def dump_yaml(docs: Iterable[Any]) -> str:
    """Multi-document YAML, keys in the order built (callers build them deterministically)."""
    parts = [yaml.dump(d, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=4096, allow_unicode=True)
             for d in docs]
    return "---\n".join(parts)


LeakError = leakscan.LeakError  # kept here: callers and tests import it from the writer


def check_no_secrets(files: dict[str, str], secrets: Iterable[str]) -> None:
    """Refuse output that contains any sensitive value of the state (in any encoding tf2kro emits) or a private-key
    block: delegates to converter.leakscan, one Aho-Corasick pass per file over every encoded form."""
    leakscan.check_no_secrets(files, secrets)


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
