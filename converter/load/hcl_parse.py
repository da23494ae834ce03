"""Per-file HCL parsing for `converter.load.hcl`: one parse, everything the loader needs, picklable.

Why a separate module: parsing is the expensive part of loading (python-hcl2 8.x is a pure-Python
Lark LALR parser, ~5 ms per small file and tens of seconds for a 100k-line file), so it runs in
worker processes and its result is cached on disk. Everything a worker returns must therefore be
plain data (dicts, lists, str, int) — no Lark trees, no dataclasses — and must be computed from a
*single* `parses_to_tree()` call: the raw Lark tree gives line numbers and original source text
(python-hcl2's `with_meta` option is a no-op in 8.1.4), and the same tree is transformed and
serialized into the familiar "stripped" dict shape.

What `parse_text()` returns (a `FileParse` dict):

    {"body": <python-hcl2 dict, strip_string_quotes=True, explicit_blocks=False>,
     "blocks": [ {"kind", "labels", "line", "end_line",
                  "attrs": {name: {"line", "text", "refs": [[target, line], ...], "ast"?}},
                  "refs": [[target, line, top_level_name], ...]} ... ]}

`refs` are references (`aws_vpc.main.id`, `var.x`, `module.vpc.private_subnets`) found by walking
traversal chains rooted at an identifier; iterator names (`each`, `count`, `self`, `for` variables,
`dynamic` iterators, template `%{for}` variables) are excluded. `ast` is a compact JSON-able
expression tree (see `to_ast`) that `hcl_eval` evaluates; it is kept only where evaluation is
useful (locals, module inputs, variable defaults, outputs, tfvars), to keep the cache small.
"""

from __future__ import annotations

import gc
import re
import sys
from typing import Any

import hcl2
from hcl2 import SerializationOptions
from lark import Token, Tree
from lark.exceptions import LarkError, UnexpectedInput

from converter.model import ToolError

try:  # the cache key must change when the parser does
    from hcl2.version import version as HCL2_VERSION
except Exception:  # pragma: no cover - defensive
    HCL2_VERSION = getattr(hcl2, "__version__", "unknown")

#: Bump when the shape of a FileParse changes, so stale cache entries are ignored.
PARSE_FORMAT = 3

STRIPPED = SerializationOptions(
    strip_string_quotes=True, explicit_blocks=False, with_comments=False, preserve_heredocs=False
)

#: Roots that are never references to other objects: iteration/meta objects.
BASE_EXCLUDED = frozenset({"each", "count", "self", "path", "terraform"})
#: Block kinds whose attributes get an evaluation AST.
AST_KINDS = frozenset({"locals", "module", "variable", "output"})
#: Attributes that are not data dependencies (handled separately or point at providers).
NON_REF_ATTRS = frozenset({"depends_on", "provider", "providers"})

_CHAIN = frozenset({"get_attr_expr_term", "index_expr_term", "attr_splat_expr_term", "full_splat_expr_term"})
_SKIP = frozenset({"new_line_or_comment"})

# A heredoc body contains template syntax the grammar does not parse (it is one terminal);
# `${` / `%{` openers are located with this and their bodies parsed separately.
_TEMPLATE_OPEN = re.compile(r"(?<![$%])([$%])\{")


#: Largest string literal or heredoc body parsed. The grammar's lexer holds ~230 bytes per character of a literal
#: (a 5 MB literal took 1.1 GB, 1 MB took 240 MB); 256 KiB is far above any hand-written policy or script and
#: keeps one literal under ~60 MB. Checked on the raw text, before the parser allocates anything.
MAX_LITERAL = 256 * 1024
_HEREDOC = re.compile(r"<<-?([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\r?\n")


def check_literal_sizes(text: str, filename: str) -> None:
    """Refuse a line (a quoted string cannot span lines) or a heredoc body longer than MAX_LITERAL."""
    if len(text) <= MAX_LITERAL:
        return
    for lineno, line in enumerate(text.split("\n"), 1):
        if len(line) > MAX_LITERAL:
            raise ToolError(f"line longer than {MAX_LITERAL // 1024} KiB: tf2kro does not parse string literals "
                            "this large", source=f"{filename}:{lineno}")
    for m in _HEREDOC.finditer(text):
        end = re.compile(rf"^[ \t]*{re.escape(m.group(1))}[ \t]*\r?$", re.M).search(text, m.end())
        body = (end.start() if end else len(text)) - m.end()
        if body > MAX_LITERAL:
            lineno = text.count("\n", 0, m.start()) + 1
            raise ToolError(f"heredoc {m.group(1)} longer than {MAX_LITERAL // 1024} KiB: tf2kro does not parse "
                            "literals this large", source=f"{filename}:{lineno}")


