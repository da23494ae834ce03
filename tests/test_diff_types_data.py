"""`describe:` spec/state maps of the data-store and messaging types (RDS instances, clusters, subnet and
parameter groups, Secrets Manager, SQS, SNS) against a real moto server: the state Terraform (hashicorp/aws 5.x)
would hold for a freshly created resource diffs clean, and one out-of-band change is found on the right field
with the right class, nothing else."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.statefactory import resource
from tests.test_diff_types import (
    ACCOUNT,
    COUNTED,
    TAGS,
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


# ---------------------------------------------------------------------------------------------- RDS
def _sg(moto: MotoServer, vpc: str, name: str) -> str:
    return moto.client("ec2").create_security_group(GroupName=name, Description=name, VpcId=vpc)["GroupId"]


def _db_instance_state(name: str, db: dict[str, Any], own_tags: dict[str, str]) -> dict[str, Any]:
    """What the provider writes after creating `db` (DescribeDBInstances item)."""
    return resource("aws_db_instance", name, {
        "id": db["DbiResourceId"], "resource_id": db["DbiResourceId"], "identifier": db["DBInstanceIdentifier"],
        "identifier_prefix": "", "arn": db["DBInstanceArn"], "engine": db["Engine"],
        "engine_version": db["EngineVersion"], "engine_version_actual": db["EngineVersion"],
        "instance_class": db["DBInstanceClass"], "allocated_storage": db["AllocatedStorage"],
        "max_allocated_storage": db.get("MaxAllocatedStorage", 0), "storage_type": db.get("StorageType", ""),
        "iops": db.get("Iops", 0), "storage_throughput": db.get("StorageThroughput", 0),
        "storage_encrypted": db.get("StorageEncrypted", False), "kms_key_id": db.get("KmsKeyId", ""),
        "db_name": db.get("DBName", ""), "username": db["MasterUsername"],
        "db_subnet_group_name": (db.get("DBSubnetGroup") or {}).get("DBSubnetGroupName", ""),
        "vpc_security_group_ids": sorted(g["VpcSecurityGroupId"] for g in db.get("VpcSecurityGroups", [])),
        "parameter_group_name": db["DBParameterGroups"][0]["DBParameterGroupName"],
        "option_group_name": (db.get("OptionGroupMemberships") or [{}])[0].get("OptionGroupName", ""),
        "multi_az": db.get("MultiAZ", False), "availability_zone": db.get("AvailabilityZone", ""),
        "publicly_accessible": db.get("PubliclyAccessible", False), "port": db["Endpoint"]["Port"],
        "backup_retention_period": db.get("BackupRetentionPeriod", 0), "backup_window": db.get("PreferredBackupWindow", ""),
        "maintenance_window": db.get("PreferredMaintenanceWindow", ""),
        "auto_minor_version_upgrade": db.get("AutoMinorVersionUpgrade", True),
        "copy_tags_to_snapshot": db.get("CopyTagsToSnapshot", False), "deletion_protection": db.get("DeletionProtection", False),
        "enabled_cloudwatch_logs_exports": sorted(db.get("EnabledCloudwatchLogsExports", [])),
        "iam_database_authentication_enabled": db.get("IAMDatabaseAuthenticationEnabled", False),
        "monitoring_interval": db.get("MonitoringInterval", 0), "monitoring_role_arn": db.get("MonitoringRoleArn", ""),
        "performance_insights_enabled": db.get("PerformanceInsightsEnabled", False),
        "performance_insights_kms_key_id": db.get("PerformanceInsightsKMSKeyId", ""),
        "performance_insights_retention_period": db.get("PerformanceInsightsRetentionPeriod", 0),
        "ca_cert_identifier": db.get("CACertificateIdentifier", ""), "license_model": db.get("LicenseModel", ""),
        "network_type": db.get("NetworkType", ""), "character_set_name": db.get("CharacterSetName", ""),
        "nchar_character_set_name": "", "timezone": "", "custom_iam_instance_profile": "",
        "customer_owned_ip_enabled": False, "domain": "", "domain_iam_role_name": "", "cluster_identifier": "",
        "address": db["Endpoint"]["Address"], "endpoint": f"{db['Endpoint']['Address']}:{db['Endpoint']['Port']}",
        "hosted_zone_id": db["Endpoint"].get("HostedZoneId", ""), "skip_final_snapshot": True,
        "final_snapshot_identifier": None, "delete_automated_backups": True, "apply_immediately": False,
        "password": None, "manage_master_user_password": None, "replicate_source_db": "", "snapshot_identifier": None,
        **_tf_tags(own_tags)}, sensitive=[["password"]])


def test_rds_db_instance(moto: MotoServer, tmp_path: Path) -> None:
    rds = moto.client("rds")
    vpc, subnets = _network(moto)
    sg_a, sg_b = _sg(moto, vpc, "db-a"), _sg(moto, vpc, "db-b")
    rds.create_db_subnet_group(DBSubnetGroupName="app", DBSubnetGroupDescription="Managed by Terraform", SubnetIds=subnets)
    db = rds.create_db_instance(DBInstanceIdentifier="app", Engine="postgres", EngineVersion="16.3",
                                DBInstanceClass="db.t3.micro", MasterUsername="app", MasterUserPassword="not-a-real-password-1",
                                AllocatedStorage=20, StorageType="gp3", DBSubnetGroupName="app", VpcSecurityGroupIds=[sg_b, sg_a],
                                BackupRetentionPeriod=7, Port=5432, DeletionProtection=False, CopyTagsToSnapshot=True,
                                EnableCloudwatchLogsExports=["upgrade", "postgresql"],
                                Tags=_aws_tags({"Name": "app"}))["DBInstance"]
    db = rds.describe_db_instances(DBInstanceIdentifier="app")["DBInstances"][0]
    resources = [_db_instance_state("app", db, {"Name": "app"})]
    doc = _diff(moto, tmp_path, resources)
    unverified = {(f["address"], f["path"]) for f in _findings(doc, "unverified")}
    _assert_clean(doc, {"aws_db_instance.app"}, unverified)
    assert doc["api_calls"] == {"rds:DescribeDBInstances": 1}
    # the core fields are compared, not unverified
    for f in ("dbInstanceClass", "engineVersion", "allocatedStorage", "vpcSecurityGroupIDs", "dbSubnetGroupName",
              "dbParameterGroupName", "port", "backupRetentionPeriod", "enableCloudwatchLogsExports", "tags"):
        assert ("aws_db_instance.app", f"spec.{f}") not in unverified, f

    # out of band: one security group removed, the class changed
    rds.modify_db_instance(DBInstanceIdentifier="app", DBInstanceClass="db.t3.small", VpcSecurityGroupIds=[sg_a],
                           ApplyImmediately=True)
    doc = _diff(moto, tmp_path, resources)
    _only(doc, {("adoption-would-change", "aws_db_instance.app", "spec.dbInstanceClass"),
                ("drift", "aws_db_instance.app", "instance_class"),
                ("adoption-would-change", "aws_db_instance.app", "spec.vpcSecurityGroupIDs"),
                ("drift", "aws_db_instance.app", "vpc_security_group_ids")})
    assert not any(f["class"] in COUNTED and f["path"].startswith("spec.tags") for f in _findings(doc))


# ---------------------------------------------------------------------------------------------- SQS
def _queue_state(name: str, url: str, attrs: dict[str, str], **over: Any) -> dict[str, Any]:
    a = {"id": url, "url": url, "arn": attrs["QueueArn"], "name": name, "name_prefix": "",
         "delay_seconds": int(attrs.get("DelaySeconds", 0)), "max_message_size": int(attrs.get("MaximumMessageSize", 262144)),
         "message_retention_seconds": int(attrs.get("MessageRetentionPeriod", 345600)),
         "receive_wait_time_seconds": int(attrs.get("ReceiveMessageWaitTimeSeconds", 0)),
         "visibility_timeout_seconds": int(attrs.get("VisibilityTimeout", 30)), "policy": attrs.get("Policy", ""),
         "redrive_policy": attrs.get("RedrivePolicy", ""), "redrive_allow_policy": "", "fifo_queue": False,
         "content_based_deduplication": False, "deduplication_scope": "", "fifo_throughput_limit": "",
         "kms_master_key_id": "", "kms_data_key_reuse_period_seconds": 300,
         "sqs_managed_sse_enabled": attrs.get("SqsManagedSseEnabled", "false") == "true", **_tf_tags()}
    a.update(over)
    return resource("aws_sqs_queue", name.replace("-", "_"), a)


def test_sqs_queue(moto: MotoServer, tmp_path: Path) -> None:
    sqs = moto.client("sqs")
    dlq = sqs.create_queue(QueueName="jobs-dlq", tags=dict(TAGS))["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": 5})
    url = sqs.create_queue(QueueName="jobs", tags=dict(TAGS), Attributes={
        "VisibilityTimeout": "120", "MessageRetentionPeriod": "86400", "RedrivePolicy": redrive})["QueueUrl"]
    resources = []
    for name, u in (("jobs-dlq", dlq), ("jobs", url)):
        attrs = sqs.get_queue_attributes(QueueUrl=u, AttributeNames=["All"])["Attributes"]
        # Terraform writes the redrive policy as the user wrote it (keys in another order, count a number)
        over = {"redrive_policy": json.dumps({"maxReceiveCount": 5, "deadLetterTargetArn": dlq_arn})} if name == "jobs" else {}
        resources.append(_queue_state(name, u, attrs, **over))
    doc = _diff(moto, tmp_path, resources)
    # tags: ListQueueTags(QueueUrl=<state id>) — the queue URL is not in GetQueueAttributes
    _assert_clean(doc, {"aws_sqs_queue.jobs", "aws_sqs_queue.jobs_dlq"})
    assert doc["api_calls"]["sqs:ListQueueTags"] == 2

    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "30"})
    sqs.tag_queue(QueueUrl=dlq, Tags={"CostCenter": "42"})
    doc = _diff(moto, tmp_path, resources)
    _only(doc, {("adoption-would-change", "aws_sqs_queue.jobs", "spec.visibilityTimeout"),
                ("drift", "aws_sqs_queue.jobs", "visibility_timeout_seconds"),
                ("adoption-would-change", "aws_sqs_queue.jobs_dlq", "spec.tags.CostCenter"),
                ("drift", "aws_sqs_queue.jobs_dlq", "tags_all.CostCenter")})


# ---------------------------------------------------------------------------------------------- SNS
def test_sns_topic_and_subscription(moto: MotoServer, tmp_path: Path) -> None:
    sns, sqs = moto.client("sns"), moto.client("sqs")
    arn = sns.create_topic(Name="events", Attributes={"DisplayName": "Events"}, Tags=_aws_tags({"Name": "events"}))["TopicArn"]
    attrs = sns.get_topic_attributes(TopicArn=arn)["Attributes"]
    q = sqs.create_queue(QueueName="events-sink")["QueueUrl"]
    q_arn = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    filt = {"kind": ["order"]}
    sub = sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=q_arn, ReturnSubscriptionArn=True,
                        Attributes={"RawMessageDelivery": "true", "FilterPolicy": json.dumps(filt)})["SubscriptionArn"]
    topic = resource("aws_sns_topic", "events", {
        "id": arn, "arn": arn, "name": "events", "name_prefix": "", "display_name": "Events",
        "policy": attrs["Policy"], "delivery_policy": "", "kms_master_key_id": "", "fifo_topic": False,
        "content_based_deduplication": False, "signature_version": 0, "tracing_config": "", "owner": ACCOUNT,
        "archive_policy": "", "beginning_archive_time": "",
        **{f"{p}_{k}": v for p in ("application", "http", "lambda", "sqs", "firehose")
           for k, v in (("success_feedback_role_arn", ""), ("failure_feedback_role_arn", ""), ("success_feedback_sample_rate", 0))},
        **_tf_tags({"Name": "events"})})
    subscription = resource("aws_sns_topic_subscription", "events_sink", {
        "id": sub, "arn": sub, "topic_arn": arn, "protocol": "sqs", "endpoint": q_arn, "raw_message_delivery": True,
        "filter_policy": json.dumps(filt, indent=2), "filter_policy_scope": "MessageAttributes", "delivery_policy": "",
        "redrive_policy": "", "subscription_role_arn": "", "replay_policy": "", "confirmation_was_authenticated": True,
        "confirmation_timeout_in_minutes": 1, "endpoint_auto_confirms": False, "owner_id": ACCOUNT,
        "pending_confirmation": False})
    resources = [topic, subscription]
    doc = _diff(moto, tmp_path, resources)
    unverified = {(f["address"], f["path"]) for f in _findings(doc, "unverified")}
    _assert_clean(doc, {"aws_sns_topic.events", "aws_sns_topic_subscription.events_sink"}, unverified)
    assert not unverified, unverified

    sns.set_topic_attributes(TopicArn=arn, AttributeName="DisplayName", AttributeValue="Orders")
    sns.set_subscription_attributes(SubscriptionArn=sub, AttributeName="FilterPolicy",
                                    AttributeValue=json.dumps({"kind": ["refund"]}))
    sns.tag_resource(ResourceArn=arn, Tags=[{"Key": "CostCenter", "Value": "42"}])
    doc = _diff(moto, tmp_path, resources)
    _only(doc, {("adoption-would-change", "aws_sns_topic.events", "spec.displayName"),
                ("drift", "aws_sns_topic.events", "display_name"),
                ("adoption-would-change", "aws_sns_topic.events", "spec.tags"),
                ("drift", "aws_sns_topic.events", "tags_all.CostCenter"),
                ("adoption-would-change", "aws_sns_topic_subscription.events_sink", "spec.filterPolicy"),
                ("drift", "aws_sns_topic_subscription.events_sink", "filter_policy")})


# ---------------------------------------------------------------------------------------------- Secrets Manager
def test_secretsmanager_secret(moto: MotoServer, tmp_path: Path) -> None:
    sm = moto.client("secretsmanager")
    arn = sm.create_secret(Name="app/db", Description="database credentials", Tags=_aws_tags({"Name": "app-db"}))["ARN"]
    st = resource("aws_secretsmanager_secret", "db", {
        "id": arn, "arn": arn, "name": "app/db", "name_prefix": "", "description": "database credentials",
        "kms_key_id": "", "policy": "", "recovery_window_in_days": 30, "replica": [],
        "force_overwrite_replica_secret": False, **_tf_tags({"Name": "app-db"})})
    doc = _diff(moto, tmp_path, [st])
    unverified = {(f["address"], f["path"]) for f in _findings(doc, "unverified")}
    _assert_clean(doc, {"aws_secretsmanager_secret.db"}, unverified)
    assert not unverified, unverified

    sm.update_secret(SecretId=arn, Description="rotated by hand")
    doc = _diff(moto, tmp_path, [st])
    _only(doc, {("adoption-would-change", "aws_secretsmanager_secret.db", "spec.description"),
                ("drift", "aws_secretsmanager_secret.db", "description")})


def test_rds_cluster_subnet_and_parameter_groups(moto: MotoServer, tmp_path: Path) -> None:
    rds = moto.client("rds")
    vpc, subnets = _network(moto)
    # the VPC's default SG: another SG would be an unmanaged one in the estate's VPC (not the point here)
    sg = moto.client("ec2").describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]},
                                                              {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]["GroupId"]
    sng = rds.create_db_subnet_group(DBSubnetGroupName="orders", DBSubnetGroupDescription="Managed by Terraform",
                                     SubnetIds=subnets, Tags=_aws_tags())["DBSubnetGroup"]
    pg = rds.create_db_parameter_group(DBParameterGroupName="orders-pg16", DBParameterGroupFamily="postgres16",
                                       Description="Managed by Terraform", Tags=_aws_tags())["DBParameterGroup"]
    cpg = rds.create_db_cluster_parameter_group(DBClusterParameterGroupName="orders-aurora16",
                                                DBParameterGroupFamily="aurora-postgresql16",
                                                Description="Managed by Terraform", Tags=_aws_tags())["DBClusterParameterGroup"]
    rds.create_db_cluster(DBClusterIdentifier="orders", Engine="aurora-postgresql", EngineVersion="16.4",
                          MasterUsername="app", MasterUserPassword="not-a-real-password-1", DatabaseName="orders",
                          DBSubnetGroupName="orders", VpcSecurityGroupIds=[sg], DBClusterParameterGroupName="orders-aurora16",
                          BackupRetentionPeriod=7, Port=5432, StorageEncrypted=True, DeletionProtection=True,
                          Tags=_aws_tags({"Name": "orders"}))
    c = rds.describe_db_clusters(DBClusterIdentifier="orders")["DBClusters"][0]
    resources = [
        resource("aws_db_subnet_group", "orders", {
            "id": "orders", "name": "orders", "name_prefix": "", "arn": sng["DBSubnetGroupArn"],
            "description": "Managed by Terraform", "subnet_ids": sorted(subnets), "vpc_id": vpc,
            "supported_network_types": ["IPV4"], **_tf_tags()}),
        resource("aws_db_parameter_group", "orders", {
            "id": "orders-pg16", "name": "orders-pg16", "name_prefix": "", "arn": pg["DBParameterGroupArn"],
            "family": "postgres16", "description": "Managed by Terraform", "parameter": [], "skip_destroy": False,
            **_tf_tags()}),
        resource("aws_rds_cluster_parameter_group", "orders", {
            "id": "orders-aurora16", "name": "orders-aurora16", "name_prefix": "", "arn": cpg["DBClusterParameterGroupArn"],
            "family": "aurora-postgresql16", "description": "Managed by Terraform", "parameter": [], **_tf_tags()}),
        resource("aws_rds_cluster", "orders", {
            "id": "orders", "cluster_identifier": "orders", "cluster_identifier_prefix": "", "arn": c["DBClusterArn"],
            "engine": "aurora-postgresql", "engine_mode": c.get("EngineMode", "provisioned"), "engine_version": "16.4",
            "engine_version_actual": c["EngineVersion"], "database_name": "orders", "master_username": "app",
            "master_password": None, "manage_master_user_password": None, "db_subnet_group_name": "orders",
            "vpc_security_group_ids": [sg], "db_cluster_parameter_group_name": "orders-aurora16",
            "backup_retention_period": 7, "preferred_backup_window": c.get("PreferredBackupWindow", ""),
            "preferred_maintenance_window": c.get("PreferredMaintenanceWindow", ""), "port": 5432,
            "storage_encrypted": True, "kms_key_id": c.get("KmsKeyId", ""), "deletion_protection": True,
            "copy_tags_to_snapshot": c.get("CopyTagsToSnapshot", False), "enabled_cloudwatch_logs_exports": [],
            "iam_database_authentication_enabled": c.get("IAMDatabaseAuthenticationEnabled", False),
            "enable_http_endpoint": False, "global_cluster_identifier": "", "db_cluster_instance_class": "",
            "allocated_storage": 0, "storage_type": "", "iops": 0, "network_type": c.get("NetworkType", ""),
            "backtrack_window": 0, "serverlessv2_scaling_configuration": [], "scaling_configuration": [],
            "availability_zones": c.get("AvailabilityZones", []), "endpoint": c.get("Endpoint", ""),
            "reader_endpoint": c.get("ReaderEndpoint", ""), "hosted_zone_id": c.get("HostedZoneId", ""),
            "cluster_resource_id": c["DbClusterResourceId"], "skip_final_snapshot": True,
            "final_snapshot_identifier": None, "delete_automated_backups": True, "apply_immediately": None,
            **_tf_tags({"Name": "orders"})}, sensitive=[["master_password"]]),
    ]
    doc = _diff(moto, tmp_path, resources)
    unverified = {(f["address"], f["path"]) for f in _findings(doc, "unverified")}
    addresses = {"aws_db_subnet_group.orders", "aws_db_parameter_group.orders", "aws_rds_cluster_parameter_group.orders",
                 "aws_rds_cluster.orders"}
    _assert_clean(doc, addresses, unverified)
    for a, f in (("aws_rds_cluster.orders", "vpcSecurityGroupIDs"), ("aws_rds_cluster.orders", "tags"),
                 ("aws_rds_cluster.orders", "dbClusterParameterGroupName"), ("aws_db_subnet_group.orders", "subnetIDs"),
                 ("aws_db_subnet_group.orders", "tags"), ("aws_db_parameter_group.orders", "tags"),
                 ("aws_db_parameter_group.orders", "family")):
        assert (a, f"spec.{f}") not in unverified, (a, f)

    rds.modify_db_cluster(DBClusterIdentifier="orders", BackupRetentionPeriod=14, ApplyImmediately=True)
    # (moto's ModifyDBSubnetGroup keeps the old subnets: the subnet group's change is a tag, through its join)
    rds.add_tags_to_resource(ResourceName=sng["DBSubnetGroupArn"], Tags=[{"Key": "Owner", "Value": "dba"}])
    rds.add_tags_to_resource(ResourceName=pg["DBParameterGroupArn"], Tags=[{"Key": "CostCenter", "Value": "42"}])
    doc = _diff(moto, tmp_path, resources)
    _only(doc, {("adoption-would-change", "aws_rds_cluster.orders", "spec.backupRetentionPeriod"),
                ("drift", "aws_rds_cluster.orders", "backup_retention_period"),
                ("adoption-would-change", "aws_db_subnet_group.orders", "spec.tags"),
                ("drift", "aws_db_subnet_group.orders", "tags_all.Owner"),
                ("adoption-would-change", "aws_db_parameter_group.orders", "spec.tags"),
                ("drift", "aws_db_parameter_group.orders", "tags_all.CostCenter")})
