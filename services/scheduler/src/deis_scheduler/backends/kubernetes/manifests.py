"""Every Kubernetes object the scheduler creates, as plain dicts (ARCHITECTURE §7, workflow-features §3.4).

Pure functions of the desired state and settings: no client, no I/O, so tests validate each object against
the Kubernetes OpenAPI schemas. Per app: Namespace ``<app>``; Secret ``<app>-v<N>-env`` (the release's
config); Deployment ``<app>-<type>`` per process type (labels app/type/heritage=deis, RollingUpdate with
maxUnavailable 0, probes, resources, nodeSelector from tags); Service ``<app>`` for the routable type;
HorizontalPodAutoscaler ``<app>-<type>`` when autoscale is set; Pod ``<app>-run-<suffix>`` for ``deis run``;
imagePullSecrets (``kubernetes.io/dockerconfigjson``) ``deis-registry`` for the platform registry's
credentials and ``private-registry`` for the app's own (``deis registry:set``) when its image comes from
elsewhere.
"""

from __future__ import annotations

import base64
import json
import math
import shlex
from typing import Any

from deis_common.events.state import AppState, BuildArtifact
from deis_common.settings import StoreSettings
from deis_scheduler.desired import (
    BUILDPACK_PORT,
    PICK_SHELL,
    DesiredStateError,
    healthcheck_config,
    is_routable,
    min_ready_seconds,
    port_of,
)
from deis_scheduler.settings import KubernetesSettings, RegistrySettings

Manifest = dict[str, Any]
HERITAGE = "deis"
SLUG_BUCKET = "builder"
STORE_CREDS_PATH = "/var/run/secrets/deis/objectstore/creds"
PRIVATE_REGISTRY_SECRET = "private-registry"
# The buildpack default readiness probe: ready once /runner/init has fetched the slug and exec'd the process.
SLUGRUNNER_READY = ["/bin/bash", "-c", "[[ \"$(tr '\\0' ' ' </proc/1/cmdline)\" != *'/runner/init'* ]]"]


def labels(app: str, ptype: str | None = None, **extra: str) -> dict[str, str]:
    result = {"app": app, "heritage": HERITAGE}
    if ptype:
        result["type"] = ptype
    result.update(extra)
    return result


def namespace(app: str) -> Manifest:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": app, "labels": labels(app)}}


def store_secret(app: str, name: str, store: StoreSettings) -> Manifest:
    """The store keys slugrunner pods read (``accesskey``, ``secretkey``), copied into the app namespace."""
    keys = {"accesskey": store.s3.access_key or "", "secretkey": store.s3.secret_key or ""}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": name, "namespace": app, "labels": labels(app)},
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in keys.items()},
    }


def secret_name(state: AppState) -> str:
    return f"{state.app}-v{state.version}-env"


def secret_key(env_name: str) -> str:
    return env_name.lower().replace("_", "-")


def release_env(state: AppState) -> dict[str, str]:
    """The release's environment: platform defaults, then the user's config (which wins)."""
    env: dict[str, str] = {
        "DEIS_APP": state.app,
        "WORKFLOW_RELEASE": f"v{state.version}",
        "WORKFLOW_RELEASE_SUMMARY": state.summary,
    }
    if state.created_at is not None:
        env["WORKFLOW_RELEASE_CREATED_AT"] = state.created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    if state.build is not None and state.build.sha:
        env["SOURCE_VERSION"] = state.build.sha
    port = port_of(state)
    if port is not None:
        env["PORT"] = str(port)
    env.update(state.env)
    return dict(sorted(env.items()))


def env_secret(state: AppState) -> Manifest:
    data = {secret_key(k): base64.b64encode(v.encode()).decode() for k, v in release_env(state).items()}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": secret_name(state),
            "namespace": state.app,
            "labels": labels(state.app, "env", version=f"v{state.version}"),
        },
        "data": data,
    }


def _container_env(state: AppState, store: StoreSettings) -> list[dict[str, Any]]:
    name = secret_name(state)
    env: list[dict[str, Any]] = [
        {"name": key, "valueFrom": {"secretKeyRef": {"name": name, "key": secret_key(key)}}}
        for key in release_env(state)
    ]
    build = state.build
    if build is not None and build.kind == "buildpack":
        env += [
            {"name": "SLUG_URL", "value": build.location},
            {"name": "BUILDER_STORAGE", "value": store.driver},
            {"name": "DEIS_STORE_BUCKET", "value": store.s3.bucket_prefix + SLUG_BUCKET},
            {"name": "DEIS_STORE_ENDPOINT", "value": store.s3.endpoint or ""},
            {"name": "DEIS_STORE_REGION", "value": store.s3.region},
            {"name": "DEIS_STORE_CREDS", "value": STORE_CREDS_PATH},
        ]
    return sorted(env, key=lambda e: e["name"])


