"""`describe:` blocks of the EKS types moto does not implement (its EKS backend answers 404 "Not yet implemented" for
access entries, access policies, pod identity associations and identity provider configs).

The read runs through the real boto3 EKS client: a `before-send` handler answers each request from a small
in-memory EKS, so botocore builds and validates the requests (path parameters, the `identityProviderConfig`
structure) and parses the responses with the real service model — a field name that is not in the model never
reaches the describe block. The responses are checked against botocore's output shapes as well. The read is written
as a capture (`tf2kro-live-capture/v1`) and diffed with `tf2kro diff --live`, like `inventory capture` output.
"""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path
from typing import Any

from botocore.awsrequest import AWSResponse

from converter.diff.aws import AwsClients
from tests.statefactory import resource
from tests.stubbed_aws import RawBody as _Raw
from tests.stubbed_aws import capture_and_diff

REGION = "eu-west-1"
ACCOUNT = "123456789012"
ADMINS = f"arn:aws:iam::{ACCOUNT}:role/platform/admins"  # a role with a path: "/" inside the URL label
VIEW = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"
ADMIN = "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
TS = 1735689600.0
TAGS = {"Project": "tf2kro-test"}
COUNTED = ("adoption-would-change", "drift", "deleted", "unmanaged", "unknown")


def _check_shape(value: Any, shape: Any, where: str) -> None:
    """Every key of a canned response is a member of botocore's output shape (recursively)."""
    if shape.type_name == "structure":
        assert isinstance(value, dict), where
        for k, v in value.items():
            assert k in shape.members, f"{where}.{k} is not in the EKS model"
            _check_shape(v, shape.members[k], f"{where}.{k}")
    elif shape.type_name == "list":
        for i, v in enumerate(value):
            _check_shape(v, shape.member, f"{where}[{i}]")
    elif shape.type_name == "map":
        for k, v in value.items():
            _check_shape(v, shape.value, f"{where}.{k}")


class FakeEks:
    """Access entries, access policies, pod identity associations and OIDC configs, per cluster."""

    def __init__(self) -> None:
        import boto3

        self.model = boto3.client("eks", region_name=REGION).meta.service_model
        self.entries: dict[tuple[str, str], dict[str, Any]] = {}
        self.policies: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.pods: dict[tuple[str, str], dict[str, Any]] = {}
        self.idps: dict[tuple[str, str], dict[str, Any]] = {}
        self.addons: dict[tuple[str, str], dict[str, Any]] = {}
        self.requests: list[tuple[str, list[str], Any]] = []

    def _ok(self, request: Any, op: str, body: dict[str, Any]) -> AWSResponse:
        _check_shape(body, self.model.operation_model(op).output_shape, op)
        return AWSResponse(request.url, 200, {"Content-Type": "application/json"}, _Raw(json.dumps(body).encode()))

    @staticmethod
    def _missing(request: Any) -> AWSResponse:
        return AWSResponse(request.url, 404, {"Content-Type": "application/json",
                                              "x-amzn-ErrorType": "ResourceNotFoundException"},
                           _Raw(b'{"message": "No resource found"}'))

    def handler(self, request: Any, event_name: str = "", **kw: Any) -> AWSResponse | None:
        op = event_name.split(".")[-1]
        parts = [urllib.parse.unquote(p) for p in urllib.parse.urlsplit(request.url).path.split("/") if p]
        body = json.loads(request.body) if request.body else None
        self.requests.append((op, parts, body))
        cluster = parts[1]
        if op == "DescribeAccessEntry":
            e = self.entries.get((cluster, parts[3]))
            return self._ok(request, op, {"accessEntry": e}) if e else self._missing(request)
        if op == "ListAssociatedAccessPolicies":
            if (cluster, parts[3]) not in self.entries:
                return self._missing(request)
            return self._ok(request, op, {"clusterName": cluster, "principalArn": parts[3],
                                          "associatedAccessPolicies": self.policies.get((cluster, parts[3]), [])})
        if op == "DescribePodIdentityAssociation":
            a = self.pods.get((cluster, parts[3]))
            return self._ok(request, op, {"association": a}) if a else self._missing(request)
        if op == "DescribeIdentityProviderConfig":
            assert body["identityProviderConfig"]["type"] == "oidc", body
            c = self.idps.get((cluster, body["identityProviderConfig"]["name"]))
            return self._ok(request, op, {"identityProviderConfig": {"oidc": c}}) if c else self._missing(request)
        if op == "DescribeAddon":
            a = self.addons.get((cluster, parts[3]))
            return self._ok(request, op, {"addon": a}) if a else self._missing(request)
        raise AssertionError(f"unexpected EKS call {op}")