def parse_text(text: str, filename: str = "<string>", *, tfvars: bool = False) -> dict[str, Any]:
    """Parse HCL source into a FileParse dict (see module docstring).

    Raises ToolError naming ``filename:LINE`` on syntax errors, because that is the one thing a
    user needs to fix a broken file. GC is disabled while parsing: Lark allocates millions of
    small objects, and the cyclic collector otherwise dominates (measured ~2.5x slower).
    """
    gc_was_enabled = gc.isenabled()
    gc.disable()
    old_limit = sys.getrecursionlimit()
    if old_limit < 20000:
        sys.setrecursionlimit(20000)  # long `a + b + c ...` chains nest deeply in the Lark tree
    try:
        check_literal_sizes(text, filename)
        try:
            tree = hcl2.parses_to_tree(text)
        except UnexpectedInput as exc:
            raise _syntax_error(exc, filename) from None
        except LarkError as exc:  # e.g. postlexer errors without position
            raise ToolError(f"HCL syntax error: {_first_line(str(exc))}", source=filename) from None
        return _analyse(tree, text, filename, tfvars=tfvars)
    finally:
        sys.setrecursionlimit(old_limit)
        # python-hcl2's rule objects form reference cycles (~30 per source line); with the GC off
        # they would pile up across files. A young-generation pass frees them for a fraction of
        # the parse cost, because only objects allocated since the last pass are examined.
        gc.collect(0)
        if gc_was_enabled:
            gc.enable()


def _first_line(msg: str) -> str:
    return msg.strip().splitlines()[0] if msg.strip() else msg


def _syntax_error(exc: UnexpectedInput, filename: str) -> ToolError:
    """Turn a Lark exception into a one-line, user-readable ToolError with file:line."""
    line = getattr(exc, "line", -1)
    col = getattr(exc, "column", -1)
    token = getattr(exc, "token", None)
    if token is not None and getattr(token, "type", "") == "$END":
        what = "unexpected end of file"
    elif token is not None:
        what = f"unexpected {str(token)[:40]!r}"
    else:
        char = getattr(exc, "char", None)
        what = f"unexpected character {char!r}" if char is not None else _first_line(str(exc))
    expected = sorted(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or [])
    hint = (
        f" (expected one of: {', '.join(expected[:8])}{', ...' if len(expected) > 8 else ''})"
        if expected
        else ""
    )
    if isinstance(line, int) and line > 0:
        return ToolError(
            f"HCL syntax error at line {line}, column {col}: {what}{hint}", source=f"{filename}:{line}"
        )
    return ToolError(f"HCL syntax error: {what}{hint}", source=filename)


# --------------------------------------------------------------------------------------------
# Tree analysis
# --------------------------------------------------------------------------------------------


def _analyse(tree: Tree, text: str, filename: str, *, tfvars: bool) -> dict[str, Any]:
    try:
        body = hcl2.serialize(hcl2.transform(tree, discard_comments=True), serialization_options=STRIPPED)
    except Exception as exc:  # python-hcl2 transformer/serializer errors on odd-but-parsable input
        raise ToolError(f"cannot interpret HCL: {exc}", source=filename) from None
    src = text + "\n"  # parses_to_tree appended the same newline; positions refer to it
    blocks: list[dict[str, Any]] = []
    top_body = tree.children[0]
    counters: dict[str, int] = {}
    for child in top_body.children:
        if not isinstance(child, Tree):
            continue
        has_heredoc = "<<-" in src[child.meta.start_pos : child.meta.end_pos]
        if child.data == "block":
            info = _block_info(child, src)
            blocks.append(info)
            idx = counters.get(info["kind"], 0)
            counters[info["kind"]] = idx + 1
            entries = body.get(info["kind"])
            if has_heredoc and isinstance(entries, list) and idx < len(entries):
                _fix_heredocs(child, entries, idx)
        elif child.data == "attribute" and tfvars:
            name, expr = _attr_parts(child)
            if has_heredoc and name in body:
                holder = [body[name]]
                _fix_heredocs(child, holder, 0)
                body[name] = holder[0]
            blocks.append(
                {
                    "kind": "tfvar",
                    "labels": [name],
                    "line": child.meta.line,
                    "end_line": child.meta.end_line,
                    "attrs": {
                        name: {
                            "line": child.meta.line,
                            "text": _text(expr, src),
                            "refs": [],
                            "ast": to_ast(expr),
                        }
                    },
                    "refs": [],
                }
            )
    return {"body": body, "blocks": blocks}