def command_and_args(build: BuildArtifact, ptype: str) -> tuple[list[str] | None, list[str] | None]:
    """Container command and args per §3.4 (None leaves the image's own)."""
    line = build.procfile.get(ptype, "").strip()
    if build.kind == "buildpack":
        return ["/runner/init"], ["start", ptype]
    if ptype == "cmd":
        return None, (shlex.split(line) if line else None)
    if not line:
        raise DesiredStateError(f"the Procfile has no {ptype!r} process type")
    return list(PICK_SHELL), [line]  # bash when the image has it, as on Workflow; else its sh


def image_of(build: BuildArtifact, settings: KubernetesSettings) -> str:
    return settings.slugrunner_image if build.kind == "buildpack" else build.location


def pull_location(location: str, registry: RegistrySettings) -> str:
    """Images pushed to the platform registry are pulled by nodes through its pull host (node-local proxy)."""
    if registry.host and registry.pull_host and location.startswith(registry.host + "/"):
        return registry.pull_host + location[len(registry.host) :]
    return location


def registry_secret(app: str, name: str, registry: RegistrySettings) -> Manifest:
    """An imagePullSecret for the platform registry's credentials (``kubernetes.io/dockerconfigjson``)."""
    return pull_secret(app, name, registry.pull_host or registry.host, registry.username, registry.password)


def registry_host(image: str) -> str:
    """The registry an image reference names, as a docker config keys it (Docker Hub for short names)."""
    first, slash, _ = image.removeprefix("docker://").partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        return "https://index.docker.io/v1/" if first in ("docker.io", "index.docker.io") else first
    return "https://index.docker.io/v1/"


def private_registry_secret(state: AppState) -> Manifest | None:
    """The app's own credentials (``deis registry:set``) for its image's registry, when it has them."""
    username, password = state.registry.get("username"), state.registry.get("password")
    if not (username and password) or state.build is None or state.build.kind == "buildpack":
        return None
    server = registry_host(state.build.location)
    return pull_secret(state.app, PRIVATE_REGISTRY_SECRET, server, username, password)


def pull_secret(app: str, name: str, server: str, username: str, password: str) -> Manifest:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    config = {"auths": {server: {"username": username, "password": password, "auth": token}}}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "kubernetes.io/dockerconfigjson",
        "metadata": {"name": name, "namespace": app, "labels": labels(app)},
        "data": {".dockerconfigjson": base64.b64encode(json.dumps(config).encode()).decode()},
    }


def probes(state: AppState, ptype: str, port: int | None) -> dict[str, Any]:
    """User probes (httpGet without a port gets PORT), or the default readiness for routable types."""
    config = healthcheck_config(state, ptype)
    result: dict[str, Any] = {}
    for key in ("livenessProbe", "readinessProbe"):
        probe = config.get(key)
        if not probe:
            continue
        probe = dict(probe)
        if "httpGet" in probe and port is not None:
            probe["httpGet"] = {"port": port, **dict(probe["httpGet"] or {})}
        if "tcpSocket" in probe and port is not None:
            probe["tcpSocket"] = {"port": port, **dict(probe["tcpSocket"] or {})}
        result[key] = probe
    if "readinessProbe" not in result and is_routable(ptype) and state.build is not None:
        timing = {"timeoutSeconds": 5, "periodSeconds": 5, "successThreshold": 1, "failureThreshold": 1}
        if state.build.kind == "buildpack":
            result["readinessProbe"] = {
                "exec": {"command": SLUGRUNNER_READY},
                "initialDelaySeconds": 30,
                **timing,
            }
        elif port is not None:
            result["readinessProbe"] = {"tcpSocket": {"port": port}, "initialDelaySeconds": 5, **timing}
    return result


def resources(state: AppState, ptype: str) -> dict[str, Any]:
    limits: dict[str, str] = {}
    requests: dict[str, str] = {}
    for resource, values in (("memory", state.memory), ("cpu", state.cpu)):
        value = values.get(ptype)
        if not value:
            continue
        request, _, limit = value.rpartition("/")
        limits[resource] = _quantity(limit, resource)
        if request:
            requests[resource] = _quantity(request, resource)
    out: dict[str, Any] = {}
    if limits:
        out["limits"] = limits
    if requests:
        out["requests"] = requests
    return out


def _quantity(value: str, resource: str) -> str:
    """Workflow's ``512M``/``1G`` mean binary units in Kubernetes (``512Mi``)."""
    value = value.strip()
    if resource == "memory" and value[-1:].upper() in ("K", "M", "G", "T"):
        return value[:-1] + value[-1].upper() + "i"
    if resource == "memory" and value[-2:].upper() in ("KB", "MB", "GB"):
        return value[:-2] + value[-2].upper() + "i"
    return value


CommandArgs = tuple[list[str] | None, list[str] | None]


