"""Live tallies in Redis: derived from the ledger, updated after each commit.

A tally is one hash per (contest, voting country) mapping entry -> count. Losing them
costs nothing official: the reconciler (and `silkvote recount`) rebuild them from the
ledger.
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from service.core import metrics
from service.intake.ledger import Decision, PendingVote
from service.stores import redis_keys
from service.stores.redis import is_cluster

log = logging.getLogger("silkvote.intake")
TALLY_UPDATE_TIMEOUT_S = 2.0

Counts = dict[str, dict[str, int]]  # voting country -> entry -> votes


# KEYS: tally hashes; ARGV: an entry and its increment per key, then channel and contest.
_ADD_AND_ANNOUNCE = """
for i, key in ipairs(KEYS) do
  redis.call('HINCRBY', key, ARGV[2 * i - 1], ARGV[2 * i])
end
redis.call('PUBLISH', ARGV[#ARGV - 1], ARGV[#ARGV])
return #KEYS
"""
_registered: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()


def _add_and_announce(redis: Any) -> Any:
    """The script bound to `redis`, registered once per client (not on every commit)."""
    script = _registered.get(redis)
    if script is None:
        script = _registered[redis] = redis.register_script(_ADD_AND_ANNOUNCE)
    return script


async def add_to_tallies(redis: Any, contest: str, deltas: Counter[tuple[str, str]]) -> None:
    """Apply per-(country, entry) increments and announce the change, in one command."""
    if not deltas:
        return
    if is_cluster(redis):  # the hashes of a contest span slots: a pipeline, then PUBLISH
        pipe = redis.pipeline(transaction=False)
        for (country, entry), delta in deltas.items():
            pipe.hincrby(redis_keys.tally(contest, country), entry, delta)
        await pipe.execute()
        await redis.publish(redis_keys.CHANGED_CHANNEL, contest)
        return
    tally_keys: list[str] = []
    args: list[Any] = []
    for (country, entry), delta in deltas.items():
        tally_keys.append(redis_keys.tally(contest, country))
        args += (entry, delta)
    await _add_and_announce(redis)(keys=tally_keys,
                                   args=[*args, redis_keys.CHANGED_CHANNEL, contest])


async def read_tallies(redis: Any, contest: str, voting_countries: Iterable[str]) -> Counts:
    """Live counts for every voting country of a contest, in one pipeline."""
    countries = list(voting_countries)
    pipe = redis.pipeline(transaction=False)
    for country in countries:
        pipe.hgetall(redis_keys.tally(contest, country))
    replies = await pipe.execute()
    counts: Counts = {}
    for country, reply in zip(countries, replies, strict=True):
        if reply:
            counts[country] = {_text(k): int(v) for k, v in reply.items()}
    return counts


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def differences(live: Counts, ledger: Counts) -> list[tuple[str, str, int, int]]:
    """Cells where live and ledger disagree: (country, entry, live, ledger)."""
    cells = {(c, e) for c, row in live.items() for e in row}
    cells |= {(c, e) for c, row in ledger.items() for e in row}
    found = []
    for country, entry in sorted(cells):
        have = live.get(country, {}).get(entry, 0)
        want = ledger.get(country, {}).get(entry, 0)
        if have != want:
            found.append((country, entry, have, want))
    return found


class LiveTallies:
    """The live counts in Redis, as the committer, the batch endpoint, results and repair
    see them."""

    def __init__(self, redis: Any) -> None:
        self._redis = redis

    async def add(self, contest: str, deltas: Counter[tuple[str, str]]) -> None:
        await add_to_tallies(self._redis, contest, deltas)

    async def read(self, contest: str, voting_countries: Iterable[str]) -> Counts:
        return await read_tallies(self._redis, contest, voting_countries)

    async def publish_accepted(self, decided: list[tuple[PendingVote, Decision]]) -> None:
        """Move tallies by the accepted votes; a Redis failure only delays the tallies
        (the reconciler repairs the drift from the ledger)."""
        per_contest: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
        for vote, decision in decided:
            if decision.outcome == "accepted":
                per_contest[vote.contest][(vote.country, vote.entry)] += 1
        for contest, deltas in per_contest.items():
            try:
                await asyncio.wait_for(self.add(contest, deltas), TALLY_UPDATE_TIMEOUT_S)
            except Exception as exc:
                log.warning("tally update for %s failed (reconciler will repair): %s",
                            contest, exc)
                metrics.TALLY_FAILURES.inc()
