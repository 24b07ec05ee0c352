"""What one service process holds: the stores, the feature stores bound to them, and
the long-lived components, each under a typed name.

`open_runtime` builds it (the app's lifespan, and the CLI for its maintenance commands);
route handlers receive it through Litestar's dependency injection as `rt: Runtime`, and
guards through `runtime_of`. There is no lookup by string: a handler that needs the
committer writes `rt.committer`, and mypy checks it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import asyncpg
from litestar import Litestar
from litestar.datastructures import State

from service.audit.chain import AuditLog
from service.contests.cache import ContestCache
from service.contests.events import ContestEvents
from service.contests.repository import ContestStore
from service.core.config import Settings
from service.intake.aggregators import AggregatorKeys
from service.intake.committer import GroupCommitter
from service.intake.ledger import VoteLedger
from service.intake.reconcile import LEADER_KEY, Reconciler, TallyCheck
from service.intake.tallies import LiveTallies
from service.jury.repository import JuryStore
from service.live.hub import LeaderboardHub
from service.ops.health import HealthCheck
from service.results.compute import ResultsReader
from service.results.repository import ResultsStore
from service.security.ratelimit import RateLimiter
from service.security.tokens import TokenSigner
from service.stores.lease import RedisLease
from service.stores.postgres import create_pool
from service.stores.redis import create_redis

POOL_SIZE = 16


class Component(Protocol):
    """A long-lived part of a feature, started after the stores and stopped before them."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass(eq=False)
class Runtime:
    settings: Settings
    pool: asyncpg.Pool
    redis: Any
    signer: TokenSigner
    limiter: RateLimiter
    health: HealthCheck
    contest_store: ContestStore
    contests: ContestCache
    events: ContestEvents
    ledger: VoteLedger
    tallies: LiveTallies
    tally_check: TallyCheck
    aggregators: AggregatorKeys
    jury: JuryStore
    audit: AuditLog
    results: ResultsReader
    committer: GroupCommitter
    hub: LeaderboardHub
    reconciler: Reconciler
    started: list[Component] = field(default_factory=list)

    def components(self) -> list[Component]:
        """In start order (stopped in reverse)."""
        return [self.committer, self.hub, self.reconciler]


async def open_runtime(settings: Settings) -> Runtime:
    """Connect to both stores and build every part; the caller owns `close_runtime`.

    Components are built but not started: the app's lifespan starts them, while the
    CLI's maintenance commands use the stores alone.
    """
    if not settings.database_url or not settings.redis_url:
        raise RuntimeError(
            "DATABASE_URL and REDIS_URL must be set for the app; `silkvote serve` and "
            "`silkvote up` start embedded servers and set them for you"
        )
    pool = await create_pool(settings.database_url, max_size=POOL_SIZE,
                             timeout_s=settings.db_timeout_s)
    redis = create_redis(settings.redis_url)
    contest_store = ContestStore(pool)
    contests = ContestCache(contest_store, timeout_s=settings.db_timeout_s)
    ledger = VoteLedger(pool, settings.db_timeout_s)
    tallies = LiveTallies(redis)
    tally_check = TallyCheck(ledger, tallies)
    jury = JuryStore(pool)
    results = ResultsReader(ledger, tallies, jury, ResultsStore(pool))
    return Runtime(
        settings=settings, pool=pool, redis=redis,
        signer=TokenSigner(settings.signing_secret), limiter=RateLimiter(redis),
        health=HealthCheck(pool, redis),
        contest_store=contest_store, contests=contests,
        events=ContestEvents(redis, contests),
        ledger=ledger, tallies=tallies, tally_check=tally_check,
        aggregators=AggregatorKeys(pool), jury=jury, audit=AuditLog(pool), results=results,
        committer=GroupCommitter(pool, tallies, window_ms=settings.commit_window_ms,
                                 max_batch=settings.commit_max_batch,
                                 timeout_s=settings.db_timeout_s),
        hub=LeaderboardHub(results, contests, settings.redis_url, settings.leaderboard_hz),
        reconciler=Reconciler(tally_check, contest_store, contests,
                              RedisLease(redis, LEADER_KEY), settings.reconcile_interval_s),
    )


async def start_components(rt: Runtime) -> None:
    for component in rt.components():
        await component.start()
        rt.started.append(component)


async def close_runtime(rt: Runtime) -> None:
    """Stop what was started (in reverse), then close both stores."""
    while rt.started:
        await rt.started.pop().stop()
    await rt.redis.aclose()
    await rt.pool.close()


def runtime_of(app: Litestar) -> Runtime:
    """The process's runtime, for code Litestar gives no dependencies (guards)."""
    runtime: Runtime = app.state.runtime
    return runtime


def provide_runtime(state: State) -> Runtime:
    runtime: Runtime = state.runtime
    return runtime
