"""The real-world corpus (../shared/corpus/tfstate): every v4 state converts; every managed resource gets a
status; coverage of aws_* instances ≥ 90%; every emitted object passes its real CRD schema (unknown fields
rejected). Skipped where ../shared is absent. Prints the figures the closing notes quote."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from converter.cli import main
from converter.load.state import load_state
from converter.model import ToolError

SHARED = Path(__file__).resolve().parents[2] / "shared"
TFSTATE = SHARED / "corpus" / "tfstate"
CRDS = SHARED / "crds"
pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not TFSTATE.is_dir(), reason="../shared/corpus absent"),
]


def _states() -> list[Path]:
    if not TFSTATE.is_dir():
        return []
    return sorted(p for p in TFSTATE.iterdir() if "tfstate" in p.name)


def _version(p: Path) -> int:
    return json.loads(p.read_text()).get("version", 0)


@pytest.fixture(scope="module")
def crd_index():
    from converter.validate.crds import CrdIndex

    return CrdIndex.from_paths([CRDS])


@pytest.mark.parametrize("path", [p for p in _states() if _version(p) < 4], ids=lambda p: p.name[:40])
def test_old_format_is_refused_cleanly(path, tmp_path):
    with pytest.raises(ToolError, match="format version"):
        load_state(path)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["convert", "--state", str(path), "--out", str(out)])
    assert res.exit_code == 2 and not out.exists()


V4 = [p for p in _states() if _version(p) == 4]


@pytest.mark.parametrize("path", V4, ids=lambda p: p.name[:40])
def test_v4_state_converts_and_validates(path, tmp_path, crd_index):

    res = CliRunner().invoke(main, ["inspect", "--state", str(path), "--format", "json"])
    assert res.exit_code == 0, res.output
    rep = json.loads(res.output)
    state = load_state(path)
    assert {r["address"] for r in rep["resources"]} == {i.address for i in state.managed}
    for row in rep["resources"]:
        assert row["status"] in ("mapped", "folded", "unsupported", "not-adopted")
        if row["status"] in ("unsupported", "not-adopted"):
            assert row["reason"]
        if row["status"] == "folded":
            assert row["fold_parent"] in {r["address"] for r in rep["resources"] if r["status"] == "mapped"}
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["convert", "--state", str(path), "--out", str(out)])
    assert res.exit_code == 0, res.output
    # the whole tree, as `tf2kro validate` checks it: every ACK object against its CRD (unknown fields rejected),
    # every RGD statically like kro (ids, SimpleSchema, CEL compile, field existence, cycles) and every instance
    # against the CRD its RGD generates
    from converter.validate.runner import validate_tree

    report = validate_tree(out, [], index=crd_index)
    assert report.objects > 0
    assert [f"{f.file} {f.object} {f.path}: {f.message}" for f in report.errors] == []
    assert [f"{f.file} {f.object} {f.path}: {f.message}" for f in report.warnings] == []


def test_corpus_coverage_figure(capsys):
    from converter.pipeline import load_estate

    total = covered = 0
    rows = []
    for p in V4:
        e = load_estate(p)
        aws = [c for c in e.result.conversions.values() if c.type.startswith("aws_")]
        ok = sum(1 for c in aws if c.status.value != "unsupported")
        total += len(aws)
        covered += ok
        rows.append(f"{p.name[:60]:60s} {ok:4d}/{len(aws):4d}")
    pct = 100.0 * covered / total
    with capsys.disabled():
        print("\ncorpus aws_* coverage:\n" + "\n".join(rows) + f"\nTOTAL {covered}/{total} = {pct:.1f}%")
    assert pct >= 90.0
