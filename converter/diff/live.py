"""Read the live AWS state of every mapped resource in an estate — batched, read-only, data-driven.

What to call comes from the `describe:` block of each type in mappings/*.yaml (format: docs/diff.md):

    describe:
      client: ec2
      operation: DescribeSubnets
      items: Subnets                 # JMESPath to the item list in one page
      id: SubnetId                   # JMESPath to the live id; equals the state attribute `state_id` (default id)
      id_filter: {filter: subnet-id} # batch by ids: EC2 Filters (or {param: SubnetIds}); absent = list all
      scope: {filter: vpc-id, values: vpc}   # unmanaged scan: same call filtered to the estate's VPCs
      unmanaged_ignore: "..."        # JMESPath predicate: live items never reported unmanaged (default SG, main RT)
      exists: "State != 'deleted'"   # JMESPath predicate: items that count as existing
      joins: {name: {...}}           # more batch (or per-id) calls merged into the item under `_join.<name>`
      per_id: {param: RoleName, extra: {..}}  # one call per id (only where AWS has no batch read)

One paginated call per resource type (per 200 ids for EC2 filters); the estate's VPCs scope the unmanaged scan
so a shared account does not flood the report. A type whose read fails (AccessDenied, API missing, throttling
after retries) is `unknown` with the reason; the others go on.

The result (`LiveRead`) is plain JSON: `inventory capture` writes it, `diff --live` reads it back.
"""

from __future__ import annotations

import contextvars
import copy
import datetime as _dt
import json
import re
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jmespath

from converter.diff.aws import TYPE_CALLS, AwsClients, classify_error
from converter.mapping.paths import MISSING, resolve
from converter.model import ToolError

CAPTURE_FORMAT = "tf2kro-live-capture/v1"
EC2_FILTER_CHUNK = 200


@lru_cache(maxsize=1024)
def _expr(text: str) -> Any:
    return jmespath.compile(text)


def search(expr: str, data: Any) -> Any:
    if expr in (".", "@"):
        return data
    try:
        return _expr(expr).search(data)
    except jmespath.exceptions.JMESPathError:
        return None


def _jsonable(value: Any) -> Any:
    """boto3 output → plain JSON (datetimes as ISO strings, bytes dropped), so live and captured reads are equal."""

    def default(o: Any) -> Any:
        if isinstance(o, (_dt.datetime, _dt.date)):
            return o.isoformat()
        if isinstance(o, (bytes, bytearray)):
            return None
        return str(o)

    return json.loads(json.dumps(value, default=default))


@dataclass
class TypeRead:
    """The live read of one Terraform type (all its instances)."""

    tf_type: str
    status: str = "ok"  # ok | unknown | skipped
    reason: str | None = None
    requested: list[str] = field(default_factory=list)  # state ids asked for
    items: dict[str, Any] = field(default_factory=dict)  # state id -> live item (with `_join`)
    missing: list[str] = field(default_factory=list)  # requested ids AWS does not have (deleted out of band)
    unmanaged: dict[str, Any] = field(default_factory=dict)  # live id -> {name, scope, tags}
    unmanaged_scan: str | None = None  # how unmanaged resources were looked for (or why not)
    join_errors: dict[str, str] = field(default_factory=dict)  # join name -> why its fields are unverified
    unreadable: dict[str, str] = field(default_factory=dict)  # state id -> why it could not be read (unknown)
    calls: int = 0
    api_calls: dict[str, int] = field(default_factory=dict)  # "service:Operation" -> calls made for this type

    def was_requested(self, sid: str | None) -> bool:
        """Membership in `requested` (a list, as captured) through a set built once: the compare asks per resource,
        and a list scan made the diff quadratic (50k resources: 1.0 s of 1.3 s)."""
        return sid in self._set("requested")

    def is_missing(self, sid: str | None) -> bool:
        return sid in self._set("missing")

    def _set(self, name: str) -> frozenset[str]:
        cache = self.__dict__.setdefault("_sets", {})
        values = getattr(self, name)
        hit = cache.get(name)
        if hit is None or hit[0] != (id(values), len(values)):  # rebuilt if the list was replaced or grew
            hit = cache[name] = ((id(values), len(values)), frozenset(values))
        return hit[1]


