"""Write an output tree into --out, after checking it for secrets, touching only what tf2kro wrote there.

Why: a half-written GitOps directory that ArgoCD syncs is worse than none, a secret committed to Git cannot be
taken back, and --out is often a directory of the user's own repository. So everything is rendered in memory,
scanned for every sensitive value of the state, written to temporary files next to their targets, and only then
renamed into place; a manifest (.tf2kro/manifest.json) records what tf2kro wrote, so a re-run replaces or removes
only those files and runs for different phases or environments merge.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import stat
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from secrets import token_hex as secrets_token
from typing import Any

from converter import leakscan
from converter.emit import blockyaml
from converter.model import ToolError


def dump_yaml(docs: Iterable[Any]) -> str:
    """Multi-document YAML, keys in the order built (callers build them deterministically). Byte-identical to
    `yaml.dump(d, Dumper=CSafeDumper, sort_keys=False, default_flow_style=False, width=4096, allow_unicode=True)`
    per document joined by `---`, written by converter.emit.blockyaml (each distinct scalar rendered once by
    PyYAML, the block layout written directly: about twice as fast; see docs/performance.md)."""
    return blockyaml.dump_all(docs)


LeakError = leakscan.LeakError  # kept here: callers and tests import it from the writer


def check_no_secrets(files: dict[str, str], secrets: Iterable[str]) -> None:
    """Refuse output that contains any sensitive value of the state (in any encoding tf2kro emits) or a private-key
    block: delegates to converter.leakscan, one Aho-Corasick pass per file over every encoded form."""
    leakscan.check_no_secrets(files, secrets)


# ------------------------------------------------------------------------------------------------ output directory
# Why this much care: --out is often a directory of the user's Git repository. tf2kro only ever replaces or removes
# files it wrote itself (listed with their sha256 in .tf2kro/manifest.json), never follows a symlink inside --out,
# never writes outside it, and never leaves --out missing or half replaced: new files are written to temporary files
# next to their targets and only renamed over them once every one of them is written.

MANIFEST_DIR = ".tf2kro"
MANIFEST = f"{MANIFEST_DIR}/manifest.json"
MANIFEST_FORMAT = "tf2kro.manifest/v1"
TMP_SUFFIX = ".tf2kro-tmp"
LOCK_TIMEOUT_ENV = "TF2KRO_LOCK_TIMEOUT"
DEFAULT_LOCK_TIMEOUT = 30.0

_MANIFEST_SCHEMA = {
    "type": "object",
    "required": ["format", "files"],
    "properties": {
        "format": {"const": MANIFEST_FORMAT},
        "version": {"type": "string"},
        "files": {"type": "object", "additionalProperties": {
            "type": "object",
            "required": ["sha256", "scope"],
            "properties": {"sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
                           "scope": {"type": "string"}, "command": {"type": "string"}},
        }},
    },
}


@dataclass(frozen=True)
class OutputRun:
    """What one run owns in a shared output directory, so that runs for different phases/environments merge.

    `scope_of(rel)` names the scope of each file this run writes (e.g. "convert:network", "plan:dev"); the run
    replaces and removes only manifest files whose scope `replaces(scope)` accepts (and paths it writes itself). `index(paths, read)` regenerates the
    shared index files (root kustomization.yaml, README.md, ...) from every tf2kro file present after the merge;
    its files belong to scope `index_scope`, which every run replaces. A manifest file whose scope `conflicts(scope)`
    accepts (e.g. the same environment's convert output of another Terraform root) makes the run refuse without
    --force, even where no path overlaps: the merged tree would mix two roots."""

    command: str
    scope_of: Callable[[str], str] = field(default=lambda rel: "all")
    replaces: Callable[[str], bool] = field(default=lambda scope: scope == "all")
    conflicts: Callable[[str], bool] = field(default=lambda scope: False)
    index: Callable[[list[str], Callable[[str], str]], dict[str, str]] | None = None
    index_scope: str = "index"


WHOLE_TREE = OutputRun(command="tf2kro")


@dataclass
class WriteResult:
    path: Path
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    kept_edited: list[str] = field(default_factory=list)   # generated files the user changed: left as they are
    kept_foreign: list[str] = field(default_factory=list)  # files tf2kro did not write at a path it would write

    @property
    def files(self) -> int:
        return len(self.written) + len(self.unchanged)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def check_relpath(rel: Any) -> str:
    """A generated path must be a plain relative POSIX path that stays inside --out (ToolError otherwise)."""
    if not isinstance(rel, str) or not rel or "\x00" in rel or "\\" in rel:
        raise ToolError(f"refusing to write output: invalid path {rel!r} (nothing was written)")
    parts = rel.split("/")
    if rel.startswith("/") or re.match(r"^[A-Za-z]:", rel) or any(p in ("", ".", "..") for p in parts):
        raise ToolError(f"refusing to write output: path {rel!r} would leave the output directory "
                        "(absolute, empty or '..' segment; nothing was written)")
    if parts[0] == MANIFEST_DIR:
        raise ToolError(f"refusing to write output: path {rel!r} is inside tf2kro's own {MANIFEST_DIR}/ (nothing was written)")
    return rel


def _lstat(p: Path) -> os.stat_result | None:
    try:
        return os.lstat(p)
    except (FileNotFoundError, NotADirectoryError):
        return None


def _check_on_disk(out: Path, rel: str) -> None:
    """Every existing component below --out must be a real directory (never a symlink), the target a regular file."""
    cur = out
    parts = rel.split("/")
    for i, part in enumerate(parts):
        cur = cur / part
        st = _lstat(cur)
        if st is None:
            return
        last = i == len(parts) - 1
        if stat.S_ISLNK(st.st_mode):
            raise ToolError(f"refusing to write output: {'/'.join(parts[:i + 1])} is a symlink inside the output "
                            "directory (tf2kro never follows one; nothing was written)", source=str(out))
        if not last and not stat.S_ISDIR(st.st_mode):
            raise ToolError(f"refusing to write output: {'/'.join(parts[:i + 1])} is not a directory (nothing was written)",
                            source=str(out))
        if last and not stat.S_ISREG(st.st_mode):
            raise ToolError(f"refusing to write output: {rel} exists and is not a regular file (nothing was written)",
                            source=str(out))


def _check_inputs(out: Path, inputs: Iterable[str | Path | None]) -> None:
    for inp in inputs:
        if not inp or str(inp) == "-":
            continue
        r = Path(inp).resolve()
        if r == out or out in r.parents:
            raise ToolError(f"--out must not be or contain an input of the run ({inp}): choose another output "
                            "directory (nothing was written)", source=str(out))


def _read_manifest(out: Path) -> dict[str, dict[str, str]] | None:
    import jsonschema

    p = out / MANIFEST
    if _lstat(out / MANIFEST_DIR) is None:
        return None
    for rel in (MANIFEST_DIR, MANIFEST):
        st = _lstat(out / rel)
        if st is not None and stat.S_ISLNK(st.st_mode):
            raise ToolError(f"{rel} is a symlink: refusing to use it", source=str(out))
    if _lstat(p) is None:
        return None
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
        jsonschema.validate(doc, _MANIFEST_SCHEMA)
        for rel in doc["files"]:
            check_relpath(rel)
    except (OSError, ValueError, jsonschema.ValidationError, ToolError) as exc:
        msg = getattr(exc, "message", None) or str(exc)
        raise ToolError(f"unreadable tf2kro manifest ({msg}); remove it only if every file here is yours to replace",
                        source=str(p)) from None
    return doc["files"]


def _dump_manifest(entries: dict[str, dict[str, str]]) -> bytes:
    from converter import __version__

    doc = {
        "format": MANIFEST_FORMAT,
        "note": "Files tf2kro wrote in this directory. A re-run replaces or removes only these, and only while "
                "their sha256 still matches (an edited file is kept unless --force).",
        "version": __version__,
        "files": {rel: dict(sorted(entries[rel].items())) for rel in sorted(entries)},
    }
    return (json.dumps(doc, indent=2, sort_keys=False) + "\n").encode("utf-8")


@contextlib.contextmanager
def _locked(out: Path, timeout: float | None = None) -> Iterator[int]:
    """Exclusive flock on the --out directory itself (no lock file to leave behind); waits `timeout` seconds.
    Yields the directory's descriptor: every later write goes through it, relative to the directory locked."""
    if timeout is None:
        try:
            timeout = float(os.environ.get(LOCK_TIMEOUT_ENV, DEFAULT_LOCK_TIMEOUT))
        except ValueError:
            timeout = DEFAULT_LOCK_TIMEOUT
    fd = os.open(out, _DIR_FLAGS)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ToolError(f"output directory is in use by another tf2kro run (waited {timeout:g}s; "
                                    f"{LOCK_TIMEOUT_ENV} sets the wait)", source=str(out)) from None
                time.sleep(0.05)
        yield fd
    finally:
        os.close(fd)  # releases the lock


# Writes go through directory descriptors opened with O_NOFOLLOW at every level, so a symlink planted inside --out
# (even after the checks above) is never followed: opening it fails instead.
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


class _Dirs:
    """Descriptors of the directories below --out this run writes into, created as needed (mode from umask)."""

    def __init__(self, out: Path, out_fd: int):
        self.out, self.out_fd = out, out_fd
        self.fds: dict[str, int] = {"": out_fd}
        self.created: list[str] = []

    def open(self, rel_dir: str, create: bool = True) -> int:
        if rel_dir in self.fds:
            return self.fds[rel_dir]
        parent, _, name = rel_dir.rpartition("/")
        pfd = self.open(parent, create)
        try:
            fd = os.open(name, _DIR_FLAGS | _NOFOLLOW, dir_fd=pfd)
        except FileNotFoundError:
            if not create:
                raise
            os.mkdir(name, dir_fd=pfd)  # 0o777 & ~umask, like any tool
            self.created.append(rel_dir)
            fd = os.open(name, _DIR_FLAGS | _NOFOLLOW, dir_fd=pfd)
        except OSError as exc:  # ELOOP (a symlink) or ENOTDIR
            raise ToolError(f"refusing to write output: {rel_dir} is not a plain directory ({exc.strerror}); "
                            "tf2kro never follows a symlink inside the output directory", source=str(self.out)) from None
        self.fds[rel_dir] = fd
        return fd

    def close(self, failed: bool) -> None:
        for rel, fd in self.fds.items():
            if rel:
                os.close(fd)
        if failed:
            for rel in reversed(self.created):
                with contextlib.suppress(OSError):
                    os.rmdir(rel, dir_fd=self.out_fd)


def _write_temp(dir_fd: int, name: str, data: bytes) -> str:
    """A new temporary file next to its target: O_EXCL|O_NOFOLLOW (never through a planted symlink), mode from umask."""
    for _ in range(100):
        tmp = f".{name}.{secrets_token(4)}{TMP_SUFFIX}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0), 0o666,
                         dir_fd=dir_fd)
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - 100 collisions of 32 random bits
        raise FileExistsError(f"no free temporary name for {name}")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise
    return tmp


