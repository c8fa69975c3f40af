"""Forgetting a destroyed app: its bare repository, its build cache and every pushed source, slug and
image root filesystem in the store (what the original builder's cleaner did by polling namespaces)."""

from __future__ import annotations

import asyncio
import shutil

from deis_builder import names
from deis_builder.push.repos import Repos
from deis_common.bus import Context, Router
from deis_common.events.apps import AppDestroyed
from deis_common.store import ObjectStore


class Cleaner:
    def __init__(self, repos: Repos, store: ObjectStore) -> None:
        self._repos = repos
        self._store = store

    async def app_destroyed(self, event: AppDestroyed, ctx: Context) -> None:
        await asyncio.to_thread(shutil.rmtree, self._repos.path(event.app), True)
        await self._store.delete_prefix(names.BUCKET, f"home/{event.app}:git-")
        await self._store.delete_prefix(names.BUCKET, f"home/{event.app}/")
        ctx.log.info("builder.app_forgotten", app=event.app)


def cleanup_router(cleaner: Cleaner) -> Router:
    router = Router()
    router.on(AppDestroyed, name="app-destroyed", max_deliver=5)(cleaner.app_destroyed)
    return router
