"""The Helm chart renders with the real Helm engine into objects that are valid for Kubernetes, lint-clean,
labelled, secured and placeable the way an operator expects, and tells the user what to do next."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from typing import Any

import helm_python as helm
import pytest

from deis_platform.env_contract import SERVICES
from tests.deploy.chart import (
    CHART_DIR,
    KUBE_VERSIONS,
    NAMESPACE,
    OFFCLUSTER_VALUES,
    SERVICE_CONTAINERS,
    Rendered,
    env_of,
    invalid_objects,
    load_values,
    pod_specs,
    render,
)


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


def test_pull_secrets_reach_every_pod_running_a_platform_image(chart: helm.Chart) -> None:
    rendered = render(chart, {"image": {"pullSecrets": ["regcred", "mirror"]}})
    assert invalid_objects(rendered, KUBE_VERSIONS[-1]) == []
    pods = [*pod_specs(rendered)] + [
        (f"Pod/{o['metadata']['name']}", o["spec"]) for o in rendered.of_kind("Pod")
    ]
    for where, pod in pods:
        if any(c["image"].startswith("deis/") for c in pod["containers"]):
            assert pod["imagePullSecrets"] == [{"name": "regcred"}, {"name": "mirror"}], where


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


def test_the_install_notes_give_the_controller_url_and_the_git_remote(chart: helm.Chart) -> None:
    notes = render(chart, {"platform": {"domain": "apps.example.com"}}).notes
    assert "deis register http://deis.apps.example.com\n" in notes
    assert "ssh://git@deis-builder.apps.example.com:2222/<app>.git" in notes
    assert "http://<app>.apps.example.com." in notes
    on_port = render(chart, {"platform": {"domain": "apps.example.com", "routerPort": 8080}}).notes
    assert "http://deis.apps.example.com:8080" in on_port


def test_registration_is_admin_only_unless_the_operator_opens_it(
    chart: helm.Chart, default: Rendered
) -> None:
    def mode(rendered: Rendered) -> Any:
        return env_of(rendered.container(*SERVICE_CONTAINERS["controller"]))["DEIS_REGISTRATION_MODE"]

    assert mode(default) == "admin_only"
    assert "Registration is admin_only: then the admin registers" in default.notes
    opened = render(chart, {"controller": {"registrationMode": "enabled"}})
    assert mode(opened) == "enabled"
    assert "Registration is enabled.\n" in opened.notes


def test_helm_test_checks_the_api_the_router_and_git_over_ssh(chart: helm.Chart) -> None:
    rendered = render(chart, {"platform": {"domain": "apps.example.com"}})
    pod = rendered.get("Pod", "workflow-test")
    assert pod["metadata"]["annotations"]["helm.sh/hook"] == "test"
    script = pod["spec"]["containers"][0]["command"][-1]
    compile(script, "helm-test", "exec")
    assert "http://workflow-controller:8000/readiness" in script
    assert 'host="deis.apps.example.com"' in script
    assert '("workflow-router.deis.svc", 2222)' in script