def _sweep_temps(dir_fd: int) -> None:
    """Remove temporary files an earlier killed run left behind (we hold the lock, so none is live)."""
    for n in os.listdir(dir_fd):
        if n.startswith(".") and n.endswith(TMP_SUFFIX):
            with contextlib.suppress(OSError):
                if stat.S_ISREG(os.stat(n, dir_fd=dir_fd, follow_symlinks=False).st_mode):
                    os.unlink(n, dir_fd=dir_fd)


def _is_empty_tree(out: Path) -> bool:
    return all(n == MANIFEST_DIR for n in os.listdir(out))


def write_tree(out: str | Path, files: dict[str, str], secrets: Iterable[str] = (), *, run: OutputRun = WHOLE_TREE,
               force: bool = False, inputs: Iterable[str | Path | None] = (),
               lock_timeout: float | None = None) -> WriteResult:
    """Merge `files` (relative path → text) into directory `out`, touching only what tf2kro wrote there.

    Refuses (ToolError, nothing written) a non-empty directory without tf2kro's manifest unless `force`, any path
    leaving `out`, a symlink inside `out` on a written path, and an `out` that is or contains one of `inputs`."""
    secrets = list(secrets)
    check_no_secrets(files, secrets)
    for rel in files:
        check_relpath(rel)
    out_arg = Path(out)
    out = out_arg.resolve()
    _check_inputs(out, inputs)
    st = _lstat(out)
    if st is not None and not stat.S_ISDIR(os.stat(out).st_mode):
        raise ToolError("output path exists and is not a directory", source=str(out_arg))
    created: list[Path] = []
    if st is None:
        missing = [p for p in [out, *out.parents] if _lstat(p) is None]
        try:
            for p in reversed(missing):
                with contextlib.suppress(FileExistsError):
                    os.mkdir(p)
                    created.append(p)
        except OSError as exc:
            raise ToolError(f"cannot create the output directory: {exc.strerror}", source=str(out_arg)) from None
    try:
        with _locked(out, lock_timeout) as out_fd:
            return _merge(out, out_fd, files, secrets, run, force)
    except OSError as exc:  # disk full, permissions, ...: one line naming the file, not a traceback
        _remove_dirs(created)
        raise ToolError(f"cannot write the output ({exc.strerror or exc}); the previous output is unchanged "
                        "unless the failure hit while renaming files into place", source=exc.filename or str(out)) from None
    except BaseException:
        _remove_dirs(created)
        raise


