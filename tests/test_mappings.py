"""mappings/*.yaml: every file loads and matches _schema.yaml; every ACK path a mapping writes exists in the
kind's CRD (the schemas bundled with tf2kro: converter/validate/schemas); adoption keys are the ones ACK reads; and a few renders behave (folds, secrets)."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from converter.load.state import parse_state
from converter.mapping.engine import map_state
from converter.mapping.spec import FieldSpec, TypeMapping, default_mappings_dir, load_mappings
from converter.validate.bundle import bundled_crds

MAPPINGS = default_mappings_dir()
# adoption-fields keys per kind (Appendix A); where absent (plain clone) adopt keys are checked against spec/status
ACK_MD = Path(__file__).resolve().parents[2] / "shared" / "reference" / "ack.md"


# ------------------------------------------------------------------------------------------------ (a) load
def _mapping_files() -> list[Path]:
    return sorted(p for p in MAPPINGS.glob("*.yaml") if not p.name.startswith("_"))


def test_all_mappings_load():
    ms = load_mappings(str(MAPPINGS))
    assert ms.types, "no mapping loaded"
    files = {Path(tm.file).name for tm in ms.types.values()}
    assert files == {p.name for p in _mapping_files()}


@pytest.mark.parametrize("path", _mapping_files(), ids=lambda p: p.name)
def test_mapping_matches_schema(path: Path):
    schema = yaml.safe_load((MAPPINGS / "_schema.yaml").read_text())
    doc = yaml.safe_load(path.read_text())
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(doc))
    assert not errors, f"{path.name}: {errors[0].message} at {list(errors[0].absolute_path)}"
    # a mapped file names its API group; a file with only unsupported entries needs none
    if any("kind" in raw for raw in (doc.get("resources") or {}).values()):
        assert doc.get("group"), f"{path.name} maps kinds but has no group"


# ------------------------------------------------------------------------------------------------ (b) CRDs
@lru_cache(maxsize=1)
def _crds() -> dict[tuple[str, str], dict[str, Any]]:
    """(group, kind) → openAPIV3Schema of the first served version, from the CRD schemas bundled with tf2kro
    (so a mapping that names a kind or field the bundled ACK release lacks fails here, in a plain clone too)."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for doc in bundled_crds():
        spec = doc["spec"]
        out[(spec["group"], spec["names"]["kind"])] = spec["versions"][0]["schema"]["openAPIV3Schema"]
    return out


@lru_cache(maxsize=1)
def _adoption_index() -> dict[str, dict[str, str]]:
    """Appendix A of reference/ack.md: "<group>/<Kind>" → {key: "required|optional -> path"}."""
    text = ACK_MD.read_text() if ACK_MD.is_file() else ""
    i = text.find("Appendix A")
    m = re.search(r"```json\n(.*?)```", text[i:], re.S) if i >= 0 else None
    if not m:
        return {}
    return {k: v["adoptionFields"] for k, v in json.loads(m.group(1)).items()}


def _child(node: dict[str, Any] | None, name: str) -> dict[str, Any] | None:
    """The schema of property `name` under `node`, descending through arrays of objects."""
    while node is not None and node.get("type") == "array":
        node = node.get("items")
    if node is None:
        return None
    props = node.get("properties")
    if isinstance(props, dict):
        return props.get(name)
    return None


def _nested(node: Any, name: str, depth: int = 3) -> dict[str, Any] | None:
    """Property `name` anywhere up to `depth` objects below `node` (adoption keys of nested identifiers)."""
    if not isinstance(node, dict) or depth < 0:
        return None
    found = _child(node, name)
    if found is not None:
        return found
    props = (node.get("items") if node.get("type") == "array" else node).get("properties") or {}
    for sub in props.values():
        if (hit := _nested(sub, name, depth - 1)) is not None:
            return hit
    return None


def _at(node: dict[str, Any] | None, dotted: str) -> dict[str, Any] | None:
    for part in dotted.split("."):
        node = _child(node, part)
        if node is None:
            return None
    return node


