"""The only way `tf2kro diff` / `inventory capture` talk to AWS: a client factory whose clients are read-only,
counted, and retry throttling adaptively.

- **Read-only guard**: a `before-parameter-build` hook on every client refuses any operation whose name does not
  start with Describe/List/Get (plus HeadBucket), *before* a request is built or sent: a bug in a mapping's
  `describe:` block cannot write to AWS.
- **Counting**: every API call (one per operation invocation, pages included) and every HTTP attempt (retries
  included) is counted per service/operation; the report prints the totals.
- **Throttling**: botocore `adaptive` retry mode (client-side rate limiting + exponential backoff) with a
  configurable `max_attempts`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from converter.model import ToolError

READ_PREFIXES = ("Describe", "List", "Get")
READ_ALLOW = frozenset({"HeadBucket"})


class ReadOnlyViolation(ToolError):
    """A non-read operation was attempted through the diff client factory (refused before anything was sent)."""


def is_read_operation(name: str) -> bool:
    return name.startswith(READ_PREFIXES) or name in READ_ALLOW


@dataclass
class AwsClients:
    """boto3 clients for one region/profile/endpoint, all guarded and counted.

    `extra_handlers` ([(event name, handler)]) are registered on every client created — tests use it to inject
    throttling (`before-send` returning a 503/429 response)."""

    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    max_attempts: int = 8
    extra_handlers: list[tuple[str, Callable[..., Any]]] = field(default_factory=list)
    calls: Counter = field(default_factory=Counter)  # (service, operation) -> API calls (pages count)
    attempts: Counter = field(default_factory=Counter)  # (service, operation) -> HTTP attempts (retries count)
    _clients: dict[str, Any] = field(default_factory=dict)
    _session: Any = None

    def session(self) -> Any:
        if self._session is None:
            import boto3
            from botocore.exceptions import BotoCoreError

            try:
                self._session = boto3.Session(profile_name=self.profile, region_name=self.region)
            except BotoCoreError as exc:
                raise ToolError(f"AWS session: {exc}") from None
        return self._session

    def client(self, service: str) -> Any:
        if service in self._clients:
            return self._clients[service]
        from botocore.config import Config

        cfg = Config(
            retries={"mode": "adaptive", "max_attempts": self.max_attempts},
            connect_timeout=10,
            read_timeout=60,
            user_agent_extra="tf2kro-diff",
        )
        kwargs: dict[str, Any] = {"config": cfg}
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        region = self.region or self.session().region_name or "us-east-1"
        client = self.session().client(service, region_name=region, **kwargs)
        events = client.meta.events
        events.register_first("before-parameter-build", self._guard)
        events.register("before-call", self._count_call)
        events.register("before-send", self._count_attempt)
        for event, handler in self.extra_handlers:
            events.register(event, handler)
        self._clients[service] = client
        return client

    # ------------------------------------------------------------------------------------------ hooks
    @staticmethod
    def _guard(params: Any = None, model: Any = None, **kw: Any) -> None:
        name = getattr(model, "name", "") or ""
        if not is_read_operation(name):
            service = getattr(getattr(model, "service_model", None), "service_name", "?")
            raise ReadOnlyViolation(f"refused {service}:{name}: tf2kro diff only reads (Describe*/List*/Get*)")

    def _count_call(self, model: Any = None, **kw: Any) -> None:
        self.calls[(model.service_model.service_name, model.name)] += 1

    def _count_attempt(self, request: Any = None, event_name: str = "", **kw: Any) -> None:
        parts = event_name.split(".")  # before-send.<service id>.<Operation>
        svc, op = (parts[1], parts[2]) if len(parts) >= 3 else ("?", "?")
        self.attempts[(svc, op)] += 1

    # ------------------------------------------------------------------------------------------ totals
    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    @property
    def total_attempts(self) -> int:
        return sum(self.attempts.values())


# Error codes that mean "you may not read this" / "this API does not exist here": the type becomes `unknown`.
DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "UnauthorizedAccess",
                          "AuthorizationError", "AuthFailure", "403", "Forbidden", "InvalidClientTokenId",
                          "UnrecognizedClientException", "ExpiredToken", "ExpiredTokenException"})
UNSUPPORTED_CODES = frozenset({"404", "NotFound", "InvalidAction", "UnknownOperationException", "UnsupportedOperation",
                               "OptInRequired", "NotImplemented", "501"})
THROTTLE_CODES = frozenset({"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException",
                            "SlowDown", "RequestThrottled", "503"})


def classify_error(exc: BaseException) -> tuple[str, str]:
    """(category, message) for an exception from a read call: category is denied | unsupported | throttled |
    not_found | error. The message never contains request parameters (which may hold ids, never secrets)."""
    from botocore.exceptions import BotoCoreError, ClientError

    if isinstance(exc, ReadOnlyViolation):
        return "error", str(exc)
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {}) or {}
        code = str(err.get("Code") or "")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        op = getattr(exc, "operation_name", "?")
        msg = f"{op}: {code or status} {str(err.get('Message') or '')[:200]}".strip()
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
        return "error", f"{type(exc).__name__}: {str(exc)[:200]}"
    return "error", f"{type(exc).__name__}: {str(exc)[:200]}"