def _name_of(node: Any) -> str:
    """Text of an identifier/keyword/literal_value/string node (block types, labels, attribute names)."""
    if isinstance(node, Token):
        return str(node)
    if node.data == "string":
        return "".join(
            str(p.children[0])
            for p in node.children
            if isinstance(p, Tree) and isinstance(p.children[0], Token)
        )
    return "".join(str(t) for t in node.scan_values(lambda v: isinstance(v, Token)))


def _attr_parts(attr: Tree) -> tuple[str, Tree]:
    kids = [c for c in attr.children if isinstance(c, Tree)]
    return _name_of(kids[0]), kids[-1]


def _block_parts(block: Tree) -> tuple[str, list[str], Tree]:
    kids = [c for c in block.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]
    body = kids[-1]
    return _name_of(kids[0]), [_name_of(k) for k in kids[1:-1]], body


def _text(node: Tree, src: str) -> str:
    """Original source text of an expression (what the user wrote, not python-hcl2's re-rendering)."""
    meta = node.meta
    if getattr(meta, "empty", True):
        return ""
    return src[meta.start_pos : meta.end_pos].strip()


def _block_info(block: Tree, src: str) -> dict[str, Any]:
    kind, labels, body = _block_parts(block)
    info: dict[str, Any] = {
        "kind": kind,
        "labels": labels,
        "line": block.meta.line,
        "end_line": block.meta.end_line,
        "attrs": {},
        "refs": [],
    }
    want_ast = kind in AST_KINDS
    walker = _RefWalker(src)
    for item in body.children:
        if not isinstance(item, Tree):
            continue
        if item.data == "attribute":
            name, expr = _attr_parts(item)
            refs: list[list[Any]] = []
            if name not in NON_REF_ATTRS and kind != "variable":
                walker.walk(expr, BASE_EXCLUDED, refs)
            entry: dict[str, Any] = {"line": item.meta.line, "text": _text(expr, src), "refs": refs}
            if want_ast:
                entry["ast"] = to_ast(expr)
            info["attrs"][name] = entry
            info["refs"].extend([t, ln, name] for t, ln in refs)
        elif item.data == "block":
            sub_kind, _, _ = _block_parts(item)
            refs = []
            walker.walk_block(item, BASE_EXCLUDED, refs)
            info["refs"].extend([t, ln, sub_kind] for t, ln in refs)
    return info


