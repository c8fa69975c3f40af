"""Answering ``deis ps``: the live processes of an app, over request/reply (``deis.v1.scheduler.ps``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from deis_common.events.scheduler import PsReply, PsRequest
from deis_scheduler.reconciler import Reconcilers


def ps_handler(reconcilers: Reconcilers) -> Callable[[PsRequest], Awaitable[PsReply]]:
    async def answer(request: PsRequest) -> PsReply:
        return PsReply(app=request.app, processes=await reconcilers.backend.processes(request.app))

    return answer
