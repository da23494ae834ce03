"""The mapping files (mappings/*.yaml) as typed objects.

One YAML file per AWS service, like the ACK code-generator's `generator.yaml`: renames, tag shapes,
adoption-fields and folds are data. See docs/mappings.md for the format. Files are checked against
mappings/_schema.yaml when loaded, so a typo in a mapping is an error naming the file, not a silent drop.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from converter.mapping import transforms_services  # noqa: F401  (registers its transforms)
from converter.mapping.transforms import POST, TRANSFORMS
from converter.model import ToolError
from converter.packagedata import mappings_dir

try:
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing
    _Loader = yaml.SafeLoader

UNSET = object()
TAG_SHAPES = ("list", "map", "kms", "none")


def default_mappings_dir() -> Path:
    env = os.environ.get("TF2KRO_MAPPINGS")
    if env:
        return Path(env)
    return mappings_dir()


@dataclass
class FieldSpec:
    """One ACK field and where its value comes from."""

    target: str
    sources: tuple[str, ...] = ()  # candidate state paths, first present wins; () = the whole attribute object
    value: Any = UNSET  # a constant instead of a source
    transforms: tuple[str, ...] = ()
    fields: tuple[FieldSpec, ...] | None = None  # build an object from the source object
    each: tuple[FieldSpec, ...] | None = None  # build a list of objects from a list of source objects
    keep_empty: bool = False
    omit: tuple[Any, ...] = ()  # source values that mean "not set" (e.g. a provider default AWS does not return)


@dataclass
class TagSpec:
    field: str  # ACK spec path: tags, tagging.tagSet
    shape: str  # list ({key,value}), map, kms ({tagKey,tagValue})
    source: tuple[str, ...] = ("tags_all", "tags")


@dataclass
class FoldRule:
    """How a Terraform resource with no ACK kind of its own becomes part of its parent's object."""

    into: tuple[str, ...]
    match: dict[str, str]  # child path -> parent path; all must be equal
    when: dict[str, Any] = field(default_factory=dict)  # child path -> required value
    append: tuple[FieldSpec, ...] = ()  # item appended to a list field of the parent
    set: tuple[FieldSpec, ...] = ()  # fields set on the parent
    entry: tuple[tuple[str, str, FieldSpec], ...] = ()  # (map field, key source, value spec)


@dataclass
class TypeMapping:
    tf_type: str
    service: str
    file: str
    phase: str
    group: str = ""
    version: str = ""
    kind: str = ""
    adopt: dict[str, FieldSpec] = field(default_factory=dict)
    references: dict[str, str] = field(default_factory=dict)
    tags: TagSpec | None = None
    spec: tuple[FieldSpec, ...] = ()
    annotations: dict[str, FieldSpec] = field(default_factory=dict)
    post: tuple[str, ...] = ()
    folds: tuple[FoldRule, ...] = ()
    unsupported: str | None = None
    describe: dict[str, Any] | None = None
    ready_when: str | None = None
    import_id: str | None = None  # template over state attributes, e.g. "{role}/{policy_arn}"; None = "{id}"

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}"

    @property
    def kind_ref(self) -> str:
        return f"{self.group}/{self.version}/{self.kind}"

    @property
    def is_mapped(self) -> bool:
        return bool(self.kind)

    @property
    def is_fold(self) -> bool:
        return bool(self.folds)


@dataclass
class MappingSet:
    types: dict[str, TypeMapping]
    phases: dict[str, Any]  # _phases.yaml: phase order + phase of types with no mapping
    directory: str

    def get(self, tf_type: str) -> TypeMapping | None:
        return self.types.get(tf_type)

    def phase_for_unmapped(self, tf_type: str) -> str:
        for prefix, phase in self.phases.get("by_prefix", {}).items():
            if tf_type.startswith(prefix):
                return phase
        return "other"

    @property
    def phase_order(self) -> list[str]:
        return list(self.phases.get("order", ["network", "identity", "cluster", "addons", "other"]))


def _load_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise ToolError(f"invalid YAML: {exc}", source=str(path)) from None


