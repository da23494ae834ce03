"""Where a Terraform state lives: a local path, `-` (standard input), or an S3 object.

Why here and not in `state.py`: reading bytes from somewhere and parsing a v4 state are separate jobs, and the S3
side carries AWS concerns (credential chain, read-only client, error mapping) that the parser must not know about.

S3 sources follow the S3 backend's own layout, so the URL is what `terraform init` configured:

- `s3://bucket/path/terraform.tfstate` — the object the backend writes for the `default` workspace;
- `s3://bucket/path/terraform.tfstate?workspace=prod` — the backend's workspace key, `env:/prod/path/terraform.tfstate`
  (the backend's default `workspace_key_prefix` is `env:`); `?workspace_key_prefix=states` changes the prefix like the
  backend option of the same name;
- `s3://bucket/key?versionId=3HL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY` — one object version (a bucket with versioning keeps
  every state Terraform ever wrote: convert the one before a bad apply).

S3 is only ever read with `GetObject`, through the read-only client factory of `converter.diff.aws` (whose guard
refuses any non-read operation before a request is built). Credentials come from the standard AWS chain (env, profile,
SSO, instance role); `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL` point it at an S3-compatible endpoint.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

from converter.model import ToolError

DEFAULT_WORKSPACE = "default"
DEFAULT_WORKSPACE_PREFIX = "env:"
_QUERY_KEYS = frozenset({"versionId", "workspace", "workspace_key_prefix"})
# S3 bucket naming rules (3-63 chars, lowercase, digits, dots, hyphens): anything else is a typo, not a bucket
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# Terraform workspace names: letters, digits, `-`, `_`, `.` (no `/`: it would move the key to another prefix)
_WORKSPACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,89}$")
_VERSION_ID = re.compile(r"^[A-Za-z0-9._+/=-]{1,1024}$")


@dataclass(frozen=True)
class S3Location:
    """An S3 state object: the key is the one the S3 backend uses for the workspace."""

    bucket: str
    key: str  # the configured key, without the workspace prefix
    version_id: str | None = None
    workspace: str = DEFAULT_WORKSPACE
    workspace_prefix: str = DEFAULT_WORKSPACE_PREFIX

    @property
    def object_key(self) -> str:
        if self.workspace == DEFAULT_WORKSPACE:
            return self.key
        return f"{self.workspace_prefix}/{self.workspace}/{self.key}"

    @property
    def url(self) -> str:
        """The canonical name used in messages and `source_file`: the real object key plus the version."""
        url = f"s3://{self.bucket}/{quote(self.object_key, safe='/:=+@-._~')}"
        return url + (f"?versionId={quote(self.version_id, safe='')}" if self.version_id else "")


def is_s3(source: str) -> bool:
    return source.startswith("s3://")


def parse_s3_url(source: str, workspace: str | None = None) -> S3Location:
    """`s3://bucket/key[?versionId=…][&workspace=…][&workspace_key_prefix=…]` → S3Location. `workspace` (from a
    `--workspace` option or an estate root) applies when the URL names none; both at once must agree."""
    if any(ord(c) < 32 or ord(c) == 127 for c in source):  # the message must stay one line
        raise ToolError("the S3 URL contains control characters", source=repr(source)[:200])
    try:
        parts = urlsplit(source)
    except ValueError as exc:  # e.g. an unbalanced `[` (urllib reads it as an IPv6 host)
        raise ToolError(f"not a valid s3:// URL ({exc})", source=source) from None
    if parts.scheme != "s3" or not parts.netloc:
        raise ToolError("not an s3:// URL (expected s3://bucket/key)", source=source)
    bucket, key = parts.netloc, parts.path.lstrip("/")
    if not _BUCKET.match(bucket):
        raise ToolError(f"invalid S3 bucket name {bucket!r}", source=source)
    if not key or key.endswith("/"):
        raise ToolError("the S3 URL names no object key (s3://bucket/path/terraform.tfstate)", source=source)
    query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=False) if parts.query else {}
    unknown = sorted(set(query) - _QUERY_KEYS)
    if unknown:
        raise ToolError(f"unknown S3 URL parameter {unknown[0]!r} (known: {', '.join(sorted(_QUERY_KEYS))})", source=source)
    for name, values in query.items():
        if len(values) != 1 or not values[0]:
            raise ToolError(f"S3 URL parameter {name!r} must be given once, with a value", source=source)
    version = query.get("versionId", [None])[0]
    if version is not None and not _VERSION_ID.match(version):
        raise ToolError("invalid versionId", source=source)
    url_ws = query.get("workspace", [None])[0]
    if url_ws and workspace and url_ws != workspace:
        raise ToolError(f"workspace {workspace!r} given, but the URL names workspace {url_ws!r}", source=source)
    ws = url_ws or workspace or DEFAULT_WORKSPACE
    if not _WORKSPACE.match(ws):
        raise ToolError(f"invalid workspace name {ws!r} (a letter or digit, then letters, digits, '-', '_', '.')", source=source)
    prefix = query.get("workspace_key_prefix", [DEFAULT_WORKSPACE_PREFIX])[0].strip("/")
    if not prefix:
        raise ToolError("workspace_key_prefix must not be empty", source=source)
    return S3Location(bucket=bucket, key=key, version_id=version, workspace=ws, workspace_prefix=prefix)


def read_source(source: str | Path, *, workspace: str | None = None, region: str | None = None) -> tuple[str, str]:
    """(name for messages, text) of a state source. `workspace` only applies to S3 sources (a local state of another
    workspace is a different file: `terraform.tfstate.d/<workspace>/terraform.tfstate`, give that path)."""
    src = str(source)
    if src == "-":
        return "<stdin>", sys.stdin.read()
    if is_s3(src):
        loc = parse_s3_url(src, workspace)
        return loc.url, read_s3(loc, region=region)
    try:
        return src, Path(src).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ToolError("state file not found", source=src) from None
    except IsADirectoryError:
        raise ToolError("is a directory; give the terraform.tfstate file inside it", source=src) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ToolError(f"cannot read state file: {exc}", source=src) from None


#: What each S3 error means for the user (the message must say what to fix, not echo botocore).
_S3_ERRORS = {
    "NoSuchKey": "no such object (check the key and the workspace)",
    "NoSuchBucket": "no such bucket",
    "NoSuchVersion": "no such object version",
    "AccessDenied": "access denied (the credentials need s3:GetObject, and s3:GetObjectVersion for a versionId)",
    "AllAccessDisabled": "access denied (all access to this object has been disabled)",
    "InvalidArgument": "invalid request (check the versionId)",
    "InvalidToken": "the AWS credentials are invalid or expired",
    "ExpiredToken": "the AWS credentials are invalid or expired",
    "InvalidAccessKeyId": "the AWS credentials are invalid or expired",
    "SignatureDoesNotMatch": "the AWS credentials are invalid (signature does not match)",
    "PermanentRedirect": "the bucket is in another region: set AWS_REGION to the bucket's region",
}


def read_s3(loc: S3Location, *, region: str | None = None) -> str:
    """GetObject through the read-only client factory; every failure is one ToolError naming the URL."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, PartialCredentialsError

    from converter.diff.aws import AwsClients
    from converter.diff.operations import STATE_SOURCE

    clients = AwsClients(region=region, max_attempts=4, allowed=STATE_SOURCE)
    kwargs = {"Bucket": loc.bucket, "Key": loc.object_key}
    if loc.version_id:
        kwargs["VersionId"] = loc.version_id
    try:
        client = clients.client("s3")
        resp = client.get_object(**kwargs)
        body = resp["Body"].read()
    except (NoCredentialsError, PartialCredentialsError):
        raise ToolError("no AWS credentials found (standard chain: env, profile, SSO, instance role)", source=loc.url) from None
    except ClientError as exc:
        err = exc.response.get("Error", {})
        code = str(err.get("Code", ""))
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        if not code and status == 404:
            code = "NoSuchKey"
        why = _S3_ERRORS.get(code) or (f"access denied ({code})" if status == 403 else f"S3 {code or status} error")
        raise ToolError(f"cannot read state from S3: {why}", source=loc.url) from None
    except BotoCoreError as exc:
        raise ToolError(f"cannot read state from S3: {type(exc).__name__}: {exc}", source=loc.url) from None
    except ToolError as exc:  # the session factory's own errors (unknown profile, ...)
        raise ToolError(str(exc.args[0]) if exc.args else "AWS session error", source=loc.url) from None
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        raise ToolError("the S3 object is not UTF-8 text (an encrypted or compressed state?)", source=loc.url) from None
