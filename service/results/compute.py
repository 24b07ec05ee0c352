"""Compute a contest's result from the ledger or live tallies, through scoring/.

Once the producer starts the reveal the official result is frozen in PostgreSQL and
every later read uses it, so the on-air announcements come from a single count.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from scoring import Result, result_to_json, score
from service.contests.models import Contest
from service.intake.ledger import ledger_counts
from service.intake.tallies import read_tallies
from service.jury.repository import jury_rankings
from service.results.sheet import Counts, contest_sheet
from service.results.views import ResultsView, full_view, public_view
from service.runtime import Runtime

Source = Literal["live", "ledger"]
_result_decoder = msgspec.json.Decoder(Result)


async def read_counts(rt: Runtime, contest: Contest, source: Source) -> Counts:
    if source == "live":
        return await read_tallies(rt.redis, contest.id, contest.voting_countries)
    async with rt.pool.acquire() as conn:
        return await ledger_counts(conn, contest.id)


async def compute(rt: Runtime, contest: Contest, source: Source
                  ) -> tuple[Result, Result | None, Counts]:
    """(result, audience-only standings or None when identical, counts)."""
    counts = await read_counts(rt, contest, source)
    rankings = None
    if contest.jury_locked:
        async with rt.pool.acquire() as conn:
            rankings = await jury_rankings(conn, contest.id)
    result = score(contest_sheet(contest, counts, rankings))
    audience_only = score(contest_sheet(contest, counts, None)) if rankings else None
    return result, audience_only, counts


async def frozen_result(rt: Runtime, contest_id: str) -> Result | None:
    async with rt.pool.acquire() as conn:
        raw = await conn.fetchval("SELECT frozen_result::text FROM contests WHERE id = $1",
                                  contest_id)
    return None if raw is None else _result_decoder.decode(raw)


async def results_views(rt: Runtime, contest: Contest, source: Source
                        ) -> tuple[ResultsView, ResultsView]:
    """(public view, producer's full view) of the contest right now."""
    frozen = await frozen_result(rt, contest.id) if contest.revealed > 0 else None
    if frozen is not None:
        counts = await read_counts(rt, contest, "ledger")
        result, audience_only, source = frozen, None, "ledger"
    else:
        result, audience_only, counts = await compute(rt, contest, source)
    return (public_view(contest, result, audience_only, counts, source),
            full_view(contest, result, counts, source))


async def freeze_official(rt: Runtime, contest: Contest) -> Result:
    """Compute the official result from the ledger and store it unless already frozen."""
    result, _, _ = await compute(rt, contest, "ledger")
    async with rt.pool.acquire() as conn:
        await conn.execute(
            "UPDATE contests SET frozen_result = $2::text::jsonb, results_frozen_at = now() "
            "WHERE id = $1 AND frozen_result IS NULL", contest.id,
            result_to_json(result).decode(),
        )
    frozen = await frozen_result(rt, contest.id)
    assert frozen is not None
    return frozen
