"""The only way `tf2kro diff` / `inventory capture` talk to AWS: a client factory whose clients are read-only,
counted, and retry throttling adaptively.

- **Read-only guard**: a `before-parameter-build` hook on every client refuses any operation that is not on the
  allow-list (the reads the mappings name, plus `operations.FIXED`), and any secret-value read (`operations.DENIED`)
  even if listed, *before* a request is built or sent: a bug in a mapping cannot write to AWS or read a secret.
- **Preflight**: `preflight()` calls `sts:GetCallerIdentity` once, with one attempt and short timeouts, before any
  read: missing credentials or an unreachable endpoint is one line and exit 2 within seconds, not minutes of
  retries ending in an all-`unknown` report.
- **Counting**: every API call (one per operation invocation, pages included) and every HTTP attempt (retries
  included) is counted per service/operation; the report prints the totals.
- **Throttling**: botocore `adaptive` retry mode (client-side rate limiting + exponential backoff) with a
  configurable `max_attempts`.
- **Concurrency**: per-object reads fan out over `read_workers` threads (`LiveReader`); boto3 clients are
  thread-safe for calls but sessions are not, so clients are created under a lock (in practice before the fan-out),
  the counters are updated under a lock (`Counter[k] += 1` is a read-modify-write), and the HTTP connection pool is
  at least `read_workers` wide so workers do not queue for a socket.
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from converter.model import ToolError

# the calls of the type being read in this thread (and its per-id workers, which run in a copy of its context):
# types are read concurrently, so "total after - total before" would count other types' calls
TYPE_CALLS: contextvars.ContextVar[Counter | None] = contextvars.ContextVar("tf2kro_type_calls", default=None)


class ReadOnlyViolation(ToolError):
    """An operation outside the allow-list (or a denied secret read) was attempted through the client factory;
    refused before anything was sent."""


class AwsUnreachable(ToolError):
    """Credentials or endpoint do not work: nothing can be read, so nothing is checked (exit 2)."""


@dataclass(frozen=True)
class CallerIdentity:
    """What the preflight found: printed on stderr so a CI log shows which account/region was checked."""

    account: str
    arn: str
    partition: str
    region: str
    endpoint: str

    def line(self) -> str:
        return (f"AWS: account {self.account}, partition {self.partition}, region {self.region}, "
                f"endpoint {self.endpoint} ({self.arn})")


@dataclass
class AwsClients:
    """boto3 clients for one region/profile/endpoint, all guarded and counted.

    `extra_handlers` ([(event name, handler)]) are registered on every client created — tests use it to inject
    throttling (`before-send` returning a 503/429 response)."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    max_attempts: int = 8
    # threads for per-object reads (EKS node groups, SQS attributes, DescribeSecret, ...); 1 = strictly serial
    read_workers: int = 8
    # (client, operation) pairs that may be sent; None = the installed mappings' reads + operations.FIXED
    allowed: frozenset[tuple[str, str]] | None = None
    extra_handlers: list[tuple[str, Callable[..., Any]]] = field(default_factory=list)
    calls: Counter = field(default_factory=Counter)  # (service, operation) -> API calls (pages count)
    attempts: Counter = field(default_factory=Counter)  # (service, operation) -> HTTP attempts (retries count)
    _clients: dict[str, Any] = field(default_factory=dict)
    _session: Any = None
    _lock: Any = field(default_factory=threading.RLock, repr=False)
    _slots: Any = None
    _lost: AwsUnreachable | None = None  # set when the endpoint went away: every later call stops at once

    @contextlib.contextmanager
    def slot(self) -> Iterator[None]:
        """One of `read_workers` call slots: held around every read call, so however types and per-id reads are
        fanned out, at most `read_workers` calls are in flight. After the endpoint was lost, no new call starts."""
        with self._lock:
            if self._slots is None:
                self._slots = threading.BoundedSemaphore(max(1, int(self.read_workers or 1)))
            slots = self._slots
        with slots:
            if self._lost is not None:
                raise AwsUnreachable(str(self._lost))
            yield

    def session(self) -> Any:
        with self._lock:
            return self._session_locked()

    def _session_locked(self) -> Any:
        if self._session is None:
            import boto3
            from botocore.exceptions import BotoCoreError

            try:
                self._session = boto3.Session(profile_name=self.profile, region_name=self.region)
            except BotoCoreError as exc:
                raise AwsUnreachable(f"AWS session: {exc}") from None
        return self._session

    @property
    def effective_region(self) -> str:
        return self.region or self.session().region_name or "us-east-1"

    def client(self, service: str) -> Any:
        with self._lock:  # one client per service even when a worker asks first; sessions are not thread-safe
            if service in self._clients:
                return self._clients[service]
            from botocore.config import Config

            cfg = Config(
                retries={"mode": "adaptive", "max_attempts": self.max_attempts},
                connect_timeout=10,
                read_timeout=60,
                user_agent_extra="tf2kro-diff",
                max_pool_connections=max(10, self.read_workers),
            )
            client = self._new_client(service, cfg)
            self._clients[service] = client
            return client

    def _new_client(self, service: str, cfg: Any, *, counted: bool = True) -> Any:
        kwargs: dict[str, Any] = {"config": cfg}
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        from botocore.exceptions import BotoCoreError

        try:
            client = self.session().client(service, region_name=self.effective_region, **kwargs)
        except BotoCoreError as exc:
            raise AwsUnreachable(f"AWS client {service}: {exc}") from None
        events = client.meta.events
        events.register_first("before-parameter-build", self._guard)
        events.register_first("needs-retry", self._stop_connection_retries)
        if counted:
            events.register("before-call", self._count_call)
            events.register("before-send", self._count_attempt)
        for event, handler in self.extra_handlers:
            events.register(event, handler)
        return client

    def preflight(self) -> CallerIdentity:
        """`sts:GetCallerIdentity` once (one attempt, 5 s connect timeout): the credentials work and the endpoint
        answers, or `AwsUnreachable` with one line naming the cause. Run before any read."""
        from botocore.config import Config

        cfg = Config(retries={"mode": "standard", "total_max_attempts": 1}, connect_timeout=5, read_timeout=15,
                     user_agent_extra="tf2kro-preflight")
        sts = self._new_client("sts", cfg, counted=False)  # the scan's call counts stay the scan's
        endpoint = str(sts.meta.endpoint_url)
        try:
            ident = sts.get_caller_identity()
        except Exception as exc:  # noqa: BLE001 - every failure here means nothing can be checked
            raise AwsUnreachable(f"AWS preflight (sts:GetCallerIdentity at {endpoint}, region {self.effective_region}) "
                                 f"failed: {preflight_cause(exc)}") from None
        arn = str(ident.get("Arn") or "")
        parts = arn.split(":")
        return CallerIdentity(account=str(ident.get("Account") or "?"), arn=arn,
                              partition=parts[1] if len(parts) > 1 and parts[1] else "aws",
                              region=self.effective_region, endpoint=endpoint)

    # ------------------------------------------------------------------------------------------ hooks
    def _guard(self, params: Any = None, model: Any = None, **kw: Any) -> None:
        from converter.diff.operations import default_allowed, is_denied

        name = getattr(model, "name", "") or ""
        service = getattr(getattr(model, "service_model", None), "service_name", "?")
        if is_denied(service, name):
            raise ReadOnlyViolation(f"refused {service}:{name}: it reads secret values or credentials; tf2kro never sends it")
        if self.allowed is None:
            self.allowed = default_allowed()
        if (service, name) not in self.allowed:
            raise ReadOnlyViolation(f"refused {service}:{name}: not in tf2kro's read-only allow-list "
                                    "(the reads named in mappings/ plus sts:GetCallerIdentity, eks:DescribeAddonVersions)")

    def _stop_connection_retries(self, attempts: int | None = None, caught_exception: BaseException | None = None,
                                 **kw: Any) -> None:
        """A connection failure is retried once, not `max_attempts` times with backoff for every type: the endpoint
        is gone, so the scan stops (exit 2) instead of waiting minutes for an all-unknown report."""
        if caught_exception is not None and type(caught_exception).__name__ in _CONNECTION and (attempts or 0) >= 2:
            lost = AwsUnreachable(f"endpoint unreachable ({type(caught_exception).__name__}) after {attempts} attempts; "
                                  "nothing more was checked")
            self._lost = lost
            raise lost

    def _count_call(self, model: Any = None, **kw: Any) -> None:
        key = (model.service_model.service_name, model.name)
        with self._lock:
            self.calls[key] += 1
            per_type = TYPE_CALLS.get()
            if per_type is not None:
                per_type[key] += 1

    def _count_attempt(self, request: Any = None, event_name: str = "", **kw: Any) -> None:
        parts = event_name.split(".")  # before-send.<service id>.<Operation>
        svc, op = (parts[1], parts[2]) if len(parts) >= 3 else ("?", "?")
        with self._lock:
            self.attempts[(svc, op)] += 1

    # ------------------------------------------------------------------------------------------ totals
    @property
    def total_calls(self) -> int:
        with self._lock:
            return sum(self.calls.values())

    @property
    def total_attempts(self) -> int:
        with self._lock:
            return sum(self.attempts.values())

    def calls_snapshot(self) -> dict[tuple[str, str], int]:
        """A consistent copy of the per-operation call counts (workers may be counting)."""
        with self._lock:
            return dict(self.calls)


