"""Jury endpoints: code → session, ballot read/write, the deadline lock, juror admin."""

from __future__ import annotations

import secrets
import time
from typing import Any

from litestar import Controller, Request, get, post, put
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from service.contests.api import check_voting_country, new_juror_code
from service.contests.events import publish_contest_event
from service.contests.models import JurorIn, JurorOut
from service.contests.repository import insert_juror
from service.core.errors import ApiError, not_found, unauthorized
from service.jury import repository
from service.jury.models import (
    BallotIn,
    BallotOut,
    CodeOut,
    JurorStatus,
    LockOut,
    SessionIn,
    SessionOut,
)
from service.jury.rules import ballot_hash, check_ranking
from service.results.sheet import REST_OF_WORLD
from service.runtime import Runtime
from service.security.auth import contest_claims, hash_secret, require_admin
from service.security.tokens import JurorClaims

JUROR_SESSION_S = 3 * 24 * 3600  # a dress rehearsal and a final, with margin


@post("/api/v1/jury/session", status_code=HTTP_201_CREATED, tags=["jury"],
      summary="Exchange a juror's one-time access code for a session token")
async def open_session(request: Request[Any, Any, Any], rt: Runtime, data: SessionIn
                       ) -> SessionOut:
    client = request.client.host if request.client else "unknown"
    await rt.limiter.enforce("jury-login", client,
                            rt.settings.rate_limit_jury_login_per_min, window_s=60)
    code = data.code.strip().upper()
    async with rt.pool.acquire() as conn:
        juror = await repository.juror_by_code(conn, hash_secret(code))
        if juror is None:
            raise unauthorized("unknown access code")
        nonce = secrets.token_hex(8)
        if not await repository.claim_code(conn, juror["id"], juror["contest_id"], nonce):
            raise ApiError(409, "code_used", "this code was already used on another device; "
                           "ask the producer to reissue it")
    claims = JurorClaims(contest=juror["contest_id"], juror=juror["id"], country=juror["country"],
                         nonce=nonce, exp=int(time.time()) + JUROR_SESSION_S)
    return SessionOut(rt.signer.sign(claims), juror["id"], juror["country"], juror["contest_id"])


async def juror_claims(request: Request[Any, Any, Any], rt: Runtime, contest_id: str
                       ) -> JurorClaims:
    """A current juror session for this contest (a reissued code ends older sessions)."""
    claims = contest_claims(request, rt.signer, JurorClaims, contest_id, "juror session")
    async with rt.pool.acquire() as conn:
        if not await repository.session_is_current(conn, claims.juror, claims.nonce):
            raise unauthorized("this session was replaced; sign in with the new code")
    return claims


class JuryController(Controller):
    path = "/api/v1/contests/{cid:str}"
    tags = ["jury"]

    @put("/ballot", status_code=HTTP_200_OK,
         summary="Submit or replace the juror's own ballot (until the jury lock)")
    async def put_ballot(self, request: Request[Any, Any, Any], rt: Runtime, cid: str,
                         data: BallotIn) -> BallotOut:
        claims = await juror_claims(request, rt, cid)
        contest = await rt.contests.get(cid)
        check_ranking(contest, claims.country, data.ranking)
        digest = ballot_hash(cid, claims.juror, data.ranking)
        async with rt.pool.acquire() as conn:
            at = await repository.save_ballot(conn, cid, claims.juror, data.ranking, digest)
        return BallotOut(data.ranking, at, digest)

    @get("/ballot", summary="The juror's own latest ballot")
    async def get_ballot(self, request: Request[Any, Any, Any], rt: Runtime, cid: str
                         ) -> BallotOut:
        claims = await juror_claims(request, rt, cid)
        async with rt.pool.acquire() as conn:
            row = await repository.latest_ballot(conn, cid, claims.juror)
        if row is None:
            raise not_found("ballot")
        return BallotOut(list(row["ranking"]), row["submitted_at"], row["ballot_hash"])

    @post("/jury/lock", status_code=HTTP_200_OK,
          summary="The jury deadline: no ballot changes after it (admin)")
    async def lock(self, request: Request[Any, Any, Any], rt: Runtime, cid: str) -> LockOut:
        require_admin(request, rt.settings.admin_token)
        async with rt.pool.acquire() as conn:
            locked_at = await repository.lock_jury(conn, cid)
        if locked_at is None:
            raise not_found(f"contest {cid!r}")
        await publish_contest_event(rt, cid, "jury_lock")
        return LockOut(locked_at)

    @post("/jurors", status_code=HTTP_201_CREATED,
          summary="Create a juror and their one-time access code, shown once (admin)")
    async def create_juror(self, request: Request[Any, Any, Any], rt: Runtime, cid: str,
                           data: JurorIn) -> JurorOut:
        contest = await rt.admin_contest(request, cid)
        check_voting_country(contest, data.country)
        if data.country == REST_OF_WORLD:
            raise ApiError(422, "no_jury", "Rest of World votes by audience only")
        code = new_juror_code()
        async with rt.pool.acquire() as conn:
            juror_id = await insert_juror(conn, cid, data.country, data.name, hash_secret(code))
        return JurorOut(juror_id=juror_id, code=code)

    @get("/jurors", summary="Jurors with code and ballot status (admin)")
    async def jurors(self, request: Request[Any, Any, Any], rt: Runtime, cid: str
                     ) -> list[JurorStatus]:
        await rt.admin_contest(request, cid)
        async with rt.pool.acquire() as conn:
            rows = await repository.juror_statuses(conn, cid)
        return [JurorStatus(r["id"], r["country"], r["name"], r["code_used"], r["ballot_at"])
                for r in rows]

    @post("/jurors/{juror_id:str}/code", status_code=HTTP_201_CREATED,
          summary="Reissue a juror's access code; the old code and session stop working (admin)")
    async def reissue(self, request: Request[Any, Any, Any], rt: Runtime, cid: str,
                      juror_id: str) -> CodeOut:
        require_admin(request, rt.settings.admin_token)
        code = new_juror_code()
        async with rt.pool.acquire() as conn:
            if not await repository.reissue_code(conn, cid, juror_id, hash_secret(code)):
                raise not_found(f"juror {juror_id!r}")
        return CodeOut(juror_id, code)
