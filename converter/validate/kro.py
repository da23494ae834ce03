"""kro's static ResourceGraphDefinition checks, re-implemented offline.

Why: kro validates an RGD only when the controller builds the graph (`GraphAccepted=False` in the RGD status),
and `kro validate rgd` needs a live API server with every referenced CRD installed. A converter that emits
hundreds of RGDs must find those errors before anything reaches a cluster, so this module repeats the
controller's build steps against CRD files:

1. SimpleSchema (`schema.spec`, `schema.types`) parses → OpenAPI; kind/version regexes;
2. resource ids (lowerCamelCase, unique, not reserved), forEach iterators, exactly one of template/externalRef;
3. templates: apiVersion/kind/metadata, no `kro.run/` labels, literal fields valid against the CRD;
4. every `${...}` extracted like kro does and compiled with cel-expr-python (Google's cel-cpp; kro uses cel-go
   with the strings/optional/… extensions, and kro's own functions are declared here);
5. dependency DAG from references; cycles rejected;
6. field existence of select chains (`vpc.status.vpcID`) against the referenced CRD schema (kro: `no such
   member`), plus output type vs target field type where both are statically known;
7. readyWhen/includeWhen must be bool; readyWhen may only look at its own resource.

Where a check cannot be exact offline (CEL types are DYN here, kro types them from OpenAPI) it errs on the side
of silence: a false error in generated output is worse than a missed one the cluster still catches.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from converter.validate.crds import OBJECT_META_SCHEMA, CrdIndex, Problem, format_path, validate_object

__all__ = [
    "RESERVED_WORDS",
    "check_rgd",
    "extract_expressions",
    "rgd_instance_schema",
    "simpleschema_to_openapi",
]

# kro-gitops.md §1.2: CEL keywords + kro's own reserved words (ids and forEach iterators).
RESERVED_WORDS = frozenset(
    [
        "true",
        "false",
        "null",
        "in",
        "as",
        "break",
        "const",
        "continue",
        "else",
        "for",
        "function",
        "if",
        "import",
        "let",
        "loop",
        "package",
        "namespace",
        "return",
        "var",
        "void",
        "while",
        "apiVersion",
        "context",
        "dependency",
        "dependencies",
        "each",
        "externalRef",
        "externalReference",
        "externalRefs",
        "externalReferences",
        "graph",
        "instance",
        "item",
        "items",
        "kind",
        "kro",
        "metadata",
        "namespace",
        "object",
        "resource",
        "resourcegraphdefinition",
        "resourceGraphDefinition",
        "resources",
        "root",
        "runtime",
        "schema",
        "self",
        "serviceAccountName",
        "spec",
        "status",
        "this",
        "variables",
        "vars",
        "version",
    ]
)
ID_RE = re.compile(r"^[a-z][a-zA-Z0-9]*$")
KIND_RE = re.compile(r"^[A-Z][a-zA-Z0-9]{0,62}$")
VERSION_RE = re.compile(r"^v[0-9]+(alpha[0-9]+|beta[0-9]+)?$")
KRO_LABEL_PREFIXES = ("kro.run/", "internal.kro.run/")
MAX_FOREACH_DIMENSIONS = 10


# ---------------------------------------------------------------------------------------------------------
# ${...} extraction (kro pkg/graph/parser): brace counting, only `"` toggles string mode, `\` escapes.
# ---------------------------------------------------------------------------------------------------------
def extract_expressions(value: str) -> tuple[list[str], str | None]:
    """The CEL sources inside every `${...}` of `value`, and an error message (or None).

    Mirrors kro so that what kro would mis-split (a `}` inside a single-quoted CEL string) is flagged here too.
    """
    out: list[str] = []
    start = 0
    while True:
        i = value.find("${", start)
        if i < 0:
            return out, None
        depth, j, in_str, esc = 1, i + 2, False, False
        while j < len(value):
            c = value[j]
            if esc:
                esc = False
            elif c == "\\":
                esc = True
            elif c == '"':
                in_str = not in_str
            elif not in_str:
                if c == "{":
                    depth += 1
                elif c == "}":
                    depth -= 1
                    if depth == 0:
                        break
            j += 1
        if depth != 0:
            return out, f"unterminated expression starting at {value[i : i + 40]!r}"
        expr = value[i + 2 : j]
        if _has_nested_open(expr):
            return out, f"nested ${{...}} inside an expression: {expr[:60]!r}"
        if not expr.strip():
            return out, "empty expression ${}"
        out.append(expr)
        start = j + 1


def _has_nested_open(expr: str) -> bool:
    in_str, esc = False, False
    for k, c in enumerate(expr):
        if esc:
            esc = False
        elif c == "\\":
            esc = True
        elif c == '"':
            in_str = not in_str
        elif not in_str and c == "$" and expr[k + 1 : k + 2] == "{":
            return True
    return False


def _is_standalone(value: str, exprs: list[str]) -> bool:
    return len(exprs) == 1 and value == "${" + exprs[0] + "}"


# ---------------------------------------------------------------------------------------------------------
# A small CEL lexer: cel-expr-python exposes no AST, and select chains are all we need from one.
# ---------------------------------------------------------------------------------------------------------
@dataclass
class _Tok:
    kind: str  # id | num | str | op
    val: str
    lit: Any = None


_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUM = re.compile(r"(0x[0-9a-fA-F]+|\d+\.?\d*(?:[eE][+-]?\d+)?)[uU]?")
_STR_PREFIX = re.compile(r"(?:[rR][bB]?|[bB][rR]?)?(\"\"\"|'''|\"|')")


def _lex(src: str) -> list[_Tok]:
    toks: list[_Tok] = []
    i, n = 0, len(src)
    while i < n:
        c = src[i]
        if c.isspace():
            i += 1
            continue
        m = _STR_PREFIX.match(src, i)
        if m and (m.start(1) == i or src[i] in "rRbB"):
            q = m.group(1)
            raw = "r" in src[i : m.start(1)].lower()
            j = m.end()
            buf = []
            while j < n and not src.startswith(q, j):
                if src[j] == "\\" and not raw and j + 1 < n:
                    buf.append(src[j + 1])
                    j += 2
                    continue
                buf.append(src[j])
                j += 1
            toks.append(_Tok("str", src[i : j + len(q)], "".join(buf)))
            i = j + len(q)
            continue
        if c.isdigit():
            m2 = _NUM.match(src, i)
            assert m2
            text = m2.group(0)
            lit = int(text.rstrip("uU"), 0) if re.fullmatch(r"\d+[uU]?|0x[0-9a-fA-F]+[uU]?", text) else None
            toks.append(_Tok("num", text, lit))
            i = m2.end()
            continue
        m3 = _ID.match(src, i)
        if m3:
            toks.append(_Tok("id", m3.group(0)))
            i = m3.end()
            continue
        if src.startswith(".?", i):
            toks.append(_Tok("op", ".?"))
            i += 2
            continue
        toks.append(_Tok("op", c))
        i += 1
    return toks


def _match_close(toks: list[_Tok], i: int) -> int:
    """Index of the bracket closing toks[i] (or len(toks))."""
    pairs = {"(": ")", "[": "]", "{": "}"}
    stack = [pairs[toks[i].val]]
    j = i + 1
    while j < len(toks) and stack:
        v = toks[j].val if toks[j].kind == "op" else None
        if v in pairs:
            stack.append(pairs[v])
        elif v is not None and v == stack[-1]:
            stack.pop()
        j += 1
    return j - 1


_ANY_INDEX = object()
_ELEMENT_MACROS = frozenset({"map", "filter", "all", "exists", "exists_one", "existsOne", "sortBy"})


@dataclass
class _Chain:
    root: str
    steps: list[Any]
    soft: bool  # `.?`/`[?`/has(): kro skips existence checks
    pos: int
    method: str | None = None
    method_open: int = -1
    only: bool = False  # the chain is the whole expression


def _chains(toks: list[_Tok]) -> list[_Chain]:
    """Every select chain rooted at a bare identifier, in source order."""
    out: list[_Chain] = []
    for i, t in enumerate(toks):
        if t.kind != "id":
            continue
        if i > 0 and toks[i - 1].kind == "op" and toks[i - 1].val in (".", ".?"):
            continue
        if i + 1 < len(toks) and toks[i + 1].val == "(":
            continue  # a global function call
        steps: list[Any] = []
        soft = i >= 2 and toks[i - 1].val == "(" and toks[i - 2].val == "has"
        method, mopen, j = None, -1, i + 1
        while j < len(toks):
            tj = toks[j]
            if tj.kind == "op" and tj.val == "." and j + 1 < len(toks) and toks[j + 1].kind == "id":
                if j + 2 < len(toks) and toks[j + 2].val == "(":
                    method, mopen = toks[j + 1].val, j + 2
                    break
                steps.append(toks[j + 1].val)
                j += 2
            elif tj.kind == "op" and tj.val == ".?":
                soft = True
                break
            elif tj.kind == "op" and tj.val == "[":
                if j + 1 < len(toks) and toks[j + 1].val == "?":
                    soft = True
                    break
                k = _match_close(toks, j)
                inner = toks[j + 1 : k]
                if len(inner) == 1 and inner[0].kind == "str":
                    steps.append(str(inner[0].lit))
                elif len(inner) == 1 and inner[0].kind == "num" and inner[0].lit is not None:
                    steps.append(int(inner[0].lit))
                else:
                    steps.append(_ANY_INDEX)
                j = k + 1
            else:
                break
        only = i == 0 and method is None and j == len(toks)
        out.append(_Chain(t.val, steps, soft, i, method, mopen, only))
    return out


# ---------------------------------------------------------------------------------------------------------
# Walking structural schemas along a chain.
# ---------------------------------------------------------------------------------------------------------
def _schema_type(node: dict[str, Any] | None) -> str | None:
    if not isinstance(node, dict):
        return None
    if node.get("x-kubernetes-int-or-string"):
        return None
    t = node.get("type")
    return t if isinstance(t, str) else None


def _walk(node: dict[str, Any] | None, steps: list[Any]) -> tuple[str, int, dict[str, Any] | None]:
    """Follow `steps` through a structural schema.

    Returns ("ok", -1, leaf-or-None) — None meaning "anything from here on" — or ("missing", i, parent)
    / ("list", i, parent) for the first step that cannot exist.
    """
    for i, step in enumerate(steps):
        if not isinstance(node, dict):
            return "ok", -1, None
        t = node.get("type")
        props = node.get("properties")
        addl = node.get("additionalProperties")
        if step is _ANY_INDEX or isinstance(step, int):
            if t == "array":
                node = node.get("items")
                continue
            if isinstance(addl, dict):
                node = addl
                continue
            return "ok", -1, None
        if t == "array":
            return "list", i, node
        if isinstance(props, dict) and step in props:
            node = props[step]
            continue
        if isinstance(addl, dict):
            node = addl
            continue
        if (
            addl is True
            or node.get("x-kubernetes-preserve-unknown-fields")
            or node.get("x-kubernetes-int-or-string")
        ):
            return "ok", -1, None
        if isinstance(props, dict) or t in ("string", "integer", "number", "boolean"):
            return "missing", i, node
        return "ok", -1, None  # `type: object` with nothing declared: don't guess
    return "ok", -1, node if isinstance(node, dict) else None


def _resource_node(raw: dict[str, Any] | None) -> dict[str, Any] | None:
    """A CRD root schema as kro's CEL sees a resource: metadata is ObjectMeta, apiVersion/kind strings."""
    if raw is None:
        return None
    node = dict(raw)
    props = dict(node.get("properties") or {})
    props["metadata"] = OBJECT_META_SCHEMA
    props["apiVersion"] = {"type": "string"}
    props["kind"] = {"type": "string"}
    props.setdefault("status", {"type": "object", "x-kubernetes-preserve-unknown-fields": True})
    node["properties"] = props
    return node


