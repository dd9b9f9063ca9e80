"""Serve store objects over HTTP: single ``Range`` requests (206/416), ETag, chunked streaming."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from starlette.responses import Response, StreamingResponse

from heldout.api.problems import http_problem
from heldout.storage.base import ObjectStore

CHUNK = 1024 * 1024
RANGE_CHUNK = 8 * 1024 * 1024
_RANGE = re.compile(r"bytes=(?P<start>\d*)-(?P<end>\d*)")


class RangeNotSatisfiable(Exception):
    """The Range header asks for bytes the object does not have."""


@dataclass(frozen=True)
class ByteRange:
    """Inclusive ``[start, end]`` of an object of ``size`` bytes."""

    start: int
    end: int
    size: int

    @property
    def length(self) -> int:
        return self.end - self.start + 1


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The single byte range a ``Range`` header asks for; None means the whole object.

    Multi-range and malformed headers are ignored (RFC 9110 allows serving 200 instead);
    a well-formed range starting at or after the end raises RangeNotSatisfiable.
    """
    if not header:
        return None
    match = _RANGE.fullmatch(header.strip())
    if match is None:
        return None
    first, last = match.group("start"), match.group("end")
    if not first and not last:
        return None
    if not first:  # suffix: the last N bytes
        suffix = int(last)
        if suffix == 0:
            raise RangeNotSatisfiable
        return ByteRange(max(size - suffix, 0), size - 1, size) if size else None
    start = int(first)
    end = int(last) if last else size - 1
    if last and end < start:
        return None
    if start >= size:
        raise RangeNotSatisfiable
    return ByteRange(start, min(end, size - 1), size)


def _whole(stream: BinaryIO, size: int) -> Iterator[bytes]:
    """Chunks of an open object stream, cut at ``size`` (the length the headers announced)."""
    remaining = size
    try:
        while remaining > 0 and (chunk := stream.read(min(CHUNK, remaining))):
            remaining -= len(chunk)
            yield chunk
    finally:
        stream.close()


def _ranged(store: ObjectStore, key: str, byte_range: ByteRange) -> Iterator[bytes]:
    offset, remaining = byte_range.start, byte_range.length
    while remaining > 0:
        data = store.get_range(key, offset, min(RANGE_CHUNK, remaining))
        if not data:
            return
        yield data
        offset += len(data)
        remaining -= len(data)


def object_response(
    store: ObjectStore,
    key: str,
    *,
    size: int,
    sha256: str | None,
    media_type: str,
    range_header: str | None,
    if_range: str | None = None,
    if_none_match: str | None = None,
    filename: str | None = None,
    head: bool = False,
    cache_control: str = "private, max-age=0",
) -> Response:
    """200/206/304/416 response streaming ``key`` (``size`` and ``sha256`` known beforehand)."""
    etag = f'"{sha256}"' if sha256 else None
    headers = {"Accept-Ranges": "bytes", "Cache-Control": cache_control}
    if etag:
        headers["ETag"] = etag
    if filename:
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    if etag and if_none_match and etag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    if if_range and if_range.strip() != etag:
        range_header = None  # the client's copy is stale: send the whole new object
    try:
        byte_range = parse_range(range_header, size)
    except RangeNotSatisfiable:
        return http_problem(416, f"range {range_header!r} is outside the object's {size} bytes",
                            headers={"Content-Range": f"bytes */{size}", **headers})
    if byte_range is None:
        headers["Content-Length"] = str(size)
        body = iter(()) if head else _whole(store.open(key), size)
        return StreamingResponse(body, status_code=200, media_type=media_type, headers=headers)
    headers["Content-Range"] = f"bytes {byte_range.start}-{byte_range.end}/{size}"
    headers["Content-Length"] = str(byte_range.length)
    body = iter(()) if head else _ranged(store, key, byte_range)
    return StreamingResponse(body, status_code=206, media_type=media_type, headers=headers)
