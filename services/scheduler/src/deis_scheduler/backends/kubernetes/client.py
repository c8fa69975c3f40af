"""The Kubernetes API through kubernetes_asyncio: the only module that imports it.

Implements :class:`~deis_scheduler.backends.kubernetes.api.KubeApi` over plain dicts: objects go out as
dicts (the API server accepts JSON bodies) and come back converted with ``sanitize_for_serialization``.
Configuration comes from the settings' API server URL when given, else the in-cluster service account, else
the local kubeconfig.

What the API server answers is part of the contract: 404 on a missing object (``get`` returns None,
``delete`` is done), 409 when an object was created or changed between our read and our write (read again
and retry), 410 Gone when a watch's resourceVersion is too old (list again and resume).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Any

import aiohttp
import structlog
from kubernetes_asyncio import client, config, watch
from kubernetes_asyncio.client.exceptions import ApiException

from deis_scheduler.backends.kubernetes.api import KubeError, Obj

log = structlog.get_logger(__name__)

# kind -> (api class, method suffix, namespaced)
_KINDS: dict[str, tuple[str, str, bool]] = {
    "Namespace": ("CoreV1Api", "namespace", False),
    "Secret": ("CoreV1Api", "namespaced_secret", True),
    "Service": ("CoreV1Api", "namespaced_service", True),
    "Pod": ("CoreV1Api", "namespaced_pod", True),
    "Deployment": ("AppsV1Api", "namespaced_deployment", True),
    "HorizontalPodAutoscaler": ("AutoscalingV2Api", "namespaced_horizontal_pod_autoscaler", True),
}
APPLY_ATTEMPTS = 5
WATCH_SECONDS = 300
RECONNECT_DELAY = 1.0


async def connect(host: str = "") -> KubernetesClient:
    """A client of the API server at ``host`` (a URL), else of the cluster we run in, else kubeconfig's."""
    if host:
        return KubernetesClient(client.ApiClient(client.Configuration(host=host)))
    try:
        config.load_incluster_config()  # type: ignore[no-untyped-call]
    except config.ConfigException:
        await config.load_kube_config()
    return KubernetesClient(client.ApiClient())


def _failed(what: str, e: ApiException) -> KubeError:
    return KubeError(f"{what} failed: {e.status} {e.reason}: {e.body!r}", status=e.status)


