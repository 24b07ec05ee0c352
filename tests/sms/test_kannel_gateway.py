"""SMS votes through a real SMS gateway: Kannel's bearerbox and smsbox on loopback, with
Kannel's fakesmsc as the phone network, forwarding every message to SilkVote's SMS route
as an operator's Kannel does (docs/sms.md).

1,000 messages: good votes in every script's digits and in country codes, malformed
texts, votes for the sender's own country, senders over the cap, numbers outside the
voting countries (Rest of the World) and messages after the window closed. Every
phone gets exactly the replies its messages call for, in its country's language, and
the ledger holds every accepted vote once, on channel `sms`.
"""

from __future__ import annotations

import asyncio
import base64
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import phonenumbers
import pytest

from service.contests.demo import demo_definition
from service.sms.replies import reply_language, reply_text
from tests.conftest import LiveServer
from tests.harness.kannel import Kannel, PhoneNetwork, kannel_installed, start_kannel
from tests.harness.lossy_proxy import LossyProxy

pytestmark = pytest.mark.skipif(
    not kannel_installed(), reason="Kannel is not installed and could not be: `make kannel` "
    "installs Debian's kannel and kannel-extras (as root)")

CAP = 5
ENTRIES = demo_definition().entries
ORDER = {e.country: e.running_order for e in ENTRIES}
REGIONS = [e.country for e in ENTRIES]
ELSEWHERE = ["GB", "US", "DE", "RU", "TR"]
DIGIT_ZEROS = [0x30, 0x660, 0x966, 0xFF10]  # ASCII, Arabic-Indic, Devanagari, full-width


def numbers(region: str) -> Iterator[str]:
    """Valid mobile numbers of `region`, in E.164, varying the example's last digits."""
    example = phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
    base = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    for i in range(10_000):
        candidate = base[:-4] + f"{i:04d}"
        if phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
            yield candidate


def choice_text(entry: str, rng: random.Random) -> str:
    """How a viewer might text a choice: a number in some script, or a code in some case."""
    if rng.random() < 0.5:
        zero = rng.choice(DIGIT_ZEROS)
        return "".join(chr(zero + int(d)) for d in str(ORDER[entry]))
    code = "".join(c if rng.random() < 0.5 else c.lower() for c in entry)
    return rng.choice(["", " "]) + (code if rng.random() < 0.7 else " ".join(code))


@pytest.fixture
def kannel(live_server: LiveServer, tmp_path: Path) -> Iterator[tuple[Kannel, str, str]]:
    cid = live_server.new_contest(vote_cap=CAP)
    key = live_server.call("POST", f"/api/v1/contests/{cid}/aggregator-keys",
                           {"name": "kannel"})["key"]
    post_url = (f"http://kannel:{key}@127.0.0.1:{live_server.port}"
                f"/api/v1/contests/{cid}/sms?id=%I")
    gateway = start_kannel(tmp_path, post_url)
    try:
        yield gateway, cid, key
    finally:
        gateway.stop()


def expected(outcome: str, sender: str, entry: str = "", remaining: int = 0) -> str:
    region = phonenumbers.region_code_for_number(phonenumbers.parse(sender))
    return reply_text(outcome, reply_language(region or ""), entry=entry,
                      remaining=remaining, entries=len(ENTRIES))