# ---------------------------------------------------------------------------------------------- the estate
def _entry(cluster: str, groups: list[str], username: str) -> dict[str, Any]:
    return {"clusterName": cluster, "principalArn": ADMINS, "kubernetesGroups": groups,
            "accessEntryArn": f"arn:aws:eks:{REGION}:{ACCOUNT}:access-entry/{cluster}/role/{ACCOUNT}/admins/0ac9",
            "createdAt": TS, "modifiedAt": TS, "tags": {**TAGS, "Name": f"{cluster}-admins"}, "username": username,
            "type": "STANDARD"}


def _policy(arn: str, scope: str, namespaces: list[str] | None = None) -> dict[str, Any]:
    return {"policyArn": arn, "accessScope": {"type": scope, "namespaces": namespaces or []}, "associatedAt": TS,
            "modifiedAt": TS}


def _entry_state(cluster: str, e: dict[str, Any]) -> dict[str, Any]:
    return resource("aws_eks_access_entry", f"{cluster}_admins", {
        "id": f"{cluster}:{ADMINS}", "access_entry_arn": e["accessEntryArn"], "cluster_name": cluster,
        "created_at": "2025-01-01T00:00:00Z", "modified_at": "2025-01-01T00:00:00Z", "principal_arn": ADMINS,
        "kubernetes_groups": sorted(e["kubernetesGroups"]), "type": "STANDARD", "user_name": e["username"],
        "tags": {"Name": f"{cluster}-admins"}, "tags_all": {**TAGS, "Name": f"{cluster}-admins"}})


def _association_state(cluster: str, name: str, p: dict[str, Any]) -> dict[str, Any]:
    s = p["accessScope"]
    return resource("aws_eks_access_policy_association", name, {
        "id": f"{cluster}#{ADMINS}#{p['policyArn']}", "cluster_name": cluster, "principal_arn": ADMINS,
        "policy_arn": p["policyArn"], "access_scope": [{"type": s["type"], "namespaces": sorted(s["namespaces"])}],
        "associated_at": "2025-01-01T00:00:00Z", "modified_at": "2025-01-01T00:00:00Z", "timeouts": None})


def _build(fake: FakeEks) -> list[dict[str, Any]]:
    out = []
    # the same principal in two clusters (the state id `cluster:principal_arn` keeps them apart)
    for cluster, groups in (("blue", ["platform-admins", "viewers"]), ("green", ["viewers"])):
        e = _entry(cluster, groups, f"arn:aws:sts::{ACCOUNT}:assumed-role/admins/{{{{SessionName}}}}")
        fake.entries[(cluster, ADMINS)] = e
        out.append(_entry_state(cluster, e))
    pols = [_policy(ADMIN, "cluster"), _policy(VIEW, "namespace", ["team-b", "team-a"])]
    fake.policies[("blue", ADMINS)] = pols
    out += [_association_state("blue", "blue_admin", pols[0]), _association_state("blue", "blue_view", pols[1])]

    a = {"clusterName": "blue", "namespace": "payments", "serviceAccount": "api",
         "roleArn": f"arn:aws:iam::{ACCOUNT}:role/payments-api", "associationArn":
         f"arn:aws:eks:{REGION}:{ACCOUNT}:podidentityassociation/blue/a-0abc1234def567890", "associationId": "a-0abc1234def567890",
         "tags": {**TAGS}, "createdAt": TS, "modifiedAt": TS, "disableSessionTags": False}
    fake.pods[("blue", a["associationId"])] = a
    out.append(resource("aws_eks_pod_identity_association", "payments_api", {
        "id": a["associationId"], "association_arn": a["associationArn"], "association_id": a["associationId"],
        "cluster_name": "blue", "disable_session_tags": False, "external_id": None, "namespace": "payments",
        "role_arn": a["roleArn"], "service_account": "api", "target_role_arn": None, "tags": {}, "tags_all": dict(TAGS)}))

    c = {"identityProviderConfigName": "corp", "identityProviderConfigArn":
         f"arn:aws:eks:{REGION}:{ACCOUNT}:identityproviderconfig/blue/oidc/corp/1b2c", "clusterName": "blue",
         "issuerUrl": "https://login.example.com/", "clientId": "kubernetes", "usernameClaim": "email",
         "groupsClaim": "groups", "groupsPrefix": "oidc:", "requiredClaims": {"hd": "example.com"},
         "tags": {**TAGS, "Name": "corp"}, "status": "ACTIVE"}
    fake.idps[("blue", "corp")] = c
    out.append(resource("aws_eks_identity_provider_config", "corp", {
        "id": "blue:corp", "arn": c["identityProviderConfigArn"], "cluster_name": "blue", "status": "ACTIVE",
        "oidc": [{"client_id": "kubernetes", "groups_claim": "groups", "groups_prefix": "oidc:",
                  "identity_provider_config_name": "corp", "issuer_url": "https://login.example.com/",
                  "required_claims": {"hd": "example.com"}, "username_claim": "email", "username_prefix": ""}],
        "tags": {"Name": "corp"}, "tags_all": {**TAGS, "Name": "corp"}, "timeouts": None}))
    return out


