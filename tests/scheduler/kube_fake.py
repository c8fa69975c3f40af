"""An in-memory Kubernetes API at our own adapter seam (:class:`KubeApi`), with a toy Deployment controller.

Applying a Deployment creates its pods at once; whether they become ready, crash-loop or fail to pull their
image is up to the test (``pod_behaviour``). Every object the backend sends is kept in ``applied`` so the
tests can validate them against the Kubernetes schemas.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from datetime import UTC, datetime
from typing import Any, Literal

from deis_common import podnames

Obj = dict[str, Any]
Behaviour = Literal["ready", "crash", "pull-error", "never-ready"]


class FakeKube:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str | None, str], Obj] = {}
        self.applied: list[Obj] = []
        self.deleted: list[tuple[str, str | None, str]] = []
        self.pod_behaviour: Behaviour = "ready"
        self.run_exit_code = 0
        self.run_output = ""
        self._version = 0
        self._changed = asyncio.Event()

    # -- KubeApi ---------------------------------------------------------------------------------

    async def apply(self, obj: Obj) -> Obj:
        self.applied.append(copy.deepcopy(obj))
        kind, meta = obj["kind"], obj["metadata"]
        key = (kind, meta.get("namespace"), meta["name"])
        stored = copy.deepcopy(obj)
        previous = self.objects.get(key)
        generation = (previous or {}).get("metadata", {}).get("generation", 0) + 1
        self._version += 1
        stored["metadata"].update(generation=generation, resourceVersion=str(self._version))
        self.objects[key] = stored
        if kind == "Deployment":
            self._roll(stored)
        self._changed.set()
        if kind == "Pod":
            stored["status"] = {
                "phase": "Succeeded" if self.run_exit_code == 0 else "Failed",
                "containerStatuses": [{"state": {"terminated": {"exitCode": self.run_exit_code}}}],
            }
        return copy.deepcopy(stored)

    async def get(self, kind: str, namespace: str | None, name: str) -> Obj | None:
        found = self.objects.get((kind, namespace, name))
        return copy.deepcopy(found) if found else None

    async def select(self, kind: str, namespace: str | None, selector: dict[str, str]) -> list[Obj]:
        return [
            copy.deepcopy(obj)
            for (k, ns, _), obj in sorted(self.objects.items(), key=lambda item: str(item[0]))
            if k == kind
            and (namespace is None or ns == namespace)
            and all(obj["metadata"].get("labels", {}).get(a) == b for a, b in selector.items())
        ]

    async def delete(self, kind: str, namespace: str | None, name: str) -> None:
        self.deleted.append((kind, namespace, name))
        self.objects.pop((kind, namespace, name), None)
        if kind == "Namespace":
            for key in [k for k in self.objects if k[1] == name]:
                del self.objects[key]
        if kind == "Deployment":
            for key in [k for k, o in self.objects.items() if k[0] == "Pod" and _owner(o) == name]:
                del self.objects[key]

    async def wait_changed(self, kind: str, namespace: str, selector: dict[str, str], timeout: float) -> None:
        self._changed.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._changed.wait()

    async def logs(self, namespace: str, pod: str, tail_lines: int | None = None) -> str:
        if "-run-" in pod:
            return self.run_output
        return "Traceback (most recent call last):\nImportError: no module named app\n"

    async def events(self, namespace: str, name: str) -> list[str]:
        return ["Unhealthy: Readiness probe failed: dial tcp 10.0.0.7:5000: connect: connection refused"]

    async def close(self) -> None:
        return None

    # -- the toy Deployment controller ------------------------------------------------------------

    def _roll(self, deployment: Obj) -> None:
        meta, spec = deployment["metadata"], deployment["spec"]
        namespace, name = meta["namespace"], meta["name"]
        template = spec["template"]
        template_hash = podnames.template_hash(repr(template))  # a ReplicaSet per template, as Kubernetes
        replicas = spec["replicas"]
        ready = self.pod_behaviour == "ready"
        for key in [k for k, o in self.objects.items() if k[0] == "Pod" and _owner(o) == name]:
            if ready or self.objects[key]["metadata"]["labels"].get("version") == template["metadata"][
                "labels"
            ].get("version"):
                del self.objects[key]
        for _ in range(replicas):
            pod_name = f"{name}-{template_hash}-{podnames.suffix()}"
            self.objects[("Pod", namespace, pod_name)] = {
                "kind": "Pod",
                "metadata": {
                    "name": pod_name,
                    "namespace": namespace,
                    "labels": dict(template["metadata"]["labels"]),
                },
                "status": self._pod_status(),
            }
        available = replicas if ready else 0
        deployment["status"] = {
            "observedGeneration": meta["generation"],
            "replicas": replicas,
            "updatedReplicas": replicas,
            "availableReplicas": available,
            **({"unavailableReplicas": replicas - available} if replicas - available else {}),
        }

    def _pod_status(self) -> Obj:
        started = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        if self.pod_behaviour == "ready":
            return {
                "phase": "Running",
                "startTime": started,
                "conditions": [{"type": "Ready", "status": "True"}],
                "containerStatuses": [{"restartCount": 0, "state": {"running": {}}}],
            }
        waiting = {"crash": "CrashLoopBackOff", "pull-error": "ImagePullBackOff"}.get(self.pod_behaviour)
        state = (
            {"waiting": {"reason": waiting, "message": "Back-off pulling image"}}
            if waiting
            else {"running": {}}
        )
        return {
            "phase": "Running" if not waiting else "Pending",
            "startTime": started,
            "conditions": [{"type": "Ready", "status": "False"}],
            "containerStatuses": [
                {"restartCount": 2 if waiting == "CrashLoopBackOff" else 0, "state": state}
            ],
        }


def _owner(pod: Obj) -> str:
    labels = pod["metadata"].get("labels", {})
    return f"{labels.get('app')}-{labels.get('type')}"
