"""Deploy hooks: every release is POSTed to the operator's URLs, signed when a secret is set."""

from __future__ import annotations

import asyncio
import hashlib
import hmac

from aiohttp import web

from deis_common.testing.ports import free_port
from tests.controller.harness import running_controller


async def test_a_release_is_posted_to_the_hook_with_a_signature(pg_dsn: str, nats_url: str) -> None:
    received: asyncio.Queue[web.Request] = asyncio.Queue()

    async def hook(request: web.Request) -> web.Response:
        await received.put(request)
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    base = f"http://127.0.0.1:{port}/hook"
    try:
        async with running_controller(
            pg_dsn, nats_url, deploy_hook_urls=base, deploy_hook_secret_key="s3cret"
        ) as api:
            token = await api.register("alice")
            await api.call("POST", "/v2/apps/", token, json={"id": "demo"})
            await api.call("POST", "/v2/apps/demo/config/", token, json={"values": {"A": "1"}})
            seen = {}
            async with asyncio.timeout(15):
                while "v2" not in seen:
                    request = await received.get()
                    seen[request.query["release"]] = request
    finally:
        await runner.cleanup()
    request = seen["v2"]
    assert list(request.query) == ["app", "release", "release_summary", "sha", "user"]
    assert dict(request.query) == {
        "app": "demo",
        "release": "v2",
        "release_summary": "alice added A",
        "sha": "",
        "user": "alice",
    }
    assert "release_summary=alice+added+A" in str(request.url)
    expected = hmac.new(b"s3cret", str(request.url).encode(), hashlib.sha1).hexdigest()
    assert request.headers["Authorization"] == expected
