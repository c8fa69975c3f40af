"""Port allocation: defaults when free, the recorded port when still free, a free one otherwise."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from deis_platform.ports import DEFAULT_PORTS, allocate_ports, port_is_free


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        yield listener.getsockname()[1]


def test_a_listening_port_is_not_free(taken_port: int) -> None:
    assert not port_is_free(taken_port)


def test_a_taken_recorded_port_moves_to_a_free_one(taken_port: int) -> None:
    ports = allocate_ports({"nats": taken_port})

    assert ports["nats"] != taken_port
    assert port_is_free(ports["nats"])


def test_a_free_recorded_port_is_kept_over_the_default() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        recorded = probe.getsockname()[1]

    assert allocate_ports({"controller": recorded})["controller"] == recorded


def test_every_role_gets_its_own_port() -> None:
    ports = allocate_ports({"nats": 45000, "controller": 45000})

    assert set(ports) == set(DEFAULT_PORTS)
    assert len(set(ports.values())) == len(ports)
