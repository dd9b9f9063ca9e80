"""The S3 object store, through the ``minio`` SDK (MinIO, SeaweedFS, Ceph RGW, AWS S3).

How the sha256 travels with an object:

* Known up front (the caller passes ``sha256``, or the whole object fits in one part so we
  hash it before sending): it goes out as user metadata ``x-amz-meta-sha256`` with the
  upload. The stream is hashed while it is sent; on a mismatch the hashing reader raises
  before the last part is sent, the SDK aborts the multipart upload and nothing (not even a
  partial object) becomes visible; an existing object under the key stays as it was.
* Not known up front (a streamed upload larger than one part): after the multipart upload
  completes, the digest is recorded by a server-side copy of the object onto itself with
  ``x-amz-metadata-directive: REPLACE`` (conditional on the ETag we just wrote, so a
  concurrent overwrite is never stamped with our digest). On MinIO and SeaweedFS such a
  self-copy only rewrites metadata (measured: 8 ms for a 256 MB object on SeaweedFS 4.48);
  on AWS S3 it is a server-side data copy. Chosen over object tags because ``stat`` then needs
  one HEAD on every backend, tags are mutable by anyone with tagging rights, and tagging may
  not be granted. Between the completion and the copy the object is visible with no digest
  (``stat`` returns ``sha256=None``); if recording fails the object is removed and the put
  raises, so a successful ``put`` always leaves a recorded digest.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, BinaryIO, NoReturn, cast

import certifi
import urllib3
from minio import Minio
from minio.commonconfig import REPLACE, CopySource
from minio.deleteobjects import DeleteObject
from minio.error import InvalidResponseError, S3Error, ServerError

from heldout.errors import (
    HeldoutError,
    InvalidInput,
    ObjectNotFound,
    StoreUnavailable,
)
from heldout.layout import check_key, check_prefix
from heldout.storage.base import ObjectInfo, ObjectStore, check_digest, check_range

SHA256_META = "sha256"
SHA256_HEADER = "x-amz-meta-sha256"
MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PRESIGN_SECONDS = 7 * 24 * 3600
_UNAVAILABLE_CODES = {
    "NoSuchBucket",
    "AccessDenied",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "InvalidToken",
    "ExpiredToken",
    "SlowDown",
    "ServiceUnavailable",
    "InternalError",
    "RequestTimeout",
    "XMinioServerNotInitialized",
}


def make_client(
    endpoint: str,
    access_key: str,
    secret_key: str,
    *,
    secure: bool = False,
    region: str = "us-east-1",
    connect_timeout: float = 3.0,
    read_timeout: float = 120.0,
    retries: int = 2,
) -> Minio:
    """A Minio client that fails fast when the store is down.

    The SDK's default pool waits 5 minutes to connect and retries 5 times; ours gives up after
    ``connect_timeout`` seconds and ``retries`` retries (5xx answers are retried too).
    ``region`` is passed so the client never asks the server for it.
    """
    http = urllib3.PoolManager(
        timeout=urllib3.Timeout(connect=connect_timeout, read=read_timeout),
        maxsize=10,
        cert_reqs="CERT_REQUIRED",
        ca_certs=certifi.where(),
        retries=urllib3.Retry(
            total=retries,
            connect=1,
            read=1,
            backoff_factor=0.2,
            status_forcelist=[500, 502, 503, 504],
        ),
    )
    return Minio(
        endpoint,
        access_key=access_key,
        secret_key=secret_key,
        secure=secure,
        region=region,
        http_client=http,
    )


@dataclass(frozen=True)
class S3Config:
    """Where and how to reach the S3 server (built from the settings where services are wired).

    ``public_endpoint`` (and ``public_secure``) name the host users reach, when it differs;
    presigned URLs use it.
    """

    endpoint: str
    access_key: str
    secret_key: str = field(repr=False)
    secure: bool = False
    region: str = "us-east-1"
    public_endpoint: str | None = None
    public_secure: bool | None = None
    part_size: int = 16 * 1024 * 1024
    connect_timeout: float = 3.0
    read_timeout: float = 120.0
    retries: int = 2

    @property
    def url(self) -> str:
        return f"{'https' if self.secure else 'http'}://{self.endpoint}"

    def client(self) -> Minio:
        """The Minio client for the endpoint and credentials."""
        return make_client(self.endpoint, self.access_key, self.secret_key, secure=self.secure,
                           region=self.region, connect_timeout=self.connect_timeout,
                           read_timeout=self.read_timeout, retries=self.retries)

    def signer(self) -> Minio | None:
        """A client that only signs URLs for ``public_endpoint`` (None when it is not set).

        Presigning is computed locally (the region is given), so this client never connects.
        """
        if not self.public_endpoint:
            return None
        secure = self.secure if self.public_secure is None else self.public_secure
        return make_client(self.public_endpoint, self.access_key, self.secret_key,
                           secure=secure, region=self.region)


def _short_reason(exc: BaseException) -> str:
    """A one-line reason for a transport error, without URLs or object reprs."""
    reason: BaseException | None = exc
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        reason = exc.reason
    text = str(reason) if reason is not None else ""
    text = text.rsplit("): ", 1)[-1].strip() or type(reason).__name__
    return f"{type(reason).__name__}: {text}"


class _SourceError(Exception):
    """Carries an error raised by the caller's stream through the SDK (which then aborts)."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(str(original))
        self.original = original


