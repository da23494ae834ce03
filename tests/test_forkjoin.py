"""converter.forkjoin and the two-process rendering of `convert`: same files, same bytes, same errors as serial."""

from __future__ import annotations

import os
import threading

import pytest

from converter import forkjoin

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="no os.fork on this platform")


def test_child_result_comes_back_from_another_process():
    parent_pid = os.getpid()
    theirs, mine = forkjoin.beside(lambda: {"pid": os.getpid(), "s": ["ä", "x" * 300_000]}, lambda: os.getpid(), fork=True)
    assert mine == parent_pid
    assert theirs["pid"] != parent_pid  # really computed in the child
    assert theirs["s"] == ["ä", "x" * 300_000]  # larger than a pipe buffer


def test_child_exception_is_raised_here_by_running_the_piece_again():
    calls = []

    def child():
        calls.append(os.getpid())
        raise ValueError("bad state value")

    with pytest.raises(ValueError, match="bad state value"):
        forkjoin.beside(child, lambda: 1, fork=True)
    assert calls == [os.getpid()]  # the child's own attempt happened elsewhere; ours raised


def test_child_dying_falls_back_to_serial():
    parent_pid = os.getpid()

    def child():
        if os.getpid() != parent_pid:
            os._exit(9)  # killed mid-way, nothing sent
        return "computed here"

    assert forkjoin.beside(child, lambda: 2, fork=True) == ("computed here", 2)


def test_unmarshalable_result_falls_back_to_serial():
    assert forkjoin.beside(lambda: object, lambda: 3, fork=True)[0] is object  # marshal cannot send a class


def test_parent_exception_propagates_and_reaps_the_child():
    with pytest.raises(RuntimeError):
        forkjoin.beside(lambda: "x" * 1_000_000, lambda: (_ for _ in ()).throw(RuntimeError("parent")), fork=True)


def test_no_fork_with_other_threads_or_when_disabled(monkeypatch):
    ev = threading.Event()
    t = threading.Thread(target=ev.wait)
    t.start()
    try:
        assert not forkjoin.can_fork()
    finally:
        ev.set()
        t.join()
    monkeypatch.setenv("TF2KRO_RENDER_WORKERS", "1")
    assert not forkjoin.can_fork()


def test_convert_files_identical_forked_and_serial():
    from converter.commands.convert import render_tree
    from converter.emit.kro import EmitOptions
    from converter.packagedata import sample_dir
    from converter.pipeline import load_estate

    estate = load_estate(str(sample_dir() / "terraform.tfstate"), sample_dir())
    for opts in (EmitOptions(env="staging", root=estate.root), EmitOptions(env="dev", phases=("identity",), read_only=True)):
        s1: list[str] = []
        s2: list[str] = []
        serial = render_tree(estate, opts, secrets_out=s1, fork=False)
        forked = render_tree(estate, opts, secrets_out=s2, fork=True)
        assert list(forked) == list(serial)
        assert forked == serial
        assert s1 == s2 == estate.secrets()
    assert s1, "the sample plants sensitive values: the leak scan must get them"


def test_nested_result_keeps_its_shape():
    value = ({"a": ["x", ("y", 1)], "b": {}}, "s" * 70_000, [], (), [[1.5, None, True]])
    assert forkjoin.beside(lambda: value, lambda: None, fork=True)[0] == value
    got = forkjoin.beside(lambda: value, lambda: None, fork=True)[0]
    assert isinstance(got[0]["a"][1], tuple) and isinstance(got[4], list)


def test_no_fork_without_room_for_the_childs_pages(monkeypatch):
    """A runner whose cgroup limit leaves less than CHILD_SHARE of our resident memory renders serially."""
    monkeypatch.setattr(forkjoin, "_rss", lambda: 800 << 20)
    monkeypatch.setattr(forkjoin, "_meminfo_available", lambda: 20 << 30)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(forkjoin.threading, "active_count", lambda: 1)  # pytest-xdist workers run threads
    limits = {"/sys/fs/cgroup/memory.max": 1 << 30, "/sys/fs/cgroup/memory.current": 900 << 20}
    monkeypatch.setattr(forkjoin, "_read_int", lambda path: limits.get(path))
    assert forkjoin.memory_headroom() == (1 << 30) - (900 << 20)
    assert not forkjoin.can_fork()  # 124 MiB left < 0.3 x 800 MiB
    limits["/sys/fs/cgroup/memory.max"] = 4 << 30
    assert forkjoin.can_fork()
    limits.clear()  # no cgroup limit (memory.max "max"): the machine's MemAvailable decides
    monkeypatch.setattr(forkjoin, "_meminfo_available", lambda: 100 << 20)
    assert not forkjoin.can_fork()
    monkeypatch.setattr(forkjoin, "_meminfo_available", lambda: None)
    assert forkjoin.can_fork()  # nothing readable: no reason to refuse


def test_memory_readers_on_this_machine():
    rss = forkjoin._rss()
    assert rss is None or rss > 10 << 20  # a Python with pytest loaded
    room = forkjoin.memory_headroom()
    assert room is None or room > 0
