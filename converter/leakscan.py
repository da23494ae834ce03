"""Find a sensitive state value in output text, in every form tf2kro's serialisers can give it.

Why encoded forms: a secret is rarely written raw. `fleet.yaml` double-quotes a value holding `'` or `"` (`\\"`),
diff JSON escapes `"` and `\\`, JUnit XML writes `&amp;`/`&lt;`/`&quot;`, kro CEL writes a literal `${` as
`${"${"}`, and base64 (Kubernetes Secret data) hides everything. A raw-string scan misses every one of them. So each
secret is expanded into the encodings tf2kro emits (and one YAML layer over each), and all of them are needles of
one Aho-Corasick automaton (pyahocorasick): the scan stays one linear pass over the output whatever the number of
secrets (50k resources: ~480 secrets x ~30 forms x 80 MiB).
"""

from __future__ import annotations

import base64
import html
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

import ahocorasick
import yaml

from converter.model import ToolError
from converter.secrets import PEM_BLOCK

#: Shorter strings are too common to be told apart from ordinary output (and Terraform marks e.g. "true").
MIN_SECRET = 6
#: base64 fragments shorter than this match random base64 in output by chance.
MIN_B64 = 6
LITERAL_DOLLAR_BRACE = '${"${"}'  # kro's literal `${` (converter.emit.kro.escape_literals)

try:
    _Dumper: type = yaml.CSafeDumper
except AttributeError:  # pragma: no cover
    _Dumper = yaml.SafeDumper


class LeakError(ToolError):
    pass


def _yaml_quoted(s: str, style: str, allow_unicode: bool) -> str:
    text = yaml.dump(s, Dumper=_Dumper, default_style=style, width=1 << 30, allow_unicode=allow_unicode)
    text = text.rstrip("\n")
    if text.endswith("\n..."):
        text = text[:-4].rstrip("\n")
    return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == style else text


def _b64_fragments(data: bytes) -> set[str]:
    """The part of base64 that is fixed by `data` whatever precedes it: one fragment per alignment (0, 1 or 2
    bytes before it in the encoded stream), leading/trailing characters that mix in neighbouring bits dropped."""
    out: set[str] = set()
    for k, lead in ((0, 0), (1, 2), (2, 3)):
        for enc in (base64.b64encode, base64.urlsafe_b64encode):
            text = enc(b"\0" * k + data).decode("ascii").rstrip("=")
            text = text[lead:]
            if (k + len(data)) % 3:
                text = text[:-1]
            if len(text) >= MIN_B64:
                out.add(text)
    return out


def encoded_forms(secret: str) -> dict[str, str]:
    """Every form of `secret` tf2kro output may contain → the name of the encoding (for the error message)."""
    base: dict[str, str] = {secret: "raw"}

    def add(form: str, name: str) -> None:
        if form and len(form) >= MIN_SECRET:
            base.setdefault(form, name)

    add(json.dumps(secret, ensure_ascii=False)[1:-1], "JSON-escaped")
    add(json.dumps(secret, ensure_ascii=True)[1:-1], "JSON-escaped")
    add(xml_escape(secret), "XML-escaped")
    add(xml_escape(secret, {'"': "&quot;", "'": "&apos;"}), "XML-escaped")
    add(quoteattr(secret)[1:-1], "XML-attribute-escaped")
    add(html.escape(secret, quote=True), "XML-escaped")
    add(secret.replace("${", LITERAL_DOLLAR_BRACE), "CEL-escaped")
    cel = secret.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    add(cel.replace('"', '\\"'), "CEL-escaped")
    add(cel.replace("'", "\\'"), "CEL-escaped")
    forms = dict(base)
    for form, name in base.items():  # one YAML layer over each (a JSON string or a CEL expression in YAML)
        if form.isascii() and form.isprintable() and not any(c in form for c in "'\"\\"):
            continue  # YAML quotes it unchanged (the common case: skip the dumper)
        for style in ('"', "'"):
            for uni in (True, False):
                q = _yaml_quoted(form, style, uni)
                if len(q) >= MIN_SECRET:
                    forms.setdefault(q, f"YAML-quoted {name}" if name != "raw" else "YAML-quoted")
    for frag in _b64_fragments(secret.encode("utf-8")):
        forms.setdefault(frag, "base64")
    return forms


