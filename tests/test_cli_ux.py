"""The CLI as people expect it (issue 9 §4): progress on a TTY only, tables that fit, `inspect --format tsv`,
a schema-checked fleet file, a `fleet init` that never clobbers or follows a symlink, option validation, help."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from converter.cli import main
from converter.fleet.config import check_schema, fleet_schema, load_fleet
from converter.model import ToolError

REPO = Path(__file__).resolve().parents[1]
SAMPLES = REPO / "samples"
STATE = str(SAMPLES / "estate" / "terraform.tfstate")
FLEET = SAMPLES / "fleet.yaml"


def run(*args: str):
    return CliRunner().invoke(main, list(args))


# ------------------------------------------------------------------------------------------ fleet.yaml schema


def _walk_schemas(node, path="$"):
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            yield path, node
        for k, v in node.items():
            yield from _walk_schemas(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk_schemas(v, f"{path}[{i}]")


def test_schema_is_closed_everywhere_and_editor_usable():
    schema = fleet_schema()
    assert schema["$schema"].startswith("https://json-schema.org/") and schema["$id"].startswith("https://")
    objects = list(_walk_schemas(schema))
    assert len(objects) > 20
    assert [p for p, o in objects if o.get("additionalProperties") is not False] == []
    res = run("fleet", "schema")
    assert res.exit_code == 0 and json.loads(res.output) == schema


def test_sample_and_init_output_validate(tmp_path):
    check_schema(yaml.safe_load(FLEET.read_text()), str(FLEET))
    out = tmp_path / "fleet.yaml"
    res = run("fleet", "init", "--state", STATE, "--hcl", str(SAMPLES / "estate"), "--out", str(out))
    assert res.exit_code == 0, res.output
    check_schema(yaml.safe_load(out.read_text()), str(out))
    assert "yaml-language-server: $schema=" in out.read_text()


@pytest.mark.parametrize("mutate, expected", [
    (lambda d: d["spec"].__setitem__("enviroments", d["spec"].pop("environments")), "unknown key 'spec.enviroments'"),
    (lambda d: d["spec"]["environments"][2]["syncWindows"][0].__setitem__("shedule", "x"),
     "unknown key 'spec.environments[2].syncWindows[0].shedule'"),
    (lambda d: d["spec"]["clusters"][0].__setitem__("version", 1.3), "spec.clusters[0].version"),
    (lambda d: d["spec"]["clusters"][0].pop("server"), "spec.clusters[0].server is required"),
    (lambda d: d["spec"]["applications"][0]["progressiveDelivery"].__setitem__("strategy", "yolo"),
     "spec.applications[0].progressiveDelivery.strategy"),
])
def test_bad_fleet_keys_are_errors_naming_key_and_file(tmp_path, mutate, expected):
    doc = yaml.safe_load(FLEET.read_text())
    mutate(doc)
    bad = tmp_path / "fleet.yaml"
    bad.write_text(yaml.safe_dump(doc))
    with pytest.raises(ToolError) as err:
        load_fleet(bad)
    assert expected in str(err.value) and str(bad) in str(err.value)
    res = run("fleet", "--config", str(bad), "--out", str(tmp_path / "o"))
    assert res.exit_code == 2 and expected in res.output and "Traceback" not in res.output
    assert not (tmp_path / "o").exists()


# ------------------------------------------------------------------------------------------ fleet init --out


def _init(out: Path, *extra: str):
    return run("fleet", "init", "--state", STATE, "--out", str(out), *extra)


def test_init_refuses_to_overwrite_without_force(tmp_path):
    out = tmp_path / "fleet.yaml"
    out.write_text("# my own notes\n")
    res = _init(out)
    assert res.exit_code == 2 and "already exists" in res.output and "--force" in res.output
    assert out.read_text() == "# my own notes\n"
    res = _init(out, "--force")
    assert res.exit_code == 0 and "kind: Fleet" in out.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fleet.yaml"]  # no temp file left behind


def test_init_never_follows_a_planted_symlink(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    work = tmp_path / "work"
    work.mkdir()
    # the old fixed temp name, planted: must be neither followed nor needed
    (work / ".fleet.yaml.tmp").symlink_to(victim)
    res = _init(work / "fleet.yaml")
    assert res.exit_code == 0, res.output
    assert victim.read_text() == "precious\n" and not (work / "fleet.yaml").is_symlink()
    # a symlink at the target itself is refused, with or without --force
    (work / "link.yaml").symlink_to(victim)
    for extra in ((), ("--force",)):
        res = _init(work / "link.yaml", *extra)
        assert res.exit_code == 2 and "symlink" in res.output
    assert victim.read_text() == "precious\n" and (work / "link.yaml").is_symlink()
    assert os.stat(work / "fleet.yaml").st_mode & 0o777 == 0o666 & ~_umask()


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


# ------------------------------------------------------------------------------------------ tables and tsv


def _tsv_rows():
    res = run("inspect", "--state", STATE, "--format", "tsv")
    assert res.exit_code == 0, res.output
    return [line.split("\t") for line in res.output.splitlines()]


def test_inspect_tsv_is_one_resource_per_line_for_awk():
    header, *rows = _tsv_rows()
    assert header == ["address", "type", "phase", "wave", "status", "ACK kind / fold parent / reason"]
    rep = json.loads(run("inspect", "--state", STATE, "--format", "json").output)
    assert [r[0] for r in rows] == [r["address"] for r in rep["resources"]]
    assert all(len(r) == len(header) for r in rows)
    assert {r[4] for r in rows} == {"mapped", "folded", "unsupported", "not-adopted"}
    assert not any("\x1b" in cell for r in rows for cell in r)


def test_tsv_values_with_tabs_or_newlines_stay_on_their_row():
    from converter.commands.convert import tsv

    text = tsv(["a", "b"], [["x\ty", "line1\nline2"], ["z", "w"]])
    assert text.splitlines() == ["a\tb", "x y\tline1 line2", "z\tw"]


def test_piped_table_never_wraps_an_address():
    res = run("inspect", "--state", STATE)
    assert res.exit_code == 0
    lines = res.output.splitlines()
    for addr in (r[0] for r in _tsv_rows()[1:]):
        assert any(line.startswith(addr + " ") for line in lines), addr
    assert "\x1b" not in res.output


@pytest.mark.parametrize("width", [200, 120, 80])
def test_terminal_table_fits_and_breaks_addresses_only_between_parts(width):
    import io
    import re

    from rich.console import Console

    from converter.commands.tables import resource_table

    header, *rows = _tsv_rows()
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=True, color_system="standard")
    console.print(resource_table(header, rows, whole=("address", "type"), status="status", width=width,
                                 optional=("type",)))
    out = buf.getvalue()
    assert "\x1b[32mmapped" in out and "\x1b[33munsupported" in out  # status colours on a terminal
    lines = re.sub(r"\x1b\[[0-9;]*m", "", out).splitlines()
    assert max(len(line.rstrip()) for line in lines) <= width
    head = next(i for i, line in enumerate(lines) if line.startswith("address"))
    col = re.search(r"\S\s+\S", lines[head][len("address") - 1:]).end() + len("address") - 2  # next column
    addresses: list[str] = []
    for line in lines[head + 1:]:
        piece = line[:col].strip()
        if not piece:
            continue  # a wrapped line of another column
        if piece[0] in ".[":
            addresses[-1] += piece  # continuation: the address broke before a `.` or `[`
        else:
            addresses.append(piece)
    assert addresses == [r[0] for r in rows]  # every address whole, nothing cut inside a name
    if width == 80:
        assert any(line[:col].strip().startswith(".") for line in lines)  # the narrow case did break some


# ------------------------------------------------------------------------------------------ option validation


def test_upgrade_to_must_be_a_kubernetes_version(tmp_path):
    res = run("fleet", "upgrade", "--config", str(FLEET), "--cluster", "platform-staging", "--to", "banana",
              "--state", STATE, "--out", str(tmp_path / "up"))
    assert res.exit_code == 2 and "not a Kubernetes version" in res.output and "Traceback" not in res.output
    assert not (tmp_path / "up").exists()


def test_upgrade_to_accepts_v_prefix():
    from converter.commands.checks import k8s_version

    assert k8s_version(None, None, "v1.31") == "1.31"
    assert k8s_version(None, None, "1.31") == "1.31"


@pytest.mark.parametrize("command", [["inspect"], ["graph"], ["convert", "--out", "OUT"], ["plan", "--out", "OUT"]])
def test_state_directory_is_named_as_a_directory(tmp_path, command):
    args = [a.replace("OUT", str(tmp_path / "o")) for a in command]
    res = run(*args, "--state", str(SAMPLES / "estate"))
    assert res.exit_code == 2 and "is a directory" in res.output
    assert "terraform.tfstate" in res.output and "Traceback" not in res.output


def test_hcl_directory_without_tf_files_is_an_error(tmp_path):
    (tmp_path / "notes.txt").write_text("not terraform\n")
    res = run("inspect", "--state", STATE, "--hcl", str(tmp_path))
    assert res.exit_code == 2 and "no .tf files" in res.output
    res = run("fleet", "init", "--state", STATE, "--hcl", str(tmp_path), "--out", str(tmp_path / "f.yaml"))
    assert res.exit_code == 2 and "no .tf files" in res.output and not (tmp_path / "f.yaml").exists()
    res = run("inspect", "--state", STATE, "--hcl", str(SAMPLES / "estate"), "--format", "json")
    assert res.exit_code == 0


# ------------------------------------------------------------------------------------------ help texts


def _commands(group, path=()):
    import click

    for name in group.list_commands(None):  # the top-level group loads its commands lazily
        cmd = group.get_command(None, name)
        yield (*path, name), cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, (*path, name))


def test_top_level_help_has_no_truncated_summaries():
    res = run("--help")
    assert res.exit_code == 0
    listed = [line for line in res.output.splitlines() if line.startswith("  ") and not line.strip().startswith("-")]
    assert len(listed) >= len(main.list_commands(None))
    assert not [line for line in res.output.split("Commands:", 1)[1].splitlines() if line.endswith("...")]


@pytest.mark.parametrize("path", [p for p, _ in _commands(main)], ids=" ".join)
def test_every_command_help_has_examples(path):
    res = run(*path, "--help")
    assert res.exit_code == 0 and "Examples:" in res.output
    assert f"tf2kro {' '.join(path)}" in res.output.split("Examples:", 1)[1]
    if "Commands:" in res.output:  # sub-command summaries not cut either
        assert not [line for line in res.output.split("Commands:", 1)[1].splitlines() if line.endswith("...")]


def test_every_option_says_what_it_does():
    import click

    bare = [(" ".join(path), p.name) for path, cmd in _commands(main) for p in cmd.params
            if isinstance(p, click.Option) and not p.help]
    assert bare == []


def test_region_help_says_what_it_does_on_each_command():
    diff_help = run("diff", "--help").output
    convert_help = run("convert", "--help").output
    assert "API calls" in " ".join(diff_help.split())
    assert "annotation" in " ".join(convert_help.split()) and "API calls" not in " ".join(convert_help.split())


# ------------------------------------------------------------------------------------------ progress on a TTY

STAGES = ("load", "map", "graph", "render", "write")


def _stage_lines(text: str) -> list[str]:
    import re

    return [m.group(1) for m in re.finditer(r"tf2kro \[\s*[\d.]+s\] (\w+)", text)]


@pytest.mark.parametrize("command", ["convert", "plan"])
def test_no_progress_when_stderr_is_not_a_tty(tmp_path, command):
    res = CliRunner().invoke(main, [command, "--state", STATE, "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert _stage_lines(res.stderr) == [] and "\r" not in res.stderr and "\x1b" not in res.stderr


@pytest.mark.parametrize("command", ["convert", "plan"])
def test_stages_on_a_forced_terminal(tmp_path, command):
    import io

    from rich.console import Console

    from converter import progress

    buf = io.StringIO()
    with progress.use(Console(file=buf, force_terminal=True)):
        res = CliRunner().invoke(main, [command, "--state", STATE, "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    assert _stage_lines(buf.getvalue()) == [*STAGES, "done"]
    assert _stage_lines(res.stderr) == []  # the injected console got them, not the (non-TTY) stderr


def test_stages_on_a_real_pty(tmp_path):
    import pty
    import subprocess
    import sys

    primary, secondary = pty.openpty()
    proc = subprocess.run([sys.executable, "-m", "converter", "convert", "--state", STATE, "--out", str(tmp_path / "o")],
                          stdout=subprocess.PIPE, stderr=secondary, cwd=REPO, timeout=120, check=False)
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(primary, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    os.close(primary)
    assert proc.returncode == 0
    assert _stage_lines(b"".join(chunks).decode()) == [*STAGES, "done"]
    assert b"tf2kro [" not in proc.stdout  # progress never on stdout


def test_step_lines_rewrite_one_status_line():
    import io

    from rich.console import Console

    from converter import progress

    buf = io.StringIO()
    with progress.use(Console(file=buf, force_terminal=True)):
        progress.stage("read")
        for i, t in enumerate(("aws_subnet", "aws_vpc"), 1):
            progress.step(t, i, 2)
        progress.finish()
    out = buf.getvalue()
    assert "read 1/2 aws_subnet" in out and "read 2/2 aws_vpc" in out
    # each step line replaces the previous one and `done` replaces the last: one visible status line at a time,
    # and the cursor is always at the start of a fresh line (an error message never lands mid-line)
    assert out.count("\x1b[1A\x1b[2K") == 2 and out.endswith("done\n")
    assert out.index("aws_subnet") < out.index("\x1b[1A") < out.index("aws_vpc")


@pytest.mark.moto
def test_capture_reports_each_aws_type(moto, tmp_path):
    import io

    from rich.console import Console

    from converter import progress
    from tests.estate_builder import build

    est = build(moto.client)
    state = tmp_path / "terraform.tfstate"
    state.write_text(est.state_json())
    buf = io.StringIO()
    with progress.use(Console(file=buf, force_terminal=True)):
        res = CliRunner().invoke(main, ["inventory", "capture", "--state", str(state), "--region", "eu-west-1",
                                        "--endpoint-url", moto.url, "--out", str(tmp_path / "cap.json")])
    assert res.exit_code == 0, res.output
    types = json.loads((tmp_path / "cap.json").read_text())["types"]
    out = buf.getvalue()
    assert _stage_lines(out)[-2:] == ["read", "done"]
    import re

    for t in types:
        assert re.search(rf"read \d+/\d+ {t}\n", out), t


def _schema_properties(node) -> set[str]:
    out: set[str] = set()
    if isinstance(node, dict):
        out |= set((node.get("properties") or {}).keys()) if isinstance(node.get("properties"), dict) else set()
        for v in node.values():
            out |= _schema_properties(v)
    elif isinstance(node, list):
        for v in node:
            out |= _schema_properties(v)
    return out


def test_every_key_the_loader_reads_is_in_the_schema():
    """additionalProperties: false would reject a key the code reads if the schema fell behind the code."""
    import inspect
    import re

    from converter.fleet import config, externalsecrets, flagger, render, upgrade

    sources = [inspect.getsource(f) for f in (config.from_dict, config._progressive, render.policy_parameters,
                                              externalsecrets.store_docs, externalsecrets.role_arn,
                                              externalsecrets.hub_scope, externalsecrets.store_ref,
                                              externalsecrets.store_name, upgrade.record_sets,
                                              upgrade.smoke_job, flagger.metric_templates)]
    # reads only: d.get("key"...) and d["key"] not followed by an assignment (emitted keys are not read)
    pattern = r"""\.get\("([A-Za-z]\w*)"[,)]|(?<=[\w)\]])\["([A-Za-z]\w*)"\](?!\s*=[^=])"""
    read = {a or b for src in sources for a, b in re.findall(pattern, src)}
    emitted_only = {"spec", "metadata", "name", "kind", "apiVersion"} & read  # also schema keys; harmless
    missing = read - _schema_properties(fleet_schema()) - emitted_only
    assert not missing, f"keys read by the fleet loader but not in fleet.schema.json: {sorted(missing)}"
    assert {"environments", "syncWindows", "progressiveDelivery", "hostedZoneID", "roleARN"} <= read


# ------------------------------------------------------------------------------------------ crafted values

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@given(st.lists(st.lists(st.text(max_size=30), min_size=3, max_size=3), max_size=8))
def test_tsv_rows_stay_rows_whatever_the_values(rows):
    from converter.commands.convert import tsv

    lines = tsv(["a", "b", "c"], rows).split("\n")
    assert lines[-1] == "" and len(lines) - 1 == len(rows) + 1
    assert all(line.count("\t") == 2 for line in lines[:-1])


@given(st.text(alphabet=st.sampled_from('ab_.["]0/'), max_size=80), st.integers(min_value=1, max_value=40))
def test_identifier_breaks_lose_nothing_and_cut_no_part(ident, width):
    import re

    from converter.commands.tables import break_identifier

    out = break_identifier(ident, width)
    assert out.replace("\n", "") == ident
    for line in out.split("\n"):
        parts = [p for p in re.split(r"(?=[.\[/])", line) if p]
        assert len(line) <= width or len(parts) == 1  # over-wide only when one unbreakable part
