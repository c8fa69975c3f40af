"""The scheduler's Kubernetes client (kubernetes_asyncio) over HTTP against the test API server: what the
API server answers (404, 409, 410) and how the client copes, watches and log streams."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from deis_scheduler.backends.kubernetes.api import KubeError, Obj
from deis_scheduler.backends.kubernetes.client import KubernetesClient
from tests.scheduler.kube_server import KubeApiServer


def namespace(name: str = "shop") -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": name, "labels": {"heritage": "deis"}},
    }


def secret(value: str, name: str = "shop-v1-env") -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": name, "namespace": "shop", "labels": {"app": "shop", "heritage": "deis"}},
        "data": {"value": value},
    }


def pod(name: str) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "shop", "labels": {"app": "shop", "heritage": "deis"}},
        "spec": {"containers": [{"name": "main", "image": "busybox"}], "restartPolicy": "Never"},
    }


async def next_changes(changes: AsyncIterator[tuple[str, Obj]], count: int) -> list[tuple[str, str]]:
    out = []
    async with asyncio.timeout(5):
        for _ in range(count):
            change, obj = await anext(changes)
            out.append((change, obj["metadata"]["name"]))
    return out


async def test_applying_creates_then_replaces_and_reads_back_what_the_server_stored(
    kube: KubernetesClient, kube_server: KubeApiServer
) -> None:
    await kube.apply(namespace())
    created = await kube.apply(secret("b25l"))
    replaced = await kube.apply(secret("dHdv"))

    assert created["metadata"]["uid"] == replaced["metadata"]["uid"]
    assert int(replaced["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    stored = kube_server.get("secrets", "shop", "shop-v1-env")
    assert stored is not None and stored["data"] == {"value": "dHdv"}
    read = await kube.get("Secret", "shop", "shop-v1-env")
    assert read is not None and read["data"] == stored["data"]
    assert read["metadata"]["resourceVersion"] == stored["metadata"]["resourceVersion"]


async def test_a_write_that_loses_a_race_reads_again_and_wins(
    kube: KubernetesClient, kube_server: KubeApiServer
) -> None:
    await kube.apply(namespace())
    kube_server.races = 1  # someone creates it between our read and our create: 409 AlreadyExists
    await kube.apply(secret("b25l"))
    kube_server.races = 2  # and changes it twice between our reads and our replaces: 409 Conflict
    await kube.apply(secret("dHdv"))

    assert kube_server.count("POST", "/secrets", 409) == 1
    assert kube_server.count("PUT", "/secrets/shop-v1-env", 409) == 2
    stored = kube_server.get("secrets", "shop", "shop-v1-env")
    assert stored is not None and stored["data"] == {"value": "dHdv"}


async def test_a_write_that_keeps_losing_fails_with_the_conflict(
    kube: KubernetesClient, kube_server: KubeApiServer
) -> None:
    await kube.apply(namespace())
    await kube.apply(secret("b25l"))
    kube_server.races = 100

    with pytest.raises(KubeError, match="kept changing") as failure:
        await kube.apply(secret("dHdv"))
    assert failure.value.status == 409


async def test_a_service_keeps_its_cluster_ip_across_replaces(
    kube: KubernetesClient, kube_server: KubeApiServer
) -> None:
    await kube.apply(namespace())
    service: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "shop", "namespace": "shop"},
        "spec": {"selector": {"app": "shop"}, "ports": [{"port": 80, "targetPort": 5000}]},
    }
    first = await kube.apply(service)
    service["spec"]["ports"] = [{"port": 80, "targetPort": 8080}]
    second = await kube.apply(service)

    assert second["spec"]["clusterIP"] == first["spec"]["clusterIP"]
    assert second["spec"]["ports"][0]["targetPort"] == 8080
    assert kube_server.count("PUT", "/services/shop", 422) == 0


async def test_missing_objects_read_as_none_and_delete_as_done(
    kube: KubernetesClient, kube_server: KubeApiServer
) -> None:
    await kube.apply(namespace())

    assert await kube.get("Deployment", "shop", "shop-web") is None
    await kube.delete("HorizontalPodAutoscaler", "shop", "shop-web")
    await kube.delete("Namespace", None, "gone")

    assert kube_server.count("GET", "/deployments/shop-web", 404) == 1
    assert kube_server.count("DELETE", "/horizontalpodautoscalers/shop-web", 404) == 1
    assert kube_server.count("DELETE", "/namespaces/gone", 404) == 1


async def test_other_refusals_are_errors_with_their_status(kube: KubernetesClient) -> None:
    with pytest.raises(KubeError) as failure:
        await kube.apply(secret("b25l"))  # its namespace does not exist

    assert failure.value.status == 404


async def test_a_watch_reports_each_change_once_across_reconnects_and_expiry(
    kube: KubernetesClient, kube_server: KubeApiServer
) -> None:
    kube_server.ready_delay = 60  # the pods stay as created: every change is the test's
    await kube.apply(namespace())
    await kube.apply(pod("a"))
    await kube.apply(pod("c"))
    changes = kube.watch("Pod", None, {"heritage": "deis"})
    try:
        assert await next_changes(changes, 2) == [("ADDED", "a"), ("ADDED", "c")]

        await kube.apply(pod("b"))
        assert await next_changes(changes, 1) == [("ADDED", "b")]
        await kube_server.drop_watches()  # resumed from the last resourceVersion: nothing replayed
        await kube.delete("Pod", "shop", "b")
        assert await next_changes(changes, 1) == [("DELETED", "b")]

        # While nobody watches, a changes, d appears, c goes, and the history is compacted away:
        # the resumed watch gets 410 Gone, lists again and reports exactly those three changes.
        await kube_server.drop_watches(hold=True)
        task = asyncio.create_task(next_changes(changes, 3))
        await kube.apply({**pod("a"), "metadata": {**pod("a")["metadata"], "annotations": {"x": "1"}}})
        await kube.apply(pod("d"))
        await kube.delete("Pod", "shop", "c")
        kube_server.compact()
        kube_server.release_watches()
        assert sorted(await task) == [("ADDED", "d"), ("DELETED", "c"), ("MODIFIED", "a")]
        assert kube_server.expired_watches == 1

        await kube.apply(pod("e"))
        assert await next_changes(changes, 1) == [("ADDED", "e")]
    finally:
        await changes.aclose()  # type: ignore[attr-defined]


async def test_a_watch_expired_before_it_starts_lists_again(
    kube: KubernetesClient, kube_server: KubeApiServer
) -> None:
    kube_server.ready_delay = 60
    await kube.apply(namespace())
    await kube.apply(pod("a"))
    changes = kube.watch("Pod", "shop", {"app": "shop"})
    try:
        assert await next_changes(changes, 1) == [("ADDED", "a")]
        # the list is taken; before the watch starts, the resourceVersion it returned is compacted
        await kube.apply(pod("b"))
        kube_server.compact()
        assert await next_changes(changes, 1) == [("ADDED", "b")]
        assert kube_server.expired_watches == 1
    finally:
        await changes.aclose()  # type: ignore[attr-defined]


async def running_pod(kube: KubernetesClient, kube_server: KubeApiServer) -> str:
    """A pod of a Deployment, as the test API server's controller starts it."""
    labels = {"app": "shop", "heritage": "deis", "type": "web"}
    await kube.apply(namespace())
    await kube.apply(
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "shop-web", "namespace": "shop", "labels": labels},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {"containers": [{"name": "shop-web", "image": "busybox"}]},
                },
            },
        }
    )
    async with asyncio.timeout(5):
        while not kube_server.list("pods", "shop"):
            await asyncio.sleep(0.01)
    return str(kube_server.list("pods", "shop")[0]["metadata"]["name"])


