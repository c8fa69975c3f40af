"""Fixtures: a router-sync running in-process with an nginx of its own on free ports."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from deis_router_sync import build
from tests.router_sync.router_harness import RunningRouter, router_settings


@pytest.fixture
def router_options() -> dict[str, object]:
    """Extra DEIS_ROUTER__ settings; override in a test module or with indirect parametrisation."""
    return {}


@pytest_asyncio.fixture
async def router(
    nats_url: str, tmp_path: Path, router_options: dict[str, object]
) -> AsyncIterator[RunningRouter]:
    settings = router_settings(nats_url, tmp_path / "router", **router_options)
    service = build(settings)
    async with service.running():
        yield RunningRouter(service, settings)