def _capture_and_diff(fake: FakeEks, resources: list[dict[str, Any]], tmp_path: Path) -> dict[str, Any]:
    return capture_and_diff("eks", fake.handler, resources, tmp_path)


def _counted(doc: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(f["class"], f["address"], f["path"]) for r in doc["resources"] for f in r["findings"] if f["class"] in COUNTED}


ADDRESSES = {"aws_eks_access_entry.blue_admins", "aws_eks_access_entry.green_admins",
             "aws_eks_pod_identity_association.payments_api", "aws_eks_identity_provider_config.corp"}


def test_fresh_eks_access_objects_diff_clean(aws_env: None, tmp_path: Path) -> None:
    fake = FakeEks()
    doc = _capture_and_diff(fake, _build(fake), tmp_path)
    assert not doc["not_checked"]
    assert {r["address"] for r in doc["resources"]} >= ADDRESSES
    assert _counted(doc) == set()
    assert [f for r in doc["resources"] for f in r["findings"]] == []  # nothing unverified either
    assert doc["exit_code"] == 0
    # one call per object (+ the access policies of each entry: a join runs for the type when one entry needs it)
    assert doc["_calls"] == {"eks:DescribeAccessEntry": 2, "eks:ListAssociatedAccessPolicies": 2,
                             "eks:DescribePodIdentityAssociation": 1, "eks:DescribeIdentityProviderConfig": 1}
    # the requests carried the right keys: cluster + principal (with its path), cluster + association id, and the
    # identityProviderConfig structure
    seen = {(op, tuple(parts), json.dumps(body, sort_keys=True) if body else None) for op, parts, body in fake.requests}
    assert ("DescribeAccessEntry", ("clusters", "green", "access-entries", ADMINS), None) in seen
    assert ("DescribePodIdentityAssociation", ("clusters", "blue", "pod-identity-associations", "a-0abc1234def567890"),
            None) in seen
    assert ("DescribeIdentityProviderConfig", ("clusters", "blue", "identity-provider-configs", "describe"),
            json.dumps({"identityProviderConfig": {"name": "corp", "type": "oidc"}}, sort_keys=True)) in seen


def test_out_of_band_eks_access_changes_are_found(aws_env: None, tmp_path: Path) -> None:
    fake = FakeEks()
    resources = _build(fake)
    # an access policy associated by hand (ACK owns accessPolicies: it would disassociate it) and a changed scope
    fake.policies[("blue", ADMINS)][1]["accessScope"]["namespaces"].append("team-c")
    fake.policies[("blue", ADMINS)].append(_policy("arn:aws:eks::aws:cluster-access-policy/AmazonEKSEditPolicy", "cluster"))
    # a Kubernetes group added on blue; green's entry deleted
    fake.entries[("blue", ADMINS)]["kubernetesGroups"].append("breakglass")
    del fake.entries[("green", ADMINS)]
    # the pod identity role swapped, session tags disabled
    fake.pods[("blue", "a-0abc1234def567890")].update(roleArn=f"arn:aws:iam::{ACCOUNT}:role/other", disableSessionTags=True)
    # the OIDC required claim changed
    fake.idps[("blue", "corp")]["requiredClaims"] = {"hd": "evil.example.com"}
    doc = _capture_and_diff(fake, resources, tmp_path)
    assert doc["exit_code"] == 1
    assert _counted(doc) == {
        ("adoption-would-change", "aws_eks_access_entry.blue_admins", "spec.accessPolicies[0].accessScope.namespaces[2]"),
        ("adoption-would-change", "aws_eks_access_entry.blue_admins", "spec.accessPolicies[2]"),
        ("adoption-would-change", "aws_eks_access_entry.blue_admins", "spec.kubernetesGroups[2]"),
        ("drift", "aws_eks_access_entry.blue_admins", "kubernetes_groups[2]"),
        ("deleted", "aws_eks_access_entry.green_admins", ""),
        ("adoption-would-change", "aws_eks_pod_identity_association.payments_api", "spec.roleARN"),
        ("drift", "aws_eks_pod_identity_association.payments_api", "role_arn"),
        # not rendered (false is omitted): adoption takes AWS's value; Terraform sees the drift
        ("drift", "aws_eks_pod_identity_association.payments_api", "disable_session_tags"),
        ("adoption-would-change", "aws_eks_identity_provider_config.corp", "spec.oidc.requiredClaims.hd"),
        ("drift", "aws_eks_identity_provider_config.corp", "oidc.required_claims.hd"),
    }, _counted(doc)


