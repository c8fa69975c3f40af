"""The object store contract, run against both drivers: fs on a temporary directory, s3 on moto over HTTP."""

from __future__ import annotations

import asyncio
import hashlib
import os
import tracemalloc
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import aclosing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest

from deis_common.errors import ObjectNotFound, StoreError
from deis_common.settings import S3Settings, StoreSettings
from deis_common.store import FsStore, ObjectStore, open_store
from deis_common.store.s3 import MULTIPART_THRESHOLD, S3Store
from deis_common.testing.s3 import ACCESS_KEY, SECRET_KEY, s3_endpoint  # noqa: F401

MiB = 1024 * 1024
BUCKET = "builder"
TAR_KEY = "home/myapp:git-1a2b3c4d/tar"


def s3_settings(endpoint: str, bucket_prefix: str) -> S3Settings:
    return S3Settings(
        endpoint=endpoint, access_key=ACCESS_KEY, secret_key=SECRET_KEY, bucket_prefix=bucket_prefix
    )


@pytest.fixture
def bucket_prefix() -> str:
    # One moto server serves the whole session: each test gets buckets of its own.
    return f"t{uuid.uuid4().hex[:10]}-"


@pytest.fixture(params=["fs", "s3"])
async def store(
    request: pytest.FixtureRequest, tmp_path: Path, bucket_prefix: str
) -> AsyncIterator[ObjectStore]:
    if request.param == "fs":
        settings = StoreSettings(driver="fs", path=tmp_path / "store")
    else:
        endpoint = request.getfixturevalue("s3_endpoint")
        settings = StoreSettings(driver="s3", s3=s3_settings(endpoint, bucket_prefix))
    async with open_store(settings) as opened:
        yield opened


async def chunks_of(data: bytes, size: int) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_open_store_chooses_the_driver_the_settings_name(tmp_path: Path) -> None:
    assert isinstance(open_store(StoreSettings(driver="fs", path=tmp_path)), FsStore)
    assert isinstance(open_store(StoreSettings(driver="s3", s3=S3Settings(endpoint="http://x"))), S3Store)


async def test_put_then_get_returns_the_same_bytes(store: ObjectStore) -> None:
    await store.put(BUCKET, TAR_KEY, b"a tarball")
    assert await store.get(BUCKET, TAR_KEY) == b"a tarball"


async def test_put_replaces_an_existing_object(store: ObjectStore) -> None:
    await store.put(BUCKET, "home/myapp/push/Procfile", b"web: old")
    await store.put(BUCKET, "home/myapp/push/Procfile", b"web: new")
    assert await store.get(BUCKET, "home/myapp/push/Procfile") == b"web: new"


async def test_an_empty_object_is_an_object(store: ObjectStore) -> None:
    await store.put(BUCKET, "empty", b"")
    assert await store.exists(BUCKET, "empty")
    assert await store.get(BUCKET, "empty") == b""
    assert (await store.stat(BUCKET, "empty")).size == 0


async def test_exists_tells_stored_objects_from_missing_ones(store: ObjectStore) -> None:
    await store.put(BUCKET, TAR_KEY, b"x")
    assert await store.exists(BUCKET, TAR_KEY)
    assert not await store.exists(BUCKET, "home/myapp:git-1a2b3c4d/other")
    assert not await store.exists(BUCKET, "home/myapp:git-1a2b3c4d")  # a "directory" is no object
    assert not await store.exists("registry", TAR_KEY)  # a bucket never written to


async def test_list_returns_the_sorted_keys_starting_with_a_prefix(store: ObjectStore) -> None:
    keys = [
        "home/myapp:git-2222/tar",
        "home/myapp:git-1111/push/slug.tgz",
        "home/myapp:git-1111/tar",
        "home/myapp/cache/cache.tgz",
        "home/other:git-1111/tar",
        "top",
    ]
    for key in keys:
        await store.put(BUCKET, key, key.encode())
    assert await store.list(BUCKET) == sorted(keys)
    assert await store.list(BUCKET, "home/myapp:git-") == [
        "home/myapp:git-1111/push/slug.tgz",
        "home/myapp:git-1111/tar",
        "home/myapp:git-2222/tar",
    ]
    assert await store.list(BUCKET, "home/myapp/") == ["home/myapp/cache/cache.tgz"]
    assert await store.list(BUCKET, "nothing/") == []


async def test_list_of_a_bucket_never_written_to_is_empty(store: ObjectStore) -> None:
    assert await store.list("database") == []


async def test_delete_removes_only_that_object(store: ObjectStore) -> None:
    await store.put(BUCKET, "home/a/tar", b"a")
    await store.put(BUCKET, "home/b/tar", b"b")
    await store.delete(BUCKET, "home/a/tar")
    assert await store.list(BUCKET) == ["home/b/tar"]
    await store.delete(BUCKET, "home/a/tar")  # already gone: not an error
    await store.delete("registry", "never/written")


