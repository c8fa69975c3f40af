"""A buildpack build: pushed source in, slug and Procfile out (spec §2.7).

The steps and their output lines follow slugbuilder: restore the cache, pick the buildpack (custom from
``BUILDPACK_URL`` or the first bundled one whose ``bin/detect`` succeeds), compile, release, discover
process types, pack the slug, save the cache, upload ``slug.tgz`` and ``Procfile``.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from deis_builder import names
from deis_builder.build import slug
from deis_builder.build.buildlog import BuildLog
from deis_builder.build.buildpacks.runner import (
    SSH_KEY_PATH,
    Buildpack,
    BuildpackRunner,
    Workspace,
    bundled_buildpacks,
    fetch_buildpack,
)
from deis_builder.build.buildpacks.toolchains import Toolchain
from deis_builder.build.cache import BuildCache
from deis_builder.build.sandbox import Sandbox
from deis_common.events.pushes import PushReceived
from deis_common.events.state import BuildArtifact
from deis_common.store import ObjectStore


class SlugBuilder:
    def __init__(
        self,
        store: ObjectStore,
        sandbox: Sandbox,
        passthrough_env: list[str],
        private_dirs: list[Path],
        toolchains: list[Toolchain] | None = None,
    ) -> None:
        self._private_dirs = private_dirs
        self._store = store
        self._sandbox = sandbox
        self._passthrough = passthrough_env
        self._toolchains = toolchains or []

    def _env(self, app: str, sha8: str, ssh_key: bool) -> dict[str, str]:
        env = {
            "HOME": "/app",
            "PATH": ":".join(["/usr/local/bin", "/usr/bin", "/bin", *(t.bin_dir for t in self._toolchains)]),
            "LANG": "C.UTF-8",
            "STACK": "cedar-14",
            "REQUEST_ID": uuid.uuid4().hex,
            "SOURCE_VERSION": sha8,
            "DEIS_APP": app,
        }
        for name in self._passthrough:
            value = os.environ.get(name)
            if value is not None:
                env[name] = value
        if ssh_key:
            env["GIT_SSH_COMMAND"] = (
                f"ssh -i {SSH_KEY_PATH} -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"
            )
        return env

    async def build(self, push: PushReceived, workspace: Workspace, log: BuildLog) -> BuildArtifact:
        sha8 = names.short_sha(push.sha)
        workspace.write_env(push.env)
        if push.env.get("SSH_KEY"):
            workspace.write_ssh_key(push.env["SSH_KEY"])
        cache = BuildCache(self._store, push.app, workspace.cache, workspace.root, log)
        caching = "DEIS_DISABLE_CACHE" not in push.env
        if caching:
            await cache.restore()
        else:
            await cache.drop()

        repo_procfile = slug.read_procfile(workspace.app)
        buildpack_url = push.env.get("BUILDPACK_URL", "").strip()
        packs: list[Buildpack]
        if buildpack_url:
            packs = [await fetch_buildpack(buildpack_url, workspace, log, self._private_dirs)]
        else:
            packs = bundled_buildpacks(workspace)
        env = self._env(push.app, sha8, ssh_key=workspace.ssh_key.is_file())
        # One network namespace for the whole build; the build user (never root) writes the app and cache.
        owned = [workspace.app, workspace.cache, workspace.ssh_key.parent]
        async with self._sandbox.session(owned) as sandbox:
            runner = BuildpackRunner(sandbox, workspace, env, log, self._toolchains)
            pack, name = await runner.detect(packs)
            await log.step(f"{name} app detected")
            await runner.compile(pack)
            release = await runner.release(pack)

        await log.step("Discovering process types")
        defaults = slug.default_process_types(release)
        if repo_procfile is not None:
            procfile = dict(repo_procfile)
            await log.line(f"       Procfile declares types -> {', '.join(procfile) or '(none)'}")
        else:
            procfile = defaults
        if defaults:
            await log.line(f"       Default process types for {name} -> {', '.join(defaults)}")

        slug.apply_slugignore(workspace.app)
        slug_file = workspace.root / "slug.tgz"
        size = await slug.pack(workspace.app, slug_file)
        if caching:
            await cache.save()
        await log.step(f"Compiled slug size is {slug.human_size(size)}")

        await self._store.put_file(names.BUCKET, names.slug_key(push.app, sha8), slug_file)
        await self._store.put(
            names.BUCKET, names.procfile_key(push.app, sha8), slug.dump_procfile(procfile).encode()
        )
        return BuildArtifact(
            kind="buildpack", location=names.slug_key(push.app, sha8), sha=sha8, procfile=procfile
        )