def _field(target: str, raw: Any, where: str) -> FieldSpec:
    if isinstance(raw, str):
        return FieldSpec(target=target, sources=(raw,))
    if not isinstance(raw, dict):
        raise ToolError(f"field {target!r}: expected a source path or an object, got {raw!r}", source=where)
    src = raw.get("from", ())
    sources = (src,) if isinstance(src, str) else tuple(src)
    tr = raw.get("transform", ())
    transforms = (tr,) if isinstance(tr, str) else tuple(tr)
    for t in transforms:
        if t not in TRANSFORMS:
            raise ToolError(f"field {target!r}: unknown transform {t!r} (known: {', '.join(sorted(TRANSFORMS))})", source=where)
    sub = raw.get("fields")
    each = raw.get("each")
    return FieldSpec(
        target=target,
        sources=sources,
        value=raw.get("value", UNSET),
        transforms=transforms,
        fields=tuple(_field(k, v, where) for k, v in sub.items()) if isinstance(sub, dict) else None,
        each=tuple(_field(k, v, where) for k, v in each.items()) if isinstance(each, dict) else None,
        keep_empty=bool(raw.get("keep_empty", False)),
        omit=tuple(raw.get("omit", ())),
    )


def _fields(raw: dict[str, Any] | None, where: str) -> tuple[FieldSpec, ...]:
    return tuple(_field(k, v, where) for k, v in (raw or {}).items())


def _fold(raw: dict[str, Any], where: str) -> FoldRule:
    into = raw["into"]
    entries = []
    for target, spec in (raw.get("entry") or {}).items():
        entries.append((target, spec["key"], _field(target, spec["value"], where)))
    return FoldRule(
        into=(into,) if isinstance(into, str) else tuple(into),
        match=dict(raw.get("match") or {}),
        when=dict(raw.get("when") or {}),
        append=_fields(raw.get("append"), where),
        set=_fields(raw.get("set"), where),
        entry=tuple(entries),
    )


@lru_cache(maxsize=8)
def load_mappings(directory: str | None = None) -> MappingSet:
    """Load and check every mappings/*.yaml. Cached: mappings are read once per process."""
    root = Path(directory) if directory else default_mappings_dir()
    if not root.is_dir():
        raise ToolError("mappings directory not found (set TF2KRO_MAPPINGS)", source=str(root))
    schema = _load_yaml(root / "_schema.yaml")
    phases = _load_yaml(root / "_phases.yaml") or {}
    validator = jsonschema.Draft202012Validator(schema)
    types: dict[str, TypeMapping] = {}
    for path in sorted(root.glob("*.yaml")):
        if path.name.startswith("_"):
            continue
        doc = _load_yaml(path)
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        if errors:
            e = errors[0]
            loc = "/".join(str(p) for p in e.absolute_path)
            raise ToolError(f"mapping does not match mappings/_schema.yaml at {loc or '<root>'}: {e.message}", source=str(path))
        from converter.diff.operations import check_mapping_operations

        check_mapping_operations(doc, str(path))
        for tf_type, raw in (doc.get("resources") or {}).items():
            where = f"{path}: {tf_type}"
            if tf_type in types:
                raise ToolError(f"{tf_type} is mapped twice (also in {types[tf_type].file})", source=str(path))
            folds = raw.get("fold")
            fold_list = folds if isinstance(folds, list) else ([folds] if folds else [])
            for p in raw.get("post", ()):
                if p not in POST:
                    raise ToolError(f"unknown post-processor {p!r}", source=where)
            tags = raw.get("tags")
            tm = TypeMapping(
                tf_type=tf_type,
                service=doc["service"],
                file=str(path),
                phase=raw.get("phase") or doc.get("phase") or "other",
                group=doc.get("group", ""),
                version=doc.get("version", "v1alpha1"),
                kind=raw.get("kind", ""),
                adopt={k: _field(k, v, where) for k, v in (raw.get("adopt") or {}).items()},
                references=dict(raw.get("references") or {}),
                tags=TagSpec(field=tags["field"], shape=tags["shape"], source=tuple(tags.get("source", ("tags_all", "tags"))))
                if tags
                else None,
                spec=_fields(raw.get("spec"), where),
                annotations={k: _field(k, v, where) for k, v in (raw.get("annotations") or {}).items()},
                post=tuple(raw.get("post", ())),
                folds=tuple(_fold(f, where) for f in fold_list),
                unsupported=raw.get("unsupported"),
                describe=raw.get("describe"),
                ready_when=raw.get("ready_when"),
                import_id=raw.get("import_id"),
            )
            types[tf_type] = tm
    return MappingSet(types=types, phases=phases, directory=str(root))
