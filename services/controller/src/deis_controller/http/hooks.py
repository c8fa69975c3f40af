"""``/v2/hooks/*``: what the builder asks (key → user, may this user push, the config) and build results.

Authenticated by the shared builder key in ``X-Deis-Builder-Auth``, never by a user token.
"""

from __future__ import annotations

import hmac
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from deis_controller.db import Tx
from deis_controller.db import apps as apps_db
from deis_controller.db import keys as keys_db
from deis_controller.db import users as users_db
from deis_controller.domain import builds, releases
from deis_controller.domain import config as config_domain
from deis_controller.domain.users import User
from deis_controller.errors import BadRequest, NoMatch, NotAuthenticated, NotFound, PermissionDenied
from deis_controller.http.access import allowed, role_of
from deis_controller.http.builds import new_build
from deis_controller.http.context import add, controller, current_user
from deis_controller.http.inputs import body
from deis_controller.http.openapi import doc
from deis_controller.http.respond import ok
from deis_controller.http.rollout import rollout
from deis_controller.http.validation import parse


class ReceiveRequest(BaseModel):
    receive_user: str = Field(min_length=1, description="username that pushed")
    receive_repo: str = Field(min_length=1, description="app id pushed to")


class BuildHookRequest(ReceiveRequest):
    image: str = Field(min_length=1, description="image reference or slug location")
    sha: str = Field("", max_length=40)
    procfile: dict[str, str] | None = None
    dockerfile: str = ""


class KeyOwnerResponse(BaseModel):
    username: str
    apps: list[str]


class BuildHookResponse(BaseModel):
    release: dict[str, int]


def _check_builder(request: web.Request) -> None:
    expected = controller(request).settings.builder_key
    given = request.headers.get("X-Deis-Builder-Auth", "")
    if expected and given and given.isascii() and hmac.compare_digest(expected.encode(), given.encode()):
        return
    if current_user(request) is not None:
        raise PermissionDenied()
    raise NotAuthenticated()


async def _user_and_app(tx: Tx, username: str, app_id: str) -> tuple[User, dict[str, Any]]:
    row = await users_db.by_username(tx, username)
    if row is None:
        raise NoMatch("User")
    app = await apps_db.get(tx, app_id, lock=True)
    if app is None:
        raise NoMatch("App")
    user = User.from_row(row)
    if not allowed(await role_of(tx, app, user), "POST"):
        raise PermissionDenied()
    return user, app


@doc(response=KeyOwnerResponse, auth="builder")
async def key_owner(request: web.Request) -> web.Response:
    _check_builder(request)
    async with controller(request).db.read() as tx:
        owner = await keys_db.owner_of_fingerprint(tx, request.match_info["fingerprint"])
        if owner is None:
            raise NoMatch("Key")
        apps = await apps_db.all_ids(tx)
    return ok({"username": owner, "apps": apps})


def _keys_by_user(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, str]]]:
    out: dict[str, list[dict[str, str]]] = {}
    for row in rows:
        out.setdefault(row["owner"], []).append({"key": row["public"], "fingerprint": row["fingerprint"]})
    return out


@doc(auth="builder")
async def app_keys(request: web.Request) -> web.Response:
    _check_builder(request)
    async with controller(request).db.read() as tx:
        app = await apps_db.get(tx, request.match_info["id"])
        if app is None:
            raise NoMatch("App")
        users = await apps_db.collaborators(tx, app["uuid"])
        rows = await keys_db.of_users(tx, users)
    return ok(_keys_by_user(rows))


@doc(auth="builder")
async def user_keys(request: web.Request) -> web.Response:
    _check_builder(request)
    async with controller(request).db.read() as tx:
        app = await apps_db.get(tx, request.match_info["id"])
        if app is None:
            raise NoMatch("App")
        row = await users_db.by_username(tx, request.match_info["username"])
        if row is None:
            raise NoMatch("User")
        if not allowed(await role_of(tx, app, User.from_row(row)), "GET"):
            raise PermissionDenied()
        rows = await keys_db.of_users(tx, [row["username"]])
    if not rows:
        raise NotFound("No Keys match the given query.")
    return ok(_keys_by_user(rows))


@doc(request=ReceiveRequest, auth="builder")
async def receive_config(request: web.Request) -> web.Response:
    _check_builder(request)
    data = parse(ReceiveRequest, await body(request))
    async with controller(request).work() as work:
        _, app = await _user_and_app(work.tx, data.receive_user, data.receive_repo)
        config = await releases.current_config(work, app)
    return ok(config_domain.render(config, app["id"]))


@doc(request=BuildHookRequest, response=BuildHookResponse, auth="builder")
async def receive_build(request: web.Request) -> web.Response:
    """A push's build: release it and, like ``POST .../builds``, answer once its deploy ran or failed."""
    _check_builder(request)
    ctl = controller(request)
    data = await body(request)
    receive = parse(ReceiveRequest, data)
    build = new_build(data)
    async with rollout(ctl) as deploy:
        async with ctl.work() as work:
            user, app = await _user_and_app(work.tx, receive.receive_user, receive.receive_repo)
            _, release = await builds.release_build(
                work,
                app,
                user.username,
                build,
                remove_missing=ctl.settings.deploy_procfile_missing_remove,
                reject_missing=ctl.settings.deploy_reject_if_procfile_missing,
            )
        reason = await deploy.failure(app["id"], release["generation"])
        if reason is not None:
            raise BadRequest(reason)
    return ok({"release": {"version": release["version"]}})


def setup(app: web.Application) -> None:
    add(app, "GET", "/v2/hooks/key/{fingerprint}", key_owner)
    add(app, "GET", "/v2/hooks/keys/{id:[a-z0-9-]+}", app_keys)
    add(app, "GET", "/v2/hooks/keys/{id:[a-z0-9-]+}/{username:[\\w.@+-]+}", user_keys, slash=False)
    add(app, "POST", "/v2/hooks/build", receive_build)
    add(app, "POST", "/v2/hooks/config", receive_config)
