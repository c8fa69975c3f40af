"""API changes answer once their deploy runs, and report a deploy that failed."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from deis_common.bus import Bus
from deis_common.events.apps import AppScaled
from deis_common.events.builds import BuildCompleted, BuildFailed
from deis_common.events.containers import ContainersHealthy
from deis_common.events.deploys import DeployFailed
from deis_common.events.domains import DomainAdded
from deis_common.events.pushes import PushReceived
from deis_common.events.releases import ReleaseCreated
from deis_common.events.routes import RoutesUpdated
from deis_common.events.state import BuildArtifact
from deis_common.testing.reacting import reacting
from deis_common.testing.recorder import EventRecorder
from tests.controller.harness import RunningController, running_controller


def fake_scheduler(bus: Bus) -> contextlib.AbstractAsyncContextManager[None]:
    """Runs every desired state at once, except one whose config sets BREAK."""

    async def answer(event: ReleaseCreated | AppScaled) -> None:
        if event.state.env.get("BREAK"):
            await bus.publish(
                DeployFailed(
                    app=event.app,
                    generation=event.generation,
                    version=event.state.version,
                    reason="web never became ready",
                )
            )
        else:
            await bus.publish(
                ContainersHealthy(app=event.app, generation=event.generation, version=event.state.version)
            )

    return reacting(bus, ReleaseCreated, AppScaled, to=answer)


async def test_changes_wait_for_their_deploy_and_report_a_failed_one(
    pg_dsn: str, nats_url: str, bus: Bus, recorder: EventRecorder
) -> None:
    async with fake_scheduler(bus), running_controller(pg_dsn, nats_url, deploy_wait=20.0) as api:
        token = await api.register("alice")
        await api.call("POST", "/v2/apps/", token, json={"id": "demo"})
        r = await api.call(
            "POST", "/v2/apps/demo/builds/", token, json={"image": "ex/img", "procfile": {"web": "x"}}
        )
        assert r.status == 201, r.text
        r = await api.call("POST", "/v2/apps/demo/scale/", token, json={"web": 2})
        assert r.status == 204
        r = await api.call("POST", "/v2/apps/demo/config/", token, json={"values": {"BREAK": "1"}})
        assert (r.status, r.json) == (400, {"detail": "web never became ready"})
        again = await recorder.wait_for(ReleaseCreated, where=lambda e: e.rollback_of is not None)
        assert again.version == 2
        r = await api.call("GET", "/v2/apps/demo/releases/v3/", token)
        assert r.json["failed"] is True
        assert r.json["summary"] == "alice deployed a config that failed"
        r = await api.call("POST", "/v2/apps/demo/config/", token, json={"values": {"OK": "1"}})
        assert r.status == 201
        r = await api.call("GET", "/v2/apps/demo/config/", token)
        assert r.json["values"] == {"OK": "1"}


async def test_a_domain_change_answers_once_the_router_took_it(pg_dsn: str, nats_url: str, bus: Bus) -> None:
    answered: list[str] = []

    async def router(added: DomainAdded) -> None:
        if added.domain == "www.example.com":
            answered.append(added.domain)
            await bus.publish(RoutesUpdated(app=added.app, generation=7))

    async with (
        reacting(bus, DomainAdded, to=router),
        running_controller(pg_dsn, nats_url, route_wait=20.0) as api,
    ):
        token = await api.register("alice")
        await api.call("POST", "/v2/apps/", token, json={"id": "demo"})
        r = await api.call("POST", "/v2/apps/demo/domains/", token, json={"domain": "www.example.com"})
        assert r.status == 201
        assert answered == ["www.example.com"]


def fake_builder(bus: Bus) -> contextlib.AbstractAsyncContextManager[None]:
    """Stores every pulled image, except ones named 'missing/...' which cannot be pulled."""

    async def answer(push: PushReceived) -> None:
        if push.image.startswith("missing/"):
            await bus.publish(
                BuildFailed(
                    app=push.app,
                    build_id=push.build_id,
                    user=push.user,
                    reason=f"Cannot pull {push.image}",
                )
            )
            return
        artifact = BuildArtifact(
            kind="image", location=push.image, rootfs=f"home/{push.app}/images/x/rootfs.tgz"
        )
        await bus.publish(
            BuildCompleted(app=push.app, build_id=push.build_id, user=push.user, artifact=artifact)
        )

    return reacting(bus, PushReceived, to=answer)


@contextlib.asynccontextmanager
async def pulling_controller(pg_dsn: str, nats_url: str, bus: Bus) -> AsyncIterator[RunningController]:
    """A controller that hands `deis pull` to the builder, with stand-ins for builder and scheduler."""
    settings = {"deploy_wait": 20.0, "pull_through_builder": True, "pull_wait": 20.0}
    async with (
        fake_builder(bus),
        fake_scheduler(bus),
        running_controller(pg_dsn, nats_url, **settings) as api,
    ):
        yield api


async def test_deis_pull_goes_through_the_builder_and_keeps_the_given_procfile(
    pg_dsn: str, nats_url: str, bus: Bus, recorder: EventRecorder
) -> None:
    async with pulling_controller(pg_dsn, nats_url, bus) as api:
        token = await api.register("alice")
        await api.call("POST", "/v2/apps/", token, json={"id": "demo"})
        await api.call("POST", "/v2/apps/demo/config/", token, json={"values": {"REGISTRY_TOKEN": "t"}})
        body = {"image": "example/web:1", "procfile": {"web": "serve"}}
        r = await api.call("POST", "/v2/apps/demo/builds/", token, json=body)
        assert r.status == 201, r.text
        assert r.json["image"] == "example/web:1" and r.json["procfile"] == {"web": "serve"}
        push = await recorder.wait_for(PushReceived, where=lambda e: e.app == "demo")
        assert push.env == {"REGISTRY_TOKEN": "t"} and push.sha == ""
        created = await recorder.wait_for(ReleaseCreated, where=lambda e: e.build_id == push.build_id)
        assert created.state.structure == {"web": 1}
        assert created.state.build is not None and created.state.build.rootfs.endswith("rootfs.tgz")
        r = await api.call("POST", "/v2/apps/demo/builds/", token, json={"image": "missing/image"})
        assert (r.status, r.json) == (400, {"detail": "Cannot pull missing/image"})


async def test_deis_pull_hands_the_registry_credentials_of_registry_set_to_the_builder(
    pg_dsn: str, nats_url: str, bus: Bus, recorder: EventRecorder
) -> None:
    async with pulling_controller(pg_dsn, nats_url, bus) as api:
        token = await api.register("alice")
        await api.call("POST", "/v2/apps/", token, json={"id": "private"})
        r = await api.call("POST", "/v2/apps/private/config/", token, json={"values": {"PORT": "8000"}})
        assert r.status == 201, r.text
        credentials = {"username": "robot", "password": "s3cret"}
        r = await api.call("POST", "/v2/apps/private/config/", token, json={"registry": credentials})
        assert r.status == 201, r.text
        image = {"image": "registry.example/app:1"}
        r = await api.call("POST", "/v2/apps/private/builds/", token, json=image)
        assert r.status == 201, r.text
        push = await recorder.wait_for(PushReceived, where=lambda e: e.app == "private")
        assert push.env == {
            "PORT": "8000",
            "DEIS_REGISTRY_USERNAME": "robot",
            "DEIS_REGISTRY_PASSWORD": "s3cret",
        }
