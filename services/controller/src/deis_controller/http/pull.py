"""``deis pull`` through the builder: the image is fetched and stored by a build worker, then released.

The request records the Procfile it was given (the builder only sees the image), publishes
``PushReceived(image=...)`` through the outbox, and answers once the release runs — or with the reason
the pull, the release or the deploy failed.
"""

from __future__ import annotations

from deis_common.bus import Deadline, Watch, WatchTimeout
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


async def _outcome(watch: Watch, app: str, build_id: str, deadline: Deadline) -> None:
    """Return once the pulled image runs; raise with the reason its build, release or deploy failed."""
    made = await watch.first(
        BuildFailed, ReleaseRejected, ReleaseCreated, where=lambda e: e.build_id == build_id, timeout=deadline
    )
    if not isinstance(made, ReleaseCreated):
        raise BadRequest(made.reason)
    generation = made.generation
    async for event in watch.stream(timeout=deadline):
        match event:
            case ReleaseCreated(build_id=built) if built == build_id:
                generation = event.generation  # a later release of this build: config changed meanwhile
            case ContainersHealthy() if event.app == app and event.generation >= generation:
                return
            case DeployFailed() if event.app == app and event.generation == generation:
                raise BadRequest(event.reason)


async def pull(ctl: Controller, app: App, user: str, build: NewBuild) -> str:
    """Hand ``build.image`` to the builder and wait for the outcome; returns the build id."""
    async with ctl.bus.watch(*WATCHED) as watch:
        async with ctl.work() as work:
            build_id = await builds.request_pull(work, app, user, build)
        try:
            await _outcome(watch, app.id, build_id, Deadline.after(ctl.settings.pull_wait))
        except WatchTimeout as e:
            raise Unavailable(f"the pull of {build.image} is still running; see deis releases") from e
    return build_id
