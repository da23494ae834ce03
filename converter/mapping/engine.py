"""Map: Terraform state instances → ACK objects (mapped), parts of a parent's object (folded), or
unsupported-with-a-reason. Driven entirely by mappings/*.yaml; this module knows no resource type by name.

Safety rules enforced here (reference/ack.md §4):
- a field is rendered only from a value present in state, and equal to it (after the named AWS-shape
  transforms); absent/unknown values are omitted so ACK's `adopt` fills them from AWS instead of changing AWS;
- tags come from `tags_all` (provider default_tags included) — ACK syncs tags as an exact set;
- lists ACK owns completely (SG rules, routes, policies, route-table associations) are completed by folding
  every child resource into the parent before rendering;
- sensitive values are never rendered: the field is dropped and reported.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from converter.gcpause import gc_paused
from converter.mapping.paths import MISSING, assign, lookup, resolve, resolved_steps
from converter.mapping.spec import UNSET, FieldSpec, FoldRule, MappingSet, TypeMapping
from converter.mapping.transforms import POST, TRANSFORMS, Context, is_empty
from converter.model import Conversion, Omission, ResourceInstance, StateFile, Status, ToolError
from converter.secrets import is_sensitive_path

ADOPTION_POLICY = "services.k8s.aws/adoption-policy"
ADOPTION_FIELDS = "services.k8s.aws/adoption-fields"
DELETION_POLICY = "services.k8s.aws/deletion-policy"
REGION = "services.k8s.aws/region"
READ_ONLY = "services.k8s.aws/read-only"
TF_ADDRESS = "tf2kro.dev/terraform-address"


@dataclass
class MappedObject:
    """A mapped instance while it is being built (folds add to `spec`)."""

    inst: ResourceInstance
    mapping: TypeMapping
    conversion: Conversion
    spec: dict[str, Any]
    annotations: dict[str, str]
    folded: list[str] = field(default_factory=list)  # addresses folded into this object
    # top-level spec field -> the state attribute it was rendered from (lets emit swap in schema variables)
    field_sources: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "apiVersion": self.mapping.api_version,
            "kind": self.mapping.kind,
            "metadata": {"name": self.conversion.object_name, "annotations": dict(sorted(self.annotations.items()))},
        }
        if self.spec:
            obj["spec"] = self.spec
        return obj


@dataclass
class MapResult:
    conversions: dict[str, Conversion]  # by Terraform address, every managed instance
    objects: dict[str, MappedObject]  # by Terraform address, mapped only
    region: str | None
    account_id: str | None

    def counts(self) -> dict[str, int]:
        out = {s.value: 0 for s in Status}
        for c in self.conversions.values():
            out[c.status.value] += 1
        return out


_ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:([a-z]{2}(?:-[a-z]+)+-\d):(\d{12})?:")


def detect_region_account(state: StateFile) -> tuple[str | None, str | None]:
    """The most common region/account in the state's ARNs (the provider block is not in state)."""
    regions: dict[str, int] = defaultdict(int)
    accounts: dict[str, int] = defaultdict(int)
    for inst in state.managed:
        for key in ("arn", "region"):
            v = inst.attributes.get(key)
            if key == "region" and isinstance(v, str) and v:
                regions[v] += 1
            elif isinstance(v, str):
                m = _ARN.match(v)
                if m:
                    regions[m.group(1)] += 1
                    if m.group(2):
                        accounts[m.group(2)] += 1
        owner = inst.attributes.get("owner_id")
        if isinstance(owner, str) and owner.isdigit() and len(owner) == 12:
            accounts[owner] += 1
    region = max(sorted(regions), key=lambda r: regions[r]) if regions else None
    account = max(sorted(accounts), key=lambda a: accounts[a]) if accounts else None
    return region, account


_REGION = re.compile(r"^[a-z]{2}(?:-[a-z]+)+-\d$")


def instance_region(inst: ResourceInstance) -> str | None:
    """The region a resource lives in, from its own ARN (or the `region` attribute the provider records for S3 buckets
    and, from provider 6, every resource); None for global resources (IAM ARNs carry no region)."""
    arn = inst.attributes.get("arn")
    if isinstance(arn, str):
        m = _ARN.match(arn)
        if m:
            return m.group(1)
    region = inst.attributes.get("region")
    if isinstance(region, str) and _REGION.match(region):
        return region
    return None


_DNS = re.compile(r"[^a-z0-9]+")


