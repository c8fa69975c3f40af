"""``deis pull`` through the builder: the image is fetched and stored by a build worker, then released.

The request records the Procfile it was given (the builder only sees the image), publishes
``PushReceived(image=...)`` through the outbox, and answers once the release runs — or with the reason
the pull, the release or the deploy failed.
"""

from __future__ import annotations

import asyncio

from deis_common.events.base import Envelope
from deis_common.events.builds import BuildFailed
from deis_common.events.containers import ContainersHealthy
from deis_common.events.deploys import DeployFailed
from deis_common.events.releases import ReleaseCreated, ReleaseRejected
from deis_controller.controller import Controller
from deis_controller.domain import builds
from deis_controller.domain.builds import NewBuild
from deis_controller.errors import BadRequest, Unavailable
from deis_controller.records import App

WATCHED = (BuildFailed, ReleaseRejected, ReleaseCreated, ContainersHealthy, DeployFailed)


async def _outcome(queue: asyncio.Queue[Envelope], app: str, build_id: str) -> None:
    generation: int | None = None
    while True:
        envelope = await queue.get()
        if envelope.type == BuildFailed.subject and envelope.open(BuildFailed).build_id == build_id:
            raise BadRequest(envelope.open(BuildFailed).reason)
        if envelope.type == ReleaseRejected.subject and envelope.open(ReleaseRejected).build_id == build_id:
            raise BadRequest(envelope.open(ReleaseRejected).reason)
        if envelope.type == ReleaseCreated.subject:
            created = envelope.open(ReleaseCreated)
            if created.build_id == build_id:
                generation = created.generation
        if generation is None:
            continue
        if envelope.type == ContainersHealthy.subject:
            healthy = envelope.open(ContainersHealthy)
            if healthy.app == app and healthy.generation >= generation:
                return
        if envelope.type == DeployFailed.subject:
            failed = envelope.open(DeployFailed)
            if failed.app == app and failed.generation == generation:
                raise BadRequest(failed.reason)


async def pull(ctl: Controller, app: App, user: str, build: NewBuild) -> str:
    """Hand ``build.image`` to the builder and wait for the outcome; returns the build id."""
    async with ctl.bus.watch(*WATCHED) as queue:
        async with ctl.work() as work:
            build_id = await builds.request_pull(work, app, user, build)
        try:
            async with asyncio.timeout(ctl.settings.pull_wait):
                await _outcome(queue, app.id, build_id)
        except TimeoutError as e:
            raise Unavailable(f"the pull of {build.image} is still running; see deis releases") from e
    return build_id
