"""Router throughput and latency: the same app straight and through nginx, and how fast routes go live.

Starts NATS, router-sync (with an nginx of its own) and a small aiohttp app in a process of its own, then
runs ``wrk --latency`` against the app directly and through the router (Host: bench.<domain>), and
prints requests per second and p50/p99 latency of both. Then it measures the time from publishing
``containers.healthy`` to receiving ``routes.updated`` over a series of deploys.

Targets: the router keeps at least 90% of direct throughput and adds under 1 ms at p50.
Run: ``uv run python -m bench router_throughput`` (env BENCH_SECONDS, BENCH_CONNECTIONS, BENCH_DEPLOYS).
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
from dataclasses import dataclass
from pathlib import Path

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
PIN = os.environ.get("BENCH_PIN", "1") == "1" and (os.cpu_count() or 1) >= 2
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
APP_CPUS, LOAD_CPUS = "0", "1"  # the app alone on one core; wrk and nginx share the other
DEPLOYS = int(os.environ.get("BENCH_DEPLOYS", "30"))

APP = """
import sys
from aiohttp import web

async def hello(request):
    return web.Response(text="hello from the bench app\\n")

app = web.Application()
app.router.add_get("/", hello)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)
"""

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


@dataclass
class Load:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


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
    return Load(rps, p50, p99, int(errors.group(1)) if errors else 0)


def pin(pid: int, cpus: str) -> None:
    """Keep ``pid`` (and what it forks later) on ``cpus`` so the app never competes with the load."""
    if PIN:
        os.sched_setaffinity(pid, {int(c) for c in cpus.split(",")})


def pin_nginx(prefix: Path) -> None:
    master = int((prefix / "nginx.pid").read_text())
    pin(master, LOAD_CPUS)
    for child in Path(f"/proc/{master}/task/{master}/children").read_text().split():
        pin(int(child), LOAD_CPUS)


async def deploy_latency(bus: Bus, endpoints: list[str], generations: range) -> list[float]:
    """Seconds from publishing containers.healthy to receiving its routes.updated, per deploy.

    Each deploy moves the app to the next endpoint of ``endpoints`` so every one is a real reload.
    """
    samples = []
    async with bus.watch(RoutesUpdated) as updates:
        for generation in generations:
            endpoint = endpoints[generation % len(endpoints)]
            started = time.perf_counter()
            await bus.publish(
                ContainersHealthy(
                    app="bench", generation=generation, version=generation, endpoints=[endpoint]
                )
            )
            while True:
                envelope = await asyncio.wait_for(updates.get(), timeout=30)
                event = envelope.open(RoutesUpdated)
                if event.app == "bench" and event.generation == generation:
                    break
            samples.append(time.perf_counter() - started)
    return samples


async def run(workdir: Path) -> None:
    app_port = free_port()
    app = await asyncio.create_subprocess_exec(sys.executable, "-c", APP, str(app_port))
    pin(app.pid, APP_CPUS)
    try:
        await asyncio.to_thread(wait_for_port, app_port)
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
                async with build(settings).running():
                    endpoint = f"127.0.0.1:{app_port}"
                    await deploy_latency(bus, [endpoint], range(2, 3))
                    pin_nginx(settings.router.prefix)
                    await report(settings, endpoint)
                    # No traffic flows now; the second address only makes each deploy change the config.
                    elsewhere = [endpoint, f"127.0.0.2:{app_port}"]
                    samples = await deploy_latency(bus, elsewhere, range(3, DEPLOYS + 3))
            finally:
                await bus.close()
    finally:
        app.terminate()
        await app.wait()
    samples_ms = sorted(s * 1000 for s in samples)
    print(
        f"containers.healthy -> routes.updated over {len(samples_ms)} deploys: "
        f"p50 {statistics.median(samples_ms):.1f} ms, max {samples_ms[-1]:.1f} ms "
        f"(includes the {settings.router.debounce * 1000:.0f} ms debounce)"
    )


async def report(settings: RouterSyncSettings, endpoint: str) -> None:
    """Saturated throughput in alternating rounds (median), then latency of one connection."""
    direct_url = f"http://{endpoint}/"
    router_url = f"http://127.0.0.1:{settings.router.http_port}/"
    host = f"bench.{DOMAIN}"
    await wrk(direct_url, None, 2, CONNECTIONS)  # warm up both paths
    await wrk(router_url, host, 2, CONNECTIONS)
    direct: list[Load] = []
    routed: list[Load] = []
    for _ in range(ROUNDS):
        direct.append(await wrk(direct_url, None, SECONDS, CONNECTIONS))
        routed.append(await wrk(router_url, host, SECONDS, CONNECTIONS))
    single_direct = await wrk(direct_url, None, SECONDS, 1, threads=1)
    single_routed = await wrk(router_url, host, SECONDS, 1, threads=1)

    pinned = f"app on cpu {APP_CPUS}, wrk and nginx on cpu {LOAD_CPUS}" if PIN else "unpinned"
    print(f"nginx workers: {WORKERS}; {pinned}; {os.cpu_count()} cpus, load average {os.getloadavg()[0]:.1f}")
    print(f"{'':30}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>10}")
    rows = [
        (f"direct  -c{CONNECTIONS} (median of {ROUNDS})", _median(direct)),
        (f"router  -c{CONNECTIONS} (median of {ROUNDS})", _median(routed)),
        ("direct  -c1", single_direct),
        ("router  -c1", single_routed),
    ]
    for name, load in rows:
        print(f"{name:30}{load.rps:>10.0f}{load.p50_ms:>10.3f}{load.p99_ms:>10.3f}{load.errors:>10}")
    share = _median(routed).rps / _median(direct).rps * 100
    added = single_routed.p50_ms - single_direct.p50_ms
    print(
        f"router keeps {share:.1f}% of direct throughput (target >= 90%); "
        f"adds {added:.3f} ms at p50 on one connection (target < 1 ms)"
    )


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
