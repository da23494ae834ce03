"""Terraform variables → the RGD's `schema.spec`.

Why: an RGD whose fields come from the Terraform variables that fed them is reusable per environment (the
instance carries this environment's values, exactly as terraform.tfvars did). A rendered field becomes
`${schema.spec.<var>}` only when the HCL expression is exactly `var.X` (through any chain of module inputs
that pass the variable straight through) and the variable's resolved value equals the rendered state value —
so the instance reproduces the state byte for byte and nothing changes in AWS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from converter.emit.ids import RESERVED, camel

_VAR = re.compile(r"^(?:\$\{\s*)?var\.([A-Za-z_][A-Za-z0-9_-]*)(?:\s*\})?$")


@dataclass
class SchemaVariable:
    field: str  # schema.spec field name (lowerCamel)
    variable: str  # root Terraform variable
    value: Any
    simple_type: str  # SimpleSchema type
    description: str | None = None
    used_by: list[str] = field(default_factory=list)  # Terraform addresses


def _simple_type(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return "[]string"
    return None


def root_variable(hcl: Any, module_address: str, expression: str) -> str | None:
    """Follow `var.X` up through module inputs to a root variable name; None if anything is not a plain pass-through."""
    m = _VAR.match(expression.strip()) if isinstance(expression, str) else None
    if not m:
        return None
    name = m.group(1)
    modules = {mod.address: mod for mod in hcl.modules()}
    addr = module_address
    while addr:
        parent_addr, _, call_name = addr.rpartition(".module.")
        if not _:
            parent_addr, call_name = "", addr.removeprefix("module.")
        parent = modules.get(parent_addr)
        call = parent.module_calls.get(call_name) if parent else None
        if call is None or call.count or call.for_each:
            return None
        m = _VAR.match(str(call.inputs.get(name, "")).strip())
        if not m:
            return None
        name, addr = m.group(1), parent_addr
    return name if name in hcl.root.variables else None


def schema_variables(hcl: Any, objects: dict[str, Any], members: list[str]) -> dict[tuple[str, str], SchemaVariable]:
    """(address, spec field) → the schema variable that field is bound to, for the objects of one phase."""
    from converter.load.address import config_address

    bound: dict[tuple[str, str], SchemaVariable] = {}
    by_var: dict[str, SchemaVariable] = {}
    if hcl is None:
        return bound
    for addr in members:
        mo = objects[addr]
        res = hcl.resource(config_address(addr))
        if res is None:
            continue
        for target, attr in sorted(mo.field_sources.items()):
            expr = res.expressions.get(attr)
            if not expr:
                continue
            var = root_variable(hcl, res.module_address, expr)
            if var is None:
                continue
            hv = hcl.root.variables[var]
            if not hv.is_set or hv.sensitive:
                continue
            rendered = _lookup(mo.spec, target)
            if rendered != hv.value or _simple_type(hv.value) is None:
                continue
            sv = by_var.get(var)
            if sv is None:
                fname = camel(var)
                if fname in RESERVED or fname == "region":
                    fname = "tf" + fname[:1].upper() + fname[1:]
                sv = by_var[var] = SchemaVariable(fname, var, hv.value, _simple_type(hv.value) or "string", hv.description)
            sv.used_by.append(addr)
            bound[(addr, target)] = sv
    return bound


def _lookup(spec: dict[str, Any], dotted: str) -> Any:
    node: Any = spec
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def simple_schema(sv: SchemaVariable) -> str:
    """`string | required=true description="…"` — the instance always sets the value, so no default is
    baked into the RGD (the RGD stays environment-neutral)."""
    desc = (sv.description or f"Terraform variable {sv.variable}").replace('"', "'")
    return f'{sv.simple_type} | required=true description="{desc}"'