async def test_following_a_containers_log_streams_lines_with_timestamps_until_it_restarts(
    kube: KubernetesClient, kube_server: KubeApiServer
) -> None:
    name = await running_pod(kube, kube_server)
    await kube_server.write_log("shop", name, "booting")
    lines: list[str] = []

    async def follow() -> None:
        async for line in kube.follow_logs("shop", name, "shop-web"):
            lines.append(line)

    follower = asyncio.create_task(follow())
    await kube_server.write_log("shop", name, "listening on 5000")
    async with asyncio.timeout(5):
        while len(lines) < 2:
            await asyncio.sleep(0.01)
    await kube_server.crash("shop", name, 1)
    async with asyncio.timeout(5):
        await follower  # the stream of that container ends with it

    assert [line.split(" ", 1)[1] for line in lines] == ["booting", "listening on 5000"]
    assert all(line.split(" ", 1)[0].endswith("Z") and line[:2] == "20" for line in lines)
    assert await kube.logs("shop", name) == ""  # the restarted container has not written anything yet


async def test_logs_of_a_missing_pod_are_a_404(kube: KubernetesClient) -> None:
    await kube.apply(namespace())

    with pytest.raises(KubeError) as failure:
        await kube.logs("shop", "nope")
    assert failure.value.status == 404
