"""App output and crashes on Kubernetes: one pod watch, one log stream per container (ARCHITECTURE §7).

The same lines and events as the local backend, so ``deis logs`` reads alike in both modes: each output line
goes to ``logs.<app>`` as ``<time> <app>[<type>.<pod suffix>]: <line>`` (the time is the kubelet's, in
milliseconds), and a container that exited on its own (its restartCount went up, or it terminated with a
non-zero status) becomes a ``containers.crashed`` event with its exit code and its last lines.

A watch of every platform pod (label ``heritage=deis``, run pods excluded) starts and stops the followers.
A follower streams its container's log with ``follow`` and ``timestamps`` and, whenever the stream ends (the
container restarted, the connection dropped), asks again for a window that covers the last line it sent and
drops every line not newer than that one: restarts and reconnects lose nothing and repeat nothing.
Pods that were already running when the scheduler started are followed from that moment on, and their past
crashes are not reported again.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime

import structlog

from deis_common.events.containers import ContainersCrashed
from deis_scheduler.backends.base import EventSink
from deis_scheduler.backends.kubernetes import manifests
from deis_scheduler.backends.kubernetes.api import KubeApi, KubeError, Obj

log = structlog.get_logger(__name__)

TAIL_LINES = 20
RETRY_DELAY = 1.0
# How far before the last line sent a resumed stream starts, for clock skew between us and the kubelet.
RESUME_MARGIN = 2


def stamp_nanos(stamp: str) -> int | None:
    """Nanoseconds since the epoch of an RFC3339(Nano) timestamp as the kubelet writes it."""
    try:
        head, _, rest = stamp.rstrip("Z").partition(".")
        if "+" in rest or "-" in rest:  # an offset after the fraction
            return None
        seconds = datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC).timestamp()
        return int(seconds) * 1_000_000_000 + int((rest or "0")[:9].ljust(9, "0"))
    except ValueError:
        return None


def display_time(nanos: int) -> str:
    moment = datetime.fromtimestamp(nanos / 1_000_000_000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def exit_reason(code: int | None, reason: str) -> str:
    if reason == "OOMKilled":
        return f"Process exited with status {code} (killed: memory limit exceeded)"
    return f"Process exited with status {code}"


@dataclass
class Follower:
    """What has been sent of one container's output."""

    app: str
    label: str
    last: int = 0
    at_last: set[str] = field(default_factory=set)
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))
    task: asyncio.Task[None] | None = None

    def fresh(self, nanos: int, text: str) -> bool:
        """True (and remembered) when the line was not sent yet: newer than the last, or new at its time."""
        if nanos < self.last or (nanos == self.last and text in self.at_last):
            return False
        if nanos > self.last:
            self.last, self.at_last = nanos, set()
        self.at_last.add(text)
        return True