# ---------------------------------------------------------------------------------------------------------
# SimpleSchema → OpenAPI (kro pkg/simpleschema).
# ---------------------------------------------------------------------------------------------------------
_ATOMIC = {"string": "string", "integer": "integer", "boolean": "boolean", "float": "number"}
_MARKERS = frozenset(
    [
        "required",
        "default",
        "description",
        "minimum",
        "maximum",
        "validation",
        "enum",
        "immutable",
        "pattern",
        "uniqueItems",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "listType",
        "listMapKey",
    ]
)
_MAX_TYPE_DEPTH = 16


def _parse_markers(text: str) -> list[tuple[str, str]]:
    """kro's ParseMarkers: `k=v` separated by spaces; `"` quotes; `[]`/`{}` nest (JSON defaults)."""
    result: list[tuple[str, str]] = []
    key: str | None = None
    buf: list[str] = []
    in_q = esc = False
    brackets = 0
    for ch in text:
        if ch == "=" and key is None and not in_q and brackets == 0:
            k = "".join(buf).strip()
            if not k:
                raise ValueError("empty marker key")
            if k not in _MARKERS:
                raise ValueError(f"unknown marker {k!r}")
            key, buf = k, []
        elif ch == '"' and not esc:
            in_q = not in_q
            buf.append(ch)
        elif ch == "\\" and in_q and not esc:
            esc = True
            buf.append(ch)
        elif ch in "{[" and not in_q:
            brackets += 1
            buf.append(ch)
        elif ch in "}]" and not in_q:
            brackets -= 1
            buf.append(ch)
            if brackets < 0:
                raise ValueError("unmatched closing bracket/brace")
        elif ch.isspace() and not in_q and brackets == 0:
            if key is not None:
                result.append((key, _marker_value("".join(buf))))
                key, buf = None, []
        else:
            if esc and in_q:
                esc = False
            buf.append(ch)
    if key is not None:
        result.append((key, _marker_value("".join(buf))))
    elif "".join(buf).strip():
        raise ValueError(f"marker {''.join(buf).strip()!r} without a value")
    if in_q:
        raise ValueError("unclosed quote")
    if brackets > 0:
        raise ValueError("unclosed bracket/brace")
    return result


