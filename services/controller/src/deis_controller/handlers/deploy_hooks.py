"""Deploy hooks: after every release, tell the operator's URLs (optionally signed with HMAC-SHA1).

Runs as its own durable consumer of ``ReleaseCreated`` so a controller restart never skips a hook;
redeploys of an older good release (``rollback_of``) are not new releases and send nothing.
Failures are only logged, as in the original API.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import urlencode

import aiohttp

from deis_common.bus import Context, Router
from deis_common.events.releases import ReleaseCreated
from deis_controller.controller import Controller
from deis_controller.domain import releases


def hook_url(base: str, params: dict[str, str]) -> str:
    separator = "&" if "?" in base else "?"
    return base + separator + urlencode(sorted(params.items()))


def signature(secret: str, url: str) -> str:
    return hmac.new(secret.encode(), url.encode(), hashlib.sha1).hexdigest()


def router(ctl: Controller) -> Router:
    r = Router()

    @r.on(ReleaseCreated, name="deploy-hooks", deliver_new_only=True)
    async def send_hooks(event: ReleaseCreated, ctx: Context) -> None:
        urls = ctl.settings.hook_urls
        if not urls or event.rollback_of is not None:
            return
        async with ctl.read() as work:
            owner = await releases.owner_of(work, event.app, event.version)
        if owner is None:
            return
        build = event.state.build
        params = {
            "app": event.app,
            "release": f"v{event.version}",
            "release_summary": event.summary,
            "sha": build.sha if build else "",
            "user": owner,
        }
        secret = ctl.settings.deploy_hook_secret_key
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for base in urls:
                url = hook_url(base, params)
                headers = {"Authorization": signature(secret, url)} if secret else {}
                try:
                    async with session.post(url, headers=headers) as resp:
                        await resp.read()
                    await ctl.app_log(event.app, f"Deploy hook sent to {base}")
                except (aiohttp.ClientError, TimeoutError) as e:
                    ctx.log.warning("controller.deploy_hook_failed", app=event.app, url=base, error=str(e))

    return r
