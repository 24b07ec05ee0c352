"""Operational endpoints: health for load balancers, metrics for Prometheus."""

from __future__ import annotations

import asyncio

from litestar import MediaType, Response, get

from service.core.metrics import render
from service.ops.health import Health
from service.runtime import Runtime


@get("/healthz", tags=["operations"], summary="200 when PostgreSQL and Redis answer, else 503")
async def healthz(rt: Runtime) -> Response[Health]:
    body = await asyncio.shield(rt.health.shared())
    return Response(body, status_code=200 if body.status == "ok" else 503)


@get("/metrics", tags=["operations"], summary="Prometheus metrics", media_type=MediaType.TEXT)
async def metrics() -> Response[bytes]:
    body, content_type = render()
    return Response(body, media_type=content_type)
