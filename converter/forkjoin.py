"""Run one piece of in-memory work in a forked child while the parent does another, on a second core.

Why: after loading, `convert` has two independent halves of rendering (the kro RGDs and instances; the review
objects, report.json and the secret list for the leak scan), each ~0.5–0.9 s at 10k resources and ~5× that at
50k. A forked child shares the loaded estate copy-on-write (nothing is pickled on the way in) and hands back only
its result, so on two cores the pair costs about the longer half (benchmarks/run.py prints the figures).

Fail-safe by design: the result streams back through a private pipe as `marshal` records, item by item (plain
str/list/dict/tuple values only; no code runs on load; no second whole copy of it on either side). The child never reaches the caller's code after its piece: it always ends
with `os._exit`. Anything unusual — no fork on this platform, one usable core, other threads running (forking
a threaded process can deadlock the child), the child raising, dying or sending garbage — makes the parent run
the piece itself, so the outcome (result or exception, with its usual one-line handling) is what a serial run
gives. Too little memory left under the cgroup limit or on the machine (see CHILD_SHARE) also means serial. Set
TF2KRO_RENDER_WORKERS=1 to force the serial path.
"""

from __future__ import annotations

import marshal
import os
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")
U = TypeVar("U")


#: The child's copied pages, as a share of the parent's resident memory: CPython's reference counts write to every
#: object the child reads, so about a fifth of the heap gets copied (50k resources with --hcl: 840 MiB serial,
#: 980-1040 MiB for both processes, measured as the sum of their PSS). Forking needs this much headroom.
CHILD_SHARE = 0.3


def _read_int(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as fh:
            text = fh.read().strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None  # "max" (no limit) or unreadable: None


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _rss() -> int | None:
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None


def memory_headroom() -> int | None:
    """Bytes this process may still allocate: the tighter of the cgroup v2 limit (a CI runner's or a pod's) and the
    machine's MemAvailable. None where neither can be read."""
    limits = []
    mx, cur = _read_int("/sys/fs/cgroup/memory.max"), _read_int("/sys/fs/cgroup/memory.current")
    if mx is not None and cur is not None:
        limits.append(mx - cur)
    avail = _meminfo_available()
    if avail is not None:
        limits.append(avail)
    return min(limits) if limits else None


def can_fork() -> bool:
    """True where a fork-join would use a second core safely: two usable cores, no other thread, and room for the
    child's copied pages (a runner with a tight memory limit renders serially instead of being OOM-killed)."""
    if os.environ.get("TF2KRO_RENDER_WORKERS", "").strip() == "1" or not hasattr(os, "fork"):
        return False
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    if cores < 2 or threading.active_count() != 1:
        return False
    room, rss = memory_headroom(), _rss()
    return room is None or rss is None or room >= CHILD_SHARE * rss


def _send(value: Any, out: Any) -> None:
    """A tuple/list is sent as its length and then item by item (recursively), so no single marshal buffer holds
    the whole result; every other value as one marshal record. Lists and tuples keep their type."""
    if isinstance(value, tuple | list):
        marshal.dump(("seq", isinstance(value, list), len(value)), out)
        for item in value:
            _send(item, out)
    elif isinstance(value, dict):
        marshal.dump(("map", len(value)), out)
        for k, v in value.items():
            marshal.dump(k, out)
            _send(v, out)
    else:
        marshal.dump(("val",), out)
        marshal.dump(value, out)


def _receive(src: Any) -> Any:
    head = marshal.load(src)
    if head[0] == "seq":
        items = [_receive(src) for _ in range(head[2])]
        return items if head[1] else tuple(items)
    if head[0] == "map":
        out = {}
        for _ in range(head[1]):
            k = marshal.load(src)
            out[k] = _receive(src)
        return out
    return marshal.load(src)


def beside(child: Callable[[], T], parent: Callable[[], U], *, fork: bool | None = None) -> tuple[T, U]:
    """(child(), parent()): `child` in a forked process when possible (its result must be marshal-able),
    `parent` here. `fork=False` runs both here, one after the other."""
    if fork is None:
        fork = can_fork()
    if not fork:
        mine = parent()  # the parent's piece first, as when forked
        return child(), mine
    r, w = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(r)
        os.close(w)
        return beside(child, parent, fork=False)
    if pid == 0:  # the child: compute, send, leave without running any of the caller's code or atexit hooks
        status = 1
        try:
            os.close(r)
            result = child()
            with os.fdopen(w, "wb", buffering=1 << 20) as out:
                _send(result, out)
            status = 0
        except BaseException:  # the parent re-runs the piece and gets the real exception itself
            pass
        finally:
            os._exit(status)
    os.close(w)
    try:
        mine = parent()
    except BaseException:
        os.close(r)  # the child's next write fails (EPIPE): it exits
        os.waitpid(pid, 0)
        raise
    # Reading after our half is done is fine: the child blocks on the full pipe until then. The result streams
    # in item by item (no second copy of it as one buffer on either side: at 50k resources it is ~80 MiB).
    theirs: Any = None
    ok = False
    with os.fdopen(r, "rb", buffering=1 << 20) as src:
        try:
            theirs = _receive(src)
            ok = True
        except (EOFError, ValueError, TypeError, IndexError, KeyError):  # short or garbled: run it here
            ok = False
    _, status = os.waitpid(pid, 0)
    ok = ok and os.waitstatus_to_exitcode(status) == 0
    if not ok:
        theirs = child()
    return theirs, mine
