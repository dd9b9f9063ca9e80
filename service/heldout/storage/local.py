"""The local-folder object store: one folder per bucket, atomic writes by rename."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import mimetypes
import os
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from heldout.errors import (
    Conflict,
    InvalidInput,
    InvalidName,
    ObjectNotFound,
    StoreUnavailable,
)
from heldout.layout import check_key, check_prefix
from heldout.storage.base import ObjectInfo, ObjectStore, check_digest, check_range

TMP_DIR = ".heldout-tmp"
XATTR_SHA256 = "user.heldout.sha256"
XATTR_CONTENT_TYPE = "user.heldout.content_type"
CHUNK = 1024 * 1024


def _set_xattr(fd: int, name: str, value: str) -> bool:
    """Set an extended attribute; False when the filesystem does not support them."""
    try:
        os.setxattr(fd, name, value.encode("utf-8"))
    except OSError as exc:
        if exc.errno in (errno.ENOTSUP, errno.EOPNOTSUPP, errno.EPERM, errno.EACCES, errno.E2BIG):
            return False
        raise
    except AttributeError:  # platforms without xattr support in os
        return False
    return True


def _get_xattr(path: Path, name: str) -> str | None:
    try:
        return os.getxattr(path, name).decode("utf-8")
    except (OSError, AttributeError, UnicodeDecodeError):
        return None


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class LocalStore(ObjectStore):
    """Objects as files under ``root`` (the bucket folder); keys map to relative paths.

    A write streams into a temp file under ``root/.heldout-tmp/`` (same filesystem, never
    listed), fsyncs it and renames it into place, so readers see the old object or the new one,
    never a partial one. The sha256 is kept in the ``user.heldout.sha256`` extended attribute
    when the filesystem supports it, else computed on ``stat``.
    """

    def __init__(self, root: Path, name: str) -> None:
        self.root = Path(root)
        self.name = name

    def __repr__(self) -> str:
        return f"LocalStore(root={str(self.root)!r}, name={self.name!r})"

    # -- paths -----------------------------------------------------------------------------
    def _path(self, key: str) -> Path:
        check_key(key)
        if key.split("/", 1)[0] == TMP_DIR:
            raise InvalidName(f"invalid object key {key!r}: '{TMP_DIR}' is reserved")
        return self.root.joinpath(*key.split("/"))

    def _tmp_dir(self) -> Path:
        path = self.root / TMP_DIR
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailable(
                f"local store {self.name!r}: cannot create {path}: {exc.strerror}"
            ) from None
        return path

    def ensure(self, *, purge_temp_older_than: float = 24 * 3600) -> None:
        """Create the bucket folder (and its temp folder) if missing; drop stale temp files.

        Temp files are left behind only by a process killed mid-write; they are never listed.
        """
        tmp = self._tmp_dir()
        cutoff = time.time() - purge_temp_older_than
        for entry in os.scandir(tmp):
            with contextlib.suppress(OSError):
                if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    os.unlink(entry.path)

    # -- writes ----------------------------------------------------------------------------
    def _write_temp(
        self, data: BinaryIO | bytes, length: int | None, content_type: str
    ) -> tuple[Path, int, str]:
        """Stream ``data`` into a fsynced temp file; returns (path, size, sha256)."""
        tmp = self._tmp_dir() / f"{uuid.uuid4().hex}.part"
        digest = hashlib.sha256()
        size = 0
        try:
            with open(tmp, "xb") as out:
                if isinstance(data, bytes):
                    digest.update(data)
                    out.write(data)
                    size = len(data)
                else:
                    remaining = length
                    while remaining is None or remaining > 0:
                        want = CHUNK if remaining is None else min(CHUNK, remaining)
                        chunk = data.read(want)
                        if not chunk:
                            break
                        digest.update(chunk)
                        out.write(chunk)
                        size += len(chunk)
                        if remaining is not None:
                            remaining -= len(chunk)
                    if remaining:
                        raise InvalidInput(
                            f"stream ended after {size} bytes but length {length} was given"
                        )
                out.flush()
                sha = digest.hexdigest()
                _set_xattr(out.fileno(), XATTR_SHA256, sha)
                if content_type:
                    _set_xattr(out.fileno(), XATTR_CONTENT_TYPE, content_type)
                os.fsync(out.fileno())
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        return tmp, size, sha

    def _make_parent(self, key: str, path: Path) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise Conflict(
                f"cannot write {key!r} in local store {self.name!r}: a parent of it is an object"
            ) from None

    def _place(self, key: str, tmp: Path, path: Path, *, exclusive: bool) -> bool:
        """Move ``tmp`` to ``path`` (rename, or hard link when ``exclusive``)."""
        for _attempt in range(5):
            self._make_parent(key, path)
            try:
                if exclusive:
                    os.link(tmp, path)
                else:
                    os.replace(tmp, path)
            except FileNotFoundError:
                continue  # a concurrent delete removed the now-empty parent folder: retry
            except FileExistsError:
                return False
            except (IsADirectoryError, NotADirectoryError):
                raise Conflict(
                    f"cannot write {key!r} in local store {self.name!r}: "
                    "the key is a folder of other objects, or a parent of it is an object"
                ) from None
            _fsync_dir(path.parent)
            return True
        raise StoreUnavailable(f"local store {self.name!r}: could not place {key!r}")

    def _put(self, key: str, data: BinaryIO | bytes, length: int | None, *, content_type: str,
             sha256: str | None) -> ObjectInfo:
        """Write ``key`` atomically (temp file + rename); see ObjectStore.put."""
        path = self._path(key)
        tmp, size, sha = self._write_temp(data, length, content_type)
        try:
            check_digest(key, sha256, sha)
            self._place(key, tmp, path, exclusive=False)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()
        return ObjectInfo(key=key, size=size, sha256=sha, last_modified=self._mtime(path),
                          content_type=content_type)

    def _put_if_absent(self, key: str, data: bytes, *, content_type: str) -> bool:
        """Create ``key`` with a hard link of the temp file: atomic, fails if it exists."""
        path = self._path(key)
        if path.exists():
            return False
        tmp, _size, _sha = self._write_temp(data, None, content_type)
        try:
            return self._place(key, tmp, path, exclusive=True)
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()

    # -- reads -----------------------------------------------------------------------------
    def _open_file(self, key: str) -> BinaryIO:
        path = self._path(key)
        try:
            return open(path, "rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            raise ObjectNotFound(
                f"object {key!r} not found in store {self.name!r}", key=key
            ) from None

    def open(self, key: str) -> BinaryIO:
        """The file, opened for reading."""
        return self._open_file(key)

    def get_range(self, key: str, offset: int, length: int | None = None) -> bytes:
        """Bytes ``[offset, offset+length)``; empty when ``offset`` is past the end."""
        check_range(key, offset, length)
        with self._open_file(key) as handle:
            handle.seek(offset)
            return handle.read() if length is None else handle.read(length)

    @staticmethod
    def _mtime(path: Path) -> datetime | None:
        try:
            return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
        except OSError:
            return None

    def stat(self, key: str) -> ObjectInfo:
        """Size, sha256 (xattr, else computed) and modification time of ``key``."""
        path = self._path(key)
        try:
            info = path.stat()
        except (FileNotFoundError, NotADirectoryError):
            info = None
        if info is None or not path.is_file():
            raise ObjectNotFound(f"object {key!r} not found in store {self.name!r}", key=key)
        sha = _get_xattr(path, XATTR_SHA256)
        if sha is None:
            digest = hashlib.sha256()
            with self._open_file(key) as handle:
                while chunk := handle.read(CHUNK):
                    digest.update(chunk)
            sha = digest.hexdigest()
        content_type = _get_xattr(path, XATTR_CONTENT_TYPE) or mimetypes.guess_type(key)[0]
        return ObjectInfo(
            key=key,
            size=info.st_size,
            sha256=sha,
            last_modified=datetime.fromtimestamp(info.st_mtime, tz=UTC),
            content_type=content_type,
        )

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Objects under ``prefix`` in key (UTF-8 byte) order; sha256 only if cached."""
        check_prefix(prefix)
        base, _, _partial = prefix.rpartition("/")
        if base.split("/", 1)[0] == TMP_DIR:
            return
        start = self.root.joinpath(*base.split("/")) if base else self.root
        yield from self._walk(start, base + "/" if base else "", prefix)

    def _walk(self, folder: Path, key_prefix: str, prefix: str) -> Iterator[ObjectInfo]:
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as exc:
            raise StoreUnavailable(
                f"local store {self.name!r}: cannot list {folder}: {exc.strerror}"
            ) from None

        def order(entry: os.DirEntry[str]) -> bytes:
            suffix = "/" if entry.is_dir(follow_symlinks=False) else ""
            return (entry.name + suffix).encode("utf-8", "surrogateescape")

        for entry in sorted(entries, key=order):
            key = key_prefix + entry.name
            if not key_prefix and entry.name == TMP_DIR:
                continue
            if entry.is_dir(follow_symlinks=False):
                folder_key = key + "/"
                if folder_key.startswith(prefix) or prefix.startswith(folder_key):
                    yield from self._walk(Path(entry.path), folder_key, prefix)
            elif entry.is_file(follow_symlinks=False) and key.startswith(prefix):
                try:
                    info = entry.stat(follow_symlinks=False)
                except FileNotFoundError:
                    continue  # deleted while listing
                yield ObjectInfo(
                    key=key,
                    size=info.st_size,
                    sha256=_get_xattr(Path(entry.path), XATTR_SHA256),
                    last_modified=datetime.fromtimestamp(info.st_mtime, tz=UTC),
                    content_type=None,
                )

    # -- deletes ---------------------------------------------------------------------------
    def delete(self, key: str) -> None:
        """Remove ``key`` and then its parent folders that became empty."""
        path = self._path(key)
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError):
            return
        except IsADirectoryError:
            return  # a folder of other objects, not an object
        parent = path.parent
        while parent != self.root and self.root in parent.parents:
            try:
                parent.rmdir()
            except OSError:
                break
            parent = parent.parent

    def presigned_get_url(self, key: str, expires_seconds: int) -> str | None:
        """Local folders have no URLs: None."""
        self._path(key)
        return None

    def ping(self) -> None:
        """Raise StoreUnavailable unless ``root`` is a writable folder."""
        if not self.root.is_dir():
            raise StoreUnavailable(f"local store {self.name!r}: {self.root} is not a folder")
        if not os.access(self.root, os.W_OK | os.X_OK):
            raise StoreUnavailable(f"local store {self.name!r}: {self.root} is not writable")
