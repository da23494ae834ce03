"""`describe:` spec/state maps of the storage-side types (ECR, DynamoDB, EFS, ElastiCache) against a real moto
server: each resource is created with boto3, the state Terraform (hashicorp/aws 5.x) would hold for it is written,
the fresh diff is clean, and one out-of-band change made with boto3 is found on the right field with the right class
(and nothing else is reported)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.statefactory import resource
from tests.test_diff_types import (
    ACCOUNT,
    REGION,
    _assert_clean,
    _aws_tags,
    _diff,
    _findings,
    _network,
    _only,
    _tf_tags,
)

if TYPE_CHECKING:
    from tests.moto_server import MotoServer

pytest_plugins = ["tests.moto_server"]
pytestmark = pytest.mark.moto


def _unverified(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {(f["address"], f["path"]) for f in _findings(doc, "unverified")}


# ---------------------------------------------------------------------------------------------- ECR repository
LIFECYCLE = {"rules": [{"rulePriority": 1, "description": "expire untagged",
                        "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days",
                                      "countNumber": 14},
                        "action": {"type": "expire"}}]}
REPO_POLICY = {"Version": "2012-10-17",
               "Statement": [{"Sid": "pull", "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                              "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]}


def _ecr_repo(moto: MotoServer, name: str, *, scan: bool = False, policies: bool = True) -> list[dict[str, Any]]:
    ecr = moto.client("ecr")
    repo = ecr.create_repository(repositoryName=name, imageTagMutability="IMMUTABLE",
                                 imageScanningConfiguration={"scanOnPush": scan},
                                 tags=_aws_tags({"Name": name}))["repository"]
    out = [resource("aws_ecr_repository", name, {
        "id": name, "arn": repo["repositoryArn"], "name": name, "registry_id": repo["registryId"],
        "repository_url": repo["repositoryUri"], "force_delete": None, "image_tag_mutability": "IMMUTABLE",
        "image_tag_mutability_exclusion_filter": [],
        "image_scanning_configuration": [{"scan_on_push": scan}],
        "encryption_configuration": [{"encryption_type": "AES256", "kms_key": ""}],
        "timeouts": None, **_tf_tags({"Name": name})})]
    if policies:
        ecr.put_lifecycle_policy(repositoryName=name, lifecyclePolicyText=json.dumps(LIFECYCLE))
        ecr.set_repository_policy(repositoryName=name, policyText=json.dumps(REPO_POLICY))
        out += [resource("aws_ecr_lifecycle_policy", name, {"id": name, "repository": name,
                                                            "registry_id": repo["registryId"],
                                                            "policy": json.dumps(LIFECYCLE)}),
                resource("aws_ecr_repository_policy", name, {"id": name, "repository": name,
                                                             "registry_id": repo["registryId"],
                                                             "policy": json.dumps(REPO_POLICY)})]
    return out


def test_ecr_repository_with_folded_policies(moto: MotoServer, tmp_path: Path) -> None:
    resources = _ecr_repo(moto, "app") + _ecr_repo(moto, "bare", scan=True, policies=False)
    doc = _diff(moto, tmp_path, resources)
    _assert_clean(doc, {"aws_ecr_repository.app", "aws_ecr_repository.bare"})
    assert _unverified(doc) == set()
    assert doc["api_calls"]["ecr:GetLifecyclePolicy"] == 2

    # out of band: app's lifecycle policy and scan-on-push changed, a tag added; bare's repository policy created
    ecr = moto.client("ecr")
    rules = json.loads(json.dumps(LIFECYCLE))
    rules["rules"][0]["selection"]["countNumber"] = 30
    ecr.put_lifecycle_policy(repositoryName="app", lifecyclePolicyText=json.dumps(rules))
    ecr.put_image_scanning_configuration(repositoryName="app", imageScanningConfiguration={"scanOnPush": True})
    ecr.tag_resource(resourceArn=resources[0]["instances"][0]["attributes"]["arn"],
                     tags=[{"Key": "CostCenter", "Value": "42"}])
    doc = _diff(moto, tmp_path, resources)
    _only(doc, {("adoption-would-change", "aws_ecr_repository.app", "spec.lifecyclePolicy.rules[0].selection.countNumber"),
                ("adoption-would-change", "aws_ecr_repository.app", "spec.imageScanningConfiguration.scanOnPush"),
                ("adoption-would-change", "aws_ecr_repository.app", "spec.tags.CostCenter"),
                ("drift", "aws_ecr_repository.app", "image_scanning_configuration.scan_on_push"),
                ("drift", "aws_ecr_repository.app", "tags_all.CostCenter")})



# ---------------------------------------------------------------------------------------------- DynamoDB table
def _ddb_table(moto: MotoServer, name: str, *, on_demand: bool = False) -> dict[str, Any]:
    ddb = moto.client("dynamodb")
    throughput = {} if on_demand else {"ProvisionedThroughput": {"ReadCapacityUnits": 5, "WriteCapacityUnits": 5}}
    gsi = {"IndexName": "by-owner", "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"},
                                                  {"AttributeName": "sk", "KeyType": "RANGE"}],
           "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["title", "state"]}, **throughput}
    lsi = {"IndexName": "by-date", "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                                 {"AttributeName": "created", "KeyType": "RANGE"}],
           "Projection": {"ProjectionType": "KEYS_ONLY"}}
    table = ddb.create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST" if on_demand else "PROVISIONED", **throughput,
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a in ("pk", "sk", "owner", "created")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[gsi], LocalSecondaryIndexes=[lsi],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        Tags=_aws_tags({"Name": name}))["TableDescription"]
    ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
    cap = 0 if on_demand else 5
    return resource("aws_dynamodb_table", name, {
        "id": name, "arn": table["TableArn"], "name": name, "billing_mode": "PAY_PER_REQUEST" if on_demand else "PROVISIONED",
        "hash_key": "pk", "range_key": "sk", "read_capacity": cap, "write_capacity": cap, "table_class": "STANDARD",
        "attribute": [{"name": a, "type": "S"} for a in ("created", "owner", "pk", "sk")],  # a set: sorted
        "global_secondary_index": [{"name": "by-owner", "hash_key": "owner", "range_key": "sk", "projection_type": "INCLUDE",
                                    "non_key_attributes": ["state", "title"], "read_capacity": cap, "write_capacity": cap,
                                    "on_demand_throughput": []}],
        "local_secondary_index": [{"name": "by-date", "range_key": "created", "projection_type": "KEYS_ONLY",
                                   "non_key_attributes": []}],
        "stream_enabled": True, "stream_view_type": "NEW_AND_OLD_IMAGES", "stream_arn": table.get("LatestStreamArn"),
        "stream_label": table.get("LatestStreamLabel"), "on_demand_throughput": [],
        "point_in_time_recovery": [{"enabled": True, "recovery_period_in_days": 35}],
        "ttl": [{"attribute_name": "expires", "enabled": True}], "server_side_encryption": [],
        "deletion_protection_enabled": False, "import_table": [], "replica": [], "restore_date_time": None,
        "restore_source_name": None, "restore_source_table_arn": None, "restore_to_latest_time": None,
        "timeouts": None, **_tf_tags({"Name": name})})


def test_dynamodb_table(moto: MotoServer, tmp_path: Path) -> None:
    resources = [_ddb_table(moto, "orders"), _ddb_table(moto, "events", on_demand=True)]
    doc = _diff(moto, tmp_path, resources)
    _assert_clean(doc, {"aws_dynamodb_table.orders", "aws_dynamodb_table.events"})
    assert _unverified(doc) == set()

    # out of band: orders' table write capacity raised and PITR turned off
    ddb = moto.client("dynamodb")
    ddb.update_table(TableName="orders", ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 10})
    ddb.update_continuous_backups(TableName="orders", PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": False})
    doc = _diff(moto, tmp_path, resources)
    _only(doc, {("adoption-would-change", "aws_dynamodb_table.orders", "spec.provisionedThroughput.writeCapacityUnits"),
                ("adoption-would-change", "aws_dynamodb_table.orders", "spec.continuousBackups.pointInTimeRecoveryEnabled"),
                ("drift", "aws_dynamodb_table.orders", "write_capacity"),
                ("drift", "aws_dynamodb_table.orders", "point_in_time_recovery.enabled")})


# ---------------------------------------------------------------------------------------------- EFS
def test_efs_file_system_access_point_mount_target(moto: MotoServer, tmp_path: Path) -> None:
    efs = moto.client("efs")
    ec2 = moto.client("ec2")
    vpc, subnets = _network(moto)
    sg = ec2.create_security_group(GroupName="efs", Description="efs", VpcId=vpc)["GroupId"]
    fs = efs.create_file_system(CreationToken="data", PerformanceMode="generalPurpose", ThroughputMode="bursting",
                                Encrypted=True, Tags=_aws_tags({"Name": "data"}))
    fsid = fs["FileSystemId"]
    efs.put_lifecycle_configuration(FileSystemId=fsid, LifecyclePolicies=[{"TransitionToIA": "AFTER_30_DAYS"}])
    ap = efs.create_access_point(FileSystemId=fsid, PosixUser={"Uid": 1000, "Gid": 1000, "SecondaryGids": [2000]},
                                 RootDirectory={"Path": "/app", "CreationInfo": {"OwnerUid": 1000, "OwnerGid": 1000,
                                                                                 "Permissions": "750"}},
                                 Tags=_aws_tags({"Name": "app"}))
    mt = efs.create_mount_target(FileSystemId=fsid, SubnetId=subnets[0], SecurityGroups=[sg])
    resources = [
        resource("aws_efs_file_system", "data", {
            "id": fsid, "arn": fs["FileSystemArn"], "creation_token": "data", "encrypted": True,
            "kms_key_id": fs.get("KmsKeyId") or "", "performance_mode": "generalPurpose", "throughput_mode": "bursting",
            "provisioned_throughput_in_mibps": 0, "availability_zone_id": "", "availability_zone_name": "",
            "lifecycle_policy": [{"transition_to_ia": "AFTER_30_DAYS", "transition_to_archive": "",
                                  "transition_to_primary_storage_class": ""}],
            "protection": [{"replication_overwrite": "ENABLED"}], "dns_name": f"{fsid}.efs.{REGION}.amazonaws.com",
            "name": "data", "number_of_mount_targets": 1, "owner_id": ACCOUNT, "size_in_bytes": [],
            **_tf_tags({"Name": "data"})}),
        resource("aws_efs_access_point", "app", {
            "id": ap["AccessPointId"], "arn": ap["AccessPointArn"], "file_system_id": fsid,
            "file_system_arn": fs["FileSystemArn"], "owner_id": ACCOUNT,
            "posix_user": [{"uid": 1000, "gid": 1000, "secondary_gids": [2000]}],
            "root_directory": [{"path": "/app", "creation_info": [{"owner_uid": 1000, "owner_gid": 1000,
                                                                   "permissions": "750"}]}],
            **_tf_tags({"Name": "app"})}),
        resource("aws_efs_mount_target", "a", {
            "id": mt["MountTargetId"], "file_system_id": fsid, "file_system_arn": fs["FileSystemArn"],
            "subnet_id": subnets[0], "ip_address": mt["IpAddress"], "ip_address_type": "IPV4_ONLY",
            "ipv6_address": "", "security_groups": [sg], "network_interface_id": mt["NetworkInterfaceId"],
            "availability_zone_name": mt.get("AvailabilityZoneName"), "availability_zone_id": mt.get("AvailabilityZoneId"),
            "dns_name": "", "mount_target_dns_name": "", "owner_id": ACCOUNT, "timeouts": None}),
    ]
    doc = _diff(moto, tmp_path, resources)
    # moto leaves FileSystemProtection out (AWS always returns it): unverified, never assumed
    _assert_clean(doc, {"aws_efs_file_system.data", "aws_efs_access_point.app", "aws_efs_mount_target.a"},
                  {("aws_efs_file_system.data", "spec.fileSystemProtection.replicationOverwriteProtection")})

    # out of band: the lifecycle transition changed, the mount target gets another security group
    # (moto has no PutBackupPolicy: the backup policy is not exercised)
    sg2 = ec2.create_security_group(GroupName="efs2", Description="efs2", VpcId=vpc)["GroupId"]
    efs.put_lifecycle_configuration(FileSystemId=fsid, LifecyclePolicies=[{"TransitionToIA": "AFTER_60_DAYS"}])
    efs.modify_mount_target_security_groups(MountTargetId=mt["MountTargetId"], SecurityGroups=[sg, sg2])
    doc = _diff(moto, tmp_path, resources)
    _only(doc, {("adoption-would-change", "aws_efs_file_system.data", "spec.lifecyclePolicies[0].transitionToIA"),
                ("adoption-would-change", "aws_efs_mount_target.a", "spec.securityGroups[1]"),
                ("drift", "aws_efs_mount_target.a", "security_groups[1]")})


# ---------------------------------------------------------------------------------------------- ElastiCache
def test_elasticache_subnet_group(moto: MotoServer, tmp_path: Path) -> None:
    """moto has no CreateCacheParameterGroup (the parameter group map is not exercised) and no
    Modify/DeleteCacheSubnetGroup: the out-of-band change is a tag (ListTagsForResource on the group's ARN)."""
    ec = moto.client("elasticache")
    _, subnets = _network(moto)
    arn = ec.create_cache_subnet_group(CacheSubnetGroupName="cache", CacheSubnetGroupDescription="cache subnets",
                                       SubnetIds=subnets, Tags=_aws_tags())["CacheSubnetGroup"]["ARN"]
    resources = [
        resource("aws_elasticache_subnet_group", "cache", {
            "id": "cache", "name": "cache", "description": "cache subnets", "subnet_ids": sorted(subnets),
            "arn": arn, "vpc_id": "", **_tf_tags()}),
    ]
    doc = _diff(moto, tmp_path, resources)
    _assert_clean(doc, {"aws_elasticache_subnet_group.cache"})
    assert doc["api_calls"]["elasticache:ListTagsForResource"] == 1

    ec.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "CostCenter", "Value": "42"}])
    doc = _diff(moto, tmp_path, resources)
    _only(doc, {("adoption-would-change", "aws_elasticache_subnet_group.cache", "spec.tags.CostCenter"),
                ("drift", "aws_elasticache_subnet_group.cache", "tags_all.CostCenter")})


def test_one_deleted_repository_reads_as_deleted_not_the_whole_type_unknown(moto: MotoServer, tmp_path: Path) -> None:
    """DescribeRepositories(repositoryNames=[...]) fails the whole call when one name is gone: the id list is
    halved until the missing name stands alone, so only that repository is `deleted` and the others are read."""
    resources = []
    for name in ("r1", "r2", "r3", "r4", "r5"):
        resources += _ecr_repo(moto, name, policies=False)
    moto.client("ecr").delete_repository(repositoryName="r4")
    doc = _diff(moto, tmp_path, resources)
    assert {f["address"] for f in _findings(doc, "deleted")} == {"aws_ecr_repository.r4"}
    assert _findings(doc, "unknown") == []
    _assert_clean({**doc, "resources": [r for r in doc["resources"] if r["address"] != "aws_ecr_repository.r4"]},
                  {"aws_ecr_repository.r1", "aws_ecr_repository.r2", "aws_ecr_repository.r3", "aws_ecr_repository.r5"})
