"""Contest administration endpoints (spec/api.md, "Contest set-up")."""

from __future__ import annotations

import secrets
import time
from typing import Any

from litestar import Controller, Request, get, post
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from scoring import SheetError, validate_rules
from service.contests import repository
from service.contests.events import publish_contest_event
from service.contests.models import (
    AggregatorKeyIn,
    AggregatorKeyOut,
    Contest,
    ContestIn,
    ContestSummary,
    CreatedId,
    VoterTokenIn,
    VoterTokenOut,
    WindowIn,
    WindowOut,
)
from service.core.errors import ApiError
from service.runtime import Runtime
from service.security.auth import hash_secret, new_secret, require_admin, voter_hash
from service.security.tokens import VoterClaims


def check_definition(definition: ContestIn) -> None:
    """Contest rules that JSON types cannot express; 422 with the offending field."""
    try:
        validate_rules(definition.rules)
    except SheetError as exc:
        raise ApiError(422, "invalid_rules", str(exc)) from None
    countries = [e.country for e in definition.entries]
    if len(set(countries)) != len(countries):
        raise ApiError(422, "duplicate_entry", "entries: each country may have one entry")
    orders = [e.running_order for e in definition.entries]
    if len(set(orders)) != len(orders):
        raise ApiError(422, "duplicate_running_order", "entries: running orders must differ")
    if len(set(definition.voting_countries)) != len(definition.voting_countries):
        raise ApiError(422, "duplicate_voting_country", "voting_countries: listed twice")
    if definition.jury_min_valid > definition.jury_size:
        raise ApiError(422, "invalid_jury_size", "jury_min_valid cannot exceed jury_size")


def check_voting_country(contest: Contest, country: str) -> None:
    if country not in contest.voting_countries:
        raise ApiError(
            422, "unknown_country", f"{country} is not a voting country of contest {contest.id}"
        )


class ContestController(Controller):
    path = "/api/v1/contests"
    tags = ["contests"]

    @post("/", status_code=HTTP_201_CREATED, summary="Create a contest (admin)")
    async def create(
        self, request: Request[Any, Any, Any], rt: Runtime, data: ContestIn
    ) -> CreatedId:
        require_admin(request, rt.settings.admin_token)
        check_definition(data)
        async with rt.pool.acquire() as conn:
            exists = data.id and await conn.fetchval("SELECT 1 FROM contests WHERE id=$1", data.id)
            if exists:
                raise ApiError(409, "contest_exists", f"contest {data.id!r} already exists")
            contest_id = await repository.insert_contest(
                conn, data, data.vote_cap or rt.settings.vote_cap
            )
        return CreatedId(contest_id)

    @get("/", summary="List contests")
    async def list_all(self, rt: Runtime) -> list[ContestSummary]:
        async with rt.pool.acquire() as conn:
            rows = await repository.list_contests(conn)
        return [ContestSummary(*row) for row in rows]

    @get("/{cid:str}", summary="A contest's definition and window state")
    async def read(self, rt: Runtime, cid: str) -> Contest:
        rt.contests.forget(cid)
        return await rt.contests.get(cid)

    @post("/{cid:str}/window", status_code=HTTP_200_OK, summary="Open or close voting (admin)")
    async def window(
        self, request: Request[Any, Any, Any], rt: Runtime, cid: str, data: WindowIn
    ) -> WindowOut:
        require_admin(request, rt.settings.admin_token)
        async with rt.pool.acquire() as conn:
            if not await repository.set_window(conn, cid, data.state):
                raise ApiError(404, "not_found", f"contest {cid!r} not found")
        rt.contests.forget(cid)
        await publish_contest_event(rt, cid, "window", data.state)
        return WindowOut(data.state)

    @post(
        "/{cid:str}/voter-tokens",
        status_code=HTTP_201_CREATED,
        summary="Issue a signed voter token (admin / app backend)",
    )
    async def voter_token(
        self, request: Request[Any, Any, Any], rt: Runtime, cid: str, data: VoterTokenIn
    ) -> VoterTokenOut:
        contest = await rt.admin_contest(request, cid)
        check_voting_country(contest, data.country)
        return issue_voter_token(rt, cid, data.voter, data.country)

    @post(
        "/{cid:str}/aggregator-keys",
        status_code=HTTP_201_CREATED,
        summary="Issue an API key for a telecom/app aggregator (admin)",
    )
    async def aggregator_key(
        self, request: Request[Any, Any, Any], rt: Runtime, cid: str, data: AggregatorKeyIn
    ) -> AggregatorKeyOut:
        await rt.admin_contest(request, cid)
        key = new_secret("agg")
        async with rt.pool.acquire() as conn:
            key_id = await repository.insert_aggregator_key(conn, cid, data.name, hash_secret(key))
        return AggregatorKeyOut(key=key, id=key_id)


def new_juror_code() -> str:
    """A code a juror can type on a tablet: 12 characters from an unambiguous alphabet."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(12))
    return f"{raw[:4]}-{raw[4:8]}-{raw[8:]}"


def issue_voter_token(rt: Runtime, contest_id: str, voter: str, country: str) -> VoterTokenOut:
    """Sign a token carrying only the keyed hash of the voter's upstream identity."""
    ttl = rt.settings.voter_token_ttl_s
    claims = VoterClaims(
        contest=contest_id,
        voter=voter_hash(rt.settings.voter_hash_key, voter).hex(),
        country=country,
        exp=int(time.time()) + ttl,
    )
    return VoterTokenOut(token=rt.signer.sign(claims), expires_in=ttl)
