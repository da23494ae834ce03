"""A small, safe evaluator for Terraform expressions (the compact AST from `hcl_parse.to_ast`).

Why: locals, variable defaults and module inputs decide names, CIDRs and tags that the mapping
stage needs as *values* (`"${var.env}-eks"` → `"prod-eks"`), but running Terraform is not an
option offline. This evaluator covers the static subset — literals, `var.*`, `local.*`, child
module outputs, templates, collections, operators, `for` expressions and a handful of pure
functions — and reports everything else as *unknown* rather than guessing.

Two failure kinds are kept apart on purpose:
* `Unknown` — the value depends on something we cannot know (a resource attribute, `each.key`,
  an unsupported function). It propagates through everything, including `try()`, because
  Terraform would also produce an unknown there, not the fallback.
* `EvalError` — the expression is genuinely wrong for the known inputs (missing map key, type
  mismatch). `try()`/`can()` catch it, just like Terraform.

Nothing here ever executes user code; evaluation is bounded by the AST size, a depth guard and size limits
(`MAX_STRING`, `MAX_ITEMS`, `MAX_INT_BITS`, `MAX_RANGE`) that every growing operation checks *before* it
allocates: `range(60000000)` built a 2.4 GB list before its length was checked, and templates, `join`,
`replace`, `format` widths, `concat`, `flatten` and `jsonencode` over shared sub-lists can each grow a value
exponentially through a chain of locals. A value over a limit is `Unknown` (tf2kro cannot know it), like any
other value it does not evaluate.
"""

from __future__ import annotations

import ipaddress
import json
import math
import re
from collections.abc import Callable
from typing import Any


class Unknown(Exception):
    """The value cannot be determined statically."""


class EvalError(Exception):
    """The expression fails for the known inputs (what Terraform's try() would catch)."""


class Namespace:
    """A lazily-resolved root object such as `var`, `local` or `module`."""

    def __init__(self, name: str, getter: Callable[[str], Any]):
        self.name = name
        self.getter = getter

    def get(self, key: str) -> Any:
        return self.getter(key)


class Context:
    """Name resolution for one module: `roots` maps root names to values or Namespaces;
    `scope` holds locally bound names (for-expression iterators)."""

    def __init__(self, roots: dict[str, Any], scope: dict[str, Any] | None = None, depth: int = 0):
        self.roots = roots
        self.scope = scope or {}
        self.depth = depth

    def child(self, bindings: dict[str, Any]) -> Context:
        return Context(self.roots, {**self.scope, **bindings}, self.depth)


MAX_DEPTH = 200
#: Largest string an expression may produce (characters). Tags, names and policies are far smaller.
MAX_STRING = 1 << 20
#: Largest list/object an expression may produce (elements, counted through nested lists for flatten/jsonencode).
MAX_ITEMS = 100_000
#: Largest integer (bits): Terraform numbers are 512-bit floats, so anything larger is not a config value.
MAX_INT_BITS = 1024
MAX_RANGE = 1024


def _too_large(what: str) -> Unknown:
    return Unknown(f"{what} exceeds tf2kro's evaluation limits")


def _check_len(n: int, limit: int, what: str) -> None:
    if n > limit:
        raise _too_large(what)


def _weight(v: Any, budget: int) -> int:
    """Characters + 8 per element of `v` (about its JSON size), counted through shared sub-values, stopping as soon as `budget` is
    exceeded (so the count itself is bounded: `[l, l]` nested 40 deep is 2**40 logically, one object really)."""
    total = 0
    stack = [v]
    while stack:
        x = stack.pop()
        if isinstance(x, str):
            total += len(x) + 8
        elif isinstance(x, list):
            total += 8 * len(x) + 8
            stack.extend(x)
        elif isinstance(x, dict):
            total += 8 * len(x) + 8
            for k, val in x.items():
                total += len(k)
                stack.append(val)
        else:
            total += 8
        if total > budget:
            return total
    return total


