"""The Litestar application: routes, error handling, OpenAPI, and process lifespan.

`create_app()` is the ASGI factory uvicorn loads in every worker process. Long-lived
parts of features (the intake batcher, the leaderboard hub, the reconciler) are
`Component`s started and stopped with the process, in the order listed.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, RedocRenderPlugin, SwaggerRenderPlugin
from litestar.types import ControllerRouterHandler

from service.contests.api import ContestController
from service.core.config import Settings, load_settings
from service.core.errors import EXCEPTION_HANDLERS
from service.core.logs import configure_logging, request_observer
from service.intake.api import VoteController, committer_factory
from service.intake.reconcile import Reconciler
from service.jury.api import JuryController, open_session
from service.live.ws import hub_factory, leaderboard_socket
from service.ops.health import healthz, metrics
from service.results.api import ResultsController
from service.runtime import ContestCache, Runtime, provide_runtime
from service.security.ratelimit import RateLimiter
from service.security.tokens import TokenSigner
from service.stores.postgres import create_pool
from service.stores.redis import create_redis
from service.web.pages import page_handlers

log = logging.getLogger("silkvote.app")


class Component(Protocol):
    """A long-lived part of a feature, started after the stores and stopped before them."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


ComponentFactory = Callable[[Runtime], Component]


def route_handlers() -> list[ControllerRouterHandler]:
    """Every route of the service; feature modules add theirs here."""
    return [
        ContestController, VoteController, JuryController, open_session, ResultsController,
        leaderboard_socket, healthz, metrics, *page_handlers(),
    ]


def component_factories() -> Sequence[ComponentFactory]:
    """Feature components in start order (stopped in reverse)."""
    return [committer_factory, hub_factory, Reconciler]


async def open_runtime(settings: Settings) -> Runtime:
    """Connect to both stores; the caller owns closing them (`close_runtime`)."""
    if not settings.database_url or not settings.redis_url:
        raise RuntimeError(
            "DATABASE_URL and REDIS_URL must be set for the app; `silkvote serve` and "
            "`silkvote up` start embedded servers and set them for you"
        )
    pool = await create_pool(settings.database_url, max_size=16, timeout_s=settings.db_timeout_s)
    redis = create_redis(settings.redis_url)
    return Runtime(
        settings=settings,
        pool=pool,
        redis=redis,
        signer=TokenSigner(settings.signing_secret),
        contests=ContestCache(pool),
        limiter=RateLimiter(redis),
    )


async def close_runtime(rt: Runtime) -> None:
    await rt.redis.aclose()
    await rt.pool.close()


def _lifespan(settings: Settings) -> Callable[[Litestar], Any]:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        rt = await open_runtime(settings)
        app.state.runtime = rt
        started: list[Component] = []
        try:
            for factory in component_factories():
                component = factory(rt)
                await component.start()
                started.append(component)
            log.info("service ready", extra={"pid_port": settings.port})
            yield
        finally:
            for component in reversed(started):
                await component.stop()
            await close_runtime(rt)

    return lifespan


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the ASGI app (uvicorn calls this with no arguments in each worker)."""
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    return Litestar(
        route_handlers=route_handlers(),
        dependencies={"rt": Provide(provide_runtime, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=[_lifespan(settings)],
        middleware=[request_observer],
        request_max_body_size=settings.max_body_bytes,
        cors_config=CORSConfig(allow_origins=settings.cors_origins,
                               allow_headers=["Authorization", "Content-Type"]),
        openapi_config=OpenAPIConfig(
            title="SilkVote API",
            version="1.0.0",
            description="Audience votes, jury ballots and live results for song contests.",
            path="/schema",
            render_plugins=[
                JsonRenderPlugin(path=["/", "/openapi.json"]),
                SwaggerRenderPlugin(path="/swagger"),
                RedocRenderPlugin(path="/redoc"),
            ],
        ),
    )
