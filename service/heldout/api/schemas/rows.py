"""The rows preview: one window of a split's public columns, media cells as preview URLs."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from heldout.api.schemas.common import ApiModel, Page

__all__ = ["MediaCell", "Row", "RowsPage"]

Row = dict[str, Any]


class MediaCell(ApiModel):
    """The value of an Image or Audio cell in a row: never the bytes, a URL to a preview."""

    preview_url: str = Field(description="PNG thumbnail (≤ 128 px) or WAV clip (first 5 s)")
    path: str | None = Field(None, description="file name stored with the media (held-out "
                                               "splits: the row id)")
    num_bytes: int = Field(ge=0, description="size of the stored media")


class RowsPage(Page[Row]):
    """Rows ``offset … offset+limit`` of a split: public columns only (held-out labels never).

    Each row maps column → value; Image and Audio values are ``MediaCell`` objects. ``rows``,
    ``num_rows_total`` and ``length`` repeat ``items``, ``total`` and the page's size for
    clients written before the common page shape (deprecated; they go in /api/v2).
    """

    name: str = Field(description="dataset name", examples=["digits"])
    version: str = Field(description="the resolved version", examples=["1.0.0"])
    split: str = Field(description="the split read", examples=["train"])
    features: dict[str, Any] = Field(description="Hugging Face features JSON of the public "
                                                 "columns")
    rows: list[Row] = Field(description="deprecated: same as `items`", deprecated=True)
    num_rows_total: int = Field(ge=0, description="deprecated: same as `total`",
                                deprecated=True)
    length: int = Field(ge=0, description="deprecated: rows in this page (`len(items)`)",
                        deprecated=True)
