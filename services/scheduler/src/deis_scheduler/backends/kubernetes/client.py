"""The Kubernetes API through kubernetes_asyncio: the only module that imports it.

Implements :class:`~deis_scheduler.backends.kubernetes.api.KubeApi` over plain dicts: objects go out as
dicts (the API server accepts JSON bodies) and come back converted with ``sanitize_for_serialization``.
Configuration comes from the in-cluster service account, else the local kubeconfig.
"""

from __future__ import annotations

import asyncio
from typing import Any

from kubernetes_asyncio import client, config, watch
from kubernetes_asyncio.client.exceptions import ApiException

from deis_scheduler.backends.kubernetes.api import KubeError, Obj

# kind -> (api class, method suffix, namespaced)
_KINDS: dict[str, tuple[str, str, bool]] = {
    "Namespace": ("CoreV1Api", "namespace", False),
    "Secret": ("CoreV1Api", "namespaced_secret", True),
    "Service": ("CoreV1Api", "namespaced_service", True),
    "Pod": ("CoreV1Api", "namespaced_pod", True),
    "Deployment": ("AppsV1Api", "namespaced_deployment", True),
    "HorizontalPodAutoscaler": ("AutoscalingV2Api", "namespaced_horizontal_pod_autoscaler", True),
}


async def connect() -> KubernetesClient:
    try:
        config.load_incluster_config()  # type: ignore[no-untyped-call]
    except config.ConfigException:
        await config.load_kube_config()
    return KubernetesClient(client.ApiClient())


class KubernetesClient:
    def __init__(self, api_client: client.ApiClient) -> None:
        self.api_client = api_client

    def _api(self, kind: str) -> tuple[Any, str, bool]:
        try:
            api_name, suffix, namespaced = _KINDS[kind]
        except KeyError:
            raise KubeError(f"the scheduler does not manage {kind} objects") from None
        return getattr(client, api_name)(self.api_client), suffix, namespaced

    def _plain(self, obj: Any) -> Obj:
        result: Obj = self.api_client.sanitize_for_serialization(obj)
        return result

    async def _call(self, kind: str, verb: str, namespace: str | None, *args: Any, **kwargs: Any) -> Any:
        api, suffix, namespaced = self._api(kind)
        method = getattr(api, f"{verb}_{suffix}")
        if namespaced:
            args = (
                (*args[:1], namespace, *args[1:])
                if verb in ("read", "replace", "delete")
                else (namespace, *args)
            )
        try:
            return await method(*args, **kwargs)
        except ApiException as e:
            raise KubeError(f"{verb} {kind} failed: {e.status} {e.reason}: {e.body!r}") from e

    async def apply(self, obj: Obj) -> Obj:
        kind, meta = obj["kind"], obj["metadata"]
        namespace = meta.get("namespace")
        existing = await self.get(kind, namespace, meta["name"])
        if existing is None:
            return self._plain(await self._call(kind, "create", namespace, obj))
        if kind == "Namespace":  # nothing of it changes; and the scheduler may only create namespaces
            return existing
        body = dict(obj)
        body["metadata"] = {**meta, "resourceVersion": existing["metadata"]["resourceVersion"]}
        if kind == "Service":  # clusterIP is immutable
            body["spec"] = {**obj["spec"], "clusterIP": existing["spec"].get("clusterIP")}
        return self._plain(await self._call(kind, "replace", namespace, meta["name"], body))

    async def get(self, kind: str, namespace: str | None, name: str) -> Obj | None:
        try:
            return self._plain(await self._call(kind, "read", namespace, name))
        except KubeError as e:
            if isinstance(e.__cause__, ApiException) and e.__cause__.status == 404:
                return None
            raise

    async def select(self, kind: str, namespace: str | None, selector: dict[str, str]) -> list[Obj]:
        label_selector = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        result = await self._call(kind, "list", namespace, label_selector=label_selector)
        return [self._plain(item) for item in result.items]

    async def delete(self, kind: str, namespace: str | None, name: str) -> None:
        try:
            await self._call(kind, "delete", namespace, name)
        except KubeError as e:
            if not (isinstance(e.__cause__, ApiException) and e.__cause__.status == 404):
                raise

    async def wait_changed(self, kind: str, namespace: str, selector: dict[str, str], timeout: float) -> None:
        api, suffix, _ = self._api(kind)
        list_objects = getattr(api, f"list_{suffix}")
        label_selector = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        try:
            listing = await list_objects(namespace, label_selector=label_selector)
        except ApiException as e:
            raise KubeError(f"cannot watch {kind} in {namespace}: {e.status} {e.reason}") from e
        stream = watch.Watch()
        try:
            async with asyncio.timeout(timeout):
                async for _ in stream.stream(
                    list_objects,
                    namespace,
                    label_selector=label_selector,
                    resource_version=listing.metadata.resource_version,
                    timeout_seconds=max(1, int(timeout)),
                ):
                    return
        except TimeoutError:
            return
        except ApiException as e:
            raise KubeError(f"watching {kind} in {namespace} failed: {e.status} {e.reason}") from e
        finally:
            stream.stop()

    async def logs(self, namespace: str, pod: str, tail_lines: int | None = None) -> str:
        api = client.CoreV1Api(self.api_client)
        kwargs: dict[str, Any] = {"tail_lines": tail_lines} if tail_lines else {}
        try:
            return str(await api.read_namespaced_pod_log(pod, namespace, **kwargs))
        except ApiException as e:
            raise KubeError(f"cannot read the logs of {pod}: {e.status} {e.reason}") from e

    async def events(self, namespace: str, name: str) -> list[str]:
        api = client.CoreV1Api(self.api_client)
        try:
            result = await api.list_namespaced_event(namespace, field_selector=f"involvedObject.name={name}")
        except ApiException as e:
            raise KubeError(f"cannot read events of {name}: {e.status} {e.reason}") from e
        items = sorted(result.items, key=lambda ev: str(ev.last_timestamp or ev.event_time or ""))
        return [f"{ev.reason}: {ev.message}" for ev in items]

    async def close(self) -> None:
        await self.api_client.close()
