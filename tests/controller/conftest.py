"""Fixtures of the controller tests: a running controller and an admin (the first user registered)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from tests.controller.harness import RunningController, running_controller


@pytest_asyncio.fixture
async def api(pg_dsn: str, nats_url: str) -> AsyncIterator[RunningController]:
    async with running_controller(pg_dsn, nats_url) as ctl:
        yield ctl


@pytest_asyncio.fixture
async def admin(api: RunningController) -> str:
    return await api.register("admin")


@pytest_asyncio.fixture
async def alice(api: RunningController, admin: str) -> str:
    return await api.register("alice", by=admin)


@pytest_asyncio.fixture
async def bob(api: RunningController, admin: str) -> str:
    return await api.register("bob", by=admin)
