"""Which AWS operations tf2kro may send: an explicit allow-list, and a deny-list that wins over it.

WHY an allow-list and not a `Get*/List*/Describe*` prefix rule: the prefix admits `secretsmanager:GetSecretValue`,
`ssm:GetParameter` (with decryption), `sts:GetSessionToken`, `ecr:GetAuthorizationToken` and
`cognito-identity:GetId` (which *creates* an identity). tf2kro only needs the reads its mappings name, so:

- the allow-list is derived from the `describe:` blocks of mappings/*.yaml when they are loaded, plus the few
  fixed calls the code makes itself (`FIXED`: the preflight `sts:GetCallerIdentity`, `fleet upgrade`'s
  `eks:DescribeAddonVersions`, `fleet addons`' add-on reads);
- the operation names a mapping may use are themselves an enum in mappings/_schema.yaml (`$defs.readOperation`),
  so a mapping naming anything else fails the mapping schema check at load;
- `DENIED` (secret-value reads, credential minting, identity creation) is refused by the guard even if someone
  adds it to a mapping and to the schema, and a mapping naming one is an error at load.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from converter.model import ToolError

# (client, operation) the code calls outside the mappings.
FIXED: frozenset[tuple[str, str]] = frozenset({
    ("sts", "GetCallerIdentity"),  # preflight: who/where are we, before any read
    ("eks", "DescribeAddonVersions"),  # fleet upgrade / fleet addons: add-on versions per Kubernetes version
    ("eks", "DescribeAddonConfiguration"),  # fleet addons: the JSON schema of a version's configurationValues
    ("eks", "ListAddons"),  # fleet addons --installed aws: which add-ons a cluster runs
    ("eks", "DescribeAddon"),  # fleet addons --installed aws: installed version and configurationValues
})

# The state-source reader's own list: reading `s3://bucket/key` state is the one object read tf2kro makes, and only
# that client may make it (the diff/capture clients never read S3 objects).
STATE_SOURCE: frozenset[tuple[str, str]] = frozenset({("s3", "GetObject")})

# Never sent, whatever a mapping says: they return secret material, mint credentials or create things.
DENIED: frozenset[tuple[str, str]] = frozenset({
    ("secretsmanager", "GetSecretValue"),
    ("secretsmanager", "BatchGetSecretValue"),
    ("secretsmanager", "GetRandomPassword"),
    ("ssm", "GetParameter"),
    ("ssm", "GetParameters"),
    ("ssm", "GetParametersByPath"),
    ("ssm", "GetParameterHistory"),
    ("kms", "Decrypt"),
    ("kms", "GenerateDataKey"),
    ("kms", "GenerateDataKeyWithoutPlaintext"),
    ("kms", "GenerateRandom"),
    ("sts", "GetSessionToken"),
    ("sts", "GetFederationToken"),
    ("sts", "AssumeRole"),
    ("sts", "GetAccessKeyInfo"),
    ("ecr", "GetAuthorizationToken"),
    ("ecr-public", "GetAuthorizationToken"),
    ("cognito-identity", "GetId"),
    ("cognito-identity", "GetCredentialsForIdentity"),
    ("cognito-identity", "GetOpenIdToken"),
    ("cognito-identity", "GetOpenIdTokenForDeveloperIdentity"),
})
# Denied in every service: these names return secrets or credentials wherever they appear.
DENIED_ANYWHERE: frozenset[str] = frozenset({
    "GetSecretValue", "BatchGetSecretValue", "Decrypt", "GetSessionToken", "GetAuthorizationToken",
    "GetCredentialsForIdentity", "GetId", "GetParameter", "GetParameters", "GetParametersByPath",
    "GetPasswordData", "GetLoginProfile", "GetFederationToken", "AssumeRole", "GenerateDataKey",
})


def is_denied(client: str, operation: str) -> bool:
    return (client, operation) in DENIED or operation in DENIED_ANYWHERE


def describe_calls(describe: dict[str, Any] | None) -> Iterator[tuple[str, str, str]]:
    """(client, operation, where) for every call a `describe:` block makes: the main read, `list`, and `joins`."""
    if not isinstance(describe, dict):
        return
    client = str(describe.get("client") or "")
    if describe.get("operation"):
        yield client, str(describe["operation"]), "describe/operation"
    lst = describe.get("list")
    if isinstance(lst, dict) and lst.get("operation"):
        yield str(lst.get("client") or client), str(lst["operation"]), "describe/list/operation"
    for name, j in (describe.get("joins") or {}).items():
        if isinstance(j, dict) and j.get("operation"):
            yield str(j.get("client") or client), str(j["operation"]), f"describe/joins/{name}/operation"


def check_mapping_operations(doc: dict[str, Any], path: str) -> None:
    """A mapping file may not name a denied operation (the schema enum already limits the names)."""
    for tf_type, raw in ((doc or {}).get("resources") or {}).items():
        for client, op, where in describe_calls((raw or {}).get("describe")):
            if is_denied(client, op):
                raise ToolError(f"mapping does not match mappings/_schema.yaml at resources/{tf_type}/{where}: "
                                f"{client}:{op} reads secret values or credentials; tf2kro never sends it", source=path)


def allowed_operations(describes: Iterable[dict[str, Any] | None]) -> frozenset[tuple[str, str]]:
    """The allow-list: every call of the mappings' describe blocks plus `FIXED`, minus anything denied."""
    out = set(FIXED)
    for d in describes:
        out.update((c, o) for c, o, _ in describe_calls(d))
    return frozenset(x for x in out if not is_denied(*x))


def default_allowed() -> frozenset[tuple[str, str]]:
    """The allow-list of the installed mappings (loaded once per process, like the mappings themselves)."""
    from converter.mapping.spec import load_mappings

    return allowed_operations(tm.describe for tm in load_mappings().types.values())
