"""Wiring: the controller's database, HTTP API, event handlers, snapshot responder and outbox publisher."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from deis_common.service import Service
from deis_controller import http, outbox
from deis_controller.controller import Controller
from deis_controller.db import Database, migrate
from deis_controller.handlers import builds, deploy_hooks, deploys, snapshot
from deis_controller.settings import ControllerSettings


def build(settings: ControllerSettings) -> Service:
    service = Service("controller", settings)
    ctl = Controller(service, settings)

    @contextlib.asynccontextmanager
    async def database(_: Service) -> AsyncIterator[Database]:
        db_settings = settings.database
        async with Database.open(
            db_settings.url,
            password=db_settings.password.get_secret_value() or None,
            min_size=db_settings.min_connections,
            max_size=db_settings.max_connections,
        ) as db:
            await migrate(db)
            ctl.attach(db)
            try:
                yield db
            finally:
                ctl.attach(None)

    async def database_ready() -> bool:
        return await ctl.db.ping()

    async def publish_outbox() -> None:
        await outbox.run(ctl)

    service.add_resource(database)
    service.add_resource(lambda _: snapshot.responder(ctl))
    service.add_readiness_check("database", database_ready)
    service.add_task("outbox", publish_outbox)
    service.include_router(builds.router(ctl))
    service.include_router(deploys.router(ctl))
    if settings.hook_urls:
        service.include_router(deploy_hooks.router(ctl))
    http.mount(service.http, ctl)
    return service
