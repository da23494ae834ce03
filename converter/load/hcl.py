"""HCL loading stage: read a Terraform configuration (root module + local child modules) into a typed model.

Why this exists next to the state loader: state says *what exists*; the HCL says *how it was
written* — which attributes are expressions and what they reference (so kro graphs can wire
`${vpc.status.vpcID}` instead of hard-coding IDs), which attributes Terraform is told to ignore
(`lifecycle.ignore_changes`, so the converter must not fight drift there), what `count`/`for_each`
drive instances, and the values of variables and locals that shape names and tags.

Design choices:
* python-hcl2 8.x is used with `strip_string_quotes=True, explicit_blocks=False` so attribute dicts
  have the long-established shape (`"name": "${var.env}-x"`), while line numbers, source text and
  references come from the raw Lark tree of the *same* parse (see `hcl_parse`).
* Parsing dominates the cost, so it runs in a process pool for larger inputs, with the GC off, and
  can be cached on disk per file content (`cache_dir`, JSON: `hclcache`).
* Values are computed with a deliberately small evaluator (`hcl_eval`): anything it cannot know is
  `None`/unknown instead of a guess, and it never raises on user expressions.
* Only local module sources (`./`, `../`) are loaded; registry/git modules are not downloaded
  (this tool runs offline), so their `HclModuleCall.module` is None.
"""

from __future__ import annotations

import contextlib
import gc
import os
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
from lark import Tree

from converter.load import hclcache
from converter.load.address import config_address  # the state ↔ config join key, one implementation
from converter.load.hcl_eval import MAX_STRING, Context, EvalError, Namespace, Unknown, _weight, evaluate
from converter.load.hcl_parse import HCL2_VERSION, PARSE_FORMAT, parse_text, to_ast
from converter.model import ToolError

__all__ = [
    "HclConfig",
    "HclModule",
    "HclModuleCall",
    "HclReference",
    "HclResource",
    "HclVariable",
    "config_address",
    "evaluate_expression",
    "evaluate_static",
    "load_hcl",
    "parse_file",
]

#: Below this many files to parse, a process pool costs more than it saves.
PARALLEL_THRESHOLD = 8
#: Module-block arguments that are Terraform meta-arguments, not inputs to the child module.
MODULE_META_ARGS = frozenset({"source", "version", "count", "for_each", "providers", "depends_on"})


# --------------------------------------------------------------------------------------------
# Public model
# --------------------------------------------------------------------------------------------


@dataclass
class HclReference:
    """One reference in an expression, e.g. `aws_vpc.main.id` at main.tf:18.

    `target` is the traversal as written, cut at the first computed index or splat
    (`aws_subnet.private[*].id` → `aws_subnet.private`; `aws_subnet.x[0].id` is kept whole).
    `attribute` (an addition to the agreed API, defaulted) names the top-level attribute or
    nested block type the reference sits in, so mappers can tell `vpc_id` wiring from `tags`.
    """

    target: str
    file: str
    line: int
    attribute: str = ""

    @property
    def resource_address(self) -> str | None:
        """The referenced resource's config address relative to its module (`aws_vpc.main`,
        `data.aws_iam_policy_document.x`), or None for var/local/module/other roots."""
        parts = _split_target(self.target)
        if not parts or parts[0] in ("var", "local", "module", "each", "count", "self", "path", "terraform"):
            return None
        if parts[0] == "data":
            return f"data.{parts[1]}.{parts[2]}" if len(parts) >= 3 else None
        return f"{parts[0]}.{parts[1]}" if len(parts) >= 2 else None

    @property
    def module_call(self) -> str | None:
        """`vpc` for `module.vpc.private_subnets`, else None."""
        parts = _split_target(self.target)
        return parts[1] if len(parts) >= 2 and parts[0] == "module" else None


@dataclass
class HclVariable:
    """A `variable` block and its resolved value.

    `value` is tfvars/--var-file (root) or the module input (child) if known, else the default.
    `is_set` is True when `value` is known — which is how a known `null` is told apart from
    "could not be determined" (both have `value is None`).
    """

    name: str
    type: str | None
    default: Any
    has_default: bool
    description: str | None
    sensitive: bool
    file: str
    line: int
    value: Any = None
    is_set: bool = False


