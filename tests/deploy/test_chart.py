"""The Helm chart installs the whole platform: rendered by the real Helm engine, valid for Kubernetes, and
wired the way the services expect (the same DEIS_* contract as the embedded platform)."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import BaseModel

from deis_common.testing.ports import free_port
from deis_platform.env_contract import SERVICES, ContractInputs, service_environment
from deis_platform.ports import DEFAULT_PORTS
from tests.deploy.chart import (
    CHART_DIR,
    NAMESPACE,
    OFFCLUSTER_VALUES,
    Rendered,
    env_of,
    load_values,
    render,
)

# The oldest Kubernetes the chart supports (Chart.yaml kubeVersion) and a current one.
KUBE_VERSIONS = ("1.29.0", "1.35.0")

# Platform service → (workload kind, workload name, container name).
SERVICE_CONTAINERS = {
    "controller": ("Deployment", "workflow-controller", "controller"),
    "builder": ("Deployment", "workflow-builder", "builder"),
    "scheduler": ("Deployment", "workflow-scheduler", "scheduler"),
    "router-sync": ("Deployment", "workflow-router", "router-sync"),
    "backup": ("Deployment", "workflow-backup", "backup"),
}

SECRET = "workflow-secrets"


@pytest.fixture(scope="module")
def chart() -> Iterator[helm.Chart]:
    with helm.Chart.load(CHART_DIR) as loaded:
        yield loaded


@pytest.fixture(scope="module")
def default(chart: helm.Chart) -> Rendered:
    return render(chart)


@pytest.fixture(scope="module")
def offcluster(chart: helm.Chart) -> Rendered:
    return render(chart, load_values(OFFCLUSTER_VALUES))


def invalid_objects(rendered: Rendered, version: str) -> list[str]:
    problems = []
    for obj in rendered.objects:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as e:
            where = "/".join(str(p) for p in e.path)
            problems.append(f"{obj['kind']}/{obj['metadata']['name']} at {where}: {e.message}")
    return problems


# --- the chart is valid ------------------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBE_VERSIONS)
def test_every_object_of_a_default_install_is_valid_kubernetes(default: Rendered, version: str) -> None:
    assert len(default.objects) > 20
    assert invalid_objects(default, version) == []


@pytest.mark.parametrize("version", KUBE_VERSIONS)
def test_every_object_of_an_offcluster_install_is_valid_kubernetes(
    offcluster: Rendered, version: str
) -> None:
    assert invalid_objects(offcluster, version) == []


def test_helm_lint_finds_no_warning_or_error() -> None:
    for values in (None, load_values(OFFCLUSTER_VALUES)):
        report = helm.lint(CHART_DIR, values, strict=True, namespace=NAMESPACE, kube_version="v1.33.0")
        serious = [m for m in report["messages"] if m["severity"] >= 2]
        assert (serious, report["errors"]) == ([], [])


def test_default_and_offcluster_values_satisfy_the_values_schema(chart: helm.Chart) -> None:
    chart.validate_schema(None)
    chart.validate_schema(load_values(OFFCLUSTER_VALUES))


@pytest.mark.parametrize(
    ("values", "complaint"),
    [
        ({"nats": {"replicas": "three"}}, "/nats/replicas"),
        ({"nats": {"replica": 3}}, "replica"),
        ({"database": {"external": {"url": "mysql://db/deis"}}}, "/database/external/url"),
        ({"platform": {"domain": "Apps.Example.COM"}}, "/platform/domain"),
        ({"storage": {"s3": {"endpoint": "s3.example.com"}}}, "/storage/s3/endpoint"),
    ],
)
def test_a_mistyped_value_is_refused_with_the_key_named(
    chart: helm.Chart, values: dict[str, Any], complaint: str
) -> None:
    with pytest.raises(helm.HelmValuesError, match=re.escape(complaint)):
        chart.render(values=values, name="workflow", namespace=NAMESPACE)


def test_every_object_carries_the_platform_labels(default: Rendered, offcluster: Rendered) -> None:
    for obj in default.objects + offcluster.objects:
        labels = obj["metadata"].get("labels", {})
        where = f"{obj['kind']}/{obj['metadata']['name']}"
        assert labels.get("heritage") == "deis", where
        assert labels.get("app.kubernetes.io/instance") == "workflow", where
        assert labels.get("app.kubernetes.io/part-of") == "deis-workflow", where
        assert labels.get("app.kubernetes.io/managed-by") == "Helm", where
        assert labels.get("app.kubernetes.io/component"), where
        if obj["kind"] not in {"ClusterRole", "ClusterRoleBinding"}:
            assert obj["metadata"]["namespace"] == NAMESPACE, where


# --- the services get the environment contract --------------------------------------------------------


def contract_names(service: str) -> set[str]:
    inputs = ContractInputs(data_dir=Path("/data"), ports=DEFAULT_PORTS, domain="localhost", builder_key="k")
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


# --- the router -----------------------------------------------------------------------------------------


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


# --- NATS ---------------------------------------------------------------------------------------------


def nats_config(rendered: Rendered) -> str:
    config: str = rendered.get("ConfigMap", "workflow-nats")["data"]["nats.conf"]
    return config


def test_nats_runs_a_three_node_jetstream_cluster_and_streams_keep_three_copies(default: Rendered) -> None:
    nats = default.get("StatefulSet", "workflow-nats")
    assert nats["spec"]["replicas"] == 3
    assert nats["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "10Gi"
    route = r"nats://(workflow-nats-\d)\.workflow-nats-headless\.deis\.svc:6222"
    routes = re.findall(route, nats_config(default))
    assert routes == ["workflow-nats-0", "workflow-nats-1", "workflow-nats-2"]
    # a node drain takes one server at a time, so JetStream keeps its quorum
    assert default.get("PodDisruptionBudget", "workflow-nats")["spec"]["maxUnavailable"] == 1
    for service in SERVICES:
        assert env_of(default.container(*SERVICE_CONTAINERS[service]))["DEIS_NATS__STREAM_REPLICAS"] == "3"


def test_a_single_nats_server_runs_without_cluster_routes(chart: helm.Chart) -> None:
    single = render(chart, {"nats": {"replicas": 1}})
    assert single.get("StatefulSet", "workflow-nats")["spec"]["replicas"] == 1
    assert "cluster {" not in nats_config(single)
    assert single.find("PodDisruptionBudget", "workflow-nats") is None
    assert env_of(single.container(*SERVICE_CONTAINERS["controller"]))["DEIS_NATS__STREAM_REPLICAS"] == "1"


@pytest.mark.parametrize("replicas", [1, 3])
def test_nats_server_accepts_the_rendered_config(chart: helm.Chart, replicas: int, tmp_path: Path) -> None:
    nats_server = Path(sys.executable).parent / "nats-server"
    config = nats_config(render(chart, {"nats": {"replicas": replicas}})).replace("/data", str(tmp_path))
    (tmp_path / "nats.conf").write_text(config)
    check = subprocess.run(
        [str(nats_server), "-t", "-c", str(tmp_path / "nats.conf")],
        capture_output=True,
        text=True,
        timeout=30,
        env={"POD_NAME": "workflow-nats-0"},
    )
    assert check.returncode == 0, check.stderr + check.stdout


# --- database, object store, registry, secrets ----------------------------------------------------------


def test_postgres_archives_every_wal_segment_with_deis_backup(default: Rendered) -> None:
    postgres = default.container("StatefulSet", "workflow-postgres", "postgres")
    settings = dict(arg.split("=", 1) for arg in postgres["args"] if "=" in arg)
    assert settings["archive_mode"] == "on"
    assert settings["archive_command"] == "deis-backup wal-push %p"
    assert int(settings["archive_timeout"]) == 60
    env = env_of(postgres)
    assert env["DEIS_STORE__DRIVER"] == "s3"
    assert env["POSTGRES_PASSWORD"] == ("secret", SECRET, "database-password")
    restore = default.container("StatefulSet", "workflow-postgres", "restore")
    assert "deis-backup restore --data-dir" in " ".join(restore["command"])
    claim = default.get("StatefulSet", "workflow-postgres")["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["resources"]["requests"]["storage"] == "10Gi"
    backup_env = env_of(default.container(*SERVICE_CONTAINERS["backup"]))
    assert backup_env["DEIS_DATABASE__URL"] == ("secret", SECRET, "database-url")


def test_a_default_install_generates_every_credential(default: Rendered) -> None:
    data = default.secret_data(SECRET)
    for key, length in {
        "builder-key": 48,
        "database-password": 32,
        "s3-access-key": 20,
        "s3-secret-key": 40,
        "registry-http-secret": 48,
    }.items():
        assert re.fullmatch(rf"[A-Za-z0-9]{{{length}}}", data[key]), key
    assert (
        data["database-url"]
        == f"postgresql://postgres:{data['database-password']}@workflow-postgres:5432/deis"
    )
    minio = env_of(default.container("Deployment", "workflow-minio", "minio"))
    assert minio["MINIO_ROOT_USER"] == ("secret", SECRET, "s3-access-key")


def test_each_install_gets_its_own_credentials(chart: helm.Chart, default: Rendered) -> None:
    again = render(chart)
    assert again.secret_data(SECRET)["builder-key"] != default.secret_data(SECRET)["builder-key"]


def test_the_builder_gets_a_kept_ecdsa_host_key_in_its_host_key_directory(default: Rendered) -> None:
    keys = default.get("Secret", "workflow-builder-ssh")["data"]
    assert set(keys) == {"ssh_host_ecdsa_key"}
    key = serialization.load_pem_private_key(base64.b64decode(keys["ssh_host_ecdsa_key"]), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    assert key.curve.name == "secp256r1"  # ecdsa-sha2-nistp256
    builder = default.container(*SERVICE_CONTAINERS["builder"])
    env = env_of(builder)
    copy = default.container("Deployment", "workflow-builder", "host-keys")
    assert f"{env['DEIS_BUILDER__DATA_DIR']}/host_keys/ssh_host_ecdsa_key" in copy["command"][-1]
    data_mounts = {m["mountPath"] for c in (builder, copy) for m in c["volumeMounts"] if m["name"] == "data"}
    assert data_mounts == {env["DEIS_BUILDER__DATA_DIR"]}
    assert env["DEIS_SSH__PORT"] == "2222"
    assert env["DEIS_SSH__HOST"] == "0.0.0.0"
    assert {"name": "ssh", "containerPort": 2222} in builder["ports"]
    service = default.get("Service", "workflow-builder")
    assert {"name": "ssh", "port": 2222, "targetPort": "ssh"} in service["spec"]["ports"]


def test_a_default_install_keeps_everything_in_minio(default: Rendered) -> None:
    env = env_of(default.container(*SERVICE_CONTAINERS["controller"]))
    assert env["DEIS_STORE__S3__ENDPOINT"] == "http://workflow-minio.deis.svc:9000"
    assert env["DEIS_STORE__S3__ACCESS_KEY"] == ("secret", SECRET, "s3-access-key")
    assert default.find("PersistentVolumeClaim", "workflow-minio")
    registry = yaml.safe_load(default.get("ConfigMap", "workflow-registry")["data"]["config.yml"])
    s3 = registry["storage"]["s3"]
    assert (s3["bucket"], s3["regionendpoint"], s3["forcepathstyle"]) == (
        "registry",
        "http://workflow-minio.deis.svc:9000",
        True,
    )
    assert registry["storage"]["redirect"]["disable"] is True
    buckets = env_of(default.container("Job", "workflow-buckets", "buckets"))
    assert buckets["BUCKETS"] == "builder registry database"


def test_offcluster_values_run_no_database_or_minio_and_point_services_outside(offcluster: Rendered) -> None:
    values = load_values(OFFCLUSTER_VALUES)
    names = offcluster.names()
    for absent in ("workflow-postgres", "workflow-minio", "workflow-backup", "workflow-registry"):
        assert not [n for n in names if n.split("/")[1].startswith(absent)], absent
    data = offcluster.secret_data(SECRET)
    assert data["database-url"] == values["database"]["external"]["url"]
    assert "database-password" not in data
    assert (data["s3-access-key"], data["s3-secret-key"]) == (
        values["storage"]["s3"]["accessKey"],
        values["storage"]["s3"]["secretKey"],
    )
    for service in ("controller", "builder", "scheduler", "router-sync"):
        env = env_of(offcluster.container(*SERVICE_CONTAINERS[service]))
        assert env["DEIS_STORE__S3__ENDPOINT"] == values["storage"]["s3"]["endpoint"]
        assert env["DEIS_STORE__S3__REGION"] == "eu-west-1"
        assert env["DEIS_STORE__S3__BUCKET_PREFIX"] == "acme-deis-"
        assert env["DEIS_STORE__S3__PATH_STYLE"] == "false"
        assert env["DEIS_STORE__S3__SECRET_KEY"] == ("secret", SECRET, "s3-secret-key")
        assert env["DEIS_PLATFORM_DOMAIN"] == "apps.example.com"
    controller = env_of(offcluster.container(*SERVICE_CONTAINERS["controller"]))
    assert controller["DEIS_DATABASE__URL"] == ("secret", SECRET, "database-url")
    for service in ("builder", "scheduler"):
        env = env_of(offcluster.container(*SERVICE_CONTAINERS[service]))
        assert env["DEIS_REGISTRY__HOST"] == env["DEIS_REGISTRY__PULL_HOST"] == "registry.example.com"
        assert env["DEIS_REGISTRY__PASSWORD"] == ("secret", SECRET, "registry-password")
    buckets = env_of(offcluster.container("Job", "workflow-buckets", "buckets"))
    assert buckets["BUCKETS"] == "acme-deis-builder acme-deis-registry acme-deis-database"
    assert buckets["S3_ENDPOINT"] == values["storage"]["s3"]["endpoint"]


def test_an_external_store_without_keys_uses_the_pods_identity(chart: helm.Chart) -> None:
    rendered = render(chart, {"minio": {"enabled": False}, "storage": {"s3": {"region": "eu-west-1"}}})
    env = env_of(rendered.container(*SERVICE_CONTAINERS["controller"]))
    assert "DEIS_STORE__S3__ENDPOINT" not in env
    assert "DEIS_STORE__S3__ACCESS_KEY" not in env
    assert rendered.find("Job", "workflow-buckets") is None


def test_an_access_key_without_its_secret_key_is_refused(chart: helm.Chart) -> None:
    with pytest.raises(helm.HelmRenderError, match=r"storage\.s3\.secretKey is required"):
        render(chart, {"minio": {"enabled": False}, "storage": {"s3": {"accessKey": "AKIA"}}})


# --- pods ---------------------------------------------------------------------------------------------


def pod_specs(rendered: Rendered) -> Iterator[tuple[str, dict[str, Any]]]:
    for obj in rendered.workloads():
        yield f"{obj['kind']}/{obj['metadata']['name']}", obj["spec"]["template"]["spec"]


def test_every_container_but_the_builder_runs_as_a_non_root_user(default: Rendered) -> None:
    for where, pod in pod_specs(default):
        if where == "Deployment/workflow-builder":
            continue
        assert pod["securityContext"]["runAsNonRoot"] is True, where
        for container in pod.get("initContainers", []) + pod["containers"]:
            security = container["securityContext"]
            assert security["allowPrivilegeEscalation"] is False, (where, container["name"])
            assert security["capabilities"]["drop"] == ["ALL"], (where, container["name"])


def test_every_container_requests_resources(default: Rendered) -> None:
    for where, pod in pod_specs(default):
        for container in pod.get("initContainers", []) + pod["containers"]:
            assert container["resources"]["requests"], (where, container["name"])
            assert container["resources"]["limits"]["memory"], (where, container["name"])


def test_platform_images_follow_the_registry_and_tag_values(chart: helm.Chart) -> None:
    rendered = render(chart, {"image": {"registry": "ghcr.io/acme", "tag": "1.2.3"}})
    images = {c["image"] for _, pod in pod_specs(rendered) for c in pod["containers"]}
    for service in ("controller", "builder", "scheduler", "router", "backup"):
        assert f"ghcr.io/acme/deis/{service}:1.2.3" in images
    env = env_of(rendered.container(*SERVICE_CONTAINERS["scheduler"]))
    assert env["DEIS_SCHEDULER__KUBERNETES__SLUGRUNNER_IMAGE"] == "ghcr.io/acme/deis/slugrunner:1.2.3"


# --- what the user reads after install -------------------------------------------------------------------


def test_the_install_notes_give_the_controller_url_and_the_git_remote(chart: helm.Chart) -> None:
    notes = render(chart, {"platform": {"domain": "apps.example.com"}}).notes
    assert "deis register http://deis.apps.example.com\n" in notes
    assert "ssh://git@deis-builder.apps.example.com:2222/<app>.git" in notes
    assert "http://<app>.apps.example.com." in notes
    on_port = render(chart, {"platform": {"domain": "apps.example.com", "routerPort": 8080}}).notes
    assert "http://deis.apps.example.com:8080" in on_port


# --- the services understand what the chart sets ----------------------------------------------------------

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


def shell_scripts(rendered: Rendered) -> Iterator[tuple[str, str]]:
    for where, pod in pod_specs(rendered):
        for container in pod.get("initContainers", []) + pod["containers"]:
            hook = container.get("lifecycle", {}).get("preStop", {}).get("exec", {})
            for name, command in (
                ("command", container.get("command", [])),
                ("preStop", hook.get("command", [])),
            ):
                if command[:2] == ["sh", "-c"]:
                    yield f"{where}/{container['name']}/{name}", command[2]


def test_every_shell_script_in_the_chart_parses(default: Rendered, offcluster: Rendered) -> None:
    scripts = dict(shell_scripts(default)) | dict(shell_scripts(offcluster))
    assert len(scripts) >= 5
    for where, script in scripts.items():
        check = subprocess.run(["sh", "-n", "-c", script], capture_output=True, text=True, timeout=10)
        assert check.returncode == 0, (where, check.stderr)


def test_an_empty_database_volume_with_no_backups_is_left_for_initdb(
    default: Rendered, s3_endpoint: str, tmp_path: Path
) -> None:
    """The restore init container, run with the chart's environment against a real S3 server."""
    restore = default.container("StatefulSet", "workflow-postgres", "restore")
    env = {name: value for name, value in env_of(restore).items() if isinstance(value, str)}
    pgdata = tmp_path / "pgdata"
    env.update(
        PGDATA=str(pgdata),
        DEIS_BACKUP__DATA_DIR=str(tmp_path / "restore"),
        DEIS_STORE__S3__ENDPOINT=s3_endpoint,
        DEIS_STORE__S3__ACCESS_KEY="testing",
        DEIS_STORE__S3__SECRET_KEY="testing",
        DEIS_STORE__S3__BUCKET_PREFIX=f"chart-{tmp_path.name.lower().replace('_', '-')}-",
        PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin",
        HOME=str(tmp_path),
    )
    ran = subprocess.run(restore["command"], env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert "nothing restored" in ran.stderr
    assert not (pgdata / "PG_VERSION").exists()
    (pgdata).mkdir()
    (pgdata / "PG_VERSION").write_text("18\n")
    again = subprocess.run(restore["command"], env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "database present: nothing to restore" in again.stdout


def test_pull_secrets_reach_every_pod_running_a_platform_image(chart: helm.Chart) -> None:
    rendered = render(chart, {"image": {"pullSecrets": ["regcred", "mirror"]}})
    assert invalid_objects(rendered, KUBE_VERSIONS[-1]) == []
    pods = [*pod_specs(rendered)] + [
        (f"Pod/{o['metadata']['name']}", o["spec"]) for o in rendered.of_kind("Pod")
    ]
    for where, pod in pods:
        if any(c["image"].startswith("deis/") for c in pod["containers"]):
            assert pod["imagePullSecrets"] == [{"name": "regcred"}, {"name": "mirror"}], where


def test_helm_test_checks_the_api_the_router_and_git_over_ssh(chart: helm.Chart) -> None:
    rendered = render(chart, {"platform": {"domain": "apps.example.com"}})
    pod = rendered.get("Pod", "workflow-test")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    script = pod["spec"]["containers"][0]["command"][-1]
    compile(script, "helm-test", "exec")
    assert "http://workflow-controller:8000/readiness" in script
    assert 'host="deis.apps.example.com"' in script
    assert '("workflow-router.deis.svc", 2222)' in script


def test_postgres_does_not_start_empty_while_the_backups_are_unreachable(
    default: Rendered, tmp_path: Path
) -> None:
    """A store outage at start fails the restore init container (Kubernetes retries it) instead of letting
    initdb create an empty database over backups it could not see."""
    restore = default.container("StatefulSet", "workflow-postgres", "restore")
    env = {name: value for name, value in env_of(restore).items() if isinstance(value, str)}
    env.update(
        PGDATA=str(tmp_path / "pgdata"),
        DEIS_BACKUP__DATA_DIR=str(tmp_path / "restore"),
        DEIS_STORE__S3__ENDPOINT=f"http://127.0.0.1:{free_port()}",
        DEIS_STORE__S3__ACCESS_KEY="testing",
        DEIS_STORE__S3__SECRET_KEY="testing",
        PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin",
        HOME=str(tmp_path),
    )
    ran = subprocess.run(restore["command"], env=env, capture_output=True, text=True, timeout=120)
    assert ran.returncode != 0
    assert "Could not connect" in ran.stderr
    assert not (tmp_path / "pgdata" / "PG_VERSION").exists()


def test_scheduling_values_place_every_platform_pod(chart: helm.Chart) -> None:
    selector = {"node-role.example.com/deis": "true"}
    toleration = {"key": "dedicated", "operator": "Equal", "value": "deis", "effect": "NoSchedule"}
    rendered = render(chart, {"nodeSelector": selector, "tolerations": [toleration]})
    assert invalid_objects(rendered, KUBE_VERSIONS[-1]) == []
    for where, pod in pod_specs(rendered):
        if where == "DaemonSet/workflow-registry-proxy":
            assert pod["tolerations"] == [{"operator": "Exists"}]  # a proxy on every node, tainted or not
            continue
        assert pod["nodeSelector"] == selector, where
        assert pod["tolerations"] == [toleration], where
    nats = rendered.get("StatefulSet", "workflow-nats")["spec"]["template"]["spec"]
    assert "podAntiAffinity" in nats["affinity"]
    zone = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}
                ]
            }
        }
    }
    placed = render(chart, {"affinity": zone})
    for where, pod in pod_specs(placed):
        if where != "DaemonSet/workflow-registry-proxy":
            assert pod["affinity"] == zone, where


@pytest.mark.parametrize("service", SERVICES)
def test_prometheus_finds_each_services_metrics(default: Rendered, service: str) -> None:
    kind, name, container = SERVICE_CONTAINERS[service]
    annotations = default.get(kind, name)["spec"]["template"]["metadata"]["annotations"]
    port = int(env_of(default.container(kind, name, container))["DEIS_HTTP__PORT"])
    assert annotations["prometheus.io/scrape"] == "true"
    assert (annotations["prometheus.io/port"], annotations["prometheus.io/path"]) == (str(port), "/metrics")