async def test_a_thousand_messages_through_kannel_get_their_replies_and_count_once(
        live_server: LiveServer, kannel: tuple[Kannel, str, str],
        ledger: asyncpg.Connection) -> None:
    gateway, cid, _ = kannel
    rng = random.Random(18)
    pools = {region: numbers(region) for region in REGIONS + ELSEWHERE}
    plan: list[tuple[str, str]] = []  # (sender, text) in sending order
    wanted: dict[str, Counter[str]] = {}
    by_country: Counter[str] = Counter()

    def want(sender: str, reply: str) -> None:
        wanted.setdefault(sender, Counter())[reply] += 1

    def good_votes(sender: str, region: str, count: int, country: str) -> None:
        # one entry per sender, each time written another way: the gateway may pass a
        # sender's messages on in any order, and the replies are then the same multiset
        entry = rng.choice([c for c in REGIONS if c != region])
        for i in range(count):
            plan.append((sender, choice_text(entry, rng)))
            if i < CAP:
                want(sender, expected("accepted", sender, entry, CAP - i - 1))
                by_country[country] += 1
            else:
                want(sender, expected("vote_cap_reached", sender, entry))

    for i in range(150):  # 450 good votes, 3 per sender
        region = REGIONS[i % len(REGIONS)]
        good_votes(next(pools[region]), region, 3, region)
    for i in range(25):  # 175 messages, 2 over the cap each
        region = REGIONS[i % len(REGIONS)]
        good_votes(next(pools[region]), region, CAP + 2, region)
    for i in range(75):  # Rest of the World
        region = ELSEWHERE[i % len(ELSEWHERE)]
        good_votes(next(pools[region]), region, 1, "WW")
    for i in range(100):  # the sender's own country
        region = REGIONS[i % len(REGIONS)]
        sender = next(pools[region])
        plan.append((sender, choice_text(region, rng)))
        want(sender, expected("own_country", sender, region))
    malformed = ["hello", "vote", "99", "0", "KZ AM", "1 2 3", "XX", "?", "☺", "three"]
    for i in range(100):
        region = REGIONS[i % len(REGIONS)]
        sender = next(pools[region])
        plan.append((sender, malformed[i % len(malformed)]))
        want(sender, expected("unknown_entry", sender))
    order = list(range(len(plan)))
    rng.shuffle(order)  # senders interleave, as real traffic does
    after_close: list[tuple[str, str]] = []
    for i in range(100):
        region = REGIONS[i % len(REGIONS)]
        sender = next(pools[region])
        entry = rng.choice([c for c in REGIONS if c != region])
        after_close.append((sender, choice_text(entry, rng)))
        want(sender, expected("window_closed", sender, entry))
    assert len(plan) + len(after_close) == 1000

    live_server.call("POST", f"/api/v1/contests/{cid}/window", {"state": "open"})
    phones = PhoneNetwork(gateway)
    try:
        def send_open() -> None:
            for index in order:
                phones.send(*plan[index])
            phones.wait_replies(len(plan), 60)

        try:
            await asyncio.to_thread(send_open)
            live_server.call("POST", f"/api/v1/contests/{cid}/window", {"state": "closed"})

            def send_closed() -> None:
                for message in after_close:
                    phones.send(*message)
                phones.wait_replies(1000, 60)

            await asyncio.to_thread(send_closed)
        except TimeoutError as exc:
            raise AssertionError(f"{exc}\n{gateway.logs()}") from exc
        replies = phones.replies
    finally:
        phones.stop()

    got: dict[str, Counter[str]] = {}
    for reply in replies:
        got.setdefault(reply.receiver, Counter())[reply.text] += 1
    wrong = {s: (got.get(s), w) for s, w in wanted.items() if got.get(s) != w}
    assert not wrong, f"{len(wrong)} phones got other replies, e.g. {list(wrong.items())[:3]}"
    assert len(replies) == 1000

    rows = await ledger.fetch("SELECT channel, voting_country, count(*) AS n FROM votes "
                              "WHERE contest_id = $1 GROUP BY channel, voting_country", cid)
    assert {r["channel"] for r in rows} == {"sms"}
    assert Counter({r["voting_country"]: r["n"] for r in rows}) == by_country
    assert sum(by_country.values()) == 450 + 25 * CAP + 75


