"""Fixtures: a builder running in-process on real NATS, a real fs store, real git over real SSH."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest_asyncio
from builder_harness import SshKey, StandInController, builder_settings, make_key

from deis_builder.service import build
from deis_builder.settings import Settings
from deis_common.bus import Bus
from deis_common.service import Service
from deis_common.store import FsStore
from deis_common.testing.ports import free_port


@dataclass
class RunningBuilder:
    service: Service
    settings: Settings
    store: FsStore

    @property
    def ssh_port(self) -> int:
        return self.settings.ssh.port


@pytest_asyncio.fixture
async def alice_key(tmp_path: Path) -> SshKey:
    return await make_key(tmp_path / "keys" / "alice")


@pytest_asyncio.fixture
async def controller(bus: Bus, alice_key: SshKey) -> AsyncIterator[StandInController]:
    stand_in = StandInController()
    stand_in.add_user("alice", alice_key)
    async with stand_in.running(bus):
        yield stand_in


@pytest_asyncio.fixture
async def builder(
    nats_url: str, tmp_path: Path, controller: StandInController
) -> AsyncIterator[RunningBuilder]:
    settings = builder_settings(
        nats_url=nats_url,
        data_dir=tmp_path / "builder",
        store_dir=tmp_path / "store",
        controller_url=controller.url,
        ssh_port=free_port(),
    )
    service = build(settings)
    async with service.running(), FsStore(tmp_path / "store") as store:
        yield RunningBuilder(service=service, settings=settings, store=store)
