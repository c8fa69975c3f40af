"""Autoscale and tags in cluster mode: the HPA and the nodeSelector the kubernetes backend renders, validated
against the Kubernetes schemas, and the HPA removed by ``autoscale:unset``."""

from __future__ import annotations

from typing import Any

import kubernetes_validate

from deis_common.events.state import AppState, BuildArtifact
from deis_common.settings import ServiceSettings
from deis_scheduler.backends.kubernetes import manifests
from deis_scheduler.backends.kubernetes.backend import KubernetesBackend
from deis_scheduler.backends.kubernetes.client import KubernetesClient
from deis_scheduler.settings import KubernetesSettings
from tests.scheduler.kube_server import KubeApiServer

K8S_VERSION = kubernetes_validate.latest_version()


def shop(**changes: Any) -> AppState:
    state = AppState(
        app="shop",
        generation=3,
        version=3,
        build=BuildArtifact(
            kind="buildpack",
            location="home/shop:git-1a2b3c4d/push/slug.tgz",
            sha="1a2b3c4d",
            procfile={"web": "gunicorn app:app", "worker": "celery worker"},
        ),
        structure={"web": 2, "worker": 1},
        cpu={"web": "500m"},
        tags={"disk": "ssd", "kubernetes.io/arch": "amd64"},
        autoscale={"web": {"min": 2, "max": 6, "cpu_percent": 60}},
    )
    return state.model_copy(update=changes)


def backend(kube: KubernetesClient) -> KubernetesBackend:
    return KubernetesBackend(KubernetesSettings(poll_interval=0.01), ServiceSettings(), api=kube)


def test_the_hpa_targets_the_deployment_between_min_and_max_at_the_cpu_target() -> None:
    hpa = manifests.autoscaler(shop(), "web")

    kubernetes_validate.validate(hpa, K8S_VERSION, strict=True)
    assert (hpa["apiVersion"], hpa["kind"]) == ("autoscaling/v2", "HorizontalPodAutoscaler")
    assert hpa["metadata"] == {
        "name": "shop-web",
        "namespace": "shop",
        "labels": {"app": "shop", "type": "web", "heritage": "deis"},
    }
    spec = hpa["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "shop-web"}
    assert (spec["minReplicas"], spec["maxReplicas"]) == (2, 6)
    assert spec["metrics"] == [
        {
            "type": "Resource",
            "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 60}},
        }
    ]


def test_tags_become_the_node_selector_and_the_cpu_limit_the_request_the_hpa_measures_against() -> None:
    deployment = manifests.deployment(shop(), "web", KubernetesSettings(), ServiceSettings().store)

    kubernetes_validate.validate(deployment, K8S_VERSION, strict=True)
    pod = deployment["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"disk": "ssd", "kubernetes.io/arch": "amd64"}
    # a limit alone is also the request (Kubernetes defaults requests to limits)
    assert pod["containers"][0]["resources"]["limits"]["cpu"] == "500m"
    untagged = manifests.deployment(shop(tags={}), "web", KubernetesSettings(), ServiceSettings().store)
    assert "nodeSelector" not in untagged["spec"]["template"]["spec"]


async def test_autoscale_unset_removes_the_hpa_and_keeps_the_deployment(
    kube: KubernetesClient, kube_server: KubeApiServer
) -> None:
    await backend(kube).deploy(shop(), timeout=5)
    assert ("horizontalpodautoscalers", "shop", "shop-web") in kube_server.objects
    for obj in kube_server.received:
        kubernetes_validate.validate(obj, K8S_VERSION, strict=True)

    await backend(kube).deploy(shop(generation=4, autoscale={}), timeout=5)

    assert ("horizontalpodautoscalers", "shop", "shop-web") not in kube_server.objects
    assert ("deployments", "shop", "shop-web") in kube_server.objects
