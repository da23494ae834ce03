"""Gatekeeper policies evaluated offline with regorus: every policy has passing and violating cases, the
Constraint match emulation, RGD templates with unresolved CEL, and the converted sample estate."""

from __future__ import annotations

import pytest
import yaml
from click.testing import CliRunner

from converter.validate.policy import (
    Subject,
    build_inventory,
    check_tree,
    constraint_matches,
    evaluate,
    format_report,
    load_cases,
    load_policies,
    subjects_from_docs,
    template_problems,
)

regorus = pytest.importorskip("regorus")

POLICIES = load_policies()
CASES = load_cases()
ALL_CASES = [(p.name, c["name"]) for p in POLICIES for c in CASES.get(p.name, [])]


def _policy(name):
    return next(p for p in POLICIES if p.name == name)


def test_bundled_set():
    assert {p.name for p in POLICIES} == {"ackadoptionretain", "awsrequiredtags", "awsallowedinstancetypes",
                                          "awsnopublicsubnetsprod", "eksversionskew", "eksallowedversions"}
    for p in POLICIES:
        assert template_problems(p.template) == [], p.name
        assert p.template["apiVersion"] == "templates.gatekeeper.sh/v1"
        assert len(p.constraints) == 1 and p.constraints[0]["apiVersion"] == "constraints.gatekeeper.sh/v1beta1"


@pytest.mark.parametrize("policy", [p.name for p in POLICIES])
def test_every_policy_has_passing_and_violating_case(policy):
    counts = [c["violations"] for c in CASES[policy]]
    assert 0 in counts and any(n > 0 for n in counts)


@pytest.mark.parametrize(("policy", "case"), ALL_CASES)
def test_case(policy, case):
    pol = _policy(policy)
    c = next(x for x in CASES[policy] if x["name"] == case)
    obj = c["object"]
    inv = build_inventory((o, o["metadata"].get("namespace", "")) for o in c.get("inventory", []))
    rep = evaluate([pol], [Subject(obj, obj["metadata"].get("namespace", ""), case)], inventory=inv)
    msgs = [str(v) for v in rep.violations]
    assert len(msgs) == c["violations"], msgs
    if c.get("message"):
        assert any(c["message"] in m for m in msgs), msgs
    for m in msgs:  # reported like Gatekeeper
        assert m.startswith(f"[{pol.constraints[0]['metadata']['name']}] ")


def test_template_problems_detects_name_and_schema():
    t = yaml.safe_load(yaml.safe_dump(_policy("eksallowedversions").template))
    t["metadata"]["name"] = "EksAllowedVersions"
    t["spec"]["crd"]["spec"]["validation"]["openAPIV3Schema"]["properties"]["versions"] = {"items": {"type": "string"}}
    probs = template_problems(t)
    assert any("lowercase" in p for p in probs) and any("structural" in p for p in probs)


OBJ = {"apiVersion": "eks.services.k8s.aws/v1alpha1", "kind": "Nodegroup",
       "metadata": {"name": "ng", "namespace": "team-a", "labels": {"tier": "gold"}}}


@pytest.mark.parametrize(("match", "ns_labels", "expected"), [
    ({}, {}, True),
    ({"kinds": [{"apiGroups": ["eks.services.k8s.aws"], "kinds": ["Nodegroup"]}]}, {}, True),
    ({"kinds": [{"apiGroups": ["ec2.services.k8s.aws"], "kinds": ["*"]}]}, {}, False),
    ({"kinds": [{"apiGroups": ["*"], "kinds": ["Cluster"]}]}, {}, False),
    ({"namespaces": ["team-*"]}, {}, True),
    ({"namespaces": ["prod"]}, {}, False),
    ({"excludedNamespaces": ["team-*"]}, {}, False),
    ({"labelSelector": {"matchLabels": {"tier": "gold"}}}, {}, True),
    ({"labelSelector": {"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["gold"]}]}}, {}, False),
    ({"labelSelector": {"matchExpressions": [{"key": "x", "operator": "DoesNotExist"}]}}, {}, True),
    ({"namespaceSelector": {"matchLabels": {"env": "prod"}}}, {"team-a": {"env": "prod"}}, True),
    ({"namespaceSelector": {"matchLabels": {"env": "prod"}}}, {"team-a": {"env": "dev"}}, False),
    ({"scope": "Cluster"}, {}, False),
    ({"name": "n*"}, {}, True),
])
def test_match_emulation(match, ns_labels, expected):
    assert constraint_matches({"spec": {"match": match}}, OBJ, "team-a", ns_labels) is expected


def test_namespace_selector_uses_namespace_objects_in_the_tree():
    pol = _policy("awsnopublicsubnetsprod")
    pol = yaml.safe_load(yaml.safe_dump({"t": pol.template, "c": pol.constraints}))
    from converter.validate.policy import Policy

    p = Policy(pol["t"], pol["c"])
    p.constraints[0]["spec"]["match"]["namespaceSelector"] = {"matchLabels": {"env": "prod"}}
    docs = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "net", "labels": {"env": "prod"}}},
        {"apiVersion": "ec2.services.k8s.aws/v1alpha1", "kind": "Subnet",
         "metadata": {"name": "pub", "namespace": "net"}, "spec": {"mapPublicIPOnLaunch": True}},
    ]
    rep = evaluate([p], subjects_from_docs(docs, "t.yaml"))
    assert [v.name for v in rep.violations] == ["pub"]  # env from namespaceObject


