"""Operational endpoints: health for load balancers, metrics for Prometheus."""

from __future__ import annotations

import asyncio

import msgspec
from litestar import MediaType, Response, get

from service.core.metrics import render
from service.runtime import Runtime


class Health(msgspec.Struct):
    status: str
    postgres: str
    redis: str


async def _check(coro: object) -> str:
    try:
        await asyncio.wait_for(coro, timeout=2.0)  # type: ignore[arg-type]
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"


async def check_stores(rt: Runtime) -> Health:
    postgres, redis = await asyncio.gather(
        _check(rt.pool.fetchval("SELECT 1")), _check(rt.redis.ping())
    )
    return Health("ok" if postgres == redis == "ok" else "degraded", postgres, redis)


def shared_health_check(rt: Runtime) -> asyncio.Future[Health]:
    """The store check in flight, or a new one: concurrent probes share one check.

    Without this a burst of probes (several load balancers, a monitoring storm) would
    take every pooled connection away from the votes and then report 503 for waiting.
    """
    pending: asyncio.Future[Health] | None = rt.extras.get(_HEALTH_IN_FLIGHT)
    if pending is None:
        pending = asyncio.ensure_future(check_stores(rt))
        rt.extras[_HEALTH_IN_FLIGHT] = pending
        pending.add_done_callback(lambda _: rt.extras.pop(_HEALTH_IN_FLIGHT, None))
    return pending


_HEALTH_IN_FLIGHT = "ops.health-in-flight"


@get("/healthz", tags=["operations"], summary="200 when PostgreSQL and Redis answer, else 503")
async def healthz(rt: Runtime) -> Response[Health]:
    body = await asyncio.shield(shared_health_check(rt))
    return Response(body, status_code=200 if body.status == "ok" else 503)


@get("/metrics", tags=["operations"], summary="Prometheus metrics", media_type=MediaType.TEXT)
async def metrics() -> Response[bytes]:
    body, content_type = render()
    return Response(body, media_type=content_type)
