"""One git push at a time per app (spec §2.3), in memory.

A second push to an app whose lock is held is refused at once; a lock older than its timeout is treated
as stale and taken over, so a wedged push cannot block an app forever. Different apps never wait for
each other.
"""

from __future__ import annotations

import time
from collections.abc import Callable


class PushLocks:
    def __init__(self, timeout: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._timeout = timeout
        self._clock = clock
        self._held: dict[str, tuple[float, object]] = {}

    def acquire(self, app: str) -> object | None:
        """A token for ``app``'s lock, or None when another push holds it."""
        now = self._clock()
        held = self._held.get(app)
        if held is not None and now - held[0] < self._timeout:
            return None
        token = object()
        self._held[app] = (now, token)
        return token

    def release(self, app: str, token: object) -> None:
        """Release the lock if ``token`` still owns it (a stale lock may have been taken over)."""
        held = self._held.get(app)
        if held is not None and held[1] is token:
            del self._held[app]

    def held(self, app: str) -> bool:
        held = self._held.get(app)
        return held is not None and self._clock() - held[0] < self._timeout
