"""The builder's calls to the controller's builder hooks (spec controller-api §12).

Every call carries ``X-Deis-Builder-Auth``. Answers are turned into the builder's own errors so the
SSH and receive code never see HTTP details.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from deis_common.errors import DeisError

AUTH_HEADER = "X-Deis-Builder-Auth"


class ControllerError(DeisError):
    """The controller could not be asked, or answered something unexpected."""


class AccessDenied(DeisError):
    """The controller says this user may not push to (or fetch from) this app."""


class UnknownApp(DeisError):
    """The controller does not know the app (or the user)."""


@dataclass(frozen=True)
class KeyOwner:
    """Who a public key belongs to, and the apps the key hook lists."""

    username: str
    fingerprint: str
    apps: tuple[str, ...]


class ControllerClient:
    def __init__(self, base_url: str, builder_key: str, *, timeout: float = 30.0) -> None:
        self._base = base_url.rstrip("/")
        self._headers = {AUTH_HEADER: builder_key}
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(headers=self._headers, timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def key_owner(self, fingerprint: str) -> KeyOwner | None:
        """The owner of the key with this MD5 colon fingerprint, or None for an unknown key."""
        status, body = await self._call("GET", f"/v2/hooks/key/{fingerprint}")
        if status == 404:
            return None
        if status != 200 or not isinstance(body, dict) or "username" not in body:
            raise ControllerError(f"the key hook answered {status}: {_detail(body)}")
        apps = tuple(str(app) for app in body.get("apps") or [])
        return KeyOwner(username=str(body["username"]), fingerprint=fingerprint, apps=apps)

    async def app_config(self, user: str, app: str) -> dict[str, Any]:
        """The app's current config object; refuses users who may not push to the app."""
        status, body = await self._call(
            "POST", "/v2/hooks/config", json={"receive_user": user, "receive_repo": app}
        )
        if status == 403:
            raise AccessDenied(f"{user} has no access to {app}")
        if status == 404:
            raise UnknownApp(f"app {app} does not exist")
        if status != 200 or not isinstance(body, dict):
            raise ControllerError(f"the config hook answered {status}: {_detail(body)}")
        return body

    async def check_access(self, user: str, app: str) -> None:
        """Returns once ``user`` is the app's owner, a collaborator or an admin; raises otherwise.

        Asked through the per-user keys hook, which answers 403 unless the user may use the app (the
        same owner / collaborator / admin rule as the config hook) and returns no config values."""
        status, body = await self._call("GET", f"/v2/hooks/keys/{quote(app, safe='')}/{quote(user, safe='')}")
        if status == 200:
            return
        if status == 403:
            raise AccessDenied(f"{user} has no access to {app}")
        if status == 404 and _detail(body).startswith("No Keys"):
            raise AccessDenied(f"{user} has no keys any more")
        if status == 404:
            raise UnknownApp(f"app {app} does not exist")
        raise ControllerError(f"the keys hook answered {status}: {_detail(body)}")

    async def reachable(self) -> bool:
        try:
            status, _ = await self._call("GET", "/healthz")
        except ControllerError:
            return False
        return status == 200

    async def _call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        try:
            async with self._http().request(method, self._base + path, **kwargs) as response:
                try:
                    body: Any = await response.json(content_type=None)
                except ValueError:
                    body = await response.text()
                return response.status, body
        except (aiohttp.ClientError, TimeoutError) as e:
            raise ControllerError(f"cannot reach the controller at {self._base}: {e}") from e


def _detail(body: Any) -> str:
    if isinstance(body, dict) and "detail" in body:
        return str(body["detail"])
    return str(body)[:200]


def config_values(config: dict[str, Any]) -> dict[str, str]:
    """The user's config values of a config object (``values``), as strings."""
    values = config.get("values") or {}
    if not isinstance(values, dict):
        return {}
    return {str(k): "" if v is None else str(v) for k, v in values.items()}
