"""Every Kubernetes name tf2kro emits, from one place: object names, kro instance names, RGD names and kinds,
the default namespace.

Why one module: `convert`, `plan` (kubectl commands, secret names, status matching) and `fleet upgrade` must agree
on a name byte for byte, or a rollback command deletes the wrong instance and `plan --status` never finds its
objects. Why env + root (stack) in every name: kro labels every child with its instance's applyset; two environments
or two Terraform roots that emit the same (kind, namespace, name) make kro refuse the second one
(`ApplySetConflictError`), and two roots that emit the same RGD kind overwrite each other's CRD — the second root's
instance then prunes the first root's objects.

Rules (docs/naming.md):
- a *stack* is `<env>-<root>`. When env or root contains a `-` the split is ambiguous (`a-b`+`c` vs `a`+`b-c`), so
  the stack then carries a 6-hex digest of the exact pair: `<env>-<root>-<hash>`. Env and root without a `-` (the
  common case) stay readable and cannot collide, because each is then exactly one `-`-separated word.
- object name `<stack>-<address name>`, instance name `<stack>-<part>`, RGD name `<stack>-<part>.<group>`: all
  DNS-1123 labels of at most 63 characters (kro copies the instance and RGD names into label values, which are
  limited to 63), truncated with an 8-hex digest of the full name when longer.
- RGD kind `UpperCamel(env) UpperCamel(root) [Hash] UpperCamel(part)`, at most 60 characters (kind regex allows 63;
  the generated CRD's plural — kind + "es" at worst — must also fit a 63-character DNS label), truncated with a
  digest like names.
- default namespace `<env>-infrastructure` (one namespace per environment; docs/naming.md says why).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from converter.model import ToolError

DNS_LABEL_MAX = 63
KIND_MAX = 60  # + "es" (plural) still a 63-character DNS label
_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_WORD = re.compile(r"^[a-z][a-z0-9]*$")


def digest(text: str, n: int = 8) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:n]


def is_dns_label(value: str) -> bool:
    return len(value) <= DNS_LABEL_MAX and bool(_LABEL.match(value))


def validate_root(value: str) -> str:
    """A `--root` value: a DNS-1123 label (lowercase letters, digits, `-`; at most 63; starts and ends alphanumeric)."""
    if not isinstance(value, str) or not is_dns_label(value):
        raise ToolError(f"root name {value!r} is not a DNS-1123 label (lowercase a-z, 0-9, '-', at most 63 characters, "
                        "starting and ending with a letter or digit)")
    return value


def sanitize(text: str, fallback: str) -> str:
    """Any text → a DNS-1123 label (lowercase, runs of other characters → `-`, at most 63 with a digest)."""
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if not s:
        return fallback
    return fit(s, text)


def fit(name: str, full: str | None = None, limit: int = DNS_LABEL_MAX) -> str:
    """`name` if it fits `limit`, else its head + `-` + 8 hex of the full (untruncated) name, so two long names that
    share a prefix stay distinct and the same input always gives the same output."""
    if len(name) <= limit:
        return name
    return name[: limit - 9].rstrip("-") + "-" + digest(full if full is not None else name)


def with_suffix(name: str, suffix: str, limit: int = DNS_LABEL_MAX) -> str:
    """`name + suffix`, truncated before the suffix (with a digest of the whole) so the suffix always survives:
    the green copy of a blue object keeps its `-green` ending."""
    full = name + suffix
    if len(full) <= limit:
        return full
    return name[: limit - len(suffix) - 9].rstrip("-") + "-" + digest(full) + suffix


def default_root(state_source: str) -> str:
    """The root (stack) name when `--root` is not given, derived from the state source only (deterministic):
    `-` → `stdin`; `…/<dir>/terraform.tfstate` (Terraform's default file name) → `<dir>`; any other file →
    its name without `.tfstate`/`.json` (`states/network.tfstate` → `network`). Sanitised to a DNS label;
    `root` when nothing usable is left. Works for `s3://bucket/key` sources too (the key's path)."""
    if state_source == "-":
        return "stdin"
    src = re.sub(r"\?.*$", "", str(state_source))
    p = PurePosixPath(src.replace("\\", "/"))
    stem = p.name
    for suffix in (".json", ".tfstate", ".backup"):
        stem = stem.removesuffix(suffix)
    if p.name in ("terraform.tfstate", "terraform.tfstate.backup", "default.tfstate", "") or stem in ("", "terraform"):
        stem = p.parent.name or stem
    return sanitize(stem, "root")


def default_namespace(env: str) -> str:
    return fit(f"{sanitize(env, 'main')}-infrastructure")


def _camel_word(text: str) -> str:
    words = [w for w in re.split(r"[^A-Za-z0-9]+", text) if w]
    return "".join(w[:1].upper() + w[1:].lower() for w in words)


@dataclass(frozen=True)
class Naming:
    """Names for one (environment, root) pair. Build once per emission: `Naming(env, root)`."""

    env: str
    root: str

    @property
    def _ambiguous(self) -> bool:
        return not (_WORD.match(self.env) and _WORD.match(self.root))

    @property
    def stack(self) -> str:
        """`<env>-<root>` (+ `-<hash6>` when either contains `-` or is not one lowercase word)."""
        base = f"{sanitize(self.env, 'main')}-{sanitize(self.root, 'root')}"
        if self._ambiguous:
            base += "-" + digest(f"{self.env}\0{self.root}", 6)
        return base

    def object_name(self, base: str) -> str:
        """metadata.name of an ACK object whose address-derived name is `base` (`vpc-main`)."""
        full = f"{self.stack}-{base}"
        return fit(full)

    def instance_name(self, part: str) -> str:
        """metadata.name of the kro instance of a phase (or of one part of a split phase: `network-2`)."""
        return fit(f"{self.stack}-{part}")

    def rgd_name(self, part: str, group: str) -> str:
        """`<stack>-<part>.<group>`, at most 63 in all: kro copies the RGD name into the instance's
        `kro.run/resource-graph-definition-name` label."""
        head = f"{self.stack}-{part}"
        return fit(head, head, DNS_LABEL_MAX - len(group) - 1) + "." + group

    def kind(self, part: str) -> str:
        """The RGD schema kind: `^[A-Z][a-zA-Z0-9]{0,62}$`, unique per (env, root, part)."""
        env, root = _camel_word(self.env) or "Main", _camel_word(self.root) or "Root"
        tag = digest(f"{self.env}\0{self.root}", 6) if self._ambiguous else ""
        text = f"{env}{root}{tag}{_camel_word(part)}"
        if not text[0].isalpha():
            text = "R" + text
        if len(text) > KIND_MAX:
            text = text[: KIND_MAX - 8] + digest(f"{self.env}\0{self.root}\0{part}")
        return text

    def namespace(self) -> str:
        return default_namespace(self.env)
