"""Confidential events (config values, private keys, run output) are marked, and redaction hides every secret
while the rest of the payload still parses as the same event."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deis_common.events.base import REDACTED, Envelope, Event
from deis_common.events.registry import ALL_EVENTS, BY_SUBJECT, CONFIDENTIAL_EVENTS, redact

SAMPLES = Path(__file__).parent / "samples"


def sample(subject: str) -> Envelope:
    return Envelope.model_validate(json.loads((SAMPLES / f"{subject}.json").read_text()))


def secrets_of(data: dict[str, Any]) -> list[str]:
    """The secret values a payload carries: config env, a private key, a run's output."""
    found = list((data.get("state") or {}).get("env", {}).values())
    found += list(data.get("env", {}).values())
    found += [data[field] for field in ("key", "output") if data.get(field)]
    return found


def test_the_events_that_carry_secrets_are_exactly_the_confidential_ones() -> None:
    carrying = {cls.subject for cls in ALL_EVENTS if secrets_of(sample(cls.subject).data)}
    assert carrying == {cls.subject for cls in CONFIDENTIAL_EVENTS}
    assert carrying >= {
        "deis.v1.releases.created",
        "deis.v1.apps.scaled",
        "deis.v1.apps.run_requested",
        "deis.v1.pushes.received",
        "deis.v1.certs.attached",
        "deis.v1.runs.finished",
    }


@pytest.mark.parametrize("event", CONFIDENTIAL_EVENTS, ids=lambda cls: cls.subject)
def test_redaction_hides_every_secret_and_keeps_the_rest(event: type[Event]) -> None:
    original = sample(event.subject)
    hidden = redact(original)
    text = hidden.model_dump_json()
    for secret in secrets_of(original.data):
        assert secret not in text
    assert set(secrets_of(hidden.data)) == {REDACTED}
    reopened = hidden.open(BY_SUBJECT[hidden.type])
    assert reopened.model_dump(exclude={"env", "state", "key", "output"}) == original.open(event).model_dump(
        exclude={"env", "state", "key", "output"}
    )
    assert (hidden.id, hidden.type, hidden.subject) == (original.id, original.type, original.subject)


def test_events_without_secrets_pass_unchanged() -> None:
    for cls in ALL_EVENTS:
        if not cls.confidential:
            envelope = sample(cls.subject)
            assert redact(envelope) is envelope


def test_a_confidential_event_must_say_how_it_is_redacted() -> None:
    with pytest.raises(TypeError, match="must say how it is redacted"):

        class Leaky(Event):
            subject = "deis.v1.tests.leaky"
            confidential = True

            password: str
