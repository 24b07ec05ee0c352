"""Operational endpoints: probes for orchestrators and load balancers, metrics for
Prometheus.

Three probes, because each asks a different question and a wrong answer costs
differently: `/livez` (restart me?) must not fail when a store is down, since restarting
every pod does not bring a database back; `/readyz` (send me traffic?) fails as soon as the
ledger or a migration is missing, and only says `degraded` without Redis, which votes do
not need; `/healthz` (both stores answer) stays as it always was, for the load balancers
and the benchmark that already use it.
"""

from __future__ import annotations

import asyncio

from litestar import MediaType, Response, get
from litestar.openapi import ResponseSpec

from service.apidocs.routes import documented
from service.core.metrics import render
from service.ops.health import Health, Liveness, Readiness
from service.runtime import Runtime


@documented("getHealth")
@get("/healthz", tags=["operations"], summary="200 when PostgreSQL and Redis answer, else 503",
     responses={503: ResponseSpec(Health, description="A store did not answer: its field "
                                  "names the kind of error")})
async def healthz(rt: Runtime) -> Response[Health]:
    body = await asyncio.shield(rt.health.shared())
    return Response(body, status_code=200 if body.status == "ok" else 503)


@documented("getLiveness")
@get("/livez", tags=["operations"], sync_to_thread=False,
     summary="200 while the process's event loop answers; asks nothing of the stores")
def livez() -> Liveness:
    return Liveness()


@documented("getReadiness")
@get("/readyz", tags=["operations"],
     summary="200 when PostgreSQL answers and every migration is applied (Redis down: "
             "200, status degraded), else 503",
     responses={503: ResponseSpec(Readiness, description="PostgreSQL or the migrations "
                                  "failed: `failed` names it, `pending` lists unapplied "
                                  "migration files")})
async def readyz(rt: Runtime) -> Response[Readiness]:
    body = await rt.health.readiness(rt.settings.migrations_dir)
    return Response(body, status_code=503 if body.status == "not_ready" else 200)


@documented("getMetrics")
@get("/metrics", tags=["operations"], summary="Prometheus metrics", media_type=MediaType.TEXT)
async def metrics() -> Response[bytes]:
    body, content_type = render()
    return Response(body, media_type=content_type)