def _is_map(node: dict[str, Any]) -> bool:
    return node.get("type") == "object" and "additionalProperties" in node


def _field_problems(fs: FieldSpec, schema: dict[str, Any] | None, where: str, item: bool = False) -> list[str]:
    """Problems of one field spec against the CRD node it writes (`item`: the value is appended to that list)."""
    node = _at(schema, fs.target)
    if node is None:
        return [f"{where}{fs.target}: not in CRD"]
    out: list[str] = []
    if fs.fields is not None and not item and node.get("type") != "object":
        out.append(f"{where}{fs.target}: `fields` builds an object, CRD has {node.get('type')}")
    for sub in fs.fields or ():
        out += _field_problems(sub, node, f"{where}{fs.target}.")
    if fs.each is not None:
        if node.get("type") != "array":
            out.append(f"{where}{fs.target}: `each` needs a list, CRD has {node.get('type')}")
        for sub in fs.each:
            out += _field_problems(sub, node, f"{where}{fs.target}[].")
    return out


def _parents(ms, tm: TypeMapping) -> list[TypeMapping]:
    return [p for rule in tm.folds for t in rule.into if (p := ms.get(t)) is not None and p.is_mapped]


def _mapped_types():
    return [t for t, tm in sorted(load_mappings(str(MAPPINGS)).types.items()) if tm.is_mapped]


def _fold_types():
    return [t for t, tm in sorted(load_mappings(str(MAPPINGS)).types.items()) if tm.is_fold]


@pytest.mark.parametrize("tf_type", _mapped_types())
def test_mapped_type_matches_crd(tf_type: str):
    tm = load_mappings(str(MAPPINGS)).types[tf_type]
    root = _crds().get((tm.group, tm.kind))
    assert root is not None, f"{tf_type}: no CRD for {tm.group}/{tm.kind}"
    spec = root["properties"]["spec"]
    problems: list[str] = []
    for fs in tm.spec:
        problems += _field_problems(fs, spec, "spec.")
    if tm.tags:
        node = _at(spec, tm.tags.field)
        if node is None:
            problems.append(f"tags.field spec.{tm.tags.field}: not in CRD")
        elif tm.tags.shape == "map" and not _is_map(node):
            problems.append(f"tags.field spec.{tm.tags.field}: shape map but CRD has {node.get('type')}")
        elif tm.tags.shape in ("list", "kms") and node.get("type") != "array":
            problems.append(f"tags.field spec.{tm.tags.field}: shape list but CRD has {node.get('type')}")
        elif tm.tags.shape == "kms" and _child(node, "tagKey") is None:
            problems.append(f"tags.field spec.{tm.tags.field}: shape kms but items have no tagKey")
    for attr, path in tm.references.items():
        if _at(root, path) is None:
            problems.append(f"references.{attr} → {path}: not in CRD (spec or status)")
    adoption = _adoption_index().get(f"{tm.group}/{tm.kind}")
    if adoption is not None:
        for key in tm.adopt:
            if key not in adoption:
                problems.append(f"adopt key {key!r} is not an adoption-fields key of {tm.kind} ({', '.join(adoption)})")
        for key, how in adoption.items():
            if how.startswith("required") and key not in tm.adopt:
                problems.append(f"adopt lacks required adoption-fields key {key!r}")
    else:  # no appendix: the key must at least name a field of the kind (`arn` is status.ackResourceMetadata.arn)
        status = root["properties"].get("status")
        for key in tm.adopt:
            if key == "arn":
                found = _at(status, "ackResourceMetadata.arn")
            else:
                found = _child(spec, key) or _child(status, key) or _nested(spec, key)
            if found is None:
                problems.append(f"adopt key {key!r}: not a spec/status field")
    assert not problems, f"{tf_type} ({Path(tm.file).name}):\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("tf_type", _fold_types())
