"""The HCL parse cache: JSON entries keyed by content + parser + tf2kro version, in the user's cache directory,
on in the CLI, off with --no-cache; a bad entry is re-parsed, never an error, and never executed."""

from __future__ import annotations

import json
import os
import pickle
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

import converter.load.hcl as hcl_mod
from converter.cli import main
from converter.load import hclcache
from converter.load.hcl import load_hcl

STATE = str(Path(__file__).resolve().parents[1] / "samples" / "estate" / "terraform.tfstate")


def make_config(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "main.tf").write_text('resource "aws_s3_bucket" "logs" {\n  bucket = "${var.prefix}-logs"\n}\n')
    (root / "vars.tf").write_text('variable "prefix" {\n  default = "dev"\n}\n')
    (root / "terraform.tfvars").write_text('prefix = "prod"\n')
    return root


@pytest.fixture
def parses(monkeypatch):
    """Every file actually parsed (in-process: these configurations stay below the pool threshold)."""
    seen: list[str] = []
    real = hcl_mod.parse_text

    def counting(text, path, *, tfvars=False):
        seen.append(os.path.basename(path))
        return real(text, path, tfvars=tfvars)

    monkeypatch.setattr(hcl_mod, "parse_text", counting)
    return seen


def entries(cache: Path) -> list[Path]:
    return sorted(p for p in cache.iterdir() if p.is_file())


def test_second_load_reads_the_cache(tmp_path, parses):
    src, cache = make_config(tmp_path / "src"), tmp_path / "cache"
    first = load_hcl(src, workers=1, cache_dir=cache)
    assert sorted(parses) == ["main.tf", "terraform.tfvars", "vars.tf"]
    parses.clear()
    second = load_hcl(src, workers=1, cache_dir=cache)
    assert parses == []
    assert [r.address for r in second.resources()] == [r.address for r in first.resources()]
    assert second.root.variables["prefix"].value == first.root.variables["prefix"].value == "prod"
    assert second.resources()[0].attributes == first.resources()[0].attributes


def test_entries_are_private_json(tmp_path, parses):
    src, cache = make_config(tmp_path / "src"), tmp_path / "cache"
    load_hcl(src, workers=1, cache_dir=cache)
    files = entries(cache)
    assert len(files) == 3 and all(p.suffix == ".json" for p in files)
    for p in files:
        doc = json.loads(p.read_text(encoding="utf-8"))  # JSON, not pickle
        assert set(doc) >= {"body", "blocks"}
        assert stat.S_IMODE(p.stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700


@pytest.mark.parametrize("garbage", [b"", b"{not json", b'["a list"]', b'{"body": 1, "blocks": []}', b"\xff\xfe",
                                     pickle.dumps({"body": {}, "blocks": []})], ids=["empty", "truncated", "list",
                                                                                     "shape", "not-utf8", "pickle"])
def test_a_corrupt_entry_is_parsed_again(tmp_path, parses, garbage):
    src, cache = make_config(tmp_path / "src"), tmp_path / "cache"
    expected = load_hcl(src, workers=1, cache_dir=cache)
    for p in entries(cache):
        p.write_bytes(garbage)
    parses.clear()
    again = load_hcl(src, workers=1, cache_dir=cache)
    assert sorted(parses) == ["main.tf", "terraform.tfvars", "vars.tf"]
    assert again.resources()[0].attributes == expected.resources()[0].attributes
    assert all(json.loads(p.read_text()) for p in entries(cache))  # rewritten as valid entries


class _Planted:
    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (Path(self.marker),))


def test_a_planted_pickle_is_never_executed(tmp_path, parses):
    src, cache = make_config(tmp_path / "src"), tmp_path / "cache"
    load_hcl(src, workers=1, cache_dir=cache)
    marker = tmp_path / "executed"
    for p in entries(cache):
        p.write_bytes(pickle.dumps(_Planted(str(marker))))
    load_hcl(src, workers=1, cache_dir=cache)
    assert not marker.exists()


def test_the_key_changes_with_the_parser_and_tf2kro_versions(tmp_path, parses, monkeypatch):
    src, cache = make_config(tmp_path / "src"), tmp_path / "cache"
    load_hcl(src, workers=1, cache_dir=cache)
    parses.clear()
    monkeypatch.setattr(hclcache, "tool_version", lambda: "999.0")
    load_hcl(src, workers=1, cache_dir=cache)
    assert len(parses) == 3
    parses.clear()
    monkeypatch.setattr(hcl_mod, "HCL2_VERSION", "0.0-other")
    load_hcl(src, workers=1, cache_dir=cache)
    assert len(parses) == 3
    assert len(entries(cache)) == 9


def test_an_unusable_cache_directory_is_no_error(tmp_path, parses):
    src = make_config(tmp_path / "src")
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cfg = load_hcl(src, workers=1, cache_dir=blocker / "cache")
    assert cfg.root.variables["prefix"].value == "prod" and len(parses) == 3


def test_tfvars_parse_in_the_root_module_batch(tmp_path, monkeypatch):
    """terraform.tfvars / *.auto.tfvars go to the pool with the root's .tf files, not one by one afterwards."""
    src = make_config(tmp_path / "src")
    (src / "b.auto.tfvars").write_text('prefix = "auto"\n')
    batches: list[list[str]] = []
    real = hcl_mod._Parser.parse

    def recording(self, paths):
        batches.append(sorted(os.path.basename(p) for p in paths if p not in self.results))
        return real(self, paths)

    monkeypatch.setattr(hcl_mod._Parser, "parse", recording)
    cfg = load_hcl(src, workers=1)
    assert batches[0] == ["b.auto.tfvars", "main.tf", "terraform.tfvars", "vars.tf"]
    assert all(b == [] for b in batches[1:])
    assert cfg.root.variables["prefix"].value == "auto"  # *.auto.tfvars still after terraform.tfvars


def test_user_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert hclcache.user_cache_dir() == tmp_path / "xdg" / "tf2kro"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/dir")  # the XDG spec: relative paths are ignored
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert hclcache.user_cache_dir() == tmp_path / "home" / ".cache" / "tf2kro"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert hclcache.user_cache_dir() == tmp_path / "home" / ".cache" / "tf2kro"


def test_the_cli_caches_and_no_cache_skips(tmp_path, parses, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    src = make_config(tmp_path / "src")
    cache = tmp_path / "xdg" / "tf2kro"
    runner = CliRunner()

    def inspect(*extra):
        res = runner.invoke(main, ["inspect", "--state", STATE, "--hcl", str(src), "--format", "json", *extra])
        assert res.exit_code == 0, res.output
        return json.loads(res.output)

    first = inspect()
    assert len(parses) == 3 and len(entries(cache)) == 3
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    parses.clear()
    assert inspect() == first and parses == []  # warm: nothing parsed
    for p in entries(cache):
        p.unlink()
    assert inspect("--no-cache") == first and len(parses) == 3
    assert entries(cache) == []  # --no-cache neither reads nor writes
    parses.clear()
    inspect()  # the next run without --no-cache caches again
    assert len(parses) == 3 and len(entries(cache)) == 3


@pytest.mark.parametrize("argv", [["convert"], ["inspect"], ["graph"], ["diff"], ["inventory", "capture"], ["plan"],
                                  ["fleet", "init"], ["fleet", "upgrade"]], ids=" ".join)
def test_every_command_with_hcl_has_no_cache(argv):
    res = CliRunner().invoke(main, [*argv, "--help"])
    assert res.exit_code == 0 and "--hcl" in res.output and "--no-cache" in res.output
