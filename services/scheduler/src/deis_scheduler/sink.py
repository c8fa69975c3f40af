"""Where backends send what they observe: app log lines and crash reports, onto the bus."""

from __future__ import annotations

import structlog

from deis_common.bus import Bus
from deis_common.errors import BusError
from deis_common.events.containers import ContainersCrashed
from deis_scheduler.metrics import SchedulerMetrics

log = structlog.get_logger(__name__)


class BusSink:
    def __init__(self, bus: Bus, metrics: SchedulerMetrics) -> None:
        self.bus = bus
        self.metrics = metrics

    async def log(self, app: str, line: str) -> None:
        try:
            await self.bus.append_log(app, line)
        except BusError as e:
            log.warning("app_log.lost", app=app, reason=str(e))

    async def crashed(self, event: ContainersCrashed) -> None:
        self.metrics.crashes.inc()
        await self.bus.publish(event)
