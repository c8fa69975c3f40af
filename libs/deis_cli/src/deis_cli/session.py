"""Per-invocation state shared by every command: the chosen profile, an API client, the current app.

Commands get it with ``Session.current()``. Loading is lazy, so ``deis login`` and ``--help`` work
without a profile, and commands that need one fail with the original "are you logged in?" message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import click

from deis_cli import gitremote
from deis_cli.client import DeisClient
from deis_cli.profiles import Profile, profile_path

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Session:
    config: str | None = None
    _profile: Profile | None = field(default=None, repr=False)
    _client: DeisClient | None = field(default=None, repr=False)

    @staticmethod
    def current() -> Session:
        ctx = click.get_current_context()
        root = ctx.find_root()
        if not isinstance(root.obj, Session):
            root.obj = Session()
        return root.obj

    @property
    def path(self) -> Path:
        return profile_path(self.config)

    @property
    def profile(self) -> Profile:
        if self._profile is None:
            self._profile = Profile.load(self.path)
        return self._profile

    @property
    def client(self) -> DeisClient:
        if self._client is None:
            p = self.profile
            self._client = DeisClient(p.controller, p.token, ssl_verify=p.ssl_verify)
        return self._client

    def limit(self, requested: int | None) -> int:
        return requested if requested and requested > 0 else self.profile.response_limit

    def builder_base(self) -> str:
        return gitremote.builder_base(self.profile.controller, self.profile.builder)

    def remote_url(self, app: str) -> str:
        """The git remote of ``app``; asks the controller where its builder is when it runs locally."""
        advertised = self.profile.builder
        if gitremote.is_local(self.profile.controller):
            advertised = self.client.advertised_builder() or advertised
        return gitremote.remote_url(self.profile.controller, app, advertised)

    def app(self, given: str | None) -> str:
        """The ``-a`` value, or the app detected from the git remote / directory name."""
        if given:
            return given
        return gitremote.detect_app(self.builder_base())

    def app_from_git(self, given: str | None) -> tuple[str, bool]:
        if given:
            return given, False
        return gitremote.detect_app(self.builder_base()), True

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def app_option(f: F) -> F:
    return click.option(
        "-a", "--app", "app", metavar="<app>", help="The uniquely identifiable name for the application."
    )(f)


def limit_option(f: F) -> F:
    return click.option(
        "-l", "--limit", "limit", type=int, metavar="<num>", help="The maximum number of results to display."
    )(f)
