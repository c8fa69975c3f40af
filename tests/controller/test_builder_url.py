"""The controller tells clients where `git push` goes, so the CLI writes the right `deis` remote."""

from __future__ import annotations

import aiohttp

from tests.controller.harness import running_controller


async def root_headers(url: str) -> dict[str, str]:
    async with aiohttp.ClientSession() as http, http.get(f"{url}/v2/") as response:
        assert response.status == 401
        return dict(response.headers)


async def test_the_api_advertises_the_builder_url_it_was_given(pg_dsn: str, nats_url: str) -> None:
    async with running_controller(pg_dsn, nats_url, builder_url="ssh://git@127.0.0.1:42222") as api:
        headers = await root_headers(api.url)
    assert headers["DEIS_BUILDER_URL"] == "ssh://git@127.0.0.1:42222"
    assert "DEIS_BUILDER_URL" in headers["Access-Control-Expose-Headers"]


async def test_without_a_builder_url_the_cli_derives_it(pg_dsn: str, nats_url: str) -> None:
    async with running_controller(pg_dsn, nats_url) as api:
        headers = await root_headers(api.url)
    assert "DEIS_BUILDER_URL" not in headers