# Error codes that mean "you may not read this" / "this API does not exist here": the type becomes `unknown`.
DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess",
                          "AuthorizationError", "AuthFailure", "403", "Forbidden", "InvalidClientTokenId",
                          "UnrecognizedClientException", "ExpiredToken", "ExpiredTokenException"})
UNSUPPORTED_CODES = frozenset({"404", "NotFound", "InvalidAction", "UnknownOperationException", "UnsupportedOperation",
                               "OptInRequired", "NotImplemented", "501"})
THROTTLE_CODES = frozenset({"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException",
                            "SlowDown", "RequestThrottled", "503"})


_HTML = re.compile(r"<\s*(!doctype|html|head|body|title|h1|div|p|pre|center|hr|br)\b", re.IGNORECASE)


def safe_message(text: Any, limit: int = 200) -> str:
    """An AWS error message fit for a report: one line, bounded, and never the body of an HTML error page
    (a proxy's or load balancer's page can echo request data; the status and code say enough)."""
    s = str(text or "")
    if _HTML.search(s) or "<" in s and ">" in s and s.count("<") > 2:
        return "(HTML error page omitted)"
    s = " ".join(s.split())
    return s if len(s) <= limit else s[: limit - 1] + "…"


_CONNECTION = frozenset({"EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError",
                         "ProxyConnectionError", "SSLError", "ReadTimeoutError"})