@dataclass
class LiveRead:
    region: str | None
    captured_at: str
    scope: dict[str, Any]
    types: dict[str, TypeRead] = field(default_factory=dict)
    api_calls: dict[str, int] = field(default_factory=dict)  # "service:Operation" -> calls
    http_attempts: int = 0
    format: str = CAPTURE_FORMAT

    @property
    def total_calls(self) -> int:
        return sum(self.api_calls.values())

    def to_json(self) -> str:
        # key order kept: IAM documents are compared by their text (policy_map_exact), whose key order matters
        return json.dumps(asdict(self), indent=1)

    @classmethod
    def load(cls, path: str | Path) -> LiveRead:
        try:
            doc = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise ToolError(f"cannot read the live capture: {exc}", source=str(path)) from None
        if not isinstance(doc, dict) or doc.get("format") != CAPTURE_FORMAT:
            raise ToolError(f"not a tf2kro live capture (format must be {CAPTURE_FORMAT!r})", source=str(path))
        try:
            types = {str(k): TypeRead(**v) for k, v in (doc.get("types") or {}).items()}
            return cls(region=doc.get("region"), captured_at=str(doc.get("captured_at", "")),
                       scope=doc.get("scope") or {}, types=types, api_calls=dict(doc.get("api_calls") or {}),
                       http_attempts=int(doc.get("http_attempts") or 0))
        except (TypeError, ValueError, AttributeError) as exc:
            raise ToolError(f"malformed live capture: {str(exc)[:200]}", source=str(path)) from None

    @classmethod
    def unread(cls, estate: Any, reason: str, *, phase: str | None = None, region: str | None = None) -> LiveRead:
        """A read in which nothing could be read (preflight failed): every type `unknown` with `reason`, so the
        reports say "not checked" for every resource instead of showing nothing."""
        types: dict[str, TypeRead] = {}
        for mo in estate.result.objects.values():
            d = mo.mapping.describe
            if not d or not d.get("operation") or (phase and mo.conversion.phase != phase):
                continue
            sid = state_id(d, mo.inst.attributes)
            tr = types.setdefault(mo.inst.type, TypeRead(tf_type=mo.inst.type, status="unknown", reason=reason))
            if sid is not None:
                tr.requested.append(sid)
        for tr in types.values():
            tr.requested.sort()
        return cls(region=region, captured_at=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"), scope={},
                   types=dict(sorted(types.items())))


class _TypeFailed(Exception):
    def __init__(self, reason: str, category: str):
        super().__init__(reason)
        self.reason = reason
        self.category = category


def state_id(describe: dict[str, Any], attrs: dict[str, Any]) -> str | None:
    v = resolve(attrs, describe.get("state_id", "id"))
    return None if v is MISSING or v in (None, "") else str(v)


def estate_scope(estate: Any) -> dict[str, list[str]]:
    """The estate's VPC ids and EKS cluster names: they bound the unmanaged scan."""
    vpcs: set[str] = set()
    clusters: set[str] = set()
    for inst in estate.state.managed:
        a = inst.attributes
        if inst.type == "aws_vpc" and a.get("id"):
            vpcs.add(str(a["id"]))
        elif isinstance(a.get("vpc_id"), str) and a["vpc_id"].startswith("vpc-"):
            vpcs.add(a["vpc_id"])
        if inst.type == "aws_eks_cluster" and a.get("name"):
            clusters.add(str(a["name"]))
    return {"vpc": sorted(vpcs), "cluster": sorted(clusters)}


