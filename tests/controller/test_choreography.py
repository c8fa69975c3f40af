"""The controller's part of the deploy choreography, driven by the events the other services publish."""

from __future__ import annotations

import asyncio
import uuid

from deis_common.bus import Bus
from deis_common.events.builds import BuildCompleted
from deis_common.events.containers import ContainersHealthy
from deis_common.events.controller import SNAPSHOT_SUBJECT, Snapshot, SnapshotRequest
from deis_common.events.deploys import DeployFailed
from deis_common.events.logs import log_subject
from deis_common.events.releases import ReleaseCreated, ReleaseDeployed, ReleaseRejected
from deis_common.events.routes import RoutesUpdated
from deis_common.events.state import BuildArtifact, ProcessInfo
from deis_common.testing.recorder import EventRecorder
from tests.controller.harness import RunningController
from tests.controller.pem import self_signed


def completed(app: str, procfile: dict[str, str] | None = None, sha: str = "abcdef12") -> BuildCompleted:
    return BuildCompleted(
        app=app,
        build_id=uuid.uuid4().hex,
        user="alice",
        artifact=BuildArtifact(
            kind="buildpack",
            location=f"home/{app}:git-{sha}/push/slug.tgz",
            sha=sha,
            procfile=procfile if procfile is not None else {"web": "python app.py"},
        ),
    )


async def deployed_app(
    api: RunningController, token: str, bus: Bus, recorder: EventRecorder
) -> ReleaseCreated:
    await api.call("POST", "/v2/apps/", token, json={"id": "demo"})
    event = completed("demo")
    await bus.publish(event)
    return await recorder.wait_for(ReleaseCreated, where=lambda e: e.build_id == event.build_id)


async def test_a_completed_build_becomes_release_v2_with_a_web_process(
    api: RunningController, alice: str, bus: Bus, recorder: EventRecorder
) -> None:
    created = await deployed_app(api, alice, bus, recorder)
    assert created.version == 2
    assert created.summary == "alice deployed abcdef1"
    assert created.state.structure == {"web": 1}
    assert created.state.build is not None and created.state.build.kind == "buildpack"
    assert created.generation > 1
    r = await api.call("GET", "/v2/apps/demo/builds/", alice)
    assert r.json["count"] == 1 and r.json["results"][0]["sha"] == "abcdef12"


async def test_a_redelivered_build_makes_no_second_release(
    api: RunningController, alice: str, bus: Bus, recorder: EventRecorder
) -> None:
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    event = completed("demo")
    await bus.publish(event)
    await recorder.wait_for(ReleaseCreated, where=lambda e: e.build_id == event.build_id)
    await bus.publish(event)
    marker = completed("demo", sha="99999999")
    await bus.publish(marker)
    await recorder.wait_for(ReleaseCreated, where=lambda e: e.build_id == marker.build_id)
    assert [e.version for e in recorder.of(ReleaseCreated) if e.app == "demo"] == [1, 2, 3]


async def test_a_build_with_a_bad_procfile_is_rejected_with_the_reason(
    api: RunningController, alice: str, bus: Bus, recorder: EventRecorder
) -> None:
    await api.call("POST", "/v2/apps/", alice, json={"id": "demo"})
    event = completed("demo", procfile={"Web_Server": "run"})
    await bus.publish(event)
    rejected = await recorder.wait_for(ReleaseRejected, where=lambda e: e.build_id == event.build_id)
    assert "Process types can only contain lowercase alphanumeric characters" in rejected.reason
    r = await api.call("GET", "/v2/apps/demo/releases/", alice)
    assert r.json["count"] == 1


async def test_routes_updated_marks_the_release_deployed_once(
    api: RunningController, alice: str, bus: Bus, recorder: EventRecorder
) -> None:
    created = await deployed_app(api, alice, bus, recorder)
    await bus.publish(RoutesUpdated(app="demo", generation=created.generation))
    await bus.publish(RoutesUpdated(app="demo", generation=created.generation))
    deployed = await recorder.wait_for(ReleaseDeployed, where=lambda e: e.version == 2)
    assert deployed.generation == created.generation
    marker = completed("demo", sha="11111111")
    await bus.publish(marker)
    await recorder.wait_for(ReleaseCreated, where=lambda e: e.build_id == marker.build_id)
    assert len([e for e in recorder.of(ReleaseDeployed) if e.version == 2]) == 1


