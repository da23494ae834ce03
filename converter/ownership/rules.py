"""mappings/_ownership.yaml as typed rules: which fields ACK syncs as a whole, which Terraform types write another
object's field, which markers name a writer outside Terraform. Data, not code: adding a marker is a YAML edit,
checked against mappings/_ownership_schema.yaml when loaded (a typo is an error naming the file)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from converter.mapping.spec import default_mappings_dir
from converter.model import ToolError

DECISION_RANK = {"note": 0, "fold": 0, "omit": 1, "not-adopted": 2}


@dataclass(frozen=True)
class Marker:
    """A sign in state that an AWS service or an in-cluster controller writes some fields of an object."""

    id: str
    applies_to: tuple[str, ...]
    when: dict[str, Any]
    writer_kind: str  # aws-service | controller
    writer_name: str
    fields: tuple[str, ...]
    decision: str  # omit | not-adopted | note
    why: str

    def applies(self, tf_type: str) -> bool:
        return "*" in self.applies_to or tf_type in self.applies_to


@dataclass(frozen=True)
class OwnershipRules:
    atomic_fields: dict[str, dict[str, str]]  # tf type -> ACK field -> controller code that syncs it as a whole
    tags_controller: str
    writers: dict[str, tuple[str, ...]]  # tf type of a writer resource -> ACK fields it writes on its target
    markers: tuple[Marker, ...]
    live_only: dict[str, dict[str, str]]  # ACK field -> {decision, why}

    def atomic(self, tf_type: str, tags_field: str | None) -> dict[str, str]:
        """The atomically-synced ACK fields of one type, with the controller code behind each."""
        out = dict(self.atomic_fields.get(tf_type, {}))
        if tags_field:
            out.setdefault(tags_field, self.tags_controller)
        return out


def _load(path: Path) -> Any:
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError) as exc:
        raise ToolError(f"cannot read ownership rules: {exc}", source=str(path)) from None


@lru_cache(maxsize=4)
def load_rules(directory: str | None = None) -> OwnershipRules:
    root = Path(directory) if directory else default_mappings_dir()
    if not (root / "_ownership.yaml").is_file():  # a custom mappings dir without its own rules: the bundled ones
        root = Path(__file__).resolve().parents[2] / "mappings"
    path = root / "_ownership.yaml"
    doc = _load(path)
    schema = _load(root / "_ownership_schema.yaml")
    errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        e = errors[0]
        loc = "/".join(str(p) for p in e.absolute_path)
        raise ToolError(f"does not match _ownership_schema.yaml at {loc or '<root>'}: {e.message}", source=str(path))
    writers = {t: ((w["field"],) if isinstance(w["field"], str) else tuple(w["field"])) for t, w in doc["writers"].items()}
    markers = tuple(
        Marker(id=m["id"], applies_to=tuple(m["applies_to"]), when=dict(m["when"]), writer_kind=m["writer"]["kind"],
               writer_name=m["writer"]["name"], fields=tuple(m["fields"]), decision=m["decision"], why=" ".join(m["why"].split()))
        for m in doc["markers"]
    )
    return OwnershipRules(atomic_fields=doc["atomic_fields"], tags_controller=doc["tags_controller"], writers=writers,
                          markers=markers, live_only=doc["live_only"])
