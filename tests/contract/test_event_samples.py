"""Golden samples: payloads that integrations and older services send must keep parsing.

Each file under samples/ is a complete envelope as it travels on the bus. A change to an event model
that breaks one of these is a breaking change and needs a new major subject version.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deis_common.events.base import Envelope
from deis_common.events.registry import ALL_EVENTS, BY_SUBJECT, FAMILIES, stream_name

SAMPLES = Path(__file__).parent / "samples"
SAMPLE_FILES = sorted(SAMPLES.glob("*.json"))


def test_every_event_has_a_golden_sample() -> None:
    assert {path.stem for path in SAMPLE_FILES} == {cls.subject for cls in ALL_EVENTS}


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.stem)
def test_sample_round_trips_through_its_event_model(path: Path) -> None:
    raw = json.loads(path.read_text())
    envelope = Envelope.model_validate(raw)
    event = envelope.open(BY_SUBJECT[envelope.type])
    rewrapped = Envelope.wrap(
        event, source=envelope.source, correlation_id=envelope.correlation_id, event_id=envelope.id
    )
    reparsed = Envelope.from_bytes(rewrapped.to_bytes()).open(type(event))
    assert reparsed == event
    assert rewrapped.subject == raw["subject"]
    # Every field of the sample survives (no silent drop of a field the model knows).
    _assert_contains(json.loads(event.model_dump_json()), raw["data"], path=envelope.type)


@pytest.mark.parametrize("path", SAMPLE_FILES, ids=lambda p: p.stem)
def test_unknown_fields_from_newer_producers_are_ignored(path: Path) -> None:
    raw = json.loads(path.read_text())
    raw["data"]["field_from_the_future"] = {"nested": True}
    raw["extension_attribute"] = "x"
    envelope = Envelope.model_validate(raw)
    event = envelope.open(BY_SUBJECT[envelope.type])
    assert "field_from_the_future" not in event.model_dump()


def test_subjects_follow_the_versioned_naming_and_map_to_one_stream() -> None:
    for cls in ALL_EVENTS:
        prefix, version, family, name = cls.subject.split(".")
        assert (prefix, version, family) == ("deis", "v1", cls.family)
        assert name == name.lower()
        assert cls in FAMILIES[family]
        assert stream_name(family) == f"DEIS_{family.upper()}"


def _assert_contains(dumped: object, sample: object, *, path: str) -> None:
    """Every value in ``sample`` appears in ``dumped`` (which may add defaults the sample left out)."""
    if isinstance(sample, dict):
        assert isinstance(dumped, dict), path
        for key, value in sample.items():
            assert key in dumped, f"{path}.{key} was dropped"
            _assert_contains(dumped[key], value, path=f"{path}.{key}")
    else:
        assert dumped == sample, f"{path}: {dumped!r} != {sample!r}"