def _marker_value(v: str) -> str:
    if len(v) >= 2 and v.startswith('"') and v.endswith('"'):
        return re.sub(r'\\(["\\])', r"\1", v[1:-1])
    return v.strip()


def _parse_bool(v: str) -> bool:
    lv = v.lower()
    if lv in ("true", "1", "t"):
        return True
    if lv in ("false", "0", "f"):
        return False
    raise ValueError(f"not a boolean: {v!r}")


class _SimpleSchema:
    def __init__(self, types: dict[str, Any], base: str, problems: list[Problem]):
        self.types_raw = types if isinstance(types, dict) else {}
        self.base = base
        self.problems = problems
        self.resolved: dict[str, dict[str, Any]] = {}
        self.resolving: list[str] = []

    def err(self, path: str, msg: str) -> None:
        self.problems.append(Problem(path, msg, "error", "simpleschema"))

    def custom(self, name: str, path: str) -> dict[str, Any] | None:
        if name in self.resolved:
            return self.resolved[name]
        if name not in self.types_raw:
            self.err(path, f"unknown type {name!r} (atomic types: string, integer, boolean, float, object)")
            return None
        if name in self.resolving:
            self.err(path, f"custom type cycle: {' -> '.join([*self.resolving, name])}")
            return None
        self.resolving.append(name)
        try:
            schema = self.value(self.types_raw[name], format_path([name], f"{self.base}.types"), None, name)
        finally:
            self.resolving.pop()
        if schema is not None:
            self.resolved[name] = schema
        return schema

    def type_expr(self, s: str, path: str, depth: int = 0) -> dict[str, Any] | None:
        s = s.strip()
        if depth > _MAX_TYPE_DEPTH:
            self.err(path, f"type nesting too deep: {s!r}")
            return None
        if not s:
            self.err(path, "empty type")
            return None
        if s in _ATOMIC:
            return {"type": _ATOMIC[s]}
        if s == "object":
            return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
        if s.startswith("[]"):
            if not s[2:].strip():
                self.err(path, "empty slice element type")
                return None
            items = self.type_expr(s[2:], path, depth + 1)
            return None if items is None else {"type": "array", "items": items}
        if s.startswith("map["):
            if not s.startswith("map[string]"):
                self.err(path, f"map key must be string: {s!r}")
                return None
            rest = s[len("map[string]") :]
            if not rest.strip():
                self.err(path, "map value type is required")
                return None
            val = self.type_expr(rest, path, depth + 1)
            return None if val is None else {"type": "object", "additionalProperties": val}
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", s):
            self.err(path, f"invalid type {s!r}")
            return None
        found = self.custom(s, path)
        return json.loads(json.dumps(found)) if found is not None else None

    def value(self, value: Any, path: str, parent: dict[str, Any] | None, key: str) -> dict[str, Any] | None:
        if isinstance(value, dict):
            return self.struct(value, path)
        if not isinstance(value, str):
            self.err(path, f"expected a type string or a nested map, got {type(value).__name__} {value!r}")
            return None
        type_part, sep, marker_part = value.partition("|")
        schema = self.type_expr(type_part, path)
        if schema is None:
            return None
        if sep:
            try:
                markers = _parse_markers(marker_part)
            except ValueError as exc:
                self.err(path, f"bad markers: {exc}")
                return schema
            self.apply_markers(schema, markers, path, parent, key)
        return schema

    def struct(self, d: dict[str, Any], path: str) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": "object", "properties": {}}
        for k, v in d.items():
            sub = self.value(v, format_path([str(k)], path), schema, str(k))
            if sub is not None:
                schema["properties"][str(k)] = sub
        if not schema.get("required"):
            schema.pop("required", None)
        return schema

    def apply_markers(
        self,
        schema: dict[str, Any],
        markers: list[tuple[str, str]],
        path: str,
        parent: dict[str, Any] | None,
        key: str,
    ) -> None:
        t = schema.get("type")
        for name, v in markers:
            try:
                if name == "required":
                    if _parse_bool(v) and parent is not None:
                        parent.setdefault("required", []).append(key)
                elif name == "default":
                    schema["default"] = self.default_value(t, v)
                elif name == "description":
                    schema["description"] = v
                elif name in ("minimum", "maximum"):
                    if t not in ("integer", "number"):
                        raise ValueError(f"{name} is only valid for integer/float, got {t}")
                    schema[name] = float(v)
                elif name == "validation":
                    if not v.strip():
                        raise ValueError("empty validation rule")
                    err = _compile_error(v, ("self", "oldSelf"))
                    if err:
                        raise ValueError(f"validation rule does not compile: {err}")
                    schema.setdefault("x-kubernetes-validations", []).append({"rule": v})
                elif name == "immutable":
                    if _parse_bool(v):
                        schema.setdefault("x-kubernetes-validations", []).append({"rule": "self == oldSelf"})
                elif name == "enum":
                    if t not in ("string", "integer"):
                        raise ValueError(f"enum is only supported for string and integer, got {t}")
                    vals = [x.strip() for x in v.split(",")]
                    if any(not x for x in vals):
                        raise ValueError("empty enum values are not allowed")
                    schema["enum"] = [int(x) for x in vals] if t == "integer" else vals
                elif name in ("minLength", "maxLength", "pattern"):
                    if t != "string":
                        raise ValueError(f"{name} is only valid for string types, got {t}")
                    if name == "pattern":
                        if not v:
                            raise ValueError("empty pattern")
                        re.compile(v)
                        schema["pattern"] = v
                    else:
                        schema[name] = int(v)
                elif name in ("minItems", "maxItems", "uniqueItems", "listType", "listMapKey"):
                    if t != "array":
                        raise ValueError(f"{name} is only valid for array types, got {t}")
                    if name == "uniqueItems":
                        if _parse_bool(v):
                            schema["x-kubernetes-list-type"] = "set"
                    elif name == "listType":
                        if v not in ("atomic", "set", "map"):
                            raise ValueError(f"listType must be atomic, set or map, got {v!r}")
                        schema["x-kubernetes-list-type"] = v
                    elif name == "listMapKey":
                        schema.setdefault("x-kubernetes-list-map-keys", []).append(v)
                    else:
                        schema[name] = int(v)
            except (ValueError, re.error) as exc:
                self.err(path, f"marker {name}={v!r}: {exc}")
        if schema.get("x-kubernetes-list-map-keys") and schema.get("x-kubernetes-list-type") != "map":
            self.err(path, "listMapKey needs listType=map")

    @staticmethod
    def default_value(t: Any, v: str) -> Any:
        if t == "string":
            return v
        if t == "integer":
            return int(v)
        if t == "number":
            return float(v)
        if t == "boolean":
            if v not in ("true", "false"):
                raise ValueError("boolean default must be true or false")
            return v == "true"
        try:
            return json.loads(v)
        except json.JSONDecodeError as exc:
            raise ValueError(f"default for {t} must be JSON: {exc}") from None


