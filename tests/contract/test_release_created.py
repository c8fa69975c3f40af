"""``releases.created`` keeps version and generation in the state only, and still shows them on the wire."""

from __future__ import annotations

import json

import pytest

from deis_common.events.base import Envelope
from deis_common.events.cli import main
from deis_common.events.releases import ReleaseCreated
from deis_common.events.state import AppState


def test_version_and_generation_are_the_states_and_travel_at_the_top_of_the_payload() -> None:
    event = ReleaseCreated(app="shop", state=AppState(app="shop", version=4, generation=9))
    assert (event.version, event.generation) == (4, 9)
    data = Envelope.wrap(event, source="controller").data
    assert (data["version"], data["generation"]) == (4, 9)
    assert Envelope.wrap(event, source="controller").open(ReleaseCreated) == event


def test_the_published_schema_shows_them(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema", "ReleaseCreated"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert {"version", "generation"} <= set(schema["properties"])
