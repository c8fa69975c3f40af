"""The control plane at scale: deploys per minute, release-to-routed latency, resync time and memory.

Starts Postgres and NATS, then the real controller, scheduler and router-sync as processes of their own
(``python -m deis_<service>``, JSON logs read back), router-sync with an nginx of its own, and the scheduler
on its simulated backend (``DEIS_SCHEDULER__BACKEND=simulated``: processes report ready after
BENCH_SIM_DELAY seconds and nothing runs). BENCH_APPS apps are written straight into the controller's
database (each with 20 config values, two domains, a whitelist on one app in BENCH_WHITELIST_EVERY),
then for each size it prints:

- controller: ``GET /v2/apps/?limit=100`` latency at offsets spread over the list, and the time to page
  through the whole snapshot (``deis.v1.controller.snapshot``) from outside;
- scheduler and router-sync: resync time (process start to snapshot applied) and peak RSS (VmHWM), nginx
  config size, the time ``nginx -t`` and the reload take with every app in, and nginx's RSS.

For sizes up to BENCH_DEPLOY_MAX_APPS it also drives deploys the way pushes end, as ``builds.completed``
events for distinct apps, and measures each from ``releases.created`` to ``routes.updated`` (from every
router replica):

- latency at a steady BENCH_RATE deploys/minute for BENCH_SECONDS (p50, p99, achieved rate);
- sustained throughput with BENCH_WINDOW deploys in flight for BENCH_SECONDS, with one replica of each
  consumer, then with two replicas of the scheduler and of router-sync (the scaling factor; every
  router-sync replica serves an nginx of its own and so handles every event);
- the scheduler as the bottleneck (simulated start-up of BENCH_SLOW_DELAY s, BENCH_SLOW_WINDOW deploys in
  flight): one replica, then two.

Targets: >= 100 deploys/min with p99 release->routed < 1 s at 10,000 apps; resync of 100,000 apps < 30 s
with peak memory < 500 MiB per service. Every figure is printed with the machine's load average.
Run: ``uv run python -m bench control_plane`` (env BENCH_APPS=10000,100000, BENCH_SECONDS=30,
BENCH_RATE=120, BENCH_WINDOW=16, BENCH_SIM_DELAY=0.05, BENCH_DEPLOY_MAX_APPS=10000,
BENCH_WHITELIST_EVERY=20, BENCH_RESYNC=router-sync,scheduler: the services whose resync is measured; deploys
need both), BENCH_KEEPALIVE_UPSTREAMS=0 (router-sync's limit of upstreams, 0: none).
A quick run: ``BENCH_APPS=2000 BENCH_SECONDS=10``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from deis_common.bus import Bus, Watch
from deis_common.events.builds import BuildCompleted
from deis_common.events.releases import ReleaseCreated
from deis_common.events.routes import RoutesUpdated
from deis_common.events.state import BuildArtifact
from deis_common.settings import NatsSettings
from deis_common.snapshot import snapshot_pages
from deis_common.testing.nats import nats_server
from deis_common.testing.ports import free_port
from deis_common.testing.postgres import create_database, postgres_cluster
from deis_controller.db import Database
from tests.controller.many_apps import seed_apps

SIZES = [int(n) for n in os.environ.get("BENCH_APPS", "10000,100000").split(",") if n.strip()]
SECONDS = float(os.environ.get("BENCH_SECONDS", "30"))
RATE = float(os.environ.get("BENCH_RATE", "120"))
WINDOW = int(os.environ.get("BENCH_WINDOW", "16"))
SIM_DELAY = float(os.environ.get("BENCH_SIM_DELAY", "0.05"))
DEPLOY_MAX_APPS = int(os.environ.get("BENCH_DEPLOY_MAX_APPS", "10000"))
WHITELIST_EVERY = int(os.environ.get("BENCH_WHITELIST_EVERY", "20"))
RESYNC = os.environ.get("BENCH_RESYNC", "router-sync,scheduler").split(",")
KEEPALIVE_UPSTREAMS = os.environ.get("BENCH_KEEPALIVE_UPSTREAMS", "0")
SLOW_DELAY = float(os.environ.get("BENCH_SLOW_DELAY", "2.0"))
SLOW_WINDOW = int(os.environ.get("BENCH_SLOW_WINDOW", "64"))
DOMAIN = "bench.test"
OWNER = "admin"
PASSWORD = "bench-password"
DEPLOY_TIMEOUT = 120.0
RESYNC_TIMEOUT = 600.0


def load() -> str:
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def say(text: str) -> None:
    print(f"{text}  [{load()}]", flush=True)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def rss_mib(pid: int, key: str = "VmHWM") -> float:
    """Peak (VmHWM) or current (VmRSS) resident memory of ``pid`` in MiB; 0 once it is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def file_mib(path: Path) -> float:
    return path.stat().st_size / 2**20


