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
