"""Names that never collide: env + root (stack) in every object name, instance name, RGD name and kind; one
namespace per environment; Kubernetes length limits (converter/emit/naming.py)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from converter.cli import main
from converter.emit.naming import Naming, default_namespace, default_root, is_dns_label, with_suffix
from converter.pipeline import SAMPLE_DIR

KIND = re.compile(r"^[A-Z][a-zA-Z0-9]{0,62}$")
labels = st.from_regex(r"\A[a-z0-9]([-a-z0-9]{0,70}[a-z0-9])?\Z", fullmatch=True)
parts = st.sampled_from(["network", "identity", "cluster", "addons", "other", "network-2", "green-cluster"])


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@settings(max_examples=300, deadline=None)
@given(env=labels, root=labels, part=parts, base=labels)
def test_every_name_fits_kubernetes_limits(env, root, part, base):
    n = Naming(env, root)
    for name in (n.object_name(base), n.instance_name(part), n.namespace()):
        assert is_dns_label(name), name
    rgd = n.rgd_name(part, "migration.tf2kro.dev")
    assert len(rgd) <= 63 and rgd.endswith(".migration.tf2kro.dev") and is_dns_label(rgd.split(".")[0])
    kind = n.kind(part)
    # the kind regex, and room for the generated CRD's plural (kind + "es") in a 63-character DNS label
    assert KIND.match(kind) and len(kind) + 2 <= 63, kind
    assert with_suffix(n.object_name(base), "-green").endswith("-green")


@settings(max_examples=300, deadline=None)
@given(a=st.tuples(labels, labels), b=st.tuples(labels, labels), part=parts, base=labels)
def test_distinct_env_root_pairs_never_share_a_name_or_kind(a, b, part, base):
    if a == b:
        return
    na, nb = Naming(*a), Naming(*b)
    assert na.stack != nb.stack
    assert na.kind(part) != nb.kind(part)
    assert na.instance_name(part) != nb.instance_name(part)
    assert na.rgd_name(part, "g.dev") != nb.rgd_name(part, "g.dev")
    assert na.object_name(base) != nb.object_name(base)


def test_hyphens_cannot_make_two_pairs_meet():
    # `a-b` + `c` and `a` + `b-c` both read "a-b-c": the stack then carries a digest of the exact pair
    x, y = Naming("a-b", "c"), Naming("a", "b-c")
    assert x.stack != y.stack and x.kind("network") != y.kind("network")
    # one-word env and root stay readable
    assert Naming("prod", "network").stack == "prod-network"
    assert Naming("prod", "network").kind("cluster") == "ProdNetworkCluster"


def test_default_root_and_namespace():
    assert default_root("-") == "stdin"
    assert default_root("/srv/tf/network/terraform.tfstate") == "network"
    assert default_root("states/Prod_EKS.tfstate") == "prod-eks"
    assert default_root("s3://bucket/env:/prod/eks/terraform.tfstate?versionId=3") == "eks"
    assert default_root("/x/" + "a" * 80 + ".tfstate") == default_root("/y/" + "a" * 80 + ".tfstate")
    assert is_dns_label(default_root("/x/" + "a" * 80 + ".tfstate"))
    assert default_namespace("staging") == "staging-infrastructure"


def _objects(out: Path) -> list[tuple[str, str, str, str]]:
    """(apiVersion, kind, namespace, name) of every object a cluster would hold after applying `out`: RGDs
    (cluster-scoped), instances, and the ACK children kro creates (in the instance's namespace)."""
    found = []
    for rgd_file in sorted(out.glob("*/rgd.yaml")):
        insts = {d["kind"]: d for d in yaml.safe_load_all((rgd_file.parent / "instance.yaml").read_text())}
        for rgd in yaml.safe_load_all(rgd_file.read_text()):
            found.append((rgd["apiVersion"], rgd["kind"], "", rgd["metadata"]["name"]))
            inst = insts[rgd["spec"]["schema"]["kind"]]
            ns = inst["metadata"]["namespace"]
            found.append((inst["apiVersion"], inst["kind"], ns, inst["metadata"]["name"]))
            for r in rgd["spec"]["resources"]:
                if "template" in r:
                    t = r["template"]
                    found.append((t["apiVersion"], t["kind"], t["metadata"].get("namespace", ns), t["metadata"]["name"]))
    return found


def test_two_envs_and_two_roots_in_one_tree_never_collide(tmp_path):
    """The same Terraform estate as two roots (directories `network` and `eks`, root names derived from them) in
    two environments: four convert runs, one cluster. Every (apiVersion, kind, namespace, name) is unique and every
    RGD kind distinct (kro would otherwise refuse the objects: ApplySetConflictError, or overwrite a CRD)."""
    states = {}
    for root in ("network", "eks"):
        d = tmp_path / root
        d.mkdir()
        shutil.copy(SAMPLE_DIR / "terraform.tfstate", d / "terraform.tfstate")
        states[root] = d / "terraform.tfstate"
    all_objects: list[tuple[str, str, str, str]] = []
    kinds: list[str] = []
    for env in ("staging", "prod"):
        for root, state in states.items():
            out = tmp_path / "tree" / env / root
            res = _run("convert", "--state", state, "--out", out, "--env", env)
            assert res.exit_code == 0, res.output
            objs = _objects(out)
            assert objs, out
            assert all(o[3].startswith(f"{env}-{root}-") for o in objs if o[1] != "ResourceGraphDefinition")
            assert {o[2] for o in objs if o[2]} == {f"{env}-infrastructure"}
            all_objects += objs
            kinds += [d["spec"]["schema"]["kind"] for f in out.glob("*/rgd.yaml") for d in yaml.safe_load_all(f.read_text())]
    assert len(all_objects) == len(set(all_objects)), [o for o in all_objects if all_objects.count(o) > 1][:5]
    assert len(kinds) == len(set(kinds)) and len(kinds) >= 4 * 4
    # same root, same env → the same names (deterministic): a rerun replaces, never duplicates
    again = tmp_path / "again"
    assert _run("convert", "--state", states["eks"], "--out", again, "--env", "prod").exit_code == 0
    assert _objects(again) == _objects(tmp_path / "tree" / "prod" / "eks")


def test_root_option_names_the_stack_and_is_validated(tmp_path):
    state = SAMPLE_DIR / "terraform.tfstate"
    out = tmp_path / "out"
    assert _run("convert", "--state", state, "--out", out, "--root", "platform-net").exit_code == 0
    inst = yaml.safe_load((out / "network" / "instance.yaml").read_text())
    assert inst["metadata"]["name"].startswith("main-platform-net-")
    res = CliRunner().invoke(main, ["convert", "--state", str(state), "--out", str(tmp_path / "o2"), "--root", "Bad_Root"])
    assert res.exit_code == 2 and "DNS-1123" in res.output and not (tmp_path / "o2").exists()


@settings(max_examples=300, deadline=None)
@given(env=st.text(max_size=80), root=st.text(max_size=80), base=labels)
def test_any_text_still_gives_valid_names(env, root, base):
    """Env comes from the command line and a root may be derived from any file name: whatever the text, every
    emitted name is a DNS label and the kind matches kro's regex (crafted input never reaches YAML unchecked)."""
    n = Naming(env, root)
    assert is_dns_label(n.object_name(base)) and is_dns_label(n.instance_name("network")) and is_dns_label(n.namespace())
    assert KIND.match(n.kind("network")) and len(n.kind("network")) <= 60
    assert is_dns_label(default_root("/x/" + root + "/terraform.tfstate")) and is_dns_label(default_root(root or "-"))


def test_stdin_state_is_root_stdin(tmp_path):
    text = (SAMPLE_DIR / "terraform.tfstate").read_text()
    res = CliRunner().invoke(main, ["convert", "--state", "-", "--out", str(tmp_path / "o")], input=text)
    assert res.exit_code == 0, res.output
    inst = yaml.safe_load((tmp_path / "o" / "network" / "instance.yaml").read_text())
    assert inst["metadata"]["name"] == "main-stdin-network" and inst["kind"] == "MainStdinNetwork"


def test_plan_secret_names_of_long_objects_stay_distinct():
    from converter.plan.model import _secret_k8s_name

    a = Naming("prod", "data").object_name("rds-cluster-" + "x" * 60 + "-a")
    b = Naming("prod", "data").object_name("rds-cluster-" + "x" * 60 + "-b")
    sa, sb = _secret_k8s_name(a, "master-password"), _secret_k8s_name(b, "master-password")
    assert sa != sb and all(is_dns_label(s) and s.endswith("-master-password") for s in (sa, sb))
