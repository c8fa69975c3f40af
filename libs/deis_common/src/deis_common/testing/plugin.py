"""pytest plugin with the fixtures every test package shares (loaded with ``-p deis_common.testing.plugin``).

- ``nats_server`` / ``nats_url``: a fresh nats-server with JetStream per test (anonymous clients welcome).
- ``secured_nats``: a fresh nats-server that runs the platform's NATS users and permissions
  (``deis_common.natsauth``): connect with ``secured_nats.settings("scheduler")`` to act as a service.
- ``bus``: a connected :class:`~deis_common.bus.Bus` with the streams ensured.
- ``recorder``: an :class:`EventRecorder` on that server.
- ``pg_cluster``: one Postgres per session; ``pg_dsn``: a fresh database per test.
- ``s3_endpoint``: an S3 server over HTTP (moto) per session.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from deis_common.bus import Bus
from deis_common.natsauth import NatsCredentials
from deis_common.pgserver import PostgresCluster
from deis_common.settings import NatsSettings
from deis_common.testing.nats import NatsServer
from deis_common.testing.nats import nats_server as start_nats_server
from deis_common.testing.postgres import create_database, drop_database, postgres_cluster
from deis_common.testing.recorder import EventRecorder


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    with start_nats_server(tmp_path / "nats") as server:
        yield server


@pytest.fixture
def secured_nats(tmp_path: Path) -> Iterator[NatsServer]:
    with start_nats_server(tmp_path / "secured-nats", credentials=NatsCredentials.generate()) as server:
        yield server


@pytest.fixture
def nats_url(nats_server: NatsServer) -> str:
    return nats_server.url


@pytest_asyncio.fixture
async def bus(nats_url: str) -> AsyncIterator[Bus]:
    connected = await Bus.connect(NatsSettings(url=nats_url), source="tests")
    await connected.ensure_streams()
    yield connected
    await connected.close()


@pytest_asyncio.fixture
async def recorder(bus: Bus) -> AsyncIterator[EventRecorder]:
    rec = EventRecorder()
    await rec.start(bus)
    yield rec
    await rec.stop()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PostgresCluster]:
    with postgres_cluster() as cluster:
        yield cluster


@pytest_asyncio.fixture
async def pg_dsn(pg_cluster: PostgresCluster) -> AsyncIterator[str]:
    dsn = await create_database(pg_cluster)
    yield dsn
    await drop_database(pg_cluster, dsn)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    from deis_common.testing.s3 import moto_server

    with moto_server() as endpoint:
        yield endpoint
