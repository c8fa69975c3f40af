"""Typed waits on the bus against a real nats-server: first outcomes, streams, lines in order, deadlines."""

from __future__ import annotations

import asyncio

import pytest

from deis_common.bus import Bus, Deadline, WatchTimeout
from deis_common.events import AppCreated, BuildCompleted, BuildFailed
from deis_common.events.builds import BuildStarted, build_log_subject
from deis_common.events.state import BuildArtifact


def completed(build_id: str, app: str = "shop") -> BuildCompleted:
    artifact = BuildArtifact(kind="buildpack", location="slug.tgz")
    return BuildCompleted(app=app, build_id=build_id, user="alice", artifact=artifact)


async def test_first_returns_the_first_matching_event_as_its_model(bus: Bus) -> None:
    async with bus.watch(BuildCompleted, BuildFailed) as watch:
        await bus.publish(BuildFailed(app="shop", build_id="other", reason="not this one"))
        await bus.publish(completed("b1"))
        event = await watch.first(BuildCompleted, BuildFailed, where=lambda e: e.build_id == "b1", timeout=10)
    assert event == completed("b1")


async def test_a_watch_of_one_app_ignores_the_others(bus: Bus) -> None:
    async with bus.watch(BuildFailed, app="shop") as watch:
        await bus.publish(BuildFailed(app="elsewhere", build_id="b1", reason="theirs"))
        await bus.publish(BuildFailed(app="shop", build_id="b2", reason="ours"))
        failed = await watch.first(BuildFailed, timeout=10)
    assert failed.reason == "ours"


async def test_an_outcome_that_does_not_come_ends_the_wait_saying_what_was_awaited(bus: Bus) -> None:
    async with bus.watch(BuildCompleted, BuildFailed) as watch:
        with pytest.raises(WatchTimeout, match=r"no BuildCompleted or BuildFailed within 0\.2s"):
            await watch.first(BuildCompleted, BuildFailed, timeout=0.2)


async def test_waits_share_one_deadline(bus: Bus) -> None:
    deadline = Deadline.after(0.5)
    async with bus.watch(AppCreated, BuildFailed) as watch:
        await bus.publish(AppCreated(app="shop", owner="alice"))
        await watch.first(AppCreated, timeout=deadline)
        with pytest.raises(WatchTimeout):
            await watch.first(BuildFailed, timeout=deadline)
    assert deadline.passed


async def test_arrived_looks_without_waiting(bus: Bus) -> None:
    async with bus.watch(BuildFailed) as watch:
        assert watch.arrived(BuildFailed) is None
        await bus.publish(BuildFailed(app="shop", build_id="b1", reason="broken"))
        await watch.first(BuildFailed, timeout=10)  # consumed
        await bus.publish(BuildFailed(app="shop", build_id="b2", reason="broken again"))
        async with asyncio.timeout(10):
            while (failed := watch.arrived(BuildFailed)) is None:
                await asyncio.sleep(0.01)
    assert failed.build_id == "b2"


async def test_a_stream_keeps_lines_and_events_in_publish_order(bus: Bus) -> None:
    seen: list[object] = []
    lines = build_log_subject("b1")
    async with bus.watch(BuildStarted, BuildCompleted, lines=lines) as watch:
        await bus.publish(BuildStarted(app="shop", build_id="b1"))
        for n in range(20):
            await bus.publish_core(lines, f"line {n}".encode())
        await bus.publish(BuildFailed(app="shop", build_id="b1", reason="not watched"))
        await bus.publish(completed("b1"))
        async for item in watch.stream(timeout=10):
            seen.append(item)
            if isinstance(item, BuildCompleted):
                break
    started = BuildStarted(app="shop", build_id="b1")
    assert seen == [started, *(f"line {n}" for n in range(20)), completed("b1")]


async def test_a_stream_ticks_after_each_idle_interval(bus: Bus) -> None:
    async with bus.watch(BuildCompleted) as watch:
        ticks = 0
        async for item in watch.stream(timeout=10, idle=0.05):
            assert item is None
            ticks += 1
            if ticks == 3:
                break


async def test_a_stream_ends_at_its_deadline(bus: Bus) -> None:
    async with bus.watch(BuildCompleted) as watch:
        with pytest.raises(WatchTimeout, match=r"ran out after 0\.2s"):
            async for _ in watch.stream(timeout=0.2):
                pass


async def test_envelope_relays_what_a_wildcard_brings(bus: Bus) -> None:
    async with bus.watch("deis.v1.apps.*") as watch:
        await bus.publish(AppCreated(app="shop", owner="alice"), correlation_id="c1")
        envelope = await watch.envelope(timeout=10)
        assert envelope is not None and envelope.type == AppCreated.subject
        assert envelope.correlation_id == "c1"
        assert await watch.envelope(timeout=0.1) is None


async def test_a_stream_passes_only_the_events_it_is_asked_for(bus: Bus) -> None:
    async with bus.watch(BuildFailed) as watch:
        await bus.publish(BuildFailed(app="shop", build_id="other", reason="theirs"))
        await bus.publish(BuildFailed(app="shop", build_id="b1", reason="ours"))
        async for item in watch.stream(where=lambda e: e.build_id == "b1", timeout=10):
            assert isinstance(item, BuildFailed) and item.reason == "ours"
            break
