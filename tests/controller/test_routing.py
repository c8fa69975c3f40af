"""Domains, certificates, app settings, TLS and the whitelist — and the events router-sync acts on."""

from __future__ import annotations

from deis_common.events.apps import SettingsChanged
from deis_common.events.certs import CertAttached, CertDetached
from deis_common.events.domains import DomainAdded, DomainRemoved
from deis_common.testing.recorder import EventRecorder
from tests.controller.harness import RunningController
from tests.controller.pem import self_signed


async def test_domains_are_stored_in_ace_form_and_unique(
    api: RunningController, alice: str, bob: str, recorder: EventRecorder
) -> None:
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    await api.call("POST", "/v2/apps/", bob, json={"id": "other"})
    r = await api.call("POST", "/v2/apps/demo/domains/", alice, json={"domain": "bücher.example.com"})
    assert r.status == 201, r.text
    assert r.json["domain"] == "xn--bcher-kva.example.com"
    await recorder.wait_for(DomainAdded, where=lambda e: e.domain == "xn--bcher-kva.example.com")
    r = await api.call("POST", "/v2/apps/demo/domains/", alice, json={"domain": "*.wild.example.com"})
    assert r.status == 201
    r = await api.call("GET", "/v2/apps/demo/domains/", alice)
    assert [d["domain"] for d in r.json["results"]] == [
        "*.wild.example.com",
        "demo",
        "xn--bcher-kva.example.com",
    ]
    r = await api.call("POST", "/v2/apps/other/domains/", bob, json={"domain": "xn--bcher-kva.example.com"})
    assert r.json == {"domain": ["The domain xn--bcher-kva.example.com is already in use by another app"]}
    r = await api.call("DELETE", "/v2/apps/demo/domains/bücher.example.com", alice)
    assert r.status == 204
    await recorder.wait_for(DomainRemoved, where=lambda e: e.domain == "xn--bcher-kva.example.com")


async def test_bad_domains_get_clear_reasons(api: RunningController, alice: str) -> None:
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    for domain, message in (
        ("*", "Hostname can't only be a wildcard"),
        ("example.123", "Hostname does not look valid."),
        ("under_score.com", "Hostname does not look valid, could not convert to ACE"),
        (".".join(["a" * 60] * 5) + ".com", "253 characters"),
    ):
        r = await api.call("POST", "/v2/apps/demo/domains/", alice, json={"domain": domain})
        assert r.status == 400 and message in r.json["domain"][0], (domain, r.json)
    r = await api.call("DELETE", "/v2/apps/demo/domains/nope.example.com", alice)
    assert (r.status, r.json) == (404, "No Domain matches the given query.")


async def test_certificates_show_their_details_and_attach_to_domains(
    api: RunningController, alice: str, recorder: EventRecorder
) -> None:
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    await api.call("POST", "/v2/apps/demo/domains/", alice, json={"domain": "www.example.com"})
    cert, key = self_signed("www.example.com", "www.example.com", "example.com")
    r = await api.call("POST", "/v2/certs/", alice, json={"name": "www", "certificate": cert, "key": key})
    assert r.status == 201, r.text
    assert r.json["common_name"] == "www.example.com"
    assert r.json["san"] == ["www.example.com", "example.com"]
    assert len(r.json["fingerprint"].split(":")) == 32 and r.json["fingerprint"].isupper()
    assert r.json["subject"] == "/CN=www.example.com"
    r = await api.call("POST", "/v2/certs/www/domain/", alice, json={"domain": "www.example.com"})
    assert r.status == 201
    attached = await recorder.wait_for(CertAttached, where=lambda e: e.name == "www")
    assert attached.app == "demo" and attached.key == key
    r = await api.call("POST", "/v2/certs/www/domain/", alice, json={"domain": "www.example.com"})
    assert (r.status, r.json) == (409, {"detail": "Domain already has a certificate attached to it"})
    r = await api.call("GET", "/v2/certs/www", alice)
    assert r.json["domains"] == ["www.example.com"]
    r = await api.call("DELETE", "/v2/certs/www/domain/www.example.com", alice)
    assert r.status == 204
    await recorder.wait_for(CertDetached, where=lambda e: e.name == "www")


