"""Tables on stdout that fit the terminal and keep identifiers whole.

Piped or redirected, nothing wraps: one row per line, greppable (for scripts, `inspect --format tsv` is the
stable interface). On a terminal the table takes the terminal's width; an identifier column (Terraform address)
gets what the other columns leave, and an address longer than that breaks only *between* its parts (before a
`.` or `[`), never inside a name, so every line of it is still a literal piece of the address. Free-text
columns wrap at spaces. Status colours only reach a terminal (rich drops styles otherwise)."""

from __future__ import annotations

import re
import sys
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

NO_WRAP_WIDTH = 100_000  # piped output: rows are never wrapped (the table is as wide as its content)
MIN_IDENT = 24  # narrowest address column before the table simply overflows the terminal
MIN_FREE_TEXT = 20

STATUS_STYLE = {
    "mapped": "green",
    "folded": "cyan",
    "unsupported": "yellow",
    "not-adopted": "magenta",
    "error": "bold red",
}

_BREAK = re.compile(r"(?=[.\[/])")  # break opportunities: before `.`, `[` and `/`


def stdout_console(file: Any = None) -> Console:
    out = file or sys.stdout
    if out.isatty():
        return Console(file=out)
    return Console(file=out, width=NO_WRAP_WIDTH, color_system=None)


def stdout_width(file: Any = None) -> int:
    """Width for a table rendered to a string and echoed (diff): the terminal's, or no wrapping when piped."""
    return stdout_console(file).width


def break_identifier(ident: str, width: int) -> str:
    """`ident` as lines of at most `width`, broken only before `.`/`[`; a single part longer than `width` stays
    whole on its own line (the terminal wraps it, we do not cut a name)."""
    if len(ident) <= width:
        return ident
    lines: list[str] = []
    cur = ""
    for part in (p for p in _BREAK.split(ident) if p):
        if cur and len(cur) + len(part) > width:
            lines.append(cur)
            cur = part
        else:
            cur += part
    lines.append(cur)
    return "\n".join(lines)


def break_words(text: str, width: int) -> str:
    """Free text with every word longer than `width` pre-broken between its parts (`rds.services.k8s.aws/v1alpha1/
    DBInstance`), so the table wraps at spaces and part boundaries rather than folding inside a name."""
    return " ".join(break_identifier(w, width) for w in text.split(" "))


def plain_table(columns: list[str], rows: list[list[str]]) -> str:
    """The piped form: aligned columns, one row per line, no styling. Written directly, because rich measures
    every cell (10k rows: 13 s in rich, 0.1 s here)."""
    widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]
    lines = ("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip() for r in [columns, *rows])
    return "\n".join(lines) + "\n"


def print_table(console: Console, columns: list[str], rows: list[list[str]], **kw: Any) -> None:
    """On a terminal: `resource_table` (fits, colours); otherwise `plain_table`. Cells must be single-line."""
    if console.is_terminal:
        console.print(resource_table(columns, rows, width=console.width, **kw))
    else:
        console.file.write(plain_table(columns, rows))


def resource_table(columns: list[str], rows: list[list[str]], *, whole: tuple[str, ...], status: str | None,
                   width: int, optional: tuple[str, ...] = ()) -> Table:
    """`whole`: identifier columns, the first one absorbs the squeeze (broken between its parts); `status`: the
    column to colour; `width`: the console width; `optional`: columns dropped when the terminal is too narrow
    for them (e.g. the type, which the address already contains). The last column is free text and wraps."""
    natural = {c: max([len(c)] + [max(map(len, str(r[i]).splitlines() or [""])) for r in rows])
               for i, c in enumerate(columns)}
    squeeze, free = whole[0], columns[-1]

    def fixed(cols: list[str]) -> int:
        return sum(natural[c] for c in cols if c not in (squeeze, free)) + 2 * (len(cols) - 1)

    shown = list(columns)
    for opt in optional:
        if width - fixed(shown) < MIN_IDENT + MIN_FREE_TEXT and opt in shown:
            shown.remove(opt)
    room = width - fixed(shown)
    # the address gets most of the room, the free text at least MIN_FREE_TEXT
    budget = max(MIN_IDENT, min(natural[squeeze], int(room * 0.6), room - min(natural[free], MIN_FREE_TEXT)))
    si_ = columns.index(squeeze)
    longest_part = max([len(p) for r in rows for p in _BREAK.split(r[si_])] + [len(squeeze)])
    addr_w = max(min(natural[squeeze], budget), longest_part)  # a part wider than the column would be cut
    free_w = max(MIN_FREE_TEXT, room - addr_w - 2)
    table = Table(box=None, show_lines=False, pad_edge=False)
    for col in shown:
        if col == squeeze:
            table.add_column(col, no_wrap=True, width=addr_w, overflow="ignore")
        elif col in whole or col != free:
            table.add_column(col, no_wrap=True, width=natural[col], overflow="ignore")
        else:
            table.add_column(col, overflow="fold", max_width=free_w)
    idx = [columns.index(c) for c in shown]
    for r in rows:  # Text, not markup: `aws_subnet.x["a"]` must print as is
        cells = [break_identifier(r[i], addr_w) if columns[i] == squeeze else break_words(r[i], free_w)
                 if columns[i] == free else r[i] for i in idx]
        styles = [STATUS_STYLE.get(r[i], "") if columns[i] == status else "" for i in idx]
        table.add_row(*(Text(c, style=st) for c, st in zip(cells, styles, strict=True)))
    return table
