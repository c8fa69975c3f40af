"""Router throughput and latency: the same app straight and through nginx, and how fast routes go live.

Starts NATS, router-sync (with an nginx of its own) and two small aiohttp apps in processes of their own:
``hello`` answers at once (the worst case for the router's share), ``busy`` spends BENCH_APP_WORK_MS of
CPU per request like an app doing real work. For each, ``wrk --latency`` runs against the app directly
and through the router (Host: <app>.<domain>): saturated throughput (-c BENCH_CONNECTIONS, median of
alternating rounds) and latency on one connection (-c1, where queueing does not hide the router's cost).
Then it measures the time from publishing ``containers.healthy`` to receiving ``routes.updated`` (one app
deployed again and again), and how long a burst of BENCH_BURST_APPS apps takes and in how many reloads.

Targets: the router keeps at least 90% of direct throughput and adds under 1 ms at p50.
On a machine whose cores are all busy, nginx's CPU per request (tens of microseconds) comes straight off
the app's; BENCH_PIN=1 puts the app on cpu 0 and wrk and nginx on cpu 1.
Run: ``uv run python -m bench router_throughput`` (env BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_ROUNDS,
BENCH_DEPLOYS, BENCH_BURST_APPS, BENCH_APP_WORK_MS, BENCH_NGINX_WORKERS, BENCH_PIN, BENCH_NETWORK).
BENCH_NETWORK=isolated (the default, as the platform runs apps) puts each app in a network namespace of its
own and reaches it at its address through the veth pair; BENCH_NETWORK=loopback runs it on the host's
loopback, to see what the isolation costs.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from prometheus_client import CollectorRegistry

from deis_common import netns
from deis_common.bus import Bus
from deis_common.events.containers import ContainersHealthy
from deis_common.events.routes import RoutesUpdated
from deis_common.logconfig import configure_logging
from deis_common.settings import HttpSettings, NatsSettings
from deis_common.testing.nats import nats_server
from deis_common.testing.ports import free_port, wait_for_port
from deis_router_sync import RouterSyncSettings, build
from deis_router_sync.settings import RouterSettings

DOMAIN = "bench.test"
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "32"))
WORKERS = os.environ.get("BENCH_NGINX_WORKERS", "1")
PIN = os.environ.get("BENCH_PIN", "0") == "1" and (os.cpu_count() or 1) >= 2
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
BURST_APPS = int(os.environ.get("BENCH_BURST_APPS", "300"))
APP_WORK_MS = float(os.environ.get("BENCH_APP_WORK_MS", "1"))
APP_CPUS, LOAD_CPUS = "0", "1"  # the app alone on one core; wrk and nginx share the other
DEPLOYS = int(os.environ.get("BENCH_DEPLOYS", "30"))
NETWORK = os.environ.get("BENCH_NETWORK", "isolated")

APP = """
import sys, time
from aiohttp import web

WORK = float(sys.argv[2]) / 1000

async def hello(request):
    until = time.perf_counter() + WORK
    while time.perf_counter() < until:
        pass
    return web.Response(text="hello from the bench app\\n")

