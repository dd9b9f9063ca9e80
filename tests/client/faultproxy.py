"""A fault-injecting reverse proxy in front of the real API (or the real S3 server).

Client tests must see what a flaky network or an overloaded server does to a download: a
connection cut half-way, a server that ignores ``Range``, 429/503 answers with
``Retry-After``, 5xx on API calls. The real API never misbehaves on purpose, so the tests talk
to it through this proxy instead of through a stand-in of the API: every request (method,
path and query, headers including ``Range`` and ``Authorization``, body) is forwarded to the
upstream — the real ``create_app(settings)`` served by uvicorn (:func:`running_app`), or the
real S3 server for presigned URLs — and the upstream's answer is streamed back. Every byte a
client receives comes from upstream; the proxy only withholds, truncates or replaces answers:

- ``faults[path]`` (``path`` is a file's relative path such as
  ``data/train-00000-of-00002.parquet``, matched on the API's
  ``…/versions/{version}/files/{path}`` route) with a :class:`Fault`:

  - ``status``/``status_times``/``retry_after``: answer a problem+json of that status (with
    ``Retry-After``) that many times without forwarding;
  - ``ignore_range``: drop ``Range``/``If-Range`` before forwarding (the API then answers 200
    with the whole file, as a server without range support would);
  - ``cut_after``/``cut_times``: send the status line, the headers and only that many body
    bytes, then shut the socket (the client sees a short body).

- ``api_faults``: statuses answered (problem+json, not forwarded) to the next API calls that
  are not file downloads (listing, manifest, …), one per call, in order.
- ``listing_rewrite``: a function applied to the JSON of each successful ``…/files`` listing
  (e.g. to list a hostile path); the only case where the proxy changes upstream bytes.
- ``requests``: every request received (method, path with query, headers), in arrival order.
- ``hold_files``: hold file downloads until that many are in flight at once (or
  ``hold_timeout`` seconds pass), so a client's parallelism shows; ``peak_files`` is the most
  file downloads the proxy ever had in flight at the same time.

The ``Host`` header is forwarded unchanged, so a presigned S3 URL signed for the proxy's host
stays valid through it. Bind first (``FaultProxy()`` listens at once, so its URL can go in the
settings as ``public_base_url`` or ``s3_public_endpoint``), then ``start(upstream)``.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from heldout.config import Settings

API = "/api/v1/"
LISTING = re.compile(r"/api/v1/datasets/[^/]+/versions/[^/]+/files")
FILE = re.compile(r"/api/v1/datasets/[^/]+/versions/[^/]+/files/(?P<path>.+)")
# Per-connection headers (RFC 9110 §7.6.1); the proxy frames bodies itself.
HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "proxy-authenticate",
                        "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade",
                        "content-length"})
CHUNK = 64 * 1024

ListingRewrite = Callable[[dict[str, Any]], dict[str, Any]]


@dataclass
class Fault:
    """What goes wrong when a file is requested through the proxy."""

    cut_after: int | None = None  # close the connection after this many body bytes
    cut_times: int = 1  # ... on this many requests
    ignore_range: bool = False  # forward without Range (upstream answers 200, whole file)
    status: int | None = None  # answer with this status instead of forwarding ...
    status_times: int = 0  # ... this many times first
    retry_after: str | None = None  # ... with this Retry-After header


@dataclass
class Recorded:
    """A request as the proxy received it."""

    method: str
    path: str  # with the query string
    headers: dict[str, str]

    @property
    def file(self) -> str | None:
        """The relative file path when this was a download on the API's file route."""
        match = FILE.fullmatch(urlsplit(self.path).path)
        return unquote(match["path"]) if match else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    proxy: FaultProxy

    def __init__(self, proxy: FaultProxy) -> None:
        self.proxy = proxy
        self.open_sockets: set[socket.socket] = set()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        self.open_sockets.discard(request)
        super().shutdown_request(request)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args: Any) -> None:
        pass

    def handle_any(self) -> None:
        self.server.proxy.handle(self)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = handle_any


