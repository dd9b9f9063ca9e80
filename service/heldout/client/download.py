"""Parallel, resumable, verified download of a dataset version into a local folder.

The folder is a Hugging Face Parquet dataset folder::

    {cache}/{name}/{version}/manifest.json, croissant.json, README.md
    {cache}/{name}/{version}/data/{split}-{i:05d}-of-{n:05d}.parquet
    {cache}/{name}/{version}/.heldout/partial/…   bytes still arriving (resumed with Range)
    {cache}/{name}/{version}/.heldout/verified/…  one small marker per verified file

A file is written to ``.heldout/partial/{path}.partial`` while it arrives (hashing as it
goes), checked against the manifest's sha256 and size, and only then moved into place. A
marker (sha256, size, mtime) lets the next call reuse the file without re-hashing it; a file
without a valid marker is re-hashed. Hidden ``.heldout`` is ignored by ``datasets``.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from heldout.client.retry import retry_delay
from heldout.errors import ConnectionFailed, IntegrityError, InvalidInput, NotFound
from heldout.formats.manifest import Manifest
from heldout.layout import MANIFEST_FILE, META_FILES, is_shard_path
from heldout.names import check_name, check_split, check_version

if TYPE_CHECKING:
    from heldout.client.http import Client

FileHook = Callable[[Path, str, "str | None"], None]
"""``on_file(folder, path, sha256)``: run in the download thread right after a file is verified."""
ProgressCallback = Callable[[int, int], None]
"""``progress(advance, total)``: first ``(0, total_bytes_to_fetch)``, then ``(n, 0)`` per chunk."""

STATE_DIR = ".heldout"
HASH_CHUNK = 4 * 1024 * 1024


def default_cache_dir() -> Path:
    """``HELDOUT_CACHE_DIR``, else ``~/.cache/heldout`` (XDG_CACHE_HOME is honoured)."""
    env = os.environ.get("HELDOUT_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "heldout"


@dataclass(frozen=True)
class RemoteFile:
    """One file of a version as the server lists it."""

    path: str
    url: str
    sha256: str | None
    num_bytes: int | None
    split: str | None = None
    num_rows: int | None = None

    @classmethod
    def from_listing(cls, item: dict[str, Any]) -> RemoteFile:
        path = str(item.get("path", ""))
        if path not in META_FILES and not is_shard_path(path):
            raise InvalidInput(f"the server listed an unexpected file path {path!r}")
        return cls(path=path, url=str(item["url"]), sha256=item.get("sha256"),
                   num_bytes=item.get("num_bytes"), split=item.get("split"),
                   num_rows=item.get("num_rows"))


@dataclass
class Download:
    """A downloaded, verified version folder."""

    name: str
    version: str
    path: Path
    manifest: Manifest
    splits: list[str]
    downloaded_bytes: int = 0
    reused_files: int = 0
    downloaded_files: int = 0
    seconds: float = 0.0

    def shard_paths(self, split: str) -> list[Path]:
        """Local Parquet files of ``split``, in order."""
        return [self.path / s.path for s in self.manifest._split(split).shards]


# --- local state: markers and partial files ---------------------------------------------
def _marker_path(folder: Path, rel: str) -> Path:
    return folder / STATE_DIR / "verified" / (rel + ".json")


def _partial_path(folder: Path, rel: str) -> Path:
    return folder / STATE_DIR / "partial" / (rel + ".partial")


def _write_marker(folder: Path, rel: str, sha256: str) -> None:
    stat = (folder / rel).stat()
    marker = _marker_path(folder, rel)
    marker.parent.mkdir(parents=True, exist_ok=True)
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(json.dumps({"sha256": sha256, "size": stat.st_size,
                               "mtime_ns": stat.st_mtime_ns}))
    os.replace(tmp, marker)


def sha256_file(path: Path) -> str:
    """The sha256 of a local file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def is_verified(folder: Path, rel: str, sha256: str | None, size: int | None,
                *, trust_markers: bool = True) -> bool:
    """Whether ``folder/rel`` is in place with the expected content.

    With a valid marker (same sha256, size and mtime) no byte is read; otherwise the file is
    re-hashed and a marker written. A file in place with the wrong content is deleted.
    """
    target = folder / rel
    try:
        stat = target.stat()
    except FileNotFoundError:
        return False
    if size is not None and stat.st_size != size:
        target.unlink(missing_ok=True)
        return False
    if trust_markers and sha256 is not None:
        try:
            marker = json.loads(_marker_path(folder, rel).read_text())
            if (marker.get("sha256") == sha256 and marker.get("size") == stat.st_size
                    and marker.get("mtime_ns") == stat.st_mtime_ns):
                return True
        except (OSError, ValueError):
            pass
    if sha256 is None:
        return True
    if sha256_file(target) != sha256:
        target.unlink(missing_ok=True)
        _marker_path(folder, rel).unlink(missing_ok=True)
        return False
    _write_marker(folder, rel, sha256)
    return True


