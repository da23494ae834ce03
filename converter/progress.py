"""Progress of long work on stderr, only when stderr is a terminal.

A 50k-resource convert ran 1 min 45 s in silence. On a terminal each stage (load / map / graph / render / write,
or read / compare for diff) prints one line with the time since the run started, and per-item steps (the AWS
type being read) rewrite a single status line. Every line ends with a newline (the step line is erased by
moving up), so an error printed mid-stage starts on a line of its own. Piped, redirected or in CI (stderr not a TTY) nothing is printed:
logs and the one-line error contract stay as they are.

Stages are markers, not context managers, so instrumenting a function is a one-line insertion per stage; a stage
ends when the next one starts or at `finish()`. Nothing is reported until the CLI calls `activate()`, so library
callers of `load_estate` stay silent."""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # rich costs ~25 ms to import: only a run that reports progress pays it, never `--help`
    from rich.console import Console

_ERASE_LAST = "\x1b[1A\x1b[2K\r"  # cursor up one line, erase it


class Reporter:
    """Writes stage lines to `console` when it is a terminal; otherwise every call is a no-op."""

    def __init__(self, console: Console | None = None):
        self._console = console
        self._t0: float | None = None
        self._stage = ""
        self._dirty = False  # a step line is showing (to be cleared before the next line)

    @property
    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=True, highlight=False)
        return self._console

    @property
    def enabled(self) -> bool:
        # Not a terminal and nothing forcing one (rich's own FORCE_TERMINAL / TTY_COMPATIBLE): no progress, and no
        # ~45 ms rich import for it (CI and pipes, where convert runs most)
        if self._console is None and not sys.stderr.isatty() and not (
                os.environ.get("FORCE_TERMINAL") or os.environ.get("TTY_COMPATIBLE")):
            return False
        return self.console.is_terminal

    def _elapsed(self) -> str:
        if self._t0 is None:
            self._t0 = time.monotonic()
        return f"{time.monotonic() - self._t0:6.1f}s"

    def _raw(self, text: str) -> None:
        f = self.console.file
        f.write(text)
        f.flush()

    def stage(self, name: str, detail: str = "") -> None:
        if not self.enabled:
            return
        if self._dirty:
            self._raw(_ERASE_LAST)
            self._dirty = False
        self._stage = name
        self._raw(f"tf2kro [{self._elapsed()}] {name}{' ' + detail if detail else ''}\n")

    def step(self, item: str, index: int, total: int) -> None:
        if not self.enabled:
            return
        self._raw(f"{_ERASE_LAST if self._dirty else ''}tf2kro [{self._elapsed()}] {self._stage} {index}/{total} {item}\n")
        self._dirty = True

    def finish(self) -> None:
        if not self.enabled or self._t0 is None:
            return
        if self._dirty:
            self._raw(_ERASE_LAST)
            self._dirty = False
        self._raw(f"tf2kro [{self._elapsed()}] done\n")
        self._t0 = None


class _Silent(Reporter):
    @property
    def enabled(self) -> bool:
        return False


_SILENT = _Silent()
_current: Reporter = _SILENT


def activate(console: Console | None = None) -> None:
    """Called by the CLI: report on stderr (if it is a terminal). An injected reporter (`use`) is kept."""
    global _current
    if _current is _SILENT:
        _current = Reporter(console)
    else:
        _current._t0 = None


@contextlib.contextmanager
def use(console: Console) -> Iterator[Reporter]:
    """Report to `console` inside the block (tests: `Console(file=..., force_terminal=True)`)."""
    global _current
    prev, _current = _current, Reporter(console)
    try:
        yield _current
    finally:
        _current = prev


def stage(name: str, detail: str = "") -> None:
    _current.stage(name, detail)


def step(item: str, index: int, total: int) -> None:
    _current.step(item, index, total)


def finish() -> None:
    _current.finish()
