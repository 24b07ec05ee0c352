"""The Litestar application: routes, dependencies, error handling, OpenAPI, lifespan.

`create_served_app()` is the ASGI factory uvicorn loads in every worker process: the
app of `create_app()` behind the vote lane. The lifespan
builds the process's `Runtime` (stores, feature stores, components), starts its
components and hands it to every route as the typed dependency `rt`.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.types import ASGIApp, ControllerRouterHandler

from service.apidocs.openapi import openapi_config
from service.audit.api import AuditController
from service.contests.api import ContestController
from service.contests.entries_api import EntryController
from service.core.config import Settings, load_settings
from service.core.errors import EXCEPTION_HANDLERS
from service.core.logs import configure_logging, observe_requests
from service.graphics.api import graphics_handlers
from service.intake.api import VoteController
from service.intake.lane import VoteLane
from service.integrity.api import IntegrityController
from service.jury.api import JuryController, open_session
from service.live.tickets import issue_ws_ticket
from service.live.ws import leaderboard_socket
from service.ops.endpoints import healthz, livez, metrics, readyz
from service.rehearsal.routes import RehearsalController
from service.results.api import ResultsController
from service.runtime import (
    close_runtime,
    open_runtime,
    provide_runtime,
    runtime_of,
    start_components,
)
from service.seal.api import SealController
from service.seasons.api import SeasonController
from service.security.client_address import client_address_middleware, client_rule
from service.security.request_shape import request_shape_check
from service.sms.api import sms_vote
from service.web.pages import page_handlers

log = logging.getLogger("silkvote.app")


def route_handlers() -> list[ControllerRouterHandler]:
    """Every route of the service; feature modules add theirs here."""
    return [
        ContestController, EntryController, SeasonController, VoteController, sms_vote,
        JuryController, open_session, ResultsController, IntegrityController, SealController,
        AuditController, RehearsalController, issue_ws_ticket, leaderboard_socket, healthz,
        livez, readyz, metrics,
        *graphics_handlers(), *page_handlers(),
    ]


def _lifespan(settings: Settings) -> Callable[[Litestar], Any]:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        rt = await open_runtime(settings)
        app.state.runtime = rt
        try:
            await start_components(rt)
            log.info("service ready")
            yield
        finally:
            await close_runtime(rt)

    return lifespan


def create_app(settings: Settings | None = None) -> Litestar:
    """Build the ASGI app (uvicorn calls this with no arguments in each worker)."""
    settings = settings or load_settings()
    configure_logging(settings.log_level, settings.log_format)
    cors = CORSConfig(allow_origins=settings.cors_origins,
                      allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
                      expose_headers=["X-Request-ID"])
    app = Litestar(
        route_handlers=route_handlers(),
        dependencies={"rt": Provide(provide_runtime, sync_to_thread=False)},
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=[_lifespan(settings)],
        logging_config=None,  # logging is ours (service/core/logs.py); Litestar's own
        # default config would replace the root handler with a plain-text one
        request_max_body_size=settings.max_body_bytes,
        cors_config=cors,
        openapi_config=openapi_config(),
    )
    app.asgi_handler = request_shape_check(app.asgi_handler)  # before routing
    observe_requests(app)  # outside the router: sees 404s and 405s too
    # outside those: the access line, every route and every limit see the same client
    app.asgi_handler = client_address_middleware(app.asgi_handler, settings.trusted_proxies)
    return app


def create_served_app() -> ASGIApp:
    """What uvicorn serves in each worker: `create_app()`, behind the vote lane unless
    `VOTE_LANE=false`. The lane sits outside the app's own entry point too (Litestar's
    `__call__`, a coroutine layer every vote paid for), and does the work of the three
    middlewares around the router for its votes (`service/intake/lane.py`)."""
    settings = load_settings()
    app = create_app(settings)
    if not settings.vote_lane:
        return app
    assert app.cors_config is not None  # create_app always sets one
    return VoteLane(app, lambda: runtime_of(app), settings.max_body_bytes, app.cors_config,
                    client_rule(settings.trusted_proxies))
