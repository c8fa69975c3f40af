"""The v2 API's resources as the CLI reads them (the controller's JSON, typed).

``total=False`` because the CLI only relies on the fields it prints, and older or newer controllers
may add or omit others.
"""

from __future__ import annotations

from typing import Any, TypedDict


class App(TypedDict, total=False):
    uuid: str
    id: str
    owner: str
    structure: dict[str, int]
    url: str
    created: str
    updated: str


class Config(TypedDict, total=False):
    uuid: str
    app: str
    owner: str
    values: dict[str, Any]
    memory: dict[str, str]
    cpu: dict[str, str]
    tags: dict[str, str]
    registry: dict[str, str]
    healthcheck: dict[str, dict[str, Any]]
    created: str
    updated: str


class Build(TypedDict, total=False):
    uuid: str
    app: str
    owner: str
    image: str
    sha: str
    procfile: dict[str, str]
    created: str


class Release(TypedDict, total=False):
    uuid: str
    app: str
    owner: str
    version: int
    summary: str
    failed: bool
    config: str
    build: str | None
    created: str
    updated: str


class Pod(TypedDict, total=False):
    name: str
    state: str
    type: str
    release: str
    started: str | None


class Domain(TypedDict, total=False):
    app: str
    owner: str
    domain: str
    created: str


class Key(TypedDict, total=False):
    id: str
    owner: str
    public: str
    fingerprint: str
    created: str


class Cert(TypedDict, total=False):
    name: str
    owner: str
    common_name: str | None
    expires: str | None
    starts: str | None
    fingerprint: str
    san: list[str]
    domains: list[str]
    issuer: str
    subject: str
    created: str
    updated: str


class AppSettings(TypedDict, total=False):
    maintenance: bool
    routable: bool
    whitelist: list[str]
    autoscale: dict[str, dict[str, int] | None]
    label: dict[str, str]


class Tls(TypedDict, total=False):
    https_enforced: bool | None


class User(TypedDict, total=False):
    username: str
    email: str
    first_name: str
    last_name: str
    is_superuser: bool
    is_staff: bool
    is_active: bool
    last_login: str | None
    date_joined: str


class RunResult(TypedDict):
    exit_code: int
    output: str