class LiveReader:
    def __init__(self, clients: AwsClients, *, scope_tags: dict[str, str] | None = None):
        self.clients = clients
        self.scope_tags = dict(scope_tags or {})

    # ------------------------------------------------------------------------------------------ calls
    def _call_all(self, client_name: str, operation: str, params: dict[str, Any], items_expr: str) -> list[Any]:
        """One (paginated) call; the items of every page."""
        from botocore import xform_name

        client = self.clients.client(client_name)
        method = xform_name(operation)
        out: list[Any] = []
        with self.clients.slot():
            if client.can_paginate(method):
                for page in client.get_paginator(method).paginate(**params):
                    found = search(items_expr, page)
                    out.extend(found if isinstance(found, list) else ([found] if found is not None else []))
            else:
                page = getattr(client, method)(**params)
                found = search(items_expr, page)
                out.extend(found if isinstance(found, list) else ([found] if found is not None else []))
        return out

    def _call_one(self, client_name: str, operation: str, params: dict[str, Any], item_expr: str) -> Any:
        from botocore import xform_name

        client = self.clients.client(client_name)
        with self.clients.slot():
            page = getattr(client, xform_name(operation))(**params)
        page = {k: v for k, v in page.items() if k != "ResponseMetadata"}
        return search(item_expr or ".", page)

    def _filtered(self, d: dict[str, Any], values: list[str], filt: dict[str, Any] | None, extra: list[dict] | None) -> list:
        """Batch read with `filt` ({filter: name} or {param: Name}) over `values` in chunks, plus extra filters."""
        params_base = dict(d.get("params") or {})
        fparam = d.get("filters_param", "Filters")
        out: list[Any] = []
        if filt is None:
            params = dict(params_base)
            if extra:
                params[fparam] = list(extra)
            return self._call_all(d["client"], d["operation"], params, d["items"])
        size = int(filt.get("chunk") or EC2_FILTER_CHUNK)
        for i in range(0, len(values), size):
            chunk = values[i : i + size]
            params = dict(params_base)
            if "filter" in filt:
                params[fparam] = [{"Name": filt["filter"], "Values": chunk}] + list(extra or [])
                out.extend(self._call_all(d["client"], d["operation"], params, d["items"]))
            else:
                out.extend(self._by_id_list(d, chunk, filt["param"], list(extra or []), fparam))
        return out

    def _by_id_list(self, d: dict[str, Any], ids: list[str], param: str, extra: list[dict], fparam: str) -> list:
        """One call for a list of ids. APIs that take an id list (DescribeRepositories, DescribeLoadBalancers, EC2
        `SubnetIds`, ...) fail the whole call when one id does not exist: the list is then halved until the missing
        ids stand alone, so one resource deleted out of band reads as deleted (k missing ids cost ~2k·log n calls)
        instead of making its whole type unknown."""
        params = dict(d.get("params") or {})
        params[param] = ids
        if extra:
            params[fparam] = extra
        try:
            return self._call_all(d["client"], d["operation"], params, d["items"])
        except Exception as exc:  # noqa: BLE001 - only a not-found answer is split; anything else propagates
            category, _ = classify_error(exc)
            if category != "not_found" and _code(exc) not in set(d.get("not_found") or ()):
                raise
            if len(ids) == 1:
                return []  # this id does not exist: the caller records it as missing
            mid = len(ids) // 2
            return self._by_id_list(d, ids[:mid], param, extra, fparam) + self._by_id_list(d, ids[mid:], param, extra, fparam)

    def _tag_filters(self, d: dict[str, Any]) -> list[dict[str, Any]]:
        if not self.scope_tags or not d.get("tag_filter"):
            return []
        return [{"Name": f"tag:{k}", "Values": [v]} for k, v in self.scope_tags.items()]

    def _tags_match(self, d: dict[str, Any], item: Any) -> bool:
        from converter.diff.normalize import tags_to_map

        tags = tags_to_map(search(d.get("tags", "Tags"), item))
        return isinstance(tags, dict) and all(tags.get(k) == v for k, v in self.scope_tags.items())

    # ------------------------------------------------------------------------------------------ one type
    def read_type(self, tf_type: str, d: dict[str, Any], ids: list[str], instances: dict[str, dict[str, Any]],
                  scope: dict[str, list[str]], also_managed: set[str]) -> TypeRead:
        """Read `ids` (state ids of `tf_type`); `instances` maps id -> state attributes (per-id extra params);
        `also_managed` = live ids other types of the same API manage (not unmanaged)."""
        tr = TypeRead(tf_type=tf_type, requested=sorted(ids))
        counted: Counter = Counter()
        token = TYPE_CALLS.set(counted)
        try:
            self._read_type(tf_type, d, ids, instances, scope, also_managed, tr)
        finally:
            TYPE_CALLS.reset(token)
        with self.clients._lock:
            tr.calls = sum(counted.values())
            tr.api_calls = {f"{s}:{o}": n for (s, o), n in sorted(counted.items()) if n}
        return tr

    def _read_type(self, tf_type: str, d: dict[str, Any], ids: list[str], instances: dict[str, dict[str, Any]],
                   scope: dict[str, list[str]], also_managed: set[str], tr: TypeRead) -> None:
        try:
            if d.get("per_id"):
                found = self._read_per_id(d, ids, instances, tr)
            else:
                found = self._read_batch(d, ids, scope, tr, also_managed)
            self._joins(d, found, tr)
            tr.items = {k: found[k] for k in sorted(found)}
            tr.missing = sorted(set(ids) - set(found) - set(tr.unreadable))
        except _TypeFailed as exc:
            tr.status, tr.reason = "unknown", exc.reason
            tr.items, tr.missing, tr.unmanaged = {}, [], {}

    def _exists(self, d: dict[str, Any], item: Any) -> bool:
        pred = d.get("exists")
        return True if not pred else bool(search(pred, item))

    def _read_batch(self, d: dict[str, Any], ids: list[str], scope: dict[str, list[str]], tr: TypeRead,
                    also_managed: set[str]) -> dict[str, Any]:
        id_expr = d["id"]
        wanted = set(ids)
        found: dict[str, Any] = {}
        sc = d.get("scope") or {}
        scope_values = scope.get(sc.get("values", ""), []) if sc else []

        def keep(items: list[Any], unmanaged: bool) -> None:
            for it in items:
                lid = search(id_expr, it)
                if lid is None or not self._exists(d, it):
                    continue
                lid = str(lid)
                if lid in wanted:
                    found[lid] = _jsonable(it)
                elif unmanaged and lid not in also_managed:
                    ignore = d.get("unmanaged_ignore")
                    if ignore and search(ignore, it):
                        continue
                    if self.scope_tags and not self._tags_match(d, it):
                        continue
                    tr.unmanaged[lid] = _summary(d, it)

        try:
            if sc and scope_values:
                tr.unmanaged_scan = f"{sc['filter']} in the estate's {sc.get('values')}s" + (
                    f" and tags {self.scope_tags}" if self.scope_tags else "")
                keep(self._filtered(d, scope_values, {"filter": sc["filter"]}, self._tag_filters(d)), True)
            elif self.scope_tags and d.get("tag_filter"):
                tr.unmanaged_scan = f"tags {self.scope_tags}"
                keep(self._filtered(d, [], None, self._tag_filters(d)), True)
            elif not d.get("id_filter") and self.scope_tags and d.get("tags"):
                tr.unmanaged_scan = f"tags {self.scope_tags} (client-side)"
                keep(self._filtered(d, [], None, None), True)
                return found
            else:
                tr.unmanaged_scan = "not scanned: no estate scope for this type (use --scope-tag KEY=VALUE)"
            rest = sorted(wanted - set(found))
            if rest:
                filt = d.get("id_filter")
                keep(self._filtered(d, rest, filt, None) if filt else self._filtered(d, [], None, None), False)
        except Exception as exc:  # noqa: BLE001 - every AWS failure makes the type unknown
            category, msg = classify_error(exc)
            _abort_if_unreachable(category, msg)
            if category == "error" and not _is_aws_error(exc):
                raise
            raise _TypeFailed(f"{category}: {msg}", category) from None
        return found

    def _read_per_id(self, d: dict[str, Any], ids: list[str], instances: dict[str, dict[str, Any]],
                     tr: TypeRead) -> dict[str, Any]:
        pid = d["per_id"]
        found: dict[str, Any] = {}
        existing: set[str] | None = None
        lst = d.get("list")
        tr.unmanaged_scan = "not scanned: per-id API (no batch listing with details)"
        try:
            if lst:
                listed = self._call_all(lst.get("client", d["client"]), lst["operation"], dict(lst.get("params") or {}),
                                        lst["items"])
                existing = {str(search(lst.get("id", "@"), x)) for x in listed}
            jobs: list[tuple[str, dict[str, Any], Any]] = []
            for i in ids:
                attrs = instances.get(i, {})
                # the main parameter: the state id, or the state path `from` (when the id is composite)
                key = resolve(attrs, pid["from"]) if pid.get("from") else i
                if key is MISSING or key in (None, ""):
                    tr.unreadable[i] = f"no {pid['from']} in state: cannot call {d['operation']}"
                    continue
                if existing is not None and str(key) not in existing:
                    continue
                params = copy.deepcopy(d.get("params") or {})
                _set_param(params, pid["param"], key)
                for p, src in (pid.get("extra") or {}).items():
                    # a string is a state path (`cluster_name`); anything else is a literal parameter
                    v = resolve(attrs, src) if isinstance(src, str) else src
                    if v is not MISSING and v is not None:
                        _set_param(params, p, v)
                jobs.append((i, params, key))

            def read(job: tuple[str, dict[str, Any], Any]) -> Any:
                _, params, key = job
                item = self._call_one(d["client"], d["operation"], params, d.get("item", "."))
                if d.get("match"):
                    # `item` is a list: keep the element whose `match` is the requested key (a filtered
                    # list call, e.g. ListGrants(GrantId=…)); none = not found
                    item = next((x for x in (item if isinstance(item, list) else [])
                                 if str(search(d["match"], x)) == str(key)), None)
                return item

            def take(job: tuple[str, dict[str, Any], Any], item: Any, exc: BaseException | None) -> None:
                if exc is not None:
                    category, msg = classify_error(exc)
                    if category == "not_found" or _code(exc) in set(d.get("not_found") or ()):
                        return
                    _abort_if_unreachable(category, msg)
                    if category == "error" and not _is_aws_error(exc):
                        raise exc
                    raise _TypeFailed(f"{category}: {msg}", category) from None
                if item is not None and self._exists(d, item):
                    found[job[0]] = _jsonable(item)

            self.clients.client(d["client"])  # created here, not by the workers
            self._ordered(jobs, read, take)
        except _TypeFailed:
            raise
        except Exception as exc:  # noqa: BLE001
            category, msg = classify_error(exc)
            _abort_if_unreachable(category, msg)
            if category == "error" and not _is_aws_error(exc):
                raise
            raise _TypeFailed(f"{category}: {msg}", category) from None
        return found

    # ------------------------------------------------------------------------------------------ joins
    def _joins(self, d: dict[str, Any], found: dict[str, Any], tr: TypeRead) -> None:
        if not found:
            return
        needed = d.get("_needed_joins")
        for name, j in (d.get("joins") or {}).items():
            if needed is not None and name not in needed:
                continue
            try:
                if j.get("per_id"):
                    self._join_per_id(d, name, j, found)
                else:
                    self._join_batch(d, name, j, found)
            except Exception as exc:  # noqa: BLE001
                category, msg = classify_error(exc)
                _abort_if_unreachable(category, msg)
                if category == "error" and not _is_aws_error(exc):
                    raise
                tr.join_errors[name] = f"{category}: {msg}"
                for item in found.values():
                    item.setdefault("_join", {}).pop(name, None)

    def _join_batch(self, d: dict[str, Any], name: str, j: dict[str, Any], found: dict[str, Any]) -> None:
        jd = {"client": j.get("client", d["client"]), "operation": j["operation"], "items": j["items"],
              "params": j.get("params"), "filters_param": j.get("filters_param", "Filters")}
        match = j.get("match") or d.get("id") or "@"
        live_ids = sorted({str(search(match, it)) for it in found.values()})
        # batch by the items' ids: an EC2 filter, or a list parameter (`param`, `chunk` ids per call:
        # ELBv2 DescribeTags takes 20 ResourceArns); neither = list all
        if j.get("filter"):
            filt: dict[str, Any] | None = {"filter": j["filter"]}
        elif j.get("param"):
            filt = {"param": j["param"], "chunk": j.get("chunk")}
        else:
            filt = None
        rows = self._filtered(jd, live_ids, filt, None)
        groups: dict[str, list[Any]] = {}
        for row in rows:
            k = search(j["key"], row)
            if k is not None:
                groups.setdefault(str(k), []).append(_jsonable(row))
        for it in found.values():
            k = str(search(match, it))
            rows_for = groups.get(k, [])
            it.setdefault("_join", {})[name] = rows_for if j.get("many") else (rows_for[0] if rows_for else None)

    def _join_per_id(self, d: dict[str, Any], name: str, j: dict[str, Any], found: dict[str, Any]) -> None:
        pid = j["per_id"]
        absent = set(j.get("absent") or ())
        client_name = j.get("client", d["client"])
        jobs: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for sid, it in found.items():
            params = dict(j.get("params") or {})
            if pid.get("from_state_id"):
                # the state id the item was read by, when the live item does not carry it (SQS: the queue URL)
                params[pid["param"]] = sid
            else:
                src = pid.get("from") or d.get("id")
                params[pid["param"]] = search(src, it) if src else sid
            for p, expr in (pid.get("extra") or {}).items():
                # more parameters of the same call, from the live item (DescribeAccessEntry → clusterName)
                params[p] = search(expr, it)
            jobs.append((it, params))

        def read(job: tuple[dict[str, Any], dict[str, Any]]) -> Any:
            return self._call_one(client_name, j["operation"], job[1], j.get("item", "."))

        def take(job: tuple[dict[str, Any], dict[str, Any]], value: Any, exc: BaseException | None) -> None:
            if exc is not None:
                if _code(exc) not in absent:
                    raise exc
                value = None
            job[0].setdefault("_join", {})[name] = _jsonable(value)

        self.clients.client(client_name)  # created here, not by the workers
        self._ordered(jobs, read, take)

    # ------------------------------------------------------------------------------------------ fan-out
    def _ordered(self, jobs: list[Any], read: Callable[[Any], Any],
                 take: Callable[[Any, Any, BaseException | None], None]) -> None:
        """`read(job)` for every job, at most `clients.read_workers` at a time, and `take(job, result, error)` in
        the main thread in JOB ORDER — the same order, hence the same report bytes, as a serial read. The first
        job runs alone: an API the endpoint lacks or a denied read fails the type after one call, as serially,
        instead of `read_workers` calls. When `take` raises (the type failed, the endpoint is gone), the jobs not
        yet started are cancelled and the ones in flight are waited for (their calls still count) before the
        error propagates: no read outlives its type."""
        workers = max(1, int(getattr(self.clients, "read_workers", 1) or 1))

        def run(job: Any, fut: Any = None) -> None:
            value: Any = None
            error: BaseException | None = None
            try:
                value = fut.result() if fut is not None else read(job)
            except Exception as exc:  # noqa: BLE001 - `take` decides (not found, unknown type, abort)
                error = exc
            take(job, value, error)

        if workers == 1 or len(jobs) <= 1:
            for job in jobs:
                run(job)
            return
        run(jobs[0])
        rest = jobs[1:]
        pool = ThreadPoolExecutor(max_workers=min(workers, len(rest)), thread_name_prefix="tf2kro-read")
        try:
            # each worker counts its calls into this type (TYPE_CALLS): a copy of the context per job
            futures = [pool.submit(contextvars.copy_context().run, read, job) for job in rest]
            for job, fut in zip(rest, futures, strict=True):
                run(job, fut)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    # ------------------------------------------------------------------------------------------ estate
    def read_estate(self, estate: Any, *, phase: str | None = None, region: str | None = None,
                    on_type: Any = None) -> LiveRead:
        scope = estate_scope(estate)
        by_type: dict[str, dict[str, dict[str, Any]]] = {}
        describes: dict[str, dict[str, Any]] = {}
        needed: dict[str, set[str]] = {}
        for mo in estate.result.objects.values():
            d = mo.mapping.describe
            if not d or not d.get("operation"):
                continue
            if phase and mo.conversion.phase != phase:
                continue
            sid = state_id(d, mo.inst.attributes)
            if sid is None:
                continue
            by_type.setdefault(mo.inst.type, {})[sid] = mo.inst.attributes
            describes[mo.inst.type] = d
            needed.setdefault(mo.inst.type, set()).update(needed_joins(d, mo))
        # scoped types of the estate's services are scanned for unmanaged resources even with no instance
        if scope["vpc"] or self.scope_tags:
            for tm in estate.mappings.types.values():
                d = tm.describe
                if d and d.get("operation") and d.get("scope") and tm.tf_type not in describes:
                    if phase and tm.phase != phase:
                        continue
                    if _family(d) in {_family(x) for x in describes.values()}:
                        continue
                    describes[tm.tf_type] = d
                    by_type.setdefault(tm.tf_type, {})
        # ids managed per API family (SG + default SG share DescribeSecurityGroups)
        family_ids: dict[tuple[str, str, str], set[str]] = {}
        for t, insts in by_type.items():
            family_ids.setdefault(_family(describes[t]), set()).update(insts)
        live = LiveRead(region=region, captured_at=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                        scope={"vpc": scope["vpc"], "cluster": scope["cluster"], "tags": self.scope_tags})
        scanned_families: set[tuple[str, str, str]] = set()
        plan: list[tuple[str, dict[str, Any], list[str]]] = []
        for t in sorted(describes, key=lambda t: (describes[t]["client"], t)):
            d = describes[t]
            fam = _family(d)
            # the unmanaged scan runs once per family
            d_eff = dict(d) if fam not in scanned_families else {k: v for k, v in d.items() if k != "scope"}
            d_eff["_needed_joins"] = sorted(needed.get(t, ()))
            scanned_families.add(fam)
            plan.append((t, d_eff, sorted(by_type[t])))

        def read(job: tuple[str, dict[str, Any], list[str]]) -> TypeRead | None:
            t, d_eff, ids = job
            if not ids and "scope" not in d_eff:
                return None
            return self.read_type(t, d_eff, ids, by_type[t], scope, family_ids.get(_family(d_eff), set()))

        def take(job: tuple[str, dict[str, Any], list[str]], tr: TypeRead | None, exc: BaseException | None) -> None:
            if on_type is not None:  # progress (converter.progress.step): type name, index, total
                on_type(job[0], plan.index(job) + 1, len(plan))
            if exc is not None:
                raise exc
            if tr is not None:
                live.types[job[0]] = tr

        # types are independent reads (scopes and families decided above): they run concurrently too, every call
        # still taking one of the `read_workers` slots, and land in `live.types` in this order
        self._ordered(plan, read, take)
        live.api_calls = {f"{s}:{o}": n for (s, o), n in sorted(self.clients.calls.items())}
        live.http_attempts = self.clients.total_attempts
        return live