@dataclass
class FaultProxy:
    """A threaded HTTP proxy on a free loopback port; see the module docstring."""

    faults: dict[str, Fault] = field(default_factory=dict)
    api_faults: list[int] = field(default_factory=list)
    listing_rewrite: ListingRewrite | None = None
    requests: list[Recorded] = field(default_factory=list)
    upstream: str | None = None
    hold_files: int | None = None
    hold_timeout: float = 10.0
    peak_files: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight = threading.Condition()
        self._files = 0
        self._httpd = _Server(self)  # bound and listening: the URL is known from here on
        self._thread: threading.Thread | None = None

    # --- lifecycle ------------------------------------------------------------------------
    @property
    def address(self) -> str:
        """``127.0.0.1:port`` (what ``s3_public_endpoint`` takes)."""
        host, port = self._httpd.server_address[:2]
        return f"{host!s}:{port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def start(self, upstream: str) -> FaultProxy:
        """Forward to ``upstream`` (``http://host:port``) from now on."""
        self.upstream = upstream.rstrip("/")
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, drop open client connections, free the port (idempotent)."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(10)
            self._thread = None
        for sock in list(self._httpd.open_sockets):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- one request ----------------------------------------------------------------------
    def handle(self, h: _Handler) -> None:
        if FILE.fullmatch(urlsplit(h.path).path) is None:
            self._handle(h)
            return
        with self._in_flight:
            self._files += 1
            self.peak_files = max(self.peak_files, self._files)
            self._in_flight.notify_all()
            if self.hold_files is not None and not self._in_flight.wait_for(
                    lambda: self.peak_files >= (self.hold_files or 0), timeout=self.hold_timeout):
                self.hold_files = None  # never reached: stop holding the others
        try:
            self._handle(h)
        finally:
            with self._in_flight:
                self._files -= 1

    def _handle(self, h: _Handler) -> None:
        body = self._read_body(h)
        self.requests.append(Recorded(h.command, h.path, dict(h.headers)))
        path = urlsplit(h.path).path
        file = FILE.fullmatch(path)
        fault = self.faults.get(unquote(file["path"])) if file else None
        if path.startswith(API) and file is None and (status := self._next_api_fault()):
            self._problem(h, status, f"injected HTTP {status} on an API call")
            return
        if fault is not None and self._take(fault, "status", "status_times"):
            assert fault.status is not None
            extra = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            self._problem(h, fault.status, f"injected HTTP {fault.status} on {path}", extra)
            return
        dropped = {"range", "if-range"} if fault is not None and fault.ignore_range else set()
        headers = [(k, v) for k, v in h.headers.items()
                   if k.lower() not in HOP_BY_HOP and k.lower() not in dropped]
        cut = fault.cut_after if (fault is not None and
                                  self._take(fault, "cut_after", "cut_times")) else None
        rewrite = self.listing_rewrite if LISTING.fullmatch(path) else None
        self._forward(h, headers, body, cut, rewrite)

    def _next_api_fault(self) -> int | None:
        with self._lock:
            return self.api_faults.pop(0) if self.api_faults else None

    def _take(self, fault: Fault, what: str, times: str) -> bool:
        """Whether ``fault.what`` applies to this request (using up one of ``fault.times``)."""
        with self._lock:
            if getattr(fault, what) is None or getattr(fault, times) <= 0:
                return False
            setattr(fault, times, getattr(fault, times) - 1)
            return True

    @staticmethod
    def _read_body(h: _Handler) -> bytes | None:
        """The request body (chunked or sized), None when the request has none."""
        if "chunked" in h.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while size := int(h.rfile.readline().split(b";")[0].strip() or b"0", 16):
                parts.append(h.rfile.read(size))
                h.rfile.readline()
            while h.rfile.readline().strip():  # trailers
                pass
            return b"".join(parts)
        length = h.headers.get("Content-Length")
        return h.rfile.read(int(length)) if length is not None else None

    def _forward(self, h: _Handler, headers: list[tuple[str, str]], body: bytes | None,
                 cut: int | None, rewrite: ListingRewrite | None) -> None:
        assert self.upstream is not None, "start(upstream) first"
        target = urlsplit(self.upstream)
        conn = http.client.HTTPConnection(target.hostname or "127.0.0.1", target.port,
                                          timeout=60)
        try:
            try:
                conn.putrequest(h.command, h.path, skip_host=True, skip_accept_encoding=True)
                for key, value in headers:
                    conn.putheader(key, value)
                if body is not None:
                    conn.putheader("Content-Length", str(len(body)))
                conn.endheaders(body)
                response = conn.getresponse()
            except OSError as exc:
                self._problem(h, 502, f"proxy: upstream {self.upstream} failed: {exc}")
                return
            try:
                if rewrite is not None and response.status == 200:
                    self._send_rewritten(h, response, rewrite)
                else:
                    self._relay(h, response, cut)
            except (BrokenPipeError, ConnectionResetError):  # the client went away
                h.close_connection = True
        finally:
            conn.close()

    @staticmethod
    def _relay(h: _Handler, response: http.client.HTTPResponse, cut: int | None) -> None:
        """Stream the upstream answer back; with ``cut``, stop after that many body bytes."""
        has_body = (h.command != "HEAD" and response.status >= 200
                    and response.status not in (204, 304))
        length = response.getheader("Content-Length")
        chunked = has_body and length is None
        h.send_response_only(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() not in HOP_BY_HOP:
                h.send_header(key, value)
        if length is not None:
            h.send_header("Content-Length", length)
        if chunked:
            h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        if not has_body:
            return
        sent = 0
        while chunk := response.read(CHUNK):
            if cut is not None and sent + len(chunk) >= cut:
                h.wfile.write(chunk[: cut - sent])
                h.wfile.flush()
                h.close_connection = True
                h.connection.shutdown(socket.SHUT_RDWR)  # the client sees a short body
                return
            h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk) if chunked else chunk)
            sent += len(chunk)
        if chunked:
            h.wfile.write(b"0\r\n\r\n")
        h.wfile.flush()

    @staticmethod
    def _send_rewritten(h: _Handler, response: http.client.HTTPResponse,
                        rewrite: ListingRewrite) -> None:
        """Send the upstream listing after ``rewrite`` changed its JSON."""
        data = json.dumps(rewrite(json.loads(response.read()))).encode()
        h.send_response_only(response.status, response.reason)
        for key, value in response.getheaders():
            if key.lower() not in HOP_BY_HOP and key.lower() != "content-encoding":
                h.send_header(key, value)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    @staticmethod
    def _problem(h: _Handler, status: int, detail: str,
                 extra: dict[str, str] | None = None) -> None:
        """An injected answer (never forwarded): RFC 9457 problem+json."""
        body = json.dumps({"type": "about:blank", "title": "injected fault", "status": status,
                           "detail": detail}).encode()
        h.send_response_only(status)
        h.send_header("Content-Type", "application/problem+json")
        h.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            h.send_header(key, value)
        h.end_headers()
        h.wfile.write(body)


@contextmanager
def running_app(settings: Settings) -> Iterator[str]:
    """The real ``create_app(settings)`` under uvicorn in a thread, on its own free port.

    Yields its URL (``public_base_url`` in ``settings`` names the proxy in front of it).
    """
    from heldout.api.app import create_app
    from tests.live import serving

    with serving(create_app(settings)) as url:
        yield url

