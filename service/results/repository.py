"""The official result and the reveal position, stored on the contest row.

The first reveal step freezes the result computed from the ledger; every later read
and announcement uses that frozen copy, so the broadcast speaks from a single count.
"""

from __future__ import annotations

import asyncpg


class ResultsStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def frozen_json(self, contest_id: str) -> str | None:
        raw: str | None = await self._pool.fetchval(
            "SELECT frozen_result::text FROM contests WHERE id = $1", contest_id)
        return raw

    async def freeze(self, contest_id: str, result_json: str) -> None:
        """Store the official result unless one is frozen already (first writer wins)."""
        await self._pool.execute(
            "UPDATE contests SET frozen_result = $2::text::jsonb, results_frozen_at = now() "
            "WHERE id = $1 AND frozen_result IS NULL", contest_id, result_json,
        )

    async def advance_reveal(self, contest_id: str, total: int) -> int | None:
        """The next reveal position, or None once all `total` steps are revealed."""
        revealed: int | None = await self._pool.fetchval(
            "UPDATE contests SET revealed = revealed + 1 WHERE id = $1 AND revealed < $2 "
            "RETURNING revealed", contest_id, total,
        )
        return revealed