def _join_names(entry: Any) -> set[str]:
    src = entry if isinstance(entry, str) else (entry.get("from") if isinstance(entry, dict) else None)
    return set(re.findall(r"_join\.([A-Za-z0-9_]+)", src or ""))


def needed_joins(d: dict[str, Any], mo: Any) -> set[str]:
    """The joins a resource needs: those behind a rendered spec field or a state attribute it has (a join costs
    calls, so fields nobody renders do not trigger it)."""
    from converter.mapping.paths import lookup

    out: set[str] = set()
    spec = (mo.conversion.body or {}).get("spec") or {}
    for path, entry in (d.get("spec") or {}).items():
        if lookup(spec, path) is not MISSING:
            out |= _join_names(entry)
    for attr, entry in (d.get("state") or {}).items():
        if resolve(mo.inst.attributes, attr) is not MISSING:
            out |= _join_names(entry)
    return out


def _family(d: dict[str, Any]) -> tuple[str, str, str]:
    """Types reading the same items with the same call (SG + default SG): one unmanaged scan, shared managed ids.
    The items are part of it: GetAccountAuthorizationDetails serves roles, users, groups and policies — a user
    named like a managed role is still an unmanaged user."""
    return (d.get("client", ""), d.get("operation", ""), str(d.get("items", "")))


