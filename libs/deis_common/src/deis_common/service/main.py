"""Process entry for services: configure logging, install signal handlers, run until stopped."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable
from typing import TypeVar

from deis_common.logconfig import configure_logging
from deis_common.service.runtime import Service
from deis_common.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


def run_service(settings_type: type[S], build: Callable[[S], Service]) -> None:
    """Read settings from the environment, build the service and run it until SIGTERM/SIGINT."""
    settings = settings_type()
    configure_logging(settings.log_level, json=settings.log_json)
    asyncio.run(_run(build(settings)))


async def _run(service: Service) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, service.request_stop)
    await service.run()
