"""Terraform address helpers shared by the state and HCL sides."""

from __future__ import annotations

import re

_IDENT = r"[A-Za-z_][A-Za-z0-9_-]*"
_KEY = r'\[(?:[0-9]+|"(?:[^"\\\x00-\x1f\x7f]|\\.)*")\]'
#: A resource instance address as Terraform prints it (module path, optional `data.`, type.name, optional key).
ADDRESS = re.compile(rf"(?:module\.{_IDENT}(?:{_KEY})?\.)*(?:data\.)?{_IDENT}\.{_IDENT}(?:{_KEY})?\Z")


def is_address(text: str) -> bool:
    """True when `text` is exactly one Terraform resource (instance) address: safe to place unquoted in HCL
    (`to = ...`, `from = ...`), where a newline or `}` would otherwise end the block and start new code."""
    return bool(ADDRESS.match(text))


def hcl_quote(value: str) -> str:
    """The one HCL quoted-string form tf2kro writes: for instance keys in addresses, `import` ids, every string.

    It is Terraform's own `toHCLQuotedString` (internal/addrs/instance_key.go), so an address rendered here is
    byte-for-byte the one `terraform state list` prints and `import to=`/`removed from=`/`state rm` accept:
    printable non-ASCII stays UTF-8 (`["über"]`, not `["\\u00fcber"]`), `\\`, `"`, newline, CR and tab are
    escaped, `${`/`%{` are doubled so no template sequence survives, and other non-printable characters become
    `\\uXXXX`/`\\UXXXXXXXX`. Python's `str.isprintable` and Go's `unicode.IsPrint` agree: letters, marks,
    numbers, punctuation, symbols and the ASCII space."""
    out = ['"']
    n = len(value)
    for i, ch in enumerate(value):
        if ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch in "$%":
            out.append(ch * 2 if i + 1 < n and value[i + 1] == "{" else ch)
        elif not ch.isprintable():
            cp = ord(ch)
            out.append(f"\\u{cp:04x}" if cp < 0x10000 else f"\\U{cp:08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


_INDEX = re.compile(r"\[(?:\"(?:[^\"\\]|\\.)*\"|[0-9]+)\]")


def config_address(address: str) -> str:
    """Instance address → configuration address (all instance keys removed), which is how HCL names blocks:
    `module.eks.module.ng["default"].aws_eks_node_group.this[0]` → `module.eks.module.ng.aws_eks_node_group.this`."""
    return _INDEX.sub("", address.split(" (deposed", 1)[0])


def resource_of(address: str) -> str:
    """Instance address → resource address (the last key removed): what state `dependencies` name."""
    addr = address.split(" (deposed", 1)[0]
    return re.sub(r"\[(?:\"(?:[^\"\\]|\\.)*\"|[0-9]+)\]$", "", addr)