def nginx_pids(prefix: Path) -> list[int]:
    """The nginx master of a router prefix and its workers."""
    try:
        master = int((prefix / "nginx.pid").read_text())
        return [master, *(int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split())]
    except (OSError, ValueError):
        return []


# -- service processes -----------------------------------------------------------------------------

KEPT = {
    "service.ready",
    "snapshot.applied",
    "router.snapshot_applied",
    "router.reloaded",
    "snapshot.unavailable",
    "router.snapshot_pending",
}


@dataclass
class ServiceProcess:
    name: str
    process: asyncio.subprocess.Process
    started: float
    events: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    reader: asyncio.Task[None] | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    async def read(self) -> None:
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            try:
                entry = json.loads(raw)
            except ValueError:
                continue
            if entry.get("level") in ("error", "critical") or (
                entry.get("level") == "warning" and len(self.problems) < 20
            ):
                self.problems.append(f"{entry.get('event')}: {entry.get('error') or entry.get('reason', '')}")
            if entry.get("event") in KEPT:
                self.events.append((time.monotonic(), entry))
                self.changed.set()

    async def wait_for(self, event: str, timeout: float, after: float = 0.0) -> tuple[float, dict[str, Any]]:
        async with asyncio.timeout(timeout):
            while True:
                for at, entry in self.events:
                    if at >= after and entry.get("event") == event:
                        return at, entry
                if self.process.returncode is not None:
                    raise RuntimeError(f"{self.name} exited: {self.problems[-5:]}")
                self.changed.clear()
                await self.changed.wait()

    def all(self, event: str, after: float = 0.0) -> list[dict[str, Any]]:
        return [entry for at, entry in self.events if at >= after and entry.get("event") == event]

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()
        if self.reader is not None:
            self.reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.reader


async def spawn(name: str, module: str, env: dict[str, str]) -> ServiceProcess:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        env={**os.environ, **env},
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        limit=16 * 1024 * 1024,
    )
    proc = ServiceProcess(name, process, time.monotonic())
    proc.reader = asyncio.create_task(proc.read(), name=f"bench:read:{name}")
    return proc


