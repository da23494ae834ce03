"""Offline units of `tf2kro diff`: normalisers (no false positives on equivalent shapes, no false negatives on
real changes), Markdown chunking, ignore baseline, describe-block parsing of every mapping."""

from __future__ import annotations

import json
import urllib.parse

from converter.diff.compare import (
    ADOPTION,
    DiffReport,
    Entry,
    Finding,
    IgnoreRule,
    ResourceDiff,
    apply_ignore,
    check_describe_blocks,
    diff_values,
)
from converter.diff.normalize import NormContext, ack_name
from converter.diff.report import render_junit, render_markdown
from converter.mapping.spec import load_mappings

CTX = NormContext(item={"OwnerId": "123456789012", "GroupId": "sg-1"})


def _same(a, b, **entry) -> bool:
    return diff_values(a, b, Entry(source="x", **entry), CTX, "spec.f") == []


def test_policy_documents_compare_semantically() -> None:
    doc = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["s3:B", "s3:A"], "Resource": "*"}]}
    same = {"Statement": {"Resource": ["*"], "Action": ["s3:A", "s3:B"], "Effect": "Allow"}, "Version": "2012-10-17"}
    assert _same(json.dumps(doc), same, compare=("policy_json",))
    assert _same(urllib.parse.quote(json.dumps(doc)), doc, compare=("policy_json",))  # IAM's URL-encoded form
    changed = json.loads(json.dumps(doc))
    changed["Statement"][0]["Action"].append("s3:DeleteObject")
    assert not _same(json.dumps(doc), changed, compare=("policy_json",))


def test_tags_any_shape_and_aws_tags_ignored() -> None:
    ack = [{"key": "A", "value": "1"}, {"key": "B", "value": "2"}]
    live = [{"Key": "B", "Value": "2"}, {"Key": "A", "Value": "1"}, {"Key": "aws:cloudformation:stack-name", "Value": "x"}]
    assert _same(ack, live, compare=("tags",))
    out = diff_values(ack, live + [{"Key": "C", "Value": "3"}], Entry(source="x", compare=("tags",)), CTX, "spec.tags")
    assert [(p, w) for p, _, _, w in out] == [("spec.tags.C", "only in AWS")]


def test_sg_rules_aggregation_and_own_account() -> None:
    rendered = [{"ipProtocol": "tcp", "fromPort": 443, "toPort": 443,
                 "ipRanges": [{"cidrIP": "10.0.0.0/8"}, {"cidrIP": "192.168.0.0/16"}]},
                {"ipProtocol": "-1", "userIDGroupPairs": [{"groupID": "sg-1"}]}]
    live = [{"IpProtocol": "-1", "FromPort": -1, "ToPort": -1, "UserIdGroupPairs": [{"UserId": "123456789012", "GroupId": "sg-1"}],
             "IpRanges": [], "Ipv6Ranges": [], "PrefixListIds": []},
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "192.168.0.0/16"}]},
            {"IpProtocol": "6", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]
    assert _same(rendered, live, compare=("sg_rules",))
    live[1]["IpRanges"][0]["CidrIp"] = "0.0.0.0/0"
    assert not _same(rendered, live, compare=("sg_rules",))


