"""Synthetic audience: viewers' single votes and an aggregator's batches at a rate.

Votes are paced in ticks of `TICK_S`, so the rate holds over the run rather than
arriving as one burst each second; a quarter of each tick's votes (when there are at
least four) go as one aggregator batch, as a telco would forward SMS votes. Entries
are picked at random among all entries, so some votes are refused (own country) as
they would be on the night; the report counts every refusal by its code.
"""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import Callable
from typing import Any

from service.rehearsal.api import RehearsalApi, error_code
from service.rehearsal.report import RehearsalReport

TICK_S = 0.2
BATCH_SHARE = 4  # one vote in four goes through the aggregator
MAX_VIEWERS = 2000
TOKEN_CONCURRENCY = 16


class Audience:
    def __init__(self, api: RehearsalApi, contest: dict[str, Any], report: RehearsalReport,
                 seed: int | None = None) -> None:
        self._api = api
        self._cid = contest["id"]
        self._entries: list[str] = [str(e["country"]) for e in contest["entries"]]
        self._countries = list(contest["voting_countries"])
        self._report = report
        self._random = random.Random(seed)
        self._viewers: list[str] = []
        self._agg_key = ""

    async def prepare(self, viewers: int) -> None:
        """Voter tokens for `viewers` synthetic viewers and one aggregator key."""
        self._agg_key = (await self._api.admin(
            "POST", f"/api/v1/contests/{self._cid}/aggregator-keys",
            {"name": "rehearsal-telco"}))["key"]
        if not self._countries:  # a contest nobody votes in: a rehearsal of the jury only
            return
        gate = asyncio.Semaphore(TOKEN_CONCURRENCY)

        async def one(i: int) -> str:
            async with gate:
                body = {"voter": f"rehearsal-viewer-{i}",
                        "country": self._countries[i % len(self._countries)]}
                data = await self._api.admin(
                    "POST", f"/api/v1/contests/{self._cid}/voter-tokens", body)
                return str(data["token"])

        self._viewers = list(await asyncio.gather(
            *(one(i) for i in range(max(1, min(viewers, MAX_VIEWERS))))))

    async def run(self, rate: float, seconds: float,
                  progress: Callable[[int], None]) -> None:
        """Send `rate` votes a second for `seconds`; `progress(n)` after each n sent."""
        if not self._viewers:
            return
        ticks = max(1, round(seconds / TICK_S))
        per_tick = rate * TICK_S
        owed = 0.0
        start = time.monotonic()
        for tick in range(ticks):
            owed += per_tick
            n, owed = int(owed), owed - int(owed)
            if n:
                await self._tick(n)
                progress(n)
            # pacing: the rate is what the rehearsal is about
            await asyncio.sleep(max(0.0, start + (tick + 1) * TICK_S - time.monotonic()))

    async def _tick(self, n: int) -> None:
        batch = n // BATCH_SHARE
        singles = [self._single() for _ in range(n - batch)]
        await asyncio.gather(*singles, *([self._batch(batch)] if batch else []))

    def _entry(self) -> str:
        return self._random.choice(self._entries)

    async def _single(self) -> None:
        token = self._random.choice(self._viewers)
        status, data = await self._api.call(
            "POST", f"/api/v1/contests/{self._cid}/votes",
            {"entry": self._entry(), "key": secrets.token_hex(8)}, token=token)
        self._report.votes_sent += 1
        if status in (200, 201):
            self._report.votes_accepted += 1
        else:
            self._report.count_refusal(error_code(data))

    async def _batch(self, n: int) -> None:
        senders = [self._random.randrange(MAX_VIEWERS) for _ in range(n)]
        votes = [{"id": "rh-" + secrets.token_hex(8), "voter": f"rehearsal-sms-{k}",
                  "country": self._countries[k % len(self._countries)],
                  "entry": self._entry(), "channel": "sms"} for k in senders]
        status, data = await self._api.call(
            "POST", f"/api/v1/contests/{self._cid}/votes/batch", {"votes": votes},
            token=self._agg_key)
        self._report.votes_sent += n
        self._report.batches += 1
        self._report.batch_votes += n
        if status == 200:
            self._report.votes_accepted += int(data["accepted"]) + int(data["duplicates"])
            for rejected in data["rejected"]:
                self._report.count_refusal(str(rejected["code"]))
        else:
            self._report.count_refusal(error_code(data), n)
