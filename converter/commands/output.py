"""Writing a command's output tree into --out, and the `--force` option that goes with it.

Why a helper: convert, plan, fleet and fleet upgrade all write through `write_tree` with the same promise (only
files tf2kro wrote are replaced or removed; an edited one is kept and reported) and the same notes on stderr.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # the writer pulls in yaml: imported when a command writes, not for `--help`
    from converter.emit.writer import OutputRun, WriteResult

FORCE_HELP = ("Write into a non-empty directory tf2kro did not write, and replace generated files edited since "
              "(files tf2kro did not write are still never deleted).")


def force_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--force", is_flag=True, help=FORCE_HELP)(fn)


def input_paths(inputs: Iterable) -> list[str]:
    """The local files and directories a run reads, for the "--out must not contain an input" check: repeatable
    options arrive as tuples, `--state NAME=PATH` carries a root name, and `-` / `s3://` are not local paths."""
    out: list[str] = []
    for value in inputs:
        if value is None or value == "":
            continue
        if isinstance(value, (tuple, list)):
            out.extend(input_paths(value))
            continue
        text = str(value)
        if text == "-" or "://" in text:
            continue
        from converter.estate.config import split_named

        out.append(split_named(text)[1])
    return out


def write_output(out_dir: str | Path, files: dict[str, str], secrets: Iterable[str], *, run: OutputRun | None = None,
                 force: bool = False, inputs: Iterable[str | Path | None] = ()) -> WriteResult:
    """write_tree, then one stderr note per file left alone (an edit of the user's, or a file tf2kro did not write)."""
    from converter.emit.writer import WHOLE_TREE, write_tree

    res = write_tree(out_dir, files, secrets, run=run if run is not None else WHOLE_TREE, force=force, inputs=input_paths(inputs))
    for rel in res.kept_edited:
        click.echo(f"note: kept {rel}: edited since tf2kro wrote it (--force replaces it)", err=True)
    for rel in res.kept_foreign:
        click.echo(f"note: kept {rel}: tf2kro did not write it, so it was not replaced (--force replaces it)", err=True)
    return res