# --- one file -----------------------------------------------------------------------------
class _Fetcher:
    """Downloads files of one version into ``folder`` with resume and verification."""

    def __init__(self, client: Client, ref: str, folder: Path,
                 progress: ProgressCallback | None, on_file: FileHook | None = None) -> None:
        self.client = client
        self.on_file = on_file
        self.ref = ref
        self.folder = folder
        self.progress = progress
        self.bytes_received = 0

    def _advance(self, n: int) -> None:
        self.bytes_received += n
        if self.progress is not None:
            self.progress(n, 0)

    def fetch(self, remote: RemoteFile, sha256: str | None, size: int | None) -> None:
        """Fetch ``remote`` into place, resuming a partial file; IntegrityError on mismatch."""
        partial = _partial_path(self.folder, remote.path)
        partial.parent.mkdir(parents=True, exist_ok=True)
        resumed = partial.exists() and partial.stat().st_size > 0
        try:
            digest = self._receive(remote, partial, size)
            if sha256 is not None and digest != sha256:
                raise _Mismatch(digest)
        except _Mismatch as bad:
            partial.unlink(missing_ok=True)
            if resumed:  # the old partial bytes may be the bad ones: one clean retry
                self.fetch(remote, sha256, size)
                return
            raise IntegrityError(
                f"{self.ref}: {remote.path} is corrupt: {bad.reason}; the download was "
                "deleted and nothing was loaded (the stored copy on the server is damaged — "
                "tell the dataset's maintainers)",
                path=remote.path,
            ) from None
        target = self.folder / remote.path
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(partial, target)
        if sha256 is not None:
            _write_marker(self.folder, remote.path, sha256)
        if self.on_file is not None:
            self.on_file(self.folder, remote.path, sha256)

    def _receive(self, remote: RemoteFile, partial: Path, size: int | None) -> str:
        """Append the missing bytes of ``remote`` to ``partial``; return the sha256 of all."""
        attempt = 0
        while True:
            offset = partial.stat().st_size if partial.exists() else 0
            if size is not None and offset > size:
                partial.unlink()
                offset = 0
            digest = hashlib.sha256()
            if offset:
                with open(partial, "rb") as handle:
                    while chunk := handle.read(HASH_CHUNK):
                        digest.update(chunk)
            if size is not None and offset == size:
                return digest.hexdigest()
            try:
                digest = self._append(remote, partial, offset, size, digest)
            except httpx.TransportError as exc:  # connection lost mid-body: resume with Range
                attempt += 1
                if attempt > self.client.max_retries:
                    raise ConnectionFailed(
                        f"{self.ref}: downloading {remote.path} failed {attempt} times "
                        f"({exc or type(exc).__name__}); run again to resume"
                    ) from exc
                time.sleep(retry_delay(attempt, None, self.client.backoff,
                                       self.client.max_backoff))
                continue
            return digest.hexdigest()

    def _append(self, remote: RemoteFile, partial: Path, offset: int, size: int | None,
                digest: Any) -> Any:
        """Stream the rest of ``remote`` into ``partial``; returns the updated hash state."""
        headers = {"Accept-Encoding": "identity"}
        if offset:
            headers["Range"] = f"bytes={offset}-"
        with self.client.stream("GET", remote.url, headers=headers, ok=(416,),
                                what=f"downloading {remote.path} of {self.ref}") as response:
            if response.status_code == 416:  # the partial is longer than the object
                partial.unlink(missing_ok=True)
                raise _Mismatch("the server refused to resume it (HTTP 416)")
            if offset and response.status_code != 206:  # range ignored: start over
                offset = 0
                digest = hashlib.sha256()
            elif offset:
                start = response.headers.get("Content-Range", "").removeprefix("bytes ")
                if not start.startswith(f"{offset}-"):
                    raise _Mismatch(f"the server resumed at {start!r}, not at byte {offset}")
            written = offset
            with open(partial, "ab" if offset else "wb") as out:
                for chunk in response.iter_raw():
                    written += len(chunk)
                    if size is not None and written > size:
                        raise _Mismatch(f"the server sent more than the {size} bytes declared")
                    digest.update(chunk)
                    out.write(chunk)
                    self._advance(len(chunk))
            if size is not None and written != size:
                raise httpx.RemoteProtocolError(
                    f"{remote.path}: connection ended after {written} of {size} bytes")
        return digest