def simpleschema_to_openapi(
    spec: Any, types: Any = None, base: str = "spec.schema"
) -> tuple[dict[str, Any], list[Problem]]:
    """SimpleSchema `schema.spec` (+ `schema.types`) → (structural OpenAPI object schema, problems)."""
    problems: list[Problem] = []
    ss = _SimpleSchema(types or {}, base, problems)
    if isinstance(types, dict):
        for name in types:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(name)) or name in _ATOMIC or name == "object":
                ss.err(format_path([str(name)], f"{base}.types"), f"invalid custom type name {name!r}")
            else:
                ss.custom(str(name), f"{base}.types")
    elif types is not None:
        ss.err(f"{base}.types", "types must be a map")
    if spec is None:
        spec = {}
    if not isinstance(spec, dict):
        ss.err(f"{base}.spec", "schema.spec must be a map")
        return {"type": "object", "properties": {}}, problems
    return ss.struct(spec, f"{base}.spec"), problems


def rgd_instance_schema(rgd: dict[str, Any]) -> tuple[str, str, dict[str, Any], str] | None:
    """(apiVersion, kind, CRD-style root schema, scope) of the CRD kro would generate for this RGD, or None.

    Lets the runner validate instances of the RGD (and RGD templates nesting it) like any other CR.
    """
    schema = ((rgd.get("spec") or {}).get("schema")) if isinstance(rgd, dict) else None
    if not isinstance(schema, dict) or not schema.get("kind") or not schema.get("apiVersion"):
        return None
    spec_schema, _ = simpleschema_to_openapi(schema.get("spec"), schema.get("types"))
    root = {
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": spec_schema,
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
    }
    group = schema.get("group") or "kro.run"
    return (
        f"{group}/{schema['apiVersion']}",
        str(schema["kind"]),
        root,
        str(schema.get("scope") or "Namespaced"),
    )


# ---------------------------------------------------------------------------------------------------------
# CEL environment (cel-expr-python).
# ---------------------------------------------------------------------------------------------------------
_FN_SPECS: list[tuple[str, tuple[int, ...], str, bool]] = [
    # name, arities (excluding receiver), return, is_member
    ("lists.range", (1, 2), "list_int", False),
    ("lists.setAtIndex", (3,), "dyn", False),
    ("lists.insertAtIndex", (3,), "dyn", False),
    ("lists.removeAtIndex", (2,), "dyn", False),
    ("hash.fnv64a", (1,), "string", False),
    ("hash.sha256", (1,), "string", False),
    ("hash.md5", (1,), "string", False),
    ("json.marshal", (1,), "string", False),
    ("json.unmarshal", (1,), "dyn", False),
    ("random.seededString", (2,), "string", False),
    ("random.seededInt", (2, 3), "int", False),
    ("map.merge", (2,), "dyn", False),
    ("map.deepMerge", (2,), "dyn", False),
    ("omit", (0,), "dyn", False),
    ("runtime.newCondition", (1, 2, 3, 4, 5), "dyn", False),
    ("runtime.condition", (1, 2, 3), "dyn", False),
    ("url", (1,), "dyn", False),
    ("isURL", (1,), "bool", False),
    ("ip", (1,), "dyn", False),
    ("isIP", (1,), "bool", False),
    ("cidr", (1,), "dyn", False),
    ("isCIDR", (1,), "bool", False),
    ("quantity", (1,), "dyn", False),
    ("isQuantity", (1,), "bool", False),
    ("semver", (1, 2), "dyn", False),
    ("isSemver", (1, 2), "bool", False),
    ("merge", (1,), "dyn", True),
    ("deepMerge", (1,), "dyn", True),
    ("flatten", (0, 1), "dyn", True),
    ("slice", (2,), "dyn", True),
    ("sort", (0,), "dyn", True),
    ("sortBy", (2,), "dyn", True),
    ("distinct", (0,), "dyn", True),
    ("transformList", (2, 3), "dyn", True),
    ("transformMap", (2, 3), "dyn", True),
    ("transformMapEntry", (2, 3), "dyn", True),
    ("all", (3,), "bool", True),
    ("exists", (3,), "bool", True),
    ("existsOne", (2, 3), "bool", True),
    ("exists_one", (3,), "bool", True),
    ("find", (1,), "string", True),
    ("findAll", (1, 2), "dyn", True),
    ("isSorted", (0,), "bool", True),
    ("sum", (0,), "dyn", True),
    ("min", (0,), "dyn", True),
    ("max", (0,), "dyn", True),
    ("indexOf", (1,), "int", True),
    ("lastIndexOf", (1,), "int", True),
    ("getScheme", (0,), "string", True),
    ("getHost", (0,), "string", True),
    ("getHostname", (0,), "string", True),
    ("getPort", (0,), "string", True),
    ("getEscapedPath", (0,), "string", True),
    ("getQuery", (0,), "dyn", True),
    ("family", (0,), "int", True),
    ("isUnspecified", (0,), "bool", True),
    ("isLoopback", (0,), "bool", True),
    ("isLinkLocalMulticast", (0,), "bool", True),
    ("isLinkLocalUnicast", (0,), "bool", True),
    ("isGlobalUnicast", (0,), "bool", True),
    ("isCanonical", (0,), "bool", True),
    ("containsIP", (1,), "bool", True),
    ("containsCIDR", (1,), "bool", True),
    ("prefixLength", (0,), "int", True),
    ("masked", (0,), "dyn", True),
    ("asInteger", (0,), "int", True),
    ("asApproximateFloat", (0,), "double", True),
    ("isInteger", (0,), "bool", True),
    ("sign", (0,), "int", True),
    ("add", (1,), "dyn", True),
    ("sub", (1,), "dyn", True),
    ("isGreaterThan", (1,), "bool", True),
    ("isLessThan", (1,), "bool", True),
    ("compareTo", (1,), "int", True),
    ("major", (0,), "int", True),
    ("minor", (0,), "int", True),
    ("patch", (0,), "int", True),
    ("reverse", (0,), "dyn", True),
]

