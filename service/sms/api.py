"""`POST /api/v1/contests/{cid}/sms`: one mobile-originated SMS from the gateway.

Kannel's smsbox (an `sms-service` with `post-url`, docs/sms.md) POSTs the message as the
body, the sender in `X-Kannel-From` and its own message id in the `id` query parameter
(`%I`), and sends the response body back to the phone. So every outcome of the vote,
refused or not, is a `200 text/plain` reply in the sender's language: Kannel sends the
body of a 200 or 202 only, and treats any other status as a failed fetch that it
retries (`http-request-retry`) before it sends its own `reply-couldnotfetch` text.
Only what the operator must fix answers an error status: a missing or revoked gateway
key (401), another contest's key (403), an unknown contest (404), a request without
the sender or the id (400), and a ledger that cannot answer (503: nothing was
recorded, and Kannel's retry with the same id counts once).

The gateway's key is an aggregator key of the contest (`POST …/aggregator-keys`), sent
as HTTP Basic credentials (any user name, the key as password): Kannel's HTTP client
turns the `user:key@host` of its `post-url` into an `Authorization` header, so the key
never travels in a request line or an access log. `Authorization: Bearer <key>` works
too, for gateways that can set headers.
"""

from __future__ import annotations

import base64
import binascii
import time
from typing import Annotated, Any

from litestar import Request, Response, post
from litestar.di import Provide
from litestar.openapi import ResponseSpec
from litestar.params import HeaderParameter, QueryParameter

from service.apidocs.routes import documented
from service.contests.models import Contest
from service.core import metrics
from service.core.errors import forbidden, unauthorized
from service.intake.aggregators import Aggregator
from service.intake.api import REVOKED_KEY, record_batch
from service.intake.ledger import PendingVote, aggregator_dedupe_key
from service.intake.rules import entry_refusal
from service.runtime import Runtime
from service.security.credentials import hash_secret, voter_hasher
from service.security.text import NO_CONTROLS
from service.sms.choice import chosen_entry
from service.sms.numbers import Sender, sender_of
from service.sms.replies import reply_language, reply_text

SMS_CHANNEL = "sms"
SMS_SOURCE = "sms"  # the by-source metrics label
PLAIN = "text/plain"  # Litestar adds "; charset=utf-8" (a second one broke Kannel's iconv)
# Kannel sends a reply in the GSM 7-bit alphabet unless told otherwise (a Cyrillic,
# Armenian or Chinese text would arrive as question marks): a reply that is not ASCII
# asks for UCS-2 (`accept-x-kannel-headers = true` lets the sms-service honour it).
CODING_HEADER, GSM_7BIT, UCS2 = "X-Kannel-Coding", "0", "2"
GATEWAY_KEY_HELP = ("send the SMS gateway's key as HTTP Basic credentials (Kannel: "
                    "post-url = \"http://kannel:KEY@host/…\") or 'Authorization: Bearer KEY'")

MessageId = Annotated[str, QueryParameter(name="id", min_length=1, max_length=128,
                                          pattern=NO_CONTROLS,
                                          description="The gateway's id of the message "
                                          "(Kannel: `%I`); a re-sent id counts once")]
SenderNumber = Annotated[str, HeaderParameter(name="X-Kannel-From", min_length=1,
                                              max_length=64, pattern=NO_CONTROLS,
                                              description="The sender's number, international "
                                              "(Kannel sends it with `send-sender = true`)")]


def gateway_secret(request: Request[Any, Any, Any]) -> str | None:
    """The key of `Authorization: Basic base64(user:key)` or `Bearer key`."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if scheme.lower() == "basic":
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.partition(":")[2] or None
    return None


async def gateway_of(request: Request[Any, Any, Any], rt: Runtime, cid: str) -> Aggregator:
    """The SMS gateway (an aggregator key of this contest) the request comes from."""
    secret = gateway_secret(request)
    if secret is None:
        raise unauthorized(GATEWAY_KEY_HELP)
    found = await rt.aggregators.identify(hash_secret(secret))
    if found is None:
        raise unauthorized(REVOKED_KEY)
    if found.contest != cid:
        raise forbidden("this gateway key belongs to another contest")
    return found


def message_text(body: bytes, content_type: str) -> str:
    """The SMS text of the body, in the charset the gateway names (Kannel: UTF-8 for
    GSM text, UTF-16BE for a UCS-2 message)."""
    charset = "utf-8"
    for part in content_type.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        if name.lower() == "charset" and value.strip('" '):
            charset = value.strip('" ')
    try:
        return body.decode(charset, errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


def reply(outcome: str, sender: Sender | None, contest: Contest, entry: str = "",
          remaining: int = 0) -> Response[str]:
    metrics.votes(outcome).inc()
    metrics.votes_from(SMS_SOURCE, outcome).inc()
    lang = reply_language(sender.region if sender else "")
    entries = max((e.running_order for e in contest.entries), default=0)
    text = reply_text(outcome, lang, entry=entry, remaining=remaining, entries=entries)
    return Response(text, status_code=200, media_type=PLAIN,
                    headers={CODING_HEADER: GSM_7BIT if text.isascii() else UCS2})


def closed_now(contest: Contest) -> bool:
    """The window is known closed (the ledger decides; this only saves the round trip)."""
    return contest.window == "closed" or (
        contest.closes_ts is not None and time.time() > contest.closes_ts)


@documented("castSmsVote", {
    400: ["invalid_body", "body_too_large"], 404: ["not_found"]})
@post("/api/v1/contests/{cid:str}/sms", status_code=200, tags=["audience votes"],
      dependencies={"gateway": Provide(gateway_of)}, media_type=PLAIN,
      responses={200: ResponseSpec(str, media_type=PLAIN, description=(
          "The reply SMS, in the sender's language: the vote counted and the votes left, "
          "or why it was not (not understood, own country, cap, closed, …)"))},
      summary="One SMS from the gateway (Kannel post-url); the body answered is the reply")
async def sms_vote(request: Request[Any, Any, Any], rt: Runtime, cid: str, gateway: Aggregator,
                   message_id: MessageId, sender_number: SenderNumber) -> Response[str]:
    contest = await rt.contests.get(cid)
    text = message_text(await request.body(), request.headers.get("content-type", ""))
    sender = sender_of(sender_number, contest.voting_countries)
    if sender is None:
        return reply("unknown_sender", None, contest)
    entry = chosen_entry(text, contest.entries)
    if entry is None:
        return reply("unknown_entry", sender, contest)
    refusal = entry_refusal(contest, sender.country, entry)
    if refusal is None and closed_now(contest):
        refusal = "window_closed"
    if refusal is not None:
        return reply(refusal, sender, contest, entry)
    pending = PendingVote(
        cid, aggregator_dedupe_key(gateway.id, f"sms\0{message_id}"),
        voter_hasher(rt.settings.voter_hash_key, cid)(sender.e164), sender.country, entry,
        gateway.id, SMS_CHANNEL)
    decision = (await record_batch(rt, cid, [pending], gateway.id))[0]
    if decision.outcome == "key_revoked":
        rt.aggregators.forget(hash_secret(gateway_secret(request) or ""))
        raise unauthorized(REVOKED_KEY)
    if decision.outcome == "accepted":
        await rt.committer.publish([(pending, decision)])
    return reply(decision.outcome, sender, contest, entry, decision.remaining)
