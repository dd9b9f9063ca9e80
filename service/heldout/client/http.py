"""The HTTP side of the Python client: one ``Client`` per server, with retries and clear errors.

Requests are retried with exponential backoff and full jitter on 429 (``Retry-After`` is
honoured), 500/502/503/504 and connection errors. Error responses (RFC 9457 problem+json)
become the typed errors of :mod:`heldout.errors`, carrying the server's ``detail``.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx

from heldout.api.schemas.common import Page
from heldout.api.schemas.datasets import (
    DatasetDetail,
    DatasetSummary,
    FileListing,
    TermsAcceptance,
)
from heldout.client.benchmarks import BenchmarkMethods
from heldout.client.credentials import API_PREFIX, DEFAULT_URL, normalize_url, resolve
from heldout.client.download import Download, ProgressCallback, download_version
from heldout.client.loader import Loaded, load_from_client
from heldout.client.publish import publish_folder, upload_draft
from heldout.client.retry import retry_delay
from heldout.client.streaming import stream_split
from heldout.errors import ConnectionFailed, HeldoutError, NotFound, ServerError, error_class
from heldout.formats.manifest import Manifest

__all__ = ["DEFAULT_URL", "Client", "ConnectionFailed", "ServerError", "normalize_url"]
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "heldout-client"


def error_from_response(response: httpx.Response, what: str = "") -> HeldoutError:
    """The typed error for an error response, with the server's problem detail."""
    status = response.status_code
    problem: dict[str, Any] = {}
    try:
        body = response.json()
        if isinstance(body, dict):
            problem = body
    except ValueError:
        pass
    detail = str(problem.get("detail") or problem.get("title") or response.text[:300]
                 or response.reason_phrase).strip()
    where = what or f"{response.request.method} {response.request.url.path}"
    if status == 401:
        detail = (f"invalid or missing API key (pass --token, set HELDOUT_TOKEN or run "
                  f"`heldout login`): {detail}")
    elif status == 403:
        detail = f"not allowed: {detail}"
    extra = {"status_code": status, "problem": problem, "request": where}
    slug = str(problem.get("type", "")).rsplit("/", 1)[-1]
    cls = error_class(status, slug)
    if cls is None or cls is HeldoutError:
        return ServerError(f"{where}: HTTP {status}: {detail}", status, **extra)
    return cls(detail, **extra)


class DatasetWarning(UserWarning):
    """The server says a version is yanked or a dataset deprecated (``X-Heldout-Warning``)."""


def warn_if_told(response: httpx.Response) -> None:
    """Raise a :class:`DatasetWarning` with the server's ``X-Heldout-Warning``, if any."""
    message = response.headers.get("X-Heldout-Warning")
    if message:
        warnings.warn(message, DatasetWarning, stacklevel=3)


def waits_too_long(response: httpx.Response, cap: float) -> bool:
    """Whether ``Retry-After`` asks for longer than ``cap`` seconds (say a submission quota that
    resets at midnight): such an answer is raised at once instead of retried."""
    header = response.headers.get("Retry-After", "").strip()
    return header.isdigit() and float(header) > cap


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return parts.scheme, (parts.hostname or "").lower(), parts.port or default