class _RefWalker:
    """Finds references in an expression tree, tracking which names are locally bound."""

    def __init__(self, src: str):
        self.src = src

    def walk_block(self, block: Tree, scope: frozenset[str], out: list) -> None:
        kind, labels, body = _block_parts(block)
        if kind == "lifecycle":
            # ignore_changes names this resource's own attributes; replace_triggered_by and
            # pre/postconditions do reference other objects.
            for item in body.children:
                if isinstance(item, Tree) and item.data == "attribute":
                    name, expr = _attr_parts(item)
                    if name != "ignore_changes":
                        self.walk(expr, scope, out)
                elif isinstance(item, Tree) and item.data == "block":
                    self.walk_block(item, scope, out)
            return
        inner = scope
        if kind == "dynamic" and labels:
            iterator = labels[0]
            for item in body.children:
                if isinstance(item, Tree) and item.data == "attribute":
                    name, expr = _attr_parts(item)
                    if name == "iterator":
                        iterator = _name_of(expr.children[0]) if expr.children else iterator
            # Terraform binds only `iterator` when given, but excluding the label too is harmless
            inner = scope | {iterator, labels[0]}
        for item in body.children:
            if not isinstance(item, Tree):
                continue
            if item.data == "attribute":
                name, expr = _attr_parts(item)
                if kind == "dynamic" and name == "iterator":
                    continue
                # a dynamic block's for_each is evaluated outside the iterator's scope
                self.walk(expr, scope if (kind == "dynamic" and name == "for_each") else inner, out)
            elif item.data == "block":
                self.walk_block(item, inner, out)

    def walk(self, node: Any, scope: frozenset[str], out: list) -> None:
        if not isinstance(node, Tree):
            return
        data = node.data
        if data in _CHAIN:
            self._chain(node, scope, out)
        elif data in ("for_tuple_expr", "for_object_expr"):
            self._for(node, scope, out)
        elif data == "string":
            self._string(node, scope, out)
        elif data in ("heredoc_template", "heredoc_template_trim"):
            tok = node.children[0]
            self._template_text(str(tok), tok.line, scope, out)
        elif data == "function_call":
            for c in node.children:
                if isinstance(c, Tree) and c.data == "arguments":
                    self.walk(c, scope, out)
        elif data in _SKIP or data == "identifier":
            return
        else:
            for c in node.children:
                if isinstance(c, Tree):
                    self.walk(c, scope, out)

    def _chain(self, node: Tree, scope: frozenset[str], out: list) -> None:
        steps: list[tuple[str, Any]] = []
        cur = node
        root: Token | None = None
        while True:
            d = cur.data
            if d == "expr_term":
                kids = [c for c in cur.children if isinstance(c, Tree)]
                if len(cur.children) == 1 and kids:
                    cur = kids[0]
                    continue
                break  # parenthesised expression: not rooted at an identifier
            if d == "get_attr_expr_term":
                steps.append(("attr", _name_of(cur.children[1].children[-1])))
                cur = cur.children[0]
            elif d == "index_expr_term":
                steps.append(("index", cur.children[1]))
                cur = cur.children[0]
            elif d in ("attr_splat_expr_term", "full_splat_expr_term"):
                steps.append(("splat", cur.children[1]))
                cur = cur.children[0]
            elif d == "identifier":
                root = cur.children[0]
                break
            else:
                break
        steps.reverse()
        if root is None:
            # e.g. `func(x).attr` or `(expr)[0]`: walk the base and any index expressions
            self.walk(cur, scope, out)
            for kind, payload in steps:
                if kind != "attr":
                    self.walk(payload, scope, out)
            return
        name = str(root)
        target = name
        complete = True
        for kind, payload in steps:
            if kind == "attr" and complete:
                target += "." + payload
            elif kind == "index":
                lit = _literal_index(payload)
                if lit is not None and complete and target != name:
                    target += lit
                else:
                    complete = False
                    self.walk(payload, scope, out)
            elif kind == "splat":
                complete = False
                self.walk(payload, scope, out)
        if name in scope or target == name:
            return
        if name == "data" and target.count(".") < 2:
            return
        out.append([target, root.line])

    def _for(self, node: Tree, scope: frozenset[str], out: list) -> None:
        names: set[str] = set()
        for c in node.children:
            if isinstance(c, Tree) and c.data == "for_intro":
                kids = [k for k in c.children if isinstance(k, Tree) and k.data != "new_line_or_comment"]
                for k in kids:
                    if k.data == "identifier":
                        names.add(str(k.children[0]))
                    else:
                        self.walk(k, scope, out)  # the collection: outer scope
        inner = scope | names
        for c in node.children:
            if isinstance(c, Tree) and c.data != "for_intro":
                self.walk(c, inner, out)

    def _string(self, node: Tree, scope: frozenset[str], out: list) -> None:
        stack: list[frozenset[str]] = []
        cur = scope
        for part in node.children:
            if not isinstance(part, Tree):
                continue
            content = part.children[0]
            if not isinstance(content, Tree):
                continue
            if content.data == "template_for_start":
                names = {
                    str(k.children[0])
                    for k in content.children
                    if isinstance(k, Tree) and k.data == "identifier"
                }
                for k in content.children:
                    if isinstance(k, Tree) and k.data != "identifier":
                        self.walk(k, cur, out)
                stack.append(cur)
                cur = cur | names
            elif content.data == "template_endfor":
                cur = stack.pop() if stack else scope
            else:
                self.walk(content, cur, out)

    def _template_text(self, text: str, line0: int, scope: frozenset[str], out: list) -> None:
        """References inside a heredoc: the grammar keeps the body as one token, so each
        `${...}` / `%{...}` is cut out and parsed on its own; lines are offset from the token."""
        pos = 0
        cur = scope
        stack: list[frozenset[str]] = []
        while True:
            m = _TEMPLATE_OPEN.search(text, pos)
            if not m:
                return
            end = _matching_brace(text, m.end())
            if end < 0:
                return
            inner = text[m.end() : end].strip().strip("~").strip()
            line = line0 + text.count("\n", 0, m.start())
            pos = end + 1
            if m.group(1) == "%":
                fm = re.match(
                    r"for\s+([A-Za-z_][\w-]*)(?:\s*,\s*([A-Za-z_][\w-]*))?\s+in\s+(.*)$", inner, re.S
                )
                if fm:
                    self._sub_expr(fm.group(3), line, cur, out)
                    stack.append(cur)
                    cur = cur | {n for n in fm.groups()[:2] if n}
                elif inner.startswith("endfor"):
                    cur = stack.pop() if stack else scope
                elif inner.startswith("if "):
                    self._sub_expr(inner[3:], line, cur, out)
                continue
            self._sub_expr(inner, line, cur, out)

    def _sub_expr(self, expr: str, line: int, scope: frozenset[str], out: list) -> None:
        try:
            sub = hcl2.parses_to_tree(f"x = (\n{expr}\n)\n")
        except Exception:
            return  # a template fragment we cannot parse: no references rather than a failure
        found: list = []
        self.walk(sub.children[0], scope, found)
        out.extend([t, line + max(ln - 2, 0)] for t, ln in found)