async def test_an_answer_lost_on_the_way_back_is_retried_by_kannel_and_counts_once(
        live_server: LiveServer, tmp_path: Path, ledger: asyncpg.Connection) -> None:
    """SilkVote records the vote but its answer never reaches Kannel: smsbox retries the
    same request (the same `%I`), and the phone is told the vote was already counted."""
    cid = live_server.new_contest(vote_cap=CAP)
    key = live_server.call("POST", f"/api/v1/contests/{cid}/aggregator-keys",
                           {"name": "kannel"})["key"]
    live_server.call("POST", f"/api/v1/contests/{cid}/window", {"state": "open"})
    senders = [n for _, n in zip(range(5), numbers("KZ"), strict=False)]
    proxy = LossyProxy(live_server.port, lose=len(senders))
    gateway = start_kannel(tmp_path, f"http://kannel:{key}@127.0.0.1:{proxy.port}"
                                     f"/api/v1/contests/{cid}/sms?id=%I")
    phones = PhoneNetwork(gateway)
    try:
        def send() -> None:
            for sender in senders:
                phones.send(sender, "am")
            phones.wait_replies(len(senders), 30)

        await asyncio.to_thread(send)
    finally:
        phones.stop()
        gateway.stop()
        proxy.close()
    assert proxy.lost == len(senders)
    assert sorted(r.receiver for r in phones.replies) == sorted(senders)
    assert {r.text for r in phones.replies} == {
        reply_text("duplicate", "kk", entry="AM", remaining=CAP - 1)}
    count = await ledger.fetchval("SELECT count(*) FROM votes WHERE contest_id = $1 "
                                  "AND channel = 'sms'", cid)
    assert count == len(senders)


def basic(key: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"kannel:{key}".encode()).decode()}


async def test_a_resent_message_id_counts_once_and_says_so(
        live_server: LiveServer, api: httpx.AsyncClient, ledger: asyncpg.Connection) -> None:
    """Kannel re-sends a request whose answer it did not get (http-request-retry) with
    the same message id; the vote counts once and the second reply says so."""
    cid = live_server.new_contest(vote_cap=CAP)
    key = live_server.call("POST", f"/api/v1/contests/{cid}/aggregator-keys",
                           {"name": "kannel"})["key"]
    live_server.call("POST", f"/api/v1/contests/{cid}/window", {"state": "open"})
    message = {"params": {"id": str(uuid.uuid4())},
               "headers": {**basic(key), "X-Kannel-From": "+77012345678",
                           "Content-Type": "text/plain; charset=\"UTF-8\""},
               "content": b"  am "}
    first = await api.post(f"/api/v1/contests/{cid}/sms", **message)
    again = await api.post(f"/api/v1/contests/{cid}/sms", **message)
    assert first.status_code == again.status_code == 200
    assert first.text == reply_text("accepted", "kk", entry="AM", remaining=CAP - 1)
    assert again.text == reply_text("duplicate", "kk", entry="AM", remaining=CAP - 1)
    assert first.headers["content-type"].startswith("text/plain")
    count = await ledger.fetchval("SELECT count(*) FROM votes WHERE contest_id = $1 "
                                  "AND channel = 'sms'", cid)
    assert count == 1


async def test_the_gateway_must_bring_this_contests_key_and_the_sender(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid, other = live_server.new_contest(), live_server.new_contest()
    key = live_server.call("POST", f"/api/v1/contests/{other}/aggregator-keys",
                           {"name": "kannel"})["key"]
    path, params = f"/api/v1/contests/{cid}/sms", {"id": "m-1"}
    plain = {"Content-Type": "text/plain", "X-Kannel-From": "+77012345678"}
    assert (await api.post(path, params=params, headers=plain, content=b"AM")).status_code == 401
    assert (await api.post(path, params=params, headers={**plain, **basic("nope")},
                           content=b"AM")).status_code == 401
    refused = await api.post(path, params=params, headers={**plain, **basic(key)}, content=b"AM")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    own = live_server.call("POST", f"/api/v1/contests/{cid}/aggregator-keys",
                           {"name": "kannel"})["key"]
    no_sender = await api.post(path, params=params, headers={**basic(own), "Content-Type":
                               "text/plain"}, content=b"AM")
    assert no_sender.status_code == 400 and no_sender.json()["error"]["code"] == "invalid_body"
