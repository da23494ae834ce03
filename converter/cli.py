"""The `tf2kro` command line. Each subcommand lives in `converter/commands/<name>.py` and is registered here.

Subcommands load lazily: `tf2kro --help` lists them from `COMMANDS` and `helptext.SHORT_HELP` without importing
any command module, and `tf2kro <cmd>` imports only that command's module (the pipeline, networkx, jsonschema and
boto3 are imported inside the functions that run them). `tf2kro --help` measured 0.5 s when every module loaded;
`benchmarks/startup.py` measures it against `python -c pass`.

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
from converter.load import hclcache
from converter.model import ToolError

# command name → (module, attribute) of its click command; imported on first use.
COMMANDS: dict[str, tuple[str, str]] = {
    "convert": ("converter.commands.convert", "convert"),
    "inspect": ("converter.commands.convert", "inspect"),
    "graph": ("converter.commands.graph", "graph"),
    "diff": ("converter.commands.diff", "diff"),
    "inventory": ("converter.commands.inventory", "inventory"),
    "plan": ("converter.commands.plan", "plan"),
    "fleet": ("converter.commands.fleet", "fleet"),
    "validate": ("converter.commands.validate", "validate"),
}


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
    """The top-level group: lazy subcommands, and every error as one line with its exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(self.commands) | set(COMMANDS))

    def get_command(self, ctx: click.Context | None, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, attr = COMMANDS[cmd_name]
            cmd = getattr(importlib.import_module(module), attr)
            helptext.apply_to(cmd, cmd_name)
            self.add_command(cmd, cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the summaries table: listing the commands imports none of them."""
        rows = []
        for name in self.list_commands(ctx):
            cmd = self.commands.get(name)
            if cmd is not None and cmd.hidden:
                continue
            summary = helptext.SHORT_HELP.get(name)
            if summary is None:  # a command without a table entry: its own summary (imports it)
                cmd = self.get_command(ctx, name)
                if cmd is None or cmd.hidden:
                    continue
                summary = cmd.get_short_help_str(formatter.width - 6 - max(map(len, self.list_commands(ctx))))
            rows.append((name, summary))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

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
    # the HCL parse cache is on in the CLI (a library caller of load_hcl chooses its own); --no-cache turns it off
    hclcache.configure(hclcache.user_cache_dir())

