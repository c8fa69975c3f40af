"""The kubernetes backend through its real client (kubernetes_asyncio over HTTP) against a test API server;
every object it sends is validated against the Kubernetes schemas."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import kubernetes_validate
import pytest

from deis_common.bus import Bus
from deis_common.events.apps import AppDestroyed, AppScaled, RunRequested
from deis_common.events.containers import ContainersHealthy
from deis_common.events.deploys import DeployFailed
from deis_common.events.releases import ReleaseCreated
from deis_common.events.runs import RunFinished
from deis_common.events.state import AppState, BuildArtifact, ImageConfig
from deis_common.settings import S3Settings, ServiceSettings, StoreSettings
from deis_common.testing.recorder import EventRecorder
from deis_scheduler.backends.base import DeployError
from deis_scheduler.backends.kubernetes import manifests
from deis_scheduler.backends.kubernetes.backend import KubernetesBackend
from deis_scheduler.backends.kubernetes.client import KubernetesClient
from deis_scheduler.desired import PICK_SHELL
from deis_scheduler.service import build
from deis_scheduler.settings import KubernetesSettings, RegistrySettings, SchedulerSettings
from tests.scheduler.conftest import StandInRouter
from tests.scheduler.http import eventually
from tests.scheduler.kube_server import KubeApiServer

# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and the newest schemas we have.
K8S_VERSIONS = ("1.29.0", kubernetes_validate.latest_version())


def buildpack_state(**changes: Any) -> AppState:
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
        env={"DATABASE_URL": "postgres://db/shop", "DEBUG_MODE": "0"},
        structure={"web": 2, "worker": 1},
        memory={"web": "512M", "worker": "128M/256M"},
        cpu={"web": "500m"},
        healthchecks={
            "web": {
                "livenessProbe": {
                    "httpGet": {"path": "/healthz"},
                    "initialDelaySeconds": 10,
                    "timeoutSeconds": 2,
                    "periodSeconds": 10,
                    "failureThreshold": 3,
                }
            }
        },
        tags={"disk": "ssd"},
        summary="alice deployed 1a2b3c4",
        created_at=datetime(2026, 11, 23, 12, 0, tzinfo=UTC),
        autoscale={"web": {"min": 2, "max": 6, "cpu_percent": 60}},
    )
    return state.model_copy(update=changes)


def image_state() -> AppState:
    return AppState(
        app="api",
        generation=2,
        version=2,
        build=BuildArtifact(
            kind="image",
            location="registry.example.com/acme/api:1.4",
            procfile={"clock": "python clock.py"},
            image=ImageConfig(cmd=["python", "serve.py"], exposed_ports=[8080]),
        ),
        structure={"cmd": 1, "clock": 1},
    )


def settings() -> tuple[KubernetesSettings, ServiceSettings]:
    store = StoreSettings(
        driver="s3", s3=S3Settings(endpoint="http://minio.deis:9000", bucket_prefix="acme-")
    )
    return KubernetesSettings(poll_interval=0.01), ServiceSettings(store=store)


def validate(obj: dict[str, Any]) -> None:
    for version in K8S_VERSIONS:
        kubernetes_validate.validate(obj, version, strict=True)


@pytest.mark.parametrize("state", [buildpack_state(), image_state()], ids=["buildpack", "image"])
async def test_every_object_of_a_deploy_validates_against_the_kubernetes_schemas(
    state: AppState, kube: KubernetesClient, kube_server: KubeApiServer
) -> None:
    backend = KubernetesBackend(*settings(), api=kube)

    await backend.deploy(state, timeout=5)
    await backend.run(state, "rake db:migrate", timeout=5)

    kinds = {obj["kind"] for obj in kube_server.received}
    assert {"Namespace", "Secret", "Deployment", "Service", "Pod"} <= kinds
    for obj in kube_server.received:
        validate(obj)


def test_the_deployment_rolls_without_losing_capacity_and_carries_the_release() -> None:
    kube_settings, service_settings = settings()
    state = buildpack_state()

    web = manifests.deployment(state, "web", kube_settings, service_settings.store)

    validate(web)
    assert web["metadata"]["name"] == "shop-web" and web["metadata"]["namespace"] == "shop"
    assert web["spec"]["selector"]["matchLabels"] == {"app": "shop", "type": "web", "heritage": "deis"}
    assert web["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert web["metadata"]["annotations"]["kubernetes.io/change-cause"] == "alice deployed 1a2b3c4"
    pod = web["spec"]["template"]
    assert pod["metadata"]["labels"]["version"] == "v3"
    assert pod["spec"]["nodeSelector"] == {"disk": "ssd"}
    container = pod["spec"]["containers"][0]
    assert container["name"] == "shop-web"
    assert container["command"] == ["/runner/init"] and container["args"] == ["start", "web"]
    assert container["resources"] == {"limits": {"memory": "512Mi", "cpu": "500m"}}
    assert container["livenessProbe"]["httpGet"] == {"port": 5000, "path": "/healthz"}
    assert container["readinessProbe"]["exec"]["command"][0] == "/bin/bash"
    assert container["readinessProbe"]["initialDelaySeconds"] == 30
    env = {e["name"]: e for e in container["env"]}
    assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": "shop-v3-env", "key": "database-url"}
    assert env["SLUG_URL"]["value"] == "home/shop:git-1a2b3c4d/push/slug.tgz"
    assert env["DEIS_STORE_BUCKET"]["value"] == "acme-builder"
    worker = manifests.deployment(state, "worker", kube_settings, service_settings.store)
    worker_container = worker["spec"]["template"]["spec"]["containers"][0]
    assert "readinessProbe" not in worker_container, "non-routable types get no default probe"
    assert worker_container["resources"] == {"limits": {"memory": "256Mi"}, "requests": {"memory": "128Mi"}}


def test_the_env_secret_holds_defaults_and_config_with_config_winning() -> None:
    state = buildpack_state(env={"PORT": "8000", "DEIS_APP": "custom"})

    secret = manifests.env_secret(state)

    validate(secret)
    data = {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}
    assert secret["metadata"]["name"] == "shop-v3-env"
    assert secret["metadata"]["labels"] == {"app": "shop", "heritage": "deis", "type": "env", "version": "v3"}
    assert data["port"] == "8000" and data["deis-app"] == "custom"
    assert data["workflow-release"] == "v3" and data["source-version"] == "1a2b3c4d"
    assert data["workflow-release-created-at"] == "2026-11-23T12:00:00Z"


def test_image_processes_use_the_images_command_and_its_exposed_port() -> None:
    kube_settings, service_settings = settings()
    state = image_state()

    cmd = manifests.deployment(state, "cmd", kube_settings, service_settings.store)["spec"]["template"][
        "spec"
    ]
    clock = manifests.deployment(state, "clock", kube_settings, service_settings.store)["spec"]["template"][
        "spec"
    ]
    service = manifests.service(state, "cmd")

    assert "command" not in cmd["containers"][0] and "args" not in cmd["containers"][0]
    assert cmd["containers"][0]["readinessProbe"]["tcpSocket"] == {"port": 8080}
    # bash when the image has it (as on Workflow), else its sh (alpine, busybox)
    assert clock["containers"][0]["command"][:3] == ["/bin/sh", "-c", PICK_SHELL[2]]
    assert clock["containers"][0]["args"] == ["python clock.py"]
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]
    assert service["metadata"]["labels"]["router.deis.io/routable"] == "true"
    assert service["spec"]["selector"]["type"] == "cmd"


def test_a_run_in_an_image_goes_through_its_shell_and_in_a_slug_through_the_slugrunner() -> None:
    kube_settings, service_settings = settings()
    store = service_settings.store

    image = manifests.run_pod(image_state(), "api-run-x2b4z", "env", kube_settings, store)
    slug = manifests.run_pod(buildpack_state(), "shop-run-x2b4z", "env", kube_settings, store)

    [container] = image["spec"]["containers"]
    assert container["command"] + container["args"] == [*PICK_SHELL, "env"]
    [container] = slug["spec"]["containers"]
    assert container["command"] + container["args"] == ["/runner/init", "env"]
    validate(image)


async def test_a_routable_image_without_a_port_is_refused(kube: KubernetesClient) -> None:
    state = image_state()
    assert state.build is not None and state.build.image is not None
    portless = state.model_copy(
        update={"build": state.build.model_copy(update={"image": ImageConfig(cmd=["serve"])})}
    )

    with pytest.raises(DeployError, match="Expose a port"):
        await KubernetesBackend(*settings(), api=kube).deploy(portless, timeout=1)


async def test_pods_that_cannot_pull_their_image_fail_the_deploy_with_the_reason(
    kube: KubernetesClient, kube_server: KubeApiServer
) -> None:
    kube_server.pod_behaviour = "pull-error"

    with pytest.raises(DeployError, match="ImagePullBackOff"):
        await KubernetesBackend(*settings(), api=kube).deploy(image_state(), timeout=5)


async def test_pods_that_never_get_ready_fail_the_deploy_with_probe_events_and_logs(
    kube: KubernetesClient, kube_server: KubeApiServer
) -> None:
    kube_server.pod_behaviour = "never-ready"
    kube_server.startup_output = ["Traceback (most recent call last):", "ImportError: no module named app"]

    with pytest.raises(DeployError, match="did not become ready") as failure:
        await KubernetesBackend(*settings(), api=kube).deploy(buildpack_state(), timeout=0.5)

    assert "Readiness probe failed" in failure.value.reason
    assert "ImportError: no module named app" in failure.value.log_tail


async def test_dropped_process_types_lose_their_deployment_and_old_secrets_are_removed(
    kube: KubernetesClient,
) -> None:
    backend = KubernetesBackend(*settings(), api=kube)
    await backend.deploy(buildpack_state(), timeout=5)

    newer = buildpack_state(version=4, generation=4, structure={"web": 1})
    rollout = await backend.deploy(newer, timeout=5)
    await backend.retire(rollout)

    assert await kube.get("Deployment", "shop", "shop-worker") is None
    assert await kube.get("Secret", "shop", "shop-v3-env") is None
    assert await kube.get("Secret", "shop", "shop-v4-env") is not None
    processes = await backend.processes("shop")
    assert [(p.type, p.release, p.state) for p in processes] == [("web", "v4", "up")]


@pytest.fixture
def kube_service_settings(settings: SchedulerSettings) -> SchedulerSettings:
    settings.scheduler.backend = "kubernetes"
    settings.scheduler.kubernetes.poll_interval = 0.01
    return settings


async def test_the_scheduler_deploys_scales_runs_and_destroys_through_kubernetes(
    kube_service_settings: SchedulerSettings,
    kube_server: KubeApiServer,
    router: StandInRouter,
    bus: Bus,
    recorder: EventRecorder,
) -> None:
    kube_server.run_exit_code, kube_server.run_output = 3, "migrations failed\n"
    kube_service_settings.scheduler.kubernetes.api_server = kube_server.url
    state = buildpack_state()
    async with build(kube_service_settings).running():
        await bus.publish(ReleaseCreated(app="shop", state=state))
        healthy = await recorder.wait_for(ContainersHealthy, where=lambda e: e.generation == 3, timeout=15)
        assert healthy.endpoints == ["shop.shop.svc.cluster.local:80"]
        assert sorted(p.type for p in healthy.processes) == ["web", "web", "worker"]

        zero = state.model_copy(update={"generation": 4, "structure": {"web": 0, "worker": 1}})
        await bus.publish(AppScaled(app="shop", generation=4, structure=zero.structure, state=zero))
        scaled = await recorder.wait_for(ContainersHealthy, where=lambda e: e.generation == 4, timeout=15)
        assert scaled.endpoints == []
        assert kube_server.get("services", "shop", "shop") is None

        await bus.publish(RunRequested(app="shop", run_id="m1", command="rake db:migrate", state=state))
        finished = await recorder.wait_for(RunFinished, where=lambda e: e.run_id == "m1", timeout=15)
        assert (finished.exit_code, finished.output) == (3, "migrations failed\n")
        assert not [p for p in kube_server.list("pods", "shop") if "-run-" in p["metadata"]["name"]], (
            "the run pod is deleted"
        )

        kube_server.pod_behaviour = "crash"
        broken = state.model_copy(update={"generation": 5, "version": 5})
        await bus.publish(ReleaseCreated(app="shop", state=broken))
        failed = await recorder.wait_for(DeployFailed, where=lambda e: e.generation == 5, timeout=15)
        assert "CrashLoopBackOff" in failed.reason

        await bus.publish(AppDestroyed(app="shop"))

        async def namespace_deleted() -> bool:
            return kube_server.get("namespaces", "", "shop") is None

        await eventually(namespace_deleted)
    for obj in kube_server.received:
        validate(obj)


async def test_images_from_the_platform_registry_are_pulled_through_its_pull_host_with_its_keys(
    kube: KubernetesClient, kube_server: KubeApiServer
) -> None:
    registry = RegistrySettings(
        host="registry.deis.svc:5000", pull_host="127.0.0.1:5555", username="deis", password="s3cret"
    )
    backend = KubernetesBackend(*settings(), api=kube, registry=registry)
    state = image_state()
    assert state.build is not None
    pushed = state.model_copy(
        update={
            "build": state.build.model_copy(
                update={"kind": "dockerfile", "location": "registry.deis.svc:5000/api:git-1"}
            )
        }
    )

    await backend.deploy(pushed, timeout=5)

    cmd = await kube.get("Deployment", "api", "api-cmd")
    assert cmd is not None
    pod = cmd["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == "127.0.0.1:5555/api:git-1"
    assert pod["imagePullSecrets"] == [{"name": "deis-registry"}]
    secret = await kube.get("Secret", "api", "deis-registry")
    assert secret is not None and secret["type"] == "kubernetes.io/dockerconfigjson"
    config = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))
    assert config["auths"]["127.0.0.1:5555"]["username"] == "deis"
    for obj in kube_server.received:
        validate(obj)


async def test_an_image_from_a_private_registry_is_pulled_with_the_apps_credentials(
    kube: KubernetesClient, kube_server: KubeApiServer
) -> None:
    registry = RegistrySettings(host="registry.deis.svc:5000", username="deis", password="platform")
    backend = KubernetesBackend(*settings(), api=kube, registry=registry)
    private = image_state().model_copy(update={"registry": {"username": "bob", "password": "s3cret"}})

    await backend.deploy(private, timeout=5)
    await backend.run(private, "python manage.py check", timeout=5)

    secret = kube_server.get("secrets", "api", "private-registry")
    assert secret is not None and secret["type"] == "kubernetes.io/dockerconfigjson"
    config = json.loads(base64.b64decode(secret["data"][".dockerconfigjson"]))
    assert config["auths"]["registry.example.com"]["auth"] == base64.b64encode(b"bob:s3cret").decode()
    assert kube_server.get("secrets", "api", "deis-registry") is None, "the platform's keys stay home"
    pods = [d["spec"]["template"]["spec"] for d in kube_server.list("deployments", "api")]
    pods += [p["spec"] for p in kube_server.received if p["kind"] == "Pod"]
    assert len(pods) == 3
    for pod in pods:
        assert pod["containers"][0]["image"] == "registry.example.com/acme/api:1.4"
        assert pod["imagePullSecrets"] == [{"name": "private-registry"}]
    for obj in kube_server.received:
        validate(obj)


def test_docker_hub_images_are_keyed_as_docker_keys_them() -> None:
    assert manifests.registry_host("deis/example-go:latest") == "https://index.docker.io/v1/"
    assert manifests.registry_host("docker.io/library/python:3.11") == "https://index.docker.io/v1/"
    assert manifests.registry_host("ghcr.io/acme/api") == "ghcr.io"
    assert manifests.registry_host("localhost:5000/api") == "localhost:5000"