async def test_a_failed_deploy_marks_the_release_failed_and_runs_the_last_good_one_again(
    api: RunningController, alice: str, bus: Bus, recorder: EventRecorder
) -> None:
    good = await deployed_app(api, alice, bus, recorder)
    bad = completed("demo", sha="deadbeef")
    await bus.publish(bad)
    created = await recorder.wait_for(ReleaseCreated, where=lambda e: e.build_id == bad.build_id)
    await bus.publish(DeployFailed(app="demo", generation=created.generation, version=3, reason="no port"))
    again = await recorder.wait_for(ReleaseCreated, where=lambda e: e.rollback_of == 2)
    assert again.version == 2 and again.generation > created.generation
    assert again.state.build == good.state.build
    r = await api.call("GET", "/v2/apps/demo/releases/v3/", alice)
    assert r.json["failed"] is True
    assert r.json["summary"].endswith("which failed")


async def test_the_snapshot_holds_state_routing_and_domains(
    api: RunningController, alice: str, bus: Bus, recorder: EventRecorder
) -> None:
    await deployed_app(api, alice, bus, recorder)
    snap = await bus.request(SNAPSHOT_SUBJECT, SnapshotRequest(), Snapshot, timeout=5)
    (app,) = snap.apps
    assert app.app == "demo" and app.domains == ["demo"]
    assert app.state is not None and app.state.version == 2
    assert app.routing.routable is True


async def test_healthy_containers_are_remembered(
    api: RunningController, alice: str, bus: Bus, recorder: EventRecorder
) -> None:
    created = await deployed_app(api, alice, bus, recorder)
    proc = ProcessInfo(name="demo-web-1", type="web", release="v2", state="up")
    await bus.publish(
        ContainersHealthy(app="demo", generation=created.generation, version=2, processes=[proc])
    )
    await bus.publish(RoutesUpdated(app="demo", generation=created.generation))
    await recorder.wait_for(ReleaseDeployed, where=lambda e: e.app == "demo")


async def test_the_snapshot_of_one_app_carries_its_certificates_and_settings(
    api: RunningController, alice: str, bus: Bus, recorder: EventRecorder
) -> None:
    await deployed_app(api, alice, bus, recorder)
    await api.call("POST", "/v2/apps/", alice, json={"id": "other"})
    await api.call("POST", "/v2/apps/demo/domains/", alice, json={"domain": "www.example.com"})
    cert, key = self_signed("www.example.com")
    await api.call("POST", "/v2/certs/", alice, json={"name": "www", "certificate": cert, "key": key})
    await api.call("POST", "/v2/certs/www/domain/", alice, json={"domain": "www.example.com"})
    await api.call(
        "POST", "/v2/apps/demo/settings/", alice, json={"maintenance": True, "whitelist": ["10.0.0.0/8"]}
    )
    await api.call("POST", "/v2/apps/demo/tls/", alice, json={"https_enforced": True})
    snap = await bus.request(SNAPSHOT_SUBJECT, SnapshotRequest(app="demo"), Snapshot, timeout=5)
    (app,) = snap.apps
    assert app.domains == ["demo", "www.example.com"]
    assert [(c.name, c.domain, c.key) for c in app.certs] == [("www", "www.example.com", key)]
    assert app.routing.maintenance and app.routing.https_enforced and app.routing.whitelist == ["10.0.0.0/8"]
    everything = await bus.request(SNAPSHOT_SUBJECT, SnapshotRequest(), Snapshot, timeout=5)
    assert [a.app for a in everything.apps] == ["demo", "other"]
    assert everything.apps[1].state is not None and everything.apps[1].state.version == 1


async def test_a_failed_deploy_of_a_superseded_release_does_not_undo_the_newer_one(
    api: RunningController, alice: str, bus: Bus, recorder: EventRecorder
) -> None:
    await deployed_app(api, alice, bus, recorder)
    older, newer = completed("demo", sha="aaaaaaaa"), completed("demo", sha="bbbbbbbb")
    await bus.publish(older)
    first = await recorder.wait_for(ReleaseCreated, where=lambda e: e.build_id == older.build_id)
    await bus.publish(newer)
    second = await recorder.wait_for(ReleaseCreated, where=lambda e: e.build_id == newer.build_id)
    lines: asyncio.Queue[str] = asyncio.Queue()

    async def on_line(_: str, data: bytes) -> None:
        lines.put_nowait(data.decode())

    sub = await bus.subscribe_raw(log_subject("demo"), on_line)
    failed = DeployFailed(app="demo", generation=first.generation, version=first.version, reason="x")
    await bus.publish(failed)
    async with asyncio.timeout(10):
        while f"deploy of v{first.version} failed" not in await lines.get():
            pass
    await sub.unsubscribe()
    await bus.publish(RoutesUpdated(app="demo", generation=second.generation))
    deployed = await recorder.wait_for(ReleaseDeployed, where=lambda e: e.version == second.version)
    assert deployed.generation == second.generation
    assert not [e for e in recorder.of(ReleaseCreated) if e.rollback_of is not None]
    r = await api.call("GET", f"/v2/apps/demo/releases/v{first.version}/", alice)
    assert r.json["failed"] is True