def test_per_id_key_missing_from_state_is_unreadable_not_deleted(aws_env: None) -> None:
    """The call needs the `from` attribute: without it the resource is unreadable (reported unknown), never deleted
    — and nothing is sent. (The mapped EKS types cannot get here — their `from` attribute is also an adoption key —
    this is the engine's guard.)"""
    from converter.diff.live import LiveReader
    from converter.mapping.spec import load_mappings

    fake = FakeEks()
    d = load_mappings().get("aws_eks_identity_provider_config").describe
    reader = LiveReader(AwsClients(region=REGION, max_attempts=1, extra_handlers=[("before-send.eks", fake.handler)]))
    tr = reader.read_type("aws_eks_identity_provider_config", d, ["blue:corp"],
                          {"blue:corp": {"cluster_name": "blue", "oidc": [{"client_id": "x"}]}}, {}, set())
    assert tr.status == "ok" and tr.missing == [] and tr.items == {}
    assert "oidc.identity_provider_config_name" in tr.unreadable["blue:corp"]
    assert fake.requests == []


def test_addons_of_the_same_name_in_two_clusters(aws_env: None, tmp_path: Path) -> None:
    """Every cluster has a vpc-cni: each is read in its own cluster (moto has no addons API either)."""
    fake = FakeEks()
    resources = []
    for cluster, version in (("blue", "v1.19.0-eksbuild.1"), ("green", "v1.18.5-eksbuild.1")):
        fake.addons[(cluster, "vpc-cni")] = {
            "addonName": "vpc-cni", "clusterName": cluster, "status": "ACTIVE", "addonVersion": version,
            "addonArn": f"arn:aws:eks:{REGION}:{ACCOUNT}:addon/{cluster}/vpc-cni/1a2b", "createdAt": TS, "modifiedAt": TS,
            "serviceAccountRoleArn": f"arn:aws:iam::{ACCOUNT}:role/{cluster}-vpc-cni", "tags": dict(TAGS)}
        resources.append(resource("aws_eks_addon", f"{cluster}_vpc_cni", {
            "id": f"{cluster}:vpc-cni", "arn": fake.addons[(cluster, "vpc-cni")]["addonArn"], "cluster_name": cluster,
            "addon_name": "vpc-cni", "addon_version": version, "configuration_values": "",
            "service_account_role_arn": f"arn:aws:iam::{ACCOUNT}:role/{cluster}-vpc-cni", "pod_identity_association": [],
            "resolve_conflicts_on_create": None, "resolve_conflicts_on_update": None, "preserve": None,
            "tags": {}, "tags_all": dict(TAGS)}))
    doc = _capture_and_diff(fake, resources, tmp_path)
    assert _counted(doc) == set() and doc["exit_code"] == 0
    assert doc["_calls"] == {"eks:DescribeAddon": 2}
    fake.addons[("green", "vpc-cni")]["addonVersion"] = "v1.19.0-eksbuild.1"  # upgraded by hand
    doc = _capture_and_diff(fake, resources, tmp_path)
    assert _counted(doc) == {("adoption-would-change", "aws_eks_addon.green_vpc_cni", "spec.addonVersion"),
                             ("drift", "aws_eks_addon.green_vpc_cni", "addon_version")}
