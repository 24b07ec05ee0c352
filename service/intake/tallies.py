"""Live tallies in Redis: derived from the ledger, updated after each commit.

A tally is one hash per (contest, voting country) mapping entry -> count. Each update
moves them by one ledger batch and records the batch's number in its scope's applied
hash (`redis_keys.applied`) in the same script, so Redis knows which batches its tallies
hold, and a batch already held is ignored: a late update and the repair of its batch
never both count. Losing tallies costs nothing official: the reconciler (and `silkvote
recount`) rebuild them from the ledger, compared at one batch number (`tally_cut.py`).

On a Redis Cluster the hashes of one contest span slots and a script may touch only
one, so there each voting country is a scope of its own (its applied hash sits in its
tally's slot), updated by one script call per country. A scope folds held batches into
`h` as soon as they run without a gap; a country's scope on a cluster sees only the
batches with votes from it, so there the reconciler folds the rest, every round.
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
from service.intake.tally_cut import Counts, Scope
from service.stores import redis_keys
from service.stores.redis import is_cluster

log = logging.getLogger("silkvote.intake")
TALLY_UPDATE_TIMEOUT_S = 2.0

Cell = tuple[str, str]  # (voting country, entry)

# Applied hash: `h` = every batch up to h is held; a field per held batch above h;
# `r` = repairs made, so that two repairs judged on the same read never both apply.
_APPLY = """
-- KEYS[1]: the scope's applied hash; KEYS[2..]: a tally hash per cell. ARGV: the batch
-- number (0: no ledger batch, always applied), the channel to announce on ('' for
-- none), the contest, then an entry and its increment per tally key.
local batch = tonumber(ARGV[1])
if batch > 0 then
  local top = tonumber(redis.call('HGET', KEYS[1], 'h') or '0')
  if batch <= top or redis.call('HSETNX', KEYS[1], ARGV[1], 1) == 0 then
    return 0
  end
  if batch == top + 1 then  -- next in line: fold it, and the held run after it, into h
    while redis.call('HDEL', KEYS[1], tostring(top + 1)) == 1 do top = top + 1 end
    redis.call('HSET', KEYS[1], 'h', top)
  end
end
for i = 2, #KEYS do
  redis.call('HINCRBY', KEYS[i], ARGV[2 * i], ARGV[2 * i + 1])
end
if ARGV[2] ~= '' then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
return 1
"""

_READ = """
-- KEYS[1]: the scope's applied hash; KEYS[2..]: its tally hashes. One atomic read.
local out = {}
for i = 1, #KEYS do out[i] = redis.call('HGETALL', KEYS[i]) end
return out
"""

_REPAIR = """
-- KEYS[1]: the scope's applied hash; KEYS[2..]: a tally hash per cell to move. ARGV:
-- the cut C, how many of batches 1..C the comparison saw held, the repairs it saw made
-- (`r`), then an entry and its difference per tally key. Refused (0) if a batch up to C
-- was applied, or another repair made, since the comparison's read: the difference
-- would then count something twice.
local cut = tonumber(ARGV[1])
local state = redis.call('HMGET', KEYS[1], 'h', 'r')
local top, repairs = tonumber(state[1] or '0'), tonumber(state[2] or '0')
if repairs ~= tonumber(ARGV[3]) then return 0 end
local fields = redis.call('HKEYS', KEYS[1])
local held = math.min(top, cut)
for _, f in ipairs(fields) do
  local b = tonumber(f)
  if b and b <= cut then held = held + 1 end
end
if held ~= tonumber(ARGV[2]) then return 0 end
for i = 2, #KEYS do
  redis.call('HINCRBY', KEYS[i], ARGV[2 * i], ARGV[2 * i + 1])
end
if cut > top then  -- batches 1..C are all held now
  for _, f in ipairs(fields) do
    local b = tonumber(f)
    if b and b <= cut then redis.call('HDEL', KEYS[1], f) end
  end
  top = cut
  while redis.call('HDEL', KEYS[1], tostring(top + 1)) == 1 do top = top + 1 end