def _matching_brace(text: str, start: int) -> int:
    """Index of the `}` closing a template opener, skipping nested braces and quoted strings."""
    depth = 1
    i = start
    n = len(text)
    in_str = False
    while i < n:
        ch = text[i]
        if in_str:
            if ch == "\\":
                i += 1
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return -1


def _literal_index(idx: Tree) -> str | None:
    """`[0]` / `["key"]` for a constant index, else None (a computed index ends the reference)."""
    if idx.data == "short_index":
        return f"[{idx.children[-1]}]"
    exprs = [c for c in idx.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]
    if len(exprs) != 1:
        return None
    ast = to_ast(exprs[0])
    if ast[0] == "lit" and isinstance(ast[1], int) and not isinstance(ast[1], bool):
        return f"[{ast[1]}]"
    if ast[0] == "lit" and isinstance(ast[1], str):
        return '["' + ast[1].replace("\\", "\\\\").replace('"', '\\"') + '"]'
    return None


# --------------------------------------------------------------------------------------------
# Heredoc value fix-up
# --------------------------------------------------------------------------------------------


def _heredoc_value(token: str) -> tuple[str, str] | None:
    """(correct value, python-hcl2's value) for a `<<-` heredoc when they differ.

    python-hcl2 8.1.4 backslash-escapes quotes in `<<-` heredoc bodies even with
    strip_string_quotes=True, which corrupts the JSON policies heredocs usually hold
    (`{\\"Version\\": ...}`). We recompute the dedented body and swap it in afterwards.
    """
    m = re.match(r"<<-([a-zA-Z][a-zA-Z0-9._-]*)\r?\n([\s\S]*)\1", token)
    if not m:
        return None
    body = re.sub(r"\r?\n\Z", "", re.sub(r"[ \t]*\Z", "", m.group(2)))
    lines = body.split("\n")
    widths = [len(ln) - len(ln.lstrip(" ")) for ln in lines if ln.strip()]
    cut = min(widths) if widths else 0
    lines = [ln[cut:] for ln in lines]
    good = "\n".join(lines)
    bad = "\n".join(ln.replace("\\", "\\\\").replace('"', '\\"') for ln in lines)
    return (good, bad) if good != bad else None


