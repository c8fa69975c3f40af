"""Build workers: consume ``pushes.received``, build, store the artifact, report the outcome.

Each builder replica runs ``build_concurrency`` builds at once from the shared durable
``builder-build``; a long build keeps its message alive with progress acks. Every push ends in exactly
one ``builds.completed`` or ``builds.failed`` — a failure the user must see is never retried.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import time

import structlog

from deis_builder import names
from deis_builder.build import slug
from deis_builder.build.buildlog import BuildLog
from deis_builder.build.buildpacks.runner import Workspace
from deis_builder.build.dockerfile import DockerfileBuilder
from deis_builder.build.pull import ImagePuller
from deis_builder.build.slugbuild import SlugBuilder
from deis_builder.errors import BuildError, SandboxError
from deis_builder.metrics import BuilderMetrics
from deis_builder.settings import BuilderSettings
from deis_common.bus import Context, Router
from deis_common.errors import ObjectNotFound, StoreError
from deis_common.events.builds import BuildCompleted, BuildFailed, BuildStarted
from deis_common.events.pushes import PushReceived
from deis_common.events.state import BuildArtifact
from deis_common.store import ObjectStore

log = structlog.get_logger(__name__)


class BuildWorker:
    def __init__(
        self,
        store: ObjectStore,
        settings: BuilderSettings,
        metrics: BuilderMetrics,
        slugs: SlugBuilder,
        dockerfiles: DockerfileBuilder,
        images: ImagePuller,
    ) -> None:
        self._store = store
        self._settings = settings
        self._metrics = metrics
        self._slugs = slugs
        self._dockerfiles = dockerfiles
        self._images = images
        self._hostname = socket.gethostname()

    async def handle(self, push: PushReceived, ctx: Context) -> None:
        started = time.monotonic()
        build_log = BuildLog(ctx.bus, push.build_id)
        sha8 = "" if push.image else names.short_sha(push.sha)
        await ctx.publish(BuildStarted(app=push.app, build_id=push.build_id, sha=sha8, worker=self._hostname))
        workspace = Workspace(self._settings.data_dir / "builds" / push.build_id)
        await asyncio.to_thread(shutil.rmtree, workspace.root, True)
        workspace.create()
        kind = "image" if push.image else "buildpack"
        self._metrics.running.inc()
        try:
            if kind == "image":
                artifact = await self._images.pull(push, workspace, build_log)
            else:
                await self._fetch_source(push, workspace)
                kind = "dockerfile" if (workspace.app / "Dockerfile").is_file() else "buildpack"
                artifact = await self._build(kind, push, workspace, build_log)
        except BuildError as e:
            await self._failed(ctx, push, kind, str(e), build_log)
        except (StoreError, SandboxError) as e:
            ctx.log.warning("build.infrastructure_failed", error=str(e))
            await self._failed(ctx, push, kind, f"The build could not run: {e}", build_log)
        except Exception as e:
            ctx.log.exception("build.crashed")
            await self._failed(ctx, push, kind, f"The build failed unexpectedly: {e}", build_log)
        else:
            duration = time.monotonic() - started
            self._metrics.builds.labels(kind, "completed").inc()
            self._metrics.duration.labels(kind).observe(duration)
            await ctx.publish(
                BuildCompleted(
                    app=push.app,
                    build_id=push.build_id,
                    user=push.user,
                    artifact=artifact,
                    duration_seconds=duration,
                )
            )
            ctx.log.info("build.completed", kind=kind, seconds=round(duration, 2))
        finally:
            self._metrics.running.dec()
            await asyncio.to_thread(shutil.rmtree, workspace.root, True)

    async def _fetch_source(self, push: PushReceived, workspace: Workspace) -> None:
        archive = workspace.root / "source.tar.gz"
        try:
            await self._store.get_file(names.BUCKET, push.source_key, archive)
        except ObjectNotFound as e:
            raise BuildError(f"The pushed source {push.source_key} is missing from the store") from e
        await slug.unpack(archive, workspace.app)
        archive.unlink(missing_ok=True)

    async def _build(
        self, kind: str, push: PushReceived, workspace: Workspace, build_log: BuildLog
    ) -> BuildArtifact:
        if kind == "dockerfile":
            return await self._dockerfiles.build(push, workspace, build_log)
        return await self._slugs.build(push, workspace, build_log)

    async def _failed(
        self, ctx: Context, push: PushReceived, kind: str, reason: str, build_log: BuildLog
    ) -> None:
        self._metrics.builds.labels(kind, "failed").inc()
        await ctx.publish(
            BuildFailed(
                app=push.app,
                build_id=push.build_id,
                user=push.user,
                sha=push.sha[:8],
                reason=reason,
                log_tail=build_log.tail,
            )
        )
        ctx.log.info("build.failed", kind=kind, reason=reason)


def build_router(worker: BuildWorker, concurrency: int) -> Router:
    router = Router()
    router.on(PushReceived, name="build", concurrency=concurrency, max_deliver=3, ack_wait=60)(worker.handle)
    return router
