"""Benchmarks on the Python client: browse, submit predictions, follow them, leaderboards.

Mixed into :class:`heldout.client.http.Client`. An upload is a streamed multipart body read
from disk (never the whole file in memory) with one ``Idempotency-Key`` for every retry, so a
retried upload never makes two submissions.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from heldout.errors import HeldoutError

FINISHED = frozenset({"scored", "failed"})
CHUNK = 1024 * 1024
SubmissionCallback = Callable[[dict[str, Any]], None]


class SubmissionTimeout(HeldoutError):
    """``submit(wait=True)`` or ``wait()`` gave up before the submission was scored."""

    status = 504
    slug = "submission-timeout"
    title = "Submission not scored in time"


class MultipartFile:
    """A ``multipart/form-data`` body of text fields and one file part, streamed from disk."""

    def __init__(self, fields: Mapping[str, str], path: Path, field: str = "file") -> None:
        self.boundary = uuid.uuid4().hex
        self.path = path
        head = "".join(
            f'--{self.boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
            f"{value}\r\n" for name, value in fields.items())
        head += (f'--{self.boundary}\r\nContent-Disposition: form-data; name="{field}"; '
                 f'filename="{_quoted(path.name)}"\r\n'
                 "Content-Type: application/octet-stream\r\n\r\n")
        self.head = head.encode()
        self.tail = f"\r\n--{self.boundary}--\r\n".encode()

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def length(self) -> int:
        return len(self.head) + self.path.stat().st_size + len(self.tail)

    def chunks(self) -> Iterator[bytes]:
        """The body, one megabyte of the file at a time (a fresh iterator per retry)."""
        yield self.head
        with open(self.path, "rb") as f:
            while chunk := f.read(CHUNK):
                yield chunk
        yield self.tail


def _quoted(name: str) -> str:
    return name.replace("\\", "_").replace('"', "_").replace("\r", "_").replace("\n", "_")


def _fields(model_name: str, description: str | None, link: str | None) -> dict[str, str]:
    fields = {"model_name": model_name}
    if description:
        fields["description"] = description
    if link:
        fields["link"] = link
    return fields


class BenchmarkMethods:
    """Benchmark, submission and leaderboard calls of :class:`~heldout.client.http.Client`."""

    def benchmarks(self, *, limit: int = 100, offset: int = 0) -> dict[str, Any]:
        """One page of benchmarks: ``{"items": [...], "total", "limit", "offset", "next"}``."""
        result: dict[str, Any] = self.get_json("/benchmarks", params={
            "limit": limit, "offset": offset}, what="listing benchmarks")
        return result

    def benchmark(self, benchmark: str) -> dict[str, Any]:
        """One benchmark: task, metrics and direction, phases, quotas, warnings."""
        result: dict[str, Any] = self.get_json(f"/benchmarks/{quote(benchmark)}",
                                                what=f"benchmark {benchmark!r}")
        return result

    def trials(self, benchmark: str) -> list[dict[str, Any]]:
        """Every trial (``id``, ``enroll_id``, ``test_id``) of a verification benchmark."""
        out: list[dict[str, Any]] = []
        while True:
            page = self.get_json(f"/benchmarks/{quote(benchmark)}/trials",
                                 params={"limit": 500, "offset": len(out)},
                                 what=f"trials of {benchmark!r}")
            out.extend(page["items"])
            if not page["items"] or len(out) >= page["total"]:
                return out

    def submission(self, submission_id: str) -> dict[str, Any]:
        """A submission: status, scores with 95% intervals, validation or failure report."""
        result: dict[str, Any] = self.get_json(f"/submissions/{quote(submission_id)}",
                                                what=f"submission {submission_id!r}")
        return result

    def submissions(self, benchmark: str, *, mine: bool = True, limit: int = 50,
                    offset: int = 0) -> dict[str, Any]:
        """One page of your (and your team's) submissions to ``benchmark``, newest first."""
        result: dict[str, Any] = self.get_json(
            f"/benchmarks/{quote(benchmark)}/submissions",
            params={"mine": int(mine), "limit": limit, "offset": offset},
            what=f"submissions to {benchmark!r}")
        return result

    def select(self, submission_id: str, selected: bool = True) -> dict[str, Any]:
        """Mark (or with ``selected=False`` unmark) a submission as a final selection."""
        result: dict[str, Any] = self.request(
            "POST", f"/submissions/{quote(submission_id)}/select",
            json={"selected": selected}, what=f"selecting submission {submission_id!r}").json()
        return result

    def leaderboard(self, benchmark: str, view: str = "public") -> dict[str, Any]:
        """The leaderboard document (``view="private"`` once revealed, or for admins)."""
        result: dict[str, Any] = self.get_json(
            f"/benchmarks/{quote(benchmark)}/leaderboard", params={"view": view},
            what=f"leaderboard of {benchmark!r}")
        return result

    def leaderboard_csv(self, benchmark: str, view: str = "public") -> str:
        """The leaderboard as CSV text, as the server renders it."""
        return self.request("GET", f"/benchmarks/{quote(benchmark)}/leaderboard",
                            params={"view": view, "format": "csv"},
                            what=f"leaderboard of {benchmark!r}").text

    def upload(self, benchmark: str, path: str | Path, model_name: str, *,
               description: str | None = None, link: str | None = None,
               idempotency_key: str | None = None) -> dict[str, Any]:
        """Upload a prediction file; returns the queued submission (202) without waiting."""
        body = MultipartFile(_fields(model_name, description, link), Path(path))
        headers = {"Content-Type": body.content_type, "Content-Length": str(body.length()),
                   "Idempotency-Key": idempotency_key or uuid.uuid4().hex}
        result: dict[str, Any] = self.request(
            "POST", f"/benchmarks/{quote(benchmark)}/submissions", headers=headers,
            content=body.chunks, what=f"submitting {Path(path).name} to {benchmark!r}").json()
        return result

    def wait(self, submission_id: str, *, timeout: float = 600.0,
             progress: SubmissionCallback | None = None) -> dict[str, Any]:
        """Poll a submission until it is scored or failed (or ``timeout`` seconds pass)."""
        deadline = time.monotonic() + timeout
        delay = 0.05
        while True:
            doc: dict[str, Any] = self.get_json(f"/submissions/{quote(submission_id)}",
                                                 what=f"submission {submission_id!r}")
            if progress is not None:
                progress(doc)
            if doc["status"] in FINISHED:
                return doc
            if time.monotonic() + delay > deadline:
                raise SubmissionTimeout(f"submission {submission_id} is still {doc['status']} "
                                        f"after {timeout:.0f} s; see it later with "
                                        f"`heldout submissions show {submission_id}`")
            time.sleep(delay)
            delay = min(delay * 1.5, 2.0)

    def submit(self, benchmark: str, path: str | os.PathLike[str], model_name: str, *,
               description: str | None = None, link: str | None = None, wait: bool = True,
               timeout: float = 600.0, idempotency_key: str | None = None,
               progress: SubmissionCallback | None = None) -> dict[str, Any]:
        """Submit predictions to ``benchmark``; with ``wait`` (default) return once scored.

        The document has ``status`` (``scored`` or ``failed`` when waited for) and
        ``scores`` with 95% intervals. A file the server rejects raises ``InvalidInput``
        whose ``problem`` lists every problem it found.
        """
        doc = self.upload(benchmark, Path(path), model_name, description=description, link=link,
                          idempotency_key=idempotency_key)
        if progress is not None:
            progress(doc)
        if not wait or doc["status"] in FINISHED:
            return doc
        return self.wait(doc["id"], timeout=timeout, progress=progress)

    # provided by Client; declared for the methods above that call them through ``self``
    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        raise NotImplementedError

    def get_json(self, path: str, **kwargs: Any) -> Any:
        raise NotImplementedError
