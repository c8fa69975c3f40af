"""The bundled buildpacks on their own, in the build sandbox: detection and interpreter choice."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest

from deis_builder.build.buildpacks.runner import BUNDLED_ORDER
from deis_builder.build.limits import MemoryLimit
from deis_builder.build.sandbox import Mount, Sandbox
from deis_builder.settings import parse_size

BUNDLED = Path(__file__).resolve().parents[2] / "services/builder/src/deis_builder/build/buildpacks/bundled"
APPS = Path(__file__).parent / "apps"
MISSING = "is not available on this node"


async def _run(app: Path, tmp_path: Path, pack: str, step: str) -> tuple[int, str]:
    for name in ("cache", "env"):
        await asyncio.to_thread((tmp_path / name).mkdir, exist_ok=True)
    mounts = [
        Mount(app, "/app", writable=True),
        Mount(tmp_path / "cache", "/tmp/cache", writable=True),
        Mount(tmp_path / "env", "/tmp/env"),
        Mount(BUNDLED / pack, "/tmp/buildpack"),
    ]
    argv = [f"/tmp/buildpack/bin/{step}", "/app", "/tmp/cache", "/tmp/env"]
    return await Sandbox(["/etc", "/opt"]).run(argv, mounts, {"HOME": "/app", "PATH": "/usr/bin:/bin"})


async def _detected(app: Path, tmp_path: Path) -> str | None:
    for pack in BUNDLED_ORDER:
        code, output = await _run(app, tmp_path, pack, "detect")
        if code == 0:
            return output.strip()
    return None


@pytest.mark.parametrize(
    ("fixture", "name"),
    [
        ("python-flask", "Python"),
        ("python-pyproject", "Python"),
        ("node", "Node.js"),
        ("static", "Static"),
        ("example-go", "Go"),
        ("go-vendored", "Go"),
        ("go-module", "Go"),
        ("shell", "Procfile"),
        ("plain", None),
    ],
)
async def test_the_first_bundled_pack_that_recognises_the_app_wins(
    fixture: str, name: str | None, tmp_path: Path
) -> None:
    app = tmp_path / "app"
    await asyncio.to_thread(shutil.copytree, APPS / fixture, app)
    assert await _detected(app, tmp_path) == name


@pytest.mark.parametrize(
    ("filename", "content", "message"),
    [
        (
            ".python-version",
            "3.99\n",
            "Requested runtime python-3.99 is not available on this node (available: python-3.11",
        ),
        (
            "runtime.txt",
            "python-3.11.999",
            "Requested runtime python-3.11.999 is not available on this node (available: python-3.11.",
        ),
        (
            "runtime.txt",
            "pypy3.9-7.3",
            "The requested runtime must be a Python version such as python-3.11, not 'pypy3.9-7.3'",
        ),
    ],
)
async def test_an_interpreter_the_node_lacks_is_named_with_what_it_has(
    filename: str, content: str, message: str, tmp_path: Path
) -> None:
    app = tmp_path / "app"
    await asyncio.to_thread(app.mkdir)
    await asyncio.to_thread((app / filename).write_text, content)
    code, output = await _run(app, tmp_path, "python", "compile")
    assert code == 1, output
    assert message in output


async def test_python_version_file_picks_the_interpreter(tmp_path: Path) -> None:
    app = tmp_path / "app"
    await asyncio.to_thread(app.mkdir)
    await asyncio.to_thread((app / ".python-version").write_text, "3.11\n")
    code, output = await _run(app, tmp_path, "python", "compile")
    assert code == 0, output
    assert "-----> Using python-3.11." in output
    assert (app / ".venv" / "bin" / "python").resolve() == Path("/usr/bin/python3.11")


async def test_a_step_using_more_memory_than_the_limit_is_stopped_and_says_so(tmp_path: Path) -> None:
    limit = MemoryLimit(64 * 1024**2)
    if not limit.usable:
        pytest.skip("no writable cgroup memory controller here (v1 or v2)")
    app = tmp_path / "app"
    await asyncio.to_thread(app.mkdir)
    lines: list[str] = []

    async def collect(line: str) -> None:
        lines.append(line)

    code, output = await Sandbox(memory=limit).run(
        ["/usr/bin/python3", "-c", "block = b'x' * (512 * 1024 * 1024); print(len(block))"],
        [Mount(app, "/app", writable=True)],
        {"PATH": "/usr/bin:/bin"},
        on_line=collect,
    )
    assert code != 0, output
    assert lines[-1] == " !     The build used more than its memory limit (64 MiB) and was stopped"
    code, output = await Sandbox(memory=limit).run(
        ["/usr/bin/python3", "-c", "print(len(b'x' * (8 * 1024 * 1024)))"],
        [],
        {"PATH": "/usr/bin:/bin"},
        cwd="/",
    )
    assert (code, output.strip()) == (0, str(8 * 1024 * 1024)), "work under the limit runs as usual"


def test_memory_limits_read_like_the_cli_writes_them() -> None:
    assert parse_size("512m") == 512 * 1024**2
    assert parse_size("2G") == 2 * 1024**3
    assert parse_size("1.5g") == int(1.5 * 1024**3)
    assert parse_size("") is None and parse_size("0") is None
    with pytest.raises(ValueError, match="not a size"):
        parse_size("lots")