def test_rgd_templates_skip_unresolved_reads_but_check_resolved_ones():
    rgd = {"apiVersion": "kro.run/v1alpha1", "kind": "ResourceGraphDefinition", "metadata": {"name": "x"},
           "spec": {"schema": {"apiVersion": "v1alpha1", "kind": "X"}, "resources": [
               {"id": "ngA", "template": {"apiVersion": "eks.services.k8s.aws/v1alpha1", "kind": "Nodegroup",
                                          "metadata": {"name": "a"},
                                          "spec": {"instanceTypes": "${schema.spec.types}"}}},
               {"id": "ngB", "template": {"apiVersion": "eks.services.k8s.aws/v1alpha1", "kind": "Nodegroup",
                                          "metadata": {"name": "${schema.spec.name}-b"},
                                          "spec": {"instanceTypes": ["p4d.24xlarge"]}}},
           ]}}
    subs = subjects_from_docs([rgd], "rgd.yaml")
    assert all(s.template for s in subs)
    rep = evaluate([_policy("awsallowedinstancetypes")], subs)
    assert rep.checks == 1 and len(rep.skipped) == 1 and "unresolved spec.instanceTypes" in rep.skipped[0]
    assert [v.source for v in rep.violations] == ["rgd.yaml#ngB"]


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    from converter.cli import main

    out = tmp_path_factory.mktemp("conv") / "out"
    res = CliRunner().invoke(main, ["convert", "--sample", "--out", str(out), "--env", "staging"], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return out


def test_sample_estate_conversion_passes_the_fleet_policies(converted, tmp_path):
    from converter.fleet.config import load_fleet
    from converter.fleet.render import fleet_policies
    from converter.pipeline import REPO_ROOT
    from converter.validate.policy import subjects_from_tree

    pols = fleet_policies(load_fleet(REPO_ROOT / "samples" / "fleet.yaml"))
    subs = subjects_from_tree(converted)
    rep = evaluate(pols, subs)
    assert rep.denied == [], format_report(rep)
    assert rep.checks > 150 and rep.objects > 100
    # cluster-phase templates: version / clusterName are CEL → skipped, never a false violation
    assert any("eks-allowed-versions" in s for s in rep.skipped)


def test_sample_estate_violations_are_reported_like_gatekeeper(converted, tmp_path):
    import shutil

    from converter.fleet.config import load_fleet
    from converter.fleet.render import fleet_policies
    from converter.pipeline import REPO_ROOT
    from converter.validate.policy import subjects_from_tree

    tree = tmp_path / "t"
    shutil.copytree(converted, tree)
    p = tree / "cluster" / "review" / "ack-objects.yaml"
    docs = list(yaml.safe_load_all(p.read_text()))
    for d in docs:
        if d["kind"] == "Nodegroup":
            d["spec"]["instanceTypes"] = ["x1e.32xlarge"]
            d["metadata"]["annotations"]["services.k8s.aws/deletion-policy"] = "delete"
    p.write_text(yaml.safe_dump_all(docs))
    doc = yaml.safe_load((REPO_ROOT / "samples" / "fleet.yaml").read_text())
    fl = load_fleet(REPO_ROOT / "samples" / "fleet.yaml")
    assert doc
    rep = evaluate(fleet_policies(fl), subjects_from_tree(tree))
    msgs = sorted(str(v) for v in rep.denied)
    assert len(msgs) == 4, msgs
    assert sum(m.startswith("[allowed-instance-types] Nodegroup ") and "x1e.32xlarge" in m for m in msgs) == 2
    assert sum(m.startswith("[ack-adoption-retain] Nodegroup ") for m in msgs) == 2


def test_check_tree_on_fleet_output_skips_gator_cases():
    from converter.pipeline import REPO_ROOT

    rep = check_tree(REPO_ROOT / "samples" / "expected" / "fleet")
    assert rep.denied == [], format_report(rep)
    # the gator cases violate on purpose: they are in a Suite directory and not scanned
    assert not any("policies/gator" in v.source for v in rep.violations)


def test_gator_suite_emitted_and_consistent():
    from converter.pipeline import REPO_ROOT

    root = REPO_ROOT / "samples" / "expected" / "fleet" / "policies" / "gator"
    suite = yaml.safe_load((root / "suite.yaml").read_text())
    assert suite["apiVersion"] == "test.gatekeeper.sh/v1alpha1" and suite["kind"] == "Suite"
    n = 0
    for t in suite["tests"]:
        assert (root / t["template"]).exists() and (root / t["constraint"]).exists()
        for c in t["cases"]:
            assert (root / c["object"]).exists()
            for inv in c.get("inventory", []):
                assert (root / inv).exists()
            n += 1
    assert n == sum(len(v) for v in CASES.values())


def test_validate_command_runs_policies_through_the_runner_hook(converted):
    from converter.cli import main
    from converter.pipeline import REPO_ROOT

    gk = REPO_ROOT / "samples" / "expected" / "fleet" / "hub" / "gatekeeper"
    res = CliRunner().invoke(main, ["validate", str(converted), "--policies", str(gk)])
    assert res.exit_code == 0, res.output
    # bundled defaults allow fewer instance types than the sample fleet: the spot node group is denied
    res = CliRunner().invoke(main, ["validate", str(converted), "--policies", "bundled"])
    assert res.exit_code == 1
    assert "[allowed-instance-types] Nodegroup staging-sample-eks-managed-node-group-spot-eks-node-group-this" in res.output