def test_fold_targets_match_crd(tf_type: str):
    ms = load_mappings(str(MAPPINGS))
    tm = ms.types[tf_type]
    problems: list[str] = []
    parents = _parents(ms, tm)
    for rule in tm.folds:
        for ptype in rule.into:
            if ms.get(ptype) is None:
                problems.append(f"fold into {ptype}: no mapping for the parent type")
    for parent in parents:
        spec = _crds()[(parent.group, parent.kind)]["properties"]["spec"]
        for rule in tm.folds:
            if parent.tf_type not in rule.into:
                continue
            for fs in rule.append:
                node = _at(spec, fs.target)
                if node is None or node.get("type") != "array":
                    problems.append(f"append {fs.target} into {parent.kind}: not a list in CRD")
                    continue
                for sub in fs.fields or ():
                    problems += _field_problems(sub, node, f"{parent.kind}.{fs.target}[].")
            for fs in rule.set:
                problems += _field_problems(fs, spec, f"{parent.kind}.spec.")
            for target, _key, _fs in rule.entry:
                node = _at(spec, target)
                if node is None or not _is_map(node):
                    problems.append(f"entry {target} into {parent.kind}: not a map in CRD")
    assert not problems, f"{tf_type} ({Path(tm.file).name}):\n  " + "\n  ".join(problems)


def test_unsupported_reasons_say_why():
    for tf_type, tm in load_mappings(str(MAPPINGS)).types.items():
        if tm.unsupported:
            assert len(tm.unsupported.split()) >= 5, f"{tf_type}: unsupported reason should say why"


# ------------------------------------------------------------------------------------------------ (c) renders
def _state(*resources: dict[str, Any]) -> str:
    return json.dumps({"version": 4, "terraform_version": "1.9.0", "serial": 1, "lineage": "t", "outputs": {},
                       "resources": list(resources)})


def _res(rtype: str, name: str, attrs: dict[str, Any], sensitive: list | None = None) -> dict[str, Any]:
    inst: dict[str, Any] = {"schema_version": 0, "attributes": attrs}
    if sensitive is not None:
        inst["sensitive_attributes"] = sensitive
    return {"mode": "managed", "type": rtype, "name": name,
            "provider": 'provider["registry.terraform.io/hashicorp/aws"]', "instances": [inst]}


def _run(*resources: dict[str, Any]):
    return map_state(parse_state(_state(*resources)), load_mappings(str(MAPPINGS)), region="eu-west-1")


def test_s3_bucket_folds_split_resources():
    res = _run(
        _res("aws_s3_bucket", "logs", {"id": "acme-logs", "bucket": "acme-logs", "arn": "arn:aws:s3:::acme-logs",
                                        "object_lock_enabled": False, "force_destroy": False,
                                        "tags": {"team": "a"}, "tags_all": {"team": "a", "env": "prod"}}),
        _res("aws_s3_bucket_versioning", "logs", {"id": "acme-logs", "bucket": "acme-logs",
                                                  "versioning_configuration": [{"status": "Enabled", "mfa_delete": ""}]}),
        _res("aws_s3_bucket_server_side_encryption_configuration", "logs", {
            "id": "acme-logs", "bucket": "acme-logs",
            "rule": [{"apply_server_side_encryption_by_default": [{"sse_algorithm": "aws:kms",
                                                                   "kms_master_key_id": "arn:aws:kms:eu-west-1:111111111111:key/k"}],
                      "bucket_key_enabled": True}]}),
        _res("aws_s3_bucket_public_access_block", "logs", {
            "id": "acme-logs", "bucket": "acme-logs", "block_public_acls": True, "block_public_policy": True,
            "ignore_public_acls": True, "restrict_public_buckets": False}),
    )
    counts = res.counts()
    assert counts == {"mapped": 1, "folded": 3, "unsupported": 0, "not-adopted": 0}
    body = res.objects["aws_s3_bucket.logs"].conversion.body
    assert body["kind"] == "Bucket" and body["apiVersion"] == "s3.services.k8s.aws/v1alpha1"
    spec = body["spec"]
    assert spec["name"] == "acme-logs"
    assert "objectLockEnabledForBucket" not in spec
    assert spec["versioning"] == {"status": "Enabled"}
    assert spec["encryption"] == {"rules": [{
        "applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms",
                                               "kmsMasterKeyID": "arn:aws:kms:eu-west-1:111111111111:key/k"},
        "bucketKeyEnabled": True}]}
    assert spec["publicAccessBlock"] == {"blockPublicACLs": True, "blockPublicPolicy": True,
                                         "ignorePublicACLs": True, "restrictPublicBuckets": False}
    assert spec["tagging"] == {"tagSet": [{"key": "env", "value": "prod"}, {"key": "team", "value": "a"}]}
    ann = body["metadata"]["annotations"]
    assert json.loads(ann["services.k8s.aws/adoption-fields"]) == {"name": "acme-logs"}
    assert ann["services.k8s.aws/deletion-policy"] == "retain"


