"""A build's output: lines published on ``builds.log.<build_id>`` for the pushing client, and a tail kept
for ``builds.failed``."""

from __future__ import annotations

from collections import deque

import structlog

from deis_common.bus import Bus
from deis_common.errors import BusError
from deis_common.events.builds import build_log_subject

log = structlog.get_logger(__name__)

TAIL_LINES = 40


class BuildLog:
    def __init__(self, bus: Bus, build_id: str) -> None:
        self._bus = bus
        self._subject = build_log_subject(build_id)
        self._tail: deque[str] = deque(maxlen=TAIL_LINES)

    async def line(self, text: str) -> None:
        self._tail.append(text)
        try:
            await self._bus.publish_core(self._subject, text.encode())
        except BusError:  # nobody may be listening any more; the build goes on
            log.debug("build_log.publish_failed", subject=self._subject)
        except Exception:  # the NATS client raises its own errors on a closing connection
            log.debug("build_log.publish_failed", subject=self._subject)

    async def step(self, text: str) -> None:
        """A top-level status line (``-----> text``)."""
        await self.line(f"-----> {text}")

    async def indented(self, text: str) -> None:
        """Buildpack output: indented 6 spaces unless it already starts with ``--`` (spec §2.7)."""
        await self.line(text if text.startswith("--") or not text.strip() else "      " + text)

    @property
    def tail(self) -> list[str]:
        return list(self._tail)