def container(
    state: AppState,
    ptype: str,
    settings: KubernetesSettings,
    store: StoreSettings,
    command_args: CommandArgs | None = None,
) -> Manifest:
    build = state.build
    if build is None:
        raise DesiredStateError("a release without a build runs nothing")
    port = port_of(state)
    if is_routable(ptype) and port is None:
        raise DesiredStateError("Expose a port or make the app non routable by changing the process type")
    command, args = command_args or command_and_args(build, ptype)
    spec: Manifest = {
        "name": f"{state.app}-{ptype}",
        "image": image_of(build, settings),
        "imagePullPolicy": settings.image_pull_policy,
        "env": _container_env(state, store),
    }
    if command is not None:
        spec["command"] = command
    if args is not None:
        spec["args"] = args
    if is_routable(ptype) and port is not None:
        spec["ports"] = [{"containerPort": port, "protocol": "TCP", "name": "http"}]
    spec.update(probes(state, ptype, port))
    if res := resources(state, ptype):
        spec["resources"] = res
    if build.kind == "buildpack":
        spec["volumeMounts"] = [
            {"name": "objectstore-creds", "mountPath": STORE_CREDS_PATH, "readOnly": True}
        ]
    return spec


def pod_spec(
    state: AppState,
    ptype: str,
    settings: KubernetesSettings,
    store: StoreSettings,
    *,
    restart: str = "Always",
    command_args: CommandArgs | None = None,
    pull_secrets: list[str] | None = None,
) -> Manifest:
    spec: Manifest = {
        "containers": [container(state, ptype, settings, store, command_args)],
        "restartPolicy": restart,
        "terminationGracePeriodSeconds": settings.termination_grace_seconds,
        "automountServiceAccountToken": False,
    }
    if pull_secrets:
        spec["imagePullSecrets"] = [{"name": name} for name in pull_secrets]
    if state.tags:
        spec["nodeSelector"] = dict(state.tags)
    if state.build is not None and state.build.kind == "buildpack":
        spec["volumes"] = [{"name": "objectstore-creds", "secret": {"secretName": settings.store_secret}}]
    return spec


def deployment(
    state: AppState,
    ptype: str,
    settings: KubernetesSettings,
    store: StoreSettings,
    *,
    batch: int = 1,
    restarted_at: str | None = None,
    pull_secrets: list[str] | None = None,
) -> Manifest:
    replicas = max(0, state.structure.get(ptype, 0))
    template_annotations = {"deis.io/restartedAt": restarted_at} if restarted_at else {}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": f"{state.app}-{ptype}",
            "namespace": state.app,
            "labels": labels(state.app, ptype),
            "annotations": {"kubernetes.io/change-cause": state.summary or f"v{state.version}"},
        },
        "spec": {
            "replicas": replicas,
            "minReadySeconds": math.ceil(min_ready_seconds(state, 0)),
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": labels(state.app, ptype)},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": max(1, min(batch, replicas or 1))},
            },
            "template": {
                "metadata": {
                    "labels": labels(state.app, ptype, version=f"v{state.version}"),
                    "annotations": template_annotations,
                },
                "spec": pod_spec(state, ptype, settings, store, pull_secrets=pull_secrets),
            },
        },
    }


def service(state: AppState, ptype: str) -> Manifest:
    port = port_of(state) or BUILDPACK_PORT
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": state.app,
            "namespace": state.app,
            "labels": labels(state.app, **{"router.deis.io/routable": "true"}),
        },
        "spec": {
            "selector": labels(state.app, ptype),
            "ports": [{"name": "http", "port": 80, "targetPort": port, "protocol": "TCP"}],
        },
    }


def autoscaler(state: AppState, ptype: str) -> Manifest:
    config = state.autoscale[ptype]
    minimum = max(1, int(config.get("min", 1)))
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {
            "name": f"{state.app}-{ptype}",
            "namespace": state.app,
            "labels": labels(state.app, ptype),
        },
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": f"{state.app}-{ptype}"},
            "minReplicas": minimum,
            "maxReplicas": max(minimum, int(config.get("max", minimum))),
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {
                            "type": "Utilization",
                            "averageUtilization": int(config.get("cpu_percent", 80)),
                        },
                    },
                }
            ],
        },
    }


def run_pod(
    state: AppState,
    name: str,
    command: str,
    settings: KubernetesSettings,
    store: StoreSettings,
    *,
    pull_secrets: list[str] | None = None,
) -> Manifest:
    """A one-off ``deis run`` pod: same image, env and settings as the app; never restarted."""
    if state.build is None:
        raise DesiredStateError("the app has no build to run a command with; deploy it first")
    if state.build.kind == "buildpack":
        command_args: CommandArgs = (["/runner/init"], [command])
    else:
        command_args = (list(PICK_SHELL), [command])
    spec = pod_spec(
        state, "run", settings, store, restart="Never", command_args=command_args, pull_secrets=pull_secrets
    )
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": state.app, "labels": labels(state.app, "run")},
        "spec": spec,
    }
