"""Who may say what on the platform's NATS: one user per service, its subject permissions, the server config.

ARCHITECTURE §11: no anonymous connections; each service connects as its own NATS user and may publish
and subscribe only to what its role in §2 needs; integrations get a read-only user that never receives a
confidential event (config values, private keys, run output). This module is that table, derived from the
event catalogue, plus the credentials (one generated password per user) and the ``authorization`` block of
the nats-server config. The embedded launcher writes both at ``up``, the test fixture starts servers with
them, and the Helm chart renders the same permissions from ``files/nats-permissions.json`` (the output of
``python -m deis_common.natsauth``; tests/deploy checks they agree).

What each user may do:
- publish: the events it owns; its core subjects (build log lines, the requests it sends); the JetStream
  API calls it makes: create the streams (an identical config is accepted, so every service may ensure
  them at start; only the controller may change a stream's config), and for each event it consumes:
  look up and create consumers filtered to that event's subject, fetch from and ack on its stream;
- subscribe: its own reply inbox ``_INBOX.<user>.>`` (the bus connects with that inbox prefix, so nobody
  reads another service's replies), the subjects it watches on core NATS and the requests it answers
  (``allow_responses`` lets it reply to whoever asked).

It performs no I/O but the two file helpers at the end, and must not import the NATS client.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deis_common.events.apps import (
    AppCreated,
    AppDestroyed,
    AppScaled,
    RestartRequested,
    RunRequested,
    SettingsChanged,
)
from deis_common.events.backups import BackupCompleted, BackupFailed
from deis_common.events.base import Event
from deis_common.events.builds import BuildCompleted, BuildFailed, BuildStarted, build_log_subject
from deis_common.events.certs import CertAttached, CertDetached
from deis_common.events.containers import ContainersAutoscaled, ContainersCrashed, ContainersHealthy
from deis_common.events.controller import SNAPSHOT_SUBJECT
from deis_common.events.deploys import DeployFailed
from deis_common.events.domains import DomainAdded, DomainRemoved
from deis_common.events.logs import LOGS_PREFIX, LOGS_STREAM
from deis_common.events.pushes import PushReceived
from deis_common.events.registry import ALL_EVENTS, FAMILIES, stream_name
from deis_common.events.releases import ReleaseCreated, ReleaseDeployed, ReleaseRejected
from deis_common.events.routes import RoutesRejected, RoutesUpdated
from deis_common.events.runs import RunFinished
from deis_common.events.scheduler import PS_SUBJECT

JS_API = "$JS.API"
STREAMS: tuple[str, ...] = (*(stream_name(family) for family in FAMILIES), LOGS_STREAM)


@dataclass(frozen=True)
class Role:
    """What one service does on the bus (ARCHITECTURE §2), from which its permissions follow."""

    publishes: tuple[type[Event], ...] = ()  # events it owns
    consumes: tuple[type[Event], ...] = ()  # durable pull consumers
    watches: tuple[str, ...] = ()  # core subscriptions: subjects or wildcards
    sends: tuple[str, ...] = ()  # core publishes that are not events: requests, build log lines
    serves: tuple[str, ...] = ()  # request subjects it answers
    writes_logs: bool = False  # appends app log lines (DEIS_LOGS)
    reads_logs: bool = False  # reads, follows and purges app logs
    updates_streams: bool = False  # may change a stream's config


def _subjects(*events: type[Event]) -> tuple[str, ...]:
    return tuple(event.subject for event in events)


ROLES: dict[str, Role] = {
    "controller": Role(
        publishes=(
            AppCreated,
            AppScaled,
            RestartRequested,
            RunRequested,
            SettingsChanged,
            AppDestroyed,
            ReleaseCreated,
            ReleaseRejected,
            ReleaseDeployed,
            DomainAdded,
            DomainRemoved,
            CertAttached,
            CertDetached,
            PushReceived,  # `deis pull` hands the image to the builder
        ),
        consumes=(
            BuildCompleted,
            BuildFailed,
            ContainersHealthy,
            ContainersAutoscaled,
            RoutesUpdated,
            DeployFailed,
            ReleaseCreated,
        ),
        # every event: API calls wait for their outcome, and GET /v2/events forwards them to users
        watches=tuple(f"deis.v1.{family}.*" for family in FAMILIES),
        sends=(PS_SUBJECT,),
        serves=(SNAPSHOT_SUBJECT,),
        writes_logs=True,
        reads_logs=True,
        updates_streams=True,
    ),
    "builder": Role(
        publishes=(PushReceived, BuildStarted, BuildCompleted, BuildFailed),
        consumes=(PushReceived, AppDestroyed),
        # a push relays its build's lines and outcome, then its release's, to the git client
        watches=(
            "deis.v1.builds.>",
            *_subjects(ReleaseCreated, ReleaseRejected, ReleaseDeployed, DeployFailed),
        ),
        sends=(build_log_subject("*"),),
    ),
    "scheduler": Role(
        publishes=(ContainersHealthy, ContainersCrashed, ContainersAutoscaled, DeployFailed, RunFinished),
        consumes=(ReleaseCreated, AppScaled, RestartRequested, RunRequested, AppDestroyed),
        watches=(RoutesUpdated.subject,),  # every replica waits for the router before retiring
        sends=(SNAPSHOT_SUBJECT,),
        serves=(PS_SUBJECT,),
        writes_logs=True,
    ),
    "router-sync": Role(
        publishes=(RoutesUpdated, RoutesRejected),
        consumes=(
            ContainersHealthy,
            CertAttached,
            CertDetached,
            DomainAdded,
            DomainRemoved,
            SettingsChanged,
            AppDestroyed,
        ),
        sends=(SNAPSHOT_SUBJECT,),
    ),
    "backup": Role(publishes=(BackupCompleted, BackupFailed)),
}

SERVICE_USERS: tuple[str, ...] = tuple(ROLES)
INTEGRATIONS_USER = "integrations"
USERS: tuple[str, ...] = (*SERVICE_USERS, INTEGRATIONS_USER)

# what the read-only integrations user may subscribe to: every event that carries no secret
INTEGRATION_SUBJECTS: tuple[str, ...] = tuple(
    sorted(event.subject for event in ALL_EVENTS if not event.confidential)
)


def inbox_prefix(user: str) -> str:
    """The reply-inbox prefix a user connects with; only that user may subscribe below it."""
    return f"_INBOX.{user}"


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def role_permissions(user: str, role: Role) -> dict[str, Any]:
    """The nats-server ``permissions`` object of one service user."""
    publish = [*_subjects(*role.publishes), *role.sends]
    subscribe = [f"{inbox_prefix(user)}.>", *role.watches, *role.serves]
    publish += [f"{JS_API}.STREAM.CREATE.{stream}" for stream in STREAMS]
    if role.updates_streams:
        publish += [f"{JS_API}.STREAM.UPDATE.{stream}" for stream in STREAMS]
    if role.serves:
        # a service that answers snapshots says up to which sequence of its own streams they hold
        publish += [f"{JS_API}.STREAM.INFO.{stream_name(event.family)}" for event in role.publishes]
    for event in role.consumes:
        stream = stream_name(event.family)
        publish += [
            f"{JS_API}.CONSUMER.INFO.{stream}.*",
            f"{JS_API}.CONSUMER.CREATE.{stream}.*.{event.subject}",
            f"{JS_API}.CONSUMER.MSG.NEXT.{stream}.*",
            f"$JS.ACK.{stream}.>",
        ]
    logs = f"{LOGS_PREFIX}.*"
    if role.writes_logs:
        publish.append(logs)
    if role.reads_logs:
        publish += [
            f"{JS_API}.STREAM.INFO.{LOGS_STREAM}",
            f"{JS_API}.CONSUMER.CREATE.{LOGS_STREAM}.*.{logs}",
            f"{JS_API}.CONSUMER.MSG.NEXT.{LOGS_STREAM}.*",
            f"{JS_API}.STREAM.PURGE.{LOGS_STREAM}",
        ]
        subscribe.append(logs)
    permissions: dict[str, Any] = {
        "publish": {"allow": _unique(publish)},
        "subscribe": {"allow": _unique(subscribe)},
    }
    if role.serves:
        permissions["allow_responses"] = True
    return permissions


def integration_permissions() -> dict[str, Any]:
    """Read-only: core subscriptions to the non-confidential events, nothing published (no JetStream)."""
    return {"publish": {"deny": [">"]}, "subscribe": {"allow": list(INTEGRATION_SUBJECTS)}}


def permissions_document() -> dict[str, dict[str, Any]]:
    """User name → nats-server permissions, for every user of the platform."""
    document = {user: role_permissions(user, role) for user, role in ROLES.items()}
    document[INTEGRATIONS_USER] = integration_permissions()
    return document


@dataclass(frozen=True)
class NatsCredentials:
    """One password per platform NATS user (generated, never printed)."""

    passwords: Mapping[str, str]

    @classmethod
    def generate(cls) -> NatsCredentials:
        return cls({user: secrets.token_urlsafe(24) for user in USERS})

    def password(self, user: str) -> str:
        return self.passwords[user]

    def __repr__(self) -> str:  # keep the passwords out of tracebacks and debug prints
        return f"NatsCredentials(users={sorted(self.passwords)}, passwords=***)"

    @classmethod
    def load_or_create(cls, path: Path) -> NatsCredentials:
        """The credentials kept in ``path`` (mode 0600), created on first use; users added since get one."""
        try:
            kept: dict[str, str] = {str(k): str(v) for k, v in json.loads(path.read_text()).items()}
        except FileNotFoundError:
            kept = {}
        fresh = cls.generate().passwords
        missing = {user: fresh[user] for user in USERS if user not in kept}
        if missing or not path.exists():
            write_private(path, json.dumps({**kept, **missing}, indent=2, sort_keys=True) + "\n")
        return cls({**kept, **missing})


def render_config(credentials: NatsCredentials, *, superusers: Mapping[str, str] | None = None) -> str:
    """The ``authorization`` block of nats-server's config: every platform user with its permissions.

    ``superusers`` (name → password) get no restriction at all; only tests use them.
    """
    users: list[dict[str, Any]] = [
        {"user": user, "password": credentials.password(user), "permissions": permissions}
        for user, permissions in permissions_document().items()
    ]
    users += [{"user": user, "password": password} for user, password in (superusers or {}).items()]
    lines = [
        "# The platform's NATS users and what each may publish and subscribe to (deis_common.natsauth).",
        "# It holds passwords: keep it 0600. Without no_auth_user, anonymous connections are refused.",
        "authorization {",
        "  users: [",
        *(f"    {json.dumps(user)}" for user in users),
        "  ]",
        "}",
        "",
    ]
    return "\n".join(lines)


def write_private(path: Path, text: str) -> None:
    """Replace ``path`` atomically with ``text``, readable by its owner only (0600) from the start."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def write_config(path: Path, credentials: NatsCredentials) -> None:
    """Write the nats-server config file (0600) that holds the platform's users."""
    write_private(path, render_config(credentials))


if __name__ == "__main__":  # the permissions the Helm chart renders (files/nats-permissions.json)
    json.dump(permissions_document(), sys.stdout, indent=2)
    sys.stdout.write("\n")
