"""`describe:` spec/state maps of aws_elasticache_replication_group (against a real moto server)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.statefactory import resource
from tests.test_diff_types import (
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
