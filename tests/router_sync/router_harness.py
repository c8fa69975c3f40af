"""What router tests need beside the shared fixtures: app backends, raw HTTP(S) requests, certificates.

Requests are written by hand over asyncio streams so a test controls exactly what nginx sees: the Host
header (with or without a port), the TLS server name (SNI) and X-Forwarded-Proto.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import ipaddress
import json
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from deis_common.bus import Bus
from deis_common.events.base import Envelope, Event
from deis_common.service import Service
from deis_common.settings import HttpSettings, NatsSettings
from deis_common.testing.ports import free_port
from deis_common.testing.recorder import EventRecorder
from deis_router_sync import RouterSyncSettings
from deis_router_sync.settings import RouterSettings

E = TypeVar("E", bound=Event)


# -- app backends --------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def backend(name: str, *, port: int | None = None) -> AsyncIterator[str]:
    """A tiny app answering JSON about the request it got; yields its endpoint ``127.0.0.1:<port>``."""

    async def answer(request: web.Request) -> web.Response:
        body = await request.read()
        return web.json_response(
            {
                "backend": name,
                "path": request.path_qs,
                "headers": dict(request.headers),
                "body_bytes": len(body),
            }
        )

    async def echo(request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        async for message in socket:
            await socket.send_str(f"{name}: {message.data}")
        return socket

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_get("/ws", echo)
    app.router.add_route("*", "/{tail:.*}", answer)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = port or free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await runner.cleanup()


# -- requests ------------------------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes
    peer_cert: dict[str, Any] | None = field(default=None)

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def backend(self) -> str | None:
        try:
            return str(self.json()["backend"])
        except (ValueError, KeyError, TypeError):
            return None


async def fetch(
    port: int,
    host: str,
    path: str = "/",
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: bytes = b"",
    tls: ssl.SSLContext | None = None,
    server_name: str | None = None,
) -> Response:
    """One HTTP/1.1 request on a fresh connection to 127.0.0.1:``port`` with ``Host: host``."""
    reader, writer = await asyncio.open_connection(
        "127.0.0.1",
        port,
        ssl=tls,
        server_hostname=(server_name or host.split(":")[0]) if tls is not None else None,
    )
    try:
        lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: close"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        if body:
            lines.append(f"Content-Length: {len(body)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        raw = await asyncio.wait_for(reader.read(), timeout=10)
        peer = writer.get_extra_info("peercert") if tls is not None else None
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()
    head, _, payload = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode().split("\r\n")
    parsed = {}
    for line in header_lines:
        key, _, value = line.partition(":")
        parsed[key.strip().lower()] = value.strip()
    if parsed.get("transfer-encoding") == "chunked":
        payload = _unchunk(payload)
    return Response(int(status_line.split()[1]), parsed, payload, peer)


def _unchunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2 :]
    return out


# -- certificates --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cert:
    certificate: str
    key: str
    common_name: str

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts exactly this certificate."""
        context = ssl.create_default_context(cadata=self.certificate)
        return context


def make_cert(domain: str) -> Cert:
    """A self-signed certificate for ``domain`` (its own CA), valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, domain)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(domain)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    return Cert(
        certificate=cert.public_bytes(serialization.Encoding.PEM).decode(),
        key=key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode(),
        common_name=domain,
    )


def common_name(peer_cert: dict[str, Any] | None) -> str | None:
    if not peer_cert:
        return None
    for rdn in peer_cert.get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return str(value)
    return None


def loopback_network() -> str:
    return str(ipaddress.ip_network("127.0.0.0/8"))


# -- events --------------------------------------------------------------------------------------


async def publish_and_wait(
    bus: Bus, recorder: EventRecorder, event: Event, answer: type[E], *, timeout: float = 10.0
) -> E:
    """Publish ``event`` and wait for router-sync's ``answer`` to exactly that event."""
    envelope = await bus.publish(event)
    return await answer_to(recorder, envelope, answer, timeout=timeout)


async def answer_to(
    recorder: EventRecorder, envelope: Envelope, answer: type[E], *, timeout: float = 10.0
) -> E:
    def reply() -> Envelope | None:
        for env in recorder.envelopes:
            if env.type == answer.subject and env.correlation_id == envelope.id:
                return env
        return None

    await recorder.wait_for(answer, where=lambda _: reply() is not None, timeout=timeout)
    found = reply()
    assert found is not None
    return found.open(answer)


# -- the router under test ------------------------------------------------------------------------


PLATFORM_DOMAIN = "router.test"


@dataclass
class RunningRouter:
    service: Service
    settings: RouterSyncSettings

    @property
    def http_port(self) -> int:
        return self.settings.router.http_port

    @property
    def https_port(self) -> int:
        return self.settings.router.https_port

    @property
    def prefix(self) -> Path:
        return self.settings.router.prefix

    def app_host(self, app: str) -> str:
        return f"{app}.{PLATFORM_DOMAIN}"

    async def get(self, host: str, path: str = "/", **kwargs: object) -> Response:
        return await fetch(self.http_port, host, path, **kwargs)  # type: ignore[arg-type]

    async def metric(self, sample: str) -> float:
        """One sample of router-sync's /metrics, e.g. ``name{label="x"}`` (0 when absent)."""
        response = await fetch(self.service.port or 0, "127.0.0.1", "/metrics")
        for line in response.body.decode().splitlines():
            if line.startswith(sample + " "):
                return float(line.rsplit(" ", 1)[1])
        return 0.0


def router_settings(nats_url: str, prefix: Path, **router: object) -> RouterSyncSettings:
    return RouterSyncSettings(
        nats=NatsSettings(url=nats_url),
        http=HttpSettings(host="127.0.0.1", port=0),
        platform_domain=PLATFORM_DOMAIN,
        log_json=False,
        grace_period=2.0,
        router=RouterSettings.model_validate(
            {
                "prefix": prefix,
                "instance": "test",
                "http_port": free_port(),
                "https_port": free_port(),
                "controller_port": free_port(),
                "worker_processes": "1",
                "start_nginx": True,
                "snapshot_retry": 0.2,
                "snapshot_timeout": 1.0,
                **router,
            }
        ),
    )