def _fix_heredocs(node: Tree, holder: list, index: int) -> None:
    """Replace python-hcl2's escaped `<<-` heredoc values inside `holder[index]` (in place).

    Only called for top-level blocks whose source contains `<<-`, so the cost stays proportional
    to the blocks that need it rather than to the file.
    """
    fixes: dict[str, str] = {}
    for h in node.find_data("heredoc_template_trim"):
        pair = _heredoc_value(str(h.children[0]))
        if pair:
            fixes[pair[1]] = pair[0]
    if fixes:
        _apply_fixes(holder, index, fixes)


def _apply_fixes(container: Any, key: Any, fixes: dict[str, str]) -> None:
    value = container[key]
    if isinstance(value, str):
        if value in fixes:
            container[key] = fixes[value]
    elif isinstance(value, list):
        for i in range(len(value)):
            _apply_fixes(value, i, fixes)
    elif isinstance(value, dict):
        for k in list(value):
            _apply_fixes(value, k, fixes)


# --------------------------------------------------------------------------------------------
# Expression AST (for the evaluator)
# --------------------------------------------------------------------------------------------
#
# Shapes (lists, so they survive JSON/pickle caching unchanged):
#   ["lit", value]                      ["tmpl", [str | ast, ...]]
#   ["name", ident]                     bare identifier (var/local/module roots, for iterators)
#   ["attr", base, name]                ["index", base, key_ast]
#   ["splat", base, [["attr", n] | ["index", ast], ...]]
#   ["tuple", [ast...]]                 ["object", [[key_ast, val_ast], ...]]
#   ["call", fname, [ast...], expand]   ["cond", c, a, b]
#   ["bin", op, l, r]                   ["un", op, x]
#   ["for", k|None, v, coll, key_ast|None, val_ast, cond|None, group]
#   ["unknown", why]


def to_ast(node: Any) -> list:
    """Convert a Lark expression subtree into the compact AST above (never raises)."""
    try:
        return _ast(node)
    except Exception as exc:  # pragma: no cover - defensive: unknown grammar shape
        return ["unknown", f"ast: {exc}"]


def _trees(node: Tree) -> list[Tree]:
    return [c for c in node.children if isinstance(c, Tree) and c.data != "new_line_or_comment"]