class _Mismatch(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason if " " in reason else f"sha256 {reason} differs from the manifest"


# --- a version -----------------------------------------------------------------------------
def _splits_wanted(manifest: Manifest, split: str | list[str] | None) -> list[str]:
    if split is None:
        return list(manifest.splits)
    wanted = [split] if isinstance(split, str) else list(split)
    for name in wanted:
        check_split(name)
        manifest._split(name)  # NotFound naming the splits there are
    return wanted


def _version_folder(name: str, version: str, cache_dir: str | Path | None,
                    output_dir: str | Path | None) -> Path:
    if output_dir is not None:
        return Path(output_dir).expanduser()
    root = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    return root / name / version


def _cached(folder: Path, split: str | list[str] | None) -> tuple[Manifest, list[str]] | None:
    """The manifest and splits when everything asked for is already verified in ``folder``."""
    manifest_file = folder / MANIFEST_FILE
    if not _marker_path(folder, MANIFEST_FILE).exists() or not manifest_file.exists():
        return None
    try:
        manifest = Manifest.from_json(manifest_file.read_bytes(), where=str(manifest_file))
        splits = _splits_wanted(manifest, split)
    except (InvalidInput, NotFound):
        return None
    marker = json.loads(_marker_path(folder, MANIFEST_FILE).read_text())
    if not is_verified(folder, MANIFEST_FILE, marker.get("sha256"), None):
        return None
    for name in splits:
        for shard in manifest.splits[name].shards:
            if not is_verified(folder, shard.path, shard.sha256, shard.num_bytes):
                return None
    return manifest, splits


_Job = tuple[RemoteFile, str | None, int | None]
"""A file to fetch: where it is listed, its expected sha256 and size."""


def _reuse(name: str, version: str, folder: Path, split: str | list[str] | None,
           progress: ProgressCallback | None, started: float) -> Download | None:
    """The Download of a concrete version already complete in ``folder``, without a request."""
    hit = _cached(folder, split)
    if hit is None:
        return None
    manifest, splits = hit
    if progress is not None:
        progress(0, 0)
    present = sum((folder / f).exists() for f in META_FILES)
    shards = sum(len(manifest.splits[s].shards) for s in splits)
    return Download(name, version, folder, manifest, splits, reused_files=present + shards,
                    seconds=time.perf_counter() - started)


def _fetch_manifest(fetcher: _Fetcher, remote: dict[str, RemoteFile], name: str,
                    version: str, trust_markers: bool) -> tuple[Manifest, bool]:
    """The manifest first: it is the source of truth for every shard's sha256 and size.

    Returns it and whether it had to be fetched (else it was verified in place)."""
    ref, folder = fetcher.ref, fetcher.folder
    if MANIFEST_FILE not in remote:
        raise NotFound(f"{ref}: the server listed no {MANIFEST_FILE}")
    meta = remote[MANIFEST_FILE]
    fetched = not is_verified(folder, meta.path, meta.sha256, meta.num_bytes,
                              trust_markers=trust_markers)
    if fetched:
        fetcher.fetch(meta, meta.sha256, meta.num_bytes)
    manifest = Manifest.from_json((folder / MANIFEST_FILE).read_bytes(),
                                  where=f"{ref} {MANIFEST_FILE}")
    if (manifest.name, manifest.version) != (name, version):
        raise IntegrityError(f"{ref}: the manifest describes {manifest.name}@{manifest.version}")
    return manifest, fetched


def _jobs(remote: dict[str, RemoteFile], manifest: Manifest, splits: list[str],
          ref: str) -> list[_Job]:
    """The other metadata files, then the shards of ``splits``, checked against the manifest."""
    jobs: list[_Job] = [(remote[path], remote[path].sha256, remote[path].num_bytes)
                        for path in META_FILES[1:] if path in remote]
    for split_name in splits:
        for shard in manifest.splits[split_name].shards:
            if shard.path not in remote:
                raise NotFound(f"{ref}: the server listed no URL for {shard.path}")
            jobs.append((remote[shard.path], shard.sha256, shard.num_bytes))
    return jobs


def download_version(
    client: Client,
    name: str,
    version: str = "latest",
    *,
    split: str | list[str] | None = None,
    cache_dir: str | Path | None = None,
    output_dir: str | Path | None = None,
    progress: ProgressCallback | None = None,
    workers: int | None = None,
    trust_markers: bool = True,
    on_file: FileHook | None = None,
) -> Download:
    """Download ``name@version`` (some splits, or all) into a verified local folder.

    A concrete version already complete in the folder is reused without a request. Shards are
    fetched in parallel; each is checked against the manifest's sha256 before it is moved into
    place, so a corrupt file is never left where a loader would read it.
    """
    started = time.perf_counter()
    check_name(name)
    if version != "latest":
        check_version(version)
        folder = _version_folder(name, version, cache_dir, output_dir)
        hit = _reuse(name, version, folder, split, progress, started) if trust_markers else None
        if hit is not None:
            return hit
    listing = client.files(name, version, split if isinstance(split, str) else None)
    resolved = listing.version
    check_version(resolved)
    folder = _version_folder(name, resolved, cache_dir, output_dir)
    folder.mkdir(parents=True, exist_ok=True)
    remote = {f.path: f for f in (RemoteFile.from_listing(i.to_dict()) for i in listing.files)}
    fetcher = _Fetcher(client, f"{name}@{resolved}", folder, progress, on_file)
    manifest, fetched_manifest = _fetch_manifest(fetcher, remote, name, resolved, trust_markers)
    splits = _splits_wanted(manifest, split)
    todo: list[_Job] = []
    reused = 0 if fetched_manifest else 1
    for job in _jobs(remote, manifest, splits, fetcher.ref):
        if is_verified(folder, job[0].path, job[1], job[2], trust_markers=trust_markers):
            reused += 1
        else:
            todo.append(job)
    if progress is not None:  # every byte the bar counts, the manifest fetched above included
        total = sum((size or 0) - _partial_size(folder, f.path) for f, _, size in todo)
        progress(0, max(total, 0) + (fetcher.bytes_received if fetched_manifest else 0))
    _run_parallel(fetcher, todo, workers or client.workers)
    return Download(name, resolved, folder, manifest, splits,
                    downloaded_bytes=fetcher.bytes_received, reused_files=reused,
                    downloaded_files=len(todo) + fetched_manifest,
                    seconds=time.perf_counter() - started)


def _partial_size(folder: Path, rel: str) -> int:
    partial = _partial_path(folder, rel)
    return partial.stat().st_size if partial.exists() else 0


def _run_parallel(fetcher: _Fetcher, todo: Iterable[_Job], workers: int) -> None:
    """Fetch every file; let the others finish when one fails, then raise the failures."""
    todo = list(todo)
    if not todo:
        return
    failures: list[BaseException] = []
    with ThreadPoolExecutor(max_workers=min(workers, len(todo)),
                            thread_name_prefix="heldout-download") as pool:
        futures = [pool.submit(fetcher.fetch, *job) for job in todo]
        for future in as_completed(futures):
            error = future.exception()
            if error is not None:
                failures.append(error)
    if not failures:
        return
    integrity = [f for f in failures if isinstance(f, IntegrityError)]
    if len(integrity) > 1:
        raise IntegrityError(
            f"{len(integrity)} files are corrupt: " + "; ".join(str(f) for f in integrity),
            paths=[f.extra.get("path") for f in integrity],
        )
    raise (integrity or failures)[0]
