"""The service images build from the uv workspace, all from one Dockerfile: built with each image's SERVICE,
it names paths that exist in the repository, installs that workspace member with `uv sync --frozen`, runs as
a non-root user and starts the member's console script, the same command the Helm chart runs.

Docker cannot run here, so the Dockerfile is parsed (instructions, continuation lines, stages, build args)
and checked against the repository and the chart instead of built.
"""

from __future__ import annotations

import re
import tomllib

import pytest

from tests.deploy.chart import REPO, Rendered
from tests.deploy.dockerfile import Stage, command_of, ignored_patterns, image_stage, is_ignored, parse

DOCKERFILE = REPO / "deploy" / "images" / "service" / "Dockerfile"

# image → (workspace member directory, distribution name); SERVICE is the member's directory name
SERVICES = {
    "controller": ("services/controller", "deis-controller"),
    "builder": ("services/builder", "deis-builder"),
    "scheduler": ("services/scheduler", "deis-scheduler"),
    "router": ("services/router-sync", "deis-router-sync"),
    "backup": ("services/backup", "deis-backup"),
}


def build_args(image: str) -> dict[str, str]:
    member, _ = SERVICES[image]
    return {"SERVICE": member.removeprefix("services/")}


def stages_of(image: str) -> list[Stage]:
    return parse(DOCKERFILE, build_args(image))


def final_of(image: str) -> Stage:
    return image_stage(DOCKERFILE, build_args(image))


def workspace_members() -> list[str]:
    root = tomllib.loads((REPO / "pyproject.toml").read_text())
    members: list[str] = root["tool"]["uv"]["workspace"]["members"]
    return members


def member_project(member: str) -> dict[str, object]:
    project: dict[str, object] = tomllib.loads((REPO / member / "pyproject.toml").read_text())["project"]
    return project