_UNREACHABLE = ("EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError", "ProxyConnectionError",
                "SSLError", "ReadTimeoutError", "NoCredentialsError", "PartialCredentialsError",
                "CredentialRetrievalError", "ProfileNotFound", "NoRegionError", "InvalidRegionError",
                "UnauthorizedSSOTokenError", "TokenRetrievalError")


def preflight_cause(exc: BaseException) -> str:
    """One line naming why the preflight failed: credentials, endpoint, or the AWS error code."""
    from botocore.exceptions import ClientError

    name = type(exc).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError"):
        return (f"no usable AWS credentials ({name}): set AWS_PROFILE / --profile, AWS_ACCESS_KEY_ID, or a CI role; "
                "nothing was checked")
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ConnectionClosedError", "ProxyConnectionError",
                "SSLError", "ReadTimeoutError"):
        return f"endpoint unreachable ({name}); nothing was checked"
    if name == "ProfileNotFound":
        return f"{safe_message(exc)}; nothing was checked"
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {}) or {}
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return (f"HTTP {status} {err.get('Code') or ''} {safe_message(err.get('Message'), 160)}".strip()
                + " (credentials rejected or endpoint not AWS); nothing was checked")
    return f"{name}: {safe_message(exc)}; nothing was checked"


def classify_error(exc: BaseException) -> tuple[str, str]:
    """(category, message) for an exception from a read call: category is denied | unsupported | throttled |
    not_found | unreachable | error. The message never contains request parameters (which may hold ids, never
    secrets) nor the body of an HTML error page."""
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, ReadOnlyViolation):
        return "error", str(exc)
    if type(exc).__name__ in _UNREACHABLE:
        return "unreachable", f"{type(exc).__name__}: {safe_message(exc)}"
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {}) or {}
        code = str(err.get("Code") or "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        op = getattr(exc, "operation_name", "?")
        msg = f"{op}: {code or status} {safe_message(err.get('Message'))}".strip()
        if code in DENIED_CODES or status == 403:
            return "denied", msg
        if code in THROTTLE_CODES or status in (429, 503):
            return "throttled", msg + " (retries exhausted)"
        if code.endswith(("NotFound", "NotFoundException", "NotFoundFault")) or code in ("NoSuchEntity", "NoSuchBucket"):
            return "not_found", msg
        if code in UNSUPPORTED_CODES or status in (404, 501):
            return "unsupported", msg + " (API not available here)"
        return "error", msg
    if isinstance(exc, BotoCoreError):
        return "error", f"{type(exc).__name__}: {safe_message(exc)}"
    return "error", f"{type(exc).__name__}: {safe_message(exc)}"


def one_line_aws_errors(what: str, offline_hint: str, fn: Callable[[], Any]) -> Any:
    """fn() — a read through the guarded client factory — with any AWS error turned into one ToolError line (exit 2)
    naming the call and the offline alternative, never a traceback. Other exceptions pass through unchanged."""
    try:
        return fn()
    except ToolError:
        raise
    except Exception as exc:  # noqa: BLE001 - botocore errors become one line
        from botocore.exceptions import BotoCoreError, ClientError

        if not isinstance(exc, (BotoCoreError, ClientError)):
            raise
        category, msg = classify_error(exc)
        raise ToolError(f"{what} failed ({category}): {msg}; {offline_hint}") from None
