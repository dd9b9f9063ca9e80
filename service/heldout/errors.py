"""The typed error hierarchy. Each class maps to one HTTP status and an RFC 9457 problem type.

This module is also the one index between the two: :func:`error_class` turns a problem's slug
and status back into a class (the API's framework errors and the client's responses use it).
"""

from __future__ import annotations

from typing import Any, ClassVar

PROBLEM_BASE = "https://heldout.dev/problems/"


class HeldoutError(Exception):
    """Base of every error Heldout raises on purpose."""

    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal"
    title: ClassVar[str] = "Internal error"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra

    @property
    def type_uri(self) -> str:
        """Stable problem type URI for this error class."""
        return PROBLEM_BASE + self.slug

    def to_problem(self, instance: str | None = None) -> dict[str, Any]:
        """The RFC 9457 problem+json body."""
        body: dict[str, Any] = {
            "type": self.type_uri,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        body.update(self.extra)
        return body


class InvalidInput(HeldoutError):
    """The request or file is malformed; the detail says what and where."""

    status = 422
    slug = "invalid-input"
    title = "Invalid input"


class InvalidName(InvalidInput):
    slug = "invalid-name"
    title = "Invalid name or version"


class PredictionError(InvalidInput):
    slug = "invalid-predictions"
    title = "Invalid predictions"


class IngestError(InvalidInput):
    slug = "invalid-dataset"
    title = "Invalid dataset files"


class IntegrityError(HeldoutError):
    """Stored bytes do not match their declared checksum or row count."""

    status = 422
    slug = "integrity"
    title = "Checksum or row count mismatch"


class NotFound(HeldoutError):
    status = 404
    slug = "not-found"
    title = "Not found"


class ObjectNotFound(NotFound):
    slug = "object-not-found"
    title = "Object not found"


class Conflict(HeldoutError):
    status = 409
    slug = "conflict"
    title = "Conflict"


class AlreadyExists(Conflict):
    slug = "already-exists"
    title = "Already exists"


class VersionImmutable(Conflict):
    slug = "version-immutable"
    title = "Version already committed"


class Unauthorized(HeldoutError):
    status = 401
    slug = "unauthorized"
    title = "Missing or invalid API key"


class Forbidden(HeldoutError):
    status = 403
    slug = "forbidden"
    title = "Not allowed"


class PayloadTooLarge(HeldoutError):
    status = 413
    slug = "payload-too-large"
    title = "Payload too large"


class RateLimited(HeldoutError):
    status = 429
    slug = "rate-limited"
    title = "Too many requests"


class QuotaExceeded(RateLimited):
    """A submission quota is used up: 429 with ``Retry-After`` (seconds until it frees up)."""

    slug = "quota-exceeded"
    title = "Submission quota used up"

    def __init__(self, detail: str, retry_after: int = 60, **extra: Any) -> None:
        super().__init__(detail, retry_after=retry_after, **extra)
        self.headers = {"Retry-After": str(max(1, int(retry_after)))}


class InvalidBenchmark(InvalidInput):
    """A benchmark definition is invalid; ``detail`` names file, field and expectation."""

    slug = "invalid-benchmark"
    title = "Invalid benchmark definition"


class BenchmarkVersionConflict(Conflict):
    slug = "benchmark-version"
    title = "Scoring rules changed without a new version"


class PhaseClosed(Conflict):
    slug = "phase-closed"
    title = "No phase is open for submissions"


class Embargoed(Forbidden):
    """A held-out split whose competition phase has not started: its inputs stay hidden."""

    slug = "embargoed"
    title = "Split under embargo"


class DatasetGone(HeldoutError):
    status = 410
    slug = "dataset-version-gone"
    title = "The benchmark's dataset version is gone"


class StoreUnavailable(HeldoutError):
    """The object store could not be reached or answered with a server error."""

    status = 503
    slug = "store-unavailable"
    title = "Object store unavailable"


class ServiceBusy(HeldoutError):
    """Too much of some bounded work is in progress; retry after ``retry_after`` seconds."""

    status = 503
    slug = "busy"
    title = "Busy"


class DatabaseUnavailable(HeldoutError):
    status = 503
    slug = "database-unavailable"
    title = "Database unavailable"


class ServerError(HeldoutError):
    """The server answered with an error status that maps to no more specific error."""

    slug = "server-error"
    title = "Server error"

    def __init__(self, detail: str, status: int = 500, **extra: Any) -> None:
        super().__init__(detail, **extra)
        self.status = status  # type: ignore[misc]


class ConnectionFailed(HeldoutError):
    """The server could not be reached, even after retries."""

    status = 503
    slug = "connection-failed"
    title = "Server unreachable"


BY_STATUS: dict[int, type[HeldoutError]] = {
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    422: InvalidInput,
    429: RateLimited,
    500: HeldoutError,
}
"""The general class of each status an error class has (a bare status maps to it)."""


def error_classes() -> dict[str, type[HeldoutError]]:
    """Every error class by its problem slug (the base first; subclasses added later count)."""
    found: dict[str, type[HeldoutError]] = {}
    stack: list[type[HeldoutError]] = [HeldoutError]
    while stack:
        cls = stack.pop()
        found.setdefault(cls.slug, cls)
        stack.extend(cls.__subclasses__())
    return found


def error_class(status: int, slug: str | None = None) -> type[HeldoutError] | None:
    """The class of a problem: the one its ``slug`` names when its status agrees, else the
    general class of ``status`` (None when no class has that status)."""
    cls = error_classes().get(slug) if slug else None
    if cls is not None and cls is not HeldoutError and cls.status == status:
        return cls
    return BY_STATUS.get(status)
