"""Health checks written as Workflow users write them: ``deis healthchecks:set readiness httpGet 5000``.

A buildpack process listens on PORT=5000 at an address of its own (its network namespace, as in a pod), so
a probe naming port 5000 reaches it there; a probe naming another port fails the deploy and says why.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from deis_common.bus import Bus
from deis_common.events.deploys import DeployFailed
from deis_common.events.releases import ReleaseCreated
from deis_common.events.scheduler import PS_SUBJECT, PsReply, PsRequest
from deis_common.store import FsStore
from deis_common.testing.recorder import EventRecorder
from deis_scheduler.settings import SchedulerSettings
from tests.scheduler.apps import web_release
from tests.scheduler.conftest import StandInRouter
from tests.scheduler.http import eventually, get
from tests.scheduler.test_processes import processes_of
from tests.scheduler.test_rolling_deploy import deploy

pytestmark = pytest.mark.sandbox


def http_probe(port: int, path: str, **timing: int) -> dict[str, object]:
    """A probe exactly as ``deis healthchecks:set <kind> httpGet <port> --path=<path>`` stores it."""
    return {
        "httpGet": {"path": path, "port": port, "httpHeaders": []},
        "initialDelaySeconds": 50,
        "timeoutSeconds": 50,
        "periodSeconds": 10,
        "successThreshold": 1,
        "failureThreshold": 3,
        **timing,
    }


async def test_probes_on_port_5000_reach_a_buildpack_process_inside_its_own_network(
    scheduler: object,
    settings: SchedulerSettings,
    router: StandInRouter,
    bus: Bus,
    recorder: EventRecorder,
    store: FsStore,
    data_dir: Path,
) -> None:
    checks = {
        "web": {
            "readinessProbe": http_probe(5000, "/ready", initialDelaySeconds=0, periodSeconds=1),
            "livenessProbe": http_probe(5000, "/alive", initialDelaySeconds=1, periodSeconds=1),
        }
    }
    healthy = await deploy(bus, recorder, await web_release(store, "checked", healthchecks=checks))

    [endpoint] = healthy.endpoints
    assert await get(endpoint) == (200, "hello from v2")
    [process] = processes_of(data_dir, "checked")
    if settings.scheduler.network == "isolated":
        assert endpoint == f"{process.record.address}:5000" and process.record.address != "127.0.0.1"

    def probed(path: str) -> bool:
        return any(f'"GET {path} HTTP/1.1" 200' in line for line in process.tail(50))

    async def both_probes_answered() -> bool:
        return probed("/ready") and probed("/alive")

    await eventually(both_probes_answered, timeout=10)
    ps = await bus.request(PS_SUBJECT, PsRequest(app="checked"), PsReply)
    assert [(p.state, p.restarts) for p in ps.processes] == [("up", 0)], (
        "a passing liveness probe restarts nothing"
    )


async def test_a_probe_on_a_port_the_process_does_not_listen_on_fails_the_deploy_saying_so(
    scheduler: object,
    settings: SchedulerSettings,
    router: StandInRouter,
    bus: Bus,
    recorder: EventRecorder,
    store: FsStore,
) -> None:
    settings.scheduler.deploy_timeout = 3
    wrong = {"web": {"readinessProbe": http_probe(5001, "/", initialDelaySeconds=0, periodSeconds=1)}}
    state = await web_release(store, "misprobed", healthchecks=wrong)

    await bus.publish(ReleaseCreated(app="misprobed", state=state))
    failed = await recorder.wait_for(DeployFailed, where=lambda e: e.app == "misprobed", timeout=30)

    assert "web.1 of v2 did not become ready within 3s: readiness probe failed" in failed.reason
    assert ":5001" in failed.reason and "Connection refused" in failed.reason, failed.reason
