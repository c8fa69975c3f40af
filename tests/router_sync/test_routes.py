"""The route table applies events in the order they were published, whatever order they arrive in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from deis_common.events.state import AppSnapshot, CertBinding, RouteSettings
from deis_router_sync.routes import InvalidRoute, RouteTable

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def cert(domain: str, name: str = "c") -> CertBinding:
    return CertBinding(name=name, domain=domain, certificate="CERT", key="KEY")


def test_domain_removal_that_arrives_before_its_addition_still_wins() -> None:
    table = RouteTable()
    table.remove_domain("web", "www.example", at(2))
    table.add_domain("web", "www.example", at(1))

    assert table.apps["web"].domains == []


def test_domain_added_again_after_removal_is_served() -> None:
    table = RouteTable()
    table.add_domain("web", "www.example", at(1))
    table.remove_domain("web", "www.example", at(2))
    table.add_domain("web", "WWW.Example.", at(3))

    assert table.apps["web"].domains == ["www.example"]


def test_older_generation_does_not_replace_newer_endpoints() -> None:
    table = RouteTable()
    assert table.set_endpoints("web", 2, ["127.0.0.1:2"], at(2))
    assert not table.set_endpoints("web", 1, ["127.0.0.1:1"], at(1))

    assert table.apps["web"].endpoints == ["127.0.0.1:2"]


def test_settings_follow_the_latest_change() -> None:
    table = RouteTable()
    table.set_routing("web", RouteSettings(maintenance=False), at(2))
    table.set_routing("web", RouteSettings(maintenance=True), at(1))

    assert table.apps["web"].routing.maintenance is False


def test_late_events_do_not_bring_a_destroyed_app_back_but_a_new_app_of_that_name_can_come() -> None:
    table = RouteTable()
    table.set_endpoints("web", 1, ["127.0.0.1:1"], at(1))
    table.destroy("web", at(5))
    table.add_domain("web", "www.example", at(4))
    table.set_endpoints("web", 2, ["127.0.0.1:2"], at(3))
    assert "web" not in table.apps

    table.set_endpoints("web", 1, ["127.0.0.1:9"], at(6))
    assert table.apps["web"].endpoints == ["127.0.0.1:9"]


def test_certificate_detached_before_its_attachment_arrives_stays_detached() -> None:
    table = RouteTable()
    table.detach_cert("web", "www.example", at(2))
    table.attach_cert("web", cert("www.example"), at(1))

    assert table.apps["web"].certs == {}


def test_snapshot_adopts_the_controller_view_but_keeps_newer_event_changes() -> None:
    table = RouteTable()
    table.add_domain("web", "kept.example", at(1))
    table.add_domain("web", "new.example", at(10))
    table.attach_cert("web", cert("kept.example"), at(1))

    snapshot = AppSnapshot(
        app="web",
        domains=["snap.example"],
        routing=RouteSettings(maintenance=True),
        certs=[cert("snap.example", "s")],
    )
    table.adopt(snapshot, at(5))

    route = table.apps["web"]
    assert route.domains == ["new.example", "snap.example"]
    assert set(route.certs) == {"snap.example"}
    assert route.routing.maintenance is True


def test_snapshot_forgets_apps_the_controller_no_longer_has_unless_an_event_came_since() -> None:
    table = RouteTable()
    table.set_endpoints("stale", 1, ["127.0.0.1:1"], at(1))
    table.add_domain("fresh", "fresh.example", at(10))

    table.forget_others(known=set(), at=at(5))

    assert set(table.apps) == {"fresh"}


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda t: t.add_domain("web", "a b.example", at(1)), "not a host name"),
        (lambda t: t.add_domain("web", "x;}", at(1)), "not a host name"),
        (lambda t: t.add_domain("Web_1", "ok.example", at(1)), "app name"),
        (lambda t: t.set_endpoints("web", 1, ["127.0.0.1"], at(1)), "not host:port"),
        (lambda t: t.set_endpoints("web", 1, ["127.0.0.1:0"], at(1)), "not host:port"),
        (lambda t: t.set_routing("web", RouteSettings(whitelist=["10.0.0.300"]), at(1)), "CIDR"),
    ],
)
def test_values_that_could_not_be_routed_are_refused(call, message) -> None:  # type: ignore[no-untyped-def]
    table = RouteTable()
    with pytest.raises(InvalidRoute, match=message):
        call(table)
    assert table.apps == {}


def test_wildcards_and_ipv6_endpoints_are_accepted() -> None:
    table = RouteTable()
    table.add_domain("web", "*.example.com", at(1))
    table.set_endpoints("web", 1, ["[::1]:8000", "web.apps.svc.cluster.local:80"], at(1))

    assert table.apps["web"].domains == ["*.example.com"]
    assert table.apps["web"].endpoints == ["[::1]:8000", "web.apps.svc.cluster.local:80"]


def test_tombstones_older_than_the_event_retention_are_forgotten() -> None:
    table = RouteTable()
    table.destroy("old", at(0))
    table.destroy("new", at(9 * 24 * 3600))

    assert set(table.destroyed) == {"new"}
