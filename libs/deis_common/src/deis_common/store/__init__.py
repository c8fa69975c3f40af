"""The object store (ARCHITECTURE §5): one interface, an ``fs`` and an ``s3`` driver.

Callers build a store once with :func:`open_store` from :class:`~deis_common.settings.StoreSettings`
and depend only on :class:`ObjectStore`. The s3 driver is imported only when chosen, so aioboto3 is
loaded by the processes that use it.
"""

from __future__ import annotations

from deis_common.errors import ObjectNotFound, StoreError
from deis_common.settings import StoreSettings
from deis_common.store.base import CHUNK_SIZE, ObjectInfo, ObjectStore
from deis_common.store.fs import FsStore

__all__ = ["CHUNK_SIZE", "FsStore", "ObjectInfo", "ObjectNotFound", "ObjectStore", "StoreError", "open_store"]


def open_store(settings: StoreSettings) -> ObjectStore:
    """Build the store the settings choose. It connects lazily; close it when done."""
    if settings.driver == "fs":
        return FsStore(settings.path)
    if settings.driver == "s3":
        from deis_common.store.s3 import S3Store

        return S3Store(settings.s3)
    raise StoreError(f"unknown store driver {settings.driver!r}")