#: Structured secrets (a sensitive Helm `values` document) are parsed up to this size for their leaves.
MAX_DOCUMENT = 1 << 20


def _snake(key: str) -> str:
    """Helm keys are camelCase (`adminPassword`); secret names are matched on `_` boundaries."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", key).replace("-", "_").replace(".", "_")


def structured_leaves(secret: str) -> list[str]:
    """Secret-named string leaves of a sensitive YAML/JSON document: re-serialised (a Helm values document
    copied into fleet.yaml or an ApplicationSet) the document as a whole never appears, its password does."""
    if "\n" not in secret and not secret.lstrip().startswith(("{", "[")) or len(secret) > MAX_DOCUMENT:
        return []
    try:
        doc = yaml.load(secret, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506 - safe loader
    except (yaml.YAMLError, RecursionError, ValueError):
        return []
    from converter.secrets import is_secret_name

    out: list[str] = []
    stack: list[tuple[object, str]] = [(doc, "")]
    while stack:
        node, key = stack.pop()
        if isinstance(node, dict):
            stack.extend((v, str(k)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, key) for v in node)
        elif isinstance(node, str) and len(node) >= MIN_SECRET and is_secret_name(_snake(key)):
            out.append(node)
    return out


@dataclass
class LeakScanner:
    """One automaton over every encoded form of every secret; `find` and `scrub` are single passes."""

    automaton: ahocorasick.Automaton | None

    @classmethod
    def build(cls, secrets: Iterable[str]) -> LeakScanner:
        needles: dict[str, str] = {}
        plain = {s for s in secrets if isinstance(s, str) and len(s) >= MIN_SECRET}
        plain |= {leaf for s in list(plain) for leaf in structured_leaves(s)}
        for s in plain:
            for form, name in encoded_forms(s).items():
                needles.setdefault(form, name)
        if not needles:
            return cls(None)
        automaton = ahocorasick.Automaton()
        for form, name in needles.items():
            automaton.add_word(form, (len(form), name))
        automaton.make_automaton()
        return cls(automaton)

    def find(self, text: str) -> str | None:
        """The encoding name of the first secret form in `text` (never the secret itself), or None."""
        if self.automaton is None:
            return None
        for _end, (_length, name) in self.automaton.iter(text):
            return name
        return None

    def scrub(self, text: str, mask: str = "***") -> str:
        """`text` with every secret form replaced by `mask` (longest match first, left to right)."""
        if self.automaton is None:
            return text
        spans = sorted(((end - length + 1, end + 1) for end, (length, _n) in self.automaton.iter(text)),
                       key=lambda se: (se[0], -se[1]))
        if not spans:
            return text
        out, pos = [], 0
        for start, stop in spans:
            if stop <= pos:
                continue
            start = max(start, pos)
            out.append(text[pos:start])
            out.append(mask)
            pos = stop
        out.append(text[pos:])
        return "".join(out)


def check_no_secrets(files: dict[str, str], secrets: Iterable[str]) -> None:
    """Refuse output that contains any sensitive value of the state in any emitted encoding, or a private-key
    block. Nothing is written when this raises; the message names the file and the encoding, never the value."""
    scanner = LeakScanner.build(secrets)
    for rel, text in files.items():
        form = scanner.find(text)
        if form is not None:
            raise LeakError(
                f"refusing to write output: a sensitive value from the state ({form}) would appear in it "
                "(this is a tf2kro bug; nothing was written)",
                source=rel,
            )
        if PEM_BLOCK.search(text):
            raise LeakError("refusing to write output: a private key block would appear in it", source=rel)


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Replace known secret values, in every encoded form, in free text (reports, logs) before it is printed."""
    return LeakScanner.build(secrets).scrub(text)
