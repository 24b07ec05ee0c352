"""The integrity report's reads and the void's write, all SQL of `service/integrity/`.

Every read of the report runs in one read-only REPEATABLE READ transaction, so its
sections describe one snapshot of the ledger even while votes flow. "Counted" votes are
the contest's votes without a row in `voided_votes`, as every count of the ledger has
them. The report scans the contest's partition several times: a scrutineer's query,
bounded by `REPORT_TIMEOUT_S`, never on a path a viewer waits for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from service.audit.chain import record_event

REPORT_TIMEOUT_S = 60.0

COUNTED = """counted AS (
    SELECT v.* FROM votes v
     WHERE v.contest_id = $1 AND NOT EXISTS (
           SELECT 1 FROM voided_votes x
            WHERE x.contest_id = $1 AND x.dedupe_key = v.dedupe_key))"""

TOTALS_SQL = f"""WITH {COUNTED}
SELECT count(*) AS votes, count(DISTINCT token_hash) AS tokens,
       count(DISTINCT voter_hash) AS voters, count(DISTINCT net_hash) AS networks,
       count(*) FILTER (WHERE net_hash IS NULL) AS without_network,
       (SELECT count(*) FROM voided_votes WHERE contest_id = $1) AS voided
  FROM counted"""

CHANNELS_SQL = f"""WITH {COUNTED}
SELECT channel, count(*) AS n FROM counted GROUP BY channel ORDER BY n DESC, channel"""

# The top 1 % of networks by votes (at least one network), and what they cast.
TOP_SHARE_SQL = f"""WITH {COUNTED},
per AS (SELECT count(*) AS n FROM counted WHERE net_hash IS NOT NULL GROUP BY net_hash),
ranked AS (SELECT n, row_number() OVER (ORDER BY n DESC) AS r, count(*) OVER () AS k
             FROM per)
SELECT coalesce(sum(n) FILTER (WHERE r <= greatest(1, ceil(k * 0.01))), 0) AS top_votes,
       coalesce(sum(n), 0) AS with_network,
       coalesce(greatest(1, ceil(max(k) * 0.01)), 0)::integer AS top_networks
  FROM ranked"""

NETWORKS_SQL = f"""WITH {COUNTED}
SELECT net_hash, count(*) AS votes, count(DISTINCT token_hash) AS tokens,
       count(DISTINCT voter_hash) AS voters, min(received_at) AS first_at,
       max(received_at) AS last_at
  FROM counted WHERE net_hash IS NOT NULL
 GROUP BY net_hash ORDER BY votes DESC, net_hash LIMIT $2"""

NETWORK_ENTRIES_SQL = f"""WITH {COUNTED}
SELECT net_hash, entry, count(*) AS n FROM counted
 WHERE net_hash = ANY ($2::bytea[]) GROUP BY net_hash, entry"""

# Per token: its most votes within any window of $2, over its counted votes.
BURSTS_SQL = f"""WITH {COUNTED},
timed AS (
    SELECT token_hash, voter_hash, net_hash, received_at,
           count(*) OVER (PARTITION BY token_hash ORDER BY received_at
                          RANGE BETWEEN $2::interval PRECEDING AND CURRENT ROW) AS in_window
      FROM counted WHERE token_hash IS NOT NULL),
per AS (
    SELECT token_hash, (array_agg(voter_hash))[1] AS voter,
           (array_agg(net_hash ORDER BY received_at))[1] AS network,
           count(DISTINCT net_hash) AS networks, count(*) AS votes,
           max(in_window) AS most, min(received_at) AS first_at, max(received_at) AS last_at
      FROM timed GROUP BY token_hash)
SELECT per.*, count(*) FILTER (WHERE most >= $4) OVER () AS bursting
  FROM per ORDER BY most DESC, votes DESC, token_hash LIMIT $3"""

ENTRIES_SQL = f"""WITH {COUNTED},
pe AS (SELECT entry, net_hash, count(*) AS n FROM counted GROUP BY entry, net_hash),
ranked AS (
    SELECT entry, net_hash, n,
           row_number() OVER (PARTITION BY entry, net_hash IS NULL ORDER BY n DESC) AS r,
           count(*) FILTER (WHERE net_hash IS NOT NULL) OVER (PARTITION BY entry) AS k
      FROM pe)
