"""Compute a contest's result from the ledger or live tallies, through scoring/.

Once the producer starts the reveal the official result is frozen in PostgreSQL and
every later read uses it, so the on-air announcements come from a single count.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from scoring import Result, result_to_json, score
from service.contests.models import Contest
from service.intake.ledger import VoteLedger
from service.intake.tallies import LiveTallies
from service.jury.repository import JuryStore
from service.results.repository import ResultsStore
from service.results.sheet import Counts, contest_sheet
from service.results.views import ResultsView, full_view, public_view

Source = Literal["live", "ledger"]
_result_decoder = msgspec.json.Decoder(Result)


class ResultsReader:
    """Counts, ballots and the frozen result in, scored views out: what the results API
    and the leaderboard hub both read."""

    def __init__(self, ledger: VoteLedger, tallies: LiveTallies, jury: JuryStore,
                 store: ResultsStore) -> None:
        self._ledger = ledger
        self._tallies = tallies
        self._jury = jury
        self._store = store

    async def counts(self, contest: Contest, source: Source) -> Counts:
        if source == "live":
            return await self._tallies.read(contest.id, contest.voting_countries)
        return await self._ledger.counts(contest.id)

    async def compute(self, contest: Contest, source: Source
                      ) -> tuple[Result, Result | None, Counts]:
        """(result, audience-only standings or None when identical, counts)."""
        counts = await self.counts(contest, source)
        rankings = await self._jury.rankings(contest.id) if contest.jury_locked else None
        result = score(contest_sheet(contest, counts, rankings))
        audience_only = score(contest_sheet(contest, counts, None)) if rankings else None
        return result, audience_only, counts

    async def frozen(self, contest_id: str) -> Result | None:
        raw = await self._store.frozen_json(contest_id)
        return None if raw is None else _result_decoder.decode(raw)

    async def views(self, contest: Contest, source: Source
                    ) -> tuple[ResultsView, ResultsView]:
        """(public view, producer's full view) of the contest right now."""
        frozen = await self.frozen(contest.id) if contest.revealed > 0 else None
        if frozen is not None:
            counts = await self.counts(contest, "ledger")
            result, audience_only, source = frozen, None, "ledger"
        else:
            result, audience_only, counts = await self.compute(contest, source)
        return (public_view(contest, result, audience_only, counts, source),
                full_view(contest, result, counts, source))

    async def freeze_official(self, contest: Contest) -> Result:
        """The official result from the ledger, stored unless already frozen."""
        result, _, _ = await self.compute(contest, "ledger")
        await self._store.freeze(contest.id, result_to_json(result).decode())
        frozen = await self.frozen(contest.id)
        assert frozen is not None
        return frozen

    async def advance_reveal(self, contest_id: str, total: int) -> int | None:
        return await self._store.advance_reveal(contest_id, total)
