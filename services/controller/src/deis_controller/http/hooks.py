"""``/v2/hooks/*``: what the builder asks (key → user, may this user push, the config) and build results.

Authenticated by the shared builder key in ``X-Deis-Builder-Auth``, never by a user token.
"""

from __future__ import annotations

import hmac

from aiohttp import web
from pydantic import BaseModel, Field

from deis_controller.domain import access, apps, builds, keys, releases
from deis_controller.errors import BadRequest, PermissionDenied
from deis_controller.http.builds import new_build
from deis_controller.http.config import render_config
from deis_controller.http.context import add, controller, current_user
from deis_controller.http.inputs import body
from deis_controller.http.openapi import doc
from deis_controller.http.problems import NotAuthenticated
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


@doc(response=KeyOwnerResponse, auth="builder")
async def key_owner(request: web.Request) -> web.Response:
    _check_builder(request)
    async with controller(request).read() as work:
        owner = await keys.owner_of(work, request.match_info["fingerprint"])
        names = await apps.all_ids(work)
    return ok({"username": owner, "apps": names})


@doc(auth="builder")
async def app_keys(request: web.Request) -> web.Response:
    _check_builder(request)
    async with controller(request).read() as work:
        found = await keys.of_collaborators(work, request.match_info["id"])
    return ok(found)


@doc(auth="builder")
async def user_keys(request: web.Request) -> web.Response:
    _check_builder(request)
    async with controller(request).read() as work:
        found = await keys.of_user_for(work, request.match_info["id"], request.match_info["username"])
    return ok(found)


@doc(request=ReceiveRequest, auth="builder")
async def receive_config(request: web.Request) -> web.Response:
    _check_builder(request)
    data = parse(ReceiveRequest, await body(request))
    async with controller(request).work() as work:
        _, app = await access.pusher_app(work, data.receive_user, data.receive_repo)
        config = await releases.current_config(work, app)
    return ok(render_config(config, app.id))


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
            user, app = await access.pusher_app(work, receive.receive_user, receive.receive_repo)
            _, release = await builds.release_build(
                work,
                app,
                user.username,
                build,
                remove_missing=ctl.settings.deploy_procfile_missing_remove,
                reject_missing=ctl.settings.deploy_reject_if_procfile_missing,
            )
        reason = await deploy.failure(app.id, release.generation)
        if reason is not None:
            raise BadRequest(reason)
    return ok({"release": {"version": release.version}})


def setup(app: web.Application) -> None:
    add(app, "GET", "/v2/hooks/key/{fingerprint}", key_owner)
    add(app, "GET", "/v2/hooks/keys/{id:[a-z0-9-]+}", app_keys)
    add(app, "GET", "/v2/hooks/keys/{id:[a-z0-9-]+}/{username:[\\w.@+-]+}", user_keys, slash=False)
    add(app, "POST", "/v2/hooks/build", receive_build)
    add(app, "POST", "/v2/hooks/config", receive_config)
