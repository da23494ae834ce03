"""On-disk cache of per-file HCL parses, as JSON: parsing is the slow part of `--hcl` (python-hcl2 is a pure-Python
LALR parser, ~20 ms per small file; reading a cached parse back is ~50x faster), and a CI job or a user re-running
`tf2kro` on the same configuration parses the same bytes again.

Why JSON and not pickle: the cache lives in the user's home, where another process (or a restored CI cache) may
write; unpickling a planted file executes code, loading JSON cannot. A parse (`hcl_parse.parse_text`) is plain
dicts, lists, strings and numbers, so JSON round-trips it exactly (checked on 328 corpus files).

Key: sha256 of the file's bytes (as text), whether it is a tfvars file, the parse format, the python-hcl2 version and
the tf2kro version, so an upgrade of either never reads an older parse. The path is not part of the key: the parse
does not depend on it, and a module used by several roots parses once.
Location: `$XDG_CACHE_HOME/tf2kro`, else `~/.cache/tf2kro`; the directory is created 0700 and entries 0600 (a parse
holds the configuration's literals). An entry that cannot be read, is not JSON or has the wrong shape is a miss: the
file is parsed again, never an error. A cache that cannot be written is skipped silently.

The CLI turns the cache on for the commands that take `--hcl` (`--no-cache` turns it off); library callers of
`load_hcl` get no cache unless they pass `cache_dir` — `configure()` sets the CLI's choice for this context."""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import os
from pathlib import Path
from typing import Any

FILE_SUFFIX = ".json"

_CONFIGURED: contextvars.ContextVar[Path | None] = contextvars.ContextVar("tf2kro_hcl_cache", default=None)


def user_cache_dir() -> Path:
    """`$XDG_CACHE_HOME/tf2kro` (an absolute XDG_CACHE_HOME only, as the XDG spec says), else `~/.cache/tf2kro`."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "tf2kro"


def configure(cache_dir: str | Path | None) -> None:
    """The cache directory `load_hcl` uses when its caller passes none (None: no cache). Set by the CLI."""
    _CONFIGURED.set(Path(cache_dir) if cache_dir is not None else None)


def configured() -> Path | None:
    return _CONFIGURED.get()


def tool_version() -> str:
    from converter import __version__

    return str(__version__)


class ParseCache:
    """Read and write parses under one directory. Every failure is a miss (read) or a skipped write."""

    def __init__(self, directory: str | Path, key_prefix: str):
        self.directory = Path(directory)
        self._prefix = key_prefix.encode()
        self.usable = _ensure_dir(self.directory)

    def path_for(self, text: str, tfvars: bool) -> Path:
        h = hashlib.sha256(self._prefix + f"|{int(tfvars)}|".encode())
        h.update(text.encode("utf-8", "surrogatepass"))
        return self.directory / f"{h.hexdigest()}{FILE_SUFFIX}"

    def get(self, path: Path) -> dict[str, Any] | None:
        if not self.usable:
            return None
        try:
            with open(path, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError, RecursionError):
            return None  # absent, unreadable, truncated, not JSON: parse again
        if not isinstance(data, dict) or not isinstance(data.get("body"), dict) or not isinstance(data.get("blocks"), list):
            return None
        return data

    def put(self, path: Path, parse: dict[str, Any]) -> None:
        if not self.usable:
            return
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            text = json.dumps(parse, ensure_ascii=False, separators=(",", ":"))
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0), 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except (OSError, ValueError, TypeError, RecursionError):
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)


def _ensure_dir(directory: Path) -> bool:
    """Create the directory 0700 (parents with the default mode); False when it cannot be used."""
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        return directory.is_dir()
    except OSError:
        return False
