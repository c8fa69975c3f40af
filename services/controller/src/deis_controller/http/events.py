"""``GET /v2/events``: the platform's events as a stream, for the user who asks (``deis events``).

Users never get NATS credentials: the controller subscribes to the events for them and forwards, as
newline-delimited JSON (one CloudEvents envelope per line), only the events of apps the user may see
(owner, collaborator or admin, decided by :mod:`access`) and with every secret value redacted (config
values, private keys, run output: :func:`deis_common.events.registry.redact`). Events about no app
(backups, a router config rejected as a whole) go to admins only. An empty line every ``KEEPALIVE``
seconds keeps proxies from closing an idle stream and notices a client that left; streams end when the
controller stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from deis_common.bus import Watch
from deis_common.events.base import Envelope
from deis_common.events.registry import FAMILIES, redact
from deis_controller.controller import Controller, Work
from deis_controller.domain.access import may_read, readable_apps
from deis_controller.errors import PermissionDenied
from deis_controller.http.context import add, controller, require_user
from deis_controller.http.openapi import doc
from deis_controller.records import User

KEEPALIVE = 15.0  # seconds between empty lines on an idle stream
RECHECK = 10.0  # seconds a permission answer is trusted before access is asked again
MEDIA_TYPE = "application/x-ndjson"
SUBJECTS = tuple(f"deis.v1.{family}.*" for family in FAMILIES)

CLOSING = web.AppKey("events_closing", asyncio.Event)


class Visibility:
    """Which apps' events one user may see: :mod:`access` asked, and the answer kept a few seconds.

    An app destroyed while the stream runs is gone from the database when its ``apps.destroyed`` event
    arrives; the last answer about it still holds then.
    """

    def __init__(self, ctl: Controller, user: User) -> None:
        self._ctl = ctl
        self._user = user
        self._known: dict[str, tuple[bool, float]] = {}

    async def prime(self) -> None:
        if self._user.is_superuser:
            return
        async with self._ctl.read() as work:
            names = await readable_apps(work, self._user)
        now = time.monotonic()
        self._known = dict.fromkeys(names, (True, now))

    async def allows(self, app: str | None) -> bool:
        if self._user.is_superuser:
            return True
        if app is None:
            return False
        now = time.monotonic()
        known = self._known.get(app)
        if known is not None and now - known[1] < RECHECK:
            return known[0]
        async with self._ctl.read() as work:
            answer = await may_read(work, app, self._user)
        visible = answer if answer is not None else (known is not None and known[0])
        self._known[app] = (visible, now)
        return visible


def _wanted(types: list[str]) -> Any:
    """A filter on the envelope's type: a subject, ``family.event`` or a family; nothing means all."""

    def matches(kind: str) -> bool:
        short = kind.removeprefix("deis.v1.")
        return not types or any(t in (kind, short, short.split(".", 1)[0]) for t in types)

    return matches


async def _check_app(work: Work, app: str, user: User) -> None:
    """Refuse to follow an app the user may not see; one that does not exist yet may be waited for
    (its events still reach the user only if they may see it once it exists)."""
    if await may_read(work, app, user) is False:
        raise PermissionDenied()


@doc(response=Envelope, media_type=MEDIA_TYPE)
async def stream_events(request: web.Request) -> web.StreamResponse:
    """Stream the events of the apps you may see, as newline-delimited JSON (secrets redacted).

    Query: ``app`` (only this app's events; 403 for an app you may not see, while one that does not exist
    yet may be waited for), ``type`` (repeatable: a subject, ``builds.completed`` or a family such as
    ``builds``). Idle streams get an empty line every 15 seconds.
    """
    user = require_user(request)
    ctl = controller(request)
    app = request.query.get("app") or None
    matches = _wanted(request.query.getall("type", []))
    if app is not None:
        async with ctl.read() as work:
            await _check_app(work, app, user)
    visibility = Visibility(ctl, user)
    await visibility.prime()
    closing = request.app[CLOSING]
    async with ctl.bus.watch(*SUBJECTS) as watch:
        response = web.StreamResponse(headers={"Content-Type": MEDIA_TYPE, "Cache-Control": "no-cache"})
        await response.prepare(request)
        stopped = asyncio.ensure_future(closing.wait())
        try:
            while True:
                envelope = await _next(watch, stopped)
                if stopped.done():
                    break
                if envelope is None:
                    line: bytes | None = b"\n"
                elif app in (None, envelope.subject) and matches(envelope.type):
                    line = await _line_for(envelope, visibility)
                else:
                    line = None
                if line is None:
                    continue
                try:
                    await response.write(line)
                except ConnectionResetError:  # the client left
                    break
        finally:
            stopped.cancel()
    return response


async def _next(watch: Watch, stopped: asyncio.Future[Any]) -> Envelope | None:
    """The next event, or None after ``KEEPALIVE`` seconds without one (or once the stream must stop)."""
    getter = asyncio.ensure_future(watch.envelope())
    done, _ = await asyncio.wait({getter, stopped}, timeout=KEEPALIVE, return_when=asyncio.FIRST_COMPLETED)
    if getter in done:
        return getter.result()
    getter.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await getter
    return None


async def _line_for(envelope: Envelope, visibility: Visibility) -> bytes | None:
    """One line for the client; None for an event it may not see or this controller cannot vouch for
    (a type it does not know, a payload that does not fit its type)."""
    if not await visibility.allows(envelope.subject):
        return None
    try:
        return redact(envelope).to_bytes() + b"\n"
    except (KeyError, ValidationError):
        return None


async def _close_streams(app: web.Application) -> None:
    app[CLOSING].set()


def setup(app: web.Application) -> None:
    app[CLOSING] = asyncio.Event()
    app.on_shutdown.append(_close_streams)
    add(app, "GET", "/v2/events", stream_events)
