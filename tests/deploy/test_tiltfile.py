"""The Tiltfile, run against stand-ins for Tilt's built-ins: it builds an image for every image the chart
deploys, deploys the real chart (rendered by the Helm engine with the Tiltfile's values), syncs sources to
where the images install them and forwards the ports the README names.

Tiltfiles are Starlark, which for this file is also Python, so the file is executed as is; `helm()` renders
the chart with helm-python-sdk the way `helm template --set` would.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from typing import Any

import helm_python as helm
import kubernetes_validate
import pytest
import yaml

from tests.deploy.chart import REPO, env_of
from tests.deploy.dockerfile import command_of, image_stage, parse

TILTFILE = REPO / "Tiltfile"


def set_values(assignments: list[str]) -> dict[str, Any]:
    """`helm --set a.b=c` assignments as nested values (numbers and booleans typed, like Helm does)."""
    values: dict[str, Any] = {}
    for assignment in assignments:
        key, _, raw = assignment.partition("=")
        value: Any = {"true": True, "false": False}.get(raw, raw)
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        *parents, leaf = key.split(".")
        node = values
        for parent in parents:
            node = node.setdefault(parent, {})
        node[leaf] = value
    return values


@dataclass
class TiltRun:
    builds: dict[str, dict[str, Any]] = field(default_factory=dict)
    objects: list[dict[str, Any]] = field(default_factory=list)
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    namespaces: list[str] = field(default_factory=list)
    watched: list[str] = field(default_factory=list)


class _Path:
    @staticmethod
    def exists(path: str) -> bool:
        return (REPO / path).exists()


class _Os:
    path = _Path()


def run_tiltfile() -> TiltRun:
    run = TiltRun()

    def docker_build(ref: str, context: str, **kwargs: Any) -> None:
        assert ref not in run.builds, f"{ref} is built twice"
        run.builds[ref] = {"context": context, **kwargs}

    def docker_build_with_restart(ref: str, context: str, entrypoint: list[str], **kwargs: Any) -> None:
        docker_build(ref, context, entrypoint=entrypoint, restart=True, **kwargs)

    def render_chart(path: str, name: str, namespace: str, set: list[str]) -> str:
        with helm.Chart.load(REPO / path) as chart:
            manifests = chart.render(values=set_values(set), name=name, namespace=namespace)
        return "\n---\n".join(text for key, text in sorted(manifests.items()) if not key.endswith(".txt"))

    def k8s_resource(workload: str, **kwargs: Any) -> None:
        run.resources[workload] = kwargs

    builtins: dict[str, Any] = {
        "load": lambda extension, *symbols: None,
        "namespace_create": run.namespaces.append,
        "docker_build": docker_build,
        "docker_build_with_restart": docker_build_with_restart,
        "sync": lambda local, remote: ("sync", local, remote),
        "fall_back_on": lambda paths: ("fall_back_on", paths),
        "helm": render_chart,
        "decode_yaml_stream": lambda text: [d for d in yaml.safe_load_all(text) if d],
        "encode_yaml_stream": lambda objects: objects,
        "k8s_yaml": run.objects.extend,
        "watch_file": run.watched.append,
        "k8s_resource": k8s_resource,
        "os": _Os(),
    }
    exec(compile(TILTFILE.read_text(), str(TILTFILE), "exec"), builtins)
    return run


@pytest.fixture(scope="module")
def tilt() -> TiltRun:
    return run_tiltfile()


def workloads(run: TiltRun) -> dict[str, dict[str, Any]]:
    kinds = {"Deployment", "StatefulSet", "DaemonSet", "Job"}
    return {o["metadata"]["name"]: o for o in run.objects if o["kind"] in kinds}


def containers(workload: dict[str, Any]) -> list[dict[str, Any]]:
    pod = workload["spec"]["template"]["spec"]
    found: list[dict[str, Any]] = pod.get("initContainers", []) + pod["containers"]
    return found


def test_tilt_deploys_the_chart_into_the_deis_namespace_as_valid_objects(tilt: TiltRun) -> None:
    assert tilt.namespaces == ["deis"]
    assert "deploy/helm/workflow" in tilt.watched
    assert len(workloads(tilt)) >= 9
    assert not [o for o in tilt.objects if o["kind"] == "Pod"], "helm test pods are left to `helm test`"
    for obj in tilt.objects:
        kubernetes_validate.validate(obj, "1.35.0", strict=True)


def test_tilt_builds_every_image_the_chart_runs_from_this_repository(tilt: TiltRun) -> None:
    images = {c["image"].rsplit(":", 1)[0] for w in workloads(tilt).values() for c in containers(w)}
    ours = {image for image in images if image.startswith("deis/")}
    assert ours == set(tilt.builds) - {"deis/slugrunner"}
    # the slugrunner runs apps: the scheduler names it in an environment variable, where Tilt replaces it too
    assert tilt.builds["deis/slugrunner"]["match_in_env_vars"] is True
    for ref, build in tilt.builds.items():
        assert (REPO / build["dockerfile"]).is_file(), ref
        for stage in parse(REPO / build["dockerfile"], build.get("build_args")):
            for instruction in stage.instructions:
                if instruction.keyword in {"COPY", "ADD"} and "from" not in instruction.flags:
                    for source in instruction.args.split()[:-1]:
                        assert (REPO / build["context"] / source).exists(), (ref, source)


def test_every_build_context_holds_what_its_dockerfile_copies(tilt: TiltRun) -> None:
    for ref, build in tilt.builds.items():
        if "only" not in build:
            continue
        for stage in parse(REPO / build["dockerfile"], build.get("build_args")):
            for instruction in stage.instructions:
                if instruction.keyword != "COPY" or "from" in instruction.flags:
                    continue
                for source in instruction.args.split()[:-1]:
                    assert any(source == top or source.startswith(top + "/") for top in build["only"]), (
                        ref,
                        source,
                    )


def test_live_updates_sync_sources_to_where_the_image_installs_them(tilt: TiltRun) -> None:
    members = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]["members"]
    restarted = {ref: build for ref, build in tilt.builds.items() if build.get("restart")}
    assert set(restarted) == {
        "deis/controller",
        "deis/builder",
        "deis/scheduler",
        "deis/router-sync",
        "deis/backup",
    }
    for ref, build in restarted.items():
        steps = build["live_update"]
        assert steps[0][0] == "fall_back_on"
        assert {"uv.lock", "pyproject.toml"} | {f"{m}/pyproject.toml" for m in members} <= set(steps[0][1])
        syncs = {local: remote for kind, local, remote in steps[1:] if kind == "sync"}
        assert syncs["libs/deis_common/src"] == "/app/libs/deis_common/src"
        for local, remote in syncs.items():
            assert (REPO / local).is_dir(), local
            assert remote == "/app/" + local  # the images install the workspace editable under /app
        # the restarted process is the image's own command
        final = image_stage(REPO / build["dockerfile"], build["build_args"])
        cmd = [command_of(i) for i in final.instructions if i.keyword == "CMD"][-1]
        assert build["entrypoint"] == cmd, ref
        assert build["build_args"]["APP_OWNER"].split(":")[0] in {"1000", "999"}


def test_restarted_images_are_used_only_by_the_service_containers(tilt: TiltRun) -> None:
    """The restart wrapper replaces the command of every container using its image."""
    restarted = {ref for ref, build in tilt.builds.items() if build.get("restart")}
    for name, workload in workloads(tilt).items():
        for container in containers(workload):
            if container["image"].rsplit(":", 1)[0] in restarted:
                assert container["command"][0].startswith("deis-"), (name, container["name"])


def test_development_credentials_stay_the_same_across_reloads(tilt: TiltRun) -> None:
    again = run_tiltfile()
    secret = [
        o for o in tilt.objects if o["kind"] == "Secret" and o["metadata"]["name"] == "workflow-secrets"
    ]
    secret_again = [o for o in again.objects if o["metadata"]["name"] == "workflow-secrets"]
    assert secret[0]["stringData"] == secret_again[0]["stringData"]
    data = secret[0]["stringData"]
    assert data["database-password"] == "tilt-dev-database-password"
    assert data["database-controller-password"] == "tilt-dev-controller-password"
    assert data["database-backup-password"] == "tilt-dev-backup-password"
    assert data["database-url"] == "postgresql://deis@workflow-postgres:5432/deis"


def test_tilt_forwards_the_controller_the_builder_and_the_router(tilt: TiltRun) -> None:
    forwards = {name: resource.get("port_forwards", []) for name, resource in tilt.resources.items()}
    assert forwards["workflow-controller"] == ["8000:8000"]
    assert forwards["workflow-builder"] == ["2222:2222"]
    assert "8080:8080" in forwards["workflow-router"]
    deployed = workloads(tilt)
    for name, resource in tilt.resources.items():
        assert name in deployed, f"k8s_resource {name} names no workload"
        for dependency in resource.get("resource_deps", []):
            assert dependency in deployed
        for forward in resource.get("port_forwards", []):
            port = int(forward.split(":")[1])
            ports = {p["containerPort"] for c in containers(deployed[name]) for p in c.get("ports", [])}
            assert port in ports, (name, forward)
    router_sync = next(c for c in containers(deployed["workflow-router"]) if c["name"] == "router-sync")
    assert env_of(router_sync)["DEIS_ROUTER_PORT"] == "8080"  # app URLs name the forwarded port
    controller = next(c for c in containers(deployed["workflow-controller"]) if c["name"] == "controller")
    assert env_of(controller)["DEIS_BUILDER_URL"] == "ssh://git@127.0.0.1:2222"  # the forwarded builder


def test_the_tiltfile_stays_within_starlark() -> None:
    """Starlark has no import, while, class or try: a Tiltfile using them would pass here and fail in Tilt."""
    text = TILTFILE.read_text()
    for word in ("import ", "while ", "class ", "try:", "with "):
        assert not any(line.lstrip().startswith(word) for line in text.splitlines()), word