@dataclass
class HclResource:
    """A `resource` or `data` block (one per block, not per instance)."""

    address: str
    mode: str
    type: str
    name: str
    module_address: str
    file: str
    line: int
    end_line: int
    attributes: dict[str, Any]
    expressions: dict[str, str]
    references: list[HclReference]
    count: str | None
    for_each: str | None
    depends_on: list[str]
    ignore_changes: list[str]
    prevent_destroy: bool
    #: top-level argument name -> its source text (every argument, literal or not) and its line
    sources: dict[str, str] = field(default_factory=dict)
    attribute_lines: dict[str, int] = field(default_factory=dict)

    @property
    def local_address(self) -> str:
        """The address inside its module (`aws_subnet.private`, `data.x.y`)."""
        return f"data.{self.type}.{self.name}" if self.mode == "data" else f"{self.type}.{self.name}"


@dataclass
class HclModuleCall:
    """A `module` block. `module` is the loaded child for local sources, None for remote ones."""

    name: str
    source: str
    file: str
    line: int
    inputs: dict[str, Any]
    input_references: dict[str, list[HclReference]]
    module: HclModule | None = None
    count: str | None = None
    for_each: str | None = None
    version: str | None = None


@dataclass
class HclModule:
    """One module instance in the tree (root is address "")."""

    address: str
    directory: str
    variables: dict[str, HclVariable]
    locals: dict[str, Any]
    local_expressions: dict[str, str]
    resources: list[HclResource]
    module_calls: dict[str, HclModuleCall]
    outputs: dict[str, str]
    files: list[str]
    _evaluator: _ModuleEval | None = field(default=None, repr=False, compare=False)


@dataclass
class HclConfig:
    """The loaded configuration: the root module and, through module calls, all local children."""

    root: HclModule
    files_parsed: int = 0
    _by_address: dict[str, HclResource] | None = field(default=None, repr=False, compare=False)

    def modules(self) -> list[HclModule]:
        """All loaded modules, depth-first, root first."""
        out: list[HclModule] = []

        def visit(m: HclModule) -> None:
            out.append(m)
            for call in m.module_calls.values():
                if call.module is not None:
                    visit(call.module)

        visit(self.root)
        return out

    def resources(self) -> list[HclResource]:
        """Every resource and data block of every loaded module."""
        return [r for m in self.modules() for r in m.resources]

    def resource(self, config_address: str) -> HclResource | None:
        """Look a resource up by config address (`module.vpc.aws_subnet.private`); instance keys
        in the argument are tolerated, so a state address works too."""
        if self._by_address is None:
            self._by_address = {r.address: r for r in self.resources()}
        hit = self._by_address.get(config_address)
        if hit is None and "[" in config_address:
            hit = self._by_address.get(_config_address(config_address))
        return hit


# --------------------------------------------------------------------------------------------
# Addresses
# --------------------------------------------------------------------------------------------


def _strip_keys(address: str) -> Iterator[str]:
    """Yield the characters of `address` outside `[...]` groups (quotes inside keys honoured)."""
    i, n = 0, len(address)
    while i < n:
        ch = address[i]
        if ch != "[":
            yield ch
            i += 1
            continue
        i += 1
        in_str = False
        while i < n:
            c = address[i]
            if in_str:
                if c == "\\":
                    i += 1
                elif c == '"':
                    in_str = False
            elif c == '"':
                in_str = True
            elif c == "]":
                break
            i += 1
        i += 1




def _split_target(target: str) -> list[str]:
    return "".join(_strip_keys(target)).split(".")


# --------------------------------------------------------------------------------------------
# Parsing (with cache and pool)
# --------------------------------------------------------------------------------------------


def parse_file(path: str | Path) -> dict:
    """Parse one .tf/.tfvars file into python-hcl2's stripped dict.

    Raises ToolError("HCL syntax error at line N ...", source="file:N") for broken input, so
    the CLI can point at the exact spot.
    """
    p = str(path)
    return _read_and_parse(p, _is_tfvars(p))["body"]


def _is_tfvars(path: str) -> bool:
    return path.endswith(".tfvars")