@dataclass
class Platform:
    workdir: Path
    nats_url: str
    dsn: str
    controller_port: int = 0
    controller: ServiceProcess | None = None
    schedulers: list[ServiceProcess] = field(default_factory=list)
    routers: list[ServiceProcess] = field(default_factory=list)

    def common(self, name: str) -> dict[str, str]:
        return {
            "DEIS_NATS__URL": self.nats_url,
            "DEIS_LOG_JSON": "true",
            "DEIS_LOG_LEVEL": "info",
            "DEIS_HTTP__HOST": "127.0.0.1",
            "DEIS_HTTP__PORT": str(free_port()),
            "DEIS_PLATFORM_DOMAIN": DOMAIN,
            "DEIS_GRACE_PERIOD": "2",
            "DEIS_STORE__DRIVER": "fs",
            "DEIS_STORE__PATH": str(self.workdir / "store"),
            "DEIS_CONTROLLER_URL": f"http://127.0.0.1:{self.controller_port}",
        }

    async def start_controller(self) -> None:
        self.controller_port = free_port()
        env = {
            **self.common("controller"),
            "DEIS_HTTP__PORT": str(self.controller_port),
            "DEIS_DATABASE__URL": self.dsn,
            "DEIS_DATABASE__MAX_CONNECTIONS": "10",
            "DEIS_PASSWORD_TIME_COST": "1",
            "DEIS_PASSWORD_MEMORY_KIB": "1024",
            "DEIS_DEPLOY_WAIT": "0",
            "DEIS_ROUTE_WAIT": "0",
        }
        self.controller = await spawn("controller", "deis_controller", env)
        await self.controller.wait_for("service.ready", 60)

    async def start_scheduler(self, delay: float) -> ServiceProcess:
        index = len(self.schedulers) + 1
        env = {
            **self.common("scheduler"),
            "DEIS_SCHEDULER__BACKEND": "simulated",
            "DEIS_SCHEDULER__SIMULATED__DELAY": str(delay),
            "DEIS_SCHEDULER__SIMULATED__ADOPT": "true",
            "DEIS_SCHEDULER__DATA_DIR": str(self.workdir / f"scheduler-{index}"),
            "DEIS_SCHEDULER__ROUTES_TIMEOUT": "60",
            "DEIS_SCHEDULER__DRAIN_DELAY": "0",
        }
        proc = await spawn(f"scheduler-{index}", "deis_scheduler", env)
        self.schedulers.append(proc)
        return proc

    async def start_router(self) -> ServiceProcess:
        index = len(self.routers) + 1
        env = {
            **self.common("router-sync"),
            "DEIS_ROUTER__PREFIX": str(self.workdir / f"router-{index}"),
            "DEIS_ROUTER__INSTANCE": f"bench-{index}",
            "DEIS_ROUTER__HTTP_PORT": str(free_port()),
            "DEIS_ROUTER__HTTPS_PORT": str(free_port()),
            "DEIS_ROUTER__CONTROLLER_PORT": str(self.controller_port),
            "DEIS_ROUTER__START_NGINX": "true",
            "DEIS_ROUTER__WORKER_PROCESSES": "1",
            "DEIS_ROUTER__SNAPSHOT_TIMEOUT": "30",
            "DEIS_ROUTER__RELOAD_TIMEOUT": "600",
            "DEIS_ROUTER__KEEPALIVE_UPSTREAMS": KEEPALIVE_UPSTREAMS,
        }
        proc = await spawn(f"router-sync-{index}", "deis_router_sync", env)
        self.routers.append(proc)
        return proc

    async def stop(self) -> None:
        for proc in [*self.routers, *self.schedulers, *([self.controller] if self.controller else [])]:
            await proc.stop()
            if proc.problems:
                say(f"  ({proc.name} warned: {'; '.join(proc.problems[:3])})")
        self.routers.clear()
        self.schedulers.clear()


# -- the controller's API -----------------------------------------------------------------------


async def register_admin(session: aiohttp.ClientSession, base: str) -> str:
    body = {"username": OWNER, "password": PASSWORD, "email": "admin@bench.test"}
    async with session.post(f"{base}/v2/auth/register/", json=body) as r:
        assert r.status == 201, await r.text()
    async with session.post(f"{base}/v2/auth/login/", json={"username": OWNER, "password": PASSWORD}) as r:
        assert r.status == 200, await r.text()
        token: str = (await r.json())["token"]
    return token


