"""Run a real controller in-process for tests (this package's and other teams').

    from tests.controller.harness import running_controller

    async with running_controller(pg_dsn, nats_url, builder_key="k") as ctl:
        admin = await ctl.register("admin")            # the first user becomes admin
        token = await ctl.register("alice", by=admin)  # later users are registered by an admin
        r = await ctl.call("POST", "/v2/apps/", token, json={"id": "demo"})
        assert r.status == 201

The controller listens on a free loopback port (``ctl.url``); it uses the given Postgres database
(migrated at start) and NATS server, so events it publishes can be observed with the ``recorder`` fixture.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp

from deis_common.service import Service
from deis_common.settings import HttpSettings, NatsSettings
from deis_controller.service import build
from deis_controller.settings import ControllerSettings, DatabaseSettings


@dataclass(frozen=True)
class ApiResponse:
    status: int
    headers: dict[str, str]
    text: str
    json: Any


@dataclass
class RunningController:
    url: str
    builder_key: str
    service: Service
    session: aiohttp.ClientSession

    async def call(
        self,
        method: str,
        path: str,
        token: str | None = None,
        *,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> ApiResponse:
        """One HTTP request to the API (``path`` starts with ``/``); ``token`` authenticates as a user."""
        sent = dict(headers or {})
        if token is not None:
            sent["Authorization"] = f"token {token}"
        kwargs: dict[str, Any] = {"headers": sent}
        if json is not None:
            kwargs["json"] = json
        async with self.session.request(method, self.url + path, **kwargs) as resp:
            text = await resp.text()
            try:
                body = await resp.json(content_type=None) if text else None
            except ValueError:
                body = None
            return ApiResponse(resp.status, dict(resp.headers), text, body)

    async def hook(self, method: str, path: str, *, json: Any = None) -> ApiResponse:
        """A builder hook call, authenticated with the builder key."""
        return await self.call(method, path, json=json, headers={"X-Deis-Builder-Auth": self.builder_key})

    async def register(
        self, username: str, password: str = "s3cret-pass", *, by: str | None = None, **extra: Any
    ) -> str:
        """Register ``username`` and return their API token.

        Registration is ``admin_only`` by default: the first user registers alone (and becomes admin),
        later ones are registered ``by`` an admin's token, as an operator would.
        """
        body = {"username": username, "password": password, **extra}
        r = await self.call("POST", "/v2/auth/register/", by, json=body)
        assert r.status == 201, r.text
        r = await self.call("POST", "/v2/auth/login/", json={"username": username, "password": password})
        assert r.status == 200, r.text
        token: str = r.json["token"]
        return token


@contextlib.asynccontextmanager
async def running_controller(
    pg_dsn: str, nats_url: str, builder_key: str = "builder-secret", **settings: Any
) -> AsyncIterator[RunningController]:
    """A started controller; extra keyword arguments override :class:`ControllerSettings` fields (``nats``
    too: ``nats=secured_nats.settings("controller")`` runs it with its own NATS credentials).

    API changes do not wait for deploys or the router (``deploy_wait=0``, ``route_wait=0``) unless
    asked to: no scheduler or router runs here; for the same reason image builds are released directly
    (``pull_through_builder=False``) instead of being handed to a builder.
    """
    nats = settings.pop("nats", None) or NatsSettings(url=nats_url)
    config = ControllerSettings(
        nats=nats,
        http=HttpSettings(host="127.0.0.1", port=0),
        database=DatabaseSettings(url=pg_dsn),
        builder_key=builder_key,
        log_json=False,
        grace_period=2.0,
        **{
            "password_time_cost": 1,
            "password_memory_kib": 1024,
            "deploy_wait": 0.0,
            "route_wait": 0.0,
            "pull_through_builder": False,
            **settings,
        },
    )
    service = build(config)
    async with service.running(), aiohttp.ClientSession() as session:
        yield RunningController(
            url=f"http://127.0.0.1:{service.port}", builder_key=builder_key, service=service, session=session
        )