def test_s3_lifecycle_filter_shapes():
    res = _run(
        _res("aws_s3_bucket", "b", {"id": "b1", "bucket": "b1", "tags_all": {}}),
        _res("aws_s3_bucket_lifecycle_configuration", "b", {"id": "b1", "bucket": "b1", "rule": [
            {"id": "all", "status": "Enabled", "prefix": "", "filter": [{"prefix": "", "and": [], "tag": [],
                                                                         "object_size_greater_than": None,
                                                                         "object_size_less_than": None}],
             "expiration": [{"days": 30, "date": None, "expired_object_delete_marker": False}],
             "transition": [], "noncurrent_version_expiration": [],
             "abort_incomplete_multipart_upload": [{"days_after_initiation": 7}]},
        ]}),
    )
    rules = res.objects["aws_s3_bucket.b"].conversion.body["spec"]["lifecycle"]["rules"]
    assert rules == [{"id": "all", "status": "Enabled", "filter": {"prefix": ""}, "expiration": {"days": 30},
                      "abortIncompleteMultipartUpload": {"daysAfterInitiation": 7}}]


def test_rds_password_never_rendered():
    password = "hunter2-SuperSecret"
    res = _run(_res("aws_db_instance", "db", {
        "id": "db-ABCDEFGHIJKLMNOP", "identifier": "orders", "resource_id": "db-ABCDEFGHIJKLMNOP",
        "arn": "arn:aws:rds:eu-west-1:111111111111:db:orders", "engine": "postgres", "engine_version": "16",
        "engine_version_actual": "16.4", "instance_class": "db.t4g.medium", "allocated_storage": 20,
        "username": "app", "password": password, "skip_final_snapshot": True, "final_snapshot_identifier": None,
        "delete_automated_backups": True, "multi_az": False, "iops": 0, "tags_all": {"env": "prod"},
    }, sensitive=[[{"type": "get_attr", "value": "password"}]]))
    obj = res.objects["aws_db_instance.db"]
    text = json.dumps(obj.conversion.body)
    assert password not in text
    spec = obj.conversion.body["spec"]
    assert "masterUserPassword" not in spec
    assert spec["dbInstanceIdentifier"] == "orders" and spec["engineVersion"] == "16.4"
    assert spec["multiAZ"] is False and "iops" not in spec
    ann = obj.conversion.body["metadata"]["annotations"]
    assert json.loads(ann["services.k8s.aws/adoption-fields"]) == {"dbInstanceIdentifier": "orders"}
    assert ann["rds.services.k8s.aws/skip-final-snapshot"] == "true"
    assert ann["rds.services.k8s.aws/delete-automated-backups"] == "true"


def test_sqs_policy_folded_and_attributes_are_strings():
    url = "https://sqs.eu-west-1.amazonaws.com/111111111111/jobs"
    policy = '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"sqs:SendMessage"}]}'
    res = _run(
        _res("aws_sqs_queue", "jobs", {"id": url, "url": url, "name": "jobs", "arn": "arn:aws:sqs:eu-west-1:111111111111:jobs",
                                       "policy": "", "delay_seconds": 0, "visibility_timeout_seconds": 30,
                                       "fifo_queue": False, "content_based_deduplication": False,
                                       "sqs_managed_sse_enabled": True, "kms_master_key_id": "",
                                       "tags_all": {"team": "a"}}),
        _res("aws_sqs_queue_policy", "jobs", {"id": url, "queue_url": url, "policy": policy}),
    )
    assert res.conversions["aws_sqs_queue_policy.jobs"].status.value == "folded"
    body = res.objects["aws_sqs_queue.jobs"].conversion.body
    spec = body["spec"]
    assert spec["policy"] == policy
    assert spec["visibilityTimeout"] == "30" and spec["delaySeconds"] == "0"
    assert spec["sqsManagedSSEEnabled"] == "true"
    assert "fifoQueue" not in spec and "contentBasedDeduplication" not in spec and "kmsMasterKeyID" not in spec
    assert spec["tags"] == {"team": "a"}
    assert json.loads(body["metadata"]["annotations"]["services.k8s.aws/adoption-fields"]) == {"queueURL": url}


