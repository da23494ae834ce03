"""`validate_tree` on whole trees: Gatekeeper Constraints validated against the CRD their in-tree
ConstraintTemplate generates, gator test-suite directories and non-manifest YAML (Helm values) skipped as info,
and the golden fleet output validating clean."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

from converter.cli import main
from converter.validate.crds import CrdIndex
from converter.validate.policy import subjects_from_tree
from converter.validate.runner import validate_tree

REPO_ROOT = Path(__file__).resolve().parents[1]
GOLDEN_FLEET = REPO_ROOT / "samples" / "expected" / "fleet"
GOLDEN_CONVERT = REPO_ROOT / "samples" / "expected" / "convert"

TEMPLATE = {
    "apiVersion": "templates.gatekeeper.sh/v1",
    "kind": "ConstraintTemplate",
    "metadata": {"name": "requiredtags"},
    "spec": {
        "crd": {
            "spec": {
                "names": {"kind": "RequiredTags"},
                "validation": {
                    "openAPIV3Schema": {
                        "type": "object",
                        "properties": {
                            "tags": {"type": "array", "items": {"type": "string"}},
                            "severity": {"type": "string", "enum": ["low", "high"]},
                        },
                    }
                },
            }
        },
        "targets": [
            {
                "target": "admission.k8s.gatekeeper.sh",
                "rego": 'package requiredtags\n\nviolation[{"msg": msg}] {\n  false\n  msg := "never"\n}\n',
            }
        ],
    },
}


def constraint(name: str = "required-tags", kind: str = "RequiredTags", **spec: object) -> dict:
    body = {
        "enforcementAction": "deny",
        "match": {"kinds": [{"apiGroups": ["s3.services.k8s.aws"], "kinds": ["Bucket"]}]},
        "parameters": {"tags": ["team", "env"]},
    }
    body.update(spec)
    return {
        "apiVersion": "constraints.gatekeeper.sh/v1beta1",
        "kind": kind,
        "metadata": {"name": name},
        "spec": body,
    }


def write(path: Path, *docs: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump_all(list(docs), sort_keys=False))
    return path


def found(report) -> list[tuple[str, str, str, str]]:
    return [(f.severity, f.file, f.path, f.code) for f in report.findings]


# -------------------------------------------------------------------------------------- Gatekeeper Constraints


def test_constraint_validates_against_its_in_tree_template(tmp_path: Path) -> None:
    write(tmp_path / "templates" / "requiredtags.yaml", TEMPLATE)
    write(tmp_path / "constraints" / "requiredtags.yaml", constraint())
    report = validate_tree(tmp_path, [])
    assert found(report) == [] and report.ok
    assert report.objects == 2


def test_constraint_with_wrong_parameter_type_fails(tmp_path: Path) -> None:
    write(tmp_path / "templates" / "requiredtags.yaml", TEMPLATE)
    write(tmp_path / "constraints" / "bad.yaml",
          constraint(parameters={"tags": "team", "severity": "urgent"}))
    report = validate_tree(tmp_path, [])
    assert sorted(found(report)) == [
        ("error", "constraints/bad.yaml", "spec.parameters.severity", "enum"),
        ("error", "constraints/bad.yaml", "spec.parameters.tags", "type"),
    ]
    assert not report.ok


def test_constraint_match_and_spec_fields_are_checked(tmp_path: Path) -> None:
    """`match` is Gatekeeper's (borrowed from the constraint CRD in the CRD dirs), `spec` has no free fields."""
    write(tmp_path / "templates" / "requiredtags.yaml", TEMPLATE)
    write(tmp_path / "constraints" / "bad.yaml",
          constraint(match={"kind": ["Bucket"], "namespaces": "prod"}, enforcment="warn"))
    report = validate_tree(tmp_path, [])
    assert sorted((f.path, f.code) for f in report.errors) == [
        ("spec.enforcment", "unknown-field"),
        ("spec.match.kind", "unknown-field"),
        ("spec.match.namespaces", "type"),
    ]


def test_constraint_without_template_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "templates" / "requiredtags.yaml", TEMPLATE)
    write(tmp_path / "constraints" / "orphan.yaml", constraint("orphan", "NoSuchPolicy"))
    report = validate_tree(tmp_path, [])
    [err] = report.errors
    assert (err.file, err.code) == ("constraints/orphan.yaml", "no-crd")
    assert "no ConstraintTemplate in the tree or the CRD files defines kind NoSuchPolicy" in err.message
    res = CliRunner().invoke(main, ["validate", str(tmp_path)])
    assert res.exit_code == 1, res.output
    assert "1 errors, 0 warnings" in res.output


