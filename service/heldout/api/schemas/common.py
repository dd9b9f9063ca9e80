"""Shapes shared by every area: the base model, one page of a list, and a problem (RFC 9457)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema
from starlette.datastructures import URL

from heldout.errors import PROBLEM_BASE

T = TypeVar("T")


class ApiModel(BaseModel):
    """Base of response models: built from attributes or dicts; field order is the JSON's."""

    model_config = ConfigDict(from_attributes=True, populate_by_name=True)

    def to_dict(self) -> dict[str, Any]:
        """The JSON-shaped dict the server sent (what the client methods used to return)."""
        return self.model_dump(mode="json")

    def __getitem__(self, key: str) -> Any:
        """``obj["field"]``: dict-style reading, kept for code written against the dict API."""
        if key not in type(self).model_fields and key not in (self.model_extra or {}):
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        """``obj.get("field", default)``, as on the dicts the client used to return."""
        try:
            return self[key]
        except KeyError:
            return default


class Page(ApiModel, Generic[T]):
    """One page of a list, in a stable order; follow ``next`` until it is null."""

    items: list[T] = Field(description="the entries of this page")
    total: int = Field(ge=0, description="entries in the whole list (all pages)")
    limit: int = Field(ge=0, description="the most entries a page holds")
    offset: int = Field(ge=0, description="index of this page's first entry in the list")
    next: str | None = Field(
        None, description="URL of the next page; null on the last page",
        examples=["http://127.0.0.1:8000/api/v1/datasets?limit=50&offset=50"],
    )


def next_url(url: URL | str, total: int, limit: int, offset: int, size: str = "limit"
             ) -> str | None:
    """The URL of the page after ``offset``: ``url`` with its ``offset`` and page size (the
    query parameter ``size``) replaced; None on the last page."""
    if limit <= 0 or offset + limit >= total:
        return None
    return str(URL(str(url)).include_query_params(**{size: limit, "offset": offset + limit}))


def page(items: Sequence[T], total: int, limit: int, offset: int, url: URL | str
         ) -> Page[T]:
    """A :class:`Page` whose ``next`` links to the following page of ``url``."""
    return Page[T](items=list(items), total=total, limit=limit, offset=offset,
                   next=next_url(url, total, limit, offset))


class Problem(ApiModel):
    """An error answer, RFC 9457 ``application/problem+json``; more members may follow."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "type": PROBLEM_BASE + "not-found", "title": "Not found", "status": 404,
        "detail": "dataset 'pets' does not exist", "instance": "/api/v1/datasets/pets",
        "request_id": "5f0c6a0e4b7d4c1c9a7e2d3b1f6a8c90",
    }]})

    type: str = Field(description=f"stable per error class, {PROBLEM_BASE}<slug> "
                                  "(or about:blank)", examples=[PROBLEM_BASE + "not-found"])
    title: str = Field(description="short summary of the error class")
    status: int = Field(ge=400, le=599, description="the HTTP status, repeated")
    detail: str = Field(description="what was wrong, and where")
    instance: str | None = Field(None, description="the path of the request")
    request_id: str | None = Field(None, description="also in X-Request-ID and the log line")


def _iso(value: datetime) -> str:
    return value.isoformat()


Timestamp = Annotated[
    datetime,
    PlainSerializer(_iso, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time",
                    "examples": ["2026-12-01T22:56:00+00:00"]}),
]
"""A time in the catalog, as ISO 8601 text with its UTC offset."""
