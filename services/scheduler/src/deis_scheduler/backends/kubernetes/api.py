"""The seam between the kubernetes backend and the Kubernetes API: a small Protocol over plain dicts.

The backend speaks only this Protocol; :mod:`.client` implements it with kubernetes_asyncio (the only module
allowed to import it), and tests implement it with an in-memory fake. Objects are identified by
(kind, namespace, name); ``kind`` is the Kubernetes kind (``Deployment``, ``Service``, ...).
"""

from __future__ import annotations

from typing import Any, Protocol

from deis_common.errors import DeisError

Obj = dict[str, Any]


class KubeError(DeisError):
    """The Kubernetes API refused or failed a request."""


class KubeApi(Protocol):
    async def apply(self, obj: Obj) -> Obj:
        """Create the object, or replace it when it exists; returns what the API server stored."""

    async def get(self, kind: str, namespace: str | None, name: str) -> Obj | None: ...

    async def select(self, kind: str, namespace: str | None, selector: dict[str, str]) -> list[Obj]: ...

    async def delete(self, kind: str, namespace: str | None, name: str) -> None:
        """Delete if present (missing objects are fine)."""

    async def wait_changed(self, kind: str, namespace: str, selector: dict[str, str], timeout: float) -> None:
        """Return when an object of ``kind`` matching ``selector`` changes (a watch), or after ``timeout``."""

    async def logs(self, namespace: str, pod: str, tail_lines: int | None = None) -> str: ...

    async def events(self, namespace: str, name: str) -> list[str]:
        """Messages of the events about an object, newest last."""

    async def close(self) -> None: ...
