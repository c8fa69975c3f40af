"""Rendering the Helm chart with the real Helm engine (the helm-python-sdk wheel) into plain objects.

Offline rendering sees no cluster: ``lookup`` finds nothing, so every generated secret is fresh.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import helm_python as helm
import kubernetes_validate
import yaml

REPO = Path(__file__).resolve().parents[2]
CHART_DIR = REPO / "deploy" / "helm" / "workflow"
OFFCLUSTER_VALUES = CHART_DIR / "values-offcluster.yaml"
RELEASE = "workflow"
NAMESPACE = "deis"
SECRET = "workflow-secrets"

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


def load_values(path: Path) -> dict[str, Any]:
    values: dict[str, Any] = yaml.safe_load(path.read_text())
    return values


@dataclass
class Rendered:
    """One rendering of the chart: its Kubernetes objects and its NOTES.txt."""

    objects: list[dict[str, Any]]
    notes: str

    def find(self, kind: str, name: str) -> dict[str, Any] | None:
        for obj in self.objects:
            if obj["kind"] == kind and obj["metadata"]["name"] == name:
                return obj
        return None

    def get(self, kind: str, name: str) -> dict[str, Any]:
        obj = self.find(kind, name)
        assert obj is not None, f"{kind} {name} is not rendered; rendered: {self.names()}"
        return obj

    def names(self) -> list[str]:
        return sorted(f"{o['kind']}/{o['metadata']['name']}" for o in self.objects)

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [o for o in self.objects if o["kind"] == kind]

    def workloads(self) -> Iterator[dict[str, Any]]:
        for obj in self.objects:
            if obj["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "Job"}:
                yield obj

    def container(self, kind: str, name: str, container: str) -> dict[str, Any]:
        pod = self.get(kind, name)["spec"]["template"]["spec"]
        for c in pod.get("initContainers", []) + pod["containers"]:
            if c["name"] == container:
                found: dict[str, Any] = c
                return found
        raise AssertionError(f"{kind} {name} has no container {container}")

    def secret_data(self, name: str) -> dict[str, str]:
        secret = self.get("Secret", name)
        assert "data" not in secret or "stringData" not in secret
        return dict(secret.get("stringData") or {})


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    """Variable name → literal value, or ("secret", name, key) for a secretKeyRef, or ("field", path)."""
    env: dict[str, Any] = {}
    for var in container.get("env", []):
        assert var["name"] not in env, f"{var['name']} is set twice in {container['name']}"
        if "value" in var:
            env[var["name"]] = var["value"]
        elif "secretKeyRef" in var.get("valueFrom", {}):
            ref = var["valueFrom"]["secretKeyRef"]
            env[var["name"]] = ("secret", ref["name"], ref["key"])
        else:
            env[var["name"]] = ("field", var["valueFrom"]["fieldRef"]["fieldPath"])
    return env


def render(chart: helm.Chart, values: dict[str, Any] | None = None) -> Rendered:
    manifests = chart.render(values=values, name=RELEASE, namespace=NAMESPACE, is_install=True)
    objects: list[dict[str, Any]] = []
    notes = ""
    for path, text in sorted(manifests.items()):
        if path.endswith("NOTES.txt"):
            notes = text
            continue
        for document in yaml.safe_load_all(text):
            if document:
                assert isinstance(document, dict), f"{path} renders a non-object document"
                objects.append(document)
    return Rendered(objects, notes)


def invalid_objects(rendered: Rendered, version: str) -> list[str]:
    """What the Kubernetes schemas of ``version`` (strict: no unknown fields) say about each object."""
    problems = []
    for obj in rendered.objects:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as e:
            where = "/".join(str(p) for p in e.path)
            problems.append(f"{obj['kind']}/{obj['metadata']['name']} at {where}: {e.message}")
    return problems


def pod_specs(rendered: Rendered) -> Iterator[tuple[str, dict[str, Any]]]:
    for obj in rendered.workloads():
        yield f"{obj['kind']}/{obj['metadata']['name']}", obj["spec"]["template"]["spec"]
