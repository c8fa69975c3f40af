"""A Kubernetes API server for tests: the subset of the REST API the scheduler's client speaks, over HTTP.

Started per test on a free loopback port (aiohttp), so ``kubernetes_asyncio`` and our adapter
(:mod:`deis_scheduler.backends.kubernetes.client`) are exercised for real: paths, argument order, JSON
bodies, status codes, watches and log streams. It keeps objects in memory like an API server does:
resourceVersions from one counter, ``generation`` bumped on spec changes, 404 for missing objects, 409 on
creating an existing object or replacing with a stale resourceVersion, 422 on changing a Service's
clusterIP. Watches replay history from a resourceVersion, or answer an ``ERROR`` event with a 410 Status
when that version was compacted away (:meth:`KubeApiServer.compact`), as etcd does.

A toy controller manager and kubelet stand behind it: a Deployment gets its pods and its status
(observedGeneration, updated/ready/available replicas) shortly after each change, a bare Pod (``deis
run``) terminates with :attr:`run_exit_code`, and tests write container output (:meth:`write_log`) and
crash containers (:meth:`crash`), which the log endpoint streams with ``follow`` and ``timestamps``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from aiohttp import web

from deis_common import podnames

Obj = dict[str, Any]
Behaviour = Literal["ready", "crash", "pull-error", "never-ready"]

# plural -> (kind, API prefix, namespaced)
RESOURCES: dict[str, tuple[str, str, bool]] = {
    "namespaces": ("Namespace", "api/v1", False),
    "secrets": ("Secret", "api/v1", True),
    "services": ("Service", "api/v1", True),
    "pods": ("Pod", "api/v1", True),
    "events": ("Event", "api/v1", True),
    "deployments": ("Deployment", "apis/apps/v1", True),
    "horizontalpodautoscalers": ("HorizontalPodAutoscaler", "apis/autoscaling/v2", True),
}
_PREFIXES = {prefix for _, prefix, _ in RESOURCES.values()}


def rfc3339nano(ns: int) -> str:
    """A timestamp the way the kubelet writes one (Go's RFC3339Nano: trailing zeros trimmed)."""
    seconds, nanos = divmod(ns, 1_000_000_000)
    base = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    fraction = f"{nanos:09d}".rstrip("0")
    return f"{base}.{fraction}Z" if fraction else f"{base}Z"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status(code: int, reason: str, message: str) -> web.Response:
    body = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    return web.json_response(body, status=code)


def _matches(obj: Obj, labels: dict[str, str], fields: dict[str, str]) -> bool:
    if any(obj["metadata"].get("labels", {}).get(k) != v for k, v in labels.items()):
        return False
    for path, value in fields.items():
        current: Any = obj
        for part in path.split("."):
            current = current.get(part) if isinstance(current, dict) else None
        if current != value:
            return False
    return True


def _flag(request: web.Request, name: str) -> bool:
    """A boolean query parameter, read as the API server reads it (Go's ParseBool)."""
    return request.query.get(name, "") in ("1", "t", "T", "true", "TRUE", "True")


def _selector(raw: str | None) -> dict[str, str]:
    pairs = [item.split("=", 1) for item in (raw or "").split(",") if item]
    return {k.rstrip("="): v.lstrip("=") for k, v in pairs}


@dataclass
class LogLine:
    ns: int
    text: str
    instance: int


@dataclass
class Container:
    """What the toy kubelet knows of one container of a pod: its restarts and output."""

    restarts: int = 0
    lines: list[LogLine] = field(default_factory=list)


@dataclass
class Change:
    version: int
    plural: str
    namespace: str
    type: str
    obj: Obj


class KubeApiServer:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str], Obj] = {}
        self.history: list[Change] = []
        self.compacted = 0
        self.version = 0
        self.pod_behaviour: Behaviour = "ready"
        self.run_exit_code = 0
        self.run_output = ""
        self.ready_delay = 0.05
        self.races = 0
        """How many of the next writes lose a race: another writer creates or changes the object first."""
        self.startup_output: list[str] = []
        """Lines every new container of a Deployment prints when it starts."""
        self.requests: list[list[Any]] = []
        """[method, path and query, status (0 while it streams)] of every request."""
        self.received: list[Obj] = []
        """Every object the client sent to be created or replaced, as sent (for schema checks)."""
        self.containers: dict[tuple[str, str, str], Container] = {}
        self._changed = asyncio.Condition()
        self._closing = asyncio.Event()
        self._watches_open = asyncio.Event()
        self._watches_open.set()
        self.expired_watches = 0
        """Watches answered with 410 Gone."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- lifecycle ---------------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._dispatch)
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def stop(self) -> None:
        self._closing.set()
        await self._notify()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._runner is not None:
            await self._runner.cleanup()

    # -- what tests do to the cluster ---------------------------------------------------------------

    def get(self, plural: str, namespace: str, name: str) -> Obj | None:
        found = self.objects.get((plural, namespace, name))
        return copy.deepcopy(found) if found else None

    def list(self, plural: str, namespace: str | None = None, **labels: str) -> list[Obj]:
        return [
            copy.deepcopy(o)
            for (p, ns, _), o in sorted(self.objects.items())
            if p == plural and namespace in (None, ns) and _matches(o, labels, {})
        ]

    def count(self, method: str, path_part: str, code: int | None = None) -> int:
        return sum(1 for m, p, c in self.requests if m == method and path_part in p and code in (None, c))

    async def write_log(self, namespace: str, pod: str, text: str, container: str | None = None) -> None:
        """The container prints ``text`` (one line) now."""
        box = self.containers[(namespace, pod, container or self._only_container(namespace, pod))]
        box.lines.append(LogLine(time.time_ns(), text, box.restarts))
        await self._notify()

    async def crash(self, namespace: str, pod: str, exit_code: int, reason: str = "Error") -> None:
        """The container exits with ``exit_code`` and the kubelet starts it again (restartCount + 1)."""
        name = self._only_container(namespace, pod)
        box = self.containers[(namespace, pod, name)]
        box.restarts += 1
        obj = self.objects[("pods", namespace, pod)]
        for cs in obj["status"]["containerStatuses"]:
            cs["restartCount"] = box.restarts
            cs["lastState"] = {
                "terminated": {
                    "exitCode": exit_code,
                    "reason": reason,
                    "startedAt": cs["state"].get("running", {}).get("startedAt", _now()),
                    "finishedAt": _now(),
                    "containerID": cs.get("containerID", ""),
                }
            }
            cs["containerID"] = f"containerd://{uuid.uuid4().hex}"
            cs["state"] = {"running": {"startedAt": _now()}}
        await self._store("pods", namespace, obj, "MODIFIED")

    def compact(self) -> None:
        """Forget the history so far: watches from an older resourceVersion get 410 Gone."""
        self.compacted = self.version
        self.history.clear()

    async def drop_watches(self, *, hold: bool = False) -> None:
        """End every open watch (an API server restart, a load balancer timeout); with ``hold``, new
        watches wait for :meth:`release_watches` (the client is away while the cluster changes)."""
        if hold:
            self._watches_open.clear()
        self._closing.set()
        await self._notify()
        await asyncio.sleep(0.05)
        self._closing.clear()

    def release_watches(self) -> None:
        self._watches_open.set()

    # -- storage -----------------------------------------------------------------------------------

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _store(self, plural: str, namespace: str, obj: Obj, kind: str) -> Obj:
        self.version += 1
        obj["metadata"]["resourceVersion"] = str(self.version)
        key = (plural, namespace, obj["metadata"]["name"])
        if kind == "DELETED":
            self.objects.pop(key, None)
        else:
            self.objects[key] = obj
        self.history.append(Change(self.version, plural, namespace, kind, copy.deepcopy(obj)))
        await self._notify()
        return obj

    def _only_container(self, namespace: str, pod: str) -> str:
        obj = self.objects[("pods", namespace, pod)]
        return str(obj["spec"]["containers"][0]["name"])

    # -- HTTP ----------------------------------------------------------------------------------------

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        record = [request.method, request.path_qs, 0]  # streams are counted from their start
        self.requests.append(record)
        response = await self._route(request)
        record[2] = response.status
        return response

    async def _route(self, request: web.Request) -> web.StreamResponse:
        path = request.path.strip("/")
        prefix = next((p for p in _PREFIXES if path.startswith(p + "/")), None)
        if prefix is None:
            return status(404, "NotFound", f"the server could not find the requested resource ({path})")
        parts = path[len(prefix) + 1 :].split("/")
        namespace, name, sub = "", None, None
        if parts[0] == "namespaces" and len(parts) >= 3:
            namespace, parts = parts[1], parts[2:]
        plural = parts[0]
        if len(parts) > 1:
            name = parts[1]
        if len(parts) > 2:
            sub = parts[2]
        known = RESOURCES.get(plural)
        if known is None or known[1] != prefix or len(parts) > 3:
            return status(404, "NotFound", f"the server could not find the requested resource ({path})")
        if plural == "namespaces" and name is None and namespace:
            name, namespace = namespace, ""  # /api/v1/namespaces/<name>
        if sub == "log" and plural == "pods" and name:
            return await self._log(request, namespace, name)
        if sub is not None:
            return status(404, "NotFound", f"no subresource {sub}")
        if name is None:
            if request.method == "GET":
                if _flag(request, "watch"):
                    return await self._watch(request, plural, namespace)
                return self._list(request, plural, namespace)
            if request.method == "POST":
                return await self._create(plural, namespace, await request.json())
        else:
            if request.method == "GET":
                found = self.objects.get((plural, namespace, name))
                if found is None:
                    return status(404, "NotFound", f'{plural} "{name}" not found')
                return web.json_response(found)
            if request.method == "PUT":
                return await self._replace(plural, namespace, name, await request.json())
            if request.method == "DELETE":
                return await self._delete(plural, namespace, name)
        return status(405, "MethodNotAllowed", f"{request.method} is not supported here")

    def _list(self, request: web.Request, plural: str, namespace: str) -> web.Response:
        labels = _selector(request.query.get("labelSelector"))
        fields = _selector(request.query.get("fieldSelector"))
        kind = RESOURCES[plural][0]
        items = [
            o
            for (p, ns, _), o in sorted(self.objects.items())
            if p == plural and (not namespace or ns == namespace) and _matches(o, labels, fields)
        ]
        body = {
            "kind": f"{kind}List",
            "apiVersion": "v1",
            "metadata": {"resourceVersion": str(self.version)},
            "items": items,
        }
        return web.json_response(body)

    async def _race(self, plural: str, namespace: str, body: Obj) -> None:
        if self.races <= 0:
            return
        self.races -= 1
        name = body["metadata"]["name"]
        current = self.objects.get((plural, namespace, name))
        other = copy.deepcopy(current or body)
        other["metadata"].pop("resourceVersion", None)
        other["metadata"].setdefault("annotations", {})["test.deis.io/other-writer"] = str(self.version)
        if current is None:
            other["metadata"].update(uid=str(uuid.uuid4()), creationTimestamp=_now(), generation=1)
        await self._store(plural, namespace, other, "MODIFIED" if current else "ADDED")

    async def _create(self, plural: str, namespace: str, body: Obj) -> web.Response:
        self.received.append(copy.deepcopy(body))
        await self._race(plural, namespace, body)
        meta = body.setdefault("metadata", {})
        name = meta.get("name")
        if not name:
            return status(422, "Invalid", "metadata.name: Required value")
        if RESOURCES[plural][2]:
            if ("namespaces", "", namespace) not in self.objects:
                return status(404, "NotFound", f'namespaces "{namespace}" not found')
            if meta.get("namespace", namespace) != namespace:
                return status(400, "BadRequest", "the namespace of the object does not match the request")
            meta["namespace"] = namespace
        if (plural, namespace, name) in self.objects:
            return status(409, "AlreadyExists", f'{plural} "{name}" already exists')
        if meta.get("resourceVersion"):
            return status(422, "Invalid", "resourceVersion should not be set on objects to be created")
        meta.update(uid=str(uuid.uuid4()), creationTimestamp=_now(), generation=1)
        if plural == "services":
            body["spec"].setdefault("clusterIP", f"10.96.0.{len(self.objects) % 250 + 2}")
        if plural == "namespaces":
            body["status"] = {"phase": "Active"}
        if plural == "deployments":
            body["status"] = {}
        if plural == "pods":
            body["status"] = {"phase": "Pending"}
            self._spawn(self._run_pod(namespace, name))
        stored = await self._store(plural, namespace, body, "ADDED")
        if plural == "deployments":
            self._spawn(self._roll(namespace, name))
        return web.json_response(stored, status=201)

    async def _replace(self, plural: str, namespace: str, name: str, body: Obj) -> web.Response:
        self.received.append(copy.deepcopy(body))
        await self._race(plural, namespace, body)
        current = self.objects.get((plural, namespace, name))
        if current is None:
            return status(404, "NotFound", f'{plural} "{name}" not found')
        meta = body.setdefault("metadata", {})
        if meta.get("name") != name:
            return status(400, "BadRequest", "the name of the object does not match the request")
        wanted = meta.get("resourceVersion")
        if wanted and wanted != current["metadata"]["resourceVersion"]:
            message = (
                f'Operation cannot be fulfilled on {plural} "{name}": the object has been modified; '
                "please apply your changes to the latest version and try again"
            )
            return status(409, "Conflict", message)
        if plural == "services":
            ip = body.get("spec", {}).get("clusterIP")
            if ip and ip != current["spec"]["clusterIP"]:
                return status(422, "Invalid", "spec.clusterIP: Invalid value: field is immutable")
            body["spec"]["clusterIP"] = current["spec"]["clusterIP"]
        kept = current["metadata"]
        spec_changed = body.get("spec") != current.get("spec")
        generation = kept.get("generation", 1) + (1 if spec_changed else 0)
        meta.update(
            uid=kept["uid"],
            creationTimestamp=kept["creationTimestamp"],
            generation=generation,
            namespace=kept.get("namespace"),
        )
        if "status" in current:  # status is a subresource: a replace never changes it
            body["status"] = current["status"]
        if not meta.get("namespace"):
            meta.pop("namespace", None)
        stored = await self._store(plural, namespace, body, "MODIFIED")
        if plural == "deployments" and spec_changed:
            self._spawn(self._roll(namespace, name))
        return web.json_response(stored)

    async def _delete(self, plural: str, namespace: str, name: str) -> web.Response:
        current = self.objects.get((plural, namespace, name))
        if current is None:
            return status(404, "NotFound", f'{plural} "{name}" not found')
        if plural == "namespaces":
            for key in [k for k in self.objects if k[1] == name]:
                await self._store(key[0], key[1], self.objects[key], "DELETED")
        if plural == "deployments":
            for pod in self.list("pods", namespace):
                if pod["metadata"].get("annotations", {}).get("test.deis.io/owner") == name:
                    await self._store("pods", namespace, pod, "DELETED")
        await self._store(plural, namespace, current, "DELETED")
        return web.json_response(
            {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": 200}
        )

    async def _watch(self, request: web.Request, plural: str, namespace: str) -> web.StreamResponse:
        await self._watches_open.wait()
        labels = _selector(request.query.get("labelSelector"))
        since = request.query.get("resourceVersion", "")
        timeout = float(request.query.get("timeoutSeconds", "1800"))
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)

        async def send(kind: str, obj: Obj) -> None:
            await response.write(json.dumps({"type": kind, "object": obj}).encode() + b"\n")

        def wanted(change: Change) -> bool:
            return (
                change.plural == plural
                and (not namespace or change.namespace == namespace)
                and _matches(change.obj, labels, {})
            )

        if since not in ("", "0") and int(since) < self.compacted:
            gone = {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Failure",
                "message": f"too old resource version: {since} ({self.compacted})",
                "reason": "Expired",
                "code": 410,
            }
            self.expired_watches += 1
            await send("ERROR", gone)
            return response
        position = int(since) if since not in ("", "0") else self.version
        if since in ("", "0"):
            for (p, ns, _), obj in sorted(self.objects.items()):
                if p == plural and (not namespace or ns == namespace) and _matches(obj, labels, {}):
                    await send("ADDED", obj)
        deadline = time.monotonic() + timeout
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while not self._closing.is_set():
                for change in [c for c in self.history if c.version > position]:
                    position = change.version
                    if wanted(change):
                        await send(change.type, change.obj)
                async with self._changed:
                    if self.version == position and not self._closing.is_set():
                        remaining = deadline - time.monotonic()
                        if remaining <= 0:
                            break
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(self._changed.wait(), remaining)
                if self.version > position and not any(c.version > position for c in self.history):
                    position = self.version  # compacted while we waited: nothing left to replay
        return response

    async def _log(self, request: web.Request, namespace: str, pod: str) -> web.StreamResponse:
        obj = self.objects.get(("pods", namespace, pod))
        if obj is None:
            return status(404, "NotFound", f'pods "{pod}" not found')
        name = request.query.get("container") or self._only_container(namespace, pod)
        box = self.containers.get((namespace, pod, name))
        if box is None:
            return status(400, "BadRequest", f"container {name} is not valid for pod {pod}")
        follow = _flag(request, "follow")
        stamps = _flag(request, "timestamps")
        since_seconds = request.query.get("sinceSeconds")
        start_ns = time.time_ns() - int(since_seconds) * 1_000_000_000 if since_seconds else 0
        tail = request.query.get("tailLines")
        instance = box.restarts

        def selected() -> list[LogLine]:
            return [line for line in box.lines if line.instance == instance and line.ns >= start_ns]

        def render(line: LogLine) -> str:
            return (f"{rfc3339nano(line.ns)} " if stamps else "") + line.text + "\n"

        initial = selected()
        sent = len(initial) - (min(int(tail), len(initial)) if tail is not None else len(initial))
        if not follow:
            return web.Response(text="".join(render(line) for line in initial[sent:]))
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        await response.prepare(request)
        with contextlib.suppress(ConnectionResetError):
            while not self._closing.is_set():
                for line in selected()[sent:]:
                    await response.write(render(line).encode())
                    sent += 1
                # the container was restarted or its pod is gone: this container's stream ends
                if box.restarts != instance or ("pods", namespace, pod) not in self.objects:
                    break
                async with self._changed:
                    if len(selected()) == sent and not self._closing.is_set():
                        await self._changed.wait()
        return response

    # -- the toy controller manager and kubelet ------------------------------------------------------

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro, name="kube-api-server:controller")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _roll(self, namespace: str, name: str) -> None:
        await asyncio.sleep(self.ready_delay)
        deployment = self.objects.get(("deployments", namespace, name))
        if deployment is None:
            return
        spec, meta = deployment["spec"], deployment["metadata"]
        template = spec["template"]
        digest = podnames.template_hash(json.dumps(template, sort_keys=True))  # a ReplicaSet per template
        replicas = spec.get("replicas", 1)
        ready = self.pod_behaviour == "ready"
        owned = [
            p
            for p in self.list("pods", namespace)
            if p["metadata"].get("annotations", {}).get("test.deis.io/owner") == name
        ]
        current = [p for p in owned if p["metadata"]["labels"].get("pod-template-hash") == digest]
        for pod in owned:
            if pod not in current and ready:  # old pods go once the new ones are ready
                await self._store("pods", namespace, pod, "DELETED")
        for pod in current[replicas:]:
            await self._store("pods", namespace, pod, "DELETED")
        for _ in range(replicas - len(current)):
            await self._add_pod(namespace, name, template, digest)
        available = replicas if ready else 0
        deployment = self.objects.get(("deployments", namespace, name))
        if deployment is None:
            return
        deployment["status"] = {
            "observedGeneration": meta["generation"],
            "replicas": replicas,
            "updatedReplicas": replicas,
            "readyReplicas": available,
            "availableReplicas": available,
            **({"unavailableReplicas": replicas - available} if replicas - available else {}),
        }
        await self._store("deployments", namespace, deployment, "MODIFIED")

    async def _add_pod(self, namespace: str, owner: str, template: Obj, digest: str) -> None:
        pod_name = f"{owner}-{digest}-{podnames.suffix()}"
        containers = template["spec"]["containers"]
        pod = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": pod_name,
                "namespace": namespace,
                "uid": str(uuid.uuid4()),
                "creationTimestamp": _now(),
                "labels": {**template["metadata"]["labels"], "pod-template-hash": digest},
                "annotations": {"test.deis.io/owner": owner},
            },
            "spec": copy.deepcopy(template["spec"]),
            "status": self._pod_status(containers),
        }
        for container in containers:
            self.containers[(namespace, pod_name, container["name"])] = Container()
        await self._store("pods", namespace, pod, "ADDED")
        for text in self.startup_output:
            await self.write_log(namespace, pod_name, text)
        if self.pod_behaviour == "never-ready":
            await self._event(namespace, pod_name, "Unhealthy", "Readiness probe failed: connection refused")

    async def _event(self, namespace: str, pod: str, reason: str, message: str) -> None:
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{pod}.{uuid.uuid4().hex[:12]}", "namespace": namespace},
            "involvedObject": {"kind": "Pod", "name": pod, "namespace": namespace},
            "reason": reason,
            "message": message,
            "type": "Warning",
            "lastTimestamp": _now(),
        }
        await self._store("events", namespace, event, "ADDED")

    def _pod_status(self, containers: list[Obj]) -> Obj:
        ready = self.pod_behaviour == "ready"
        waiting = {"crash": "CrashLoopBackOff", "pull-error": "ImagePullBackOff"}.get(self.pod_behaviour)
        statuses = []
        for container in containers:
            state: Obj = (
                {"waiting": {"reason": waiting, "message": f"back-off: {waiting}"}}
                if waiting
                else {"running": {"startedAt": _now()}}
            )
            statuses.append(
                {
                    "name": container["name"],
                    "image": container["image"],
                    "imageID": "",
                    "containerID": f"containerd://{uuid.uuid4().hex}",
                    "ready": ready,
                    "restartCount": 2 if waiting == "CrashLoopBackOff" else 0,
                    "state": state,
                }
            )
        return {
            "phase": "Pending" if waiting == "ImagePullBackOff" else "Running",
            "startTime": _now(),
            "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
            "containerStatuses": statuses,
        }

    async def _run_pod(self, namespace: str, name: str) -> None:
        pod = self.objects.get(("pods", namespace, name))
        if pod is None:
            return
        for container in pod["spec"]["containers"]:
            self.containers[(namespace, name, container["name"])] = Container()
        await asyncio.sleep(self.ready_delay)
        for text in self.run_output.splitlines():
            await self.write_log(namespace, name, text)
        pod = self.objects.get(("pods", namespace, name))
        if pod is None:
            return
        code = self.run_exit_code
        pod["status"] = {
            "phase": "Succeeded" if code == 0 else "Failed",
            "startTime": _now(),
            "containerStatuses": [
                {
                    "name": c["name"],
                    "image": c["image"],
                    "imageID": "",
                    "ready": False,
                    "restartCount": 0,
                    "state": {"terminated": {"exitCode": code, "finishedAt": _now()}},
                }
                for c in pod["spec"]["containers"]
            ],
        }
        await self._store("pods", namespace, pod, "MODIFIED")
