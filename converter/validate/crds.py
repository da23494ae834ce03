"""Offline validation of Kubernetes objects against CRD files (no API server needed).

Why not validate against the raw `openAPIV3Schema`: it is *structural* OpenAPI with Kubernetes extensions,
not JSON Schema. Fed straight to jsonschema it gives false errors (`nullable: true` is ignored) and misses real
ones (unknown fields are pruned/rejected by the API server but JSON Schema allows them; int-or-string fields
accept anything). So every schema is converted once (see `convert_schema`) and its Draft 7 validator cached per
(apiVersion, kind): validating thousands of objects then costs milliseconds, not seconds, per kind.

kro templates are validated with the same code: a value that is exactly one `${...}` CEL expression is resolved
at runtime, so it is accepted for any field type; a templated string (`"a-${x}"`) is accepted wherever a string
is (its pattern/enum/length are only known at runtime).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft7Validator

from converter.model import ToolError

__all__ = [
    "BUILTIN_GROUPS",
    "CrdIndex",
    "OBJECT_META_SCHEMA",
    "Problem",
    "convert_schema",
    "format_path",
    "is_standalone_expression",
    "is_builtin_api",
    "load_yaml_documents",
    "validate_object",
]


@dataclass
class Problem:
    """One finding. `path` is dotted with list indexes (`spec.resourcesVPCConfig.subnetIDs[0]`), "" for the object.

    `code` lets a caller re-grade a class of finding (the runner downgrades `no-crd` for built-in kinds)
    without parsing messages.
    """

    path: str
    message: str
    severity: str = "error"  # "error" | "warning"
    code: str = ""


# API groups served by a plain Kubernetes API server: objects of these groups have no CRD, and a missing schema
# for them is a gap in our offline coverage, not a user error.
BUILTIN_GROUPS = frozenset(
    {
        "",
        "apps",
        "batch",
        "autoscaling",
        "policy",
        "networking.k8s.io",
        "rbac.authorization.k8s.io",
        "storage.k8s.io",
        "scheduling.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "node.k8s.io",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "certificates.k8s.io",
        "events.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "kustomize.config.k8s.io",
    }
)


def is_builtin_api(api_version: str) -> bool:
    """True for core/built-in groups (`v1`, `apps/v1`, ...) and kustomize's config kinds."""
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    return group in BUILTIN_GROUPS


# ObjectMeta is never part of a CRD schema (the API server validates it separately), so we supply a lenient
# one: typed where mistakes are common (labels/annotations must be string→string) and open elsewhere.
_STR_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
OBJECT_META_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "generateName": {"type": "string"},
        "namespace": {"type": "string"},
        "labels": _STR_MAP,
        "annotations": _STR_MAP,
        "finalizers": {"type": "array", "items": {"type": "string"}},
        "ownerReferences": {"type": "array", "items": {"type": "object"}},
        "uid": {"type": "string"},
        "resourceVersion": {"type": "string"},
        "generation": {"type": "integer"},
        "creationTimestamp": {"type": ["string", "null"]},
        "deletionTimestamp": {"type": ["string", "null"]},
        "managedFields": {"type": "array"},
    },
    "x-kubernetes-preserve-unknown-fields": True,
}

_ANY_OBJECT = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def _builtin(spec_props: dict[str, Any]) -> dict[str, Any]:
    props = {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "metadata": OBJECT_META_SCHEMA}
    props.update(spec_props)
    return {"type": "object", "properties": props, "x-kubernetes-preserve-unknown-fields": True}


_KUSTOMIZE_FIELDS: dict[str, Any] = {
    "resources": {"type": "array", "items": {"type": "string"}},
    "components": {"type": "array", "items": {"type": "string"}},
    "namespace": {"type": "string"},
    "namePrefix": {"type": "string"},
    "nameSuffix": {"type": "string"},
    "commonLabels": _STR_MAP,
    "commonAnnotations": _STR_MAP,
    "labels": {"type": "array", "items": {"type": "object"}},
    "patches": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"path": {"type": "string"}, "patch": {"type": "string"}, "target": {"type": "object"},
                           "options": {"type": "object"}},
            "x-kubernetes-preserve-unknown-fields": True,
        },
    },
    "images": {"type": "array", "items": {"type": "object"}},
}