def object_name(inst: ResourceInstance) -> str:
    """A DNS-1123 name from the Terraform address: module path, type (without `aws_`), name, key.

    `module.eks.module.mng["general"].aws_eks_node_group.this` → `eks-mng-general-eks-node-group-this`."""
    parts: list[str] = []
    mod = inst.module
    for m in re.finditer(r"module\.([A-Za-z0-9_-]+)(?:\[(\"(?:[^\"\\]|\\.)*\"|\d+)\])?", mod):
        parts.append(m.group(1))
        if m.group(2):
            parts.append(m.group(2).strip('"'))
    parts.append(inst.type.removeprefix("aws_"))
    parts.append(inst.name)
    if inst.index_key is not None:
        parts.append(str(inst.index_key))
    name = _DNS.sub("-", "-".join(parts).lower()).strip("-")
    if len(name) > 63:
        digest = hashlib.sha256(inst.address.encode()).hexdigest()[:8]
        name = name[:54].rstrip("-") + "-" + digest
    return name or "resource"


class Mapper:
    def __init__(self, mappings: MappingSet, *, region: str | None = None, ignore_changes: dict[str, list[str]] | None = None):
        self.mappings = mappings
        self.region = region
        # config address -> lifecycle.ignore_changes entries (None for an address means: HCL not given)
        self.ignore_changes = ignore_changes

    # ---------------------------------------------------------------------------------------------- fields
    def _special(self, src: str, inst: ResourceInstance) -> Any:
        from converter.load.address import config_address

        if src == "@ignore_changes":
            if self.ignore_changes is None:
                return None
            return self.ignore_changes.get(config_address(inst.address), [])
        if src == "@address":
            return inst.address
        if src == "@index_key":
            return inst.index_key
        if src == "@region":
            return self.region
        return MISSING

    def render_field(
        self, fs: FieldSpec, data: Any, ctx: Context, prefix: tuple[str | int, ...], omissions: list[Omission], label: str
    ) -> Any:
        if fs.value is not UNSET:
            value = fs.value
        elif not fs.sources:
            value = data
        else:
            value = MISSING
            for src in fs.sources:
                if src.startswith("@"):
                    value = self._special(src, ctx.inst)
                    if value is not MISSING:
                        break
                    continue
                candidate = resolve(data, src)
                if candidate is MISSING:
                    continue
                if is_sensitive_path(ctx.inst, prefix + resolved_steps(data, src)):
                    omissions.append(Omission(label + fs.target, f"sensitive value in state ({src}); provide it from a Secret"))
                    return MISSING
                value = candidate
                if value is not None:
                    break
            if value is MISSING:
                return MISSING
        if fs.omit and value in fs.omit:
            return MISSING
        if fs.fields is not None:
            if isinstance(value, list) and len(value) == 1:
                value = value[0]
            if not isinstance(value, dict):
                return MISSING
            obj: dict[str, Any] = {}
            for sub in fs.fields:
                v = self.render_field(sub, value, ctx, prefix, omissions, label + fs.target + ".")
                if v is not MISSING:
                    assign(obj, sub.target, v)
            value = obj
        if fs.each is not None:
            if not isinstance(value, list):
                return MISSING
            items = []
            for item in value:
                if not isinstance(item, dict):
                    continue
                obj = {}
                for sub in fs.each:
                    v = self.render_field(sub, item, ctx, prefix, omissions, label + fs.target + "[].")
                    if v is not MISSING:
                        assign(obj, sub.target, v)
                if obj:
                    items.append(obj)
            value = items
        for name in fs.transforms:
            value = TRANSFORMS[name](value, ctx)
        if (value is None or is_empty(value)) and not fs.keep_empty:
            return MISSING
        return value

    def _render_fields(self, specs: tuple[FieldSpec, ...], inst: ResourceInstance, ctx: Context, omissions: list[Omission],
                       sources: dict[str, str] | None = None) -> dict:
        out: dict[str, Any] = {}
        for fs in specs:
            v = self.render_field(fs, inst.attributes, ctx, (), omissions, "spec.")
            if v is not MISSING:
                assign(out, fs.target, v)
                if sources is not None and len(fs.sources) == 1 and not fs.transforms and fs.fields is None and fs.each is None:
                    sources[fs.target] = fs.sources[0]
        return out

    # ---------------------------------------------------------------------------------------------- objects
    def _tags(self, tm: TypeMapping, inst: ResourceInstance) -> Any:
        assert tm.tags is not None
        tags: Any = MISSING
        for src in tm.tags.source:
            v = inst.attributes.get(src)
            if isinstance(v, dict):
                tags = v
                break
        if tags is MISSING or not tags:
            return MISSING
        # aws:* tags are AWS-owned; ACK filters them and never writes them
        items = sorted((str(k), "" if v is None else str(v)) for k, v in tags.items() if not str(k).startswith("aws:"))
        if tm.tags.shape == "map":
            return dict(items)
        if tm.tags.shape == "kms":
            return [{"tagKey": k, "tagValue": v} for k, v in items]
        return [{"key": k, "value": v} for k, v in items]

    def _map_one(self, inst: ResourceInstance, tm: TypeMapping, phase: str) -> MappedObject:
        omissions: list[Omission] = []
        ctx = Context(inst=inst)
        field_sources: dict[str, str] = {}
        spec = self._render_fields(tm.spec, inst, ctx, omissions, field_sources)
        if tm.tags:
            tags = self._tags(tm, inst)
            if tags is not MISSING:
                assign(spec, tm.tags.field, tags)
        adoption: dict[str, str] = {}
        for key, fs in tm.adopt.items():
            v = self.render_field(fs, inst.attributes, ctx, (), omissions, "adoption-fields.")
            if v is MISSING or v is None:
                raise MappingError(f"adoption field {key!r} has no value in state", inst)
            adoption[key] = v if isinstance(v, str) else json.dumps(v)
        annotations = {
            ADOPTION_POLICY: "adopt",
            ADOPTION_FIELDS: json.dumps(adoption, separators=(",", ":"), sort_keys=False),
            DELETION_POLICY: "retain",
            TF_ADDRESS: inst.address,
        }
        own = instance_region(inst)
        if own and self.region and own != self.region:
            # ACK reads the object in the annotated region: the state's main region would adopt a missing resource
            # (or, worse, a same-named one in the main region)
            annotations[REGION] = own
            other_region = f"in {own}, not the state's main region {self.region}: annotated {REGION}={own} (from its ARN)"
        elif self.region or own:
            annotations[REGION] = self.region or own  # type: ignore[assignment]
            other_region = None
        else:
            other_region = None
        for key, fs in tm.annotations.items():
            v = self.render_field(fs, inst.attributes, ctx, (), omissions, "annotations.")
            if v is not MISSING and v is not None:
                annotations[key] = v if isinstance(v, str) else json.dumps(v)
        conv = Conversion(
            address=inst.address,
            type=inst.type,
            phase=phase,
            status=Status.MAPPED,
            kind=tm.kind_ref,
            adoption_fields=adoption,
            omissions=omissions,
            reason="; ".join(n for n in (
                "tainted in Terraform (it would be replaced at the next apply): verify before adopting" if inst.tainted else None,
                other_region) if n) or None,
        )
        return MappedObject(inst=inst, mapping=tm, conversion=conv, spec=spec, annotations=annotations, field_sources=field_sources)

    def _fold_into(self, child: ResourceInstance, rule: FoldRule, parent: MappedObject) -> None:
        ctx = Context(inst=child, parent=parent.inst)
        omissions = parent.conversion.omissions
        label = f"{child.address} → spec."
        for fs in rule.append:
            v = self.render_field(fs, child.attributes, ctx, (), omissions, label)
            if v is MISSING:
                continue
            current = lookup(parent.spec, fs.target)
            lst = list(current) if isinstance(current, list) else []
            if isinstance(v, list) and not (fs.transforms and fs.transforms[-1] in ("sg_rule", "sg_vpc_rule")):
                lst.extend(v)
            else:
                lst.append(v)
            assign(parent.spec, fs.target, lst)
        for fs in rule.set:
            v = self.render_field(fs, child.attributes, ctx, (), omissions, label)
            if v is not MISSING:
                assign(parent.spec, fs.target, v)
        for target, key_src, fs in rule.entry:
            key = resolve(child.attributes, key_src)
            v = self.render_field(fs, child.attributes, ctx, (), omissions, label)
            if key is MISSING or key is None or v is MISSING:
                continue
            current = lookup(parent.spec, target)
            mp = dict(current) if isinstance(current, dict) else {}
            mp[str(key)] = v
            assign(parent.spec, target, dict(sorted(mp.items())))
        parent.folded.append(child.address)

    # ---------------------------------------------------------------------------------------------- driver
    def run(self, state: StateFile) -> MapResult:
        conversions: dict[str, Conversion] = {}
        objects: dict[str, MappedObject] = {}
        children: list[tuple[ResourceInstance, TypeMapping]] = []
        used_names: dict[tuple[str, str], str] = {}

        for inst in state.managed:
            tm = self.mappings.get(inst.type)
            phase = tm.phase if tm else self.mappings.phase_for_unmapped(inst.type)
            if inst.deposed:
                conversions[inst.address] = _unsupported(inst, phase, "deposed object (Terraform destroys it at the next apply)")
            elif tm is None:
                reason = (
                    f"no ACK kind: {inst.provider_name} provider resources are not AWS resources"
                    if inst.provider_name != "aws" and not inst.type.startswith("aws_")
                    else f"no mapping for {inst.type} (no ACK kind known); it stays in Terraform"
                )
                conversions[inst.address] = _unsupported(inst, phase, reason)
            elif tm.unsupported:
                conversions[inst.address] = _unsupported(inst, phase, tm.unsupported)
            elif tm.is_fold:
                children.append((inst, tm))
            else:
                try:
                    with _shape_guard(inst, tm, state):
                        mo = self._map_one(inst, tm, phase)
                except MappingError as exc:
                    conversions[inst.address] = _unsupported(inst, phase, str(exc.args[0]))
                    continue
                name = object_name(inst)
                key = (tm.kind_ref, name)
                if key in used_names:
                    name = (name[:54].rstrip("-") + "-" + hashlib.sha256(inst.address.encode()).hexdigest()[:8])
                used_names[(tm.kind_ref, name)] = inst.address
                mo.conversion.object_name = name
                objects[inst.address] = mo
                conversions[inst.address] = mo.conversion

        # index parents for folding: (parent type, match values) -> object
        by_type: dict[str, list[MappedObject]] = defaultdict(list)
        for mo in objects.values():
            by_type[mo.inst.type].append(mo)
        index_cache: dict[tuple[str, tuple[str, ...]], dict[tuple[str, ...], MappedObject]] = {}

        def parent_index(ptype: str, paths: tuple[str, ...]) -> dict[tuple[str, ...], MappedObject]:
            key = (ptype, paths)
            if key not in index_cache:
                idx: dict[tuple[str, ...], MappedObject] = {}
                for mo in by_type.get(ptype, ()):
                    vals = tuple(_norm(resolve(mo.inst.attributes, p)) for p in paths)
                    idx.setdefault(vals, mo)
                index_cache[key] = idx
            return index_cache[key]

        for inst, tm in children:
            placed = False
            matched_rule = False
            for rule in tm.folds:
                if any(_norm(resolve(inst.attributes, p)) != _norm(v) for p, v in rule.when.items()):
                    continue
                matched_rule = True
                child_vals = tuple(_norm(resolve(inst.attributes, c)) for c in rule.match)
                for ptype in rule.into:
                    parent = parent_index(ptype, tuple(rule.match.values())).get(child_vals)
                    if parent is not None:
                        with _shape_guard(inst, tm, state):
                            self._fold_into(inst, rule, parent)
                        conversions[inst.address] = Conversion(
                            address=inst.address,
                            type=inst.type,
                            phase=parent.conversion.phase,
                            status=Status.FOLDED,
                            fold_parent=parent.inst.address,
                        )
                        placed = True
                        break
                if placed:
                    break
            if not placed:
                targets = sorted({t for r in tm.folds for t in r.into})
                why = (
                    f"folds into {' or '.join(targets)}, but its parent is not managed in this state; it stays in Terraform"
                    if matched_rule
                    else f"no fold rule of {inst.type} applies to this instance; it stays in Terraform"
                )
                conversions[inst.address] = _unsupported(inst, tm.phase, why)

        for mo in objects.values():
            with _shape_guard(mo.inst, mo.mapping, state):
                for name in mo.mapping.post:
                    POST[name](mo.spec)
                mo.conversion.body = mo.body()
        region, account = self.region, None
        return MapResult(conversions=conversions, objects=objects, region=region, account_id=account)


