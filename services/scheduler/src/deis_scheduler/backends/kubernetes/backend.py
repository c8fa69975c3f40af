"""The kubernetes backend: a desired state becomes Deployments that Kubernetes rolls out (ARCHITECTURE §7).

A deploy writes the release's env Secret, one Deployment per process type (a new template per release, so
Kubernetes rolls pods with maxUnavailable 0: old pods serve until new ones are ready), the app Service for
the routable type and HPAs for autoscaled types, then watches the Deployments until they are available and
reports the Service as the endpoint. Pending pods that cannot start (image pulls, scheduling, crash loops) and
an expired deploy timeout fail the deploy with the cluster's messages. Retiring removes Secrets of older
releases; Kubernetes itself retires the old pods.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import UTC, datetime
from typing import Any

from deis_common.events.state import AppState, ProcessInfo
from deis_common.podnames import suffix
from deis_common.settings import ServiceSettings
from deis_scheduler.backends.base import DeployError, EventSink, Rollout, RunResult, Selector
from deis_scheduler.backends.kubernetes import manifests
from deis_scheduler.backends.kubernetes.api import KubeApi, KubeError, Obj
from deis_scheduler.backends.kubernetes.podwatch import PodWatch
from deis_scheduler.desired import DesiredStateError, is_routable
from deis_scheduler.settings import KubernetesSettings, RegistrySettings

POD_FAILURES = (
    "ErrImagePull",
    "ImagePullBackOff",
    "InvalidImageName",
    "CrashLoopBackOff",
    "CreateContainerConfigError",
)
REGISTRY_SECRET = "deis-registry"


class KubernetesBackend:
    heals_itself = True
    autoscales_itself = True  # an HPA per autoscaled type (manifests.hpa)

    def __init__(
        self,
        settings: KubernetesSettings,
        service: ServiceSettings,
        api: KubeApi | None = None,
        registry: RegistrySettings | None = None,
        sink: EventSink | None = None,
    ) -> None:
        self.settings = settings
        self.store = service.store
        self.registry = registry or RegistrySettings()
        self.sink = sink
        self._api = api
        self._pods: PodWatch | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def api(self) -> KubeApi:
        if self._api is None:
            raise RuntimeError("the Kubernetes client connects when the backend starts")
        return self._api

    async def start(self) -> None:
        if self._api is None:
            from deis_scheduler.backends.kubernetes.client import connect

            self._api = await connect(self.settings.api_server)
        if self.sink is not None:
            self._pods = PodWatch(self._api, self.sink)
            self._task = asyncio.create_task(self._pods.run(), name="scheduler:kubernetes-pods")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._pods is not None:
            await self._pods.close()
        if self._api is not None:
            await self._api.close()

    def remembered(self) -> dict[str, AppState]:
        return {}  # the cluster keeps the state; the controller snapshot restores the generations

    def remember(self, state: AppState) -> None:
        return None

    # -- deploy ----------------------------------------------------------------------------------

    def _in_platform_registry(self, state: AppState) -> bool:
        host = self.registry.host
        location = state.build.location if state.build else ""
        return bool(host) and location.startswith((host + "/", (self.registry.pull_host or host) + "/"))

    def _pull_secrets(self, state: AppState) -> list[Obj]:
        """The imagePullSecrets the release's pods need: the platform registry's keys for its images, the
        app's own (``deis registry:set``) for an image from anywhere else."""
        if state.build is None or state.build.kind == "buildpack":
            return []
        if self._in_platform_registry(state):
            if not self.registry.username:
                return []
            return [manifests.registry_secret(state.app, REGISTRY_SECRET, self.registry)]
        private = manifests.private_registry_secret(state)
        return [private] if private else []

    def _runnable(self, state: AppState) -> AppState:
        """The state with its image as nodes pull it (through the registry's pull host)."""
        build = state.build
        if build is None or build.kind == "buildpack":
            return state
        location = manifests.pull_location(build.location, self.registry)
        return state.model_copy(update={"build": build.model_copy(update={"location": location})})

    def _support(self, state: AppState, pull_secrets: list[Obj]) -> list[Obj]:
        """What every pod of the release needs first: namespace, env Secret, store and registry keys
        (``pull_secrets``, from :meth:`_pull_secrets`)."""
        objects: list[Obj] = [manifests.namespace(state.app)]
        if state.build is None:
            return objects
        objects.append(manifests.env_secret(state))
        if state.build.kind == "buildpack":
            objects.append(manifests.store_secret(state.app, self.settings.store_secret, self.store))
        objects += pull_secrets
        return objects

    def _objects(self, state: AppState, restarted: dict[str, str]) -> list[Obj]:
        secrets = self._pull_secrets(state)
        objects = self._support(state, secrets)
        if state.build is None:
            return objects
        pull_secrets = [s["metadata"]["name"] for s in secrets]
        for ptype in sorted(state.structure):
            objects.append(
                manifests.deployment(
                    state,
                    ptype,
                    self.settings,
                    self.store,
                    restarted_at=restarted.get(ptype),
                    pull_secrets=pull_secrets,
                )
            )
            if is_routable(ptype) and state.structure[ptype] > 0:
                objects.append(manifests.service(state, ptype))
            if ptype in state.autoscale:
                objects.append(manifests.autoscaler(state, ptype))
        return objects

    async def deploy(self, state: AppState, *, replace: Selector | None = None, timeout: float) -> Rollout:
        restarted: dict[str, str] = {}
        if replace is not None:
            now = datetime.now(UTC).isoformat()
            restarted = {p.type: now for p in await self.processes(state.app) if replace(p)}
        state = self._runnable(state)
        try:
            objects = self._objects(state, restarted)
        except DesiredStateError as e:
            raise DeployError(str(e)) from e
        try:
            for obj in objects:
                await self.api.apply(obj)
            await self._remove_dropped_types(state)
            await self._wait_available(state, timeout)
        except KubeError as e:
            raise DeployError(str(e)) from e
        routable = [t for t, n in state.structure.items() if is_routable(t) and n > 0 and state.build]
        return Rollout(
            app=state.app,
            generation=state.generation,
            version=state.version,
            endpoints=[f"{state.app}.{state.app}.svc.cluster.local:80"] if routable else [],
            processes=await self.processes(state.app),
        )

    async def _remove_dropped_types(self, state: AppState) -> None:
        for deployment in await self.api.select("Deployment", state.app, manifests.labels(state.app)):
            ptype = deployment["metadata"]["labels"].get("type")
            if ptype and (state.build is None or ptype not in state.structure):
                await self.api.delete("Deployment", state.app, deployment["metadata"]["name"])
                await self.api.delete("HorizontalPodAutoscaler", state.app, deployment["metadata"]["name"])
        if not any(is_routable(t) and n > 0 for t, n in state.structure.items()) or state.build is None:
            await self.api.delete("Service", state.app, state.app)
        # `autoscale:unset`: the type stays, its HPA goes (else it would keep scaling the Deployment)
        for hpa in await self.api.select("HorizontalPodAutoscaler", state.app, manifests.labels(state.app)):
            ptype = hpa["metadata"]["labels"].get("type")
            if ptype and ptype not in state.autoscale:
                await self.api.delete("HorizontalPodAutoscaler", state.app, hpa["metadata"]["name"])

    async def _wait_available(self, state: AppState, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        names = [f"{state.app}-{t}" for t in sorted(state.structure)] if state.build else []
        while True:
            pending = []
            for name in names:
                obj = await self.api.get("Deployment", state.app, name)
                if obj is None or not _available(obj):
                    pending.append(name)
            if not pending:
                return
            failure = await self._pod_failure(state)
            if failure:
                raise DeployError(failure, await self._log_tail(state))
            if time.monotonic() > deadline:
                # probe failures are events about the pods, not about their Deployment
                events = []
                for pod in await self._pods_of(state):
                    events += [
                        e
                        for e in await self.api.events(state.app, pod["metadata"]["name"])
                        if "Unhealthy" in e
                    ]
                reason = f"{', '.join(pending)} of v{state.version} did not become ready within {timeout:g}s"
                raise DeployError("; ".join([reason, *events[-3:]]), await self._log_tail(state))
            # Deployment status changes come through a watch; pod failures are checked at least every poll.
            await self.api.wait_changed(
                "Deployment",
                state.app,
                manifests.labels(state.app),
                min(self.settings.poll_interval, max(0.0, deadline - time.monotonic())),
            )

    async def _pods_of(self, state: AppState) -> list[Obj]:
        """The pods of the release being deployed."""
        selector = manifests.labels(state.app, version=f"v{state.version}")
        return [
            p
            for p in await self.api.select("Pod", state.app, selector)
            if p["metadata"].get("labels", {}).get("type") != "run"
        ]

    async def _pod_failure(self, state: AppState) -> str | None:
        for pod in await self._pods_of(state):
            status = pod.get("status", {})
            for condition in status.get("conditions", []):
                if condition.get("reason") == "Unschedulable":
                    return f"{pod['metadata']['name']} cannot be scheduled: {condition.get('message', '')}"
            for cs in status.get("containerStatuses", []):
                waiting = cs.get("state", {}).get("waiting") or {}
                if waiting.get("reason") in POD_FAILURES:
                    message = waiting.get("message", "")
                    return f"{pod['metadata']['name']}: {waiting['reason']}: {message}".strip()
        return None

    async def _log_tail(self, state: AppState) -> list[str]:
        for pod in await self._pods_of(state):
            try:
                return (await self.api.logs(state.app, pod["metadata"]["name"], 20)).splitlines()[-20:]
            except KubeError:
                return []
        return []

    async def retire(self, rollout: Rollout) -> None:
        current = f"v{rollout.version}"
        for secret in await self.api.select("Secret", rollout.app, manifests.labels(rollout.app, "env")):
            if secret["metadata"].get("labels", {}).get("version") != current:
                await self.api.delete("Secret", rollout.app, secret["metadata"]["name"])

    async def destroy(self, app: str) -> None:
        await self.api.delete("Namespace", None, app)

    # -- queries ---------------------------------------------------------------------------------

    async def processes(self, app: str) -> list[ProcessInfo]:
        pods = await self.api.select("Pod", app, manifests.labels(app))
        return sorted(
            (_process_info(p) for p in pods if p["metadata"].get("labels", {}).get("type") != "run"),
            key=lambda p: (p.type, p.name),
        )

    async def cpu_seconds(self, app: str) -> dict[str, float]:
        return {}  # the cluster's metrics feed its HPAs

    async def apps(self) -> set[str]:
        return {
            ns["metadata"]["name"] for ns in await self.api.select("Namespace", None, {"heritage": "deis"})
        }

    async def run(self, state: AppState, command: str, timeout: float) -> RunResult:
        name = f"{state.app}-run-{suffix()}"
        state = self._runnable(state)
        secrets = self._pull_secrets(state)
        try:
            pod = manifests.run_pod(
                state,
                name,
                command,
                self.settings,
                self.store,
                pull_secrets=[s["metadata"]["name"] for s in secrets],
            )
            for obj in [*self._support(state, secrets), pod]:
                await self.api.apply(obj)
        except (DesiredStateError, KubeError) as e:
            raise DeployError(str(e)) from e
        deadline = time.monotonic() + timeout
        try:
            while True:
                code = _exit_code(await self.api.get("Pod", state.app, name))
                if code is not None:
                    return RunResult(exit_code=code, output=await self.api.logs(state.app, name))
                if time.monotonic() > deadline:
                    output = await self.api.logs(state.app, name)
                    return RunResult(exit_code=124, output=output + f"\nkilled after {timeout:g}s\n")
                await asyncio.sleep(self.settings.poll_interval)
        finally:
            await self.api.delete("Pod", state.app, name)


def _available(deployment: Obj) -> bool:
    spec, status = deployment.get("spec", {}), deployment.get("status", {})
    meta = deployment.get("metadata", {})
    want = spec.get("replicas", 1)
    if status.get("observedGeneration", 0) < meta.get("generation", 0):
        return False
    return bool(
        status.get("replicas", 0) == want
        and status.get("updatedReplicas", 0) == want
        and status.get("availableReplicas", 0) == want
        and not status.get("unavailableReplicas")
    )


def _exit_code(pod: Obj | None) -> int | None:
    if pod is None:
        return 1
    status: dict[str, Any] = pod.get("status", {})
    if status.get("phase") == "Succeeded":
        return 0
    for cs in status.get("containerStatuses", []):
        terminated = cs.get("state", {}).get("terminated")
        if terminated:
            return int(terminated.get("exitCode", 1))
    if status.get("phase") == "Failed":
        return 1
    return None


_PHASES = {"Pending": "starting", "Succeeded": "down", "Failed": "error", "Unknown": "error"}


def _process_info(pod: Obj) -> ProcessInfo:
    meta, status = pod["metadata"], pod.get("status", {})
    labels = meta.get("labels", {})
    statuses = status.get("containerStatuses", [])
    restarts = sum(int(cs.get("restartCount", 0)) for cs in statuses)
    if meta.get("deletionTimestamp"):
        state = "terminating"
    elif any(
        (cs.get("state", {}).get("waiting") or {}).get("reason") == "CrashLoopBackOff" for cs in statuses
    ):
        state = "crashed"
    elif status.get("phase") == "Running":
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True" for c in status.get("conditions", [])
        )
        state = "up" if ready else "starting"
    else:
        state = _PHASES.get(status.get("phase", "Pending"), "starting")
    started = status.get("startTime")
    return ProcessInfo(
        name=meta["name"],
        type=labels.get("type", ""),
        release=labels.get("version", ""),
        state=state,
        started=datetime.fromisoformat(started.replace("Z", "+00:00")) if started else None,
        restarts=restarts,
    )
