"""`describe:` spec/state maps of aws_elasticache_replication_group (against a real moto server) and of
aws_ecr_pull_through_cache_rule / aws_ecr_repository_creation_template.

moto 5.x has no ECR pull-through cache rule or repository creation template API (no Create*/Describe* in
`moto.ecr`): those two are read through the real boto3 ECR client with a `before-send` handler answering from a
small in-memory registry (responses checked against botocore's output shapes), written as a `--live` capture and
diffed with `tf2kro diff --live` — the approach of tests/test_diff_eks_stubbed.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from botocore.awsrequest import AWSResponse

from tests.statefactory import resource
from tests.stubbed_aws import RawBody as _Raw
from tests.stubbed_aws import capture_and_diff
from tests.test_diff_eks_stubbed import _check_shape
from tests.test_diff_types import (
    ACCOUNT,
    COUNTED,
    REGION,
    _assert_clean,
    _aws_tags,
    _diff,
    _findings,
    _only,
    _tf_tags,
)

if TYPE_CHECKING:
    from tests.moto_server import MotoServer

pytest_plugins = ["tests.moto_server"]


# ---------------------------------------------------------------------------------------------- ElastiCache
def _replication_group(moto: MotoServer, name: str) -> dict[str, Any]:
    ec = moto.client("elasticache")
    rg = ec.create_replication_group(
        ReplicationGroupId=name, ReplicationGroupDescription=f"{name} cache", Engine="redis",
        CacheNodeType="cache.t3.micro", NumCacheClusters=2, AutomaticFailoverEnabled=True, MultiAZEnabled=True,
        AtRestEncryptionEnabled=True, TransitEncryptionEnabled=True, SnapshotRetentionLimit=3,
        SnapshotWindow="03:00-04:00", Port=6379, Tags=_aws_tags({"Name": name}))["ReplicationGroup"]
    return resource("aws_elasticache_replication_group", name, {
        "id": name, "arn": rg["ARN"], "replication_group_id": name, "description": f"{name} cache",
        "engine": "redis", "engine_version": "7.1", "engine_version_actual": "7.1.0", "node_type": "cache.t3.micro",
        "num_cache_clusters": 2, "num_node_groups": 1, "replicas_per_node_group": 1, "port": 6379,
        "automatic_failover_enabled": True, "multi_az_enabled": True, "at_rest_encryption_enabled": True,
        "transit_encryption_enabled": True, "kms_key_id": "", "snapshot_retention_limit": 3,
        "snapshot_window": "03:00-04:00", "user_group_ids": [], "security_group_ids": [], "security_group_names": [],
        "parameter_group_name": "default.redis7", "subnet_group_name": "", "maintenance_window": "sun:05:00-sun:06:00",
        "notification_topic_arn": "", "auth_token": None, "apply_immediately": None, "cluster_enabled": False,
        "primary_endpoint_address": f"master.{name}.cache.amazonaws.com", "member_clusters": [f"{name}-001", f"{name}-002"],
        "log_delivery_configuration": [], "timeouts": None, **_tf_tags({"Name": name})})


MEMBER = ("cacheParameterGroupName", "cacheSubnetGroupName", "securityGroupIDs", "preferredMaintenanceWindow",
          "notificationTopicARN")


@pytest.mark.moto
def test_elasticache_replication_group(moto: MotoServer, tmp_path: Path) -> None:
    """moto has no ModifyReplicationGroup: the out-of-band change is a tag (AddTagsToResource)."""
    resources = [_replication_group(moto, "sessions")]
    doc = _diff(moto, tmp_path, resources)
    addr = "aws_elasticache_replication_group.sessions"
    # the member-cluster fields are not in DescribeReplicationGroups: unverified, never assumed
    unverified = {(addr, f"spec.{f}") for f in MEMBER}
    _assert_clean(doc, {addr}, unverified)
    rendered = {(f["address"], f["path"]) for f in _findings(doc, "unverified")}
    assert rendered == {(addr, "spec.cacheParameterGroupName"), (addr, "spec.preferredMaintenanceWindow")}

    moto.client("elasticache").add_tags_to_resource(ResourceName=resources[0]["instances"][0]["attributes"]["arn"],
                                                    Tags=[{"Key": "CostCenter", "Value": "42"}])
    doc = _diff(moto, tmp_path, resources)
    _only(doc, {("adoption-would-change", addr, "spec.tags.CostCenter"), ("drift", addr, "tags_all.CostCenter")})


# ---------------------------------------------------------------------------------------------- ECR (stubbed)
TS = 1735689600.0
POLICY = {"Version": "2012-10-17",
          "Statement": [{"Sid": "pull", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                         "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]}
LIFECYCLE = {"rules": [{"rulePriority": 1, "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed",
                                                         "countUnit": "days", "countNumber": 14},
                        "action": {"type": "expire"}}]}
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecr-templates"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:ecr-pullthroughcache/dockerhub-AbCdEf"


class FakeEcr:
    def __init__(self) -> None:
        import boto3

        self.model = boto3.client("ecr", region_name=REGION).meta.service_model
        self.rules: dict[str, dict[str, Any]] = {}
        self.templates: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, Any]] = []

    def _ok(self, request: Any, op: str, body: dict[str, Any]) -> AWSResponse:
        _check_shape(body, self.model.operation_model(op).output_shape, op)
        return AWSResponse(request.url, 200, {"Content-Type": "application/x-amz-json-1.1"},
                           _Raw(json.dumps(body).encode()))

    @staticmethod
    def _missing(request: Any, code: str) -> AWSResponse:
        return AWSResponse(request.url, 400, {"Content-Type": "application/x-amz-json-1.1"},
                           _Raw(json.dumps({"__type": code, "message": "not found"}).encode()))

    def handler(self, request: Any, event_name: str = "", **kw: Any) -> AWSResponse | None:
        op = event_name.split(".")[-1]
        body = json.loads(request.body) if request.body else {}
        self.requests.append((op, body))
        if op == "DescribePullThroughCacheRules":
            want = body.get("ecrRepositoryPrefixes") or list(self.rules)
            if any(p not in self.rules for p in want):
                return self._missing(request, "PullThroughCacheRuleNotFoundException")
            return self._ok(request, op, {"pullThroughCacheRules": [self.rules[p] for p in want]})
        if op == "DescribeRepositoryCreationTemplates":
            want = body.get("prefixes") or list(self.templates)
            if any(p not in self.templates for p in want):
                return self._missing(request, "TemplateNotFoundException")
            return self._ok(request, op, {"registryId": ACCOUNT,
                                          "repositoryCreationTemplates": [self.templates[p] for p in want]})
        raise AssertionError(f"unexpected ECR call {op}")


def _build(fake: FakeEcr) -> list[dict[str, Any]]:
    out = []
    fake.rules["docker-hub"] = {
        "ecrRepositoryPrefix": "docker-hub", "upstreamRegistryUrl": "registry-1.docker.io", "createdAt": TS,
        "registryId": ACCOUNT, "credentialArn": SECRET, "upstreamRepositoryPrefix": "ROOT", "upstreamRegistry": "docker-hub",
        "updatedAt": TS}
    out.append(resource("aws_ecr_pull_through_cache_rule", "docker_hub", {
        "id": "docker-hub", "ecr_repository_prefix": "docker-hub", "registry_id": ACCOUNT,
        "upstream_registry_url": "registry-1.docker.io", "upstream_repository_prefix": "ROOT",
        "credential_arn": SECRET, "custom_role_arn": ""}))
    fake.rules["quay"] = {
        "ecrRepositoryPrefix": "quay", "upstreamRegistryUrl": "quay.io", "createdAt": TS, "registryId": ACCOUNT,
        "upstreamRepositoryPrefix": "ROOT", "upstreamRegistry": "quay", "updatedAt": TS}
    out.append(resource("aws_ecr_pull_through_cache_rule", "quay", {
        "id": "quay", "ecr_repository_prefix": "quay", "registry_id": ACCOUNT, "upstream_registry_url": "quay.io",
        "upstream_repository_prefix": "ROOT", "credential_arn": "", "custom_role_arn": ""}))

    fake.templates["team-a"] = {
        "prefix": "team-a", "description": "team A repositories",
        "encryptionConfiguration": {"encryptionType": "AES256"},
        "resourceTags": [{"Key": "Team", "Value": "a"}, {"Key": "Env", "Value": "prod"}],
        "imageTagMutability": "IMMUTABLE", "repositoryPolicy": json.dumps(POLICY),
        "lifecyclePolicy": json.dumps(LIFECYCLE), "appliedFor": ["REPLICATION", "PULL_THROUGH_CACHE"],
        "customRoleArn": ROLE, "createdAt": TS, "updatedAt": TS}
    out.append(resource("aws_ecr_repository_creation_template", "team_a", {
        "id": "team-a", "prefix": "team-a", "description": "team A repositories", "registry_id": ACCOUNT,
        "applied_for": ["PULL_THROUGH_CACHE", "REPLICATION"], "custom_role_arn": ROLE,
        "image_tag_mutability": "IMMUTABLE", "image_tag_mutability_exclusion_filter": [],
        "encryption_configuration": [{"encryption_type": "AES256", "kms_key": ""}],
        "lifecycle_policy": json.dumps(LIFECYCLE, indent=2), "repository_policy": json.dumps(POLICY, indent=2),
        "resource_tags": {"Env": "prod", "Team": "a"}}))
    return out


def _capture_and_diff(fake: FakeEcr, resources: list[dict[str, Any]], tmp_path: Path) -> dict[str, Any]:
    return capture_and_diff("ecr", fake.handler, resources, tmp_path)


def _all(doc: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(f["class"], f["address"], f["path"]) for r in doc["resources"] for f in r["findings"]}


ADDRESSES = {"aws_ecr_pull_through_cache_rule.docker_hub", "aws_ecr_pull_through_cache_rule.quay",
             "aws_ecr_repository_creation_template.team_a"}


def test_fresh_ecr_pull_through_rules_and_templates_diff_clean(aws_env: None, tmp_path: Path) -> None:
    fake = FakeEcr()
    doc = _capture_and_diff(fake, _build(fake), tmp_path)
    assert not doc["not_checked"]
    assert {r["address"] for r in doc["resources"]} >= ADDRESSES
    assert _all(doc) == set()  # nothing counted, nothing unverified
    assert doc["exit_code"] == 0
    assert doc["_calls"] == {"ecr:DescribePullThroughCacheRules": 1, "ecr:DescribeRepositoryCreationTemplates": 1}
    sent = dict(fake.requests)
    assert sorted(sent["DescribePullThroughCacheRules"]["ecrRepositoryPrefixes"]) == ["docker-hub", "quay"]
    assert sent["DescribeRepositoryCreationTemplates"]["prefixes"] == ["team-a"]


def test_out_of_band_ecr_rule_and_template_changes_are_found(aws_env: None, tmp_path: Path) -> None:
    fake = FakeEcr()
    resources = _build(fake)
    fake.rules["docker-hub"]["credentialArn"] = SECRET.replace("dockerhub", "other")
    del fake.rules["quay"]
    t = fake.templates["team-a"]
    t["imageTagMutability"] = "MUTABLE"
    t["resourceTags"].append({"Key": "CostCenter", "Value": "42"})
    t["appliedFor"] = ["PULL_THROUGH_CACHE"]
    rules = json.loads(json.dumps(LIFECYCLE))
    rules["rules"][0]["selection"]["countNumber"] = 30
    t["lifecyclePolicy"] = json.dumps(rules)
    doc = _capture_and_diff(fake, resources, tmp_path)
    assert doc["exit_code"] == 1
    rule, tpl = "aws_ecr_pull_through_cache_rule.docker_hub", "aws_ecr_repository_creation_template.team_a"
    got = {x for x in _all(doc) if x[0] in COUNTED}
    assert got == {
        ("adoption-would-change", rule, "spec.credentialARN"),
        ("drift", rule, "credential_arn"),
        ("deleted", "aws_ecr_pull_through_cache_rule.quay", ""),
        ("adoption-would-change", tpl, "spec.imageTagMutability"),
        ("drift", tpl, "image_tag_mutability"),
        ("adoption-would-change", tpl, "spec.resourceTags.CostCenter"),
        ("drift", tpl, "resource_tags.CostCenter"),
        ("adoption-would-change", tpl, "spec.appliedFor[1]"),
        ("drift", tpl, "applied_for[1]"),
        ("adoption-would-change", tpl, "spec.lifecyclePolicy.rules[0].selection.countNumber"),
        ("drift", tpl, "lifecycle_policy.rules[0].selection.countNumber"),
    }, got
    assert _all(doc) == got
