"""What counts as a secret, and the one place that decides whether a state value may leave the process.

Two sources: the paths Terraform itself marks (`sensitive_attributes`), and attribute names that denote
secrets whatever the provider says (passwords, private keys, tokens). A value from either is never rendered;
the field is left out and reported as an omission so the reviewer knows what to provide (ExternalSecret).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from converter.model import ResourceInstance

# Attribute-name segments that are secrets whatever the provider schema says.
_SECRET_NAME = re.compile(
    r"(^|_)(password|passwd|secret|secret_string|secret_binary|private_key|private_key_pem|private_key_openssh|"
    r"private_key_pem_pkcs8|token|auth_token|access_key|secret_key|client_secret|kubeconfig|sensitive_content|"
    r"ses_smtp_password_v4|master_password|credentials?)($|_)"
)
# Names that look secret but are not (ARNs/ids of secrets, key *ids*, public keys).
_NOT_SECRET = re.compile(
    r"(_arn|_id|_ids|_name|_kms_key_id|public_key.*|_version|_length|_enabled|_type|_rotation.*|_wo_version)$|^manage_|^(key|secret)_?arn$"
)

# Shapes that are secrets wherever they appear (for the leak scanner and as a last guard in emitters).
PEM_BLOCK = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY(?: BLOCK)?-----")  # PEM, OpenSSH and OpenPGP armor
AWS_SECRET_KEY = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])")
AWS_ACCESS_KEY_ID = re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b")
#: Public AWS resource-id shapes. A data source marks every value it reads sensitive (`aws_ssm_parameter.value`
#: always is), yet the EKS-optimised AMI parameter holds a public AMI id that also appears, rightly, in a launch
#: template's `image_id`: such a value is not a secret and must not abort the run as a leak.
PUBLIC_ID = re.compile(
    r"(?:ami|aki|ari|snap|vol|subnet|vpc|sg|eni|igw|eigw|nat|rtb|acl|lt|i|eipalloc|pl|tgw|tgw-attach|vpce|vgw|cgw|"
    r"dopt|pcx|fl|ipam|lb|elbv2|r|ngw)-[0-9a-f]{8,17}\Z"
)


#: AWS public parameters (`/aws/service/...`: EKS/ECS AMI ids, region lists) are readable by every account.
PUBLIC_SSM_PREFIX = "/aws/service/"


def is_public_identifier(value: str) -> bool:
    return bool(PUBLIC_ID.match(value))


def is_public_data_source(inst: ResourceInstance) -> bool:
    """A data source whose whole value is public although Terraform marks it sensitive: an AWS public SSM
    parameter (the EKS-optimised AMI id a launch template also holds in `image_id`)."""
    return (inst.mode == "data" and inst.type == "aws_ssm_parameter"
            and str(inst.attributes.get("name") or "").startswith(PUBLIC_SSM_PREFIX))


def is_secret_name(name: str) -> bool:
    n = name.lower()
    return bool(_SECRET_NAME.search(n)) and not _NOT_SECRET.search(n)


def sensitive_roots(inst: ResourceInstance) -> set[str]:
    """Top-level attribute names that hold a sensitive value (marked by Terraform or secret-named)."""
    roots = {str(p.steps[0]) for p in inst.sensitive_paths if p.steps}
    roots |= {k for k in inst.attributes if is_secret_name(k)}
    return roots


def is_sensitive_path(inst: ResourceInstance, path: Iterable[str | int]) -> bool:
    """True when `path` (attribute steps) is, contains or lies inside a sensitive path."""
    steps = tuple(path)
    for sp in inst.sensitive_paths:
        n = min(len(sp.steps), len(steps))
        if sp.steps[:n] == steps[:n]:
            return True
    return any(isinstance(s, str) and is_secret_name(s) for s in steps)


def lies_in_sensitive_path(inst: ResourceInstance, path: Iterable[str | int]) -> bool:
    """True when `path` is or lies inside a sensitive path (not when it merely contains one).

    is_sensitive_path also answers True for ancestors, which is right for rendering (a parent object that holds
    a secret is not rendered whole) but wrong for collecting secret strings: the sibling `name` of a marked
    `set_sensitive[0].value` is a Helm key path, not a secret."""
    steps = tuple(path)
    for sp in inst.sensitive_paths:
        if len(sp.steps) <= len(steps) and tuple(sp.steps) == steps[: len(sp.steps)]:
            return True
    return any(isinstance(s, str) and is_secret_name(s) for s in steps)


def sensitive_values(inst: ResourceInstance) -> list[str]:
    """Every string value under a sensitive path: what a leak scanner must never find in output."""
    found: list[str] = []
    if is_public_data_source(inst):
        return found

    # Checking only the new step is enough (and linear, where re-checking the whole path against every marked path
    # was quadratic on deep attributes): a path lies in a sensitive path iff some marked path is a prefix of it or
    # one of its steps is secret-named, and when the parent path did not, only the full path or the last step can.
    marked = {tuple(sp.steps) for sp in inst.sensitive_paths}

    def walk(node: Any, steps: tuple[str | int, ...], hit: bool) -> None:
        if not hit and steps:
            last = steps[-1]
            hit = (len(steps) == 1 and () in marked) or steps in marked or (
                isinstance(last, str) and is_secret_name(last))
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, steps + (k,), hit)
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, steps + (i,), hit)
        elif hit and isinstance(node, str) and len(node) >= 6:
            if inst.mode == "data" and is_public_identifier(node):
                return  # a public id a data source read (AMI from SSM), not a secret: see PUBLIC_ID
            found.append(node)

    walk(inst.attributes, (), False)
    return found


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace known secret values in free text (log lines, error messages, reports) before it is printed: every
    encoded form (JSON, YAML, XML, CEL escapes, base64) in one pass, see converter.leakscan."""
    from converter.leakscan import scrub as _scrub

    return _scrub(text, secrets)