SELECT entry, sum(n) AS votes, count(net_hash) AS networks,
       coalesce(max(n) FILTER (WHERE net_hash IS NOT NULL), 0) AS top_network_votes,
       coalesce(sum(n) FILTER (WHERE net_hash IS NOT NULL
                                 AND r <= greatest(1, ceil(k * 0.01))), 0) AS top_votes,
       coalesce(sum(n) FILTER (WHERE net_hash IS NOT NULL), 0) AS with_network
  FROM ranked GROUP BY entry ORDER BY votes DESC, entry"""

ENTRY_TOKENS_SQL = f"""WITH {COUNTED}
SELECT entry, count(DISTINCT token_hash) AS tokens FROM counted GROUP BY entry"""

VOIDS_SQL = """SELECT v.id, v.rule, v.reason, v.actor, v.at,
       (SELECT count(*) FROM voided_votes x WHERE x.void_id = v.id) AS votes
  FROM voids v WHERE v.contest_id = $1 ORDER BY v.at, v.id"""

VOID_SQL = """SELECT outcome, voided, batch, countries, entries, votes
  FROM void_votes($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"""


@dataclass(frozen=True)
class ReportRows:
    """The report's rows as read from one snapshot (shaped by `report.py`)."""

    totals: Any
    channels: list[Any]
    top_share: Any
    networks: list[Any]
    network_entries: list[Any]
    bursts: list[Any]
    entries: list[Any]
    entry_tokens: list[Any]
    voids: list[Any]


@dataclass(frozen=True)
class VoidCriteria:
    """A void rule resolved to what the ledger stores (None: no such criterion)."""

    networks: list[bytes] | None
    tokens: list[bytes] | None
    voters: list[bytes] | None
    received_from: datetime | None
    received_until: datetime | None


@dataclass(frozen=True)
class VoidResult:
    outcome: str  # "voided", "frozen", "sealed", "not_found"
    voided: int
    batch: int
    cells: list[tuple[str, str, int]]  # (voting country, entry, negative votes)
    at: datetime | None = None


class IntegrityStore:
    def __init__(self, pool: asyncpg.Pool, timeout_s: float) -> None:
        self._pool = pool
        self._timeout_s = timeout_s

    async def report_rows(self, contest: str, top: int, burst_window_s: int,
                          burst_threshold: int) -> ReportRows:
        window = timedelta(seconds=burst_window_s)
        t = REPORT_TIMEOUT_S
        async with self._pool.acquire(timeout=self._timeout_s) as conn, \
                conn.transaction(isolation="repeatable_read", readonly=True):
            networks = await conn.fetch(NETWORKS_SQL, contest, top, timeout=t)
            return ReportRows(
                totals=await conn.fetchrow(TOTALS_SQL, contest, timeout=t),
                channels=await conn.fetch(CHANNELS_SQL, contest, timeout=t),
                top_share=await conn.fetchrow(TOP_SHARE_SQL, contest, timeout=t),
                networks=networks,
                network_entries=await conn.fetch(
                    NETWORK_ENTRIES_SQL, contest, [r["net_hash"] for r in networks],
                    timeout=t),
                bursts=await conn.fetch(BURSTS_SQL, contest, window, top, burst_threshold,
                                        timeout=t),
                entries=await conn.fetch(ENTRIES_SQL, contest, timeout=t),
                entry_tokens=await conn.fetch(ENTRY_TOKENS_SQL, contest, timeout=t),
                voids=await conn.fetch(VOIDS_SQL, contest, timeout=t),
            )

    async def voids(self, contest: str) -> list[Any]:
        async with self._pool.acquire(timeout=self._timeout_s) as conn:
            return list(await conn.fetch(VOIDS_SQL, contest))

    async def void(self, contest: str, void_id: str, rule: dict[str, Any], reason: str,
                   actor: str, criteria: VoidCriteria) -> VoidResult:
        """Void what `criteria` match and record who did it in the audit chain, in one
        transaction (the SQL function refuses once the result is frozen)."""
        async with self._pool.acquire(timeout=self._timeout_s) as conn, conn.transaction():
            try:
                row: Any = await conn.fetchrow(
                    VOID_SQL, contest, void_id, rule, reason, actor, criteria.networks,
                    criteria.tokens, criteria.voters, criteria.received_from,
                    criteria.received_until, timeout=REPORT_TIMEOUT_S)
            except asyncpg.ObjectNotInPrerequisiteStateError:  # migrations/0011's trigger
                return VoidResult("sealed", 0, 0, [])
            if row["outcome"] != "voided":
                return VoidResult(row["outcome"], 0, 0, [])
            cells = list(zip(row["countries"] or [], row["entries"] or [],
                             row["votes"] or [], strict=True))
            at = await conn.fetchval("SELECT at FROM voids WHERE id = $1", void_id)
            await record_event(conn, contest, actor, "votes_voided", {
                "void": void_id, "rule": rule, "reason": reason, "votes": row["voided"],
                "batch": row["batch"]})
        return VoidResult("voided", row["voided"], row["batch"], cells, at)