end
redis.call('HSET', KEYS[1], 'h', top, 'r', repairs + 1)
return 1
"""

_RESET = """
-- KEYS[1]: the scope's applied hash; KEYS[2..]: every tally hash of the scope. ARGV:
-- the cut, then per tally key its number of cells and as many (entry, votes) pairs.
local repairs = tonumber(redis.call('HGET', KEYS[1], 'r') or '0')
redis.call('DEL', unpack(KEYS))
redis.call('HSET', KEYS[1], 'h', ARGV[1], 'r', repairs + 1)
local j = 2
for i = 2, #KEYS do
  local n = tonumber(ARGV[j])
  j = j + 1
  for _ = 1, n do
    redis.call('HSET', KEYS[i], ARGV[j], ARGV[j + 1])
    j = j + 2
  end
end
return 1
"""
_SCRIPTS = {"apply": _APPLY, "read": _READ, "repair": _REPAIR, "reset": _RESET}
_registered: weakref.WeakKeyDictionary[Any, dict[str, Any]] = weakref.WeakKeyDictionary()


def _script(redis: Any, name: str) -> Any:
    """The script bound to `redis`, registered once per client (not on every commit)."""
    scripts = _registered.get(redis)
    if scripts is None:
        scripts = _registered[redis] = {n: redis.register_script(s) for n, s in _SCRIPTS.items()}
    return scripts[name]


def scopes_of(redis: Any, contest: str, countries: Iterable[str]) -> list[Scope]:
    """The scopes that hold `countries`' tallies: one on a server, one each on a cluster."""
    countries = list(countries)
    if is_cluster(redis):
        return [Scope(redis_keys.applied(contest, c), [c]) for c in countries]
    return [Scope(redis_keys.applied(contest), countries)]


