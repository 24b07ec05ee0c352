"""Compute a contest's result from the ledger or live tallies, through scoring/.

Once the producer starts the reveal the official result is frozen in PostgreSQL and
every later read uses it, so the on-air announcements come from a single count.
"""

from __future__ import annotations

import time
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
from service.seal.models import seal_view
from service.seal.repository import SealStore

Source = Literal["live", "ledger"]
FREEZE_ATTEMPTS = 5
VOID_COUNTS_TTL_S = 1.0  # voids are rare; the hub recomputes views several times a second
_result_decoder = msgspec.json.Decoder(Result)


class ResultsReader:
    """Counts, ballots and the frozen result in, scored views out: what the results API
    and the leaderboard hub both read."""

    def __init__(self, ledger: VoteLedger, tallies: LiveTallies, jury: JuryStore,
                 store: ResultsStore, seals: SealStore) -> None:
        self._ledger = ledger
        self._seals = seals
        self._tallies = tallies
        self._jury = jury
        self._store = store
        self._void_counts: dict[str, tuple[float, dict[str, int]]] = {}

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

    async def void_counts(self, contest_id: str, *, fresh: bool = False) -> dict[str, int]:
        """Void votes per voting country. Live views read them at most once a
        `VOID_COUNTS_TTL_S` (the hub builds several a second); a view of the ledger reads
        them with its counts (`fresh`), so its marks never lag the void its counts show."""
        cached = self._void_counts.get(contest_id)
        now = time.monotonic()
        if fresh or cached is None or now - cached[0] >= VOID_COUNTS_TTL_S:
            cached = self._void_counts[contest_id] = (
                now, await self._store.void_counts(contest_id))
        return cached[1]

    async def views(self, contest: Contest, source: Source
                    ) -> tuple[ResultsView, ResultsView]:
        """(public view, producer's full view) of the contest right now."""
        frozen = await self.frozen(contest.id) if contest.revealed > 0 else None
        if frozen is not None:
            counts = await self.counts(contest, "ledger")
            result, audience_only, source = frozen, None, "ledger"
        else:
            result, audience_only, counts = await self.compute(contest, source)
        voids = await self.void_counts(contest.id, fresh=source == "ledger")
        public = public_view(contest, result, audience_only, counts, source, voids)
        full = full_view(contest, result, counts, source, voids)
        sealed = await self._seals.summary(contest.id) if contest.window == "closed" else None
        if sealed is not None:
            public.seal = full.seal = seal_view(sealed)
        return public, full

    async def freeze_official(self, contest: Contest) -> Result:
        """The official result from the ledger, stored unless already frozen.

        Computed at the ledger's head batch and stored only if no void moved the ledger
        since (`ResultsStore.freeze`); after a close nothing else does, so a retry is
        rare and short."""
        for _ in range(FREEZE_ATTEMPTS):
            head = await self._ledger.head(contest.id)
            counts = (await self._ledger.at(contest.id, head)).counts
            rankings = await self._jury.rankings(contest.id) if contest.jury_locked else None
            result = score(contest_sheet(contest, counts, rankings))
            if await self._store.freeze(contest.id, result_to_json(result).decode(),
                                        head) != "stale":
                break
        frozen = await self.frozen(contest.id)
        if frozen is None:
            raise RuntimeError(f"the result of {contest.id} could not be frozen: the "
                               "ledger kept moving")
        return frozen

    async def advance_reveal(self, contest_id: str, total: int) -> int | None:
        return await self._store.advance_reveal(contest_id, total)
