"""A small real HTTP server for client tests: version folders, a ``files`` listing, Range.

It serves the routes the client uses (``…/versions/{version}`` and ``…/files``) from folders
``{root}/{name}/{version}/`` and streams files with ``Range`` support, so download, resume
and verification are tested over real sockets before (and besides) the FastAPI app. Faults
can be injected per file: cut the connection after N bytes, ignore Range, answer with a
status (429/503) a number of times, or corrupt bytes in flight.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from heldout.names import SemVer

FILES = re.compile(r"/api/v1/datasets/(?P<name>[^/]+)/versions/(?P<version>[^/]+)/files")
MANIFEST = re.compile(r"/api/v1/datasets/(?P<name>[^/]+)/versions/(?P<version>[^/]+)")
RAW = re.compile(r"/raw/(?P<name>[^/]+)/(?P<version>[^/]+)/(?P<path>.+)")


@dataclass
class Fault:
    """What goes wrong when a file is requested."""

    cut_after: int | None = None  # close the connection after this many body bytes
    cut_times: int = 1  # ... on this many requests
    ignore_range: bool = False
    status: int | None = None  # answer with this status ...
    status_times: int = 0  # ... this many times first
    retry_after: str | None = None


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]


@dataclass
class FileServer:
    """A threaded HTTP server over ``root``; ``file_base`` puts file URLs on another origin."""

    root: Path
    token: str | None = None
    file_base: str | None = None
    faults: dict[str, Fault] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    api_faults: list[int] = field(default_factory=list)  # statuses to answer API calls with first

    def start(self) -> FileServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                server.requests.append(Recorded("GET", self.path, dict(self.headers)))
                server.handle(self)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # --- routing --------------------------------------------------------------------------
    def resolve(self, name: str, version: str) -> Path | None:
        base = self.root / name
        if version == "latest":
            versions = [p.name for p in base.glob("*") if (p / "manifest.json").exists()]
            if not versions:
                return None
            version = str(max(SemVer(v) for v in versions))
        folder = base / version
        return folder if (folder / "manifest.json").exists() else None

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        path = h.path.split("?", 1)[0]
        query = h.path.partition("?")[2]
        if path.startswith("/api/"):
            if self.api_faults:
                self.problem(h, self.api_faults.pop(0), "injected")
                return
            if self.token and h.headers.get("Authorization") != f"Bearer {self.token}":
                self.problem(h, 401, "missing or invalid API key")
                return
        if m := FILES.fullmatch(path):
            folder = self.resolve(m["name"], m["version"])
            if folder is None:
                self.problem(h, 404, f"dataset {m['name']}@{m['version']} does not exist")
                return
            split = dict(p.split("=", 1) for p in query.split("&") if "=" in p).get("split")
            self.send_json(h, self.listing(m["name"], folder, split))
        elif m := MANIFEST.fullmatch(path):
            folder = self.resolve(m["name"], m["version"])
            if folder is None:
                self.problem(h, 404, f"dataset {m['name']}@{m['version']} does not exist")
                return
            self.send_bytes(h, (folder / "manifest.json").read_bytes(), "application/json")
        elif m := RAW.fullmatch(path):
            self.send_file(h, self.root / m["name"] / m["version"] / m["path"], m["path"])
        else:
            self.problem(h, 404, f"no route {path}")

    def listing(self, name: str, folder: Path, split: str | None) -> dict[str, Any]:
        manifest = json.loads((folder / "manifest.json").read_text())
        base = self.file_base or self.url
        files = []
        for rel in ("manifest.json", "croissant.json", "README.md"):
            if (folder / rel).exists():
                data = (folder / rel).read_bytes()
                files.append({"path": rel, "split": None, "num_rows": None,
                              "sha256": hashlib.sha256(data).hexdigest(),
                              "num_bytes": len(data)})
        for info in manifest["splits"].values():
            if split and info["name"] != split:
                continue
            for shard in info["shards"]:
                files.append({**shard, "split": info["name"]})
        for item in files:
            item["url"] = f"{base}/raw/{name}/{folder.name}/{item['path']}"
        return {"name": name, "version": folder.name, "expires_in": 3600, "files": files}

    # --- responses ------------------------------------------------------------------------
    def send_json(self, h: BaseHTTPRequestHandler, obj: Any) -> None:
        self.send_bytes(h, json.dumps(obj).encode(), "application/json")

    def send_bytes(self, h: BaseHTTPRequestHandler, body: bytes, ctype: str,
                   status: int = 200, extra: dict[str, str] | None = None) -> None:
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for key, value in (extra or {}).items():
            h.send_header(key, value)
        h.end_headers()
        h.wfile.write(body)

    def problem(self, h: BaseHTTPRequestHandler, status: int, detail: str,
                extra: dict[str, str] | None = None) -> None:
        body = {"type": "about:blank", "title": "error", "status": status, "detail": detail}
        self.send_bytes(h, json.dumps(body).encode(), "application/problem+json", status, extra)

    def send_file(self, h: BaseHTTPRequestHandler, file: Path, rel: str) -> None:
        fault = self.faults.get(rel)
        if fault and fault.status and fault.status_times > 0:
            fault.status_times -= 1
            self.problem(h, fault.status, "injected",
                         {"Retry-After": fault.retry_after} if fault.retry_after else None)
            return
        if not file.is_file():
            self.problem(h, 404, f"no file {rel}")
            return
        data = file.read_bytes()
        start = 0
        status = 200
        headers = {"Accept-Ranges": "bytes"}
        ranged = h.headers.get("Range")
        if ranged and not (fault and fault.ignore_range):
            m = re.fullmatch(r"bytes=(\d+)-", ranged)
            assert m, ranged
            start = int(m[1])
            if start >= len(data):
                self.problem(h, 416, "range not satisfiable",
                             {"Content-Range": f"bytes */{len(data)}"})
                return
            status = 206
            headers["Content-Range"] = f"bytes {start}-{len(data) - 1}/{len(data)}"
        body = data[start:]
        h.send_response(status)
        h.send_header("Content-Type", "application/octet-stream")
        h.send_header("Content-Length", str(len(body)))
        for key, value in headers.items():
            h.send_header(key, value)
        h.end_headers()
        if fault and fault.cut_after is not None and fault.cut_times > 0:
            fault.cut_times -= 1
            h.wfile.write(body[: fault.cut_after])
            h.wfile.flush()
            h.close_connection = True
            h.connection.shutdown(2)  # socket.SHUT_RDWR: the client sees a short body
            return
        h.wfile.write(body)
