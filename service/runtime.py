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

from service.audit.chain import AuditLog, use_chain_key
from service.contests.cache import ContestCache
from service.contests.entry_changes import EntryChanges
from service.contests.events import ContestEvents
from service.contests.read_tokens import ReadTokens
from service.contests.repository import ContestStore
from service.contests.schedule import Announce, WindowScheduler
from service.contests.schedule_store import ScheduleStore
from service.core.config import Settings
from service.intake.aggregators import AggregatorKeys
from service.intake.committer import GroupCommitter
from service.intake.ledger import VoteLedger
from service.intake.reconcile import LEADER_KEY, Reconciler, TallyCheck
from service.intake.tallies import LiveTallies
from service.integrity.repository import IntegrityStore
from service.jury.repository import JuryStore
from service.live.hub import LeaderboardHub
from service.ops.health import HealthCheck
from service.rehearsal.jobs import RehearsalJobs
from service.results.compute import ResultsReader
from service.results.repository import ResultsStore
from service.seal.keys import SealKeys
from service.seal.repository import SealStore
from service.seal.sealer import Sealer
from service.seasons.store import SeasonStore
from service.security.connection_limit import ConnectionLimit
from service.security.ratelimit import RateLimiter
from service.security.tokens import TokenSigner
from service.security.ws_tickets import WsTickets
from service.stores.lease import RedisLease
from service.stores.postgres import create_pool
from service.stores.redis import create_redis
from service.stores.redis_keys import SCHEDULER_LEADER_KEY

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
    ws_tickets: WsTickets
    ws_connections: ConnectionLimit
    seal_keys: SealKeys
    seals: SealStore
    sealer: Sealer
    read_tokens: ReadTokens
    integrity: IntegrityStore
    entry_changes: EntryChanges
    seasons: SeasonStore
    schedule: ScheduleStore
    scheduler: WindowScheduler
    rehearsals: RehearsalJobs
    started: list[Component] = field(default_factory=list)

    def components(self) -> list[Component]:
        """In start order (stopped in reverse)."""
        return [self.committer, self.hub, self.reconciler, self.sealer, self.scheduler]


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
    use_chain_key(settings.audit_chain_key)
    pool = await create_pool(settings.database_url, max_size=POOL_SIZE,
                             timeout_s=settings.db_timeout_s)
    redis = create_redis(settings.redis_url)
    contest_store = ContestStore(pool)
    contests = ContestCache(contest_store, timeout_s=settings.db_timeout_s)
    ledger = VoteLedger(pool, settings.db_timeout_s)
    tallies = LiveTallies(redis)
    tally_check = TallyCheck(ledger, tallies)
    jury = JuryStore(pool)
    seals = SealStore(pool)
    results = ResultsReader(ledger, tallies, jury, ResultsStore(pool), seals)
    seal_keys = SealKeys(settings.seal_secret)
    events = ContestEvents(redis, contests)
    sealer = Sealer(settings.database_url, seal_keys)
    schedule = ScheduleStore(pool)
    return Runtime(
        settings=settings, pool=pool, redis=redis,
        signer=TokenSigner(settings.signing_secret), limiter=RateLimiter(redis),
        health=HealthCheck(pool, redis),
        contest_store=contest_store, contests=contests,
        events=events,
        ledger=ledger, tallies=tallies, tally_check=tally_check,
        aggregators=AggregatorKeys(pool), jury=jury, audit=AuditLog(pool), results=results,
        committer=GroupCommitter(pool, tallies, window_ms=settings.commit_window_ms,
                                 max_batch=settings.commit_max_batch,
                                 timeout_s=settings.db_timeout_s),
        hub=LeaderboardHub(results, contests, settings.redis_url, settings.leaderboard_hz),
        reconciler=Reconciler(tally_check, contest_store, contests,
                              RedisLease(redis, LEADER_KEY), settings.reconcile_interval_s),
        ws_tickets=WsTickets(redis),
        ws_connections=ConnectionLimit(settings.ws_connections_per_client),
        seal_keys=seal_keys, seals=seals, sealer=sealer,
        read_tokens=ReadTokens(pool), integrity=IntegrityStore(pool, settings.db_timeout_s),
        entry_changes=EntryChanges(pool), seasons=SeasonStore(pool),
        schedule=schedule,
        scheduler=WindowScheduler(schedule, RedisLease(redis, SCHEDULER_LEADER_KEY),
                                  window_announcer(events, contests, sealer)),
        rehearsals=RehearsalJobs(redis),
    )


def window_announcer(events: ContestEvents, contests: ContestCache, sealer: Sealer) -> Announce:
    """What follows a scheduled flip, as after the window route: every process hears
    of it, and a close with the jury locked seals."""

    async def announce(contest_id: str, state: str) -> None:
        await events.publish(contest_id, "window", state)
        if state == "closed":
            sealer.seal_when_ready(await contests.fresh(contest_id),
                                   lambda c: events.publish(c, "seal"))

    return announce


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
