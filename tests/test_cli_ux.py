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