def _remove_dirs(created: list[Path]) -> None:
    """A first run that failed leaves no empty directories behind."""
    for p in reversed(created):
        with contextlib.suppress(OSError):
            os.rmdir(p)


def _merge(out: Path, out_fd: int, files: dict[str, str], secrets: list[str], run: OutputRun,
           force: bool) -> WriteResult:
    manifest = _read_manifest(out)
    if manifest is None and not force and not _is_empty_tree(out):
        raise ToolError("refusing to write: the output directory is not empty and tf2kro did not write it (no "
                        f"{MANIFEST}); tf2kro would overwrite files it does not own. Use an empty or new directory, "
                        "or pass --force to write into it anyway (files tf2kro did not write are never deleted)",
                        source=str(out))
    # a listed file the user deleted is simply gone: nothing of tf2kro's is there any more
    manifest = {rel: e for rel, e in (manifest or {}).items() if _lstat(out / rel) is not None}
    res = WriteResult(path=out)
    new: dict[str, tuple[bytes, str]] = {}
    for rel, text in files.items():
        new[rel] = (text.encode("utf-8"), run.scope_of(rel))

    # the merged view of tf2kro's files after this run, for the shared index files
    def replaced(scope: str) -> bool:
        return scope == run.index_scope or run.replaces(scope)

    # a path another run owns (another environment's convert output at the same paths) is not taken over silently:
    # replacing it would destroy that run's output although neither run's user edited anything
    taken = sorted(rel for rel, (_data, scope) in new.items()
                   if rel in manifest and manifest[rel]["scope"] != scope and not replaced(manifest[rel]["scope"]))
    def refuse(paths: list[str]) -> None:
        other = manifest[paths[0]]
        raise ToolError(f"refusing to write: {paths[0]}" + (f" (and {len(paths) - 1} more)" if len(paths) > 1 else "")
                        + f" belongs to another run's output (`{other.get('command', '?')}`, scope {other['scope']}); "
                        "write this run to its own --out (e.g. one directory per environment and root), or pass --force to "
                        "replace that output", source=str(out))

    if taken and not force:
        refuse(taken)
    clash = sorted(rel for rel, e in manifest.items() if run.conflicts(e["scope"]))
    if clash and not force:
        refuse(clash)
    survivors = {rel for rel, e in manifest.items() if not replaced(e["scope"]) and rel not in new}
    if run.index is not None:
        def read(rel: str) -> str:
            if rel in new:
                return new[rel][0].decode("utf-8")
            _check_on_disk(out, rel)
            return (out / rel).read_text(encoding="utf-8")

        index = run.index(sorted(survivors | set(new)), read)
        check_no_secrets(index, secrets)
        for rel, text in index.items():
            check_relpath(rel)
            new[rel] = (text.encode("utf-8"), run.index_scope)

    for rel in new:
        _check_on_disk(out, rel)
    stale = sorted(rel for rel, e in manifest.items() if replaced(e["scope"]) and rel not in new)
    for rel in stale:
        _check_on_disk(out, rel)

    entries = {rel: e for rel, e in manifest.items() if rel not in new and rel not in stale}
    to_write: list[tuple[str, bytes]] = []
    for rel in sorted(new):
        data, scope = new[rel]
        target = out / rel
        on_disk = target.read_bytes() if _lstat(target) is not None else None
        known = manifest.get(rel)
        entry = {"sha256": _sha(data), "scope": scope, "command": run.command}
        if on_disk is not None and not force:
            if known is None and on_disk != data:
                res.kept_foreign.append(rel)  # the user's file where tf2kro would write: theirs
                continue
            if known is not None and _sha(on_disk) != known["sha256"] and on_disk != data:
                res.kept_edited.append(rel)
                entries[rel] = known  # still tf2kro's, still edited: reported again next run
                continue
        entries[rel] = entry
        if on_disk == data:  # byte-identical: left alone (mtime and any chmod the user made are kept)
            res.unchanged.append(rel)
        else:
            to_write.append((rel, data))
    to_remove: list[str] = []
    for rel in stale:
        target = out / rel
        if _lstat(target) is None:
            continue
        if not force and _sha(target.read_bytes()) != manifest[rel]["sha256"]:
            res.kept_edited.append(rel)  # no longer generated, but edited: it is the user's now
            continue
        to_remove.append(rel)

    # write every new file next to its target, then swap them in; a failure before the swap changes nothing
    dirs = _Dirs(out, out_fd)
    temps: list[tuple[int, str, str]] = []  # (dir fd, temp name, final name)
    swept: set[int] = set()
    failed = True
    try:
        try:
            for rel, data in [*to_write, (MANIFEST, _dump_manifest(entries))]:
                parent, _, name = rel.rpartition("/")
                dfd = dirs.open(parent)
                if dfd not in swept:
                    _sweep_temps(dfd)
                    swept.add(dfd)
                temps.append((dfd, _write_temp(dfd, name, data), name))
        except BaseException:
            for dfd, tmp, _ in temps:
                with contextlib.suppress(OSError):
                    os.unlink(tmp, dir_fd=dfd)
            raise
        for dfd, tmp, name in temps[:-1]:
            os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
        failed = False
        for rel in to_remove:
            parent, _, name = rel.rpartition("/")
            try:
                os.unlink(name, dir_fd=dirs.open(parent, create=False))
            except FileNotFoundError:
                continue
            _prune(dirs, parent)
        dfd, tmp, name = temps[-1]
        os.replace(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)  # the manifest last: it only lists files that are there
    finally:
        dirs.close(failed)
    res.written = [rel for rel, _ in to_write]
    res.removed = to_remove
    return res


def _prune(dirs: _Dirs, rel_dir: str) -> None:
    """Remove directories a removed file leaves empty (never one with anything else in it)."""
    while rel_dir:
        parent, _, name = rel_dir.rpartition("/")
        try:
            os.rmdir(name, dir_fd=dirs.open(parent, create=False))
        except OSError:
            return
        rel_dir = parent
