"""The Service runtime every platform service runs in.

Start: connect to NATS, ensure streams, enter the service's resources (pools, stores, servers) in the
order they were added, start the HTTP endpoint (``/healthz``, ``/readiness``, ``/metrics`` and any routes
the service added), start consumers and background tasks, then mark ready.
Stop (on SIGTERM/SIGINT or :meth:`Service.request_stop`): mark not ready, close consumer intake, let
in-flight handlers finish within the grace period, cancel tasks, drain NATS, close resources in reverse
order, stop HTTP. A background task that dies unexpectedly stops the whole service (the supervisor
restarts it) rather than leaving it half-alive.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from typing import Any

import structlog
from aiohttp import web
from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from deis_common.bus import Bus, ConsumerRunner, HandlerMetrics, HandlerSpec, Router, StartPositions
from deis_common.settings import ServiceSettings

log = structlog.get_logger(__name__)

ResourceFactory = Callable[["Service"], AbstractAsyncContextManager[Any]]
TaskFactory = Callable[[], Awaitable[None]]
ReadinessCheck = Callable[[], Awaitable[bool]]


class Service:
    def __init__(
        self,
        name: str,
        settings: ServiceSettings,
        *,
        registry: CollectorRegistry | None = None,
        http_app: web.Application | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self.registry = registry if registry is not None else CollectorRegistry()
        self.http = http_app if http_app is not None else web.Application()
        self.http.router.add_get("/healthz", self._healthz)
        self.http.router.add_get("/readiness", self._readiness)
        self.http.router.add_get("/metrics", self._metrics)
        self._routers: list[Router] = []
        self._resources: list[ResourceFactory] = []
        self._tasks: list[tuple[str, TaskFactory]] = []
        self._checks: dict[str, ReadinessCheck] = {}
        self._start_at: StartPositions | None = None
        self._bus: Bus | None = None
        self._runners: list[ConsumerRunner] = []
        self._stop = asyncio.Event()
        self._ready = False
        self._started = False
        self._up = Gauge(
            "deis_service_up", "1 while the service is started", ["service"], registry=self.registry
        )
        self._handler_metrics = HandlerMetrics(self.registry)
        self.port: int | None = None

    # -- wiring ----------------------------------------------------------------------------------

    def include_router(self, router: Router) -> None:
        self._routers.append(router)

    def add_resource(self, factory: ResourceFactory) -> None:
        """An async context manager entered at start (after the bus) and exited at stop, in reverse."""
        self._resources.append(factory)

    def add_task(self, name: str, factory: TaskFactory) -> None:
        """A long-running coroutine owned by the service; its unexpected exit stops the service."""
        self._tasks.append((name, factory))

    def start_consumers_at(self, positions: StartPositions) -> None:
        """New durables start after ``positions()`` (stream -> sequence) instead of at the stream's start.

        For services that rebuild their state from a snapshot: the snapshot already holds what the
        history before its position would have told them.
        """
        self._start_at = positions

    def add_readiness_check(self, name: str, check: ReadinessCheck) -> None:
        self._checks[name] = check

    @property
    def handlers(self) -> list[HandlerSpec]:
        """Every event handler included so far; each runs as one durable consumer."""
        return [spec for router in self._routers for spec in router.handlers]

    @property
    def bus(self) -> Bus:
        if self._bus is None:
            raise RuntimeError("the bus is available once the service has started")
        return self._bus

    @property
    def ready(self) -> bool:
        return self._ready

    def request_stop(self) -> None:
        self._stop.set()

    # -- running ---------------------------------------------------------------------------------

    async def run(self) -> None:
        """Run until asked to stop (signal or :meth:`request_stop`), or until a task dies."""
        async with self.running():
            await self._stop.wait()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[Service]:
        """Start, yield while running, stop in order. Tests use this to run a service in-process."""
        log.info("service.starting", service=self.name)
        async with AsyncExitStack() as stack:
            self._bus = await Bus.connect(self.settings.nats, source=self.name)
            stack.push_async_callback(self._bus.close)
            await self._bus.ensure_streams()
            for factory in self._resources:
                await stack.enter_async_context(self._bounded(factory(self)))
            await self._start_http(stack)
            tasks = await self._start_work()
            self._started = True
            self._ready = True
            self._up.labels(self.name).set(1)
            log.info("service.ready", service=self.name, port=self.port)
            try:
                yield self
            finally:
                self._ready = False
                self._up.labels(self.name).set(0)
                log.info("service.stopping", service=self.name)
                await self._stop_work(tasks)
                self._started = False
        log.info("service.stopped", service=self.name)

    async def _start_http(self, stack: AsyncExitStack) -> None:
        runner = web.AppRunner(self.http, access_log=None, shutdown_timeout=self.settings.grace_period)
        await runner.setup()
        stack.push_async_callback(runner.cleanup)
        site = web.TCPSite(runner, self.settings.http.host, self.settings.http.port)
        await site.start()
        addresses = runner.addresses
        self.port = int(addresses[0][1]) if addresses else self.settings.http.port

    async def _start_work(self) -> list[asyncio.Task[None]]:
        tasks: list[asyncio.Task[None]] = []
        for router in self._routers:
            for spec in router.handlers:
                runner = ConsumerRunner(self.bus, self.name, spec, self._handler_metrics, self._start_at)
                self._runners.append(runner)
                tasks.append(self._own(runner.durable, runner.run))
        for name, factory in self._tasks:
            tasks.append(self._own(name, factory))
        return tasks

    def _own(self, name: str, factory: TaskFactory) -> asyncio.Task[None]:
        async def guarded() -> None:
            try:
                await factory()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("service.task_died", service=self.name, task=name)
                self.request_stop()
                return
            if not self._stop.is_set() and self._ready:
                log.debug("service.task_finished", service=self.name, task=name)

        return asyncio.create_task(guarded(), name=f"{self.name}:{name}")

    async def _stop_work(self, tasks: list[asyncio.Task[None]]) -> None:
        grace = self.settings.grace_period
        for runner in self._runners:
            runner.close_intake()
        await asyncio.gather(*(runner.drain(grace) for runner in self._runners))
        for task in tasks:
            task.cancel()
        _, stuck = await asyncio.wait(tasks, timeout=grace) if tasks else (set(), set())
        for task in stuck:
            log.error("service.task_ignored_cancel", service=self.name, task=task.get_name())
        self._runners.clear()

    @contextlib.asynccontextmanager
    async def _bounded(self, resource: AbstractAsyncContextManager[Any]) -> AsyncIterator[Any]:
        """Enter ``resource``; on stop, give its cleanup at most the grace period, then move on.

        A cleanup that never finishes (a pool waiting for a connection nobody returns) must not keep
        the process from stopping: the supervisor would have to SIGKILL it and the remaining cleanups
        (draining NATS) would never run.
        """
        value = await resource.__aenter__()
        try:
            yield value
        except BaseException as exc:
            if not await self._exit_within_grace(resource, exc):
                raise
        else:
            await self._exit_within_grace(resource, None)

    async def _exit_within_grace(
        self, resource: AbstractAsyncContextManager[Any], exc: BaseException | None
    ) -> bool:
        exit_task = asyncio.ensure_future(
            resource.__aexit__(type(exc) if exc else None, exc, exc.__traceback__ if exc else None)
        )
        done, _ = await asyncio.wait({exit_task}, timeout=self.settings.grace_period)
        if not done:
            exit_task.cancel()
            log.error("service.resource_close_timeout", service=self.name, resource=type(resource).__name__)
            return False
        return bool(exit_task.result())

    # -- HTTP endpoints --------------------------------------------------------------------------

    async def _healthz(self, _: web.Request) -> web.Response:
        """``200 OK`` (text) while started and connected to the bus, as the Workflow API contract says."""
        healthy = self._started and self._bus is not None and self._bus.connected
        return web.Response(
            text="OK" if healthy else "unhealthy: not started or no bus", status=200 if healthy else 503
        )

    async def _readiness(self, _: web.Request) -> web.Response:
        """``200 OK`` when ready and every readiness check passes; 503 naming the failed checks."""
        failed: list[str] = []
        for name, check in self._checks.items():
            try:
                if not await check():
                    failed.append(name)
            except Exception:
                failed.append(name)
        if self._ready and not failed:
            return web.Response(text="OK")
        return web.Response(text="not ready: " + (", ".join(failed) or "starting or stopping"), status=503)

    async def _metrics(self, _: web.Request) -> web.Response:
        body = generate_latest(self.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