class _HashingReader:
    """Wraps a stream: hashes what passes through, enforces ``length``, checks ``expected``.

    The check happens when the last byte is read (``length`` reached, or end of stream when
    the length is unknown): a mismatch raises there, before the SDK sends the last part.
    """

    def __init__(self, source: BinaryIO, length: int | None, expected: str | None,
                 key: str) -> None:
        self._source = source
        self._remaining = length
        self._length = length
        self._expected = expected
        self._key = key
        self._digest = hashlib.sha256()
        self.size = 0
        self.done = False

    def hexdigest(self) -> str:
        return self._digest.hexdigest()

    def _finish(self) -> None:
        self.done = True
        check_digest(self._key, self._expected, self._digest.hexdigest())

    def read(self, size: int = -1) -> bytes:
        if self.done:
            return b""
        want = size if size is not None and size >= 0 else -1
        if self._remaining is not None:
            want = self._remaining if want < 0 else min(want, self._remaining)
        if want == 0 and self._remaining == 0:
            self._finish()
            return b""
        try:
            chunk = self._source.read(want)
        except Exception as exc:  # the caller's stream failed, not the store
            raise _SourceError(exc) from exc
        if not chunk:
            if self._remaining:
                raise InvalidInput(
                    f"upload of {self._key!r}: stream ended after {self.size} bytes "
                    f"but length {self._length} was given"
                )
            self._finish()
            return b""
        chunk = bytes(chunk)
        self._digest.update(chunk)
        self.size += len(chunk)
        if self._remaining is not None:
            self._remaining -= len(chunk)
            if self._remaining == 0:
                self._finish()
        return chunk

    def read_full(self, size: int) -> bytes:
        """Read until ``size`` bytes or the end of the stream."""
        parts: list[bytes] = []
        got = 0
        while got < size:
            chunk = self.read(size - got)
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
        return b"".join(parts)


class _Prefixed:
    """A stream that first returns ``head`` and then reads from ``rest``."""

    def __init__(self, head: bytes, rest: _HashingReader) -> None:
        self._head = memoryview(head)
        self._rest = rest

    def read(self, size: int = -1) -> bytes:
        if self._head.nbytes:
            if size is None or size < 0 or size >= self._head.nbytes:
                out = self._head.tobytes()
                self._head = memoryview(b"")
                return out
            out = self._head[:size].tobytes()
            self._head = self._head[size:]
            return out
        return self._rest.read(size)


class _ResponseStream(io.RawIOBase):
    """A readable binary stream over a urllib3 response; closing releases the connection."""

    def __init__(self, response: Any, store: S3Store, key: str) -> None:
        self._response = response
        self._store = store
        self._key = key

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        with self._store._translate("reading", self._key):
            if size is None or size < 0:
                return cast(bytes, self._response.read(decode_content=False))
            return cast(bytes, self._response.read(size, decode_content=False))

    def readall(self) -> bytes:
        return self.read(-1)

    def readinto(self, buffer: Any) -> int:
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            with contextlib.suppress(Exception):
                self._response.close()
                self._response.release_conn()
        super().close()


