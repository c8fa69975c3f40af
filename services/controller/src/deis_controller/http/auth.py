"""``/v2/auth/*``: register, login, whoami, passwd, cancel and token regeneration."""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field, RootModel, field_validator

from deis_controller.domain import users
from deis_controller.domain.credentials import hash_password, password_matches
from deis_controller.domain.users import EMAIL, USERNAME
from deis_controller.errors import BadRequest, FieldErrors, PermissionDenied
from deis_controller.http.context import add, controller, current_user, require_user
from deis_controller.http.inputs import body
from deis_controller.http.openapi import doc
from deis_controller.http.problems import NotAuthenticated
from deis_controller.http.respond import empty, ok
from deis_controller.http.validation import parse
from deis_controller.records import User


class RegisterRequest(BaseModel):
    username: str = Field(max_length=150)
    password: str = Field(min_length=1)
    email: str = ""
    first_name: str = Field("", max_length=150)
    last_name: str = Field("", max_length=150)

    @field_validator("username")
    @classmethod
    def _username(cls, value: str) -> str:
        if not USERNAME.match(value):
            raise ValueError(
                "Enter a valid username. This value may contain only letters, numbers,"
                " and @/./+/-/_ characters."
            )
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        if value and not EMAIL.match(value):
            raise ValueError("Enter a valid email address.")
        return value


class LoginRequest(BaseModel):
    username: str
    password: str


class TokenResponse(BaseModel):
    token: str


class TokensResponse(RootModel[TokenResponse | Literal[""]]):
    """The new token, or ``""`` when every user's token was regenerated."""


class PasswdRequest(BaseModel):
    new_password: str | None = None
    password: str | None = None
    username: str | None = None


class CancelRequest(BaseModel):
    username: str | None = Field(None, description="admins: cancel this user's account instead")


class TokensRequest(BaseModel):
    username: str | None = Field(None, description="admins: regenerate this user's token instead")
    all: bool | None = Field(None, description='admins: regenerate every user\'s token (the answer is "")')


class UserResponse(BaseModel):
    username: str
    email: str
    first_name: str
    last_name: str
    is_superuser: bool
    is_staff: bool
    is_active: bool
    groups: list[str]
    user_permissions: list[str]
    last_login: str | None
    date_joined: str


def render_user(user: User) -> dict[str, Any]:
    return {
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_superuser": user.is_superuser,
        "is_staff": user.is_staff,
        "is_active": user.is_active,
        "groups": [],
        "user_permissions": [],
        "last_login": user.last_login,
        "date_joined": user.date_joined,
    }


@doc(request=RegisterRequest, response=UserResponse, status=201, auth="none")
async def register(request: web.Request) -> web.Response:
    ctl = controller(request)
    caller = current_user(request)
    mode = ctl.settings.registration_mode
    if mode == "disabled":
        raise PermissionDenied("Registration is disabled")
    # admin_only: until a first user (who becomes admin) exists anyone may register, then only admins.
    # As in Workflow the permission is checked before the body, and again under the lock.
    refused = mode == "admin_only" and not (caller and caller.is_superuser)
    if refused:
        async with ctl.read() as work:
            if await users.any_admin(work):
                raise PermissionDenied()
    data = parse(RegisterRequest, await body(request))
    password = await hash_password(ctl.hasher, data.password)
    async with ctl.work() as work:
        user = await users.register(
            work,
            username=data.username,
            password_hash=password,
            email=data.email,
            first_name=data.first_name,
            last_name=data.last_name,
            only_if_no_admin=refused,
        )
    return ok(render_user(user), status=201)


@doc(request=LoginRequest, response=TokenResponse, auth="none")
async def login(request: web.Request) -> web.Response:
    ctl = controller(request)
    data = parse(LoginRequest, await body(request))
    async with ctl.read() as work:
        user = await users.find(work, data.username)
    if (
        user is None
        or not user.is_active
        or not await password_matches(ctl.hasher, user.password_hash, data.password)
    ):
        raise FieldErrors.one("non_field_errors", "Unable to log in with provided credentials.")
    async with ctl.work() as work:
        await users.touch_login(work, data.username)
    return ok({"token": user.token})


@doc(response=UserResponse)
async def whoami(request: web.Request) -> web.Response:
    return ok(render_user(require_user(request)))


async def _target(request: web.Request, user: User, username: str | None) -> User:
    """The user an account operation is about: the caller, or (admins only) the one named."""
    if not username or username == user.username:
        return user
    if not user.is_superuser:
        raise PermissionDenied()
    async with controller(request).read() as work:
        return await users.get(work, username)


@doc(request=PasswdRequest)
async def passwd(request: web.Request) -> web.Response:
    user = require_user(request)
    data = parse(PasswdRequest, await body(request))
    if not data.new_password:
        raise BadRequest("new_password is a required field")
    target = await _target(request, user, data.username)
    ctl = controller(request)
    if not user.is_superuser:
        if not data.password:
            raise BadRequest("password is a required field")
        if not await password_matches(ctl.hasher, target.password_hash, data.password):
            raise NotAuthenticated("Current password does not match")
    hashed = await hash_password(ctl.hasher, data.new_password)
    async with ctl.work() as work:
        await users.set_password(work, target.username, hashed)
    return ok({"status": "password set"})


@doc(request=CancelRequest, status=204)
async def cancel(request: web.Request) -> web.Response:
    user = require_user(request)
    data = parse(CancelRequest, await body(request))
    target = await _target(request, user, data.username or None)
    async with controller(request).work() as work:
        await users.cancel(work, target.username)
    return empty()


@doc(request=TokensRequest, response=TokensResponse)
async def tokens(request: web.Request) -> web.Response:
    user = require_user(request)
    data = parse(TokensRequest, await body(request))
    ctl = controller(request)
    if data.all:
        if not user.is_superuser:
            raise PermissionDenied()
        async with ctl.work() as work:
            await users.regenerate_all_tokens(work)
        return ok("")
    target = await _target(request, user, data.username or None)
    async with ctl.work() as work:
        token = await users.regenerate_token(work, target.username)
    return ok({"token": token})


def setup(app: web.Application) -> None:
    add(app, "POST", "/v2/auth/register", register)
    add(app, "POST", "/v2/auth/login", login, slash=True)
    add(app, "GET", "/v2/auth/whoami", whoami)
    add(app, "POST", "/v2/auth/passwd", passwd)
    add(app, "DELETE", "/v2/auth/cancel", cancel)
    add(app, "POST", "/v2/auth/tokens", tokens, slash=True)