@contextmanager
def _shape_guard(inst: ResourceInstance, tm: TypeMapping, state: StateFile) -> Iterator[None]:
    """A state value of the wrong shape (a bool where a list belongs, a list where a number belongs) means a
    corrupt or hand-edited state, or a provider version whose schema the mapping does not know. Rendering a guess
    could change AWS after adoption, and dropping the resource would hide it: stop with the resource named.
    The exception text is not repeated (it can quote the value, which may be a secret)."""
    try:
        yield
    except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
        raise ToolError(
            f"{inst.address} ({inst.type}): a state attribute has an unexpected shape ({type(exc).__name__} while "
            f"applying {tm.file}); the state looks corrupt or hand-edited, or was written by a provider version "
            "whose schema differs: nothing was written",
            source=state.path,
        ) from None


class MappingError(Exception):
    def __init__(self, message: str, inst: ResourceInstance):
        super().__init__(f"{message} ({inst.address})")


def _norm(v: Any) -> str:
    if v is MISSING or v is None:
        return "\0missing"
    return str(v)


def _unsupported(inst: ResourceInstance, phase: str, reason: str) -> Conversion:
    return Conversion(address=inst.address, type=inst.type, phase=phase, status=Status.UNSUPPORTED, reason=reason)


@gc_paused()
def map_state(
    state: StateFile,
    mappings: MappingSet,
    *,
    region: str | None = None,
    ignore_changes: dict[str, list[str]] | None = None,
) -> MapResult:
    detected_region, account = detect_region_account(state)
    result = Mapper(mappings, region=region or detected_region, ignore_changes=ignore_changes).run(state)
    result.account_id = account
    return result
