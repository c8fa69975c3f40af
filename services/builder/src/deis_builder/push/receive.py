"""The receive side of a git push: from the pre-receive hook to "Done, <app>:v<N> deployed".

For each pushed ref (any branch builds): authorize through the controller's config hook, archive the
pushed revision to the store, publish ``pushes.received`` and relay the build's log lines and outcome
to the client. The hook's exit code decides whether git updates the refs: 0 only once the release is
deployed, so a failed build or deploy leaves the repository (and the running release) as it was.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import structlog

from deis_builder import names
from deis_builder.metrics import BuilderMetrics
from deis_builder.process import run_streaming
from deis_builder.push.controller import (
    AccessDenied,
    ControllerClient,
    ControllerError,
    UnknownApp,
    config_values,
)
from deis_builder.settings import BuilderSettings
from deis_common.bus import Bus, Watch, WatchTimeout
from deis_common.events.base import Event
from deis_common.events.builds import BuildCompleted, BuildFailed, BuildStarted, build_log_subject
from deis_common.events.deploys import DeployFailed
from deis_common.events.pushes import PushReceived
from deis_common.events.releases import ReleaseCreated, ReleaseDeployed, ReleaseRejected
from deis_common.store import ObjectStore

log = structlog.get_logger(__name__)

HINTS = (
    "",
    "Use 'deis open' to view this application in your browser",
    "To learn more, use 'deis help' or visit https://deis.com/",
)


class Output(Protocol):
    """Where a push's messages go: the client's terminal, as ``remote:`` lines."""

    async def info(self, text: str) -> None: ...

    async def error(self, text: str) -> None: ...


@dataclass(frozen=True)
class RefUpdate:
    old: str
    new: str
    ref: str


@dataclass(frozen=True)
class PushSession:
    """One running ``git-receive-pack``: who pushes to which app through which key."""

    token: str
    app: str
    user: str
    fingerprint: str
    repo_dir: Path


class PushFailed(Exception):
    """The push must be refused with this reason."""


class BusOwner(Protocol):
    """What holds the service's bus once it is connected (the ``Service``; the bus does not exist yet
    when the receiver is built)."""

    @property
    def bus(self) -> Bus: ...


class Receiver:
    def __init__(
        self,
        owner: BusOwner,
        store: ObjectStore,
        controller: ControllerClient,
        settings: BuilderSettings,
        metrics: BuilderMetrics,
    ) -> None:
        self._owner = owner
        self._store = store
        self._controller = controller
        self._settings = settings
        self._metrics = metrics

    async def receive(
        self, push: PushSession, updates: list[RefUpdate], git_env: dict[str, str], out: Output
    ) -> int:
        """Run the builds of one push; the pre-receive hook exits with the returned code."""
        bound = log.bind(app=push.app, user=push.user)
        try:
            for update in updates:
                if update.new == names.ZERO_SHA:
                    continue  # a deleted ref builds nothing
                await self._build_and_release(push, update, git_env, out)
        except PushFailed as e:
            self._metrics.pushes.labels("failed").inc()
            bound.info("push.failed", reason=str(e))
            for line in str(e).splitlines() or [""]:
                await out.info(line)
            await out.error(f"Error running git receive hook [{e}]")
            return 1
        self._metrics.pushes.labels("deployed").inc()
        return 0

    async def _build_and_release(
        self, push: PushSession, update: RefUpdate, git_env: dict[str, str], out: Output
    ) -> None:
        try:
            config = await self._controller.app_config(push.user, push.app)
        except AccessDenied as e:
            raise PushFailed(f"Access denied: {push.user} may not push to {push.app}") from e
        except UnknownApp as e:
            raise PushFailed(f"App {push.app} does not exist") from e
        except ControllerError as e:
            raise PushFailed(str(e)) from e
        sha8 = names.short_sha(update.new)
        await out.info("Starting build... but first, coffee!")
        key = names.source_key(push.app, sha8)
        await self._archive(push, update.new, git_env, key)
        build_id = uuid.uuid4().hex
        event = PushReceived(
            app=push.app,
            build_id=build_id,
            user=push.user,
            sha=update.new,
            ref=update.ref,
            source_key=key,
            env=config_values(config),
        )
        bus = self._owner.bus
        outcomes = (ReleaseCreated, ReleaseRejected, ReleaseDeployed, DeployFailed)
        # both watches open before the push is published; the build's lines and outcome share one
        # subscription, so the outcome never overtakes the last lines
        async with (
            bus.watch(BuildStarted, BuildCompleted, BuildFailed, lines=build_log_subject(build_id)) as builds,
            bus.watch(*outcomes, app=push.app) as releases,
        ):
            await bus.publish(event, correlation_id=build_id)
            await self._relay_build(build_id, builds, out)
            await out.info("Build complete.")
            await out.info("Launching App...")
            version = await self._await_deploy(build_id, releases, out)
        await out.info(f"Done, {push.app}:v{version} deployed to Workflow")
        for hint in HINTS:
            await out.info(hint)

    async def _archive(self, push: PushSession, sha: str, git_env: dict[str, str], key: str) -> None:
        """``git archive`` the pushed revision (still in the push's quarantine) into the store."""
        scratch = self._settings.data_dir / "tmp"
        scratch.mkdir(parents=True, exist_ok=True)
        archive = scratch / f"{uuid.uuid4().hex}.tar.gz"
        env = {**os.environ, **git_env, "GIT_DIR": str(push.repo_dir)}
        try:
            with archive.open("wb") as sink:
                proc = await asyncio.create_subprocess_exec(
                    "git",
                    "archive",
                    "--format=tar.gz",
                    sha,
                    stdout=sink,
                    stderr=asyncio.subprocess.PIPE,
                    env=env,
                )
                _, err = await proc.communicate()
            if proc.returncode != 0:
                raise PushFailed(f"Cannot archive {sha[:8]}: {err.decode(errors='replace').strip()}")
            await self._store.put_file(names.BUCKET, key, archive)
        finally:
            archive.unlink(missing_ok=True)

    async def _relay_build(self, build_id: str, builds: Watch, out: Output) -> None:
        def ours(event: BuildStarted | BuildCompleted | BuildFailed) -> bool:
            return event.build_id == build_id  # the watch sees every build's events

        queued = True
        self._metrics.queued.inc()
        try:
            async for item in self._waiting(builds, self._settings.build_timeout, out, where=ours):
                match item:
                    case str():
                        await out.info(item)
                    case BuildStarted() if queued:
                        queued = False
                        self._metrics.queued.dec()
                    case BuildCompleted():
                        return
                    case BuildFailed():
                        raise PushFailed(item.reason)
        finally:
            if queued:
                self._metrics.queued.dec()
        raise PushFailed("Timed out waiting for the build to finish.")

    async def _await_deploy(self, build_id: str, releases: Watch, out: Output) -> int:
        version: int | None = None
        deployed: set[int] = set()
        failed: dict[int, str] = {}
        async for event in self._waiting(releases, self._settings.deploy_timeout, out):
            match event:
                case ReleaseCreated() if event.build_id == build_id:
                    version = event.version
                case ReleaseRejected() if event.build_id == build_id:
                    raise PushFailed(
                        f"The controller returned an error when publishing the release: {event.reason}"
                    )
                case ReleaseDeployed():
                    deployed.add(event.version)
                case DeployFailed():
                    failed[event.version] = event.reason
            if version is None:
                continue
            if version in failed:
                raise PushFailed(
                    f"The controller returned an error when publishing the release: {failed[version]}"
                )
            # A later release (a config change made meanwhile) being deployed carries this build too.
            if any(deployed_version >= version for deployed_version in deployed):
                return version
        raise PushFailed("Timed out waiting for the release to be deployed.")

    async def _waiting(
        self, watch: Watch, seconds: float, out: Output, where: Callable[[Any], bool] | None = None
    ) -> AsyncIterator[Event | str]:
        """The watch's items for ``seconds``, printing ``...`` after every keep-alive interval of silence
        (so the git client, and any proxy in between, sees the push is alive). Ends at the deadline."""
        keepalive = self._settings.keepalive_interval
        try:
            async for item in watch.stream(where=where, timeout=seconds, idle=keepalive):
                if item is None:
                    await out.info("...")
                else:
                    yield item
        except WatchTimeout:
            return


async def git_gc(repo_dir: Path) -> None:
    """Housekeeping after a push, as the original builder does (``git gc``, only when needed)."""
    await run_streaming(["git", "--git-dir", str(repo_dir), "gc", "--auto", "--quiet"], timeout=300)