class S3Store(ObjectStore):
    """One S3 bucket. Streaming multipart uploads, sha256 in ``x-amz-meta-sha256``."""

    def __init__(self, client: Minio, bucket: str, *, part_size: int = 16 * 1024 * 1024,
                 parallel_uploads: int = 3, endpoint: str | None = None,
                 signer: Minio | None = None) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes, got {part_size}")
        self.client = client
        self.signer = signer or client  # presigns URLs for the host users reach
        self.bucket = bucket
        self.name = bucket
        self.part_size = part_size
        self.parallel_uploads = parallel_uploads
        base = getattr(client, "_base_url", None)
        scheme = "https" if getattr(base, "is_https", False) else "http"
        self.endpoint = endpoint or f"{scheme}://{getattr(base, 'host', '?')}"

    @classmethod
    def from_config(cls, config: S3Config, bucket: str,
                    client: Minio | None = None, signer: Minio | None = None) -> S3Store:
        """A store for ``bucket`` on the configured endpoint (sharing ``client`` if given)."""
        return cls(client or config.client(), bucket, part_size=config.part_size,
                   endpoint=config.url, signer=signer or config.signer())

    def __repr__(self) -> str:
        return f"S3Store(endpoint={self.endpoint!r}, bucket={self.bucket!r})"

    # -- error translation -----------------------------------------------------------------
    def _where(self) -> str:
        return f"object store {self.endpoint} bucket {self.bucket!r}"

    def _raise_s3(self, exc: S3Error, action: str, key: str | None) -> NoReturn:
        code = exc.code or ""
        status = getattr(exc.response, "status", 0) or 0
        if code in ("NoSuchKey", "NoSuchObject") or (status == 404 and code != "NoSuchBucket"
                                                     and key is not None):
            raise ObjectNotFound(f"object {key!r} not found in {self._where()}", key=key)
        if code == "NoSuchBucket":
            raise StoreUnavailable(f"{self._where()}: the bucket does not exist")
        if code in ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            raise StoreUnavailable(
                f"{self._where()}: {action} refused ({code}); check the S3 access key and "
                "secret key settings"
            )
        if code in _UNAVAILABLE_CODES or status >= 500:
            raise StoreUnavailable(f"{self._where()}: {action} failed ({code or status})")
        target = f" {key!r}" if key else ""
        raise HeldoutError(
            f"{self._where()}: {action}{target} refused: {code} {exc.message or ''}".strip()
        )

    @contextlib.contextmanager
    def _translate(self, action: str, key: str | None = None) -> Iterator[None]:
        """Turn SDK and transport errors into Heldout's typed errors."""
        try:
            yield
        except S3Error as exc:
            self._raise_s3(exc, action, key)
        except (ServerError, InvalidResponseError) as exc:
            status = getattr(exc, "status_code", None) or getattr(exc, "_code", "?")
            raise StoreUnavailable(
                f"{self._where()}: {action} failed: unexpected HTTP {status} answer"
            ) from None
        except (urllib3.exceptions.HTTPError, ConnectionError, TimeoutError) as exc:
            raise StoreUnavailable(
                f"object store {self.endpoint} unreachable while {action}: {_short_reason(exc)}"
            ) from None

    # -- writes ----------------------------------------------------------------------------
    def _put(self, key: str, data: BinaryIO | bytes, length: int | None, *, content_type: str,
             sha256: str | None) -> ObjectInfo:
        """Upload ``data``; multipart when larger than one part. See ObjectStore.put."""
        expected = sha256
        if isinstance(data, bytes):
            return self._put_known(key, data, expected, content_type)

        reader = _HashingReader(data, length, expected, key)
        if expected is None and (length is None or length <= self.part_size):
            try:
                head = reader.read_full(self.part_size + 1)
            except _SourceError as exc:
                raise exc.original from None
            if len(head) <= self.part_size:  # the whole object: hash first, one PUT
                return self._put_known(key, head, None, content_type)
            return self._put_stream(key, _Prefixed(head, reader), reader, None, content_type,
                                    length)
        return self._put_stream(key, reader, reader, expected, content_type, length)

    def _put_known(self, key: str, body: bytes, expected: str | None,
                   content_type: str) -> ObjectInfo:
        sha = hashlib.sha256(body).hexdigest()
        check_digest(key, expected, sha)
        with self._translate("writing", key):
            self.client.put_object(
                self.bucket, key, io.BytesIO(body), len(body),
                content_type=content_type, metadata={SHA256_META: sha},
                part_size=self.part_size, num_parallel_uploads=self.parallel_uploads,
            )
        return ObjectInfo(key=key, size=len(body), sha256=sha, content_type=content_type)

    def _put_stream(self, key: str, stream: Any, reader: _HashingReader, expected: str | None,
                    content_type: str, length: int | None) -> ObjectInfo:
        metadata: dict[str, Any] | None = (
            {SHA256_META: expected} if expected is not None else None
        )
        try:
            with self._translate("writing", key):
                result = self.client.put_object(
                    self.bucket, key, stream, -1 if length is None else length,
                    content_type=content_type, metadata=metadata,
                    part_size=self.part_size, num_parallel_uploads=self.parallel_uploads,
                )
        except _SourceError as exc:
            raise exc.original from None
        sha = reader.hexdigest()
        if expected is None:
            self._record_sha256(key, sha, content_type, (result.etag or "").strip('"'))
        return ObjectInfo(key=key, size=reader.size, sha256=sha, content_type=content_type)

    def _record_sha256(self, key: str, sha: str, content_type: str, etag: str) -> None:
        """Stamp the digest into the object's metadata with a self-copy (see module doc)."""
        source = CopySource(self.bucket, key, match_etag=etag or None)
        try:
            with self._translate("recording the sha256 of", key):
                try:
                    self.client.copy_object(
                        self.bucket, key, source,
                        metadata={SHA256_META: sha, "Content-Type": content_type},
                        metadata_directive=REPLACE,
                    )
                except S3Error as exc:
                    if exc.code == "PreconditionFailed":
                        return  # overwritten meanwhile: that newer object is not ours to stamp
                    raise
        except HeldoutError:
            with contextlib.suppress(HeldoutError):
                self.delete(key)
            raise

    def _put_if_absent(self, key: str, data: bytes, *, content_type: str) -> bool:
        """Create ``key`` with a conditional PUT (``If-None-Match: *``).

        Atomic on servers that honour conditional writes (SeaweedFS 4.x, MinIO since 2024,
        AWS S3 since 2024): exactly one of concurrent writers wins. A stat first makes a
        repeated call safe on servers that would ignore the header (then only a true race
        could let two writers through).
        """
        body = data
        if self.exists(key):
            return False
        headers: dict[str, Any] = {
            "Content-Type": content_type,
            "If-None-Match": "*",
            "x-amz-meta-sha256": hashlib.sha256(body).hexdigest(),
        }
        for _attempt in range(3):
            with self._translate("writing", key):
                try:
                    # The SDK's put_object cannot send request headers; this is the same
                    # single PUT it sends for small uploads.
                    self.client._put_object(self.bucket, key, body, headers=dict(headers))
                    return True
                except S3Error as exc:
                    if exc.code == "PreconditionFailed" or exc.response.status == 412:
                        return False
                    if exc.code != "ConditionalRequestConflict":  # AWS: a concurrent race
                        raise
            if self.exists(key):
                return False
        raise StoreUnavailable(f"{self._where()}: conditional write of {key!r} kept conflicting")

    # -- reads -----------------------------------------------------------------------------
    def open(self, key: str) -> BinaryIO:
        """A stream over a GET of the object (close it to release the connection)."""
        check_key(key)
        with self._translate("reading", key):
            response = self.client.get_object(self.bucket, key)
        return cast(BinaryIO, _ResponseStream(response, self, key))

    def get_range(self, key: str, offset: int, length: int | None = None) -> bytes:
        """A ranged GET; empty when ``offset`` is at or past the end."""
        check_key(key)
        check_range(key, offset, length)
        if length == 0:
            self.stat(key)
            return b""
        response = None
        with self._translate("reading", key):
            try:
                response = self.client.get_object(self.bucket, key, offset=offset,
                                                  length=length or 0)
                return cast(bytes, response.read(decode_content=False))
            except S3Error as exc:
                if exc.code == "InvalidRange":
                    self.stat(key)
                    return b""
                raise
            finally:
                if response is not None:
                    response.close()
                    response.release_conn()

    def stat(self, key: str) -> ObjectInfo:
        """HEAD the object: size, sha256 from ``x-amz-meta-sha256``, type, modification time."""
        check_key(key)
        with self._translate("reading", key):
            obj = self.client.stat_object(self.bucket, key)
        headers = obj.metadata or {}
        sha = headers.get(SHA256_HEADER) if hasattr(headers, "get") else None
        return ObjectInfo(
            key=key,
            size=int(obj.size or 0),
            sha256=sha,
            last_modified=obj.last_modified,
            content_type=obj.content_type,
        )

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """ListObjectsV2, recursive, in key (UTF-8 byte) order; ``sha256`` is None (use stat).

        S3 returns byte order, but SeaweedFS returns folder-tree order (``a/b`` before
        ``a-b``), so the listing is collected and sorted here to give one order everywhere.
        """
        check_prefix(prefix)
        found: list[ObjectInfo] = []
        with self._translate("listing"):
            for obj in self.client.list_objects(self.bucket, prefix=prefix or None,
                                                recursive=True):
                name = obj.object_name or ""
                if not name or name.endswith("/"):
                    continue  # folder markers some servers report
                found.append(ObjectInfo(key=name, size=int(obj.size or 0), sha256=None,
                                        last_modified=obj.last_modified))
        found.sort(key=lambda info: info.key.encode("utf-8"))
        yield from found

    # -- deletes ---------------------------------------------------------------------------
    def delete(self, key: str) -> None:
        """DELETE the object; a missing key is not an error."""
        check_key(key)
        with self._translate("deleting", key):
            try:
                self.client.remove_object(self.bucket, key)
            except S3Error as exc:
                if exc.code not in ("NoSuchKey", "NoSuchObject"):
                    raise

    def delete_prefix(self, prefix: str) -> int:
        """Batch-delete (DeleteObjects, 1000 per request) every object under ``prefix``."""
        check_prefix(prefix)
        keys = [info.key for info in self.list(prefix)]
        for start in range(0, len(keys), 1000):
            self._delete_batch(keys[start:start + 1000])
        return len(keys)

    def _delete_batch(self, keys: Iterable[str]) -> None:
        with self._translate("deleting"):
            errors = list(self.client.remove_objects(
                self.bucket, [DeleteObject(key) for key in keys]))
        failed = [e for e in errors if e.code not in ("NoSuchKey", "NoSuchObject")]
        if failed:
            first = failed[0]
            raise StoreUnavailable(
                f"{self._where()}: could not delete {len(failed)} objects, first "
                f"{first.name!r}: {first.code}"
            )

    # -- misc ------------------------------------------------------------------------------
    def presigned_get_url(self, key: str, expires_seconds: int) -> str | None:
        """A presigned GET URL valid for ``expires_seconds`` (1 s to 7 days). No network call."""
        check_key(key)
        if not 1 <= expires_seconds <= MAX_PRESIGN_SECONDS:
            raise InvalidInput(
                f"presigned URL expiry must be 1..{MAX_PRESIGN_SECONDS} seconds, "
                f"got {expires_seconds}"
            )
        with self._translate("signing", key):
            return self.signer.presigned_get_object(
                self.bucket, key, expires=timedelta(seconds=expires_seconds))

    def ping(self) -> None:
        """Raise StoreUnavailable unless the server answers and the bucket exists."""
        with self._translate("checking the bucket"):
            found = self.client.bucket_exists(self.bucket)
        if not found:
            raise StoreUnavailable(f"{self._where()}: the bucket does not exist")

    def ensure(self) -> None:
        """Create the bucket if it is missing."""
        with self._translate("creating the bucket"):
            if self.client.bucket_exists(self.bucket):
                return
            try:
                self.client.make_bucket(self.bucket)
            except S3Error as exc:
                if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                    raise

    def abort_stale_uploads(self, older_than_seconds: float = 24 * 3600) -> int:
        """Abort multipart uploads started more than ``older_than_seconds`` ago.

        Only a writer killed mid-upload leaves one (invisible, but it holds space). Servers with
        lifecycle rules (AbortIncompleteMultipartUpload) do this themselves. Returns the count.
        """
        cutoff = datetime.now(UTC) - timedelta(seconds=older_than_seconds)
        aborted = 0
        key_marker: str | None = None
        upload_marker: str | None = None
        while True:
            with self._translate("listing pending uploads"):
                result = self.client._list_multipart_uploads(
                    self.bucket, key_marker=key_marker, upload_id_marker=upload_marker)
            for upload in result.uploads:
                started = upload.initiated_time
                if upload.upload_id and (started is None or started <= cutoff):
                    with self._translate("aborting a pending upload of", upload.object_name):
                        self.client._abort_multipart_upload(
                            self.bucket, upload.object_name, upload.upload_id)
                    aborted += 1
            if not result.is_truncated:
                return aborted
            key_marker, upload_marker = result.next_key_marker, result.next_upload_id_marker

    def supports_conditional_writes(self, probe_key: str = ".heldout-probe/conditional") -> bool:
        """Whether the server refuses a second ``If-None-Match: *`` PUT (writes a probe key)."""
        self.delete(probe_key)
        try:
            first = self.put_if_absent(probe_key, b"1")
            headers: dict[str, Any] = {"If-None-Match": "*"}
            with self._translate("probing", probe_key):
                try:
                    self.client._put_object(self.bucket, probe_key, b"2", headers=headers)
                except S3Error as exc:
                    if exc.code == "PreconditionFailed" or exc.response.status == 412:
                        return first
                    raise
            return False
        finally:
            self.delete(probe_key)