def _number(v: int | float) -> int | float:
    if isinstance(v, int) and v.bit_length() > MAX_INT_BITS:
        raise _too_large("number")
    if isinstance(v, float) and not math.isfinite(v):
        raise _too_large("number")
    return v


def evaluate(ast: list, ctx: Context) -> Any:
    """Evaluate `ast`; raises Unknown or EvalError (see module docstring)."""
    if ctx.depth > MAX_DEPTH:
        raise Unknown("expression too deep")
    kind = ast[0]
    if kind == "lit":
        return ast[1]
    if kind == "tmpl":
        parts = []
        size = 0
        for ast_part in ast[1]:
            part = ast_part if isinstance(ast_part, str) else _to_str(evaluate(ast_part, ctx))
            size += len(part)
            _check_len(size, MAX_STRING, "template result")
            parts.append(part)
        return "".join(parts)
    if kind == "name":
        name = ast[1]
        if name in ctx.scope:
            return ctx.scope[name]
        if name in ctx.roots:
            return ctx.roots[name]
        raise Unknown(f"unknown name {name}")
    if kind == "attr":
        base = evaluate(ast[1], ctx)
        return _get_attr(base, ast[2])
    if kind == "index":
        base = evaluate(ast[1], ctx)
        return _index(base, evaluate(ast[2], ctx))
    if kind == "splat":
        base = evaluate(ast[1], ctx)
        if base is None:
            return []
        items = base if isinstance(base, list) else [base]
        out = []
        for item in items:
            for op in ast[2]:
                item = _get_attr(item, op[1]) if op[0] == "attr" else _index(item, evaluate(op[1], ctx))
            out.append(item)
        return out
    if kind == "tuple":
        return [evaluate(a, ctx) for a in ast[1]]
    if kind == "object":
        out_obj: dict[str, Any] = {}
        for k, v in ast[1]:
            key = evaluate(k, ctx)
            if not isinstance(key, str | int | float | bool):
                raise EvalError("object key must be a string")
            out_obj[_to_str(key)] = evaluate(v, ctx)
        return out_obj
    if kind == "cond":
        c = evaluate(ast[1], ctx)
        if not isinstance(c, bool):
            raise EvalError("condition is not a bool")
        return evaluate(ast[2] if c else ast[3], ctx)
    if kind == "bin":
        return _binary(ast[1], ast[2], ast[3], ctx)
    if kind == "un":
        v = evaluate(ast[2], ctx)
        if ast[1] == "!":
            if not isinstance(v, bool):
                raise EvalError("! needs a bool")
            return not v
        return -_num(v)
    if kind == "call":
        return _call(ast[1], ast[2], ast[3], ctx)
    if kind == "for":
        return _for(ast, ctx)
    raise Unknown(f"unsupported expression {ast[1] if len(ast) > 1 else kind}")


def try_evaluate(ast: list | None, ctx: Context) -> tuple[bool, Any]:
    """(True, value) when the expression evaluates, else (False, None). Never raises."""
    if ast is None:
        return False, None
    try:
        return True, evaluate(ast, ctx)
    except (Unknown, EvalError, RecursionError):
        return False, None
    except Exception:  # noqa: BLE001 - a bug in a builtin must not break loading
        return False, None


# --------------------------------------------------------------------------------------------


