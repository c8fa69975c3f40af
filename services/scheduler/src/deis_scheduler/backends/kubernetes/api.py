"""The seam between the kubernetes backend and the Kubernetes API: a small Protocol over plain dicts.

The backend speaks only this Protocol; :mod:`.client` implements it with kubernetes_asyncio (the only module
allowed to import it). Objects are identified by (kind, namespace, name); ``kind`` is the Kubernetes kind
(``Deployment``, ``Service``, ...); a ``namespace`` of None means cluster-wide (namespaces themselves, or
every namespace when listing and watching namespaced kinds).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from deis_common.errors import DeisError

Obj = dict[str, Any]


class KubeError(DeisError):
    """The Kubernetes API refused or failed a request; ``status`` is its HTTP status when it answered."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class KubeApi(Protocol):
    async def apply(self, obj: Obj) -> Obj:
        """Create the object, or replace it when it exists; returns what the API server stored.
        A conflict (someone else created or changed it meanwhile) is resolved by reading it again."""

    async def get(self, kind: str, namespace: str | None, name: str) -> Obj | None: ...

    async def select(self, kind: str, namespace: str | None, selector: dict[str, str]) -> list[Obj]: ...

    async def delete(self, kind: str, namespace: str | None, name: str) -> None:
        """Delete if present (missing objects are fine)."""

    async def wait_changed(self, kind: str, namespace: str, selector: dict[str, str], timeout: float) -> None:
        """Return when an object of ``kind`` matching ``selector`` changes (a watch), or after ``timeout``."""

    def watch(
        self, kind: str, namespace: str | None, selector: dict[str, str]
    ) -> AsyncIterator[tuple[str, Obj]]:
        """Every matching object (``ADDED``), then each change (``ADDED``, ``MODIFIED``, ``DELETED``), for
        as long as the caller iterates. Expired watches are resumed by listing again; an object is only
        reported again when its resourceVersion changed."""

    def follow_logs(
        self, namespace: str, pod: str, container: str, since_seconds: int | None = None
    ) -> AsyncIterator[str]:
        """The container's output lines, each starting with its RFC3339 timestamp, as they are written,
        until the container stops (``since_seconds``: only lines that recent)."""

    async def logs(self, namespace: str, pod: str, tail_lines: int | None = None) -> str: ...

    async def events(self, namespace: str, name: str) -> list[str]:
        """Messages of the events about an object, newest last."""

    async def close(self) -> None: ...