def _read(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except OSError as exc:
        raise ToolError(f"cannot read file: {exc.strerror or exc}", source=path) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ToolError(f"file is not UTF-8: {exc}", source=path) from None


def _read_and_parse(path: str, tfvars: bool) -> dict[str, Any]:
    return parse_text(_read(path), path, tfvars=tfvars)


def _parse_job(job: tuple[str, str, bool]) -> tuple[str, Any, str | None]:
    """Worker entry point. Returns plain tuples: ToolError's `source` does not survive pickling."""
    text, path, tfvars = job
    try:
        return "ok", parse_text(text, path, tfvars=tfvars), None
    except ToolError as exc:
        return "error", exc.args[0] if exc.args else "HCL error", exc.source


class _Parser:
    """Parses batches of files once each, through an on-disk cache and a lazily started pool."""

    def __init__(self, workers: int | None, cache_dir: str | Path | None):
        self.workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
        self.cache = (hclcache.ParseCache(cache_dir, f"{PARSE_FORMAT}|{HCL2_VERSION}|{hclcache.tool_version()}")
                      if cache_dir is not None else None)
        self.results: dict[str, dict[str, Any]] = {}
        self.parsed = 0  # files actually parsed (not read from the cache)
        self._pool: ProcessPoolExecutor | None = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _cache_path(self, text: str, tfvars: bool) -> Path | None:
        return self.cache.path_for(text, tfvars) if self.cache is not None else None

    def parse(self, paths: Sequence[str]) -> None:
        """Make `self.results[p]` available for every path (already-parsed paths are skipped)."""
        todo: list[tuple[str, str, bool, Path | None]] = []
        for p in dict.fromkeys(paths):
            if p in self.results:
                continue
            text = _read(p)
            tfv = _is_tfvars(p)
            cpath = self._cache_path(text, tfv)
            if cpath is not None and self.cache is not None:
                hit = self.cache.get(cpath)  # a corrupt or unreadable entry is a miss
                if hit is not None:
                    self.results[p] = hit
                    continue
            todo.append((p, text, tfv, cpath))
        if not todo:
            return
        self.parsed += len(todo)
        if self.workers > 1 and len(todo) >= PARALLEL_THRESHOLD:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=self.workers)
            # biggest first, so one huge file does not start last and serialise the tail
            order = sorted(todo, key=lambda t: -len(t[1]))
            futures = [(t, self._pool.submit(_parse_job, (t[1], t[0], t[2]))) for t in order]
            outcomes = [(t, f.result()) for t, f in futures]
        else:
            outcomes = [(t, _parse_job((t[1], t[0], t[2]))) for t in todo]
        for (p, _text, _tfv, cpath), (status, payload, source) in outcomes:
            if status != "ok":
                raise ToolError(payload, source=source or p)
            self.results[p] = payload
            if cpath is not None and self.cache is not None:
                self.cache.put(cpath, payload)


# --------------------------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------------------------


def _module_files(directory: str) -> list[str]:
    """The .tf files of one module directory, as Terraform selects them (no recursion;
    editor backups and dotfiles ignored)."""
    try:
        names = sorted(os.listdir(directory))
    except OSError as exc:
        raise ToolError(f"cannot list module directory: {exc.strerror or exc}", source=directory) from None
    out = []
    for name in names:
        if not name.endswith(".tf") or name.startswith(".") or name.endswith("~"):
            continue
        full = os.path.join(directory, name)
        if os.path.isfile(full):
            out.append(full)
    return out


def _root_tfvars(directory: str) -> list[str]:
    """terraform.tfvars(.json) then *.auto.tfvars(.json) in lexical order — Terraform's order."""
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return []
    out = [n for n in ("terraform.tfvars", "terraform.tfvars.json") if n in names]
    out += [n for n in names if n.endswith(".auto.tfvars") or n.endswith(".auto.tfvars.json")]
    return [os.path.join(directory, n) for n in out if os.path.isfile(os.path.join(directory, n))]


def _is_local_source(source: str) -> bool:
    return source.startswith(("./", "../", ".\\", "..\\")) or source in (".", "..")


def _unwrap(v: Any) -> str:
    """`"${aws_vpc.main}"` → `aws_vpc.main`; other strings unchanged."""
    s = str(v)
    return s[2:-1] if s.startswith("${") and s.endswith("}") else s


def _has_expr(v: Any) -> bool:
    if isinstance(v, str):
        return "${" in v
    if isinstance(v, list):
        return any(_has_expr(x) for x in v)
    if isinstance(v, dict):
        return any(_has_expr(x) for x in v.values())
    return False


def _block_body(body: dict[str, Any], kind: str, index: int, labels: list[str]) -> dict[str, Any]:
    """The serialized dict of the index-th `kind` block of a file, descended through its labels."""
    entries = body.get(kind)
    if not isinstance(entries, list) or index >= len(entries):
        return {}
    cur: Any = entries[index]
    for label in labels:
        if not isinstance(cur, dict) or label not in cur:
            return {}
        cur = cur[label]
    return cur if isinstance(cur, dict) else {}


