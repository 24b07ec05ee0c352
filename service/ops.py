"""Operational endpoints: health for load balancers, metrics for Prometheus."""

from __future__ import annotations

import asyncio

import msgspec
from litestar import MediaType, Response, get

from service.metrics import render
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


@get("/healthz", tags=["operations"], summary="200 when PostgreSQL and Redis answer, else 503")
async def healthz(rt: Runtime) -> Response[Health]:
    postgres, redis = await asyncio.gather(
        _check(rt.pool.fetchval("SELECT 1")), _check(rt.redis.ping())
    )
    healthy = postgres == "ok" and redis == "ok"
    body = Health("ok" if healthy else "degraded", postgres, redis)
    return Response(body, status_code=200 if healthy else 503)


@get("/metrics", tags=["operations"], summary="Prometheus metrics", media_type=MediaType.TEXT)
async def metrics() -> Response[bytes]:
    body, content_type = render()
    return Response(body, media_type=content_type)