async def add_to_tallies(redis: Any, contest: str, deltas: Counter[Cell], batch: int = 0
                         ) -> None:
    """Apply ledger batch `batch`'s per-(country, entry) increments, unless Redis holds
    it already, and announce the change; batch 0 is applied unconditionally."""
    if not deltas:
        return
    apply = _script(redis, "apply")
    if is_cluster(redis):  # one scope per voting country, one script call each
        rows: dict[str, list[Any]] = defaultdict(list)
        for (country, entry), delta in deltas.items():
            rows[country] += (entry, delta)
        await asyncio.gather(*(
            apply(keys=[redis_keys.applied(contest, country),
                        *[redis_keys.tally(contest, country)] * (len(row) // 2)],
                  args=[batch, "", contest, *row])
            for country, row in rows.items()))
        await redis.publish(redis_keys.CHANGED_CHANNEL, contest)  # reaches every node
        return
    keys = [redis_keys.applied(contest)]
    args: list[Any] = [batch, redis_keys.CHANGED_CHANNEL, contest]
    for (country, entry), delta in deltas.items():
        keys.append(redis_keys.tally(contest, country))
        args += (entry, delta)
    await apply(keys=keys, args=args)


async def read_tallies(redis: Any, contest: str, voting_countries: Iterable[str]) -> Counts:
    """Live counts for every voting country of a contest, in one pipeline."""
    countries = list(voting_countries)
    pipe = redis.pipeline(transaction=False)
    for country in countries:
        pipe.hgetall(redis_keys.tally(contest, country))
    replies = await pipe.execute()
    counts: Counts = {}
    for country, reply in zip(countries, replies, strict=True):
        row = {_text(k): int(v) for k, v in reply.items() if int(v)}
        if row:  # a cell a void took back to 0 counts nothing, as in the ledger
            counts[country] = row
    return counts


async def read_scope(redis: Any, contest: str, scope: Scope) -> Scope:
    """`scope` filled from one atomic read of its applied hash and its tallies."""
    keys = [scope.key, *(redis_keys.tally(contest, c) for c in scope.countries)]
    applied, *tallies = await _script(redis, "read")(keys=keys)
    for name, value in _pairs(applied):
        if name == "h":
            scope.top = int(value)
        elif name == "r":
            scope.repairs = int(value)
        else:
            scope.above.add(int(name))
    for country, reply in zip(scope.countries, tallies, strict=True):
        if reply:
            scope.tallies[country] = {entry: int(n) for entry, n in _pairs(reply)}
    return scope


def _pairs(reply: list[Any]) -> list[tuple[str, str]]:
    """A flat HGETALL reply from a script as (field, value) pairs."""
    flat = [_text(item) for item in reply]
    return list(zip(flat[::2], flat[1::2], strict=True))


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class LiveTallies:
    """The live counts in Redis, as the committer, the batch endpoint, results and repair
    see them."""

    def __init__(self, redis: Any) -> None:
        self._redis = redis

    async def add(self, contest: str, deltas: Counter[Cell], batch: int = 0) -> None:
        await add_to_tallies(self._redis, contest, deltas, batch)

    async def read(self, contest: str, voting_countries: Iterable[str]) -> Counts:
        return await read_tallies(self._redis, contest, voting_countries)

    async def scopes(self, contest: str, countries: Iterable[str]) -> list[Scope]:
        """Each scope of `countries`, read atomically (the scopes one after another)."""
        return list(await asyncio.gather(*(
            read_scope(self._redis, contest, scope)
            for scope in scopes_of(self._redis, contest, countries))))

    async def repair(self, contest: str, scope: Scope, cut: int,
                     deltas: Counter[Cell]) -> bool:
        """Move `scope`'s tallies by `deltas` and mark batches 1..cut held, unless a batch
        up to `cut` was applied, or another repair made, since `scope` was read (False:
        compare again)."""
        cells = [(c, e, n) for (c, e), n in deltas.items() if n]
        args: list[Any] = [cut, scope.held_through(cut), scope.repairs]
        for _, entry, delta in cells:
            args += (entry, delta)
        keys = [scope.key, *(redis_keys.tally(contest, c) for c, _, _ in cells)]
        return bool(await _script(self._redis, "repair")(keys=keys, args=args))

    async def reset(self, contest: str, scope: Scope, cut: int, counts: Counts) -> None:
        """Set `scope`'s tallies to `counts` (the ledger at `cut`) and hold batches 1..cut
        only: for tallies whose batch numbers are not the ledger's."""
        args: list[Any] = [cut]
        for country in scope.countries:
            row = counts.get(country, {})
            args.append(len(row))
            for entry, votes in row.items():
                args += (entry, votes)
        keys = [scope.key, *(redis_keys.tally(contest, c) for c in scope.countries)]
        await _script(self._redis, "reset")(keys=keys, args=args)

    async def announce(self, contest: str) -> None:
        await self._redis.publish(redis_keys.CHANGED_CHANNEL, contest)

    async def publish_accepted(self, decided: list[tuple[PendingVote, Decision]]) -> None:
        """Move tallies by the accepted votes, one update per ledger batch; a Redis failure
        only delays the tallies (the reconciler repairs the drift from the ledger)."""
        per_batch: dict[tuple[str, int], Counter[Cell]] = defaultdict(Counter)
        for vote, decision in decided:
            if decision.outcome == "accepted":
                per_batch[(vote.contest, decision.batch)][(vote.country, vote.entry)] += 1
        for (contest, batch), deltas in per_batch.items():
            try:
                await asyncio.wait_for(self.add(contest, deltas, batch), TALLY_UPDATE_TIMEOUT_S)
            except Exception as exc:
                log.warning("tally update for %s failed (reconciler will repair): %s",
                            contest, exc)
                metrics.TALLY_FAILURES.inc()