@dataclass
class _RawModule:
    """Per-module parse products the evaluator needs (ASTs are not part of the public model)."""

    var_asts: dict[str, list | None] = field(default_factory=dict)
    local_asts: dict[str, list] = field(default_factory=dict)
    output_asts: dict[str, list] = field(default_factory=dict)
    input_asts: dict[str, dict[str, list]] = field(default_factory=dict)


class _Loader:
    def __init__(self, root_dir: str, parser: _Parser):
        self.root_dir = root_dir
        self.parser = parser
        self.raw: dict[int, _RawModule] = {}
        self.tf_files: set[str] = set()
        self.prefetch: list[str] = []  # parsed with the first (root module) batch: the root's tfvars files

    # ---- structure ------------------------------------------------------------------------

    def build(self, address: str, directory: str, ancestors: tuple[str, ...]) -> HclModule:
        files = _module_files(directory)
        self.parser.parse([*files, *self.prefetch])
        self.prefetch = []
        self.tf_files.update(files)
        module = HclModule(
            address=address,
            directory=directory,
            variables={},
            locals={},
            local_expressions={},
            resources=[],
            module_calls={},
            outputs={},
            files=files,
        )
        raw = _RawModule()
        self.raw[id(module)] = raw
        for path in files:
            self._add_file(module, raw, path, self.parser.results[path])
        # Children: collect every local directory first so one pool batch parses them all.
        pending: list[tuple[HclModuleCall, str]] = []
        for call in module.module_calls.values():
            if not _is_local_source(call.source):
                continue
            child_dir = os.path.normpath(os.path.join(directory, call.source))
            if not os.path.isdir(child_dir):
                raise ToolError(
                    f"module {call.name!r}: local source {call.source!r} is not a directory",
                    source=f"{call.file}:{call.line}",
                )
            real = os.path.realpath(child_dir)
            if real in ancestors:
                raise ToolError(
                    f"module {call.name!r}: source {call.source!r} includes itself",
                    source=f"{call.file}:{call.line}",
                )
            pending.append((call, child_dir))
        self.parser.parse([f for _, d in pending for f in _module_files(d)])
        for call, child_dir in pending:
            child_addr = f"{address}.module.{call.name}" if address else f"module.{call.name}"
            call.module = self.build(child_addr, child_dir, ancestors + (os.path.realpath(child_dir),))
        return module

    def _add_file(self, module: HclModule, raw: _RawModule, path: str, parsed: dict[str, Any]) -> None:
        body = parsed["body"]
        counters: dict[str, int] = {}
        for info in parsed["blocks"]:
            kind = info["kind"]
            idx = counters.get(kind, 0)
            counters[kind] = idx + 1
            labels = info["labels"]
            attrs = info["attrs"]
            if kind in ("resource", "data") and len(labels) == 2:
                blk = _block_body(body, kind, idx, labels)
                module.resources.append(self._resource(module.address, kind, labels, blk, info, path))
            elif kind == "variable" and labels:
                blk = _block_body(body, kind, idx, labels)
                name = labels[0]
                default_ast = attrs.get("default", {}).get("ast")
                default = blk.get("default")
                if default_ast is not None:
                    with contextlib.suppress(Unknown, EvalError):
                        default = evaluate(default_ast, Context({}))
                module.variables[name] = HclVariable(
                    name=name,
                    type=attrs["type"]["text"] if "type" in attrs else None,
                    default=default,
                    has_default="default" in attrs,
                    description=blk.get("description") if isinstance(blk.get("description"), str) else None,
                    sensitive=blk.get("sensitive") is True,
                    file=path,
                    line=info["line"],
                )
                raw.var_asts[name] = default_ast
            elif kind == "locals":
                for name, a in attrs.items():
                    module.local_expressions[name] = a["text"]
                    raw.local_asts[name] = a.get("ast") or ["unknown", "no ast"]
            elif kind == "output" and labels:
                if "value" in attrs:
                    module.outputs[labels[0]] = attrs["value"]["text"]
                    raw.output_asts[labels[0]] = attrs["value"].get("ast") or ["unknown", "no ast"]
            elif kind == "module" and labels:
                blk = _block_body(body, kind, idx, labels)
                name = labels[0]
                src = blk.get("source")
                call = HclModuleCall(
                    name=name,
                    source=src if isinstance(src, str) else "",
                    file=path,
                    line=info["line"],
                    inputs={k: v for k, v in blk.items() if k not in MODULE_META_ARGS},
                    input_references={
                        k: [HclReference(t, path, ln, k) for t, ln in a["refs"]]
                        for k, a in attrs.items()
                        if k not in MODULE_META_ARGS
                    },
                    count=attrs["count"]["text"] if "count" in attrs else None,
                    for_each=attrs["for_each"]["text"] if "for_each" in attrs else None,
                    version=blk.get("version") if isinstance(blk.get("version"), str) else None,
                )
                module.module_calls[name] = call
                raw.input_asts[name] = {
                    k: a["ast"] for k, a in attrs.items() if k not in MODULE_META_ARGS and "ast" in a
                }

    @staticmethod
    def _resource(
        module_address: str,
        kind: str,
        labels: list[str],
        blk: dict[str, Any],
        info: dict[str, Any],
        path: str,
    ) -> HclResource:
        rtype, name = labels
        mode = "managed" if kind == "resource" else "data"
        local = f"{rtype}.{name}" if mode == "managed" else f"data.{rtype}.{name}"
        attrs = info["attrs"]
        lifecycle: dict[str, Any] = {}
        lc = blk.get("lifecycle")
        if isinstance(lc, list):
            for entry in lc:
                if isinstance(entry, dict):
                    lifecycle.update(entry)
        elif isinstance(lc, dict):
            lifecycle = lc
        ic = lifecycle.get("ignore_changes", [])
        ignore = [_unwrap(x) for x in ic] if isinstance(ic, list) else [_unwrap(ic)]
        dep = blk.get("depends_on", [])
        return HclResource(
            address=f"{module_address}.{local}" if module_address else local,
            mode=mode,
            type=rtype,
            name=name,
            module_address=module_address,
            file=path,
            line=info["line"],
            end_line=info["end_line"],
            attributes=blk,
            expressions={k: a["text"] for k, a in attrs.items() if _has_expr(blk.get(k))},
            references=[HclReference(t, path, ln, where) for t, ln, where in info["refs"]],
            count=attrs["count"]["text"] if "count" in attrs else None,
            for_each=attrs["for_each"]["text"] if "for_each" in attrs else None,
            depends_on=[_unwrap(d) for d in dep] if isinstance(dep, list) else [_unwrap(dep)],
            ignore_changes=ignore,
            prevent_destroy=lifecycle.get("prevent_destroy") is True,
            sources={k: a["text"] for k, a in attrs.items()},
            attribute_lines={k: a["line"] for k, a in attrs.items()},
        )

    # ---- values -----------------------------------------------------------------------------

    def evaluate_all(self, root: HclModule, tfvars: dict[str, Any]) -> None:
        guard: set[tuple] = set()
        self._wire(root, None, None, tfvars, guard)
        for m in _walk(root):
            ev = m._evaluator
            assert ev is not None
            for name, var in m.variables.items():
                var.is_set, var.value = ev.var_value(name)
            for name in m.local_expressions:
                known, value = ev.local_value(name)
                m.locals[name] = value if known else None

    def _wire(
        self,
        module: HclModule,
        parent: _ModuleEval | None,
        call: HclModuleCall | None,
        tfvars: dict[str, Any],
        guard: set[tuple],
    ) -> None:
        ev = _ModuleEval(module, self.raw[id(module)], parent, call, tfvars, self.root_dir, guard)
        module._evaluator = ev
        for c in module.module_calls.values():
            if c.module is not None:
                self._wire(c.module, ev, c, {}, guard)


