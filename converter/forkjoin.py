"""Run one piece of in-memory work in a forked child while the parent does another, on a second core.

Why: after loading, `convert` has two independent halves of rendering (the kro RGDs and instances; the review
objects, report.json and the secret list for the leak scan), each ~0.5–0.9 s at 10k resources and ~5× that at
50k. A forked child shares the loaded estate copy-on-write (nothing is pickled on the way in) and hands back only
its result, so on two cores the pair costs about the longer half (benchmarks/run.py prints the figures).

Fail-safe by design: the result comes back through a private pipe as `marshal` data (plain str/list/dict/tuple
values only; no code runs on load). The child never reaches the caller's code after its piece: it always ends
with `os._exit`. Anything unusual — no fork on this platform, one usable core, other threads running (forking
a threaded process can deadlock the child), the child raising, dying or sending garbage — makes the parent run
the piece itself, so the outcome (result or exception, with its usual one-line handling) is what a serial run
gives. Set TF2KRO_RENDER_WORKERS=1 to force the serial path.
"""

from __future__ import annotations

import marshal
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
U = TypeVar("U")


def can_fork() -> bool:
    """True where a fork-join would use a second core safely."""
    if os.environ.get("TF2KRO_RENDER_WORKERS", "").strip() == "1" or not hasattr(os, "fork"):
        return False
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return cores >= 2 and threading.active_count() == 1


def _read_all(fd: int) -> bytes:
    chunks = []
    while True:
        b = os.read(fd, 1 << 20)
        if not b:
            return b"".join(chunks)
        chunks.append(b)


def beside(child: Callable[[], T], parent: Callable[[], U], *, fork: bool | None = None) -> tuple[T, U]:
    """(child(), parent()): `child` in a forked process when possible (its result must be marshal-able),
    `parent` here. `fork=False` runs both here, one after the other."""
    if fork is None:
        fork = can_fork()
    if not fork:
        return child(), parent()
    r, w = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(r)
        os.close(w)
        return child(), parent()
    if pid == 0:  # the child: compute, send, leave without running any of the caller's code or atexit hooks
        status = 1
        try:
            os.close(r)
            data = marshal.dumps(("ok", child()))
            view = memoryview(data)
            while view:
                view = view[os.write(w, view):]
            status = 0
        except BaseException:  # the parent re-runs the piece and gets the real exception itself
            pass
        finally:
            os._exit(status)
    os.close(w)
    try:
        mine = parent()
    except BaseException:
        os.close(r)
        os.waitpid(pid, 0)
        raise
    # Reading after our half is done is fine: the child blocks on the full pipe until then, and its result is
    # tiny next to the work (a few MiB at 10k).
    raw = _read_all(r)
    os.close(r)
    _, status = os.waitpid(pid, 0)
    theirs: Any = None
    ok = False
    if os.waitstatus_to_exitcode(status) == 0:
        try:
            tag, theirs = marshal.loads(raw)
            ok = tag == "ok"
        except (EOFError, ValueError, TypeError):
            ok = False
    if not ok:
        theirs = child()
    return theirs, mine
