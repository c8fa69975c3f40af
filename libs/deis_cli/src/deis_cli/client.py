"""A small typed client of the controller's v2 REST API (httpx, synchronous).

It owns the wire details: the ``Authorization: token`` header, the User-Agent, trailing slashes,
``?limit=`` pagination and turning error bodies (field lists, ``detail``, bare strings) into one
readable message. It knows nothing about profiles or output.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from http import HTTPStatus
from types import ModuleType
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote, urlsplit

from deis_cli import __version__
from deis_cli.errors import APIError, CLIError
from deis_cli.models import App, AppSettings, Build, Cert, Config, Domain, Key, Pod, Release, RunResult, User

if TYPE_CHECKING:
    import httpx

API_VERSION = "2.3"
JSON = dict[str, Any]

# Run and restart wait for processes on the server side (up to 20 minutes for a one-off run).
LONG_TIMEOUT = 1260.0
DEFAULT_TIMEOUT = 120.0


def normalize_controller(url: str) -> str:
    """Accept ``host``, ``host:port`` or a URL; return ``scheme://host[:port]`` with no trailing slash."""
    url = url.strip()
    if not url:
        raise CLIError("A controller URL is required, e.g. 'deis login http://deis.example.com'")
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CLIError(f"{url} is not a valid controller URL")
    return f"{parts.scheme}://{parts.netloc}"


def format_error(response: httpx.Response) -> str:
    """One readable message from any of the controller's error body shapes."""
    status = response.status_code
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text.strip()
    lines: list[str] = []
    if isinstance(body, dict):
        for key, value in body.items():
            values = value if isinstance(value, list) else [value]
            for item in values:
                if key in ("detail", "non_field_errors"):
                    lines.append(str(item))
                else:
                    lines.append(f"{key}: {item}")
    elif isinstance(body, list):
        lines.extend(str(item) for item in body)
    elif body:
        text = str(body)
        lines.append(text if len(text) < 500 and "<html" not in text.lower() else "")
    lines = [line for line in lines if line]
    if status in (401, 403) and lines:
        return "\n".join(lines)
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = response.reason_phrase
    return "\n".join([f"{status} {reason}", *lines])