def test_constraint_crd_from_crd_dir_is_enough(tmp_path: Path) -> None:
    """No template in the tree, but the generated constraint CRD is among the CRD files: fine."""
    crd_dir = tmp_path / "crds"
    tree = tmp_path / "tree"
    from converter.validate.policy import Policy, constraint_crd

    write(crd_dir / "requiredtags-crd.yaml", constraint_crd(Policy(template=TEMPLATE)))
    write(tree / "c.yaml", constraint())
    assert found(validate_tree(tree, [crd_dir])) == []
    write(tree / "c.yaml", constraint(parameters={"tags": [1]}))
    assert [(f.path, f.code) for f in validate_tree(tree, [crd_dir]).errors] == [("spec.parameters.tags[0]", "type")]


def test_malformed_template_defines_no_kind(tmp_path: Path) -> None:
    broken = {**TEMPLATE, "spec": {"crd": {"spec": {"names": "RequiredTags"}}}}
    write(tmp_path / "t.yaml", broken)
    write(tmp_path / "c.yaml", constraint())
    report = validate_tree(tmp_path, [], index=CrdIndex())
    assert ("c.yaml", "no-crd") in [(f.file, f.code) for f in report.errors]


# -------------------------------------------------------------------------------------- gator suites


def _suite(root: Path) -> None:
    write(root / "suite.yaml", {
        "apiVersion": "test.gatekeeper.sh/v1alpha1", "kind": "Suite", "metadata": {"name": "my-policies"},
        "tests": [{"name": "required-tags", "template": "templates/requiredtags.yaml",
                   "constraint": "constraints/requiredtags.yaml",
                   "cases": [{"name": "bad", "object": "cases/bad.yaml", "assertions": [{"violations": "yes"}]}]}],
    })
    write(root / "templates" / "requiredtags.yaml", TEMPLATE)
    write(root / "constraints" / "requiredtags.yaml", constraint())
    # test cases: same names again, and objects a schema would reject (gator only feeds them to the Rego)
    write(root / "cases" / "bad.yaml", {"apiVersion": "s3.services.k8s.aws/v1alpha1", "kind": "Bucket",
                                        "metadata": {"name": "b"}, "spec": {"nmae": "x"}})
    write(root / "cases" / "bad2.yaml", {"apiVersion": "s3.services.k8s.aws/v1alpha1", "kind": "Bucket",
                                         "metadata": {"name": "b"}, "spec": {"name": 3}})


def test_gator_suite_dir_is_skipped_once(tmp_path: Path) -> None:
    write(tmp_path / "hub" / "templates" / "requiredtags.yaml", TEMPLATE)
    write(tmp_path / "hub" / "constraints" / "requiredtags.yaml", constraint())
    _suite(tmp_path / "policies" / "gator")
    report = validate_tree(tmp_path, [])
    assert found(report) == [("info", "policies/gator", "", "gator-suite")]
    assert report.ok and report.warnings == [] and len(report.skipped) == 1
    assert report.files == 7 and report.objects == 2
    line = str(report.skipped[0])
    assert line.startswith("info: policies/gator: gator test suite (Suite/my-policies in policies/gator/suite.yaml)")
    assert "5 file(s)" in line
    assert report.to_text().endswith("0 errors, 0 warnings, 1 skipped\n")
    assert report.to_dict()["counts"]["skipped"] == 1
    # the policy evaluator leaves out the same directory (its Bucket cases; templates/constraints are never subjects)
    assert subjects_from_tree(tmp_path) == []


def test_template_only_in_gator_suite_does_not_define_the_kind(tmp_path: Path) -> None:
    """The suite's template copy is a test fixture, not installed: a cluster Constraint still needs a template."""
    write(tmp_path / "hub" / "constraints" / "requiredtags.yaml", constraint())
    _suite(tmp_path / "policies" / "gator")
    report = validate_tree(tmp_path, [])
    assert [(f.file, f.code) for f in report.errors] == [("hub/constraints/requiredtags.yaml", "no-crd")]


def test_suite_detection_is_by_parsed_kind_not_text(tmp_path: Path) -> None:
    """A ConfigMap that merely mentions a Suite in its data does not make its directory a test suite."""
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "docs"},
          "data": {"example": "apiVersion: test.gatekeeper.sh/v1alpha1\nkind: Suite\n"}}
    write(tmp_path / "docs.yaml", cm)
    write(tmp_path / "bad.yaml", {"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g"}})
    report = validate_tree(tmp_path, [], index=CrdIndex())
    assert report.skipped == [] and report.objects == 2
    assert [(f.file, f.code) for f in report.errors] == [("bad.yaml", "no-crd")]
    assert {s.source for s in subjects_from_tree(tmp_path)} == {"docs.yaml", "bad.yaml"}