def test_eks_access_policies_shapes() -> None:
    ack = [{"policyARN": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
            "accessScope": {"type": "namespace", "namespaces": ["b", "a"]}},
           {"policyARN": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy", "accessScope": {"type": "cluster"}}]
    live = [{"policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy",
             "accessScope": {"type": "cluster", "namespaces": []}, "associatedAt": "2025-01-01T00:00:00Z",
             "modifiedAt": "2025-01-01T00:00:00Z"},
            {"policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy",
             "accessScope": {"type": "namespace", "namespaces": ["a", "b"]}, "associatedAt": "2025-01-01T00:00:00Z"}]
    assert _same(ack, live, compare=("eks_access_policies",))
    live[1]["accessScope"]["namespaces"].append("c")
    assert not _same(ack, live, compare=("eks_access_policies",))
    assert not _same(ack, live[:1], compare=("eks_access_policies",))


def test_service_linked_role_name_parts() -> None:
    path = "/aws-service-role/autoscaling.amazonaws.com/"
    assert _same("autoscaling.amazonaws.com", path, normalize=("slr_service_name",))
    assert not _same("elasticloadbalancing.amazonaws.com", path, normalize=("slr_service_name",))
    # Terraform's rule: a suffix only with exactly one "_"
    assert _same("ci", "AWSServiceRoleForAutoScaling_ci", normalize=("slr_custom_suffix",))
    assert _same("", "AWSServiceRoleForAutoScaling", normalize=("slr_custom_suffix",))
    assert not _same("", "AWSServiceRoleForAutoScaling_ci", normalize=("slr_custom_suffix",))


def test_dhcp_configurations_keep_server_order() -> None:
    ack = [{"key": "domain-name", "values": ["corp.internal"]},
           {"key": "domain-name-servers", "values": ["10.0.0.2", "10.0.0.3"]}]
    live = [{"Key": "domain-name-servers", "Values": [{"Value": "10.0.0.2"}, {"Value": "10.0.0.3"}]},
            {"Key": "domain-name", "Values": [{"Value": "corp.internal"}]}]
    assert _same(ack, live, compare=("dhcp_configurations",), ordered=True)
    live[0]["Values"].reverse()  # the resolver order changed
    assert not _same(ack, live, compare=("dhcp_configurations",), ordered=True)


def test_kms_grant_key_arn_vs_id() -> None:
    arn = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    assert _same("1234abcd-12ab-34cd-56ef-1234567890ab", arn, compare=("kms_key_id",))
    assert _same(arn, arn, compare=("kms_key_id",))
    assert not _same("ffffffff-12ab-34cd-56ef-1234567890ab", arn, compare=("kms_key_id",))


def test_empty_values_and_absent_fields() -> None:
    assert _same("", None) and _same([], None) and _same({"a": []}, {})
    assert not _same(False, None)  # false is a value: a missing live boolean is a difference
    assert not _same("x", None)


def test_ack_names() -> None:
    assert [ack_name(n) for n in ("CidrIpv6", "UserIdGroupPairs", "SSEAlgorithm", "KMSMasterKeyID", "EnableDns64")] == [
        "cidrIPv6", "userIDGroupPairs", "sseAlgorithm", "kmsMasterKeyID", "enableDNS64"]


def test_every_describe_block_parses() -> None:
    checked = check_describe_blocks(load_mappings())
    assert {"aws_vpc", "aws_subnet", "aws_security_group", "aws_iam_role", "aws_eks_cluster", "aws_s3_bucket"} <= set(checked)


def _report(n: int) -> DiffReport:
    resources = []
    for i in range(n):
        addr = f"aws_subnet.s{i}"
        rd = ResourceDiff(address=addr, tf_type="aws_subnet", kind="ec2/Subnet", phase="network", live_id=f"subnet-{i}",
                          status="changed")
        rd.findings = [Finding(cls=ADOPTION, address=addr, tf_type="aws_subnet", path=f"spec.tags.K{j}", expected=None,
                               live="x" * 300, detail="only in AWS") for j in range(20)]
        resources.append(rd)
    return DiffReport(resources=resources, types={}, api_calls={"ec2:DescribeSubnets": 1}, http_attempts=1, scope={},
                      region="eu-west-1", source="aws")


def test_markdown_is_chunked_under_the_limit_with_summary_first() -> None:
    chunks = render_markdown(_report(60), ["supersecretvalue"])
    assert len(chunks) > 1
    assert all(len(c) < 60_000 for c in chunks)
    assert chunks[0].index("| adoption-would-change |") < chunks[0].index("<details>")
    assert all(c.count("<details>") == c.count("</details>") for c in chunks)


def test_secrets_are_scrubbed_and_junit_has_failures() -> None:
    rep = _report(1)
    rep.resources[0].findings[0].live = "hunter2-the-password"
    assert "hunter2-the-password" not in "".join(render_markdown(rep, ["hunter2-the-password"]))
    xml = render_junit(rep, ["hunter2-the-password"])
    assert "hunter2-the-password" not in xml and "<failure" in xml


def test_ignore_globs() -> None:
    rep = _report(2)
    apply_ignore(rep, [IgnoreRule(address="aws_subnet.s0", path="spec.tags.*")])
    assert rep.resources[0].counted() == [] and rep.resources[0].status == "in-sync (ignored)"
    assert rep.resources[1].counted() and rep.exit_code == 1
    apply_ignore(rep, [IgnoreRule(address="aws_subnet.*", cls=ADOPTION)])
    assert rep.exit_code == 0


def test_iam_user_permissions_boundary_from_a_capture(tmp_path) -> None:
    """moto ignores a user's permissions boundary: the describe block is checked on a capture whose item has the
    shape of botocore's UserDetailList entry."""
    import boto3
    from click.testing import CliRunner

    from converter.cli import main
    from tests.statefactory import resource, state

    boundary = "arn:aws:iam::123456789012:policy/boundary"
    item = {"Path": "/", "UserName": "deployer", "UserId": "AIDAEXAMPLE", "Arn": "arn:aws:iam::123456789012:user/deployer",
            "UserPolicyList": [], "GroupList": [], "AttachedManagedPolicies": [],
            "PermissionsBoundary": {"PermissionsBoundaryType": "PermissionsBoundaryPolicy", "PermissionsBoundaryArn": boundary},
            "Tags": [{"Key": "Team", "Value": "ci"}]}
    shape = boto3.client("iam", region_name="eu-west-1").meta.service_model.operation_model(
        "GetAccountAuthorizationDetails").output_shape.members["UserDetailList"].member
    assert set(item) <= set(shape.members) and set(item["PermissionsBoundary"]) <= set(shape.members["PermissionsBoundary"].members)
    st = tmp_path / "s.tfstate"
    attrs = {"id": "deployer", "arn": item["Arn"], "name": "deployer", "path": "/", "permissions_boundary": boundary,
             "force_destroy": False, "unique_id": "AIDAEXAMPLE", "tags": {"Team": "ci"}, "tags_all": {"Team": "ci"}}
    st.write_text(state(resource("aws_iam_user", "deployer", attrs)))

    def run(live_item) -> dict:
        cap = tmp_path / "live.json"
        cap.write_text(json.dumps({"format": "tf2kro-live-capture/v1", "region": "eu-west-1", "types": {"aws_iam_user": {
            "tf_type": "aws_iam_user", "status": "ok", "requested": ["deployer"], "items": {"deployer": live_item}}}}))
        res = CliRunner().invoke(main, ["diff", "--state", str(st), "--live", str(cap), "--format", "json"])
        return json.loads(res.stdout)

    doc = run(item)
    assert doc["exit_code"] == 0 and [f for r in doc["resources"] for f in r["findings"]] == []
    doc = run({**item, "PermissionsBoundary": {"PermissionsBoundaryType": "PermissionsBoundaryPolicy",
                                               "PermissionsBoundaryArn": "arn:aws:iam::aws:policy/AdministratorAccess"}})
    assert {(f["class"], f["path"]) for r in doc["resources"] for f in r["findings"]} == {
        ("adoption-would-change", "spec.permissionsBoundary"), ("drift", "permissions_boundary")}