# Built-in kinds the converter emits: shape checks only (their real schemas are not CRDs and not shipped here).
BUILTIN_SCHEMAS: dict[tuple[str, str], dict[str, Any]] = {
    ("v1", "Secret"): _builtin(
        {
            "data": _STR_MAP,
            "stringData": _STR_MAP,
            "type": {"type": "string"},
            "immutable": {"type": "boolean"},
        }
    ),
    ("v1", "ConfigMap"): _builtin(
        {"data": _STR_MAP, "binaryData": _STR_MAP, "immutable": {"type": "boolean"}}
    ),
    ("v1", "ServiceAccount"): _builtin(
        {
            "secrets": {"type": "array", "items": {"type": "object"}},
            "imagePullSecrets": {"type": "array", "items": {"type": "object"}},
            "automountServiceAccountToken": {"type": "boolean"},
        }
    ),
    ("v1", "Namespace"): _builtin({"spec": _ANY_OBJECT, "status": _ANY_OBJECT}),
    ("kustomize.config.k8s.io/v1beta1", "Kustomization"): _builtin(_KUSTOMIZE_FIELDS),
    # a kustomize Component takes the same fields as a Kustomization (https://kubectl.docs.kubernetes.io/guides/config_management/components/)
    ("kustomize.config.k8s.io/v1alpha1", "Component"): _builtin(_KUSTOMIZE_FIELDS),
}


