"""The `tf2kro` command line. Each subcommand lives in `converter/commands/<name>.py` and is registered here.

Exit codes: 0 success, 1 findings (drift, policy violations — per command), 2 bad input or an error.
A `ToolError` anywhere becomes one line on stderr naming the file/resource, and exit code 2. So does every other
exception (`report_crash`): a traceback exits 1, which CI reads as "findings", so none may escape. An OS error
names its file; anything unexpected says it is a tf2kro bug and where to report it. Ctrl-C exits 130.
"""

from __future__ import annotations

import importlib
import os
import sys

import click

from converter import __version__, progress
from converter.commands import helptext
from converter.model import ToolError

# (module, attribute) of each click command.
COMMANDS: list[tuple[str, str]] = [
    ("converter.commands.convert", "convert"),
    ("converter.commands.convert", "inspect"),
    ("converter.commands.graph", "graph"),
    ("converter.commands.diff", "diff"),
    ("converter.commands.inventory", "inventory"),
    ("converter.commands.plan", "plan"),
    ("converter.commands.fleet", "fleet"),
    ("converter.commands.validate", "validate"),
]


def _report_to() -> str:
    """Where to report a bug: the package's Bug Tracker/Issues URL when its metadata names one."""
    try:
        from importlib.metadata import metadata

        for entry in metadata("tf2kro").get_all("Project-URL") or []:
            label, _, url = entry.partition(",")
            if label.strip().lower() in ("bug tracker", "issues", "bugs", "source", "repository", "homepage"):
                return url.strip()
    except Exception:  # noqa: BLE001 - metadata is best effort here
        pass
    return "the tf2kro issue tracker of the repository you installed it from"


def _one_line(text: str, limit: int = 400) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def describe_exception(exc: BaseException) -> str:
    """One line for an exception that is not a ToolError: the file when the exception names one, the kind of
    failure, and for anything that is not an input or OS problem, that it is a bug and where to report it."""
    if isinstance(exc, OSError):
        name = exc.filename if exc.filename is not None else None
        reason = exc.strerror or exc.__class__.__name__
        return _one_line(f"{os.fsdecode(name)}: {reason}" if name is not None else f"{reason}: {exc}")
    if isinstance(exc, RecursionError):
        return "input nested too deeply to process (RecursionError); simplify the input or report it as a tf2kro bug"
    if isinstance(exc, MemoryError):
        return "out of memory: the input is too large for this machine"
    where = ""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    if tb is not None:
        code = tb.tb_frame.f_code
        where = f" at {os.path.basename(code.co_filename)}:{tb.tb_lineno} in {code.co_name}"
    # the exception's message is left out on purpose: it may quote a state value, and state values may be secrets
    return _one_line(f"internal error ({exc.__class__.__name__}{where}) — this is a tf2kro bug; please report it at "
                     f"{_report_to()} with `tf2kro --version` and the command line (never the state file)")


class _Group(click.Group):
    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except ToolError as exc:
            click.echo(f"error: {_one_line(str(exc), 2000)}", err=True)
            sys.exit(exc.exit_code)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException, SystemExit):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, exit 2, never a traceback
            click.echo(f"error: {describe_exception(exc)}", err=True)
            sys.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tf2kro")
def main() -> None:
    """Convert Terraform-managed AWS infrastructure into ACK objects grouped in kro RGDs (adopt, never recreate)."""
    progress.activate()  # stage lines on stderr, only if it is a terminal


for _mod, _attr in COMMANDS:
    main.add_command(getattr(importlib.import_module(_mod), _attr))
helptext.apply(main)