class Client(BenchmarkMethods):
    """A Heldout server: browse datasets, download and load them, publish new versions.

    ``url`` defaults to ``HELDOUT_URL``, else the URL saved by ``heldout login``, else
    http://127.0.0.1:8000; ``token`` to ``HELDOUT_TOKEN``, else the saved key (only when the
    URL is the saved one). ``url_source`` names where the URL came from, for messages. The
    token is sent only to the server's own origin, never to the
    presigned object-store URLs it hands out.
    """

    def __init__(
        self,
        url: str | None = None,
        token: str | None = None,
        *,
        timeout: float = 60.0,
        max_retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        workers: int = 8,
        cache_dir: str | Path | None = None,
        url_source: str | None = None,
    ) -> None:
        target = resolve(url, token)
        self.url = target.url
        self.token = (token or None) if token is not None else target.token
        self.url_source = url_source or ("the url argument" if url else target.url_source)
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.workers = max(1, workers)
        self.cache_dir = cache_dir
        self._origin = _origin(self.url)
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            limits=httpx.Limits(max_connections=self.workers + 4,
                                max_keepalive_connections=self.workers + 4),
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
        )

    # --- lifecycle ---------------------------------------------------------------------
    def close(self) -> None:
        """Close pooled connections."""
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        masked = f"…{self.token[-4:]}" if self.token else "none"
        return f"Client(url={self.url!r}, token={masked})"

    # --- plumbing ----------------------------------------------------------------------
    def api_url(self, path: str) -> str:
        """Absolute URL of an API path such as ``/datasets/mnist``."""
        return self.url + API_PREFIX + "/" + path.lstrip("/")

    def absolute(self, url: str) -> str:
        """Resolve a URL the server returned (it may be relative to the server)."""
        return urljoin(self.url + "/", url)

    def headers_for(self, url: str) -> dict[str, str]:
        """Authorization for the server's own origin only (a presigned URL must go bare)."""
        if self.token and _origin(url) == self._origin:
            return {"Authorization": f"Bearer {self.token}"}
        return {}

    @contextmanager
    def stream(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        content: Callable[[], Any] | None = None,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        what: str = "",
        ok: tuple[int, ...] = (),
    ) -> Iterator[httpx.Response]:
        """Send a request with retries; yield the (streaming) successful response.

        ``content`` is a factory so a body can be re-created for a retry. Error statuses
        raise the typed error; statuses in ``ok`` are yielded as they are.
        """
        url = self.absolute(url)
        all_headers = {**self.headers_for(url), **(headers or {})}
        attempt = 0
        while True:
            attempt += 1
            response: httpx.Response | None = None
            try:
                request = self._http.build_request(
                    method, url, headers=all_headers, params=params, json=json,
                    content=content() if content is not None else None,
                )
                response = self._http.send(request, stream=True)
            except httpx.TransportError as exc:
                # refused: the server is not there, so one quick retry is enough
                refused = isinstance(exc, httpx.ConnectError)
                if attempt > (1 if refused else self.max_retries):
                    raise self._unreachable(url, what or f"{method} {url}", attempt,
                                            exc) from exc
                time.sleep(retry_delay(attempt, None, self.backoff, self.max_backoff))
                continue
            if (response.status_code in RETRY_STATUSES and attempt <= self.max_retries
                    and not waits_too_long(response, self.max_backoff)):
                response.close()
                time.sleep(retry_delay(attempt, response, self.backoff, self.max_backoff))
                continue
            if response.status_code >= 400 and response.status_code not in ok:
                try:
                    response.read()
                finally:
                    response.close()
                raise error_from_response(response, what)
            try:
                yield response
            finally:
                response.close()
            return

    def _unreachable(self, url: str, what: str, attempts: int, exc: Exception
                     ) -> ConnectionFailed:
        where = urlsplit(url)
        server = f"{where.scheme}://{where.netloc}"
        how = "" if server != self.url else f" (URL from {self.url_source})"
        return ConnectionFailed(
            f"could not reach {server}{how} while {what}, {attempts} attempt(s): "
            f"{exc or type(exc).__name__}. Is the server running? Point at another one with "
            "--url, HELDOUT_URL or `heldout login URL`"
        )

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """A whole (non-streaming) API request; ``path`` is relative to ``/api/v1``."""
        with self.stream(method, self.api_url(path), **kwargs) as response:
            response.read()
            return response

    def get_json(self, path: str, **kwargs: Any) -> Any:
        """GET an API path and parse its JSON."""
        return self.request("GET", path, **kwargs).json()

    # --- account -----------------------------------------------------------------------
    def whoami(self) -> dict[str, Any]:
        """The user of the key in use: ``{"user", "role", "teams", "key"}`` (401 without one)."""
        result: dict[str, Any] = self.get_json("/whoami", what="checking the API key")
        return result

    # --- browsing ----------------------------------------------------------------------
    def list_datasets(
        self,
        *,
        task: str | None = None,
        modality: str | None = None,
        license: str | None = None,
        q: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> Page[DatasetSummary]:
        """One page of datasets (``.items``, ``.total``, ``.next``; ``.to_dict()`` for JSON)."""
        params = {k: v for k, v in {"task": task, "modality": modality, "license": license,
                                    "q": q, "limit": limit, "offset": offset}.items()
                  if v is not None}
        return Page[DatasetSummary].model_validate(
            self.get_json("/datasets", params=params, what="listing datasets"))

    def dataset(self, name: str) -> DatasetDetail:
        """A dataset and its versions (newest first)."""
        return DatasetDetail.model_validate(
            self.get_json(f"/datasets/{quote(name)}", what=f"dataset {name!r}"))

    def manifest(self, name: str, version: str = "latest") -> Manifest:
        """The manifest of ``name@version`` (``latest`` resolves to the newest)."""
        response = self.request("GET", f"/datasets/{quote(name)}/versions/{quote(version)}",
                                what=f"manifest of {name}@{version}")
        warn_if_told(response)
        return Manifest.from_json(response.content, where=f"manifest of {name}@{version}")

    def report(self, name: str, version: str = "latest") -> dict[str, Any] | None:
        """The private ingest report of ``name@version``, or None unless the key is the
        dataset owner's or an admin's (the server answers 404 to everyone else)."""
        try:
            result: dict[str, Any] = self.get_json(
                f"/datasets/{quote(name)}/versions/{quote(version)}/report",
                what=f"private report of {name}@{version}")
        except NotFound:
            return None
        return result

    def files(self, name: str, version: str = "latest", split: str | None = None
              ) -> FileListing:
        """Download URLs of a version's files (shards, manifest, card, Croissant)."""
        params = {"split": split} if split else None
        response = self.request(
            "GET", f"/datasets/{quote(name)}/versions/{quote(version)}/files", params=params,
            what=f"files of {name}@{version}",
        )
        warn_if_told(response)
        return FileListing.model_validate(response.json())

    def rows(self, name: str, version: str = "latest", *, split: str | None = None,
             offset: int = 0, length: int = 20) -> dict[str, Any]:
        """A page of a split's rows as the server previews them (media as preview URLs)."""
        params: dict[str, Any] = {"offset": offset, "length": length}
        if split:
            params["split"] = split
        result: dict[str, Any] = self.get_json(
            f"/datasets/{quote(name)}/versions/{quote(version)}/rows", params=params,
            what=f"rows of {name}@{version}")
        return result

    def accept_terms(self, name: str) -> TermsAcceptance:
        """Accept the current terms of a gated dataset (needed once before downloading it)."""
        return TermsAcceptance.model_validate(self.request(
            "POST", f"/datasets/{quote(name)}/terms", what=f"accepting the terms of {name!r}"
        ).json())

    # --- managing what you own ----------------------------------------------------------
    def dataset_settings(self, name: str) -> dict[str, Any]:
        """Visibility, terms, grants, deprecation, pinned latest and yanked versions of a
        dataset you own (or any, as an admin)."""
        result: dict[str, Any] = self.get_json(f"/datasets/{quote(name)}/settings",
                                                what=f"settings of {name!r}")
        return result

    def update_dataset(self, name: str, **changes: Any) -> dict[str, Any]:
        """Change a dataset you own: ``visibility``, ``terms_version``, ``terms_text``,
        ``title``, ``description``, ``deprecated`` (+ ``deprecation_message``), ``latest``
        (a version to pin, None to unpin). Returns its settings."""
        result: dict[str, Any] = self.request(
            "PATCH", f"/datasets/{quote(name)}", json=changes, what=f"changing {name!r}"
        ).json()
        return result

    def grant(self, name: str, *, user: str | None = None, team: str | None = None
              ) -> dict[str, Any]:
        """Let a user or a team read a private dataset you own. Returns its settings."""
        body = {"user": user} if user is not None else {"team": team}
        result: dict[str, Any] = self.request(
            "POST", f"/datasets/{quote(name)}/grants", json=body, what=f"granting {name!r}"
        ).json()
        return result

    def yank(self, name: str, version: str, reason: str) -> dict[str, Any]:
        """Yank ``name@version``: left out of ``latest`` and listings, still downloadable by
        its number with a warning. Returns the dataset's settings."""
        result: dict[str, Any] = self.request(
            "POST", f"/datasets/{quote(name)}/versions/{quote(version)}/yank",
            json={"reason": reason}, what=f"yanking {name}@{version}",
        ).json()
        return result

    def unyank(self, name: str, version: str) -> dict[str, Any]:
        """Undo a yank. Returns the dataset's settings."""
        result: dict[str, Any] = self.request(
            "DELETE", f"/datasets/{quote(name)}/versions/{quote(version)}/yank",
            what=f"restoring {name}@{version}",
        ).json()
        return result

    # --- getting data ------------------------------------------------------------------
    def download(
        self,
        name: str,
        version: str = "latest",
        *,
        split: str | list[str] | None = None,
        cache_dir: str | Path | None = None,
        output_dir: str | Path | None = None,
        progress: ProgressCallback | None = None,
    ) -> Download:
        """Download (or reuse from the cache) a version's files; every sha256 is verified."""
        return download_version(self, name, version, split=split,
                                cache_dir=cache_dir or self.cache_dir, output_dir=output_dir,
                                progress=progress)

    def load_dataset(
        self,
        name: str,
        split: str | None = None,
        version: str = "latest",
        *,
        cache_dir: str | Path | None = None,
        decode: bool = True,
        as_arrow: bool = False,
        keep_in_memory: bool = False,
    ) -> Any:
        """Download, verify and open a dataset (see :func:`heldout.client.load_dataset`).

        A ``datasets.Dataset`` (or ``DatasetDict``), or ``pyarrow.Table``(s) with ``as_arrow``.
        """
        return load_from_client(self, name, split, version, cache_dir=cache_dir,
                                decode=decode, as_arrow=as_arrow, keep_in_memory=keep_in_memory)

    # --- publishing --------------------------------------------------------------------
    def publish_folder(self, folder: str | Path, name: str, version: str, **kwargs: Any
                       ) -> Manifest:
        """Upload a locally written version folder as a draft and commit it."""
        return publish_folder(self, folder, name, version, **kwargs)

    def upload_draft(self, folder: str | Path, name: str, version: str, **kwargs: Any
                     ) -> str:
        """Upload a folder's shards and labels into a new draft; returns the draft id."""
        return upload_draft(self, folder, name, version, **kwargs).draft_id


def load_dataset(
    name: str,
    split: str | None = None,
    version: str = "latest",
    *,
    url: str | None = None,
    token: str | None = None,
    cache_dir: str | Path | None = None,
    decode: bool = True,
    as_arrow: bool = False,
    keep_in_memory: bool = False,
    streaming: bool = False,
) -> Loaded:
    """Download a Heldout dataset (parallel, resumable, sha256-verified) and open it.

    Returns a memory-mapped ``datasets.Dataset`` for one ``split``, a ``DatasetDict`` of all
    splits when ``split`` is None, or — with ``as_arrow=True`` or ``decode=False`` — the raw
    ``pyarrow.Table`` (a dict of them for all splits). ``url``/``token`` default to
    ``HELDOUT_URL``/``HELDOUT_TOKEN``; ``cache_dir`` to ``HELDOUT_CACHE_DIR`` or
    ``~/.cache/heldout``. A second call with a concrete version needs no network.

    Memory-mapping needs an Arrow copy of each shard next to the Parquet files (made once,
    while the download runs); ``keep_in_memory=True`` skips it and reads the Parquet shards
    into RAM instead (faster for a dataset that fits in memory).

    ``streaming=True`` downloads nothing up front: it returns an iterable over ``split``'s rows
    read over HTTP row group by row group, each shard's sha256 checked as it completes (see
    :mod:`heldout.client.streaming`) — a ``datasets.IterableDataset`` when ``datasets`` is
    installed, else (or with ``as_arrow=True``) an iterable of plain dicts.
    """
    with Client(url, token, cache_dir=cache_dir) as client:
        if streaming:
            return stream_split(client, name, split, version, decode=decode, plain=as_arrow)
        return load_from_client(client, name, split, version, cache_dir=cache_dir,
                                decode=decode, as_arrow=as_arrow, keep_in_memory=keep_in_memory)