def _walk(m: HclModule) -> Iterator[HclModule]:
    yield m
    for c in m.module_calls.values():
        if c.module is not None:
            yield from _walk(c.module)


class _ModuleEval:
    """Lazy, memoised, cycle-guarded values of one module's variables, locals and outputs."""

    def __init__(
        self,
        module: HclModule,
        raw: _RawModule,
        parent: _ModuleEval | None,
        call: HclModuleCall | None,
        tfvars: dict[str, Any],
        root_dir: str,
        guard: set[tuple],
    ):
        self.module = module
        self.raw = raw
        self.parent = parent
        self.call = call
        self.tfvars = tfvars
        self.guard = guard
        self.memo: dict[tuple, tuple[bool, Any, bool]] = {}
        self.context = Context(
            {
                "var": Namespace("var", self._var),
                "local": Namespace("local", self._local),
                "module": Namespace("module", self._module),
                "path": {"module": module.directory, "root": root_dir, "cwd": os.getcwd()},
                "terraform": {"workspace": "default"},
            }
        )

    def _memoised(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """Run `compute` once per key; a key re-entered while computing is a cycle → Unknown."""
        hit = self.memo.get(key)
        if hit is not None:
            known, value, is_error = hit
            if known:
                return value
            raise EvalError(value) if is_error else Unknown(value)
        gkey = (id(self), *key)
        if gkey in self.guard:
            raise Unknown(f"cycle through {'.'.join(key)}")
        self.guard.add(gkey)
        try:
            value = compute()
        except Unknown as exc:
            self.memo[key] = (False, str(exc), False)
            raise
        except EvalError as exc:
            self.memo[key] = (False, str(exc), True)
            raise
        except RecursionError:
            self.memo[key] = (False, "too deep", False)
            raise Unknown("too deep") from None
        finally:
            self.guard.discard(gkey)
        self.memo[key] = (True, value, False)
        return value

    def _var(self, name: str) -> Any:
        if name not in self.module.variables:
            raise EvalError(f"undeclared variable {name}")
        return self._memoised(("var", name), lambda: self._compute_var(name))

    def _compute_var(self, name: str) -> Any:
        var = self.module.variables[name]
        if self.call is not None and self.parent is not None:
            ast = self.parent.raw.input_asts.get(self.call.name, {}).get(name)
            if ast is not None:
                value = evaluate(ast, self.parent.context)
                if value is None and var.has_default:
                    return var.default  # Terraform: null input to a (nullable) variable with a default
                return value
        elif name in self.tfvars:
            return self.tfvars[name]
        if var.has_default:
            if self.raw.var_asts.get(name) is not None:
                return evaluate(self.raw.var_asts[name], Context({}))
            return var.default
        raise Unknown(f"variable {name} has no value")

    def _local(self, name: str) -> Any:
        if name not in self.raw.local_asts:
            raise EvalError(f"undeclared local {name}")
        return self._memoised(("local", name), lambda: evaluate(self.raw.local_asts[name], self.context))

    def _module(self, name: str) -> Any:
        call = self.module.module_calls.get(name)
        if call is None:
            raise EvalError(f"undeclared module {name}")
        if call.module is None or call.module._evaluator is None:
            raise Unknown(f"module {name} is not loaded")
        if call.count is not None or call.for_each is not None:
            raise Unknown(f"module {name} has instances")
        child = call.module._evaluator
        return Namespace(f"module.{name}", child.output)

    def output(self, name: str) -> Any:
        if name not in self.raw.output_asts:
            raise EvalError(f"undeclared output {name}")
        return self._memoised(("output", name), lambda: evaluate(self.raw.output_asts[name], self.context))

    def var_value(self, name: str) -> tuple[bool, Any]:
        return self._safe(lambda: self._var(name))

    def local_value(self, name: str) -> tuple[bool, Any]:
        return self._safe(lambda: self._local(name))

    @staticmethod
    def _safe(fn: Callable[[], Any]) -> tuple[bool, Any]:
        try:
            value = fn()
            if _weight(value, MAX_STRING) > MAX_STRING:  # `[l, l]` nested 40 deep: 2**40 once copied
                return False, None
            return True, _plain(value)
        except (Unknown, EvalError, RecursionError):
            return False, None
        except Exception:  # noqa: BLE001 - never fail a load on an expression
            return False, None


def _plain(v: Any) -> Any:
    """Reject values that still contain lazy namespaces (e.g. `local.x = module.vpc`)."""
    if isinstance(v, Namespace):
        raise Unknown("namespace value")
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v


def _load_tfvars(path: str, parser: _Parser) -> dict[str, Any]:
    """Values of one tfvars file. tfvars hold constants only, so evaluation has no context."""
    if path.endswith(".json"):
        from converter.load.state import strict_json_loads

        data = strict_json_loads(_read(path), path, what="tfvars file")  # NaN, 1e400, 5000 digits, deep: one line
        if not isinstance(data, dict):
            raise ToolError("a .tfvars.json file must hold a JSON object", source=path)
        return data
    parser.parse([path])
    parsed = parser.results[path]
    out: dict[str, Any] = {}
    for info in parsed["blocks"]:
        if info["kind"] != "tfvar":
            continue
        name = info["labels"][0]
        try:
            out[name] = evaluate(info["attrs"][name]["ast"], Context({}))
        except (Unknown, EvalError):
            out[name] = parsed["body"].get(name)
    return out


def load_hcl(
    path: str | Path,
    var_files: Sequence[str | Path] = (),
    *,
    workers: int | None = None,
    cache_dir: str | Path | None = None,
) -> HclConfig:
    """Load the Terraform configuration rooted at directory `path`.

    `var_files` are applied after terraform.tfvars and *.auto.tfvars, in order (later wins), like
    `-var-file`. `workers` caps the parse pool (default: CPU count; 1 = in-process); `cache_dir`
    enables the per-file parse cache. Raises ToolError for unreadable/broken input.
    """
    root_dir = os.path.normpath(str(path))
    if not os.path.isdir(root_dir):
        raise ToolError("not a directory with Terraform configuration", source=str(path))
    if cache_dir is None:
        cache_dir = hclcache.configured()  # the CLI's user cache directory, unless --no-cache
    parser = _Parser(workers, cache_dir)
    gc_was_enabled = gc.isenabled()
    gc.disable()  # parse results are millions of small containers; see hcl_parse.parse_text
    try:
        loader = _Loader(root_dir, parser)
        var_paths = [*_root_tfvars(root_dir), *(str(v) for v in var_files)]
        # the HCL tfvars files go into the root module's batch, so they parse in the same worker pool as the .tf files
        loader.prefetch = [vf for vf in var_paths if not vf.endswith(".json") and os.path.isfile(vf)]
        root = loader.build("", root_dir, (os.path.realpath(root_dir),))
        tfvars: dict[str, Any] = {}
        for vf in var_paths:
            if not os.path.isfile(vf):
                raise ToolError("variable file not found", source=vf)
            tfvars.update(_load_tfvars(vf, parser))
        loader.evaluate_all(root, tfvars)
        return HclConfig(root=root, files_parsed=len(loader.tf_files))
    finally:
        parser.close()
        if gc_was_enabled:
            gc.enable()


_EXPR_CACHE: dict[str, list] = {}


def evaluate_expression(expression: str, module: HclModule) -> tuple[bool, Any]:
    """Evaluate Terraform expression text in `module`'s scope; returns (known, value), never raises.

    Accepts expression text (an `HclResource.expressions` value, `var.env`) or a python-hcl2
    attribute string (`"${var.env}-eks"`), so the mapping stage can resolve names and tags:
    `evaluate_expression("${var.env}-eks", m)` → (True, "prod-eks").
    """
    ev = module._evaluator
    if ev is None:
        return False, None
    text = expression
    if text.startswith("${") and text.endswith("}") and text.count("${") == 1:
        text = text[2:-1]
    elif "${" in text:
        text = '"' + text.replace("\n", "\\n") + '"'
    ast = _EXPR_CACHE.get(text)
    if ast is None:
        try:
            ast = _expression_ast(text)
        except Exception:  # noqa: BLE001 - unparsable text is simply unknown
            return False, None
        _EXPR_CACHE[text] = ast
    return ev._safe(lambda: evaluate(ast, ev.context))


def _expression_ast(text: str) -> list:
    tree = hcl2.parses_to_tree(f"x = (\n{text}\n)\n")
    attr = next(tree.find_data("attribute"))
    expr = [c for c in attr.children if isinstance(c, Tree)][-1]
    return to_ast(expr)


_config_address = config_address


#: Functions whose evaluator semantics match Terraform's for every input `evaluate_static` accepts. Left out:
#: `title` (Python's title() lower-cases the rest of each word, Terraform's does not), `substr` (negative offsets,
#: grapheme clusters) and `format` unless its format string is a literal with only %s / %d / %% verbs.
STATIC_FUNCTIONS = frozenset(
    {"merge", "concat", "lower", "upper", "trimspace", "tolist", "toset", "tomap", "tostring", "tonumber", "tobool",
     "length", "coalesce", "coalescelist", "jsonencode", "jsondecode", "cidrsubnet", "cidrhost", "lookup", "element",
     "join", "split", "replace", "flatten", "keys", "values", "compact", "distinct", "contains", "zipmap", "range",
     "one", "min", "max", "abs", "startswith", "endswith", "trimprefix", "trimsuffix", "reverse", "sort", "slice",
     "sum", "try", "can", "format"}
)


def evaluate_static(
    expression: str,
    module: HclModule,
    *,
    bindings: dict[str, dict[str, Any]] | None = None,
    functions: frozenset[str] = STATIC_FUNCTIONS,
) -> tuple[bool, Any]:
    """Like `evaluate_expression`, but known only when the value is fixed by the configuration itself.

    The expression — and, transitively, every local it reads and every module input that feeds a variable it
    reads — may use only literals, `var.*`, `local.*`, the names in `bindings` (an instance's `count` / `each`,
    e.g. ``{"count": {"index": 0}}``) and `functions`. Anything else — resources, data sources, module outputs,
    `path.*`, `terraform.workspace`, `self`, a `sensitive = true` variable, a root variable the environment
    overrides (`TF_VAR_<name>`) without a tfvars value — makes the result unknown: (False, None).
    Never raises.
    """
    ev = module._evaluator
    if ev is None:
        return False, None
    ast = _EXPR_CACHE.get(expression)
    if ast is None:
        try:
            ast = _expression_ast(expression)
        except Exception:  # noqa: BLE001 - unparsable text is simply unknown
            ast = ["unknown", "unparsable"]
        _EXPR_CACHE[expression] = ast
    bindings = bindings or {}
    try:
        if not _static(ast, ev, frozenset(), bindings, functions, set()):
            return False, None
    except RecursionError:
        return False, None
    ctx = ev.context.child(dict(bindings)) if bindings else ev.context
    return ev._safe(lambda: evaluate(ast, ctx))


_STATIC_FORMAT_VERB = re.compile(r"%(.)")


def _static(ast: list, ev: _ModuleEval, scope: frozenset[str], bindings: dict[str, dict[str, Any]],
            functions: frozenset[str], seen: set[tuple]) -> bool:
    def walk(node: Any, sc: frozenset[str] = scope) -> bool:
        return _static(node, ev, sc, bindings, functions, seen)

    kind = ast[0]
    if kind == "lit":
        return True
    if kind == "tmpl":
        return all(isinstance(p, str) or walk(p) for p in ast[1])
    if kind == "name":
        return ast[1] in scope or ast[1] in bindings
    if kind in ("attr", "index") and ast[1][0] == "name" and ast[1][1] not in scope:
        root = ast[1][1]
        key = ast[2] if kind == "attr" else (ast[2][1] if ast[2][0] == "lit" and isinstance(ast[2][1], str) else None)
        if key is None:
            return False
        if root == "var":
            return _static_var(ev, key, bindings, functions, seen)
        if root == "local":
            return _static_local(ev, key, functions, seen)
        return root in bindings and key in bindings[root]
    if kind == "attr":
        return walk(ast[1])
    if kind == "index":
        return walk(ast[1]) and walk(ast[2])
    if kind == "splat":
        return walk(ast[1]) and all(op[0] == "attr" or walk(op[1]) for op in ast[2])
    if kind == "tuple":
        return all(walk(a) for a in ast[1])
    if kind == "object":
        return all(walk(k) and walk(v) for k, v in ast[1])
    if kind == "cond":
        return walk(ast[1]) and walk(ast[2]) and walk(ast[3])
    if kind == "bin":
        return walk(ast[2]) and walk(ast[3])
    if kind == "un":
        return walk(ast[2])
    if kind == "call":
        name, args = ast[1], ast[2]
        if name not in functions:
            return False
        if name == "format":
            if not args or args[0][0] != "lit" or not isinstance(args[0][1], str):
                return False
            if any(v not in "sd%" for v in _STATIC_FORMAT_VERB.findall(args[0][1])):
                return False
        return all(walk(a) for a in args)
    if kind == "for":
        _, kname, vname, coll, key_ast, val_ast, cond_ast, _group = ast
        inner = scope | {n for n in (kname, vname) if n}
        return walk(coll) and all(walk(a, inner) for a in (key_ast, val_ast, cond_ast) if a is not None)
    return False


def _static_var(ev: _ModuleEval, name: str, bindings: dict[str, dict[str, Any]], functions: frozenset[str],
                seen: set[tuple]) -> bool:
    var = ev.module.variables.get(name)
    if var is None or var.sensitive:
        return False
    key = (id(ev), "var", name)
    if key in seen:
        return True  # already being checked higher up (a cycle is unknown to the evaluator anyway)
    seen.add(key)
    if ev.call is not None and ev.parent is not None:
        ast = ev.parent.raw.input_asts.get(ev.call.name, {}).get(name)
        if ast is None:
            return True  # the variable's default: a constant
        # module inputs are evaluated in the parent's scope, without the instance's count/each
        return _static(ast, ev.parent, frozenset(), {}, functions, seen)
    if name in ev.tfvars:
        return True
    return f"TF_VAR_{name}" not in os.environ


def _static_local(ev: _ModuleEval, name: str, functions: frozenset[str], seen: set[tuple]) -> bool:
    ast = ev.raw.local_asts.get(name)
    if ast is None:
        return False
    key = (id(ev), "local", name)
    if key in seen:
        return True
    seen.add(key)
    return _static(ast, ev, frozenset(), {}, functions, seen)