async def list_latency(session: aiohttp.ClientSession, base: str, token: str, apps: int) -> None:
    headers = {"Authorization": f"token {token}"}
    offsets = sorted({0, *(apps * i // 10 for i in range(10)), max(0, apps - 100)})
    timings: dict[int, float] = {}
    for _ in range(2):  # the first round warms the pool and the plans
        for offset in offsets:
            started = time.perf_counter()
            async with session.get(f"{base}/v2/apps/?limit=100&offset={offset}", headers=headers) as r:
                assert r.status == 200, await r.text()
                await r.read()
            timings[offset] = (time.perf_counter() - started) * 1000
    say(
        f"controller list page (100 of {apps}): first {timings[0]:.1f} ms, median"
        f" {statistics.median(timings.values()):.1f} ms, last {timings[offsets[-1]]:.1f} ms,"
        f" max {max(timings.values()):.1f} ms"
    )


async def snapshot_walk(bus: Bus, apps: int) -> None:
    started = time.perf_counter()
    times, sizes, count = [], [], 0
    mark = time.perf_counter()
    async for page in snapshot_pages(bus, timeout=30):
        now = time.perf_counter()
        times.append((now - mark) * 1000)
        sizes.append(len(page.model_dump_json()))
        count += len(page.apps)
        mark = time.perf_counter()
    assert count == apps, f"snapshot listed {count} apps, not {apps}"
    say(
        f"controller snapshot: {count} apps in {len(times)} pages, {sum(sizes) / 2**20:.1f} MiB, walked in"
        f" {time.perf_counter() - started:.2f} s (page median {statistics.median(times):.0f} ms,"
        f" max {max(times):.0f} ms, largest {max(sizes) / 1024:.0f} KiB)"
    )


# -- deploys ------------------------------------------------------------------------------------


@dataclass
class Deploy:
    app: str
    published: float
    created: float | None = None
    generation: int | None = None
    routed_by: set[str] = field(default_factory=set)
    done: asyncio.Future[float] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class Deployer:
    """Publishes builds.completed and follows each deploy to routes.updated from every router replica."""

    def __init__(self, bus: Bus, apps: list[str]) -> None:
        self.bus = bus
        self.apps = apps
        self.next = 0
        self.inflight: dict[str, Deploy] = {}
        self.routers: set[str] = set()
        self.sha = 0

    def pick(self) -> str:
        while True:
            app = self.apps[self.next % len(self.apps)]
            self.next += 1
            if app not in self.inflight:
                return app

    @contextlib.asynccontextmanager
    async def following(self) -> AsyncIterator[None]:
        async with self.bus.watch(ReleaseCreated, RoutesUpdated) as watch:
            task = asyncio.create_task(self._follow(watch), name="bench:follow")
            try:
                yield
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _follow(self, watch: Watch) -> None:
        while True:
            envelope = await watch.envelope()  # the envelope: its source names the router replica
            assert envelope is not None
            now = time.monotonic()
            app = envelope.subject
            deploy = self.inflight.get(app) if app else None
            if deploy is None:
                continue
            if envelope.type == ReleaseCreated.subject:
                if deploy.created is None:
                    deploy.created = now
                    deploy.generation = int(envelope.data["generation"])
            elif (
                envelope.type == RoutesUpdated.subject
                and deploy.generation is not None
                and int(envelope.data["generation"]) >= deploy.generation
            ):
                deploy.routed_by.add(envelope.source)
                if self.routers <= deploy.routed_by and not deploy.done.done():
                    deploy.done.set_result(now)

    async def deploy(self) -> float:
        """One deploy of the next app; seconds from releases.created to routed everywhere."""
        app = self.pick()
        self.sha += 1
        sha = f"{self.sha:08x}"
        event = BuildCompleted(
            app=app,
            build_id=uuid.uuid4().hex,
            user=OWNER,
            artifact=BuildArtifact(
                kind="buildpack",
                location=f"home/{app}:git-{sha}/push/slug.tgz",
                sha=sha,
                procfile={"web": "bin/web --port $PORT", "worker": "bin/worker"},
            ),
        )
        deploy = self.inflight[app] = Deploy(app, time.monotonic())
        try:
            await self.bus.publish(event)
            routed = await asyncio.wait_for(deploy.done, DEPLOY_TIMEOUT)
        finally:
            self.inflight.pop(app, None)
        assert deploy.created is not None
        return routed - deploy.created

    async def steady(self, rate: float, seconds: float) -> tuple[list[float], float]:
        """Deploys at ``rate`` per minute for ``seconds``; latencies and the achieved rate per minute."""
        interval = 60.0 / rate
        started = time.monotonic()
        tasks: list[asyncio.Task[float]] = []
        while time.monotonic() - started < seconds:
            tasks.append(asyncio.create_task(self.deploy(), name="bench:deploy"))
            await asyncio.sleep(max(0.0, started + len(tasks) * interval - time.monotonic()))
        latencies = await asyncio.gather(*tasks)
        return list(latencies), len(latencies) / (time.monotonic() - started) * 60

    async def saturate(self, window: int, seconds: float) -> tuple[list[float], float]:
        """``window`` deploys in flight for ``seconds``; latencies and deploys per minute."""
        latencies: list[float] = []
        started = time.monotonic()

        async def worker() -> None:
            while time.monotonic() - started < seconds:
                latencies.append(await self.deploy())

        await asyncio.gather(*(worker() for _ in range(window)))
        return latencies, len(latencies) / (time.monotonic() - started) * 60


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def report_deploys(what: str, latencies: list[float], per_minute: float) -> None:
    ms = [x * 1000 for x in latencies]
    say(
        f"{what}: {len(ms)} deploys, {per_minute:.0f}/min, release->routed p50 {percentile(ms, 0.5):.0f} ms,"
        f" p99 {percentile(ms, 0.99):.0f} ms, max {max(ms):.0f} ms"
    )


def report_cpu(platform: Platform, before: dict[int, float], seconds: float) -> None:
    procs = [platform.controller, *platform.schedulers, *platform.routers]
    parts = []
    for proc in procs:
        assert proc is not None
        parts.append(f"{proc.name} {(cpu_seconds(proc.pid) - before.get(proc.pid, 0.0)) / seconds:.0%}")
    nginx = [
        pid for i in range(len(platform.routers)) for pid in nginx_pids(platform.workdir / f"router-{i + 1}")
    ]
    parts.append(f"nginx {(sum(cpu_seconds(p) for p in nginx) - before.get(-1, 0.0)) / seconds:.0%}")
    say("  CPU per process (of one core): " + ", ".join(parts))


def cpu_now(platform: Platform) -> dict[int, float]:
    procs = [platform.controller, *platform.schedulers, *platform.routers]
    out = {proc.pid: cpu_seconds(proc.pid) for proc in procs if proc is not None}
    nginx = [
        pid for i in range(len(platform.routers)) for pid in nginx_pids(platform.workdir / f"router-{i + 1}")
    ]
    out[-1] = sum(cpu_seconds(p) for p in nginx)
    return out


# -- one size -----------------------------------------------------------------------------------


async def resync_figures(platform: Platform, apps: int) -> None:
    """Each service resyncs alone (one after the other), as after a restart: the apps run already."""
    router = await router_resync(platform, apps) if "router-sync" in RESYNC else None
    if "scheduler" in RESYNC:
        scheduler = await platform.start_scheduler(SIM_DELAY)
        at, entry = await scheduler.wait_for("snapshot.applied", RESYNC_TIMEOUT)
        say(
            f"scheduler resync: {at - scheduler.started:.1f} s from start (snapshot"
            f" {entry.get('seconds', 0):.1f} s), peak RSS {rss_mib(scheduler.pid):.0f} MiB"
        )
    if router is not None:
        await settle(router)
    assert platform.controller is not None
    say(f"controller peak RSS {rss_mib(platform.controller.pid):.0f} MiB")


async def router_resync(platform: Platform, apps: int) -> ServiceProcess:
    router = await platform.start_router()
    at, entry = await router.wait_for("router.snapshot_applied", RESYNC_TIMEOUT)
    reload = next(e for e in router.all("router.reloaded") if e.get("apps") == apps)
    say(
        f"router-sync resync: {at - router.started:.1f} s from start (snapshot read {entry['read_s']:.1f} s,"
        f" applied with one reload {entry['applied_s']:.1f} s), peak RSS {rss_mib(router.pid):.0f} MiB"
    )
    config = platform.workdir / "router-1" / "nginx.conf"
    size = file_mib(config)
    upstreams = config.read_text().count("\n    upstream ")
    nginx = sum(rss_mib(p, "VmRSS") for p in nginx_pids(platform.workdir / "router-1"))
    say(
        f"nginx with {apps} apps ({upstreams} upstreams): config {size:.1f} MiB,"
        f" nginx -t {reload['check_ms']:.0f} ms,"
        f" reload {reload['reload_ms']:.0f} ms, RSS {nginx:.0f} MiB (master + workers)"
    )
    return router


async def settle(router: ServiceProcess, quiet: float = 3.0) -> None:
    """Until router-sync has not reloaded for ``quiet`` seconds."""
    while True:
        mark = time.monotonic()
        await asyncio.sleep(quiet)
        if not [e for at, e in router.events if at >= mark and e.get("event") == "router.reloaded"]:
            return


async def deploy_figures(platform: Platform, bus: Bus, names: list[str]) -> None:
    deployer = Deployer(bus, names)
    deployer.routers = {f"router-sync-bench-{i + 1}" for i in range(len(platform.routers))}
    async with deployer.following():
        await deployer.saturate(4, 3)  # warm up every path
        before, started = cpu_now(platform), time.monotonic()
        latencies, per_minute = await deployer.steady(RATE, SECONDS)
        report_deploys(f"steady {RATE:.0f}/min, 1 scheduler + 1 router-sync", latencies, per_minute)
        report_cpu(platform, before, time.monotonic() - started)
        before, started = cpu_now(platform), time.monotonic()
        latencies, one = await deployer.saturate(WINDOW, SECONDS)
        report_deploys(f"saturated ({WINDOW} in flight), 1 scheduler + 1 router-sync", latencies, one)
        report_cpu(platform, before, time.monotonic() - started)
        reloads = platform.routers[0].all("router.reloaded", after=started)
        if reloads:
            say(
                f"  router-sync reloads while saturated: {len(reloads)}, changes per reload median"
                f" {statistics.median(e['changes'] for e in reloads):.0f}, nginx -t median"
                f" {statistics.median(e['check_ms'] for e in reloads):.0f} ms, reload median"
                f" {statistics.median(e['reload_ms'] for e in reloads):.0f} ms"
            )

    scheduler, router = await platform.start_scheduler(SIM_DELAY), await platform.start_router()
    at, _ = await router.wait_for("router.snapshot_applied", RESYNC_TIMEOUT)
    say(f"second router-sync replica resynced in {at - router.started:.1f} s")
    at, _ = await scheduler.wait_for("snapshot.applied", RESYNC_TIMEOUT)
    say(f"second scheduler replica resynced in {at - scheduler.started:.1f} s")
    for proc in platform.routers:
        await settle(proc)
    deployer.routers = {f"router-sync-bench-{i + 1}" for i in range(len(platform.routers))}
    async with deployer.following():
        await deployer.saturate(4, 3)
        before, started = cpu_now(platform), time.monotonic()
        latencies, two = await deployer.saturate(WINDOW, SECONDS)
        report_deploys(f"saturated ({WINDOW} in flight), 2 schedulers + 2 router-syncs", latencies, two)
        report_cpu(platform, before, time.monotonic() - started)
    say(f"scaling factor with two replicas of the scheduler and router-sync: {two / one:.2f}x")

    # The scheduler as the bottleneck: processes that take SLOW_DELAY s to get ready hold its handler
    # slots (release-created runs 16 at once per replica), so one replica deploys at most 16/SLOW_DELAY
    # a second whatever the rest of the platform could do.
    for proc in platform.schedulers:
        await proc.stop()
    platform.schedulers.clear()
    rates = []
    for replicas in (1, 2):
        scheduler = await platform.start_scheduler(SLOW_DELAY)
        await scheduler.wait_for("snapshot.applied", RESYNC_TIMEOUT)
        async with deployer.following():
            latencies, rate = await deployer.saturate(SLOW_WINDOW, SECONDS)
        rates.append(rate)
        report_deploys(
            f"scheduler-bound ({SLOW_DELAY:.0f} s start-up, {SLOW_WINDOW} in flight), {replicas} scheduler",
            latencies,
            rate,
        )
    say(f"scaling factor of the scheduler when it is the bottleneck: {rates[1] / rates[0]:.2f}x")


async def one_size(cluster: Any, apps: int) -> None:
    print(f"\n--- {apps} apps ---", flush=True)
    dsn = await create_database(cluster)
    with tempfile.TemporaryDirectory(prefix="bench-cp-") as tmp, nats_server(Path(tmp) / "nats") as nats:
        platform = Platform(Path(tmp), nats.url, dsn)
        bus = await Bus.connect(NatsSettings(url=nats.url), source="bench")
        try:
            await bus.ensure_streams()
            await platform.start_controller()
            base = f"http://127.0.0.1:{platform.controller_port}"
            async with aiohttp.ClientSession() as session:
                token = await register_admin(session, base)
                started = time.perf_counter()
                async with Database.open(dsn) as db:
                    names = await seed_apps(db, owner=OWNER, count=apps, simulated_endpoints=True)
                    if WHITELIST_EVERY > 1:
                        # most apps are open to everyone: keep a whitelist on one in WHITELIST_EVERY
                        async with db.transaction() as tx:
                            await tx.run(
                                "UPDATE app_settings SET whitelist = '[]'"
                                " WHERE ('x' || substr(app_uuid::text, 1, 8))::bit(32)::int % $1 <> 0",
                                WHITELIST_EVERY,
                            )
                say(f"seeded {apps} apps in {time.perf_counter() - started:.1f} s")
                await list_latency(session, base, token, apps + 0)
            await snapshot_walk(bus, apps)
            await resync_figures(platform, apps)
            if apps <= DEPLOY_MAX_APPS and {"router-sync", "scheduler"} <= set(RESYNC):
                await deploy_figures(platform, bus, names)
        finally:
            await platform.stop()
            await bus.close()


async def amain() -> None:
    say(f"control plane bench: sizes {SIZES}, {os.cpu_count()} CPUs")
    with postgres_cluster() as cluster:
        for apps in SIZES:
            await one_size(cluster, apps)


def main() -> None:
    asyncio.run(amain())


if __name__ == "__main__":
    main()
