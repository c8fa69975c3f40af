"""Typed request state: the shared controller, the authenticated user, and route registration."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from deis_controller.controller import Controller
from deis_controller.http.problems import NotAuthenticated
from deis_controller.records import User

CONTROLLER = web.AppKey("controller", Controller)
USER_KEY = web.RequestKey("deis_user", User)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def controller(request: web.Request) -> Controller:
    return request.app[CONTROLLER]


def current_user(request: web.Request) -> User | None:
    return request.get(USER_KEY)


def require_user(request: web.Request) -> User:
    user = current_user(request)
    if user is None:
        raise NotAuthenticated()
    return user


def add(app: web.Application, method: str, path: str, handler: Handler, *, slash: bool | None = None) -> None:
    """Register ``path``: ``slash=None`` with or without a trailing slash, True only with, False without."""
    if slash is None or slash is False:
        app.router.add_route(method, path, handler)
    if slash is None or slash is True:
        app.router.add_route(method, path + "/", handler)