_CEL_STATE: dict[str, Any] = {}
_ENV_CACHE: dict[tuple[str, ...], Any] = {}


def _cel() -> Any:
    """Import cel-expr-python and build the extension/function lists once; drop any declaration it rejects."""
    if "cel" in _CEL_STATE:
        return _CEL_STATE["cel"]
    from cel_expr_python import cel
    from cel_expr_python.ext import ext_bindings, ext_encoders, ext_math, ext_optional, ext_strings

    t = cel.Type
    rets = {
        "dyn": t.DYN,
        "string": t.STRING,
        "bool": t.BOOL,
        "int": t.INT,
        "double": t.DOUBLE,
        "list_int": t.List(t.INT),
    }

    def exts() -> list[Any]:
        return [
            ext_optional.ExtOptional(),
            ext_strings.ExtStrings(),
            ext_bindings.ExtBindings(),
            ext_encoders.ExtEncoders(),
            ext_math.ExtMath(),
        ]

    decls = []
    for name, arities, ret, member in _FN_SPECS:
        ovs = [
            cel.Overload(
                f"kro_{name.replace('.', '_')}_{'m' if member else 'g'}{n}",
                rets[ret],
                [t.DYN] * (n + (1 if member else 0)),
                is_member=member,
            )
            for n in arities
        ]
        decl = cel.FunctionDecl(name, ovs)
        try:
            cel.NewEnv(extensions=exts(), functions=[*decls, decl]).compile("1")
        except Exception:  # noqa: BLE001 - clashes with a built-in/extension overload: that one covers it
            continue
        decls.append(decl)
    _CEL_STATE.update(cel=cel, exts=exts, decls=decls)
    return cel


def _env(names: tuple[str, ...]) -> Any:
    env = _ENV_CACHE.get(names)
    if env is None:
        cel = _cel()
        env = cel.NewEnv(
            variables={n: cel.Type.DYN for n in names},
            extensions=_CEL_STATE["exts"](),
            functions=_CEL_STATE["decls"],
        )
        if len(_ENV_CACHE) > 512:
            _ENV_CACHE.clear()
        _ENV_CACHE[names] = env
    return env


_TWO_VAR = re.compile(
    r"\.(?:transformList|transformMap|transformMapEntry|all|exists|existsOne|exists_one|sortBy)\(\s*"
    r"([A-Za-z_]\w*)\s*,\s*(?:([A-Za-z_]\w*)\s*,)?"
)


@dataclass
class _Compiled:
    rtype: str | None = None  # cel type name: BOOL, STRING, INT, LIST<...>, DYN, ...
    syntax: str | None = None
    unknown: list[str] = field(default_factory=list)
    other: str | None = None


def _compile(src: str, names: tuple[str, ...]) -> _Compiled:
    """Compile with every variable DYN. Comprehension variables of macros cel-cpp lacks (two-variable
    comprehensions, sortBy) are declared too, so only genuinely unknown identifiers are reported."""
    extra = {n for m in _TWO_VAR.finditer(src) for n in m.groups() if n}
    all_names = tuple(sorted(set(names) | extra))
    try:
        expr = _env(all_names).compile(src)
    except Exception as exc:  # noqa: BLE001 - cel-cpp reports every failure as RuntimeError text
        return _parse_cel_error(str(exc))
    try:
        return _Compiled(rtype=expr.return_type().name())
    except Exception:  # noqa: BLE001
        return _Compiled(rtype="DYN")


def _parse_cel_error(text: str) -> _Compiled:
    out = _Compiled()
    msgs = re.findall(r"ERROR: <input>:\d+:\d+: (.*)", text) or [text.splitlines()[0] if text else "error"]
    others = []
    for m in msgs:
        m = m.replace(" [INVALID_ARGUMENT]", "")
        u = re.match(r"undeclared reference to '([^']+)'", m)
        if u:
            root = u.group(1).split(".")[0]
            if root not in out.unknown:
                out.unknown.append(root)
        elif m.startswith("Syntax error"):
            out.syntax = out.syntax or m
        elif "*error*" not in m:
            others.append(m)
    if others:
        out.other = "; ".join(others[:2])
    return out


def _compile_error(src: str, names: tuple[str, ...]) -> str | None:
    c = _compile(src, names)
    if c.syntax:
        return c.syntax
    if c.unknown:
        return f"references unknown identifiers: {', '.join(c.unknown)}"
    return c.other


def _json_type(cel_type: str | None) -> str | None:
    if not cel_type:
        return None
    if cel_type == "BOOL":
        return "boolean"
    if cel_type in ("INT", "UINT"):
        return "integer"
    if cel_type == "DOUBLE":
        return "number"
    if cel_type == "STRING":
        return "string"
    if cel_type.startswith("LIST"):
        return "array"
    if cel_type.startswith("MAP"):
        return "object"
    return None


