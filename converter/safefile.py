"""Write one user-named file (e.g. `fleet init --out fleet.yaml`) without ever clobbering or redirecting.

A fixed temp name (`.fleet.yaml.tmp`) lets anyone who can write to the directory plant a symlink there and have
the tool write through it; an existing target may be the user's own file. So: the text goes to a temp file made
with O_EXCL by `mkstemp` in the target's directory (same filesystem, unpredictable name); the target is refused if
it is a symlink; without `force` it is published with `link()` (fails if the name exists, no check-then-write
race), with `force` by `os.replace` (which replaces a name, never writes through it)."""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

from converter.model import ToolError


def write_new_file(target: str | Path, text: str, *, force: bool = False) -> None:
    path = Path(target)
    try:
        st = path.lstat()
    except FileNotFoundError:
        st = None
    if st is not None:
        if stat.S_ISLNK(st.st_mode):
            raise ToolError("is a symlink: refusing to write through it (remove it or choose another --out)",
                            source=str(path))
        if not stat.S_ISREG(st.st_mode):
            raise ToolError("exists and is not a regular file", source=str(path))
        if not force:
            raise ToolError("already exists: pass --force to overwrite it", source=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        umask = os.umask(0)
        os.umask(umask)
        os.fchmod(fd, 0o666 & ~umask)  # an ordinary file, like `>`: mkstemp's 0600 is for the temp name only
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if force:
            if path.is_symlink():  # planted between the check above and now
                raise ToolError("is a symlink: refusing to write through it", source=str(path))
            os.replace(tmp, path)
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise ToolError("already exists: pass --force to overwrite it", source=str(path)) from None
            except OSError:  # filesystems without hard links: the lstat check above is the guard
                os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