def _ast(node: Any) -> list:
    if isinstance(node, Token):
        return ["unknown", f"token {node.type}"]
    d = node.data
    if d == "expr_term":
        kids = _trees(node)
        return _ast(kids[0]) if kids else ["unknown", "empty"]
    if d == "int_lit":
        return ["lit", int(str(node.children[0]))]
    if d == "float_lit":
        return ["lit", float(str(node.children[0]))]
    if d == "literal_value":
        return ["lit", {"true": True, "false": False, "null": None}[str(node.children[0])]]
    if d == "identifier":
        return ["name", str(node.children[0])]
    if d == "string":
        return _string_ast(node)
    if d in ("heredoc_template", "heredoc_template_trim"):
        tok = str(node.children[0])
        if "${" in tok or "%{" in tok:
            return ["unknown", "heredoc template"]
        if d == "heredoc_template_trim":
            pair = _heredoc_value(tok)
            if pair:
                return ["lit", pair[0]]
            m = re.match(r"<<-([a-zA-Z][a-zA-Z0-9._-]*)\r?\n([\s\S]*)\1", tok)
            body = re.sub(r"\r?\n\Z", "", re.sub(r"[ \t]*\Z", "", m.group(2))) if m else ""
            lines = body.split("\n")
            widths = [len(ln) - len(ln.lstrip(" ")) for ln in lines if ln.strip()]
            cut = min(widths) if widths else 0
            return ["lit", "\n".join(ln[cut:] for ln in lines)]
        m = re.match(r"<<([a-zA-Z][a-zA-Z0-9._-]*)\r?\n([\s\S]*)\1", tok)
        body = re.sub(r"\r?\n\Z", "", re.sub(r"[ \t]*\Z", "", m.group(2))) if m else ""
        return ["lit", body]
    if d == "tuple":
        return ["tuple", [_ast(c) for c in _trees(node)]]
    if d == "object":
        items = []
        for el in _trees(node):
            kids = _trees(el)
            key_node, val_node = kids[0], kids[-1]
            key_kids = _trees(key_node)
            if key_kids and key_kids[0].data == "keyword":
                key = ["lit", _name_of(key_kids[0])]
            else:
                key = _ast(key_kids[0]) if key_kids else ["unknown", "key"]
                if key[0] == "name":
                    key = ["lit", key[1]]
            items.append([key, _ast(val_node)])
        return ["object", items]
    if d == "function_call":
        idents = [c for c in node.children if isinstance(c, Tree) and c.data == "identifier"]
        fname = "::".join(str(i.children[0]) for i in idents)
        args: list = []
        expand = False
        for c in node.children:
            if isinstance(c, Tree) and c.data == "arguments":
                args = [_ast(a) for a in _trees(c)]
                expand = any(isinstance(t, Token) and t.type == "ELLIPSIS" for t in c.children)
        return ["call", fname, args, expand]
    if d == "get_attr_expr_term":
        return ["attr", _ast(node.children[0]), _name_of(node.children[1].children[-1])]
    if d == "index_expr_term":
        return ["index", _ast(node.children[0]), _index_ast(node.children[1])]
    if d in ("attr_splat_expr_term", "full_splat_expr_term"):
        ops = []
        for c in _trees(node.children[1]):
            if c.data == "get_attr":
                ops.append(["attr", _name_of(c.children[-1])])
            else:
                ops.append(["index", _index_ast(c)])
        return ["splat", _ast(node.children[0]), ops]
    if d == "conditional":
        kids = _trees(node)
        return ["cond", _ast(kids[0]), _ast(kids[1]), _ast(kids[2])]
    if d == "binary_op":
        kids = _trees(node)
        term = kids[1]
        tkids = _trees(term)
        op = str(tkids[0].children[0])
        return ["bin", op, _ast(kids[0]), _ast(tkids[-1])]
    if d == "unary_op":
        op = str(node.children[0])
        return ["un", op, _ast(_trees(node)[0])]
    if d in ("for_tuple_expr", "for_object_expr"):
        return _for_ast(node)
    return ["unknown", d]


def _index_ast(idx: Tree) -> list:
    if idx.data == "short_index":
        return ["lit", int(str(idx.children[-1]))]
    kids = _trees(idx)
    return _ast(kids[0]) if kids else ["unknown", "index"]


def _string_ast(node: Tree) -> list:
    parts: list = []
    for part in node.children:
        if not isinstance(part, Tree):
            continue
        content = part.children[0]
        if isinstance(content, Token):
            raw = str(content)
            if content.type == "STRING_CHARS":
                from hcl2.utils import process_escape_sequences

                parts.append(process_escape_sequences(raw))
            elif content.type == "ESCAPED_INTERPOLATION":
                parts.append(raw[1:])  # $${x} -> ${x}
            elif content.type == "ESCAPED_DIRECTIVE":
                parts.append(raw[1:])
            else:
                return ["unknown", content.type]
        elif content.data == "interpolation":
            parts.append(_ast(_trees(content)[0]))
        else:
            return ["unknown", "template directive"]
    if all(isinstance(p, str) for p in parts):
        return ["lit", "".join(parts)]
    return ["tmpl", parts]


def _for_ast(node: Tree) -> list:
    intro = next(c for c in node.children if isinstance(c, Tree) and c.data == "for_intro")
    ik = _trees(intro)
    idents = [str(k.children[0]) for k in ik if k.data == "identifier"]
    coll = _ast([k for k in ik if k.data != "identifier"][-1])
    if len(idents) == 2:
        kname, vname = idents
    else:
        kname, vname = None, idents[0]
    rest = [c for c in _trees(node) if c.data not in ("for_intro",)]
    cond = None
    if rest and rest[-1].data == "for_cond":
        cond = _ast(_trees(rest[-1])[0])
        rest = rest[:-1]
    group = any(isinstance(t, Token) and t.type == "ELLIPSIS" for t in node.children)
    if node.data == "for_object_expr":
        return ["for", kname, vname, coll, _ast(rest[0]), _ast(rest[1]), cond, group]
    return ["for", kname, vname, coll, None, _ast(rest[0]), cond, False]
