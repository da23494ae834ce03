"""Validators for every user- or state-supplied value that becomes a name somewhere else: a path segment of the
output tree, a Kubernetes object name or namespace, a label value, a word of a generated shell script.

Why validate instead of escaping: these values land in several languages at once (`--env main` names directories,
RGD kinds, secret names and appears in script comments), and no single escaping is right for all of them. A value
that fits the strictest grammar it reaches is safe in every one; anything else is refused up front with one line
naming the option or the resource, before anything is written.
"""

from __future__ import annotations

import re
from typing import Any

from converter.model import ToolError

#: RFC 1123 label as Kubernetes uses it for namespaces and most object names (k8s.io/apimachinery validation).
DNS1123_LABEL = re.compile(r"[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?\Z")
#: RFC 1123 subdomain: dot-separated labels, 253 characters at most (ConfigMap, Secret, Application names).
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*\Z")
#: Kubernetes label value: empty, or 63 characters of alphanumerics, `-`, `_`, `.` starting and ending alphanumeric.
LABEL_VALUE = re.compile(r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?\Z")
#: EKS cluster names (CreateCluster: `^[0-9A-Za-z][A-Za-z0-9\-_]*`, at most 100): also a safe path segment and
#: a safe shell word, which is where fleet rendering puts them.
EKS_CLUSTER_NAME = re.compile(r"[0-9A-Za-z][A-Za-z0-9_-]{0,99}\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _refuse(what: str, value: str, rule: str) -> ToolError:
    return ToolError(f"{what} {value[:80]!r} is not allowed: {rule}")


def dns1123_label(value: Any, what: str) -> str:
    """A namespace, an environment, a cluster or release name that names Kubernetes objects and directories."""
    if not isinstance(value, str) or not DNS1123_LABEL.match(value):
        raise _refuse(what, str(value), "it must be a DNS-1123 label (lower-case letters, digits and '-', "
                                        "starting and ending with a letter or digit, at most 63 characters)")
    return value


def dns1123_subdomain(value: Any, what: str) -> str:
    if not isinstance(value, str) or len(value) > 253 or not DNS1123_SUBDOMAIN.match(value):
        raise _refuse(what, str(value), "it must be a DNS-1123 subdomain (lower-case letters, digits, '-' and '.', "
                                        "at most 253 characters)")
    return value


def label_value(value: Any, what: str) -> str:
    if not isinstance(value, str) or not LABEL_VALUE.match(value):
        raise _refuse(what, str(value), "it must be a Kubernetes label value (at most 63 letters, digits, '-', '_' "
                                        "or '.', starting and ending with a letter or digit)")
    return value


def path_segment(value: Any, what: str) -> str:
    """One directory or file name inside the output tree: never a separator, `.`/`..`, NUL or a control
    character, never empty, at most 255 bytes (the common file-name limit)."""
    if not isinstance(value, str) or not value:
        raise _refuse(what, str(value), "it must be a non-empty name")
    if "/" in value or "\\" in value:
        raise _refuse(what, value, "it must not contain '/' or '\\' (it names one directory)")
    if value in (".", ".."):
        raise _refuse(what, value, "it must not be '.' or '..'")
    if _CONTROL.search(value):
        raise _refuse(what, value, "it must not contain NUL, line breaks or other control characters")
    if len(value.encode("utf-8")) > 255:
        raise _refuse(what, value, "it is longer than 255 bytes")
    return value


def eks_cluster_name(value: Any, what: str) -> str:
    if not isinstance(value, str) or not EKS_CLUSTER_NAME.match(value):
        raise _refuse(what, str(value), "it must be an EKS cluster name (letters, digits, '-' and '_', starting with "
                                        "a letter or digit, at most 100 characters)")
    return value


def k8s_name_and_path(value: Any, what: str) -> str:
    """Both at once: what `--env`, `--namespace` and fleet cluster/release names are (a DNS-1123 label is also a
    safe path segment and a safe shell word)."""
    return path_segment(dns1123_label(value, what), what)


def click_dns1123_label(ctx: Any, param: Any, value: Any) -> Any:
    """click callback for `--env`/`--namespace`: one-line ToolError (exit 2) naming the option."""
    if value is None:
        return value
    name = "--" + str(getattr(param, "name", "value") or "value").replace("_", "-")
    opts = getattr(param, "opts", None)
    if opts:
        name = max(opts, key=len)
    return k8s_name_and_path(value, name)