class PodWatch:
    def __init__(self, api: KubeApi, sink: EventSink) -> None:
        self.api = api
        self.sink = sink
        self.followers: dict[tuple[str, str, str], Follower] = {}
        self._crashes: set[tuple[str, str, str]] = set()
        self._adopting: set[str] = set()

    async def run(self) -> None:
        """Follow every app pod until cancelled (the watch resumes itself after expiry or lost connection)."""
        selector = {"heritage": manifests.HERITAGE}
        while True:
            try:
                pods = await self.api.select("Pod", None, selector)
                self._adopting = {p["metadata"].get("uid", "") for p in pods}
                async for change, pod in self.api.watch("Pod", None, selector):
                    uid = pod["metadata"].get("uid", "")
                    adopted = uid in self._adopting
                    self._adopting.discard(uid)
                    await self._changed(change, pod, adopted=adopted)
            except KubeError as e:
                log.warning("pods.watch_failed", error=str(e))
            await asyncio.sleep(RETRY_DELAY)

    async def close(self) -> None:
        tasks = [f.task for f in self.followers.values() if f.task is not None]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.followers.clear()

    async def _changed(self, change: str, pod: Obj, *, adopted: bool) -> None:
        meta = pod["metadata"]
        labels = meta.get("labels") or {}
        app, ptype = labels.get("app"), labels.get("type")
        if not app or not ptype or ptype == "run":
            return
        namespace, name = meta.get("namespace", ""), meta["name"]
        if change == "DELETED":
            for key in [k for k in self.followers if k[:2] == (namespace, name)]:
                follower = self.followers.pop(key)
                if follower.task is not None:
                    follower.task.cancel()
            uid = str(meta.get("uid", name))
            self._crashes = {c for c in self._crashes if c[0] != uid}
            return
        label = f"{ptype}.{name.removeprefix(f'{app}-{ptype}-')}"
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        for cs in statuses:
            key = (namespace, name, cs["name"])
            if key not in self.followers and _started(cs):
                follower = Follower(app, label)
                if adopted:  # followed by the scheduler before us: only what comes from now on
                    follower.last = time.time_ns()
                self.followers[key] = follower
                follower.task = asyncio.create_task(
                    self._follow(key, follower), name=f"scheduler:logs:{namespace}/{name}/{cs['name']}"
                )
            await self._check_crash(meta, ptype, cs, report=not adopted)

    async def _check_crash(self, meta: Obj, ptype: str, cs: Obj, *, report: bool) -> None:
        restarted = (cs.get("lastState") or {}).get("terminated")
        stopped = (cs.get("state") or {}).get("terminated")
        for terminated, counts in ((restarted, True), (stopped, False)):
            if not terminated or (not counts and terminated.get("exitCode") == 0):
                continue
            identity = (
                str(meta.get("uid", meta["name"])),
                str(cs["name"]),
                str(terminated.get("containerID") or terminated.get("finishedAt") or ""),
            )
            if identity in self._crashes:
                continue
            self._crashes.add(identity)
            if report:
                await self._crashed(meta, ptype, cs, terminated)

    async def _crashed(self, meta: Obj, ptype: str, cs: Obj, terminated: Obj) -> None:
        app = meta["labels"]["app"]
        code = terminated.get("exitCode")
        reason = exit_reason(code, terminated.get("reason", ""))
        follower = self.followers.get((meta.get("namespace", ""), meta["name"], cs["name"]))
        tail = list(follower.tail) if follower else []
        if follower is not None:
            line = f"{display_time(time.time_ns())} {app}[{follower.label}]: {reason}"
            await self.sink.log(app, line)
        log.info("pod.crashed", app=app, pod=meta["name"], exit_code=code)
        await self.sink.crashed(
            ContainersCrashed(
                app=app,
                process=meta["name"],
                type=ptype,
                exit_code=code,
                restarts=int(cs.get("restartCount", 0)),
                log_tail=[*tail, reason],
            )
        )

    async def _follow(self, key: tuple[str, str, str], follower: Follower) -> None:
        namespace, pod, container = key
        since: int | None = None if not follower.last else 1
        while True:
            try:
                async for raw in self.api.follow_logs(namespace, pod, container, since_seconds=since):
                    stamp, _, text = raw.partition(" ")
                    nanos = stamp_nanos(stamp)
                    if nanos is None:  # not a timestamped line: pass it on as it is
                        nanos, text = time.time_ns(), raw
                    if not follower.fresh(nanos, text):
                        continue
                    follower.tail.append(text)
                    line = f"{display_time(nanos)} {follower.app}[{follower.label}]: {text}"
                    await self.sink.log(follower.app, line)
            except KubeError as e:  # waiting to start, or being restarted: try again shortly
                log.debug("pod.logs_unavailable", pod=pod, container=container, error=str(e))
            except Exception:
                log.exception("pod.logs_failed", pod=pod, container=container)
            await asyncio.sleep(RETRY_DELAY)
            if follower.last:
                since = math.ceil((time.time_ns() - follower.last) / 1_000_000_000) + RESUME_MARGIN


def _started(cs: Obj) -> bool:
    """The container has run (or runs): it has output to follow."""
    state = cs.get("state") or {}
    return bool(state.get("running") or state.get("terminated") or cs.get("lastState", {}).get("terminated"))