app = web.Application()
app.router.add_get("/", hello)
web.run_app(app, host=sys.argv[3], port=int(sys.argv[1]), access_log=None, print=None)
"""

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    requests: int


def _ms(text: str) -> float:
    match = re.match(r"([\d.]+)(us|ms|s)", text)
    if match is None:
        raise ValueError(f"cannot read wrk latency {text!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


async def wrk(url: str, host: str | None, seconds: int, connections: int, threads: int = 2) -> Load:
    args = ["wrk", "--latency", f"-t{threads}", f"-c{connections}", f"-d{seconds}s"]
    if host is not None:
        args += ["-H", f"Host: {host}"]
    if PIN:
        args = ["taskset", "-c", LOAD_CPUS, *args]
    proc = await asyncio.create_subprocess_exec(
        *args, url, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out = (await proc.communicate())[0].decode()
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed: {out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"^\s+50%\s+(\S+)$", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"^\s+99%\s+(\S+)$", out, re.M).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return Load(rps, p50, p99, int(errors.group(1)) if errors else 0, requests)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used so far."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def nginx_workers(prefix: Path) -> list[int]:
    master = int((prefix / "nginx.pid").read_text())
    return [int(pid) for pid in Path(f"/proc/{master}/task/{master}/children").read_text().split()]


def pin(pid: int, cpus: str) -> None:
    """Keep ``pid`` (and what it forks later) on ``cpus`` so the app never competes with the load."""
    if PIN:
        os.sched_setaffinity(pid, {int(c) for c in cpus.split(",")})


def pin_nginx(prefix: Path) -> None:
    master = int((prefix / "nginx.pid").read_text())
    pin(master, LOAD_CPUS)
    for child in Path(f"/proc/{master}/task/{master}/children").read_text().split():
        pin(int(child), LOAD_CPUS)


async def deploy_latency(bus: Bus, app: str, endpoints: list[str], generations: range) -> list[float]:
    """Seconds from publishing containers.healthy to receiving its routes.updated, per deploy.

    Each deploy moves the app to the next endpoint of ``endpoints`` so every one is a real reload.
    """
    samples = []
    async with bus.watch(RoutesUpdated) as updates:
        for generation in generations:
            endpoint = endpoints[generation % len(endpoints)]
            started = time.perf_counter()
            await bus.publish(
                ContainersHealthy(app=app, generation=generation, version=generation, endpoints=[endpoint])
            )
            await updates.first(RoutesUpdated, where=_routed(app, generation), timeout=30)
            samples.append(time.perf_counter() - started)
    return samples



def _routed(app: str, generation: int) -> Callable[[RoutesUpdated], bool]:
    return lambda e: e.app == app and e.generation == generation

@dataclass
class App:
    name: str
    work_ms: float
    port: int
    pid: int = 0
    network: netns.Lease | None = None

    @property
    def endpoint(self) -> str:
        return f"{self.network.address if self.network else '127.0.0.1'}:{self.port}"

    async def start(self) -> asyncio.subprocess.Process:
        enter: list[str] = []
        if NETWORK == "isolated":
            await netns.setup()
            self.network = await netns.allocate("bench-router")
            enter = self.network.enter()
        bind = "0.0.0.0" if self.network else "127.0.0.1"
        return await asyncio.create_subprocess_exec(
            *enter, sys.executable, "-c", APP, str(self.port), str(self.work_ms), bind
        )


async def run(workdir: Path) -> None:
    apps = [App("hello", 0.0, free_port()), App("busy", APP_WORK_MS, free_port())]
    procs = [await app.start() for app in apps]
    for app, proc in zip(apps, procs, strict=True):
        app.pid = proc.pid
        pin(proc.pid, APP_CPUS)
    try:
        for app in apps:
            host, port = app.endpoint.rsplit(":", 1)
            await asyncio.to_thread(wait_for_port, int(port), host)
        with nats_server(workdir / "nats") as nats:
            settings = RouterSyncSettings(
                nats=NatsSettings(url=nats.url),
                http=HttpSettings(port=0),
                platform_domain=DOMAIN,
                log_level="warning",
                router=RouterSettings(
                    prefix=workdir / "router",
                    instance="bench",
                    http_port=free_port(),
                    https_port=free_port(),
                    start_nginx=True,
                    worker_processes=WORKERS,
                ),
            )
            bus = await Bus.connect(settings.nats, source="bench")
            await bus.ensure_streams()
            try:
                async with build(settings).running() as service:
                    for app in apps:
                        await deploy_latency(bus, app.name, [app.endpoint], range(2, 3))
                    pin_nginx(settings.router.prefix)
                    placement = (
                        f"app on cpu {APP_CPUS}, wrk and nginx on cpu {LOAD_CPUS}" if PIN else "unpinned"
                    )
                    print(
                        f"wrk -t2 -c{CONNECTIONS} -d{SECONDS}s (median of {ROUNDS} alternating rounds) and "
                        f"-t1 -c1; nginx workers: {WORKERS}; {placement}; "
                        f"{os.cpu_count()} cpus, load average {os.getloadavg()[0]:.1f}; "
                        f"apps on the {NETWORK} network"
                    )
                    for app in apps:
                        await report(settings, app)
                    # No traffic flows now; the second address only makes each deploy change the config.
                    hello = apps[0]
                    elsewhere = [hello.endpoint, f"127.0.0.2:{hello.port}"]
                    samples = await deploy_latency(bus, hello.name, elsewhere, range(3, DEPLOYS + 3))
                    burst = await burst_latency(bus, service.registry, hello.endpoint, BURST_APPS)
            finally:
                await bus.close()
    finally:
        for proc in procs:
            proc.terminate()
            await proc.wait()
        for app in apps:
            if app.network is not None:
                await netns.release(app.network)
    samples_ms = sorted(s * 1000 for s in samples)
    print(
        f"containers.healthy -> routes.updated over {len(samples_ms)} deploys: "
        f"p50 {statistics.median(samples_ms):.1f} ms, max {samples_ms[-1]:.1f} ms "
        f"(includes the {settings.router.debounce * 1000:.0f} ms debounce and nginx's own ~100 ms "
        "hand-over from old to new workers)"
    )
    seconds, reloads = burst
    print(
        f"burst of {BURST_APPS} apps becoming healthy at once: all routes.updated after {seconds:.2f} s, "
        f"{reloads:.0f} nginx reloads"
    )


async def burst_latency(
    bus: Bus, registry: CollectorRegistry, endpoint: str, count: int
) -> tuple[float, float]:
    """Seconds until every app of a burst is confirmed, and how many reloads that took."""
    reloads_before = registry.get_sample_value("deis_router_reloads_total", {"outcome": "served"}) or 0.0
    pending = {f"burst{i}" for i in range(count)}
    async with bus.watch(RoutesUpdated) as updates:
        started = time.perf_counter()
        await asyncio.gather(
            *(
                bus.publish(ContainersHealthy(app=app, generation=1, version=1, endpoints=[endpoint]))
                for app in pending
            )
        )
        while pending:
            pending.discard((await updates.first(RoutesUpdated, timeout=60)).app)
        seconds = time.perf_counter() - started
    reloads = registry.get_sample_value("deis_router_reloads_total", {"outcome": "served"}) or 0.0
    return seconds, reloads - reloads_before


async def report(settings: RouterSyncSettings, app: App) -> None:
    """Saturated throughput in alternating rounds (median), then latency on one connection."""
    direct_url = f"http://{app.endpoint}/"
    router_url = f"http://127.0.0.1:{settings.router.http_port}/"
    host = f"{app.name}.{DOMAIN}"
    await wrk(direct_url, None, 2, CONNECTIONS)  # warm up both paths
    await wrk(router_url, host, 2, CONNECTIONS)
    direct: list[Load] = []
    routed: list[Load] = []
    workers = nginx_workers(settings.router.prefix)
    app_cpu = {"direct": 0.0, "router": 0.0}
    nginx_cpu = 0.0
    for _ in range(ROUNDS):
        before = cpu_seconds([app.pid])
        direct.append(await wrk(direct_url, None, SECONDS, CONNECTIONS))
        app_cpu["direct"] += cpu_seconds([app.pid]) - before
        before, before_nginx = cpu_seconds([app.pid]), cpu_seconds(workers)
        routed.append(await wrk(router_url, host, SECONDS, CONNECTIONS))
        app_cpu["router"] += cpu_seconds([app.pid]) - before
        nginx_cpu += cpu_seconds(workers) - before_nginx
    single_direct = await wrk(direct_url, None, SECONDS, 1, threads=1)
    single_routed = await wrk(router_url, host, SECONDS, 1, threads=1)

    print(f"\napp '{app.name}' ({app.work_ms:g} ms of CPU per request)")
    print(f"{'':14}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>10}")
    rows = [
        (f"direct -c{CONNECTIONS}", _median(direct)),
        (f"router -c{CONNECTIONS}", _median(routed)),
        ("direct -c1", single_direct),
        ("router -c1", single_routed),
    ]
    for name, load in rows:
        print(f"{name:14}{load.rps:>10.0f}{load.p50_ms:>10.3f}{load.p99_ms:>10.3f}{load.errors:>10}")
    share = _median(routed).rps / _median(direct).rps * 100
    added = single_routed.p50_ms - single_direct.p50_ms
    print(
        f"router keeps {share:.1f}% of direct throughput (target >= 90%); "
        f"adds {added:.3f} ms at p50 on one connection (target < 1 ms)"
    )
    per_request = {
        "app direct": app_cpu["direct"] / max(1, sum(load.requests for load in direct)),
        "app routed": app_cpu["router"] / max(1, sum(load.requests for load in routed)),
        "nginx": nginx_cpu / max(1, sum(load.requests for load in routed)),
    }
    print("CPU per request: " + ", ".join(f"{name} {sec * 1e6:.0f} us" for name, sec in per_request.items()))


def _median(loads: list[Load]) -> Load:
    return sorted(loads, key=lambda load: load.rps)[len(loads) // 2]


def main() -> None:
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed (make system-deps installs it)")
    configure_logging("warning", json=False)
    with tempfile.TemporaryDirectory(prefix="router-bench-") as tmp:
        asyncio.run(run(Path(tmp)))


if __name__ == "__main__":
    main()
