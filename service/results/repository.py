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

    async def freeze(self, contest_id: str, result_json: str, batch: int) -> str:
        """Store the official result computed from the ledger at `batch` unless one is
        frozen already (first writer wins): `frozen`, `already`, or `stale` when a void
        moved the ledger past `batch` meanwhile (compute again). The SQL function takes
        the lock a void takes (migrations/0009), so no frozen result counts a vote
        voided before it, and no void lands after it."""
        outcome: str = await self._pool.fetchval(
            "SELECT freeze_result($1, $2::text::jsonb, $3)", contest_id, result_json, batch)
        return outcome

    async def void_counts(self, contest_id: str) -> dict[str, int]:
        """Void votes per voting country (countries without any are left out)."""
        rows = await self._pool.fetch(
            "SELECT v.voting_country, count(*) AS n FROM voided_votes x "
            "JOIN votes v ON v.contest_id = x.contest_id AND v.dedupe_key = x.dedupe_key "
            "WHERE x.contest_id = $1 GROUP BY v.voting_country", contest_id)
        return {r["voting_country"]: r["n"] for r in rows}

    async def advance_reveal(self, contest_id: str, total: int) -> int | None:
        """The next reveal position, or None once all `total` steps are revealed or
        while the window is open (the row lock orders this against an open)."""
        revealed: int | None = await self._pool.fetchval(
            "UPDATE contests SET revealed = revealed + 1 WHERE id = $1 AND revealed < $2 "
            "AND window_state = 'closed' RETURNING revealed", contest_id, total,
        )
        return revealed