class DeisClient:
    """Talks to one controller as one user (or anonymously when ``token`` is empty)."""

    warned = False

    def __init__(self, controller: str, token: str = "", *, ssl_verify: bool = True) -> None:
        self.controller = normalize_controller(controller)
        self.token = token
        hx = _httpx()
        headers = {"User-Agent": f"Deis Client v{__version__}", "Accept": "application/json"}
        # Certificate verification only means something over https; skipping the CA bundle load for a
        # plain-http controller saves a noticeable part of every command's start-up.
        self._http: httpx.Client = hx.Client(
            base_url=self.controller,
            headers=headers,
            verify=ssl_verify if self.controller.startswith("https://") else False,
            timeout=DEFAULT_TIMEOUT,
            trust_env=True,
        )
        self.server_api_version = ""
        self.platform_version = ""

    @property
    def host(self) -> str:
        return urlsplit(self.controller).hostname or ""

    def close(self) -> None:
        self._http.close()

    # --- transport -------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        timeout: float | None = None,
        auth: bool = True,
        ok: tuple[int, ...] = (),
    ) -> httpx.Response:
        hx = _httpx()
        headers = {}
        if auth and self.token:
            headers["Authorization"] = f"token {self.token}"
        try:
            response = self._http.request(
                method,
                path,
                json=json,
                params=params,
                headers=headers,
                timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
            )
        except hx.TimeoutException as e:
            raise CLIError(f"The controller at {self.controller} did not answer in time ({e})") from e
        except hx.HTTPError as e:
            raise CLIError(f"Could not reach the controller at {self.controller}: {e}") from e
        self._check_version(response)
        if response.is_error and response.status_code not in ok:
            raise APIError(response.status_code, format_error(response))
        return response

    def _check_version(self, response: httpx.Response) -> None:
        version = response.headers.get("DEIS_API_VERSION", "")
        self.platform_version = response.headers.get("DEIS_PLATFORM_VERSION", self.platform_version)
        if not version:
            return
        self.server_api_version = version
        if version.split(".")[:2] != API_VERSION.split(".")[:2] and not DeisClient.warned:
            DeisClient.warned = True
            print(
                "!    WARNING: Client and server API versions do not match. Please consider upgrading.\n"
                f"!    Client version: {API_VERSION}\n!    Server version: {version}",
                file=sys.stderr,
            )

    def get(self, path: str, **kw: Any) -> Any:
        return _json(self.request("GET", path, **kw))

    def post(self, path: str, body: Any = None, **kw: Any) -> Any:
        return _json(self.request("POST", path, json=body if body is not None else {}, **kw))

    def delete(self, path: str, body: Any = None, **kw: Any) -> Any:
        return _json(self.request("DELETE", path, json=body, **kw))

    def page(self, path: str, limit: int) -> tuple[list[JSON], int]:
        """One page of a paginated list: (results, total count)."""
        body = self.get(path, params={"limit": limit})
        if isinstance(body, list):
            return body, len(body)
        results = body.get("results", [])
        return results, int(body.get("count", len(results)))

    # --- typed endpoints -------------------------------------------------------------------------

    def check_connection(self) -> None:
        """The original handshake: an anonymous ``GET /v2/`` must answer 401."""
        response = self.request("GET", "/v2/", auth=False, ok=(401,))
        if response.status_code != 401:
            raise CLIError(
                f"{self.controller} does not look like a Deis controller "
                f"(GET /v2/ answered {response.status_code}, expected 401)"
            )

    def advertised_builder(self) -> str:
        """The builder's git URL base (``ssh://git@host:port``) if the controller advertises one.

        Read from a ``DEIS_BUILDER_URL`` response header or a ``builder_url`` field of ``GET /v2/``; the
        embedded platform uses it when the SSH port is not the default 2222.
        """
        try:
            response = self.request("GET", "/v2/", ok=(401, 403, 404))
        except CLIError:
            return ""
        advertised = response.headers.get("DEIS_BUILDER_URL", "")
        if not advertised and response.status_code == 200:
            try:
                body = response.json()
            except ValueError:
                body = None
            if isinstance(body, dict):
                advertised = body.get("builder_url") or ""
        return str(advertised)

    # --- resources --------------------------------------------------------------------------------

    def apps(self, limit: int) -> tuple[list[App], int]:
        found, count = self.page("/v2/apps/", limit)
        return cast(list[App], found), count

    def app(self, app: str) -> App:
        return cast(App, self.get(self.app_path(app)))

    def config(self, app: str) -> Config:
        return cast(Config, self.get(self.app_path(app, "config")))

    def set_config(self, app: str, body: dict[str, Any]) -> Config:
        """POST a config change (one or more sections); the controller answers with the merged config."""
        return cast(Config, self.post(self.app_path(app, "config"), body, timeout=LONG_TIMEOUT))

    def settings(self, app: str) -> AppSettings:
        return cast(AppSettings, self.get(self.app_path(app, "settings")))

    def set_settings(self, app: str, body: dict[str, Any]) -> AppSettings:
        return cast(AppSettings, self.post(self.app_path(app, "settings"), body))

    def pods(self, app: str, limit: int) -> list[Pod]:
        found, _ = self.page(self.app_path(app, "pods"), limit)
        return cast(list[Pod], found)

    def releases(self, app: str, limit: int) -> tuple[list[Release], int]:
        found, count = self.page(self.app_path(app, "releases"), limit)
        return cast(list[Release], found), count

    def builds(self, app: str, limit: int) -> tuple[list[Build], int]:
        found, count = self.page(self.app_path(app, "builds"), limit)
        return cast(list[Build], found), count

    def domains(self, app: str, limit: int) -> tuple[list[Domain], int]:
        found, count = self.page(self.app_path(app, "domains"), limit)
        return cast(list[Domain], found), count

    def keys(self, limit: int) -> tuple[list[Key], int]:
        found, count = self.page("/v2/keys/", limit)
        return cast(list[Key], found), count

    def certs(self, limit: int) -> tuple[list[Cert], int]:
        found, count = self.page("/v2/certs/", limit)
        return cast(list[Cert], found), count

    def cert(self, name: str) -> Cert:
        return cast(Cert, self.get(f"/v2/certs/{quote(name, safe='')}/"))

    def users(self, limit: int) -> tuple[list[User], int]:
        found, count = self.page("/v2/users/", limit)
        return cast(list[User], found), count

    def run(self, app: str, command: str) -> RunResult:
        result = self.post(self.app_path(app, "run"), {"command": command}, timeout=LONG_TIMEOUT)
        return {"exit_code": int(result.get("exit_code", 1)), "output": str(result.get("output", ""))}

    def app_path(self, app: str, *rest: str) -> str:
        parts = ["/v2/apps", quote(app, safe="")]
        parts.extend(quote(p, safe="") for p in rest)
        return "/".join(parts) + "/"

    def events(
        self, app: str | None, types: tuple[str, ...], *, on_open: Callable[[], None] | None = None
    ) -> Iterator[JSON]:
        """The controller's event stream (``GET /v2/events``), one envelope at a time, until it ends.

        ``on_open`` is called once the controller accepted the request and listens for events; empty
        keep-alive lines are skipped.
        """
        hx = _httpx()
        params: dict[str, str | list[str]] = {"type": list(types)}
        if app:
            params["app"] = app
        headers = {"Authorization": f"token {self.token}", "Accept": "application/x-ndjson"}
        # an idle stream only carries a keep-alive line every few seconds: no read timeout
        timeout = hx.Timeout(DEFAULT_TIMEOUT, read=None)
        opened = False
        try:
            with self._http.stream(
                "GET", "/v2/events/", params=params, headers=headers, timeout=timeout
            ) as response:
                opened = True
                self._check_version(response)
                if response.is_error:
                    response.read()
                    raise APIError(response.status_code, format_error(response))
                if on_open is not None:
                    on_open()
                for line in response.iter_lines():
                    if line.strip():
                        envelope = json.loads(line)
                        if isinstance(envelope, dict):
                            yield envelope
        except hx.HTTPError as e:
            if not opened:
                raise CLIError(f"Could not reach the controller at {self.controller}: {e}") from e
            raise CLIError(f"Lost the event stream of the controller at {self.controller}: {e}") from e

    def logs(self, app: str, lines: int | None = None) -> str:
        params = {"log_lines": lines} if lines else None
        response = self.request("GET", self.app_path(app, "logs"), params=params)
        if response.status_code == 204:
            return ""
        return response.text


def _httpx() -> ModuleType:
    """httpx, imported on first use (``deis --help`` never pays for it).

    httpx's package import also loads its own command line (rich, pygments, click) when those are
    installed; the CLI never calls it, so an empty placeholder stands in for that one module.
    """
    if "httpx" not in sys.modules:
        sys.modules.setdefault("httpx._main", ModuleType("httpx._main"))
    import httpx

    return httpx


def _json(response: httpx.Response) -> Any:
    if response.status_code == 204 or not response.content:
        return {}
    try:
        return response.json()
    except ValueError:
        return response.text
