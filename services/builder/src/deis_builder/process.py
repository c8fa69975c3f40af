"""Running a host command with its output streamed line by line, for both stages.

The receive side runs ``git`` here (init, gc); the build side runs its sandboxed steps, tar and buildah
through it. It owns one rule: a command that times out or whose caller is cancelled is killed with its
whole process group, so no build step or git child outlives the push that started it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from deis_builder.errors import SandboxError

LineSink = Callable[[str], Awaitable[None]]


async def run_streaming(
    cmd: Sequence[str],
    *,
    on_line: LineSink | None = None,
    timeout: float | None = None,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> tuple[int, str]:
    """Run a command, feeding each output line to ``on_line``; kill its process group on timeout/cancel."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
            env=env,
            cwd=cwd,
        )
    except OSError as e:
        raise SandboxError(f"cannot run {cmd[0]}: {e}") from e
    output: list[str] = []

    async def pump() -> None:
        assert proc.stdout is not None
        pending = b""
        while chunk := await proc.stdout.read(65536):
            pending += chunk
            # A carriage return ends a progress line as well (pip, npm, buildah redraw lines).
            *lines, pending = pending.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
            for raw in lines:
                text = raw.decode(errors="replace")
                output.append(text)
                if on_line is not None:
                    await on_line(text)
        if pending:
            text = pending.decode(errors="replace")
            output.append(text)
            if on_line is not None:
                await on_line(text)

    try:
        await asyncio.wait_for(pump(), timeout)
        code = await proc.wait()
    except BaseException:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            await proc.wait()
        raise
    return code, "\n".join(output)