async def test_bad_certificates_are_refused_field_by_field(api: RunningController, alice: str) -> None:
    cert, key = self_signed("x.example.com")
    r = await api.call(
        "POST", "/v2/certs/", alice, json={"name": "Bad_Name", "certificate": cert, "key": key}
    )
    assert r.json == {"name": ["Can only contain a-z (lowercase), 0-9 and hyphens"]}
    r = await api.call("POST", "/v2/certs/", alice, json={"name": "x", "certificate": "junk", "key": key})
    assert r.json["certificate"][0].startswith("Could not load certificate: ")
    r = await api.call("POST", "/v2/certs/", alice, json={"name": "x", "certificate": cert, "key": "junk"})
    assert r.json["key"][0].startswith("Could not load private key: ")
    r = await api.call("POST", "/v2/certs/", alice, json={"name": "x", "certificate": cert, "key": key})
    r = await api.call("POST", "/v2/certs/", alice, json={"name": "x", "certificate": cert, "key": key})
    assert r.json == {"name": ["Certificate with this name already exists."]}


async def test_settings_merge_and_announce_routing_changes(
    api: RunningController, alice: str, recorder: EventRecorder
) -> None:
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    r = await api.call("GET", "/v2/apps/demo/settings/", alice)
    assert r.json["routable"] is True and r.json["maintenance"] is False
    r = await api.call(
        "POST", "/v2/apps/demo/settings/", alice, json={"maintenance": True, "label": {"a": "b"}}
    )
    assert r.status == 201, r.text
    assert r.json["maintenance"] is True and r.json["label"] == {"a": "b"}
    changed = await recorder.wait_for(SettingsChanged, where=lambda e: e.app == "demo")
    assert changed.routing.maintenance is True
    r = await api.call("POST", "/v2/apps/demo/settings/", alice, json={"maintenance": True})
    assert (r.status, r.json) == (409, {"detail": "alice changed nothing"})
    r = await api.call("POST", "/v2/apps/demo/settings/", alice, json={"label": {"zzz": None}})
    assert (r.status, r.json) == (422, {"detail": "zzz does not exist under label"})
    r = await api.call("POST", "/v2/apps/demo/settings/", alice, json={"routable": "maybe"})
    assert r.status == 400


async def test_tls_enforcement_is_announced_and_a_repeat_changes_nothing(
    api: RunningController, alice: str, recorder: EventRecorder
) -> None:
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    r = await api.call("GET", "/v2/apps/demo/tls/", alice)
    assert r.json["https_enforced"] is None
    r = await api.call("POST", "/v2/apps/demo/tls/", alice, json={"https_enforced": True})
    assert r.status == 201 and r.json["https_enforced"] is True
    changed = await recorder.wait_for(SettingsChanged, where=lambda e: e.routing.https_enforced)
    assert changed.app == "demo"
    r = await api.call("POST", "/v2/apps/demo/tls/", alice, json={"https_enforced": True})
    assert (r.status, r.json) == (409, {"detail": "alice changed nothing"})


async def test_whitelist_adds_removes_and_validates_addresses(api: RunningController, alice: str) -> None:
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    r = await api.call(
        "POST", "/v2/apps/demo/whitelist/", alice, json={"addresses": ["10.0.0.1", "10.1.0.0/16"]}
    )
    assert (r.status, r.json) == (201, {"addresses": ["10.0.0.1", "10.1.0.0/16"]})
    r = await api.call("POST", "/v2/apps/demo/whitelist/", alice, json={"addresses": ["10.0.0.1"]})
    assert r.status == 409
    r = await api.call("POST", "/v2/apps/demo/whitelist/", alice, json={"addresses": ["nonsense"]})
    assert (r.status, r.json) == (400, ["The address nonsense is not valid"])
    r = await api.call("POST", "/v2/apps/demo/whitelist/", alice, json={})
    assert (r.status, r.json) == (400, {"addresses": ["This field is required."]})
    r = await api.call("DELETE", "/v2/apps/demo/whitelist/", alice, json={"addresses": ["1.2.3.4"]})
    assert r.status == 422
    r = await api.call("DELETE", "/v2/apps/demo/whitelist/", alice, json={"addresses": ["10.0.0.1"]})
    assert r.status == 204
    r = await api.call("GET", "/v2/apps/demo/whitelist/", alice)
    assert r.json == {"addresses": ["10.1.0.0/16"]}
