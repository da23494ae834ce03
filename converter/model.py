"""The typed model every stage shares: Terraform resource instances as loaded from state (and HCL),
and the per-instance conversion result.

Why one model: load → graph → map → emit → diff all speak of the same *Terraform address*
(`module.eks.aws_eks_node_group.this["default"]`), so the address is the key everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ToolError(Exception):
    """A user-facing error: bad input, unreadable file, AWS failure. The CLI prints it and exits 2.

    `source` names the file or resource the message is about, so the user knows where to look.
    """

    exit_code = 2

    def __init__(self, message: str, source: str | None = None):
        super().__init__(message)
        self.source = source

    def __str__(self) -> str:  # pragma: no cover - trivial
        msg = super().__str__()
        return f"{self.source}: {msg}" if self.source else msg


@dataclass(frozen=True)
class SensitivePath:
    """One attribute path Terraform marks sensitive, e.g. ("password",) or ("master_user_secret", 0, "secret_arn")."""

    steps: tuple[str | int, ...]


@dataclass
class ResourceInstance:
    """One instance of a managed (or data) resource in state: the unit that gets adopted.

    `attributes` are the raw state attributes (secrets included — they never leave the process: emitters
    read them only through `converter.secrets`).
    """

    address: str
    mode: str  # "managed" | "data"
    type: str
    name: str
    module: str  # "" for the root module, else "module.a.module.b[\"x\"]"
    index_key: int | str | None
    provider: str
    attributes: dict[str, Any]
    schema_version: int = 0
    sensitive_paths: tuple[SensitivePath, ...] = ()
    dependencies: tuple[str, ...] = ()  # resource (not instance) addresses, as state records them
    tainted: bool = False
    deposed: bool = False
    identity: dict[str, Any] | None = None
    source_file: str = ""  # the state file this came from

    @property
    def resource_address(self) -> str:
        """The address without the instance key: what `dependencies` entries point at."""
        prefix = f"{self.module}." if self.module else ""
        base = f"data.{self.type}.{self.name}" if self.mode == "data" else f"{self.type}.{self.name}"
        return prefix + base

    @property
    def is_managed(self) -> bool:
        return self.mode == "managed"

    @property
    def provider_name(self) -> str:
        """`registry.terraform.io/hashicorp/aws` → `aws` (the provider type, alias dropped)."""
        p = self.provider
        if "provider[" in p:
            p = p.split("provider[", 1)[1].split("]", 1)[0].strip('"')
        elif p.startswith("provider."):
            p = p[len("provider.") :]
        return p.rsplit("/", 1)[-1].split(".", 1)[0]


@dataclass
class StateFile:
    path: str
    version: int
    terraform_version: str
    serial: int
    lineage: str
    instances: list[ResourceInstance]
    outputs: dict[str, Any] = field(default_factory=dict)
    check_results: Any = None

    @property
    def managed(self) -> list[ResourceInstance]:
        return [i for i in self.instances if i.is_managed]

    def by_address(self) -> dict[str, ResourceInstance]:
        return {i.address: i for i in self.instances}


class Status(StrEnum):
    """Every managed resource ends in exactly one of these: nothing is dropped silently."""

    MAPPED = "mapped"
    FOLDED = "folded"
    UNSUPPORTED = "unsupported"
    # an ACK kind exists, but someone outside Terraform keeps writing a field ACK would sync as a whole
    # (converter/ownership): adopting it would make ACK fight that writer, so it stays where it is
    NOT_ADOPTED = "not-adopted"


# statuses whose resources stay managed by Terraform after the migration (nothing is handed over to ACK)
STAYS_IN_TERRAFORM = frozenset({Status.UNSUPPORTED, Status.NOT_ADOPTED})


@dataclass
class Omission:
    """A field the converter deliberately did not render, with why (sensitive, not in state, no ACK field)."""

    field: str
    reason: str


@dataclass
class Conversion:
    """What became of one Terraform instance."""

    address: str
    type: str
    phase: str
    status: Status
    kind: str | None = None  # "ec2.services.k8s.aws/v1alpha1/VPC" for mapped
    object_name: str | None = None  # metadata.name of the ACK object
    fold_parent: str | None = None  # address of the parent for folded
    reason: str | None = None  # for unsupported (and notes for folded)
    adoption_fields: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None  # the rendered ACK object (mapped only)
    omissions: list[Omission] = field(default_factory=list)
    wave: int = 0