def convert_schema(node: Any, _root: bool = True) -> Any:
    """Turn a structural CRD schema into a JSON Schema that jsonschema judges the way the API server does.

    - `x-kubernetes-int-or-string` → `type: [integer, string]` (raw, such a field accepts anything);
    - `nullable: true` → also allow `null` (raw, jsonschema rejects explicit nulls the API server accepts);
    - objects with `properties` and no `x-kubernetes-preserve-unknown-fields` get `additionalProperties: false`,
      because the API server would prune/reject unknown fields (≈ `kubectl --validate=strict`); a silent
      prune is exactly the bug we want to catch in emitted manifests;
    - `x-kubernetes-embedded-resource` objects also accept apiVersion/kind/metadata;
    - `x-kubernetes-validations` (CEL) and other `x-` keys are dropped: jsonschema cannot run them.
    At the root, apiVersion/kind/metadata/status are always allowed (metadata gets OBJECT_META_SCHEMA).
    """
    if isinstance(node, list):
        return [convert_schema(n, False) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-kubernetes-") or key in ("nullable", "description", "example", "externalDocs"):
            continue
        if key in ("properties", "patternProperties", "definitions"):
            out[key] = {k: convert_schema(v, False) for k, v in value.items()}
        elif key in ("items", "additionalProperties", "not", "allOf", "anyOf", "oneOf"):
            out[key] = convert_schema(value, False)
        else:
            out[key] = copy.deepcopy(value) if isinstance(value, (dict, list)) else value
    preserve = bool(node.get("x-kubernetes-preserve-unknown-fields"))
    if node.get("x-kubernetes-int-or-string"):
        out["type"] = ["integer", "string"]
        out.pop("anyOf", None)
    if node.get("x-kubernetes-embedded-resource") and "properties" in out:
        out["properties"].setdefault("apiVersion", {"type": "string"})
        out["properties"].setdefault("kind", {"type": "string"})
        out["properties"].setdefault("metadata", copy.deepcopy(OBJECT_META_SCHEMA))
    if _root:
        props = out.setdefault("properties", {})
        props["apiVersion"] = {"type": "string"}
        props["kind"] = {"type": "string"}
        props["metadata"] = convert_schema(OBJECT_META_SCHEMA, False)
        props.setdefault("status", {"type": "object"})
        out.setdefault("type", "object")
    if node.get("nullable"):
        t = out.get("type")
        if isinstance(t, str):
            out["type"] = [t, "null"]
        elif isinstance(t, list) and "null" not in t:
            out["type"] = [*t, "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
    if "properties" in out and not preserve and "additionalProperties" not in out:
        out["additionalProperties"] = False
    return out


_SAFE_LOADER: type[yaml.CSafeLoader] | None = None


def _loader() -> type[yaml.CSafeLoader]:
    """CSafeLoader minus YAML 1.1 timestamps: kubectl (sigs.k8s.io/yaml) reads `2024-01-01` as a string, so
    must we, or every date-valued string field would be a false type error."""
    global _SAFE_LOADER
    if _SAFE_LOADER is None:

        class _Loader(yaml.CSafeLoader):
            pass

        _Loader.yaml_implicit_resolvers = {
            ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
            for ch, resolvers in yaml.CSafeLoader.yaml_implicit_resolvers.items()
        }
        _SAFE_LOADER = _Loader
    return _SAFE_LOADER


def load_yaml_documents(path: Path) -> list[Any]:
    """All documents of a (multi-document) YAML file, empty documents dropped. Bad YAML → ToolError(file)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ToolError(f"cannot read: {exc}", str(path)) from exc
    try:
        return list(yaml.load_all(text, Loader=_loader()))  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise ToolError(f"not valid YAML: {exc}", str(path)) from exc


def _iter_yaml_files(paths: Iterable[Path]) -> Iterator[Path]:
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.suffix in (".yaml", ".yml") and f.is_file():
                    yield f
        elif p.is_file():
            yield p
        else:
            raise ToolError("CRD path does not exist", str(p))


_BUNDLED: CrdIndex | None = None  # parsed once per process by CrdIndex.bundled()


class CrdIndex:
    """CRD schemas indexed by (apiVersion "group/version", kind), converted and compiled lazily, then cached.

    Also holds schemas that are not from CRD files (`add_schema`): the runner registers the CRD each kro RGD
    would generate, so instances (and nested RGD templates) validate too.
    """

    def __init__(self) -> None:
        self._raw: dict[tuple[str, str], dict[str, Any]] = {}
        self._scope: dict[tuple[str, str], str] = {}
        self._unserved: set[tuple[str, str]] = set()
        self._converted: dict[tuple[str, str], dict[str, Any]] = {}
        self._validators: dict[tuple[str, str], Draft7Validator] = {}
        self.sources: dict[tuple[str, str], str] = {}

    # -- loading -------------------------------------------------------------------------------------------
    @classmethod
    def from_paths(cls, paths: Iterable[Path]) -> CrdIndex:
        """Load every CRD in the given files/directories (recursive, multi-document, `kind: List` too).

        Non-CRD documents are ignored, so a whole manifests directory can be passed.
        """
        index = cls()
        for f in _iter_yaml_files(paths):
            for doc in load_yaml_documents(f):
                index._add_doc(doc, str(f))
        return index

    @classmethod
    def bundled(cls) -> CrdIndex:
        """The CRD schemas shipped with tf2kro (see `converter.validate.bundle`): ACK kinds, kro, ArgoCD, Flagger,
        Gatekeeper, External Secrets, Argo Workflows, Prometheus Operator. A fresh copy each call (the parsed
        base and its compiled validators are shared), so callers can add or override kinds freely."""
        global _BUNDLED
        if _BUNDLED is None:
            from converter.validate.bundle import SOURCE_ANNOTATION, bundled_crds

            base = cls()
            for crd in bundled_crds():
                source = ((crd.get("metadata") or {}).get("annotations") or {}).get(SOURCE_ANNOTATION, "")
                base.add_crd(crd, f"bundled:{source}")
            _BUNDLED = base
        return _BUNDLED.copy()

    def add_paths(self, paths: Iterable[Path]) -> CrdIndex:
        """Add (or override) the CRDs found in files/directories, like `from_paths`; returns self."""
        for f in _iter_yaml_files(paths):
            for doc in load_yaml_documents(f):
                self._add_doc(doc, str(f))
        return self

    def _add_doc(self, doc: Any, source: str) -> None:
        if not isinstance(doc, dict):
            return
        if doc.get("kind") == "List" and isinstance(doc.get("items"), list):
            for item in doc["items"]:
                self._add_doc(item, source)
        elif doc.get("kind") == "CustomResourceDefinition":
            self.add_crd(doc, source)

    def add_crd(self, crd: dict[str, Any], source: str = "") -> None:
        """Index one CRD object (apiextensions v1, or v1beta1's top-level `validation`)."""
        spec = crd.get("spec") or {}
        group = spec.get("group", "")
        kind = (spec.get("names") or {}).get("kind", "")
        scope = spec.get("scope", "Namespaced")
        if not group or not kind:
            return
        top = (spec.get("validation") or {}).get("openAPIV3Schema")
        versions = spec.get("versions") or ([{"name": spec["version"]}] if spec.get("version") else [])
        for v in versions:
            key = (f"{group}/{v.get('name')}", kind)
            if v.get("served", True) is False:
                self._unserved.add(key)
                continue
            schema = (
                (v.get("schema") or {}).get("openAPIV3Schema")
                or top
                or {
                    "type": "object",
                    "x-kubernetes-preserve-unknown-fields": True,
                }
            )
            self.add_schema(key[0], kind, schema, scope, source)

    def add_schema(
        self, api_version: str, kind: str, schema: dict[str, Any], scope: str = "Namespaced", source: str = ""
    ) -> None:
        """Register a structural (CRD-style) root schema for (apiVersion, kind); replaces any earlier one."""
        key = (api_version, kind)
        self._raw[key] = schema
        self._scope[key] = scope
        self.sources[key] = source
        self._unserved.discard(key)
        self._converted.pop(key, None)
        self._validators.pop(key, None)

    def copy(self) -> CrdIndex:
        """A shallow copy sharing the caches of already-converted kinds (cheap; used to add RGD-generated kinds)."""
        new = CrdIndex()
        new._raw = dict(self._raw)
        new._scope = dict(self._scope)
        new._unserved = set(self._unserved)
        new._converted = dict(self._converted)
        new._validators = dict(self._validators)
        new.sources = dict(self.sources)
        return new

    # -- lookup --------------------------------------------------------------------------------------------
    def __contains__(self, key: object) -> bool:
        return key in self._raw

    def __len__(self) -> int:
        return len(self._raw)

    def kinds(self) -> list[tuple[str, str]]:
        return sorted(self._raw)

    def raw_schema(self, api_version: str, kind: str) -> dict[str, Any] | None:
        """The structural schema as written in the CRD (kept for walking CEL select chains)."""
        return self._raw.get((api_version, kind))

    def scope(self, api_version: str, kind: str) -> str | None:
        """`Namespaced` / `Cluster`, or None for an unknown kind."""
        return self._scope.get((api_version, kind))

    def is_unserved(self, api_version: str, kind: str) -> bool:
        return (api_version, kind) in self._unserved

    def schema(self, api_version: str, kind: str) -> dict[str, Any] | None:
        """The converted JSON schema for (apiVersion, kind), or None if no CRD defines it. Cached."""
        key = (api_version, kind)
        if key not in self._converted:
            raw = self._raw.get(key)
            if raw is None:
                return None
            self._converted[key] = convert_schema(raw)
        return self._converted[key]

    def validator(self, api_version: str, kind: str) -> Draft7Validator | None:
        """The compiled Draft 7 validator for (apiVersion, kind) (built-in shape schemas included). Cached."""
        key = (api_version, kind)
        v = self._validators.get(key)
        if v is None:
            schema = self.schema(api_version, kind)
            if schema is None:
                builtin = BUILTIN_SCHEMAS.get(key)
                if builtin is None:
                    return None
                schema = convert_schema(builtin)
            v = Draft7Validator(schema)
            self._validators[key] = v
        return v


# -- CEL-awareness ---------------------------------------------------------------------------------------------
def is_standalone_expression(value: Any) -> bool:
    """True for a string that is exactly one `${...}` (kro resolves it to a value of any type)."""
    if not isinstance(value, str) or not value.startswith("${") or not value.endswith("}"):
        return False
    depth, in_str, esc = 0, False, False
    for i, c in enumerate(value):
        if esc:
            esc = False
            continue
        if c == "\\":
            esc = True
        elif c == '"':
            in_str = not in_str
        elif not in_str:
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    return i == len(value) - 1
    return False


_STRING_ONLY_KEYWORDS = frozenset({"pattern", "format", "enum", "minLength", "maxLength", "const"})


def _skip_for_template(err: Any) -> bool:
    """Errors about values only known at runtime (kro CEL) are not errors in a template."""
    inst = err.instance
    if is_standalone_expression(inst):
        return True
    return bool(isinstance(inst, str) and "${" in inst and err.validator in _STRING_ONLY_KEYWORDS)


def format_path(steps: Iterable[Any], prefix: str = "") -> str:
    """("spec", "subnetIDs", 0) → `spec.subnetIDs[0]` (optionally under `prefix`)."""
    out = prefix
    for s in steps:
        if isinstance(s, int):
            out += f"[{s}]"
        elif re.fullmatch(r"[A-Za-z0-9_\-]+", str(s)):
            out += f".{s}" if out else str(s)
        else:
            out += f"[{s!r}]"
    return out


def _short(value: Any, limit: int = 60) -> str:
    r = repr(value)
    return r if len(r) <= limit else r[: limit - 3] + "..."


def _problems_from_error(err: Any, prefix: str) -> list[Problem]:
    """Turn one jsonschema error into readable Problems (unknown fields are named one by one)."""
    steps = list(err.absolute_path)
    if (
        err.validator == "additionalProperties"
        and err.validator_value is False
        and isinstance(err.instance, dict)
    ):
        allowed = set((err.schema.get("properties") or {}).keys())
        patterns = list((err.schema.get("patternProperties") or {}).keys())
        extra = [k for k in err.instance if k not in allowed and not any(re.search(p, k) for p in patterns)]
        return [
            Problem(format_path([*steps, k], prefix), f"unknown field {k!r}", "error", "unknown-field")
            for k in extra
        ]
    if err.validator == "required":
        missing = err.message.split("'")[1] if "'" in err.message else err.message
        return [
            Problem(format_path([*steps, missing], prefix), "missing required field", "error", "required")
        ]
    if err.validator == "type":
        want = (
            err.validator_value if isinstance(err.validator_value, str) else " or ".join(err.validator_value)
        )
        got = type(err.instance).__name__
        msg = f"expected {want}, got {got} {_short(err.instance)}"
        return [Problem(format_path(steps, prefix), msg, "error", "type")]
    if err.validator == "enum":
        msg = f"{_short(err.instance)} is not one of {_short(err.validator_value, 200)}"
        return [Problem(format_path(steps, prefix), msg, "error", "enum")]
    return [
        Problem(
            format_path(steps, prefix),
            err.message if len(err.message) < 300 else err.message[:297] + "...",
            "error",
            str(err.validator),
        )
    ]


def _api_kind_problems(obj: Any, prefix: str) -> list[Problem]:
    if not isinstance(obj, dict):
        return [Problem(prefix, f"expected a mapping, got {type(obj).__name__}", "error", "shape")]
    out = []
    for f in ("apiVersion", "kind"):
        if not isinstance(obj.get(f), str) or not obj.get(f):
            out.append(Problem(format_path([f], prefix), "missing or not a string", "error", "shape"))
    return out


def validate_object(
    obj: Any, index: CrdIndex, *, template: bool = False, path_prefix: str = "", require_metadata: bool = True
) -> list[Problem]:
    """Validate one whole object against its CRD (apiVersion/kind/metadata/status allowed at the top).

    `template=True` for kro resource templates: standalone `${...}` values pass for any type, templated strings
    pass for string fields. Unknown kinds give one `no-crd` Problem (the caller decides its severity); the
    built-in kinds the converter emits (Secret, ConfigMap, ServiceAccount, Namespace, Kustomization, kustomize
    Component) get shape checks only.
    """
    problems = _api_kind_problems(obj, path_prefix)
    if problems:
        return problems
    api_version, kind = obj["apiVersion"], obj["kind"]
    md = obj.get("metadata")
    # kustomization.yaml files (Kustomization, Component) need no metadata; everything else the API server would
    # reject without a name.
    needs_meta = require_metadata and not api_version.startswith("kustomize.config.k8s.io/")
    if needs_meta and not isinstance(md, dict):
        problems.append(Problem(format_path(["metadata"], path_prefix), "missing metadata", "error", "shape"))
    elif needs_meta and "name" not in md and "generateName" not in md:
        problems.append(
            Problem(format_path(["metadata", "name"], path_prefix), "missing name", "error", "shape")
        )
    validator = index.validator(api_version, kind)
    if validator is None:
        why = " (that version is not served)" if index.is_unserved(api_version, kind) else ""
        problems.append(Problem(path_prefix, f"no CRD for {api_version} {kind}{why}", "error", "no-crd"))
        return problems
    for err in validator.iter_errors(obj):
        if template and _skip_for_template(err):
            continue
        problems.extend(_problems_from_error(err, path_prefix))
    return problems
