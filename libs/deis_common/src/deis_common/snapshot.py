"""Paging through the controller's snapshot (``deis.v1.controller.snapshot``), one page at a time.

Consumers that keep derived state iterate the pages and apply each before asking for the next, so a
platform of any size resyncs in memory bounded by one page (plus whatever the consumer keeps). A page
that does not come back in time is asked for again from the same cursor; the whole walk fails only when
the controller stays silent for ``attempts`` tries in a row.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from deis_common.bus import Bus
from deis_common.errors import BusError
from deis_common.events.controller import SNAPSHOT_SUBJECT, Snapshot, SnapshotRequest

PAGE_SIZE = 500


class StartingPoint:
    """The stream positions of the first snapshot a service read, for its new durables to start after.

    Offered by whoever reads the snapshot (the first offer counts: state from later snapshots is newer
    still, so starting at the first position only replays a little more); awaited by new consumers.
    """

    def __init__(self) -> None:
        self._positions: dict[str, int] = {}
        self._known = asyncio.Event()

    def offer(self, positions: dict[str, int]) -> None:
        if not self._known.is_set():
            self._positions = dict(positions)
            self._known.set()

    async def positions(self) -> dict[str, int]:
        await self._known.wait()
        return self._positions


async def snapshot_pages(
    bus: Bus, *, page_size: int = PAGE_SIZE, timeout: float = 5.0, attempts: int = 3, state: bool = True
) -> AsyncIterator[Snapshot]:
    """Every page of the all-apps snapshot, in app-name order; the first carries the stream positions.

    The next page is asked for while the caller works on the current one, so the controller's reading and
    the consumer's applying overlap; at most two pages are held at once.
    """

    async def fetch(after: str | None) -> Snapshot:
        request = SnapshotRequest(after=after, limit=page_size, state=state)
        for attempt in range(1, attempts + 1):
            try:
                return await bus.request(SNAPSHOT_SUBJECT, request, Snapshot, timeout=timeout)
            except BusError:
                # the first page failing means nobody answers yet: let the caller decide when to retry
                if after is None or attempt == attempts:
                    raise
        raise AssertionError("unreachable")

    page = await fetch(None)
    while True:
        ahead = None
        if page.next_after is not None:
            ahead = asyncio.create_task(fetch(page.next_after), name="snapshot:next-page")
        try:
            yield page
        except BaseException:
            if ahead is not None:
                ahead.cancel()
            raise
        if ahead is None:
            return
        page = await ahead
