"""The platform services in the chart get the environment contract of the embedded platform, every variable
they get is one of their settings and parses, and each has the permissions, ports and probes it needs."""

from __future__ import annotations

import os
import typing
from pathlib import Path
from typing import Any

import helm_python as helm
import pytest
from pydantic import BaseModel

from deis_platform.env_contract import SERVICES, ContractInputs, service_environment
from deis_platform.pgauth import DatabasePasswords
from deis_platform.ports import DEFAULT_PORTS
from tests.deploy.chart import (
    NAMESPACE,
    OFFCLUSTER_VALUES,
    SECRET,
    SERVICE_CONTAINERS,
    Rendered,
    env_of,
    load_values,
    render,
)


def contract_names(service: str) -> set[str]:
    inputs = ContractInputs(
        data_dir=Path("/data"),
        ports=DEFAULT_PORTS,
        domain="localhost",
        builder_key="k",
        database_passwords=DatabasePasswords(superuser="s", controller="c", backup="b"),
    )
    return set(service_environment(service, inputs))


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_gets_every_variable_of_the_embedded_contract(default: Rendered, service: str) -> None:
    env = env_of(default.container(*SERVICE_CONTAINERS[service]))
    # the cluster uses the S3 store where the embedded platform has a directory
    expected = contract_names(service) - {"DEIS_STORE__PATH"}
    assert expected - set(env) == set()
    assert env["DEIS_STORE__DRIVER"] == "s3"
    assert env["DEIS_HTTP__HOST"] == "0.0.0.0"
    assert env["DEIS_NATS__URL"] == "nats://workflow-nats:4222"
    assert env["DEIS_CONTROLLER_URL"] == "http://workflow-controller:8000"
    assert env["DEIS_BUILDER_KEY"] == ("secret", SECRET, "builder-key")
    http_port = int(env["DEIS_HTTP__PORT"])
    container = default.container(*SERVICE_CONTAINERS[service])
    assert http_port in {p["containerPort"] for p in container["ports"]}


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_is_probed_on_healthz_and_readiness(default: Rendered, service: str) -> None:
    container = default.container(*SERVICE_CONTAINERS[service])
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    http_port = int(env_of(container)["DEIS_HTTP__PORT"])
    for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readiness")):
        get = container[probe]["httpGet"]
        assert get["path"] == path
        assert ports[get["port"]] == http_port
    assert container["command"] == [f"deis-{service}"] + (["serve"] if service == "backup" else [])


# Variables the chart provides for a cluster feature its service does not read yet: pushing Dockerfile and
# `deis pull` images to the registry (builder) and pulling them with credentials (scheduler).
NOT_YET_READ = {
    "builder": {
        "DEIS_REGISTRY__HOST",
        "DEIS_REGISTRY__PULL_HOST",
        "DEIS_REGISTRY__INSECURE",
        "DEIS_REGISTRY__USERNAME",
        "DEIS_REGISTRY__PASSWORD",
    },
    "scheduler": {
        "DEIS_REGISTRY__HOST",
        "DEIS_REGISTRY__PULL_HOST",
        "DEIS_REGISTRY__INSECURE",
        "DEIS_REGISTRY__USERNAME",
        "DEIS_REGISTRY__PASSWORD",
    },
}


def settings_class(service: str) -> Any:
    """The service's settings class (pydantic-settings, reading DEIS_* variables)."""
    match service:
        case "controller":
            from deis_controller.settings import ControllerSettings

            return ControllerSettings
        case "builder":
            from deis_builder.settings import Settings

            return Settings
        case "scheduler":
            from deis_scheduler.settings import SchedulerSettings

            return SchedulerSettings
        case "router-sync":
            from deis_router_sync.settings import RouterSyncSettings

            return RouterSyncSettings
        case "backup":
            from deis_backup.settings import BackupServiceSettings

            return BackupServiceSettings
    raise AssertionError(service)


def variable_names(model: type[BaseModel], prefix: str = "DEIS_") -> set[str]:
    """Every environment variable a settings model reads (nested groups joined with ``__``)."""
    names = set()
    for name, info in model.model_fields.items():
        variable = prefix + name.upper()
        names.add(variable)
        for candidate in (info.annotation, *typing.get_args(info.annotation)):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                names |= variable_names(candidate, variable + "__")
    return names


def chart_environment(
    rendered: Rendered, service: str, container: tuple[str, str, str] | None = None
) -> dict[str, str]:
    """The service's DEIS_* environment with stand-ins for values the cluster fills in (Secrets, fields)."""
    env = env_of(rendered.container(*(container or SERVICE_CONTAINERS[service])))
    return {
        name: value if isinstance(value, str) else f"from-{value[-1]}"
        for name, value in env.items()
        if name.startswith("DEIS_")
    }


# Containers that run a service's code besides the service itself: Postgres calls `deis-backup wal-push`,
# the restore init container `deis-backup restore`, the router's init container `deis-router-bootstrap`.
SERVICE_TOOLS = {
    "backup": [
        ("StatefulSet", "workflow-postgres", "postgres"),
        ("StatefulSet", "workflow-postgres", "restore"),
    ],
    "router-sync": [("Deployment", "workflow-router", "bootstrap")],
}


@pytest.mark.parametrize("service", SERVICES)
def test_each_variable_the_chart_sets_is_a_setting_of_its_service(default: Rendered, service: str) -> None:
    # the embedded contract gives every service the common variables, read or not; the chart mirrors it
    known = variable_names(settings_class(service)) | contract_names(service)
    unknown = set(chart_environment(default, service)) - known - NOT_YET_READ.get(service, set())
    assert unknown == set()


