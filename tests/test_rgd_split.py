"""Objects Kubernetes can store: RGDs split by size (by module, then by wave) with cross-part references as
externalRefs, ServerSideApply sync options, and `validate` reporting objects over the apply/etcd limits."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from converter.cli import main
from converter.commands.convert import render_tree
from converter.emit.kro import EmitOptions, emit_phases, partition
from converter.emit.size import CLIENT_SIDE_APPLY_LIMIT, ETCD_REQUEST_LIMIT, serialized_size
from converter.emit.writer import write_tree
from converter.pipeline import SAMPLE_DIR, load_estate
from converter.validate.runner import size_problems

REPO_ROOT = Path(__file__).resolve().parents[1]
REF = re.compile(r"\$\{([a-z][a-zA-Z0-9]*)\.")


@pytest.fixture(scope="module")
def estate():
    return load_estate(SAMPLE_DIR / "terraform.tfstate", SAMPLE_DIR)


def _parts(estate, budget):
    return emit_phases(estate.result, estate.graph, EmitOptions(env="prod", root="net", size_budget=budget), estate.hcl)


def test_small_budget_splits_every_phase_and_keeps_every_reference_resolvable(estate):
    whole = _parts(estate, None)
    budget = 12 * 1024
    parts = _parts(estate, budget)
    assert len(parts) > len(whole)  # the budget forced splits
    # every mapped object is emitted exactly once, under the same name as without splitting
    def templates(outs):
        return sorted((r["template"]["kind"], r["template"]["metadata"]["name"])
                      for po in outs for r in po.rgd["spec"]["resources"] if "template" in r)
    assert templates(parts) == templates(whole) and len(set(templates(parts))) == len(templates(parts))
    emitted_at: dict[tuple[str, str], int] = {}
    for n, po in enumerate(parts):
        for r in po.rgd["spec"]["resources"]:
            if "template" in r:
                emitted_at[(r["template"]["kind"], r["template"]["metadata"]["name"])] = n
    kinds = [po.rgd["spec"]["schema"]["kind"] for po in parts]
    assert len(set(kinds)) == len(kinds)
    assert len({po.instance["metadata"]["name"] for po in parts}) == len(parts)
    for n, po in enumerate(parts):
        resources = po.rgd["spec"]["resources"]
        ids = {r["id"] for r in resources}
        n_templates = sum("template" in r for r in resources)
        # within budget, unless the part is one object that cannot be cut
        assert serialized_size(po.rgd) <= budget or n_templates == 1, (po.part, serialized_size(po.rgd))
        for r in resources:
            if "externalRef" in r:
                ref = r["externalRef"]
                # read from an earlier part (same or earlier phase), never a later one: no waiting cycle
                assert emitted_at[(ref["kind"], ref["metadata"]["name"])] < n, (po.part, ref)
            else:
                for used in REF.findall(yaml.safe_dump(r["template"].get("spec", {}))):
                    assert used in ids or used == "schema", (po.part, r["id"], used)
        if po.part != po.phase:
            assert po.rgd["metadata"]["annotations"]["tf2kro.dev/part"] == po.part
            assert re.fullmatch(rf"{po.phase}-\d+", po.part)


def test_partition_keeps_modules_whole_then_cuts_by_wave():
    members = ["module.a.x.1", "module.a.x.2", "module.b.y.1", "module.b.y.2", "module.b.y.3", "z.root"]
    sizes = dict.fromkeys(members, 10)
    waves = {"module.a.x.1": 0, "module.a.x.2": 1, "module.b.y.1": 0, "module.b.y.2": 1, "module.b.y.3": 2, "z.root": 0}
    edges = [("module.a.x.1", "module.b.y.1")]  # b references a: a's module first
    parts = partition(members, sizes, edges, 20, waves)
    assert parts[0] == ["module.a.x.1", "module.a.x.2"]
    # module b (30 bytes) is over the 20-byte budget: cut by wave, in wave order
    flat = [a for p in parts for a in p]
    assert flat.index("module.b.y.1") < flat.index("module.b.y.2") < flat.index("module.b.y.3")
    assert all(sum(sizes[a] for a in p) <= 20 for p in parts)
    assert sorted(flat) == sorted(members)
    # under budget: one part, order unchanged
    assert partition(members, sizes, edges, 1000, waves) == [members]


def test_rendered_tree_sync_options_and_validator_on_split_output(estate, tmp_path):
    files = render_tree(estate, EmitOptions(env="prod", root="net", size_budget=12 * 1024))
    write_tree(tmp_path / "out", files, estate.secrets())
    for f in (tmp_path / "out").glob("*/rgd.yaml"):
        for d in yaml.safe_load_all(f.read_text()):
            assert "ServerSideApply=true" in d["metadata"]["annotations"]["argocd.argoproj.io/sync-options"]
            inst_file = f.parent / "instance.yaml"
            insts = {i["kind"]: i for i in yaml.safe_load_all(inst_file.read_text())}
            opts = insts[d["spec"]["schema"]["kind"]]["metadata"]["annotations"]["argocd.argoproj.io/sync-options"]
            assert set(opts.split(",")) == {"ServerSideApply=true", "SkipDryRunOnMissingResource=true"}
    from converter.validate.runner import validate_tree

    rep = validate_tree(tmp_path / "out", [])  # the CRD schemas bundled with tf2kro
    assert not rep.errors, [str(e) for e in rep.errors][:5]
    assert not [w for w in rep.warnings if w.code in ("object-large", "duplicate-object")]


def _cm(size: int, ssa: bool = False) -> dict:
    md = {"name": "big", "namespace": "x"}
    if ssa:
        md["annotations"] = {"argocd.argoproj.io/sync-options": "ServerSideApply=true"}
    obj = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": md, "data": {"k": ""}}
    obj["data"]["k"] = "a" * (size - serialized_size(obj))
    assert serialized_size(obj) == size
    return obj


def test_size_limits_in_validate(tmp_path):
    assert size_problems(_cm(CLIENT_SIDE_APPLY_LIMIT)) == []
    [w] = size_problems(_cm(CLIENT_SIDE_APPLY_LIMIT + 1))
    assert w.severity == "warning" and "256 KiB" in w.message and "apply it server-side" in w.message
    [w] = size_problems(_cm(CLIENT_SIDE_APPLY_LIMIT + 1, ssa=True))
    assert w.severity == "warning" and "carries ServerSideApply=true" in w.message
    assert size_problems(_cm(ETCD_REQUEST_LIMIT))[0].severity == "warning"
    [e] = size_problems(_cm(ETCD_REQUEST_LIMIT + 1))
    assert e.severity == "error" and "1.5 MiB" in e.message
    # through the CLI: an oversized object is an error finding, exit 1 (findings), naming the file
    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "big.yaml").write_text(yaml.safe_dump(_cm(ETCD_REQUEST_LIMIT + 10)))
    args = ["validate", str(tmp_path / "t")]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 1 and "big.yaml" in res.output and "1.5 MiB" in res.output, res.output


def test_generated_2k_estate_every_object_under_the_client_side_apply_limit(tmp_path):
    """At 2k generated resources the unsplit network RGD was 430 KB (over 256 KiB); with the default budget every
    emitted object fits client-side apply too (10k is measured by benchmarks/run.py: largest object)."""
    from benchmarks.generate import generate
    from benchmarks.run import largest_objects

    generate(tmp_path / "est", 2000, seed=1, hcl=False)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["convert", "--state", str(tmp_path / "est" / "terraform.tfstate"), "--out", str(out)])
    assert res.exit_code == 0, res.output
    big = largest_objects(out)
    assert 0 < big["bytes"] <= 192 * 1024 and big["over_256KiB"] == 0, big
    network = list(yaml.safe_load_all((out / "network" / "rgd.yaml").read_text()))
    assert len(network) >= 2  # the network phase was split