def _key(obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta.get('namespace') or ''}/{meta.get('name')}"


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

    def _lister(self, kind: str, namespace: str | None) -> Callable[..., Any]:
        """The list method for ``kind`` in ``namespace`` (every namespace when None)."""
        api, suffix, namespaced = self._api(kind)
        if not namespaced:
            return getattr(api, f"list_{suffix}")  # type: ignore[no-any-return]
        if namespace is None:
            return getattr(api, f"list_{suffix.removeprefix('namespaced_')}_for_all_namespaces")  # type: ignore[no-any-return]
        return partial(getattr(api, f"list_{suffix}"), namespace)

    async def _call(self, kind: str, verb: str, namespace: str | None, *args: Any, **kwargs: Any) -> Any:
        api, suffix, namespaced = self._api(kind)
        method = getattr(api, f"{verb}_{suffix}")
        if namespaced:
            if namespace is None:
                raise KubeError(f"{verb} {kind} needs a namespace")
            # create_namespaced_x(namespace, body); read/replace/delete_namespaced_x(name, namespace, ...)
            args = (*args[:1], namespace, *args[1:]) if verb != "create" else (namespace, *args)
        try:
            return await method(*args, **kwargs)
        except ApiException as e:
            raise _failed(f"{verb} {kind}", e) from e

    async def apply(self, obj: Obj) -> Obj:
        kind, meta = obj["kind"], obj["metadata"]
        namespace, name = meta.get("namespace"), meta["name"]
        for _ in range(APPLY_ATTEMPTS):
            existing = await self.get(kind, namespace, name)
            try:
                if existing is None:
                    return self._plain(await self._call(kind, "create", namespace, obj))
                if kind == "Namespace":  # nothing of it changes; and the scheduler may only create namespaces
                    return existing
                body = dict(obj)
                body["metadata"] = {**meta, "resourceVersion": existing["metadata"]["resourceVersion"]}
                if kind == "Service":  # clusterIP is immutable
                    body["spec"] = {**obj["spec"], "clusterIP": existing["spec"].get("clusterIP")}
                return self._plain(await self._call(kind, "replace", namespace, name, body))
            except KubeError as e:
                if e.status != 409:
                    raise
                log.info("kubernetes.conflict", kind=kind, namespace=namespace, name=name)
        raise KubeError(f"{kind} {name} kept changing while it was written ({APPLY_ATTEMPTS} conflicts)", 409)

    async def get(self, kind: str, namespace: str | None, name: str) -> Obj | None:
        try:
            return self._plain(await self._call(kind, "read", namespace, name))
        except KubeError as e:
            if e.status == 404:
                return None
            raise

    async def select(self, kind: str, namespace: str | None, selector: dict[str, str]) -> list[Obj]:
        label_selector = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        try:
            result = await self._lister(kind, namespace)(label_selector=label_selector)
        except ApiException as e:
            raise _failed(f"list {kind}", e) from e
        return [self._plain(item) for item in result.items]

    async def delete(self, kind: str, namespace: str | None, name: str) -> None:
        try:
            await self._call(kind, "delete", namespace, name)
        except KubeError as e:
            if e.status != 404:
                raise

    async def wait_changed(self, kind: str, namespace: str, selector: dict[str, str], timeout: float) -> None:
        lister = self._lister(kind, namespace)
        label_selector = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        try:
            listing = await lister(label_selector=label_selector)
        except ApiException as e:
            raise _failed(f"list {kind} in {namespace}", e) from e
        stream = watch.Watch()
        try:
            async with asyncio.timeout(timeout):
                async for _ in stream.stream(
                    lister,
                    label_selector=label_selector,
                    resource_version=listing.metadata.resource_version,
                    timeout_seconds=max(1, int(timeout)),
                ):
                    return
        except TimeoutError:
            return
        except ApiException as e:
            if e.status == 410:  # expired between our list and our watch: something changed, look again
                return
            raise _failed(f"watching {kind} in {namespace}", e) from e
        finally:
            await stream.close()

    async def watch(
        self, kind: str, namespace: str | None, selector: dict[str, str]
    ) -> AsyncIterator[tuple[str, Obj]]:
        lister = self._lister(kind, namespace)
        label_selector = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        known: dict[str, str] = {}  # object -> the resourceVersion last reported
        version: str | None = None
        while True:
            try:
                if version is None:
                    listing = await lister(label_selector=label_selector)
                    version = listing.metadata.resource_version
                    seen: dict[str, Obj] = {}
                    for item in listing.items:
                        obj = self._plain(item)
                        seen[_key(obj)] = obj
                    for key in [k for k in known if k not in seen]:
                        namespace_, _, name = key.partition("/")
                        known.pop(key)
                        yield "DELETED", {"metadata": {"namespace": namespace_, "name": name}}
                    for key, obj in seen.items():
                        rv = obj["metadata"].get("resourceVersion", "")
                        if known.get(key) != rv:
                            change = "MODIFIED" if key in known else "ADDED"
                            known[key] = rv
                            yield change, obj
                stream = watch.Watch()
                try:
                    async for event in stream.stream(
                        lister,
                        label_selector=label_selector,
                        resource_version=version,
                        timeout_seconds=WATCH_SECONDS,
                    ):
                        change, obj = event["type"], event["raw_object"]
                        version = obj["metadata"].get("resourceVersion", version)
                        key = _key(obj)
                        if change == "BOOKMARK":
                            continue
                        if change == "DELETED":
                            if known.pop(key, None) is None:
                                continue
                        elif known.get(key) == version:
                            continue
                        else:
                            known[key] = str(version)
                        yield change, obj
                finally:
                    await stream.close()
            except ApiException as e:
                if e.status != 410:
                    raise _failed(f"watching {kind}", e) from e
                log.info("kubernetes.watch_expired", kind=kind, namespace=namespace)
                version = None  # too old to resume: list again, report only what changed
            except (aiohttp.ClientError, TimeoutError) as e:
                log.warning("kubernetes.watch_lost", kind=kind, namespace=namespace, error=str(e))
                await asyncio.sleep(RECONNECT_DELAY)

    async def follow_logs(
        self, namespace: str, pod: str, container: str, since_seconds: int | None = None
    ) -> AsyncIterator[str]:
        api = client.CoreV1Api(self.api_client)
        kwargs: dict[str, Any] = {"container": container, "follow": True, "timestamps": True}
        if since_seconds is not None:
            kwargs["since_seconds"] = max(1, since_seconds)
        try:
            response: Any = await api.read_namespaced_pod_log(
                pod, namespace, _preload_content=False, **kwargs
            )
        except ApiException as e:
            raise _failed(f"following the logs of {pod}", e) from e
        except (aiohttp.ClientError, TimeoutError) as e:
            raise KubeError(f"cannot follow the logs of {pod}: {e}") from e
        buffer = b""
        try:
            async for chunk in response.content.iter_any():
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    yield line.decode(errors="replace")
            if buffer:
                yield buffer.decode(errors="replace")
        except aiohttp.ClientError as e:
            raise KubeError(f"the log stream of {pod} broke: {e}") from e
        finally:
            with contextlib.suppress(Exception):
                response.release()

    async def logs(self, namespace: str, pod: str, tail_lines: int | None = None) -> str:
        api = client.CoreV1Api(self.api_client)
        kwargs: dict[str, Any] = {"tail_lines": tail_lines} if tail_lines else {}
        try:
            return str(await api.read_namespaced_pod_log(pod, namespace, **kwargs))
        except ApiException as e:
            raise _failed(f"reading the logs of {pod}", e) from e

    async def events(self, namespace: str, name: str) -> list[str]:
        api = client.CoreV1Api(self.api_client)
        try:
            result = await api.list_namespaced_event(namespace, field_selector=f"involvedObject.name={name}")
        except ApiException as e:
            raise _failed(f"reading the events of {name}", e) from e
        items = sorted(result.items, key=lambda ev: str(ev.last_timestamp or ev.event_time or ""))
        return [f"{ev.reason}: {ev.message}" for ev in items]

    async def close(self) -> None:
        await self.api_client.close()
