"""The Heroku buildpack API, run inside the build sandbox.

A buildpack is a directory with ``bin/detect BUILD_DIR``, ``bin/compile BUILD_DIR CACHE_DIR ENV_DIR`` and
``bin/release BUILD_DIR`` (optionally ``bin/pre-compile`` / ``bin/post-compile``). The app is built in
place at ``/app`` — the path it runs at — with the cache at ``/tmp/cache``, the config files at
``/tmp/env``, the buildpack itself read-only at ``/tmp/buildpack`` and the builder's toolchains (Go)
read-only under ``/tmp/toolchains``. Bundled packs ship inside this package; a custom one is cloned from
``BUILDPACK_URL`` (``<git url>[#ref]``).
"""

from __future__ import annotations

import base64
import binascii
import shutil
import stat
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from deis_builder.build.buildlog import BuildLog
from deis_builder.build.buildpacks.languages import unsupported_language
from deis_builder.build.buildpacks.toolchains import Toolchain
from deis_builder.build.sandbox import Mount, Sandbox
from deis_builder.errors import BuildError
from deis_builder.process import run_streaming

BUNDLED_ORDER = ("python", "nodejs", "go", "static", "procfile")
BUNDLED_NAMES = ("Python", "Node.js", "Go", "static sites", "Procfile")
_BUNDLED_ROOT = Path(__file__).parent / "bundled"

APP_DIR = "/app"
CACHE_DIR = "/tmp/cache"
ENV_DIR = "/tmp/env"
BUILDPACK_DIR = "/tmp/buildpack"
SSH_KEY_PATH = "/tmp/ssh/id_rsa"
STEP_TIMEOUT = 900.0


@dataclass(frozen=True)
class Buildpack:
    path: Path
    label: str
    # Detects nearly anything (a Procfile): not tried for apps in a language that has no bundled pack.
    catch_all: bool = False


CATCH_ALL = "procfile"
HOW_TO_BRING_ONE = "deis config:set BUILDPACK_URL=<git url of a buildpack>[#ref]"


@dataclass(frozen=True)
class Workspace:
    """The host directories of one build."""

    root: Path

    @property
    def app(self) -> Path:
        return self.root / "app"

    @property
    def cache(self) -> Path:
        return self.root / "cache"

    @property
    def env(self) -> Path:
        return self.root / "env"

    @property
    def buildpacks(self) -> Path:
        return self.root / "buildpacks"

    @property
    def ssh_key(self) -> Path:
        return self.root / "ssh" / "id_rsa"

    def create(self) -> None:
        for path in (self.app, self.cache, self.env, self.buildpacks):
            path.mkdir(parents=True, exist_ok=True)

    def write_env(self, config: dict[str, str]) -> None:
        """Config as ENV_DIR files: one file per key, its value as content."""
        for key, value in config.items():
            if "/" in key or key in (".", "..") or not key:
                continue
            (self.env / key).write_text(value)

    def write_ssh_key(self, encoded: str) -> None:
        """``SSH_KEY`` (base64, as the CLI sets it) for git over SSH during the build; it is mounted
        outside ``/app`` so it never ends up in the slug."""
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError) as e:
            raise BuildError("SSH_KEY must be a base64-encoded private key") from e
        self.ssh_key.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.ssh_key.write_bytes(key if key.endswith(b"\n") else key + b"\n")
        self.ssh_key.chmod(0o600)


def bundled_buildpacks(workspace: Workspace) -> list[Buildpack]:
    """The bundled packs in detection order, copied into the workspace with their scripts executable."""
    packs = []
    for name in BUNDLED_ORDER:
        target = workspace.buildpacks / name
        if not target.exists():
            shutil.copytree(_BUNDLED_ROOT / name, target)
        _make_executable(target / "bin")
        packs.append(Buildpack(path=target, label=name, catch_all=name == CATCH_ALL))
    return packs


def check_buildpack_url(repo: str, private_dirs: list[Path]) -> None:
    """Refuse what must not be cloned: option-looking URLs and the builder's own files (other apps'
    repositories and workspaces live there)."""
    if not repo or repo.startswith("-") or any(c.isspace() for c in repo):
        raise BuildError(f"BUILDPACK_URL {repo!r} is not a git URL")
    local = repo.removeprefix("file://") if repo.startswith("file://") or "://" not in repo else None
    if local is not None and ":" not in local.split("/", 1)[0]:
        resolved = Path(local).resolve()
        if any(resolved.is_relative_to(d.resolve()) for d in private_dirs):
            raise BuildError("BUILDPACK_URL may not point into the builder's own data")


