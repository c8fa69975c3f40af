"""The outbox table: events committed with the state change they announce, sent later by the publisher."""

from __future__ import annotations

import uuid
from typing import Any

from deis_controller.db.pool import Tx


async def add(tx: Tx, event_id: str, envelope: dict[str, Any]) -> None:
    await tx.run("INSERT INTO outbox (id, envelope) VALUES ($1, $2)", uuid.UUID(event_id), envelope)


async def claim_unsent(tx: Tx, limit: int) -> list[dict[str, Any]]:
    """Unsent rows, oldest first, locked so another replica's publisher skips them."""
    return await tx.rows(
        "SELECT seq, id, envelope FROM outbox WHERE sent IS NULL ORDER BY seq LIMIT $1"
        " FOR UPDATE SKIP LOCKED",
        limit,
    )


async def mark_sent(tx: Tx, seqs: list[int]) -> None:
    await tx.run("UPDATE outbox SET sent = now() WHERE seq = ANY($1::bigint[])", seqs)


async def unsent_count(tx: Tx) -> int:
    return int(await tx.val("SELECT count(*) FROM outbox WHERE sent IS NULL"))


async def prune_sent(tx: Tx, keep_seconds: float) -> None:
    await tx.run(
        "DELETE FROM outbox WHERE sent IS NOT NULL AND sent < now() - make_interval(secs => $1)", keep_seconds
    )
