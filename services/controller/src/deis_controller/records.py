"""The controller's records: what the database stores, as frozen values the layers pass around.

``db`` builds them from rows (``from_row``), ``domain`` reads and derives new ones, ``http`` renders them.
A record never changes: a write returns the new record.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

CONFIG_SECTIONS = ("values", "memory", "cpu", "tags", "registry", "healthcheck")

Row = Mapping[str, Any]


class ReleaseKind(enum.StrEnum):
    """What made a release."""

    INITIAL = "initial"
    CONFIG = "config"
    BUILD = "build"
    ROLLBACK = "rollback"


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    is_superuser: bool
    is_staff: bool
    is_active: bool
    last_login: datetime | None
    date_joined: datetime
    token: str = field(repr=False)
    password_hash: str = field(repr=False)

    @classmethod
    def from_row(cls, row: Row) -> User:
        return cls(
            id=row["id"],
            username=row["username"],
            email=row["email"],
            first_name=row["first_name"],
            last_name=row["last_name"],
            is_superuser=row["is_superuser"],
            is_staff=row["is_staff"],
            is_active=row["is_active"],
            last_login=row["last_login"],
            date_joined=row["date_joined"],
            token=row["token"],
            password_hash=row["password"],
        )


@dataclass(frozen=True, slots=True)
class Admin:
    username: str
    is_superuser: bool


@dataclass(frozen=True, slots=True)
class Key:
    uuid: UUID
    id: str
    owner: str
    public: str
    fingerprint: str
    created: datetime
    updated: datetime

    @classmethod
    def from_row(cls, row: Row) -> Key:
        return cls(**row)


@dataclass(frozen=True, slots=True)
class App:
    uuid: UUID
    id: str
    owner: str
    structure: Mapping[str, int]
    generation: int
    processes: Sequence[Mapping[str, Any]]
    created: datetime
    updated: datetime

    @classmethod
    def from_row(cls, row: Row) -> App:
        return cls(**row)


@dataclass(frozen=True, slots=True)
class Config:
    uuid: UUID
    app_uuid: UUID
    owner: str
    values: Mapping[str, Any]
    memory: Mapping[str, Any]
    cpu: Mapping[str, Any]
    tags: Mapping[str, Any]
    registry: Mapping[str, Any]
    healthcheck: Mapping[str, Any]
    created: datetime
    updated: datetime

    @classmethod
    def from_row(cls, row: Row) -> Config:
        return cls(**row)

    def sections(self) -> dict[str, dict[str, Any]]:
        return {name: dict(getattr(self, name)) for name in CONFIG_SECTIONS}


@dataclass(frozen=True, slots=True)
class Build:
    uuid: UUID
    app_uuid: UUID
    owner: str
    image: str
    sha: str
    procfile: Mapping[str, str]
    dockerfile: str
    build_id: str | None
    artifact: Mapping[str, Any] | None
    created: datetime
    updated: datetime

    @classmethod
    def from_row(cls, row: Row) -> Build:
        return cls(**row)


@dataclass(frozen=True, slots=True)
class Release:
    uuid: UUID
    app_uuid: UUID
    owner: str
    version: int
    summary: str
    kind: ReleaseKind
    failed: bool
    deployed: bool
    generation: int
    config_uuid: UUID
    build_uuid: UUID | None
    created: datetime
    updated: datetime

    @classmethod
    def from_row(cls, row: Row) -> Release:
        return cls(**{**row, "kind": ReleaseKind(row["kind"])})


@dataclass(frozen=True, slots=True)
class Domain:
    id: int
    app_uuid: UUID
    app: str
    owner: str
    domain: str
    certificate_id: int | None
    created: datetime
    updated: datetime

    @classmethod
    def from_row(cls, row: Row) -> Domain:
        return cls(**row)


@dataclass(frozen=True, slots=True)
class Certificate:
    id: int
    name: str
    owner: str
    certificate: str = field(repr=False)
    key: str = field(repr=False)
    common_name: str | None
    expires: datetime
    starts: datetime
    fingerprint: str
    san: Sequence[str]
    issuer: str
    subject: str
    created: datetime
    updated: datetime
    domains: Sequence[str]

    @classmethod
    def from_row(cls, row: Row) -> Certificate:
        return cls(**row)


@dataclass(frozen=True, slots=True)
class SettingsValues:
    """What ``deis settings`` (and the whitelist, autoscale, label commands) set; the latest wins."""

    maintenance: bool = False
    routable: bool = True
    whitelist: Sequence[str] = field(default_factory=list)
    autoscale: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    label: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AppSettings:
    uuid: UUID
    app_uuid: UUID
    owner: str
    maintenance: bool
    routable: bool
    whitelist: Sequence[str]
    autoscale: Mapping[str, Mapping[str, int]]
    label: Mapping[str, Any]
    created: datetime
    updated: datetime

    @classmethod
    def from_row(cls, row: Row) -> AppSettings:
        return cls(**row)

    @property
    def values(self) -> SettingsValues:
        return SettingsValues(self.maintenance, self.routable, self.whitelist, self.autoscale, self.label)


@dataclass(frozen=True, slots=True)
class Tls:
    uuid: UUID
    app_uuid: UUID
    owner: str
    https_enforced: bool | None
    created: datetime
    updated: datetime

    @classmethod
    def from_row(cls, row: Row) -> Tls:
        return cls(**row)
