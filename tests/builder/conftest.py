"""Fixtures: a builder and a controller running in-process on real NATS and Postgres, a real fs
store, real git over real SSH."""

from __future__ import annotations

import asyncio
import shutil
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from builder_harness import (
    BUILDER_KEY,
    Accounts,
    BuildLines,
    SshKey,
    builder_settings,
    make_key,
    routing_stand_in,
)

from deis_builder.push.ssh.hostkeys import load_host_keys
from deis_builder.service import build, hook_socket_path
from deis_builder.settings import Settings
from deis_common.bus import Bus
from deis_common.service import Service
from deis_common.settings import RegistrySettings
from deis_common.store import FsStore
from deis_common.testing.ports import free_port


def controller_harness() -> ModuleType:
    """The controller team's in-process harness (tests/controller/harness.py), importable as
    ``tests.controller.harness`` once the repository root is on the path."""
    root = str(Path(__file__).resolve().parents[2])
    if root not in sys.path:
        sys.path.insert(0, root)
    from tests.controller import harness

    return harness


@dataclass
class RunningBuilder:
    service: Service
    settings: Settings
    store: FsStore

    @property
    def ssh_port(self) -> int:
        return self.settings.ssh.port

    @property
    def service_hook_socket(self) -> Path:
        return hook_socket_path(self.settings.builder.data_dir)

    async def metrics(self) -> str:
        url = f"http://127.0.0.1:{self.service.port}/metrics"
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            return await response.text()


@pytest_asyncio.fixture
async def alice_key(tmp_path: Path) -> SshKey:
    return await make_key(tmp_path / "keys" / "alice")


@pytest_asyncio.fixture
async def failing_deploys(bus: Bus) -> AsyncIterator[dict[str, str]]:
    """Apps whose deploys fail (app -> reason); every other release is routed at once."""
    async with routing_stand_in(bus) as failing:
        yield failing


@pytest_asyncio.fixture
async def controller(pg_dsn: str, nats_url: str, failing_deploys: dict[str, str]) -> AsyncIterator[Any]:
    running_controller = controller_harness().running_controller
    async with running_controller(pg_dsn, nats_url, builder_key=BUILDER_KEY) as api:
        yield api


@pytest_asyncio.fixture
async def accounts(controller: Any, alice_key: SshKey) -> Accounts:
    accounts = Accounts(controller)
    await accounts.user("admin")
    await accounts.user("alice", alice_key)
    return accounts


@pytest.fixture(scope="session")
def host_keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Host keys made once per session (RSA key generation is slow); each builder gets a copy."""
    directory = tmp_path_factory.mktemp("host-keys")
    load_host_keys(directory)
    return directory


@pytest.fixture
def builder_options() -> dict[str, Any]:
    """Extra DEIS_BUILDER__ settings; override in a test module or with indirect parametrisation."""
    return {}


@pytest.fixture
def registry_settings() -> RegistrySettings:
    """The platform registry the builder pushes images to; none (the embedded default) unless overridden."""
    return RegistrySettings()


@pytest_asyncio.fixture
async def builder(
    nats_url: str,
    tmp_path: Path,
    controller: Any,
    builder_options: dict[str, Any],
    registry_settings: RegistrySettings,
    host_keys: Path,
) -> AsyncIterator[RunningBuilder]:
    await asyncio.to_thread(shutil.copytree, host_keys, tmp_path / "builder" / "host_keys")
    settings = builder_settings(
        nats_url=nats_url,
        data_dir=tmp_path / "builder",
        store_dir=tmp_path / "store",
        controller_url=controller.url,
        ssh_port=free_port(),
        **builder_options,
    )
    settings.registry = registry_settings
    service = build(settings)
    async with service.running(), FsStore(tmp_path / "store") as store:
        yield RunningBuilder(service=service, settings=settings, store=store)


@pytest_asyncio.fixture
async def build_lines(bus: Bus) -> AsyncIterator[BuildLines]:
    lines = BuildLines()
    await lines.start(bus)
    yield lines
    await lines.stop()
