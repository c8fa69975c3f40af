"""Processes: scaling the structure (published as ``AppScaled`` with the full state) and the pod list.

The structure changes on ``ps:scale`` and on the local autoscaler's recommendations
(``containers.autoscaled``), both through :func:`_rescale`, so the scheduler, ``deis ps`` and the app's
structure always agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from deis_common.events.apps import AppScaled
from deis_common.events.containers import ContainersAutoscaled, ContainersHealthy
from deis_common.events.state import AppState, ProcessInfo
from deis_controller.controller import Work
from deis_controller.db import apps as apps_db
from deis_controller.db import releases as releases_db
from deis_controller.db import routing as routing_db
from deis_controller.domain.state import app_state
from deis_controller.errors import BadRequest, NotFound
from deis_controller.records import App, Release


def count(value: Any) -> int:
    if isinstance(value, list | dict) or value is None:
        raise BadRequest(
            f"Invalid scaling format: int() argument must be a string, a bytes-like object or a real number,"
            f" not '{type(value).__name__ if value is not None else 'NoneType'}'"
        )
    try:
        count = int(value)
    except (TypeError, ValueError) as e:
        raise BadRequest(f"Invalid scaling format: {e}") from e
    if count < 0:
        raise BadRequest("Invalid scaling format: ['Must be greater than or equal to zero']")
    return count


async def scale(work: Work, app: App, user: str, request: Mapping[str, Any]) -> int | None:
    """Apply ``{type: count}``; returns the new generation, or None when nothing changed."""
    current = await releases_db.current(work.tx, app.uuid)
    if current is None or current.build_uuid is None:
        raise BadRequest("No build associated with this release")
    build = await releases_db.build(work.tx, current.build_uuid)
    wanted = {str(proctype): count(n) for proctype, n in request.items()}
    # without a Procfile, the types the app already runs (its default structure) stay scalable
    known = set(build.procfile or app.structure) | {"cmd"}
    for proctype in wanted:
        if proctype not in known:
            raise NotFound(f"Container type {proctype} does not exist in application")
    structure = {**app.structure, **wanted}
    if structure == app.structure:
        return None
    generation = await _rescale(work, app, current, structure)
    work.log(app.id, f"{user} scaled pods " + " ".join(f"{k}={v}" for k, v in sorted(wanted.items())))
    return generation


async def _rescale(work: Work, app: App, current: Release, structure: dict[str, int]) -> int:
    await apps_db.set_structure(work.tx, app.uuid, structure)
    app = await apps_db.bump_generation(work.tx, app.uuid)
    state = await app_state(work.tx, app, current)
    await work.emit(AppScaled(app=app.id, generation=app.generation, structure=structure, state=state))
    return app.generation


async def autoscale(work: Work, app: App, event: ContainersAutoscaled) -> int | None:
    """Apply the autoscaler's recommendation while it still holds; the new generation, or None.

    It no longer holds once the type stopped autoscaling or its count changed since it was measured (a
    ``ps:scale``, or the same recommendation delivered again): the next measurement starts from there.
    """
    settings = await routing_db.latest_settings(work.tx, app.uuid)
    spec = settings.autoscale.get(event.type) if settings is not None else None
    current = await releases_db.current(work.tx, app.uuid)
    if spec is None or current is None or current.build_uuid is None:
        return None
    if app.structure.get(event.type) != event.current:
        return None
    replicas = max(spec["min"], min(spec["max"], event.replicas))
    if replicas == event.current:
        return None
    generation = await _rescale(work, app, current, {**app.structure, event.type: replicas})
    why = (
        f"CPU {event.cpu_percent}% of request, target {event.target_percent}%"
        if event.cpu_percent is not None
        else f"autoscale min {spec['min']}, max {spec['max']}"
    )
    work.log(app.id, f"autoscaler scaled pods {event.type}={replicas} ({why})")
    return generation


def pods(
    processes: list[ProcessInfo], proctype: str | None = None, name: str | None = None
) -> list[dict[str, Any]]:
    """The ``deis ps`` view: no one-off ``run`` processes, newest first; an unknown start time is now."""
    now = datetime.now(UTC)
    selected = [
        p
        for p in processes
        if p.type != "run" and (proctype is None or p.type == proctype) and (name is None or p.name == name)
    ]
    selected.sort(key=lambda p: (p.started or now).timestamp(), reverse=True)
    return [
        {"name": p.name, "state": p.state, "type": p.type, "release": p.release, "started": p.started or now}
        for p in selected
    ]


def scaled(processes: list[ProcessInfo], wanted: dict[str, int]) -> bool:
    """Each scaled type runs exactly its wanted number of processes (those scaled away are gone)."""
    return all(sum(1 for p in processes if p.type == ptype) == n for ptype, n in wanted.items())


def restarted(processes: list[ProcessInfo], replaced: set[str], structure: dict[str, int]) -> bool:
    """None of the ``replaced`` processes is left, and each type is back to its count, all up."""
    if any(p.name in replaced for p in processes):
        return False
    for ptype, n in structure.items():
        of_type = [p for p in processes if p.type == ptype]
        if len(of_type) != n or any(p.state != "up" for p in of_type):
            return False
    return True


async def record_healthy(work: Work, event: ContainersHealthy) -> None:
    """The processes of a healthy generation, and its endpoints unless a newer generation's are in."""
    processes = [p.model_dump(mode="json") for p in event.processes]
    await apps_db.set_healthy(work.tx, event.app, event.generation, event.endpoints, processes)


async def run_state(work: Work, app: App) -> AppState:
    """The desired state a one-off ``deis run`` process starts from: the current release's."""
    current = await releases_db.current(work.tx, app.uuid)
    if current is None or current.build_uuid is None:
        raise BadRequest("No build associated with this release to run this command")
    return await app_state(work.tx, app, current)
