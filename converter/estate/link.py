"""Cross-root references: a rendered value of root B that is the identifier of an object root A maps.

Why: in a multi-root estate the cluster root's `vpc_config.subnet_ids` are the network root's subnets, read through a
`terraform_remote_state` data source or pasted as literals. Converting each root alone leaves them literal (kro then
cannot order adoption, and a later subnet replacement in the network root goes unnoticed); emitting the subnet again in
the cluster root would make two ACK objects adopt and sync the same AWS resource. So each such value becomes a
`ValueRef` to an `ExternalObject` in B's graph, which the emitter renders as a kro `externalRef` to A's object — the
mechanism it already uses for references to an earlier phase.

A value links when it is identifier-like (an AWS id such as `subnet-0abc…` or an ARN: globally unique) or when B's
state recorded it as a `terraform_remote_state` output (then names count too, e.g. a cluster name). Inside B, B's own
objects win (build_graph already bound them); a value that several other roots map is ambiguous and stays literal, with
a finding. An AWS resource mapped by two roots is reported: both would adopt it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from converter.graph.build import (
    ExternalObject,
    Finding,
    ValueRef,
    _is_identifier_like,
    _walk_strings,
    value_index,
)
from converter.pipeline import Estate

_DATA_PATHS = ("tags", "tagging", "labels")  # tag values are data, never references (as in build_graph)


@dataclass(frozen=True)
class CrossRef:
    source_root: str
    source: str  # address in the source root
    path: tuple[str | int, ...]  # in the source object's spec
    target_root: str
    target: str  # address in the target root
    ack_path: str
    via: str  # "identifier" | "terraform_remote_state.<name> output <output>"

    def as_dict(self) -> dict[str, Any]:
        return {"from": f"{self.source_root}: {self.source}", "path": "spec." + ".".join(map(str, self.path)),
                "to": f"{self.target_root}: {self.target}", "ack_path": self.ack_path, "via": self.via}


def external_key(root: str, address: str) -> str:
    return f"{root}//{address}"


@dataclass(frozen=True)
class RemoteValue:
    via: str  # "terraform_remote_state.<name> output <output>"
    state_url: str | None  # the s3:// object the data source read (None: another backend), to pick the root


def remote_state_values(estate: Estate) -> dict[str, RemoteValue]:
    """string value -> where it came from, for every output value a `terraform_remote_state` data source read."""
    out: dict[str, RemoteValue] = {}
    for inst in estate.state.instances:
        if inst.mode != "data" or inst.type != "terraform_remote_state":
            continue
        outputs = _unwrap(inst.attributes.get("outputs"))
        if not isinstance(outputs, dict):
            continue
        url = _s3_url(inst.attributes)
        for oname, value in sorted(outputs.items()):
            for _path, s in _walk_strings(_unwrap(value)):
                out.setdefault(s, RemoteValue(f"terraform_remote_state.{inst.name} output {oname}", url))
    return out


def _s3_url(attrs: dict[str, Any]) -> str | None:
    """The object an S3-backend `terraform_remote_state` read, as converter.load.source names it."""
    from converter.load.source import DEFAULT_WORKSPACE_PREFIX, S3Location

    cfg = _unwrap(attrs.get("config"))
    if attrs.get("backend") != "s3" or not isinstance(cfg, dict):
        return None
    bucket, key = cfg.get("bucket"), cfg.get("key")
    if not isinstance(bucket, str) or not isinstance(key, str):
        return None
    ws = attrs.get("workspace") if isinstance(attrs.get("workspace"), str) and attrs.get("workspace") else "default"
    prefix = cfg.get("workspace_key_prefix") if isinstance(cfg.get("workspace_key_prefix"), str) else DEFAULT_WORKSPACE_PREFIX
    return S3Location(bucket=bucket, key=key, workspace=ws, workspace_prefix=prefix.strip("/") or DEFAULT_WORKSPACE_PREFIX).url


def _unwrap(v: Any) -> Any:
    """Dynamic-typed attributes are stored as `{"value": …, "type": …}` in state."""
    if isinstance(v, dict) and set(v) == {"value", "type"}:
        return v["value"]
    return v


def link_roots(roots: list[Estate], namespaces: dict[str, str | None] | None = None) -> tuple[list[CrossRef], list[Finding]]:
    """Add cross-root ValueRefs + ExternalObjects to each root's graph; return them and the findings."""
    names = [e.root or "main" for e in roots]
    indexes = {name: value_index(e.result) for name, e in zip(names, roots, strict=True)}
    findings: list[Finding] = []
    refs: list[CrossRef] = []
    _duplicates(roots, names, indexes, findings)
    by_url = {e.state.path.split("?versionId=", 1)[0]: n for n, e in zip(names, roots, strict=True) if e.state.path.startswith("s3://")}
    for name, est in zip(names, roots, strict=True):
        own = indexes[name]
        bound = {(r.source, r.path) for r in est.graph.value_refs}
        remote = remote_state_values(est)
        for addr, mo in sorted(est.result.objects.items()):
            spec = (mo.conversion.body or {}).get("spec") or {}
            for path, value in _walk_strings(spec):
                if not path or path[0] in _DATA_PATHS or (addr, path) in bound or value in own:
                    continue
                rv = remote.get(value)
                via = rv.via if rv else "identifier" if _is_identifier_like(value) else None
                if via is None:
                    continue
                others = [o for o in names if o != name]
                # a remote state read from a root's own S3 object names that root: only its objects are candidates
                if rv and rv.state_url and rv.state_url in by_url and by_url[rv.state_url] != name:
                    others = [by_url[rv.state_url]]
                cands = sorted({(other, t, ack) for other in others for t, ack in indexes[other].get(value, ())})
                if not cands:
                    continue
                if len({c[0] for c in cands}) > 1:
                    findings.append(Finding("cross-root-ambiguous",
                                            f"{name}: {addr} spec.{'.'.join(map(str, path))} matches objects of roots "
                                            f"{', '.join(sorted({c[0] for c in cands}))}: the value stays literal", [addr]))
                    continue
                troot, target, ack_path = cands[0]
                tmo = roots[names.index(troot)].result.objects[target]
                key = external_key(troot, target)
                est.graph.external_objects[key] = ExternalObject(
                    root=troot, address=target, api_version=tmo.mapping.api_version, kind=tmo.mapping.kind,
                    name=tmo.conversion.object_name or target, namespace=(namespaces or {}).get(troot))
                est.graph.value_refs.append(ValueRef(source=addr, path=path, target=key, ack_path=ack_path))
                refs.append(CrossRef(name, addr, path, troot, target, ack_path, via))
    return refs, findings


def _duplicates(roots: list[Estate], names: list[str], indexes: dict[str, dict[str, list[tuple[str, str]]]],
                findings: list[Finding]) -> None:
    """The same AWS resource (same id or ARN) mapped in two roots: two ACK objects would adopt it and each sync its
    own spec to AWS. Reported, not resolved: which root owns it is the team's decision (remove it from one state)."""
    owners: dict[str, list[str]] = defaultdict(list)
    for name, est in zip(names, roots, strict=True):
        for addr, mo in est.result.objects.items():
            for attr in ("arn", "id"):
                v = mo.inst.attributes.get(attr)
                if isinstance(v, str) and _is_identifier_like(v):
                    owners[v].append(f"{name}: {addr}")
                    break
    for value, where in sorted(owners.items()):
        if len({w.split(":", 1)[0] for w in where}) > 1:
            findings.append(Finding("duplicate-owner", f"{value} is managed in several roots ({'; '.join(where)}): "
                                    "two ACK objects would adopt it; remove it from all states but one", where))
