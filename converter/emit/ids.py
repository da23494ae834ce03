"""kro resource ids: lowerCamelCase, `^[a-z][a-zA-Z0-9]*$`, unique, and not one of kro's reserved words
(reference/kro-gitops.md §1.2)."""

from __future__ import annotations

import re

RESERVED = frozenset(
    ["true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop", "package", "namespace", "return", "var", "void", "while", "apiVersion", "context", "dependency", "dependencies", "each", "externalRef", "externalReference", "externalRefs", "externalReferences", "graph", "instance", "item", "items", "kind", "kro", "metadata", "object", "resource", "resourcegraphdefinition", "resourceGraphDefinition", "resources", "root", "runtime", "schema", "self", "serviceAccountName", "spec", "status", "this", "variables", "vars", "version"]
)
_ID = re.compile(r"^[a-z][a-zA-Z0-9]*$")


def camel(text: str, *, upper: bool = False) -> str:
    words = [w for w in re.split(r"[^A-Za-z0-9]+", text) if w]
    if not words:
        return "x"
    out = words[0].lower() + "".join(w[:1].upper() + w[1:].lower() for w in words[1:])
    if not out[0].isalpha():
        out = "r" + out
    if upper:
        out = out[0].upper() + out[1:]
    return out


def kro_id(name: str, used: set[str]) -> str:
    """`eks-mng-general-eks-node-group-this` → `eksMngGeneralEksNodeGroupThis`, made unique within `used`."""
    base = camel(name)
    if base in RESERVED:
        base += "Res"
    candidate, n = base, 2
    while candidate in used:
        candidate = f"{base}{n}"
        n += 1
    assert _ID.match(candidate), candidate
    used.add(candidate)
    return candidate


def is_valid_id(value: str) -> bool:
    return bool(_ID.match(value)) and value not in RESERVED