async def test_delete_prefix_removes_every_key_under_it(store: ObjectStore) -> None:
    for key in [
        "home/myapp:git-1/tar",
        "home/myapp:git-2/tar",
        "home/myapp:git-2/push/slug.tgz",
        "home/keep/tar",
    ]:
        await store.put(BUCKET, key, b"x")
    await store.delete_prefix(BUCKET, "home/myapp:")
    assert await store.list(BUCKET) == ["home/keep/tar"]
    await store.put(BUCKET, "home/myapp:git-3/tar", b"written again after the prefix was removed")
    assert await store.list(BUCKET, "home/myapp:") == ["home/myapp:git-3/tar"]


async def test_delete_prefix_refuses_an_empty_prefix(store: ObjectStore) -> None:
    with pytest.raises(StoreError):
        await store.delete_prefix(BUCKET, "")


async def test_stat_reports_size_and_modification_time(store: ObjectStore) -> None:
    before = datetime.now(UTC) - timedelta(seconds=5)
    await store.put(BUCKET, TAR_KEY, b"12345")
    info = await store.stat(BUCKET, TAR_KEY)
    assert info.key == TAR_KEY
    assert info.size == 5
    assert info.modified.tzinfo is not None
    assert before <= info.modified <= datetime.now(UTC) + timedelta(seconds=5)


async def test_ensure_bucket_is_idempotent(store: ObjectStore) -> None:
    await store.ensure_bucket("registry")
    await store.ensure_bucket("registry")
    assert await store.list("registry") == []


async def test_a_missing_object_raises_object_not_found_from_every_read(
    store: ObjectStore, tmp_path: Path
) -> None:
    await store.put(BUCKET, "present", b"x")
    with pytest.raises(ObjectNotFound) as caught:
        await store.get(BUCKET, "home/missing/tar")
    assert (caught.value.bucket, caught.value.key) == (BUCKET, "home/missing/tar")
    with pytest.raises(ObjectNotFound):
        await store.get("database", "in/a/bucket/never/written")
    with pytest.raises(ObjectNotFound):
        await store.stat(BUCKET, "home/missing/tar")
    with pytest.raises(ObjectNotFound):
        await store.get_file(BUCKET, "home/missing/tar", tmp_path / "out")
    assert not (tmp_path / "out").exists()
    with pytest.raises(ObjectNotFound):
        async with aclosing(store.stream(BUCKET, "home/missing/tar")) as chunks:
            async for _ in chunks:
                pass


@pytest.mark.parametrize(
    "key", ["../escape", "home/../../escape", "home/..", "/etc/passwd", "", "home//tar", "home/./tar", "a\0b"]
)
async def test_keys_that_could_leave_the_bucket_are_rejected(
    store: ObjectStore, key: str, tmp_path: Path
) -> None:
    with pytest.raises(StoreError):
        await store.put(BUCKET, key, b"x")
    with pytest.raises(StoreError):
        await store.get(BUCKET, key)
    with pytest.raises(StoreError):
        await store.exists(BUCKET, key)
    with pytest.raises(StoreError):
        await store.delete(BUCKET, key)
    with pytest.raises(StoreError):
        await store.put_file(BUCKET, key, tmp_path / "anything")


@pytest.mark.parametrize("prefix", ["../", "/home", "home/../../"])
async def test_prefixes_that_could_leave_the_bucket_are_rejected(store: ObjectStore, prefix: str) -> None:
    with pytest.raises(StoreError):
        await store.list(BUCKET, prefix)
    with pytest.raises(StoreError):
        await store.delete_prefix(BUCKET, prefix)


async def test_invalid_bucket_names_are_rejected(store: ObjectStore) -> None:
    for bucket in ["..", "../builder", "Builder", "a/b", ""]:
        with pytest.raises(StoreError):
            await store.put(bucket, "key", b"x")


async def test_put_stream_and_stream_round_trip_across_the_multipart_threshold(store: ObjectStore) -> None:
    data = os.urandom(2 * MULTIPART_THRESHOLD + 12345)
    await store.put_stream(BUCKET, TAR_KEY, chunks_of(data, 3 * MiB + 7))
    assert (await store.stat(BUCKET, TAR_KEY)).size == len(data)
    pieces = [piece async for piece in store.stream(BUCKET, TAR_KEY, chunk_size=MiB)]
    assert all(len(piece) <= MiB for piece in pieces)
    assert b"".join(pieces) == data


async def test_an_object_of_exactly_the_threshold_round_trips(store: ObjectStore, tmp_path: Path) -> None:
    data = os.urandom(MULTIPART_THRESHOLD)
    (tmp_path / "exact").write_bytes(data)
    await store.put_file(BUCKET, "exact", tmp_path / "exact")
    await store.put_stream(BUCKET, "exact-stream", chunks_of(data, MULTIPART_THRESHOLD))
    assert await store.get(BUCKET, "exact") == data
    assert await store.get(BUCKET, "exact-stream") == data


