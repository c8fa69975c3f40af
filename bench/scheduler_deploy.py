"""Scheduler deploy latency: ``releases.created`` to ``containers.healthy`` for a trivial web process.

Starts NATS and the scheduler (local backend, real bubblewrap sandboxes) in this process, stores the slug of
a one-line web app (``python3 -m http.server``), then publishes ten releases of it one after the other,
each a new version (so each starts a fresh process and retires the previous one after ``routes.updated``,
which a stand-in router answers at once). For each release it measures:

- total: from publishing ``releases.created`` to receiving ``containers.healthy``;
- app start-up: from the moment the supervisor started the sandboxed process to the app's first output
  line ("Serving HTTP on ...", printed once it listens), both taken from the process's own records;
- scheduler overhead: total minus app start-up and minus the stays-up window a new process must survive
  once ready (``DEIS_SCHEDULER__MIN_READY_SECONDS``, 0.25 s; a deliberate wait, printed separately):
  event delivery, network namespace, planning, supervisor start, readiness detection, publishing.

Prints each round and the medians. Target: median scheduler overhead under 100 ms.
Run: ``uv run python -m bench scheduler_deploy`` (env BENCH_ROUNDS, default 10).
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import statistics
import tarfile
import tempfile
import time
from datetime import datetime
from pathlib import Path

from deis_common.bus import Bus, Watch
from deis_common.events.base import Envelope
from deis_common.events.containers import ContainersHealthy
from deis_common.events.releases import ReleaseCreated
from deis_common.events.routes import RoutesUpdated
from deis_common.events.state import AppState, BuildArtifact
from deis_common.logconfig import configure_logging
from deis_common.settings import HttpSettings, NatsSettings, StoreSettings
from deis_common.store import FsStore
from deis_common.testing.nats import nats_server
from deis_common.testing.ports import free_port
from deis_scheduler.service import build
from deis_scheduler.settings import SchedulerGroup, SchedulerSettings

APP = "benchy"
PROCFILE = {"web": "exec python3 -m http.server --bind 0.0.0.0 $PORT"}


def slug() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        data = "".join(f"{k}: {v}\n" for k, v in PROCFILE.items()).encode()
        info = tarfile.TarInfo("./Procfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


async def app_startup(data_dir: Path, process_name: str) -> float:
    """Seconds from the supervisor starting the sandbox to the app's first output line."""
    directory = data_dir / "processes" / APP / process_name
    started = json.loads((directory / "status.json").read_text())["started"]
    for _ in range(500):  # the line may still be on its way through the supervisor
        lines = (directory / "output.log").read_text().splitlines()
        if lines:
            break
        await asyncio.sleep(0.01)
    first_line = lines[0]
    listening = first_line.split(" ", 1)[0]
    return (_parse(listening) - _parse(started)).total_seconds()


def _parse(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


async def one_release(
    bus: Bus, healthy: Watch, version: int, key: str
) -> ContainersHealthy:
    state = AppState(
        app=APP,
        generation=version,
        version=version,
        build=BuildArtifact(kind="buildpack", location=key, sha="0000beef", procfile=PROCFILE),
        structure={"web": 1},
    )
    await bus.publish(ReleaseCreated(app=APP, state=state))
    return await healthy.first(ContainersHealthy, where=lambda e: e.generation == version, timeout=60)


async def run(rounds: int) -> None:
    totals: list[float] = []
    startups: list[float] = []
    with tempfile.TemporaryDirectory(prefix="deis-bench-") as tmp:
        root = Path(tmp)
        with nats_server(root / "nats") as nats:
            store = FsStore(root / "store")
            key = f"home/{APP}:git-0000beef/push/slug.tgz"
            await store.put("builder", key, slug())
            settings = SchedulerSettings(
                nats=NatsSettings(url=nats.url),
                http=HttpSettings(port=free_port()),
                store=StoreSettings(driver="fs", path=root / "store"),
                log_level="warning",
                scheduler=SchedulerGroup(data_dir=root / "scheduler", stop_grace=2),
            )
            bus = await Bus.connect(settings.nats, source="bench")

            async def route(_: str, data: bytes) -> None:  # the stand-in router: routes at once
                event = Envelope.from_bytes(data).open(ContainersHealthy)
                await bus.publish(RoutesUpdated(app=event.app, generation=event.generation))

            try:
                async with build(settings).running(), bus.watch(ContainersHealthy) as healthy:
                    sub = await bus.subscribe_raw(ContainersHealthy.subject, route)
                    for version in range(2, rounds + 3):
                        t0 = time.perf_counter()
                        event = await one_release(bus, healthy, version, key)
                        total = time.perf_counter() - t0
                        if version == 2:
                            print(f"warm-up (unpacks the slug): {total * 1000:.0f} ms")
                            continue
                        startup = await app_startup(settings.scheduler.data_dir, event.processes[0].name)
                        totals.append(total)
                        startups.append(startup)
                        print(f"v{version}: {_ms(total)} total, {_ms(startup)} app start-up")
                    await sub.unsubscribe()
            finally:
                await _stop_all(settings.scheduler.data_dir)
                await bus.close()
                await store.close()
    window = SchedulerGroup().min_ready_seconds
    overheads = [t - s - window for t, s in zip(totals, startups, strict=True)]
    print(f"\nmedian of {len(totals)} releases:")
    print(f"  releases.created -> containers.healthy  {_ms(statistics.median(totals))}")
    print(f"  app start-up (sandbox + app listening)  {_ms(statistics.median(startups))}")
    print(f"  stays-up window (min_ready_seconds)     {_ms(window)}")
    print(f"  scheduler overhead (total - both)       {_ms(statistics.median(overheads))}  (target < 100 ms)")


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:6.1f} ms"


async def _stop_all(data_dir: Path) -> None:
    from deis_scheduler.backends.local.process import Process

    root = data_dir / "processes"
    if root.is_dir():
        found = [Process.load(d) for app in root.iterdir() for d in app.iterdir()]
        await asyncio.gather(*(p.stop(1) for p in found if p is not None))


def main() -> None:
    configure_logging("warning", json=False)
    asyncio.run(run(int(os.environ.get("BENCH_ROUNDS", "10"))))


if __name__ == "__main__":
    main()