async def fetch_buildpack(
    url: str, workspace: Workspace, log: BuildLog, private_dirs: list[Path] | None = None
) -> Buildpack:
    """Clone ``<git url>[#ref]``: a shallow clone of the ref first, then a full clone and checkout."""
    await log.step("Fetching custom buildpack")
    repo, _, ref = url.partition("#")
    check_buildpack_url(repo, private_dirs or [])
    target = workspace.buildpacks / f"custom-{uuid.uuid4().hex[:8]}"
    env = {
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ALLOW_PROTOCOL": "file:git:http:https:ssh",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(workspace.root),
    }
    shallow = (
        ["git", "clone", "--quiet", "--depth", "1"] + (["--branch", ref] if ref else []) + [repo, str(target)]
    )
    code, _ = await run_streaming(shallow, env=env, timeout=300)
    if code != 0:
        shutil.rmtree(target, ignore_errors=True)
        code, output = await run_streaming(
            ["git", "clone", "--quiet", repo, str(target)], env=env, timeout=300
        )
        if code == 0 and ref:
            code, output = await run_streaming(
                ["git", "-C", str(target), "checkout", "--quiet", ref], env=env, timeout=60
            )
        if code != 0:
            for line in output.splitlines()[-5:]:
                await log.line(f" !     {line}")
            raise BuildError(f"Cannot fetch the buildpack {url}")
    if not (target / "bin" / "compile").is_file():
        raise BuildError(f"The buildpack {url} has no bin/compile")
    _make_executable(target / "bin")
    return Buildpack(path=target, label=repo.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git"))


def _make_executable(bin_dir: Path) -> None:
    if not bin_dir.is_dir():
        return
    for script in bin_dir.iterdir():
        if script.is_file():
            script.chmod(script.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)


class BuildpackRunner:
    """Runs one build's buildpack steps in the sandbox."""

    def __init__(
        self,
        sandbox: Sandbox,
        workspace: Workspace,
        env: dict[str, str],
        log: BuildLog,
        toolchains: list[Toolchain] | None = None,
    ) -> None:
        self._sandbox = sandbox
        self._workspace = workspace
        self._env = env
        self._log = log
        self._toolchains = toolchains or []

    def _mounts(self, pack: Buildpack) -> list[Mount]:
        ws = self._workspace
        mounts = [
            Mount(ws.app, APP_DIR, writable=True),
            Mount(ws.cache, CACHE_DIR, writable=True),
            Mount(ws.env, ENV_DIR),
            Mount(pack.path, BUILDPACK_DIR),
        ]
        if ws.ssh_key.is_file():
            mounts.append(Mount(ws.ssh_key, SSH_KEY_PATH))
        mounts += [Mount(toolchain.root, toolchain.target) for toolchain in self._toolchains]
        return mounts

    async def detect(self, packs: list[Buildpack]) -> tuple[Buildpack, str]:
        """The first pack whose ``bin/detect`` succeeds, and the name it prints. An app in a language no
        bundled pack builds is not taken for a Procfile app: it fails, naming ``BUILDPACK_URL``."""
        language = unsupported_language(self._workspace.app)
        for pack in packs:
            if pack.catch_all and language is not None:
                continue
            if not (pack.path / "bin" / "detect").is_file():
                continue
            code, output = await self._sandbox.run(
                [f"{BUILDPACK_DIR}/bin/detect", APP_DIR], self._mounts(pack), self._env, timeout=60
            )
            if code == 0:
                name = output.strip().splitlines()[0].strip() if output.strip() else pack.label
                return pack, name
        await self._log.step("Unable to select a buildpack")
        if language is not None:
            why = f"No bundled buildpack builds {language.name} apps (this app has {language.marker})"
        else:
            why = "No bundled buildpack (" + ", ".join(BUNDLED_NAMES) + ") recognises this app"
        await self._log.line(f" !     {why}.")
        await self._log.line(" !     Set BUILDPACK_URL to a buildpack for your language:")
        await self._log.line(f" !       {HOW_TO_BRING_ONE}")
        raise BuildError(
            f"Unable to select a buildpack: {why[0].lower()}{why[1:]}; set BUILDPACK_URL to a buildpack "
            f"for your language: {HOW_TO_BRING_ONE}"
        )

    async def compile(self, pack: Buildpack) -> None:
        for hook in ("pre-compile", "compile", "post-compile"):
            if hook != "compile" and not (pack.path / "bin" / hook).is_file():
                continue
            argv = [f"{BUILDPACK_DIR}/bin/{hook}", APP_DIR, CACHE_DIR, ENV_DIR]
            code, _ = await self._sandbox.run(
                argv, self._mounts(pack), self._env, on_line=self._log.indented, timeout=STEP_TIMEOUT
            )
            if code != 0:
                raise BuildError(f"Build exited with code {code}, stopping build.")

    async def release(self, pack: Buildpack) -> dict[str, Any]:
        """``bin/release`` output: YAML with ``config_vars`` and ``default_process_types``."""
        if not (pack.path / "bin" / "release").is_file():
            return {}
        code, output = await self._sandbox.run(
            [f"{BUILDPACK_DIR}/bin/release", APP_DIR], self._mounts(pack), self._env, timeout=60
        )
        if code != 0:
            raise BuildError(f"The buildpack's bin/release exited with code {code}, stopping build.")
        try:
            release = yaml.safe_load(output) or {}
        except yaml.YAMLError as e:
            raise BuildError(f"The buildpack's bin/release printed invalid YAML: {e}") from e
        return release if isinstance(release, dict) else {}