def _to_str(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    if isinstance(v, int | float | str):
        return str(v)
    if v is None:
        raise EvalError("null in string template")
    raise EvalError("cannot convert collection to string")


def _num(v: Any) -> int | float:
    if isinstance(v, bool):
        raise EvalError("bool is not a number")
    if isinstance(v, int | float):
        return v
    if isinstance(v, str):
        try:
            return int(v)
        except ValueError:
            try:
                return float(v)
            except ValueError:
                raise EvalError(f"not a number: {v!r}") from None
    raise EvalError("not a number")


def _get_attr(base: Any, name: str) -> Any:
    if isinstance(base, Namespace):
        return base.get(name)
    if isinstance(base, dict):
        if name in base:
            return base[name]
        raise EvalError(f"no attribute {name}")
    if base is None:
        raise EvalError("attribute of null")
    raise EvalError(f"cannot get attribute {name}")


def _index(base: Any, key: Any) -> Any:
    if isinstance(base, Namespace):
        return base.get(_to_str(key))
    if isinstance(base, list):
        try:
            i = int(_num(key))
        except EvalError:
            raise EvalError("list index must be a number") from None
        if 0 <= i < len(base):
            return base[i]
        raise EvalError("index out of range")
    if isinstance(base, dict):
        k = _to_str(key)
        if k in base:
            return base[k]
        raise EvalError(f"no key {k}")
    raise EvalError("cannot index")


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def _binary(op: str, left: list, right: list, ctx: Context) -> Any:
    if op in ("&&", "||"):
        lv = evaluate(left, ctx)
        if not isinstance(lv, bool):
            raise EvalError(f"{op} needs bools")
        if op == "&&" and not lv:
            return False
        if op == "||" and lv:
            return True
        rv = evaluate(right, ctx)
        if not isinstance(rv, bool):
            raise EvalError(f"{op} needs bools")
        return rv
    lv = evaluate(left, ctx)
    rv = evaluate(right, ctx)
    if op == "==":
        return _equal(lv, rv)
    if op == "!=":
        return not _equal(lv, rv)
    a, b = _num(lv), _num(rv)
    if op == "+":
        return _number(a + b)
    if op == "-":
        return _number(a - b)
    if op == "*":
        if isinstance(a, int) and isinstance(b, int) and a.bit_length() + b.bit_length() > MAX_INT_BITS:
            raise _too_large("product")
        return _number(a * b)
    if op == "/":
        if b == 0:
            raise EvalError("division by zero")
        try:
            r = a / b
        except OverflowError:
            raise _too_large("quotient") from None
        return int(_number(r)) if r.is_integer() else _number(r)
    if op == "%":
        if b == 0:
            raise EvalError("modulo by zero")
        return a % b
    if op == "<":
        return a < b
    if op == ">":
        return a > b
    if op == "<=":
        return a <= b
    if op == ">=":
        return a >= b
    raise Unknown(f"operator {op}")


def _iter_pairs(coll: Any) -> list[tuple[Any, Any]]:
    if isinstance(coll, dict):
        return sorted(coll.items())
    if isinstance(coll, list):
        return list(enumerate(coll))
    raise EvalError("for expression over a non-collection")


def _for(ast: list, ctx: Context) -> Any:
    _, kname, vname, coll_ast, key_ast, val_ast, cond_ast, group = ast
    coll = evaluate(coll_ast, ctx)
    is_object = key_ast is not None
    out_list: list = []
    out_obj: dict[str, Any] = {}
    for k, v in _iter_pairs(coll):
        bindings = {vname: v}
        if kname:
            bindings[kname] = k
        inner = ctx.child(bindings)
        if cond_ast is not None:
            c = evaluate(cond_ast, inner)
            if not isinstance(c, bool):
                raise EvalError("for condition is not a bool")
            if not c:
                continue
        if is_object:
            key = _to_str(evaluate(key_ast, inner))
            val = evaluate(val_ast, inner)
            if group:
                out_obj.setdefault(key, []).append(val)
            elif key in out_obj:
                raise EvalError(f"duplicate key {key} in for expression")
            else:
                out_obj[key] = val
        else:
            out_list.append(evaluate(val_ast, inner))
    return out_obj if is_object else out_list


# --------------------------------------------------------------------------------------------
# Functions
# --------------------------------------------------------------------------------------------


def _call(name: str, arg_asts: list, expand: bool, ctx: Context) -> Any:
    if name == "try":
        for a in arg_asts:
            try:
                return evaluate(a, ctx)
            except EvalError:
                continue
        raise EvalError("no try() argument succeeded")
    if name == "can":
        try:
            evaluate(arg_asts[0], ctx)
            return True
        except EvalError:
            return False
    fn = FUNCTIONS.get(name)
    if fn is None:
        raise Unknown(f"function {name}() is not evaluated statically")
    args = [evaluate(a, ctx) for a in arg_asts]
    if expand and args:
        last = args.pop()
        if not isinstance(last, list):
            raise EvalError("... needs a list")
        args.extend(last)
    try:
        return fn(*args)
    except (EvalError, Unknown):
        raise
    except Exception as exc:  # TypeError/ValueError from a builtin → a genuine evaluation error
        raise EvalError(f"{name}(): {exc}") from None


def _merge(*maps: Any) -> dict:
    out: dict[str, Any] = {}
    for m in maps:
        if m is None:
            continue
        if not isinstance(m, dict):
            raise EvalError("merge() needs maps")
        _check_len(len(out) + len(m), MAX_ITEMS, "merge() result")
        out.update(m)
    return out


def _concat(*lists: Any) -> list:
    out: list = []
    for seq in lists:
        if not isinstance(seq, list):
            raise EvalError("concat() needs lists")
        _check_len(len(out) + len(seq), MAX_ITEMS, "concat() result")
        out.extend(seq)
    return out


def _format(fmt: str, *args: Any) -> str:
    """Terraform `format`: %s %d %v %q %f and `%%`; flags beyond width/precision are not needed here."""
    out: list[str] = []
    i = 0
    n = 0
    while i < len(fmt):
        ch = fmt[i]
        if ch != "%":
            out.append(ch)
            i += 1
            continue
        j = i + 1
        while j < len(fmt) and fmt[j] in "0123456789.-+# ":
            j += 1
        if j >= len(fmt):
            raise EvalError("bad format")
        verb, spec = fmt[j], fmt[i + 1 : j]
        i = j + 1
        for width in re.findall(r"[0-9]+", spec):  # `%0999999999d` would allocate a GB before any check
            if len(width) > 7 or int(width) > MAX_STRING:
                raise _too_large("format() width")
        _check_len(sum(len(x) for x in out), MAX_STRING, "format() result")
        if verb == "%":
            out.append("%")
            continue
        if n >= len(args):
            raise EvalError("not enough format arguments")
        v = args[n]
        n += 1
        if verb in ("s", "v"):
            if isinstance(v, list | dict):
                _check_len(_weight(v, MAX_STRING), MAX_STRING, "format() argument")
            out.append(("%" + spec + "s") % (_to_str(v) if not isinstance(v, list | dict) else json.dumps(v)))
        elif verb == "d":
            out.append(("%" + spec + "d") % int(_num(v)))
        elif verb in ("f", "e", "g"):
            out.append(("%" + spec + verb) % float(_num(v)))
        elif verb == "q":
            out.append(json.dumps(_to_str(v)))
        elif verb in ("x", "X", "o", "b"):
            out.append(format(int(_num(v)), spec + verb))
        elif verb == "t":
            out.append(_to_str(bool(v)))
        else:
            raise EvalError(f"format verb %{verb}")
    _check_len(sum(len(x) for x in out), MAX_STRING, "format() result")
    return "".join(out)


def _length(v: Any) -> int:
    if isinstance(v, list | dict | str):
        return len(v)
    raise EvalError("length() of a non-collection")


def _coalesce(*vals: Any) -> Any:
    for v in vals:
        if v is not None and v != "":
            return v
    raise EvalError("coalesce(): no non-null arguments")


def _tolist(v: Any) -> list:
    if not isinstance(v, list):
        raise EvalError("tolist() needs a list or set")
    return list(v)


def _toset(v: Any) -> list:
    if not isinstance(v, list):
        raise EvalError("toset() needs a list")
    _check_len(_weight(v, MAX_STRING), MAX_STRING, "toset() input")
    seen: list = []
    keys: set[str] = set()
    for item in v:  # linear (a list membership test per item was quadratic)
        key = _identity(item)
        if key not in keys:
            keys.add(key)
            seen.append(item)
    # Terraform iterates string sets in lexical order; keep that for predictable output
    return sorted(seen) if all(isinstance(s, str) for s in seen) else seen


def _cidrsubnet(prefix: str, newbits: Any, netnum: Any) -> str:
    net = ipaddress.ip_network(prefix, strict=False)
    newbits, netnum = int(_num(newbits)), int(_num(netnum))
    new_prefix = net.prefixlen + newbits
    if new_prefix > net.max_prefixlen or netnum >= (1 << newbits) or netnum < 0:
        raise EvalError("cidrsubnet(): not enough address space")
    size = 1 << (net.max_prefixlen - new_prefix)
    base = int(net.network_address) + netnum * size
    return str(ipaddress.ip_network((base, new_prefix)))


def _cidrhost(prefix: str, hostnum: Any) -> str:
    net = ipaddress.ip_network(prefix, strict=False)
    h = int(_num(hostnum))
    if h < 0:
        h += net.num_addresses
    if not 0 <= h < net.num_addresses:
        raise EvalError("cidrhost(): out of range")
    return str(net.network_address + h)


def _lookup(m: Any, key: Any, *default: Any) -> Any:
    if not isinstance(m, dict):
        raise EvalError("lookup() needs a map")
    k = _to_str(key)
    if k in m:
        return m[k]
    if default:
        return default[0]
    raise EvalError(f"lookup(): no key {k}")


def _element(seq: Any, idx: Any) -> Any:
    if not isinstance(seq, list) or not seq:
        raise EvalError("element() needs a non-empty list")
    return seq[int(_num(idx)) % len(seq)]


def _join(sep: str, *lists: Any) -> str:
    items: list = []
    for seq in lists:
        if not isinstance(seq, list):
            raise EvalError("join() needs lists")
        _check_len(len(items) + len(seq), MAX_ITEMS, "join() input")
        items.extend(seq)
    strs = [_to_str(x) for x in items]
    _check_len(sum(map(len, strs)) + len(str(sep)) * max(len(strs) - 1, 0), MAX_STRING, "join() result")
    return str(sep).join(strs)


def _replace(s: str, old: str, new: str) -> str:
    if len(old) > 1 and old.startswith("/") and old.endswith("/"):
        raise Unknown("regex replace() is not evaluated")  # RE2 syntax differs from Python's
    s, old, new = str(s), str(old), str(new)
    count = s.count(old) if old else len(s) + 1
    _check_len(len(s) + count * (len(new) - len(old)), MAX_STRING, "replace() result")
    return s.replace(old, new)


def _flatten(v: Any) -> list:
    if not isinstance(v, list):
        raise EvalError("flatten() needs a list")
    _check_len(_weight(v, MAX_ITEMS), MAX_ITEMS, "flatten() result")
    out: list = []
    for item in v:
        out.extend(_flatten(item) if isinstance(item, list) else [item])
    return out


def _tomap(v: Any) -> dict:
    if not isinstance(v, dict):
        raise EvalError("tomap() needs an object")
    return v


def _tostring(v: Any) -> str | None:
    return None if v is None else _to_str(v)


def _keys(m: Any) -> list:
    if not isinstance(m, dict):
        raise EvalError("keys() needs a map")
    return sorted(m)


def _values(m: Any) -> list:
    if not isinstance(m, dict):
        raise EvalError("values() needs a map")
    return [m[k] for k in sorted(m)]


def _compact(v: Any) -> list:
    if not isinstance(v, list):
        raise EvalError("compact() needs a list")
    return [x for x in v if x is not None and x != ""]


def _identity(x: Any) -> str:
    """A hashable key that tells values apart as Terraform does (true is not 1)."""
    return json.dumps(x, sort_keys=True, default=str)


def _distinct(v: Any) -> list:
    if not isinstance(v, list):
        raise EvalError("distinct() needs a list")
    _check_len(_weight(v, MAX_STRING), MAX_STRING, "distinct() input")
    out: list = []
    seen: set[str] = set()
    for x in v:  # linear, not `x not in out` (quadratic on a 100k list)
        key = _identity(x)
        if key not in seen:
            seen.add(key)
            out.append(x)
    return out


def _zipmap(ks: Any, vs: Any) -> dict:
    if not isinstance(ks, list) or not isinstance(vs, list) or len(ks) != len(vs):
        raise EvalError("zipmap() needs two lists of equal length")
    return {_to_str(k): v for k, v in zip(ks, vs, strict=True)}


def _range(*args: Any) -> list:
    nums = [int(_num(a)) for a in args]
    if len(nums) > 3 or not nums:
        raise EvalError("range() takes 1-3 arguments")
    try:
        span = range(*nums)  # lazy: its length is known before a single element exists
    except ValueError as exc:
        raise EvalError(f"range(): {exc}") from None
    try:
        n = len(span)
    except OverflowError:
        raise _too_large("range()") from None
    if n > MAX_RANGE:
        raise Unknown("range() too large")
    return list(span)


def _one(v: Any) -> Any:
    if not isinstance(v, list) or len(v) > 1:
        raise EvalError("one() needs a list of at most one element")
    return v[0] if v else None


def _strlist(fn: Callable[[str], Any]) -> Callable[[Any], Any]:
    def wrapped(s: Any) -> Any:
        if not isinstance(s, str):
            raise EvalError("string function on a non-string")
        return fn(s)

    return wrapped


def _jsonencode(v: Any) -> str:
    _check_len(_weight(v, MAX_STRING), MAX_STRING, "jsonencode() result")
    return json.dumps(v, separators=(",", ":"), sort_keys=True)


def _contains(seq: Any, v: Any) -> bool:
    if not isinstance(seq, list):
        raise EvalError("contains() needs a list")
    return any(_equal(x, v) for x in seq)


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "merge": _merge,
    "concat": _concat,
    "format": _format,
    "lower": _strlist(str.lower),
    "upper": _strlist(str.upper),
    "title": _strlist(str.title),
    "trimspace": _strlist(str.strip),
    "tolist": _tolist,
    "toset": _toset,
    "tomap": _tomap,
    "tostring": _tostring,
    "tonumber": lambda v: None if v is None else _num(v),
    "tobool": lambda v: v if isinstance(v, bool) or v is None else {"true": True, "false": False}[v],
    "length": _length,
    "coalesce": _coalesce,
    "coalescelist": lambda *ls: next((seq for seq in ls if isinstance(seq, list) and seq), []),
    "jsonencode": _jsonencode,
    "jsondecode": lambda s: json.loads(s),
    "cidrsubnet": _cidrsubnet,
    "cidrhost": _cidrhost,
    "lookup": _lookup,
    "element": _element,
    "join": _join,
    "split": lambda sep, s: str(s).split(str(sep)),
    "replace": _replace,
    "flatten": _flatten,
    "keys": _keys,
    "values": _values,
    "compact": _compact,
    "distinct": _distinct,
    "contains": _contains,
    "zipmap": _zipmap,
    "range": _range,
    "one": _one,
    "min": lambda *a: min(_num(x) for x in a),
    "max": lambda *a: max(_num(x) for x in a),
    "abs": lambda x: abs(_num(x)),
    "startswith": lambda s, p: str(s).startswith(str(p)),
    "endswith": lambda s, p: str(s).endswith(str(p)),
    "trimprefix": lambda s, p: str(s)[len(p) :] if str(s).startswith(p) else str(s),
    "trimsuffix": lambda s, p: str(s)[: -len(p)] if p and str(s).endswith(p) else str(s),
    "substr": lambda s, off, ln: str(s)[int(off) :] if int(ln) < 0 else str(s)[int(off) : int(off) + int(ln)],
    "reverse": lambda v: list(reversed(v)),
    "sort": lambda v: sorted(_to_str(x) for x in v),
    "slice": lambda v, a, b: v[int(_num(a)) : int(_num(b))],
    "sum": lambda v: sum(_num(x) for x in v),
}