def _set_param(params: dict[str, Any], name: str, value: Any) -> None:
    """`identityProviderConfig.name` sets a member of a structure parameter (created when absent)."""
    *parents, last = name.split(".")
    node = params
    for p in parents:
        node = node.setdefault(p, {})
    node[last] = value


def _summary(d: dict[str, Any], item: Any) -> dict[str, Any]:
    from converter.diff.normalize import tags_to_map

    tags = tags_to_map(search(d.get("tags", "Tags"), item))
    tags = tags if isinstance(tags, dict) else {}
    out: dict[str, Any] = {"name": tags.get("Name") or search(d.get("name", "Name"), item)}
    sc = d.get("scope") or {}
    if sc.get("item"):
        out["scope"] = search(sc["item"], item)
    out["tags"] = tags
    return _jsonable(out)


def _code(exc: BaseException) -> str:
    resp = getattr(exc, "response", None)
    if isinstance(resp, dict):
        return str((resp.get("Error") or {}).get("Code") or "")
    return ""


def _abort_if_unreachable(category: str, msg: str) -> None:
    """An endpoint/credential failure mid-scan stops the scan: every further type would wait out the same retries
    and end `unknown` (measured: 188 HTTP attempts, ~2 minutes, against a closed port)."""
    if category == "unreachable":
        from converter.diff.aws import AwsUnreachable

        raise AwsUnreachable(f"AWS became unreachable during the read: {msg}; nothing more was checked")


def _is_aws_error(exc: BaseException) -> bool:
    from botocore.exceptions import BotoCoreError, ClientError

    return isinstance(exc, (BotoCoreError, ClientError))
