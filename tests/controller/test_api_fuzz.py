"""Every operation of ``/v2/openapi.json``, fuzzed against a running controller (schemathesis).

Thousands of generated requests, valid and invalid, go to a real controller (Postgres, NATS, a stand-in
scheduler answering ``deis ps`` and one-off runs). None may get a server error, and every answer must
be one the published document describes: status code, content type and body schema.

Generation is derandomized (the same cases on every run) so this cannot flake; the case count and the
time taken are printed. Requests are aimed where they reach code: app routes name the app created
for the run, builder hooks carry the builder key and name that app and user, and the operations that
change or end an account (``tokens``, ``passwd``, ``cancel``) act as a fresh user of their own, so the
token the other requests use stays valid.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from deis_common.bus import Bus
from deis_common.events.apps import RunRequested
from deis_common.events.runs import RunFinished
from deis_common.events.scheduler import PS_SUBJECT, PsReply, PsRequest
from deis_common.events.state import ProcessInfo
from deis_common.testing.reacting import reacting
from tests.controller.harness import RunningController

APP = "fuzzed"
USER = "admin"  # the ``admin`` fixture's user: the first registered, so an administrator
CASES_PER_MODE = 55  # per operation, for valid and again for invalid input
MIN_CASES = 5_000
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# a stream that runs until the client leaves; its query is checked like any other (test_hostile_input)
NOT_FUZZED = {("GET", "/v2/events/")}
ACCOUNT_CHANGES = {("POST", "/v2/auth/tokens/"), ("POST", "/v2/auth/passwd/"), ("DELETE", "/v2/auth/cancel/")}


@contextlib.asynccontextmanager
async def stand_in_scheduler(bus: Bus) -> AsyncIterator[None]:
    """Answers ``deis ps`` with processes in several states and finishes one-off runs at once."""

    async def ps(request: PsRequest) -> PsReply:
        return PsReply(
            app=request.app,
            processes=[
                ProcessInfo(name=f"{request.app}-web-1", type="web", release="v2", started=datetime.now(UTC)),
                ProcessInfo(name=f"{request.app}-worker-1", type="worker", release="v2", state="crashed"),
                ProcessInfo(name=f"{request.app}-run-abcde", type="run", release="v2", state="starting"),
            ],
        )

    async def runs(run: RunRequested) -> None:
        await bus.publish(RunFinished(app=run.app, run_id=run.run_id, exit_code=0, output="ok\n"))

    sub = await bus.serve(PS_SUBJECT, PsRequest, ps, queue="scheduler")
    try:
        async with reacting(bus, RunRequested, to=runs):
            yield
    finally:
        await sub.unsubscribe()


@dataclass
class Fuzz:
    """One run over every operation: the requests it sends, and what went wrong."""

    url: str
    token: str
    builder_key: str
    session: requests.Session = field(default_factory=requests.Session)
    cases: int = 0
    per_operation: dict[str, int] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)
    _users: itertools.count[int] = field(default_factory=itertools.count)

    def _fresh_user(self) -> str:
        """A new user's token, for an operation that may change or end its account."""
        name = f"fuzz{next(self._users)}"
        body = {"username": name, "password": "pw"}
        admin = {"Authorization": f"token {self.token}"}  # registration is admin_only
        r = self.session.post(f"{self.url}/v2/auth/register/", json=body, headers=admin, timeout=30)
        assert r.status_code == 201, r.text
        r = self.session.post(f"{self.url}/v2/auth/login/", json=body, timeout=30)
        token: str = r.json()["token"]
        return token

    def _aim(self, case: schemathesis.Case, key: tuple[str, str]) -> dict[str, str]:
        """Point the case at the run's app and user; the headers that authenticate it."""
        params = case.path_parameters or {}
        if "id" in params and key != ("DELETE", "/v2/apps/{id}/"):
            params["id"] = APP
        if isinstance(case.body, dict) and "receive_repo" in case.body:
            case.body["receive_repo"], case.body["receive_user"] = APP, USER
        if key[1].startswith("/v2/hooks/"):
            return {"X-Deis-Builder-Auth": self.builder_key}
        token = self._fresh_user() if key in ACCOUNT_CHANGES else self.token
        return {"Authorization": f"token {token}"}

    def operation(self, operation: Any) -> None:
        key = (operation.method.upper(), operation.path)
        label = f"{key[0]} {key[1]}"
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            self._run(label, key, operation.as_strategy(generation_mode=mode), mode)

    def _run(self, label: str, key: tuple[str, str], strategy: Any, mode: GenerationMode) -> None:
        @settings(
            max_examples=CASES_PER_MODE,
            derandomize=True,
            database=None,
            deadline=None,
            phases=[Phase.generate],  # no shrinking: a failure is reported as found
            suppress_health_check=list(HealthCheck),
            verbosity=Verbosity.quiet,
        )
        @given(case=strategy)
        def check(case: schemathesis.Case) -> None:
            headers = self._aim(case, key)
            self.cases += 1
            self.per_operation[label] = self.per_operation.get(label, 0) + 1
            response = case.call(base_url=self.url, session=self.session, headers=headers, timeout=30)
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            check()
        except Unsatisfiable:
            if mode is GenerationMode.POSITIVE:
                raise
            # an operation without input has nothing to make invalid
        except (Exception, BaseExceptionGroup) as e:  # schemathesis reports failed checks as a group
            self.failures.setdefault(label, f"{type(e).__name__}: {e}"[:3000])

    def run(self, spec: dict[str, Any]) -> None:
        schema = schemathesis.openapi.from_dict(spec)
        for result in schema.get_all_operations():
            operation = result.ok()
            if (operation.method.upper(), operation.path) not in NOT_FUZZED:
                self.operation(operation)


@pytest.mark.timeout(900)
async def test_no_operation_answers_a_server_error_or_off_its_schema(
    api: RunningController, admin: str, bus: Bus
) -> None:
    r = await api.call("POST", "/v2/apps/", admin, json={"id": APP})
    assert r.status == 201
    r = await api.call("POST", f"/v2/apps/{APP}/builds/", admin, json={"image": "ex/img"})
    assert r.status == 201
    spec = (await api.call("GET", "/v2/openapi.json")).json
    fuzz = Fuzz(api.url, admin, api.builder_key)
    started = time.monotonic()
    async with stand_in_scheduler(bus):
        await asyncio.to_thread(fuzz.run, spec)
    took = time.monotonic() - started
    print(f"\nfuzzed {len(fuzz.per_operation)} operations with {fuzz.cases} cases in {took:.0f}s")
    assert not fuzz.failures, "\n\n".join(f"{op}\n{why}" for op, why in sorted(fuzz.failures.items()))
    assert fuzz.cases >= MIN_CASES, fuzz.per_operation
    documented = {
        f"{method.upper()} {path}"
        for path, item in spec["paths"].items()
        for method in item
        if (method.upper(), path) not in NOT_FUZZED
    }
    assert set(fuzz.per_operation) == documented
