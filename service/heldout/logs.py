"""Logging for every Heldout process: one format with the request id in each line.

The request id lives here (not in the API) so any module may log it without importing the web
layer; :class:`heldout.api.middleware.RequestContextMiddleware` sets it per request.
"""

from __future__ import annotations

import logging
import logging.config
from contextvars import ContextVar
from typing import Any

from heldout.logsafe import EscapingFormatter

LOG_FORMAT = "%(asctime)s %(levelname)s [%(request_id)s] %(name)s: %(message)s"
request_id_var: ContextVar[str | None] = ContextVar("heldout_request_id", default=None)


def current_request_id() -> str | None:
    """The id of the request being handled (None outside a request)."""
    return request_id_var.get()


class RequestIdFilter(logging.Filter):
    """Adds ``record.request_id`` (``-`` outside a request) so formats can print it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id_var.get() or "-"
        return True


def log_config(level: str) -> dict[str, Any]:
    """A ``logging.config`` dict (uvicorn takes it too): one stderr handler, request ids."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        # Control characters escaped: no logged value can forge a line (heldout.logsafe).
        "formatters": {"default": {"()": EscapingFormatter, "fmt": LOG_FORMAT}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "default",
                                "filters": ["request_id"], "stream": "ext://sys.stderr"}},
        "root": {"handlers": ["stderr"], "level": level.upper()},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            # heldout.api.access logs every request with its id, user and masked key
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
        },
    }


def configure_logging(level: str = "INFO") -> None:
    """Set up logging of this process (``heldout worker``; ``heldout serve`` hands
    :func:`log_config` to uvicorn). Like ``logging.basicConfig``, a root logger that already
    has handlers (a program embedding Heldout, or pytest) is left alone."""
    if not logging.getLogger().handlers:
        logging.config.dictConfig(log_config(level))