# -------------------------------------------------------------------------------------- non-manifest YAML


def test_helm_values_file_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "envs" / "staging").mkdir(parents=True)
    (tmp_path / "envs" / "staging" / "values.yaml").write_text("# overrides\n{}\n")
    (tmp_path / "envs" / "prod").mkdir(parents=True)
    (tmp_path / "envs" / "prod" / "values.yaml").write_text("replicaCount: 3\nimage:\n  tag: v1\n---\n- a\n")
    (tmp_path / "empty.yaml").write_text("# nothing\n")
    write(tmp_path / "cm.yaml", {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}})
    report = validate_tree(tmp_path, [], index=CrdIndex())
    assert found(report) == [
        ("info", "envs/prod/values.yaml", "", "not-a-manifest"),
        ("info", "envs/staging/values.yaml", "", "not-a-manifest"),
    ]
    assert report.ok and report.objects == 1
    assert str(report.skipped[0]).startswith("info: envs/prod/values.yaml: no document has an apiVersion or a kind")


def test_manifest_missing_kind_is_still_an_error(tmp_path: Path) -> None:
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    no_kind = {"apiVersion": "v1", "metadata": {"name": "d"}, "data": {"k": "v"}}
    write(tmp_path / "mixed.yaml", cm, no_kind, {"replicaCount": 1})
    write(tmp_path / "alone.yaml", no_kind)  # apiVersion present: a manifest with a typo, not a values file
    (tmp_path / "list.yaml").write_text(yaml.safe_dump([cm]))  # a bare list of objects is not a manifest either
    report = validate_tree(tmp_path, [], index=CrdIndex())
    assert [(f.file, f.doc, f.path) for f in report.errors] == [
        ("alone.yaml", 0, "kind"),
        ("list.yaml", 0, ""),
        ("mixed.yaml", 1, "kind"),
        ("mixed.yaml", 2, "apiVersion"),
        ("mixed.yaml", 2, "kind"),
    ]
    assert report.skipped == []
    (tmp_path / "no-crds").mkdir()
    res = CliRunner().invoke(main, ["validate", str(tmp_path), "--crds", str(tmp_path / "no-crds")])
    assert res.exit_code == 1, res.output


# -------------------------------------------------------------------------------------- golden output


def test_golden_fleet_output_validates_clean() -> None:
    report = validate_tree(GOLDEN_FLEET, [])
    assert report.errors == [], report.to_text()
    assert sorted((f.file, f.code) for f in report.skipped) == [
        ("apps/aws-load-balancer-controller/envs/staging/values.yaml", "not-a-manifest"),
        ("examples/alertmanager-route.yaml", "not-a-manifest"),
        ("examples/kube-state-metrics-values.yaml", "not-a-manifest"),
        ("policies/gator", "gator-suite"),
    ]
    # the hub and each (account, region) store directory hold the IRSA ServiceAccount + ClusterSecretStore (and
    # the namespaced stores) under the same names: they go to different clusters, so no conflict; the validator
    # cannot see Argo CD destinations and says so. The loadtester's Deployment/Service are built-in kinds
    # without a bundled schema.
    dups = {(f.file, f.object) for f in report.warnings if f.code == "duplicate-object"}
    stores = sorted(p.name for p in (GOLDEN_FLEET / "platform" / "stores").iterdir())
    assert len(stores) == 2 and {f.split("/")[2] for f, _o in dups} == set(stores)
    assert {o.split("/")[0] for _f, o in dups} == {"ClusterSecretStore", "ServiceAccount", "SecretStore"}
    others = sorted((f.file, f.object, f.code) for f in report.warnings if f.code != "duplicate-object")
    assert others == [("platform/base/flagger-loadtester.yaml", "Deployment/flagger-system/flagger-loadtester", "no-crd"),
                      ("platform/base/flagger-loadtester.yaml", "Service/flagger-system/flagger-loadtester", "no-crd")]
    kinds = {f.object.split("/")[0] for f in report.findings}
    assert not kinds & {"AwsRequiredTags", "Suite"}
    # the Constraints were really checked (not skipped): 6 in hub/gatekeeper/constraints
    assert report.objects >= 30
    res = CliRunner().invoke(main, ["validate", str(GOLDEN_FLEET)])
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[-1].endswith(f": 0 errors, {len(report.warnings)} warnings, 4 skipped")


def test_golden_convert_output_still_validates_clean() -> None:
    report = validate_tree(GOLDEN_CONVERT, [])
    assert report.findings == [], report.to_text()