def test_secret_adopts_with_name_and_arn_and_version_unsupported():
    arn = "arn:aws:secretsmanager:eu-west-1:111111111111:secret:db-AbCdEf"
    res = _run(
        _res("aws_secretsmanager_secret", "db", {"id": arn, "arn": arn, "name": "db", "description": "",
                                                 "kms_key_id": "", "tags_all": {}}),
        _res("aws_secretsmanager_secret_version", "db", {"id": f"{arn}|v1", "secret_id": arn,
                                                         "secret_string": "p@ss-w0rd-value"},
             sensitive=[[{"type": "get_attr", "value": "secret_string"}]]),
    )
    ann = res.objects["aws_secretsmanager_secret.db"].conversion.body["metadata"]["annotations"]
    assert json.loads(ann["services.k8s.aws/adoption-fields"]) == {"name": "db", "id": arn}
    ver = res.conversions["aws_secretsmanager_secret_version.db"]
    assert ver.status.value == "unsupported" and "ExternalSecret" in (ver.reason or "")
    assert "p@ss-w0rd-value" not in json.dumps([o.conversion.body for o in res.objects.values()])


def test_imported_acm_certificate_is_unsupported():
    res = _run(
        _res("aws_acm_certificate", "issued", {"arn": "arn:aws:acm:eu-west-1:111111111111:certificate/a", "id": "a",
                                               "type": "AMAZON_ISSUED", "domain_name": "example.com",
                                               "subject_alternative_names": ["example.com"], "tags_all": {}}),
        _res("aws_acm_certificate", "imported", {"arn": "arn:aws:acm:eu-west-1:111111111111:certificate/b", "id": "b",
                                                 "type": "IMPORTED", "domain_name": "x.example.com",
                                                 "private_key": "-----BEGIN PRIVATE KEY-----", "tags_all": {}}),
    )
    assert res.conversions["aws_acm_certificate.issued"].status.value == "mapped"
    imported = res.conversions["aws_acm_certificate.imported"]
    assert imported.status.value == "unsupported" and "private key" in (imported.reason or "")


def test_lb_listener_forward_action_shape():
    tg = "arn:aws:elasticloadbalancing:eu-west-1:111111111111:targetgroup/web/1"
    res = _run(_res("aws_lb_listener", "http", {
        "arn": "arn:aws:elasticloadbalancing:eu-west-1:111111111111:listener/app/web/1/2", "id": "x",
        "load_balancer_arn": "arn:aws:elasticloadbalancing:eu-west-1:111111111111:loadbalancer/app/web/1",
        "port": 80, "protocol": "HTTP", "ssl_policy": "", "certificate_arn": None, "alpn_policy": None, "tags_all": {},
        "default_action": [{"type": "forward", "order": 1, "target_group_arn": tg, "forward": [], "redirect": [],
                            "fixed_response": [], "authenticate_oidc": [], "authenticate_cognito": []}],
    }))
    spec = res.objects["aws_lb_listener.http"].conversion.body["spec"]
    assert spec["defaultActions"] == [{"type": "forward", "order": 1, "targetGroupARN": tg, "forwardConfig": {
        "targetGroups": [{"targetGroupARN": tg, "weight": 1}], "targetGroupStickinessConfig": {"enabled": False}}}]
    assert "certificates" not in spec and "sslPolicy" not in spec
