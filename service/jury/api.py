"""Jury endpoints: code → session, ballot read/write, the deadline lock, juror admin."""

from __future__ import annotations

import secrets
import time
from typing import Any

from litestar import Controller, Request, get, post, put
from litestar.di import Provide
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED

from service.apidocs.routes import documented
from service.contests.models import JurorIn, JurorOut
from service.contests.rules import check_voting_country
from service.core.errors import ApiError, not_found, unauthorized
from service.jury.desk import JuryProgress, jury_progress, qr_svg, sign_in_url
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
from service.security.credentials import hash_secret, new_juror_code
from service.security.guards import admin_only, contest_claims
from service.security.tokens import JurorClaims

JUROR_SESSION_S = 3 * 24 * 3600  # a dress rehearsal and a final, with margin


@documented("openJurySession", {401: ["unauthorized"], 409: ["code_used"],
                                 429: ["rate_limited"]})
@post("/api/v1/jury/session", status_code=HTTP_201_CREATED, tags=["jury"],
      summary="Exchange a juror's one-time access code for a session token")
async def open_session(request: Request[Any, Any, Any], rt: Runtime, data: SessionIn
                       ) -> SessionOut:
    client = request.client.host if request.client else "unknown"
    rt.limiter.enforce("jury-login", client, rt.settings.rate_limit_jury_login_per_min,
                       window_s=60)
    nonce = secrets.token_hex(8)
    juror = await rt.jury.redeem_code(hash_secret(data.code.strip().upper()), nonce)
    claims = JurorClaims(contest=juror.contest, juror=juror.id, country=juror.country,
                         nonce=nonce, exp=int(time.time()) + JUROR_SESSION_S)
    return SessionOut(rt.signer.sign(claims), juror.id, juror.country, juror.contest)


async def juror_claims(request: Request[Any, Any, Any], rt: Runtime, cid: str) -> JurorClaims:
    """A current juror session for this contest (a reissued code ends older sessions)."""
    claims = contest_claims(request, rt.signer, JurorClaims, cid, "juror session")
    if not await rt.jury.session_is_current(claims.juror, claims.nonce):
        raise unauthorized("this session was replaced; sign in with the new code")
    return claims


class JuryController(Controller):
    path = "/api/v1/contests/{cid:str}"
    tags = ["jury"]

    @documented("putBallot", {404: ["not_found"], 409: ["ballot_locked"], 422: [
        "unknown_entry", "own_country", "duplicate_entry", "incomplete_ranking"]})
    @put("/ballot", status_code=HTTP_200_OK, dependencies={"juror": Provide(juror_claims)},
         summary="Submit or replace the juror's own ballot (until the jury lock)")
    async def put_ballot(self, rt: Runtime, cid: str, data: BallotIn, juror: JurorClaims
                         ) -> BallotOut:
        contest = await rt.contests.get(cid)
        check_ranking(contest, juror.country, data.ranking)
        digest = ballot_hash(cid, juror.juror, data.ranking)
        at = await rt.jury.save_ballot(cid, juror.juror, data.ranking, digest)
        return BallotOut(data.ranking, at, digest)

    @documented("getBallot", {404: ["not_found"]})
    @get("/ballot", dependencies={"juror": Provide(juror_claims)},
         summary="The juror's own latest ballot")
    async def get_ballot(self, rt: Runtime, cid: str, juror: JurorClaims) -> BallotOut:
        row = await rt.jury.latest_ballot(cid, juror.juror)
        if row is None:
            raise not_found("ballot")
        return BallotOut(list(row["ranking"]), row["submitted_at"], row["ballot_hash"])

    @documented("lockJury", {404: ["not_found"]})
    @post("/jury/lock", status_code=HTTP_200_OK, guards=[admin_only],
          summary="The jury deadline: no ballot changes after it (admin)")
    async def lock(self, rt: Runtime, cid: str) -> LockOut:
        locked_at = await rt.jury.lock(cid)
        if locked_at is None:
            raise not_found(f"contest {cid!r}")
        await rt.events.publish(cid, "jury_lock")
        rt.sealer.seal_when_ready(await rt.contests.fresh(cid),  # if the window is closed
                                  lambda c: rt.events.publish(c, "seal"))
        return LockOut(locked_at)

    @documented("createJuror", {404: ["not_found"], 422: ["unknown_country", "no_jury"]})
    @post("/jurors", status_code=HTTP_201_CREATED, guards=[admin_only],
          summary="Create a juror and their one-time access code, shown once (admin)")
    async def create_juror(self, request: Request[Any, Any, Any], rt: Runtime, cid: str,
                           data: JurorIn) -> JurorOut:
        contest = await rt.contests.get(cid)
        check_voting_country(contest, data.country)
        if data.country == REST_OF_WORLD:
            raise ApiError(422, "no_jury", "Rest of World votes by audience only")
        code = new_juror_code()
        juror_id = await rt.jury.add_juror(cid, data.country, data.name, hash_secret(code))
        url = sign_in_url(str(request.base_url), code)
        return JurorOut(juror_id=juror_id, code=code, sign_in_url=url, qr_svg=qr_svg(url))

    @documented("listJurors", {404: ["not_found"]})
    @get("/jurors", guards=[admin_only], summary="Jurors with code and ballot status (admin)")
    async def jurors(self, rt: Runtime, cid: str) -> list[JurorStatus]:
        await rt.contests.get(cid)
        return [JurorStatus(r["id"], r["country"], r["name"], r["code_used"], r["ballot_at"])
                for r in await rt.jury.statuses(cid)]

    @documented("reissueJurorCode", {404: ["not_found"]})
    @post("/jurors/{juror_id:str}/code", status_code=HTTP_201_CREATED, guards=[admin_only],
          summary="Reissue a juror's access code; the old code and session stop working (admin)")
    async def reissue(self, request: Request[Any, Any, Any], rt: Runtime, cid: str,
                      juror_id: str) -> CodeOut:
        code = new_juror_code()
        if not await rt.jury.reissue_code(cid, juror_id, hash_secret(code)):
            raise not_found(f"juror {juror_id!r}")
        url = sign_in_url(str(request.base_url), code)
        return CodeOut(juror_id, code, url, qr_svg(url))

    @documented("getJuryProgress", {404: ["not_found"]})
    @get("/jury/progress", guards=[admin_only],
         summary="Ballots per jury country, and which juries will get a substitute (admin)")
    async def progress(self, rt: Runtime, cid: str) -> JuryProgress:
        contest = await rt.contests.get(cid)
        return jury_progress(contest, await rt.jury.statuses(cid))
