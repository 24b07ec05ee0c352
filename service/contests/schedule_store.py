"""The scheduled window in PostgreSQL: set the schedule, find what is due, flip it.

Every flip is one guarded UPDATE in its own transaction: the WHERE clause repeats the
rule that makes the flip due, against `clock_timestamp()`, so two processes that flip
the same contest at once (a lease handover) change it once, and the loser's UPDATE
matches no row. A scheduled open happens once: if any window event is recorded at or
after `opens_at` (the scheduler's own open, or a producer's close by hand), the
scheduler leaves the window alone, so a manual close during the show is never undone.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg

from service.audit.chain import record_event

SCHEDULER_ACTOR = "scheduler"

_DUE = """
SELECT id, 'open' AS state FROM contests c
 WHERE window_state = 'closed' AND opens_at <= clock_timestamp()
   AND (closes_at IS NULL OR closes_at > clock_timestamp())
   AND NOT EXISTS (SELECT 1 FROM window_events w
                    WHERE w.contest_id = c.id AND w.at >= c.opens_at)
UNION ALL
SELECT id, 'closed' FROM contests
 WHERE window_state = 'open' AND closes_at <= clock_timestamp()
"""

_NEXT_DUE_IN_S = """
SELECT EXTRACT(EPOCH FROM min(t) - clock_timestamp())::float8 FROM (
    SELECT opens_at AS t FROM contests
     WHERE window_state = 'closed' AND opens_at > clock_timestamp()
    UNION ALL
    SELECT closes_at FROM contests
     WHERE closes_at > clock_timestamp()
) due
"""

_OPEN = """
UPDATE contests c SET window_state = 'open'
 WHERE id = $1 AND window_state = 'closed' AND opens_at <= clock_timestamp()
   AND (closes_at IS NULL OR closes_at > clock_timestamp())
   AND NOT EXISTS (SELECT 1 FROM window_events w
                    WHERE w.contest_id = c.id AND w.at >= c.opens_at)
RETURNING opens_at
"""

_CLOSE = """
UPDATE contests SET window_state = 'closed'
 WHERE id = $1 AND window_state = 'open' AND closes_at <= clock_timestamp()
RETURNING closes_at
"""


class ScheduleStore:
    """Schedules and their flips, each call on its own pooled connection."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def set_schedule(self, contest_id: str, opens_at: datetime | None,
                           closes_at: datetime | None, actor: str = "admin") -> bool:
        """Set (or, with None, clear) the schedule; False when the contest does not
        exist. Raises asyncpg.CheckViolationError when opens_at is not before closes_at."""
        async with self._pool.acquire() as conn, conn.transaction():
            updated = await conn.fetchval(
                "UPDATE contests SET opens_at = $2, closes_at = $3 WHERE id = $1 RETURNING id",
                contest_id, opens_at, closes_at)
            if updated is None:
                return False
            await record_event(conn, contest_id, actor, "window_schedule", {
                "opens_at": None if opens_at is None else opens_at.isoformat(),
                "closes_at": None if closes_at is None else closes_at.isoformat()})
        return True

    async def due(self) -> list[tuple[str, str]]:
        """(contest id, new window state) of every flip due now."""
        async with self._pool.acquire() as conn:
            return [(r["id"], r["state"]) for r in await conn.fetch(_DUE)]

    async def next_due_in_s(self) -> float | None:
        """Seconds until the next scheduled instant of any contest, None if none."""
        async with self._pool.acquire() as conn:
            value = await conn.fetchval(_NEXT_DUE_IN_S)
        return None if value is None else float(value)

    async def flip(self, contest_id: str, state: str) -> datetime | None:
        """Open or close as scheduled: the scheduled instant, or None when the flip is no
        longer due (another process made it, or the schedule changed). Raises
        asyncpg.ObjectNotInPrerequisiteStateError for a sealed contest (migrations/0011)."""
        async with self._pool.acquire() as conn, conn.transaction():
            scheduled = await conn.fetchval(_OPEN if state == "open" else _CLOSE, contest_id)
            if scheduled is None:
                return None
            lag_ms = await conn.fetchval(
                """INSERT INTO window_events (contest_id, state, at)
                   VALUES ($1, $2, clock_timestamp())
                   RETURNING EXTRACT(EPOCH FROM at - $3::timestamptz) * 1000""",
                contest_id, state, scheduled)
            await record_event(conn, contest_id, SCHEDULER_ACTOR, f"window_{state}",
                               {"scheduled_at": scheduled.isoformat(),
                                "lag_ms": round(float(lag_ms), 1)})
        return scheduled  # type: ignore[no-any-return]