async def test_a_failed_stream_upload_leaves_the_old_object(store: ObjectStore) -> None:
    await store.put(BUCKET, TAR_KEY, b"old")

    async def failing() -> AsyncIterator[bytes]:
        for _ in range(MULTIPART_THRESHOLD // MiB + 3):  # fails after the first multipart part went out
            yield os.urandom(MiB)
        raise OSError("the build container died")

    with pytest.raises(OSError, match="container died"):
        await store.put_stream(BUCKET, TAR_KEY, failing())
    assert await store.get(BUCKET, TAR_KEY) == b"old"
    assert await store.list(BUCKET) == [TAR_KEY]


async def test_a_failed_multipart_upload_is_aborted_on_the_server(
    s3_endpoint: str,  # noqa: F811 (the fixture imported above)
    bucket_prefix: str,
) -> None:
    async def failing() -> AsyncIterator[bytes]:
        yield os.urandom(MULTIPART_THRESHOLD + MiB)
        raise OSError("source vanished")

    async with S3Store(s3_settings(s3_endpoint, bucket_prefix)) as store:
        with pytest.raises(OSError, match="source vanished"):
            await store.put_stream(BUCKET, TAR_KEY, failing())
    assert multipart_uploads(s3_endpoint, f"{bucket_prefix}{BUCKET}") == []


def multipart_uploads(endpoint: str, bucket: str) -> list[object]:
    """Multipart uploads the server still holds open, asked with a client independent of the driver."""
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    )
    try:
        uploads: list[object] = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    finally:
        client.close()
    return uploads


async def test_a_cancelled_multipart_upload_is_aborted_on_the_server(
    s3_endpoint: str,  # noqa: F811 (the fixture imported above)
    bucket_prefix: str,
) -> None:
    parts_sent = asyncio.Event()

    async def stalling() -> AsyncIterator[bytes]:
        yield os.urandom(MULTIPART_THRESHOLD + MiB)
        parts_sent.set()
        await asyncio.Event().wait()  # the client never sends the rest
        yield b""

    async with S3Store(s3_settings(s3_endpoint, bucket_prefix)) as store:
        upload = asyncio.create_task(store.put_stream(BUCKET, TAR_KEY, stalling()), name="stalled upload")
        await asyncio.wait_for(parts_sent.wait(), timeout=30)
        upload.cancel()
        with pytest.raises(asyncio.CancelledError):
            await upload
        assert not await store.exists(BUCKET, TAR_KEY)
    assert multipart_uploads(s3_endpoint, f"{bucket_prefix}{BUCKET}") == []


async def test_put_file_of_a_missing_source_is_a_store_error(store: ObjectStore, tmp_path: Path) -> None:
    with pytest.raises(StoreError) as caught:
        await store.put_file(BUCKET, TAR_KEY, tmp_path / "no-such-file")
    assert not isinstance(caught.value, ObjectNotFound)


async def test_a_failed_fs_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    async def failing() -> AsyncIterator[bytes]:
        yield b"partial"
        raise OSError("source vanished")

    store = FsStore(tmp_path / "store")
    with pytest.raises(OSError, match="source vanished"):
        await store.put_stream(BUCKET, TAR_KEY, failing())
    assert [p for p in (tmp_path / "store").rglob("*") if p.is_file()] == []


async def test_get_file_replaces_the_destination(store: ObjectStore, tmp_path: Path) -> None:
    destination = tmp_path / "out" / "slug.tgz"
    destination.parent.mkdir()
    destination.write_bytes(b"stale")
    await store.put(BUCKET, TAR_KEY, b"fresh")
    await store.get_file(BUCKET, TAR_KEY, destination)
    assert destination.read_bytes() == b"fresh"
    assert os.listdir(destination.parent) == ["slug.tgz"]


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    path = tmp_path_factory.mktemp("big") / "100mb.bin"
    digest = hashlib.sha256()
    with path.open("wb") as out:
        for _ in range(100):
            block = os.urandom(MiB)
            digest.update(block)
            out.write(block)
    yield path, digest.hexdigest()
    path.unlink()


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(MiB):
            digest.update(block)
    return digest.hexdigest()


async def test_a_100_mb_object_streams_in_and_out_in_bounded_memory(
    store: ObjectStore, big_file: tuple[Path, str], tmp_path: Path
) -> None:
    source, expected = big_file
    tracemalloc.start()
    try:
        await store.put_file(BUCKET, "home/big:git-00000000/tar", source)
        await store.get_file(BUCKET, "home/big:git-00000000/tar", tmp_path / "copy.bin")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 30 * MiB, f"peak Python allocations {peak / MiB:.1f} MiB"
    assert (await store.stat(BUCKET, "home/big:git-00000000/tar")).size == 100 * MiB
    assert sha256_of(tmp_path / "copy.bin") == expected