@pytest.mark.parametrize("service", SERVICES)
def test_each_service_accepts_the_values_the_chart_gives_it(
    default: Rendered, offcluster: Rendered, service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = [
        (rendered, container)
        for rendered in (default, offcluster)
        for container in [SERVICE_CONTAINERS[service], *SERVICE_TOOLS.get(service, [])]
        if rendered.find(container[0], container[1])
    ]
    assert len(runs) >= 2
    for rendered, container in runs:
        with monkeypatch.context() as patch:
            for name in [n for n in os.environ if n.startswith("DEIS_")]:
                patch.delenv(name)
            for name, value in chart_environment(rendered, service, container).items():
                patch.setenv(name, value)
            settings = settings_class(service)()
        assert settings.store.driver == "s3", container
        assert settings.http.host == "0.0.0.0", container
        assert settings.nats.url.startswith("nats://"), container


def test_the_controller_hands_out_the_git_remote_through_the_router(chart: helm.Chart) -> None:
    rendered = render(chart, {"platform": {"domain": "apps.example.com"}})
    env = env_of(rendered.container(*SERVICE_CONTAINERS["controller"]))
    assert env["DEIS_BUILDER_URL"] == "ssh://git@deis-builder.apps.example.com:2222"


def test_the_scheduler_runs_apps_with_the_kubernetes_backend(default: Rendered) -> None:
    env = env_of(default.container(*SERVICE_CONTAINERS["scheduler"]))
    assert env["DEIS_SCHEDULER__BACKEND"] == "kubernetes"
    assert env["DEIS_SCHEDULER__KUBERNETES__SLUGRUNNER_IMAGE"] == "deis/slugrunner:0.1.0"


def test_the_scheduler_may_manage_every_kind_of_object_an_app_needs(default: Rendered) -> None:
    pod = default.get("Deployment", "workflow-scheduler")["spec"]["template"]["spec"]
    account = pod["serviceAccountName"]
    assert default.find("ServiceAccount", account)
    binding = default.get("ClusterRoleBinding", "deis-workflow-scheduler")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account, "namespace": NAMESPACE}]
    role = default.get("ClusterRole", binding["roleRef"]["name"])
    granted: dict[tuple[str, str], set[str]] = {}
    for rule in role["rules"]:
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                granted.setdefault((group, resource), set()).update(rule["verbs"])
    manage = {"get", "list", "watch", "create", "delete"}
    for needed, verbs in {
        ("", "namespaces"): manage,
        ("apps", "deployments"): manage | {"update", "patch"},
        ("", "services"): manage | {"update", "patch"},
        ("", "secrets"): manage | {"update", "patch"},
        ("", "pods"): manage,
        ("", "pods/log"): {"get"},
        ("autoscaling", "horizontalpodautoscalers"): manage | {"update", "patch"},
        ("", "events"): {"get", "list", "watch"},
    }.items():
        assert verbs <= granted.get(needed, set()), needed


def test_the_router_service_takes_http_https_and_git_over_ssh(default: Rendered) -> None:
    service = default.get("Service", "workflow-router")
    assert service["spec"]["type"] == "LoadBalancer"
    pod = default.get("Deployment", "workflow-router")["spec"]["template"]["spec"]
    container_ports = {p["name"]: p["containerPort"] for c in pod["containers"] for p in c.get("ports", [])}
    exposed = {p["port"]: container_ports[p["targetPort"]] for p in service["spec"]["ports"]}
    assert exposed == {80: 8080, 443: 8443, 2222: 2222}


def test_router_sync_and_nginx_share_the_config_volume_and_processes(default: Rendered) -> None:
    pod = default.get("Deployment", "workflow-router")["spec"]["template"]["spec"]
    assert pod["shareProcessNamespace"] is True
    assert [c["name"] for c in pod["containers"]] == ["nginx", "router-sync"]
    mounts = {c["name"]: {m["name"]: m["mountPath"] for m in c["volumeMounts"]} for c in pod["containers"]}
    assert mounts["nginx"]["router"] == mounts["router-sync"]["router"] == "/router"
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes["router"]
    env = env_of(default.container("Deployment", "workflow-router", "router-sync"))
    assert env["DEIS_ROUTER__PREFIX"] == "/router"
    assert env["DEIS_ROUTER__LISTEN_HOST"] == "0.0.0.0"
    assert env["DEIS_ROUTER__CONTROLLER_HOST"] == "workflow-controller.deis.svc"
    nginx = default.container("Deployment", "workflow-router", "nginx")
    assert nginx["command"][:3] == ["nginx", "-p", "/router"]
    users = {c["name"]: c.get("securityContext", {}).get("runAsUser") for c in pod["containers"]}
    # the same user, so router-sync may signal the nginx master
    assert users["nginx"] == users["router-sync"]


def test_services_restart_when_credentials_given_in_values_change(
    chart: helm.Chart, offcluster: Rendered
) -> None:
    values = load_values(OFFCLUSTER_VALUES)
    values["storage"]["s3"]["secretKey"] = "rotated"
    rotated = render(chart, values)
    for service in SERVICES:
        kind, name, _ = SERVICE_CONTAINERS[service]
        if not offcluster.find(kind, name):
            continue
        before = offcluster.get(kind, name)["spec"]["template"]["metadata"]["annotations"]
        after = rotated.get(kind, name)["spec"]["template"]["metadata"]["annotations"]
        assert before["checksum/credentials"] != after["checksum/credentials"], service
