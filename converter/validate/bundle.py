"""The CRD schemas shipped with tf2kro, so `tf2kro validate` works offline out of the box.

Why a bundle and not the CRD files: upstream CRDs are 8 MB of YAML, mostly descriptions. Validation needs only
the structure (types, properties, required, enums, formats, patterns, bounds and the `x-kubernetes-*` markers),
so each CRD is reduced to that and all of them are stored as one gzip'd JSON file
(`converter/validate/schemas/crds.json.gz`), a few hundred KB that load in well under a second.

Where they come from is recorded in `schemas/upstream.yaml` (repo, release, commit per source directory) and
copied into the bundle. Regenerate with `python -m converter.validate.bundle SRC` where SRC holds the upstream
CRD copies (../shared/crds in this project): the generator refuses a directory whose VERSIONS*.md does not name
the pinned commit. The output is byte-identical for the same input (sorted keys, gzip mtime 0).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from converter.model import ToolError

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"
BUNDLE = SCHEMA_DIR / "crds.json.gz"
UPSTREAM = SCHEMA_DIR / "upstream.yaml"
SOURCE_ANNOTATION = "tf2kro.dev/crd-source"

# Schema keywords that change what validates. Everything else (description, example, externalDocs, default,
# title) is documentation or defaulting and is dropped.
_KEEP = frozenset(
    {
        "type", "format", "enum", "pattern", "required", "nullable",
        "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
        "minLength", "maxLength", "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties",
    }
)
_SUBSCHEMA = frozenset({"items", "additionalProperties", "not"})
_SUBSCHEMA_LIST = frozenset({"allOf", "anyOf", "oneOf"})
_SUBSCHEMA_MAP = frozenset({"properties", "patternProperties", "definitions"})


def compact_schema(node: Any) -> Any:
    """A structural schema minus documentation: only keywords that affect validation, recursively.

    `x-kubernetes-*` markers are kept verbatim (preserve-unknown-fields, int-or-string, embedded-resource,
    list/map types, CEL validations): the validator and kro's static checks read them.
    """
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _SUBSCHEMA_MAP and isinstance(value, dict):
            out[key] = {k: compact_schema(v) for k, v in value.items()}
        elif key in _SUBSCHEMA:
            out[key] = compact_schema(value)
        elif key in _SUBSCHEMA_LIST and isinstance(value, list):
            out[key] = [compact_schema(v) for v in value]
        elif key in _KEEP or key.startswith("x-kubernetes-"):
            out[key] = value
    return out


def compact_crd(crd: dict[str, Any], source: str) -> dict[str, Any]:
    """The parts of a CRD `CrdIndex.add_crd` reads (group, kind, scope, versions with schemas), compacted."""
    spec = crd.get("spec") or {}
    names = spec.get("names") or {}
    versions = []
    for v in spec.get("versions") or []:
        entry: dict[str, Any] = {"name": v.get("name"), "served": v.get("served", True), "storage": v.get("storage", False)}
        schema = (v.get("schema") or {}).get("openAPIV3Schema")
        if schema is not None:
            entry["schema"] = {"openAPIV3Schema": compact_schema(schema)}
        versions.append(entry)
    return {
        "apiVersion": crd.get("apiVersion", "apiextensions.k8s.io/v1"),
        "kind": "CustomResourceDefinition",
        "metadata": {"name": (crd.get("metadata") or {}).get("name", ""), "annotations": {SOURCE_ANNOTATION: source}},
        "spec": {
            "group": spec.get("group", ""),
            "names": {k: names[k] for k in ("kind", "plural") if k in names},
            "scope": spec.get("scope", "Namespaced"),
            "versions": versions,
        },
    }


def _check_pin(src: Path, directory: str, pin: dict[str, Any]) -> None:
    """The source copy must be the pinned one: some VERSIONS*.md at or above it names the commit."""
    commit = str(pin.get("commit", ""))
    here = src / directory
    notes = [p for d in (here, *here.parents) if d == src or src in d.parents for p in d.glob("VERSIONS*")]
    if not commit or not any(commit in p.read_text(encoding="utf-8") for p in notes):
        raise ToolError(f"no VERSIONS file names the pinned commit {commit or '(none)'} of {directory}", str(here))


def build(src: Path, upstream: Path = UPSTREAM) -> dict[str, Any]:
    """The bundle document from the upstream CRD copies under `src`, as pinned by `upstream`."""
    pins = (yaml.safe_load(upstream.read_text(encoding="utf-8")) or {}).get("sources") or {}
    crds: list[dict[str, Any]] = []
    sources: dict[str, Any] = {}
    for directory, pin in sorted(pins.items()):
        _check_pin(src, directory, pin)
        wanted = pin.get("files")
        files = [src / directory / f for f in wanted] if wanted else sorted((src / directory).glob("*.yaml"))
        digests = {}
        for f in files:
            if not f.is_file():
                raise ToolError("pinned CRD file missing", str(f))
            raw = f.read_bytes()
            digests[f.name] = hashlib.sha256(raw).hexdigest()
            for doc in yaml.load_all(raw, Loader=yaml.CSafeLoader):
                if isinstance(doc, dict) and doc.get("kind") == "CustomResourceDefinition":
                    crds.append(compact_crd(doc, f"{directory}/{f.name}@{pin.get('release')}"))
        sources[directory] = {k: pin[k] for k in ("repo", "release", "commit") if k in pin} | {"files": digests}
    crds.sort(key=lambda c: (c["spec"]["group"], c["spec"]["names"].get("kind", "")))
    return {"generator": "python -m converter.validate.bundle", "sources": sources, "crds": crds}


def write(doc: dict[str, Any], path: Path = BUNDLE) -> int:
    """Write the bundle reproducibly (sorted keys, no whitespace, gzip mtime 0); returns its size in bytes."""
    raw = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    data = gzip.compress(raw, compresslevel=9, mtime=0)
    path.write_bytes(data)
    return len(data)


@lru_cache(maxsize=1)
def load() -> dict[str, Any]:
    """The bundle shipped with the package (parsed once per process)."""
    try:
        return json.loads(gzip.decompress(BUNDLE.read_bytes()))
    except (OSError, ValueError) as exc:
        raise ToolError(f"bundled CRD schemas unreadable: {exc}", str(BUNDLE)) from exc


def bundled_crds() -> list[dict[str, Any]]:
    """The compact CRD objects of the bundle (feed them to `CrdIndex.add_crd`)."""
    return load()["crds"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m converter.validate.bundle", description=__doc__.split("\n\n")[0])
    ap.add_argument("src", type=Path, help="directory holding the upstream CRD copies (e.g. ../shared/crds)")
    ap.add_argument("--out", type=Path, default=BUNDLE)
    args = ap.parse_args(argv)
    try:
        doc = build(args.src)
    except ToolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    size = write(doc, args.out)
    kinds = sum(len(c["spec"]["versions"]) for c in doc["crds"])
    print(f"wrote {args.out}: {len(doc['crds'])} CRDs ({kinds} versions) from {len(doc['sources'])} sources, {size} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