def _compatible(actual: str, expected: str) -> bool:
    return actual == expected or (actual == "integer" and expected == "number")


# ---------------------------------------------------------------------------------------------------------
# The checker.
# ---------------------------------------------------------------------------------------------------------
@dataclass
class _Res:
    index: int
    id: str
    path: str
    node: dict[str, Any] | None = None  # what `${id}` is, for walking (array for collections)
    element: dict[str, Any] | None = None  # one item's schema (template root)
    iterators: list[str] = field(default_factory=list)
    collection: bool = False
    deps: set[str] = field(default_factory=set)


@dataclass
class _Ctx:
    where: str  # template | readyWhen | includeWhen | forEach | status
    res: _Res | None
    names: tuple[str, ...]
    roots: dict[str, dict[str, Any] | None]  # variable → schema node (None = DYN)


class _Checker:
    def __init__(self, rgd: dict[str, Any], index: CrdIndex):
        self.rgd = rgd
        self.index = index
        self.problems: list[Problem] = []
        self.resources: list[_Res] = []
        self.by_id: dict[str, _Res] = {}
        self.schema_node: dict[str, Any] = {}

    def add(self, path: str, msg: str, code: str, severity: str = "error") -> None:
        self.problems.append(Problem(path, msg, severity, code))

    # -- structure -----------------------------------------------------------------------------------------
    def run(self) -> list[Problem]:
        spec = self.rgd.get("spec") if isinstance(self.rgd, dict) else None
        if not isinstance(spec, dict):
            self.add("spec", "missing spec", "shape")
            return self.problems
        schema = spec.get("schema")
        if not isinstance(schema, dict):
            self.add("spec.schema", "missing schema", "shape")
            schema = {}
        else:
            self.check_schema_header(schema)
        spec_schema, ss_problems = simpleschema_to_openapi(schema.get("spec"), schema.get("types"))
        self.problems.extend(ss_problems)
        self.schema_node = {
            "type": "object",
            "properties": {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "metadata": OBJECT_META_SCHEMA,
                "spec": spec_schema,
            },
        }
        resources = spec.get("resources") or []
        if not isinstance(resources, list):
            self.add("spec.resources", "resources must be a list", "shape")
            resources = []
        for i, r in enumerate(resources):
            self.check_resource_shape(i, r, schema)
        self.check_expressions(resources, schema)
        self.check_cycles()
        return self.problems

    def check_schema_header(self, schema: dict[str, Any]) -> None:
        av, kind = schema.get("apiVersion"), schema.get("kind")
        if not isinstance(av, str) or not VERSION_RE.match(av):
            self.add("spec.schema.apiVersion", f"{av!r} does not match {VERSION_RE.pattern}", "schema-header")
        if not isinstance(kind, str) or not KIND_RE.match(kind):
            self.add(
                "spec.schema.kind", f"{kind!r} is not UpperCamelCase ({KIND_RE.pattern})", "schema-header"
            )
        group = schema.get("group")
        if group is not None and (
            not isinstance(group, str) or not re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", group)
        ):
            self.add("spec.schema.group", f"{group!r} is not a DNS subdomain", "schema-header")
        scope = schema.get("scope")
        if scope is not None and scope not in ("Namespaced", "Cluster"):
            self.add("spec.schema.scope", f"{scope!r} must be Namespaced or Cluster", "schema-header")
        status = schema.get("status")
        if isinstance(status, dict):
            for reserved in ("state", "conditions"):
                if reserved in status:
                    self.add(
                        f"spec.schema.status.{reserved}",
                        f"status.{reserved} is reserved (kro overwrites it)",
                        "reserved",
                        "warning",
                    )

    def check_id(self, name: Any, path: str, what: str) -> bool:
        if not isinstance(name, str) or not name:
            self.add(path, f"missing {what}", "bad-id")
            return False
        if not ID_RE.match(name):
            self.add(path, f"{what} {name!r} must be lowerCamelCase ({ID_RE.pattern})", "bad-id")
            return False
        if name in RESERVED_WORDS:
            self.add(path, f"{what} {name!r} is a reserved word", "reserved-id")
            return False
        return True

    def check_resource_shape(self, i: int, r: Any, schema: dict[str, Any]) -> None:
        path = f"spec.resources[{i}]"
        if not isinstance(r, dict):
            self.add(path, "resource must be a map", "shape")
            return
        rid = r.get("id")
        ok = self.check_id(rid, f"{path}.id", "id")
        if ok and rid in self.by_id:
            self.add(f"{path}.id", f"duplicate id {rid!r} (first at {self.by_id[rid].path})", "duplicate-id")
            ok = False
        res = _Res(i, rid if isinstance(rid, str) else f"#{i}", path)
        if ok:
            self.by_id[rid] = res
        self.resources.append(res)

        has_t, has_e = "template" in r, "externalRef" in r
        if has_t == has_e:
            self.add(path, "exactly one of template or externalRef is required", "template-or-external")
        if has_t:
            self.check_template(res, r.get("template"), f"{path}.template", schema)
        elif has_e:
            self.check_external(res, r.get("externalRef"), f"{path}.externalRef")

        fe = r.get("forEach")
        if fe is not None:
            if has_e:
                self.add(f"{path}.forEach", "forEach cannot be combined with externalRef", "foreach")
            if not isinstance(fe, list) or not fe:
                self.add(f"{path}.forEach", "forEach must be a non-empty list", "foreach")
            else:
                if len(fe) > MAX_FOREACH_DIMENSIONS:
                    self.add(f"{path}.forEach", f"more than {MAX_FOREACH_DIMENSIONS} dimensions", "foreach")
                for k, entry in enumerate(fe):
                    ep = f"{path}.forEach[{k}]"
                    if not isinstance(entry, dict) or len(entry) != 1:
                        self.add(ep, "each forEach entry must have exactly one iterator: value", "foreach")
                        continue
                    (it,) = entry
                    if self.check_id(it, ep, "forEach iterator"):
                        if it in res.iterators:
                            self.add(ep, f"duplicate iterator {it!r}", "foreach")
                        res.iterators.append(it)
                res.collection = True
        if res.collection and res.element is not None:
            res.node = {"type": "array", "items": res.element}
        for key in ("readyWhen", "includeWhen"):
            v = r.get(key)
            if v is not None and not isinstance(v, list):
                self.add(f"{path}.{key}", f"{key} must be a list of ${{...}} strings", "shape")

    def check_template(self, res: _Res, tpl: Any, path: str, schema: dict[str, Any]) -> None:
        if not isinstance(tpl, dict):
            self.add(path, "template must be a map", "shape")
            return
        for f in ("apiVersion", "kind"):
            if not isinstance(tpl.get(f), str) or not tpl.get(f):
                self.add(f"{path}.{f}", f"template needs a string {f}", "shape")
        md = tpl.get("metadata")
        if not isinstance(md, dict):
            self.add(f"{path}.metadata", "template needs metadata (a map)", "shape")
            md = {}
        for section in ("labels", "annotations"):
            for k in md.get(section) or {}:
                if isinstance(k, str) and k.startswith(KRO_LABEL_PREFIXES):
                    self.add(
                        f"{path}.metadata.{section}[{k!r}]",
                        f"{k!r}: kro.run/ keys are owned by kro",
                        "kro-label",
                    )
        av, kind = tpl.get("apiVersion"), tpl.get("kind")
        if not isinstance(av, str) or not isinstance(kind, str):
            return
        for p in validate_object(tpl, self.index, template=True, path_prefix=path, require_metadata=False):
            if p.code == "no-crd":
                p.message += " (kro: schema not found; the CRD must be installed before the RGD)"
            self.problems.append(p)
        raw = self.index.raw_schema(av, kind)
        res.element = _resource_node(raw)
        res.node = res.element
        scope = self.index.scope(av, kind)
        if scope == "Cluster" and "namespace" in md:
            self.add(
                f"{path}.metadata.namespace", f"{kind} is cluster-scoped: namespace must not be set", "scope"
            )
        if scope == "Namespaced" and schema.get("scope") == "Cluster" and "namespace" not in md:
            self.add(
                f"{path}.metadata.namespace",
                "a Cluster-scoped RGD must set metadata.namespace on namespaced children",
                "scope",
            )

    def check_external(self, res: _Res, ext: Any, path: str) -> None:
        if not isinstance(ext, dict):
            self.add(path, "externalRef must be a map", "shape")
            return
        for f in ("apiVersion", "kind"):
            if not isinstance(ext.get(f), str):
                self.add(f"{path}.{f}", f"externalRef needs a string {f}", "shape")
        md = ext.get("metadata")
        if not isinstance(md, dict):
            self.add(f"{path}.metadata", "externalRef needs metadata", "shape")
            return
        if ("name" in md) == ("selector" in md):
            self.add(
                f"{path}.metadata",
                "externalRef needs exactly one of metadata.name / metadata.selector",
                "shape",
            )
        av, kind = ext.get("apiVersion"), ext.get("kind")
        if isinstance(av, str) and isinstance(kind, str):
            raw = self.index.raw_schema(av, kind)
            if raw is None:
                self.add(path, f"no CRD for {av} {kind} (kro: schema not found)", "no-crd")
            res.element = _resource_node(raw)
            res.node = res.element
            if "selector" in md:
                res.collection = True
                res.node = {"type": "array", "items": res.element} if res.element else None

    # -- expressions ---------------------------------------------------------------------------------------
    def ctx(self, where: str, res: _Res | None) -> _Ctx:
        roots: dict[str, dict[str, Any] | None] = {"schema": self.schema_node}
        if where == "readyWhen" and res is not None:
            # kro declares only the resource itself (and `each` for collections) for readyWhen.
            roots = {res.id: res.node}
            if res.collection:
                roots["each"] = res.element
        else:
            for r in self.by_id.values():
                roots[r.id] = r.node
            if res is not None and where in ("template", "includeWhen"):
                for it in res.iterators:
                    roots[it] = None
        return _Ctx(where, res, tuple(sorted(roots)), roots)

    def check_expressions(self, resources: list[Any], schema: dict[str, Any]) -> None:
        for res, r in zip(self.resources, resources, strict=False):
            if not isinstance(r, dict):
                continue
            path = res.path
            if isinstance(r.get("template"), dict):
                c = self.ctx("template", res)
                tpl = r["template"]
                self.walk_values(tpl, f"{path}.template", res.element, c)
            if isinstance(r.get("externalRef"), dict):
                self.walk_values(r["externalRef"], f"{path}.externalRef", None, self.ctx("template", None))
            for key in ("readyWhen", "includeWhen"):
                conds = r.get(key)
                if isinstance(conds, list):
                    c = self.ctx(key, res)
                    for k, cond in enumerate(conds):
                        self.check_condition(cond, f"{path}.{key}[{k}]", c)
            fe = r.get("forEach")
            if isinstance(fe, list):
                c = self.ctx("forEach", res)
                for k, entry in enumerate(fe):
                    if isinstance(entry, dict) and len(entry) == 1:
                        (it, v) = next(iter(entry.items()))
                        self.check_standalone(v, format_path([it], f"{path}.forEach[{k}]"), c, "array")
        status = schema.get("status")
        if isinstance(status, dict):
            self.walk_values(status, "spec.schema.status", None, self.ctx("status", None), status_mode=True)

    def check_condition(self, cond: Any, path: str, c: _Ctx) -> None:
        if not isinstance(cond, str):
            self.add(path, f"{c.where} entries must be strings", "shape")
            return
        self.check_standalone(cond, path, c, "boolean")

    def check_standalone(self, value: Any, path: str, c: _Ctx, want: str) -> None:
        """readyWhen/includeWhen/forEach values must be exactly one `${...}` returning `want`."""
        if not isinstance(value, str):
            self.add(path, "expected a ${...} expression string", "shape")
            return
        exprs, err = extract_expressions(value)
        if err:
            self.add(path, err, "cel-extract")
            return
        if not _is_standalone(value, exprs):
            self.add(
                path,
                f"{c.where} must be a single standalone ${{...}} expression (check for a trailing newline: use |- )",
                "not-standalone",
            )
            return
        rtype, leaf = self.check_expr(exprs[0], path, c, with_leaf=True)
        got = _json_type(rtype) or _schema_type(leaf)
        rtype = rtype if _json_type(rtype) else got
        if got is not None and got != want:
            self.add(path, f"{c.where} expression must return {_CEL_NAME[want]}, returns {rtype}", "cel-type")

    def walk_values(
        self, value: Any, path: str, node: dict[str, Any] | None, c: _Ctx, status_mode: bool = False
    ) -> None:
        if isinstance(value, dict):
            props = (node or {}).get("properties") if isinstance(node, dict) else None
            addl = (node or {}).get("additionalProperties") if isinstance(node, dict) else None
            for k, v in value.items():
                child = None
                if isinstance(props, dict) and k in props:
                    child = props[k]
                elif isinstance(addl, dict):
                    child = addl
                self.walk_values(v, format_path([str(k)], path), child, c, status_mode)
        elif isinstance(value, list):
            items = node.get("items") if isinstance(node, dict) else None
            for k, v in enumerate(value):
                self.walk_values(
                    v, f"{path}[{k}]", items if isinstance(items, dict) else None, c, status_mode
                )
        elif isinstance(value, str) and "${" in value:
            self.check_field_string(value, path, node, c, status_mode)

    def check_field_string(
        self, value: str, path: str, node: dict[str, Any] | None, c: _Ctx, status_mode: bool
    ) -> None:
        exprs, err = extract_expressions(value)
        if err:
            self.add(path, err, "cel-extract")
            return
        standalone = _is_standalone(value, exprs)
        for e in exprs:
            rtype, leaf = self.check_expr(e, path, c, with_leaf=True)
            got = _json_type(rtype) or _schema_type(leaf)
            if standalone:
                want = _schema_type(node)
                if (
                    got
                    and want
                    and not _compatible(got, want)
                    and not (node or {}).get("x-kubernetes-preserve-unknown-fields")
                ):
                    self.add(path, f"expression returns {got} but the field expects {want}", "cel-type")
            elif got and got != "string":
                self.add(
                    path,
                    f"${{{e}}} returns {got}; in a string template every expression must return a string "
                    "(wrap it in string(...))",
                    "cel-type",
                )

    def check_expr(self, src: str, path: str, c: _Ctx, with_leaf: bool = False) -> Any:
        """Compile, report identifier/syntax/type problems, record dependencies, check field existence.

        Returns the CEL return type name (or (type, leaf schema) with `with_leaf`)."""
        comp = _compile(src, c.names)
        leaf: dict[str, Any] | None = None
        if comp.syntax:
            self.add(path, f"CEL syntax error in ${{{src}}}: {comp.syntax}", "cel-syntax")
            return (None, None) if with_leaf else None
        if comp.unknown:
            extra = ""
            if c.where == "readyWhen" and any(u in self.by_id or u == "schema" for u in comp.unknown):
                extra = " (readyWhen may only reference its own resource" + (
                    " or each)" if c.res and c.res.collection else ")"
                )
            self.add(
                path,
                f"${{{src}}} references unknown identifiers: {', '.join(comp.unknown)}{extra}",
                "unknown-identifier",
            )
        if comp.other:
            self.add(path, f"CEL type error in ${{{src}}}: {comp.other}", "cel-type")
        toks = _lex(src)
        bindings: list[tuple[str, int, int, dict[str, Any] | None]] = []
        for ch in _chains(toks):
            node, known = self.root_node(ch, bindings, c)
            if not known:
                continue
            if ch.root in self.by_id and c.res is not None and c.where != "readyWhen":
                c.res.deps.add(ch.root)
            elif ch.root in self.by_id and c.res is None and c.where == "status":
                pass
            status, k, _parent = _walk(node, ch.steps) if node is not None else ("ok", -1, None)
            if status != "ok" and not ch.soft:
                shown = ch.root + "".join(
                    f"[{s}]" if isinstance(s, int) else ("[*]" if s is _ANY_INDEX else f".{s}")
                    for s in ch.steps[: k + 1]
                )
                if status == "list":
                    msg = f"${{{src}}}: {shown}: no such member {ch.steps[k]!r} on a list" + (
                        " (a forEach/selector collection: use .map(x, x...))" if k == 0 else ""
                    )
                else:
                    msg = f"${{{src}}}: {shown}: no such member {ch.steps[k]!r}" + self.describe_root(ch.root)
                self.add(path, msg, "no-such-member")
                continue
            if status == "ok" and ch.method in _ELEMENT_MACROS and ch.method_open >= 0:
                lst = _walk(node, ch.steps)[2] if node is not None else None
                elem = lst.get("items") if isinstance(lst, dict) and lst.get("type") == "array" else None
                o = ch.method_open
                if o + 2 < len(toks) and toks[o + 1].kind == "id" and toks[o + 2].val == ",":
                    bindings.append((toks[o + 1].val, o, _match_close(toks, o), elem))
            if ch.only and status == "ok" and not ch.soft:
                leaf = _walk(node, ch.steps)[2] if node is not None else None
        return (comp.rtype, leaf) if with_leaf else comp.rtype

    def root_node(
        self, ch: _Chain, bindings: list[tuple[str, int, int, dict[str, Any] | None]], c: _Ctx
    ) -> tuple[dict[str, Any] | None, bool]:
        for name, start, end, node in reversed(bindings):
            if name == ch.root and start < ch.pos <= end:
                return node, True
        if ch.root in c.roots:
            return c.roots[ch.root], True
        return None, False

    def describe_root(self, root: str) -> str:
        if root == "schema":
            return " in the RGD's schema"
        r = self.by_id.get(root)
        if r is None:
            return ""
        return f" in the schema of resource {root!r}"

    def check_cycles(self) -> None:
        g: nx.DiGraph = nx.DiGraph()
        for r in self.by_id.values():
            g.add_node(r.id)
            for d in r.deps:
                g.add_edge(r.id, d)
        seen: set[frozenset[str]] = set()
        for cycle in nx.simple_cycles(g):
            key = frozenset(cycle)
            if key in seen:
                continue
            seen.add(key)
            first = min(cycle, key=lambda i: self.by_id[i].index)
            k = cycle.index(first)
            ordered = cycle[k:] + cycle[:k]
            self.add(
                self.by_id[first].path,
                f"circular dependency: {' -> '.join([*ordered, first])}",
                "cycle",
            )
            if len(seen) > 50:
                break


_CEL_NAME = {"boolean": "bool", "list": "a list", "array": "a list", "string": "string"}


def check_rgd(rgd: dict[str, Any], index: CrdIndex) -> list[Problem]:
    """All of kro's static RGD build checks that can run offline. Paths are relative to the RGD object
    (`spec.resources[3].template.spec.vpcID`). The RGD envelope itself (against the RGD CRD) is *not*
    validated here: pass the object to `validate_object` for that (the runner does both)."""
    return _Checker(rgd, index).run()
