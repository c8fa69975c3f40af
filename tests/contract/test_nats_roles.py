"""Each service's NATS permissions (deis_common.natsauth) cover exactly the events its handlers consume.

A handler added without its permission would never get a message on the platform's NATS (its consumer
cannot be created); a permission left behind after a handler went away is more than the service needs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from deis_common.natsauth import ROLES
from deis_common.service import Service

NO_DATABASE = {"url": "postgresql://nobody@127.0.0.1:1/none"}


def built(service: str, tmp_path: Path) -> Service:
    """The service as its ``__main__`` wires it (nothing is started)."""
    settings: dict[str, Any] = {"_env_file": None, "store": {"path": tmp_path / "store"}}
    match service:
        case "controller":
            from deis_controller.service import build as controller
            from deis_controller.settings import ControllerSettings

            # deploy hooks add a consumer of their own
            hooks = "http://127.0.0.1:1/hook"
            return controller(ControllerSettings(**settings, database=NO_DATABASE, deploy_hook_urls=hooks))
        case "builder":
            from deis_builder.service import build as builder
            from deis_builder.settings import Settings

            return builder(Settings(**settings, builder={"data_dir": tmp_path / "builder"}))
        case "scheduler":
            from deis_scheduler.service import build as scheduler
            from deis_scheduler.settings import SchedulerSettings

            return scheduler(SchedulerSettings(**settings, scheduler={"data_dir": tmp_path / "scheduler"}))
        case "router-sync":
            from deis_router_sync.service import build as router_sync
            from deis_router_sync.settings import RouterSyncSettings

            return router_sync(RouterSyncSettings(**settings, router={"prefix": tmp_path / "router"}))
        case "backup":
            from deis_backup.service import build as backup
            from deis_backup.settings import BackupServiceSettings

            return backup(
                BackupServiceSettings(
                    **settings, database=NO_DATABASE, backup={"data_dir": tmp_path / "backup"}
                )
            )
    raise AssertionError(service)


@pytest.mark.parametrize("service", sorted(ROLES))
def test_each_service_may_consume_exactly_the_events_its_handlers_take(service: str, tmp_path: Path) -> None:
    handled = {spec.event_type.subject for spec in built(service, tmp_path).handlers}
    allowed = {event.subject for event in ROLES[service].consumes}
    assert handled == allowed
