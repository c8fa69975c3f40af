"""Every request the scheduler makes of the Kubernetes API is one the chart's ClusterRole allows: the
requests are those the real scheduler sent to the test API server while deploying, running, following logs,
scaling and destroying an app; the role is the one the Helm chart renders."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import helm_python as helm

from deis_common.bus import Bus
from deis_common.events.apps import AppDestroyed, RunRequested
from deis_common.events.containers import ContainersCrashed, ContainersHealthy
from deis_common.events.releases import ReleaseCreated
from deis_common.events.runs import RunFinished
from deis_common.testing.recorder import EventRecorder
from deis_scheduler.service import build
from deis_scheduler.settings import SchedulerSettings
from tests.deploy.chart import CHART_DIR, render
from tests.scheduler.conftest import StandInRouter
from tests.scheduler.http import eventually
from tests.scheduler.kube_server import KubeApiServer
from tests.scheduler.test_kubernetes_backend import buildpack_state


def authorization(method: str, path_qs: str) -> tuple[str, str, str]:
    """(API group, resource, verb) of a request, as the API server's authorizer sees it."""
    url = urlsplit(path_qs)
    parts = url.path.strip("/").split("/")
    group = "" if parts[0] == "api" else parts[1]
    rest = parts[2:] if parts[0] == "api" else parts[3:]
    if rest[0] == "namespaces" and len(rest) >= 3:
        rest = rest[2:]
    resource, name = rest[0], rest[1] if len(rest) > 1 else None
    if len(rest) > 2:
        resource = f"{resource}/{rest[2]}"
    watching = parse_qs(url.query).get("watch", [""])[0].lower() in ("true", "1")
    verb = {
        "GET": "get" if name else ("watch" if watching else "list"),
        "POST": "create",
        "PUT": "update",
        "PATCH": "patch",
        "DELETE": "delete",
    }[method]
    return group, resource, verb


def allowed(rules: list[dict[str, list[str]]], group: str, resource: str, verb: str) -> bool:
    return any(
        group in rule.get("apiGroups", []) and resource in rule["resources"] and verb in rule["verbs"]
        for rule in rules
    )


async def test_the_chart_lets_the_scheduler_make_every_request_it_makes(
    settings: SchedulerSettings,
    kube_server: KubeApiServer,
    router: StandInRouter,
    bus: Bus,
    recorder: EventRecorder,
) -> None:
    settings.scheduler.backend = "kubernetes"
    settings.scheduler.kubernetes.poll_interval = 0.05
    settings.scheduler.kubernetes.api_server = kube_server.url
    kube_server.startup_output = ["booting"]
    state = buildpack_state()
    async with build(settings).running():
        await bus.publish(ReleaseCreated(app="shop", state=state))
        await recorder.wait_for(ContainersHealthy, where=lambda e: e.generation == 3, timeout=15)
        await kube_server.crash(
            "shop", str(kube_server.list("pods", "shop", type="web")[0]["metadata"]["name"]), 1
        )
        await recorder.wait_for(ContainersCrashed, timeout=10)
        await bus.publish(RunRequested(app="shop", run_id="r1", command="true", state=state))
        await recorder.wait_for(RunFinished, timeout=15)
        await bus.publish(AppDestroyed(app="shop"))

        async def destroyed() -> bool:
            return kube_server.get("namespaces", "", "shop") is None

        await eventually(destroyed)

    with helm.Chart.load(CHART_DIR) as chart:
        rendered = render(chart)
    role = rendered.get("ClusterRole", "deis-workflow-scheduler")
    made = {authorization(method, path) for method, path, _ in kube_server.requests}
    assert {
        ("", "pods/log", "get"),
        ("", "pods", "watch"),
        ("", "pods", "create"),
        ("", "secrets", "update"),
    } <= made
    refused = sorted(r for r in made if not allowed(role["rules"], *r))
    assert refused == []
