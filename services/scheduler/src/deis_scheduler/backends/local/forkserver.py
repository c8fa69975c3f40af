"""The shim fork server: one small interpreter that forks a detached shim per app process on request.

Starting a Python interpreter per process costs tens of milliseconds (hundreds on a busy machine); forking
one that has already started costs about one. The scheduler starts ``python -S shim.py --serve`` once,
writes a process directory per line and reads the same line back once that shim has detached. Shims are
not children of the server nor of the scheduler, so neither exiting affects running apps.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path

import deis_common

SHIM = Path(__file__).with_name("shim.py")


class ForkServerError(RuntimeError):
    """The fork server died or answered something unexpected."""


class ForkServer:
    def __init__(self) -> None:
        self._proc: asyncio.subprocess.Process | None = None
        self._lock = asyncio.Lock()

    async def _ensure(self) -> asyncio.subprocess.Process:
        if self._proc is None or self._proc.returncode is not None:
            # Without site-packages the shim finds the one package it imports (deis_common) on PYTHONPATH.
            env = {**os.environ, "PYTHONPATH": str(Path(deis_common.__file__).parent.parent)}
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable, "-S", str(SHIM), "--serve", env=env,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, start_new_session=True,
            )  # fmt: skip
        return self._proc

    async def spawn(self, directory: Path) -> None:
        """Start the shim of ``directory``; returns once it has detached."""
        async with self._lock:
            proc = await self._ensure()
            assert proc.stdin is not None and proc.stdout is not None
            try:
                proc.stdin.write(f"{directory}\n".encode())
                await proc.stdin.drain()
                answer = await asyncio.wait_for(proc.stdout.readline(), 30)
            except (OSError, TimeoutError) as e:
                await self.close()
                raise ForkServerError(f"the shim fork server failed: {e}") from e
            if answer.decode().strip() != str(directory):
                await self.close()
                raise ForkServerError(f"the shim fork server answered {answer!r}")

    async def close(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        assert proc.stdin is not None
        proc.stdin.close()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), 5)
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