@pytest.fixture(params=sorted(SERVICES))
def image(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def test_every_service_image_is_a_stage_of_the_one_dockerfile_with_its_build_context_filter() -> None:
    assert DOCKERFILE.is_file()
    assert DOCKERFILE.with_name("Dockerfile.dockerignore").is_file()
    for image in SERVICES:
        assert final_of(image).name == build_args(image)["SERVICE"], image


def test_every_local_copy_names_a_path_in_the_build_context(image: str) -> None:
    patterns = ignored_patterns(DOCKERFILE)
    stages = stages_of(image)
    stage_names = {stage.name for stage in stages}
    for stage in stages:
        for instruction in stage.instructions:
            if instruction.keyword not in {"COPY", "ADD"}:
                continue
            words = instruction.args.split()
            assert len(words) >= 2, instruction
            if "from" in instruction.flags:
                assert instruction.flags["from"] in stage_names | {stage.base for stage in stages}
                continue
            for source in words[:-1]:
                assert (REPO / source).exists(), f"{image}: COPY {source} does not exist in the repository"
                assert not is_ignored(source, patterns), (
                    f"{image}: COPY {source} is excluded from the context"
                )


def test_every_workspace_member_manifest_is_copied_so_uv_can_read_the_workspace(image: str) -> None:
    copied = {
        word
        for stage in stages_of(image)
        for instruction in stage.instructions
        if instruction.keyword == "COPY" and "from" not in instruction.flags
        for word in instruction.args.split()[:-1]
    }
    assert {"pyproject.toml", "uv.lock"} <= copied
    for member in workspace_members():
        assert f"{member}/pyproject.toml" in copied, f"{image}: {member}/pyproject.toml is not copied"


def test_the_image_installs_its_own_member_and_the_sources_it_imports(image: str) -> None:
    member, distribution = SERVICES[image]
    stages = stages_of(image)
    runs = [i.args for stage in stages for i in stage.instructions if i.keyword == "RUN"]
    syncs = [run for run in runs if "uv sync" in run]
    assert syncs, f"{image}: no uv sync"
    for sync in syncs:
        assert re.search(rf"uv sync --frozen --no-dev --package {distribution}(\s|$)", sync), sync
    assert not any("--no-install-workspace" in s for s in syncs[-1:]), "the last sync installs the member"
    copied = {
        instruction.args.split()[0]
        for stage in stages
        for instruction in stage.instructions
        if instruction.keyword == "COPY" and "from" not in instruction.flags
    }
    workspace_deps = {"deis-common": "libs/deis_common"}
    dependencies = member_project(member)["dependencies"]
    assert isinstance(dependencies, list)
    for dependency, path in workspace_deps.items():
        if dependency in dependencies:
            assert path in copied, f"{image}: {path} ({dependency}) is not copied"
    assert member in copied


def test_the_image_runs_as_a_non_root_user(image: str) -> None:
    final = final_of(image)
    users = [i.args.split(":")[0] for i in final.instructions if i.keyword == "USER"]
    assert users, f"{image}: the final stage sets no USER"
    assert users[-1] not in {"root", "0"}


def test_the_image_starts_the_members_console_script(image: str) -> None:
    member, _ = SERVICES[image]
    scripts = member_project(member)["scripts"]
    assert isinstance(scripts, dict)
    final = final_of(image)
    commands = [command_of(i) for i in final.instructions if i.keyword in {"CMD", "ENTRYPOINT"}]
    assert commands, f"{image}: no CMD"
    assert commands[-1][0] in scripts
    env = " ".join(i.args for i in final.instructions if i.keyword == "ENV")
    assert "PATH=/app/.venv/bin:" in env, "the console scripts are on PATH"


def test_the_build_and_run_stages_share_one_python_so_the_virtualenv_stays_valid(image: str) -> None:
    stages = stages_of(image)
    build = next(stage for stage in stages if stage.name == "build")
    env = " ".join(i.args for i in build.instructions if i.keyword == "ENV")
    assert "UV_PYTHON=/usr/bin/python3.11" in env
    assert "UV_PYTHON_DOWNLOADS=never" in env
    final = final_of(image)
    assert "bookworm" in build.base and "bookworm" in final.base  # Debian 12: /usr/bin/python3.11
    installs = " ".join(i.args for i in final.instructions if i.keyword == "RUN")
    assert re.search(r"apt-get install .*\bpython3\b", installs)
    assert any(i.keyword == "COPY" and i.flags.get("from") == "build" for i in final.instructions)


def final_runs(image: str) -> str:
    final = final_of(image)
    return " ".join(i.args for i in final.instructions if i.keyword == "RUN")


def test_the_router_image_puts_the_wheels_nginx_where_the_chart_runs_it() -> None:
    assert re.search(r"ln -s .*nginx_binary\(\).* /usr/local/bin/nginx", final_runs("router"))


def test_the_builder_image_has_the_tools_builds_run_with() -> None:
    packages = set(final_runs("builder").split())
    assert {"git", "bubblewrap", "buildah", "python3", "python3-venv", "nodejs", "npm"} <= packages


def test_the_backup_image_is_a_postgres_server_that_can_archive_its_wal() -> None:
    final = final_of("backup")
    assert final.base.startswith("postgres:")
    env = " ".join(i.args for i in final.instructions if i.keyword == "ENV")
    assert "PATH=/app/.venv/bin:" in env  # archive_command = deis-backup wal-push %p


def test_the_chart_runs_each_image_with_the_images_own_command(default: Rendered) -> None:
    rendered = default
    for image, container in {
        "controller": ("Deployment", "workflow-controller", "controller"),
        "builder": ("Deployment", "workflow-builder", "builder"),
        "scheduler": ("Deployment", "workflow-scheduler", "scheduler"),
        "router": ("Deployment", "workflow-router", "router-sync"),
        "backup": ("Deployment", "workflow-backup", "backup"),
    }.items():
        final = final_of(image)
        cmd = [command_of(i) for i in final.instructions if i.keyword == "CMD"][-1]
        assert rendered.container(*container)["command"] == cmd, image
