"""The ``s3`` driver: an object store on any S3-compatible server (AWS, MinIO, Ceph, moto in tests).

This is the only module that imports aioboto3 and botocore. It owns one S3 client per store (opened on
first use, closed by :meth:`S3Store.close`), the mapping of bucket names (``bucket_prefix`` + name), the
translation of driver exceptions into :class:`~deis_common.errors.ObjectNotFound` and
:class:`~deis_common.errors.StoreError`, and the upload strategy: one ``PutObject`` up to
:data:`MULTIPART_THRESHOLD`, a multipart upload above it, aborted when anything fails.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from contextlib import AsyncExitStack, aclosing, contextmanager
from pathlib import Path
from typing import Any, BinaryIO

import aioboto3
import structlog
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from deis_common.errors import ObjectNotFound, StoreError
from deis_common.settings import S3Settings
from deis_common.store.atomicfile import write_chunks
from deis_common.store.base import CHUNK_SIZE, ObjectInfo, ObjectStore, check_bucket, check_key, check_prefix

#: Objects bigger than this (bytes) are uploaded in parts of this size.
MULTIPART_THRESHOLD = 8 * 1024 * 1024
PART_SIZE = MULTIPART_THRESHOLD
#: DeleteObjects accepts at most this many keys per request.
_DELETE_BATCH = 1000

_NOT_FOUND_CODES = frozenset({"NoSuchKey", "NoSuchBucket", "NotFound", "404"})

log = structlog.get_logger(__name__)


class S3Store(ObjectStore):
    """Buckets and objects on an S3 server described by :class:`~deis_common.settings.S3Settings`."""

    def __init__(self, settings: S3Settings) -> None:
        self._settings = settings
        self._session = aioboto3.Session(
            aws_access_key_id=settings.access_key,
            aws_secret_access_key=settings.secret_key,
            region_name=settings.region,
        )
        self._config = Config(
            s3={"addressing_style": "path" if settings.path_style else "auto"},
            retries={"mode": "standard", "max_attempts": 3},
            # Many S3-compatible servers reject the checksums botocore sends by default since 1.36.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        )
        self._exit_stack = AsyncExitStack()
        self._client_lock = asyncio.Lock()
        self._s3: Any = None
        self._known_buckets: set[str] = set()

    def __repr__(self) -> str:
        settings = self._settings
        return f"S3Store(endpoint={settings.endpoint!r}, bucket_prefix={settings.bucket_prefix!r})"

    async def _client(self) -> Any:
        async with self._client_lock:
            if self._s3 is None:
                with self._translate("connect"):
                    self._s3 = await self._exit_stack.enter_async_context(
                        self._session.client("s3", endpoint_url=self._settings.endpoint, config=self._config)
                    )
            return self._s3

    def _bucket(self, bucket: str) -> str:
        return self._settings.bucket_prefix + check_bucket(bucket)

    @contextmanager
    def _translate(
        self, action: str, bucket: str = "", key: str = "", *, read: bool = False
    ) -> Iterator[None]:
        """Re-raise driver exceptions as ours; for a ``read``, a 404 means the object is missing."""
        try:
            yield
        except ClientError as e:
            code = _error_code(e)
            if code == "NoSuchBucket" and bucket:
                # Deleted behind our back: the next write must create it again.
                self._known_buckets.discard(self._bucket(bucket))
            if read and code in _NOT_FOUND_CODES:
                raise ObjectNotFound(bucket, key) from e
            raise StoreError(f"s3 {action} {bucket}/{key}: {code or e}") from e
        except BotoCoreError as e:
            raise StoreError(f"s3 {action} {bucket}/{key}: {e}") from e

    # writing

    async def put(self, bucket: str, key: str, data: bytes) -> None:
        check_key(key)
        await self.ensure_bucket(bucket)
        s3 = await self._client()
        with self._translate("put", bucket, key):
            await s3.put_object(Bucket=self._bucket(bucket), Key=key, Body=data)

    async def put_file(self, bucket: str, key: str, path: Path) -> None:
        check_key(key)
        try:
            file = await asyncio.to_thread(path.open, "rb")
        except OSError as e:
            raise StoreError(f"s3 put {bucket}/{key}: cannot read {path}: {e}") from e
        try:
            size = (await asyncio.to_thread(os.fstat, file.fileno())).st_size
            async with aclosing(_read_parts(file)) as parts:
                await self._upload(bucket, key, parts, size)
        except OSError as e:
            raise StoreError(f"s3 put {bucket}/{key}: cannot read {path}: {e}") from e
        finally:
            file.close()

    async def put_stream(self, bucket: str, key: str, chunks: AsyncIterator[bytes]) -> None:
        check_key(key)
        await self._upload(bucket, key, chunks)

    async def _upload(
        self, bucket: str, key: str, chunks: AsyncIterator[bytes], size: int | None = None
    ) -> None:
        """PutObject if the data fits in one part, else a multipart upload; never a partial object.

        ``size``, when known, lets a big upload start sending parts at once instead of reading ahead.
        """
        await self.ensure_bucket(bucket)
        s3 = await self._client()
        name = self._bucket(bucket)
        # Data waits here until it is known to need a multipart upload: up to MULTIPART_THRESHOLD bytes
        # (inclusive) go in one PutObject. Once multipart, full parts leave as soon as they are complete.
        multipart = size is not None and size > MULTIPART_THRESHOLD
        pending: list[bytes] = []
        pending_size = 0
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []

        async def send_part() -> None:
            nonlocal upload_id, pending_size
            data = _take(pending, PART_SIZE)
            pending_size -= len(data)
            with self._translate("multipart upload", bucket, key):
                if upload_id is None:
                    created = await s3.create_multipart_upload(Bucket=name, Key=key)
                    upload_id = str(created["UploadId"])
                number = len(parts) + 1
                sent = await s3.upload_part(
                    Bucket=name, Key=key, UploadId=upload_id, PartNumber=number, Body=data
                )
            parts.append({"PartNumber": number, "ETag": sent["ETag"]})

        try:
            async for chunk in chunks:
                pending.append(chunk)
                pending_size += len(chunk)
                multipart = multipart or pending_size > MULTIPART_THRESHOLD
                while multipart and pending_size >= PART_SIZE:
                    await send_part()
            if not multipart:
                with self._translate("put", bucket, key):
                    await s3.put_object(Bucket=name, Key=key, Body=b"".join(pending))
                return
            while pending_size > 0:
                await send_part()
            with self._translate("complete multipart upload", bucket, key):
                await s3.complete_multipart_upload(
                    Bucket=name, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
        except BaseException:
            if upload_id is not None:
                await self._abort_upload(s3, name, key, upload_id)
            raise

    async def _abort_upload(self, s3: Any, name: str, key: str, upload_id: str) -> None:
        # Best effort: the original failure is what the caller must see. Parts left behind by a failed
        # abort are the server's to expire (an AbortIncompleteMultipartUpload lifecycle rule).
        try:
            await s3.abort_multipart_upload(Bucket=name, Key=key, UploadId=upload_id)
        except (ClientError, BotoCoreError) as e:
            log.warning("s3 multipart abort failed", bucket=name, key=key, error=str(e))

    # reading

    async def get(self, bucket: str, key: str) -> bytes:
        check_key(key)
        s3 = await self._client()
        with self._translate("get", bucket, key, read=True):
            response = await s3.get_object(Bucket=self._bucket(bucket), Key=key)
            body = response["Body"]
            async with body:  # returns the connection to the pool, even on failure
                data: bytes = await body.read()
        return data

    async def get_file(self, bucket: str, key: str, path: Path) -> None:
        async with aclosing(self.stream(bucket, key)) as chunks:
            await write_chunks(path, chunks)

    async def stream(
        self, bucket: str, key: str, chunk_size: int = CHUNK_SIZE
    ) -> AsyncGenerator[bytes, None]:
        check_key(key)
        s3 = await self._client()
        with self._translate("get", bucket, key, read=True):
            response = await s3.get_object(Bucket=self._bucket(bucket), Key=key)
        body = response["Body"]  # entering it yields the raw aiohttp response: keep the wrapper
        async with body:
            while True:
                # The HTTP body arrives in small pieces; gather them so callers get chunk_size pieces.
                chunk = bytearray()
                with self._translate("get", bucket, key, read=True):
                    while len(chunk) < chunk_size:
                        piece = await body.read(chunk_size - len(chunk))
                        if not piece:
                            break
                        chunk += piece
                if not chunk:
                    return
                yield bytes(chunk)

    async def exists(self, bucket: str, key: str) -> bool:
        try:
            await self.stat(bucket, key)
        except ObjectNotFound:
            return False
        return True

    async def stat(self, bucket: str, key: str) -> ObjectInfo:
        check_key(key)
        s3 = await self._client()
        with self._translate("stat", bucket, key, read=True):
            head = await s3.head_object(Bucket=self._bucket(bucket), Key=key)
        return ObjectInfo(key=key, size=int(head["ContentLength"]), modified=head["LastModified"])

    async def list(self, bucket: str, prefix: str = "") -> list[str]:
        check_prefix(prefix)
        s3 = await self._client()
        keys: list[str] = []
        try:
            with self._translate("list", bucket):
                paginator = s3.get_paginator("list_objects_v2")
                async for page in paginator.paginate(Bucket=self._bucket(bucket), Prefix=prefix):
                    keys.extend(str(item["Key"]) for item in page.get("Contents", []))
        except StoreError as e:
            if _is_missing_bucket(e):
                return []
            raise
        return sorted(keys)

    # removing

    async def delete(self, bucket: str, key: str) -> None:
        check_key(key)
        s3 = await self._client()
        try:
            with self._translate("delete", bucket):
                await s3.delete_object(Bucket=self._bucket(bucket), Key=key)
        except StoreError as e:
            if not _is_missing_bucket(e):
                raise

    async def delete_prefix(self, bucket: str, prefix: str) -> None:
        if not check_prefix(prefix):
            raise StoreError("delete_prefix needs a non-empty prefix")
        keys = await self.list(bucket, prefix)
        s3 = await self._client()
        for start in range(0, len(keys), _DELETE_BATCH):
            batch = [{"Key": key} for key in keys[start : start + _DELETE_BATCH]]
            with self._translate("delete", bucket):
                result = await s3.delete_objects(
                    Bucket=self._bucket(bucket), Delete={"Objects": batch, "Quiet": True}
                )
            if errors := result.get("Errors"):
                first = errors[0]
                raise StoreError(
                    f"s3 delete {bucket}/{first.get('Key')}: {first.get('Code')} "
                    f"({len(errors)} of {len(batch)} keys not deleted)"
                )

    # lifecycle

    async def ensure_bucket(self, bucket: str) -> None:
        name = self._bucket(bucket)
        if name in self._known_buckets:
            return
        s3 = await self._client()
        try:
            await s3.head_bucket(Bucket=name)
        except ClientError as e:
            if _error_code(e) not in _NOT_FOUND_CODES:
                raise StoreError(f"s3 ensure bucket {bucket}: {_error_code(e) or e}") from e
            await self._create_bucket(s3, bucket, name)
        except BotoCoreError as e:
            raise StoreError(f"s3 ensure bucket {bucket}: {e}") from e
        self._known_buckets.add(name)

    async def _create_bucket(self, s3: Any, bucket: str, name: str) -> None:
        options: dict[str, Any] = {}
        if self._settings.region != "us-east-1":
            options["CreateBucketConfiguration"] = {"LocationConstraint": self._settings.region}
        try:
            await s3.create_bucket(Bucket=name, **options)
        except ClientError as e:
            # Another writer created it between our HEAD and CREATE.
            if _error_code(e) != "BucketAlreadyOwnedByYou":
                raise StoreError(f"s3 create bucket {bucket}: {_error_code(e) or e}") from e
        except BotoCoreError as e:
            raise StoreError(f"s3 create bucket {bucket}: {e}") from e

    async def close(self) -> None:
        async with self._client_lock:
            self._s3 = None
            await self._exit_stack.aclose()


def _error_code(e: ClientError) -> str:
    return str(e.response.get("Error", {}).get("Code", ""))


def _is_missing_bucket(e: StoreError) -> bool:
    cause = e.__cause__
    return isinstance(cause, ClientError) and _error_code(cause) in ("NoSuchBucket", "404")


def _take(pending: list[bytes], size: int) -> bytes:
    """Remove and return the first ``size`` bytes (or all, if fewer) of the ``pending`` chunks."""
    if len(pending[0]) == size:
        return pending.pop(0)  # the aligned case (put_file): no copy
    data = b"".join(pending)
    pending.clear()
    if len(data) > size:
        pending.append(data[size:])
        data = data[:size]
    return data


async def _read_parts(file: BinaryIO) -> AsyncGenerator[bytes, None]:
    # Pieces of exactly PART_SIZE, so _upload sends each one as it is, without copying.
    while data := await asyncio.to_thread(file.read, PART_SIZE):
        yield data
