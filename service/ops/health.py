"""Whether both stores answer, checked once for any number of concurrent probes.

Without sharing, a burst of probes (several load balancers, a monitoring storm) would
take every pooled connection away from the votes and then report 503 for waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import asyncpg
import msgspec

from service.stores import postgres

CHECK_TIMEOUT_S = 2.0


class Health(msgspec.Struct):
    status: str
    postgres: str
    redis: str


async def _check(call: Awaitable[Any]) -> str:
    try:
        await asyncio.wait_for(call, timeout=CHECK_TIMEOUT_S)
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"


class HealthCheck:
    def __init__(self, pool: asyncpg.Pool, redis: Any) -> None:
        self._pool = pool
        self._redis = redis
        self._in_flight: asyncio.Future[Health] | None = None

    async def _run(self) -> Health:
        pg, redis = await asyncio.gather(_check(postgres.ping(self._pool)),
                                         _check(self._redis.ping()))
        return Health("ok" if pg == redis == "ok" else "degraded", pg, redis)

    def shared(self) -> asyncio.Future[Health]:
        """The check in flight, or a new one: concurrent probes share one check."""
        if self._in_flight is None:
            self._in_flight = asyncio.ensure_future(self._run())
            self._in_flight.add_done_callback(self._done)
        return self._in_flight

    def _done(self, _: asyncio.Future[Health]) -> None:
        self._in_flight = None
