"""Locust user classes: viewers, aggregators, websocket watchers, jurors, the producer.

Expected refusals (409 window closed, 422 own country, 429 cap or rate limit, 200
duplicate) are checked with `catch_response` and counted as successes under their own
request names, so any failure in the Locust report is a real one.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import secrets
import time
import uuid
from typing import Any

import gevent
from locust import FastHttpUser, User, between, events, task
from locust.env import Environment

from loadtests import common

OVER_CAP_SHARE = float(os.environ.get("SILKVOTE_OVER_CAP_SHARE", "0.35"))
WAIT_SCALE = float(os.environ.get("SILKVOTE_WAIT_SCALE", "1"))  # < 1: faster users (CI)


def pause(low: float, high: float) -> Any:
    """Locust's `between`, scaled by SILKVOTE_WAIT_SCALE."""
    return between(low * WAIT_SCALE, high * WAIT_SCALE)


def check(response: Any, ok: set[int], expected: dict[int, set[str]] | None = None) -> int:
    """Mark `response` (a catch_response context) as success or failure; return status."""
    status = int(response.status_code or 0)
    if status in ok:
        response.success()
        return status
    if expected and status in expected:
        try:
            code = response.json()["error"]["code"]
        except Exception:
            code = None
        if code in expected[status]:
            response.success()
            return status
    response.failure(f"unexpected {status}: {(response.text or '')[:200]}")
    return status


def vote_refusals() -> dict[int, set[str]]:
    """Refusals that are correct answers while the show runs (window may close)."""
    return {409: {"window_closed"}, 429: {"rate_limited"}}


class Viewer(FastHttpUser):
    """A phone voting for its favourites during the window.

    Shares of behaviour (per vote): most votes are fresh; ~10% are retried with the same
    idempotency key (the second answer must be 200 duplicate); ~5% name the voter's own
    country (422 own_country); a voter who used all 20 votes taps once more about a third
    of the time (429 vote_cap_reached) before a new viewer takes the phone.
    """

    wait_time = pause(0.2, 1.0)
    weight = 10

    def on_start(self) -> None:
        self.show = common.show(self.host)
        self.new_identity()

    def new_identity(self) -> None:
        self.country = random.choice(common.VOTING_COUNTRIES)
        self.cast = 0
        with self.client.post(f"/api/v1/contests/{self.show.contest}/voter-tokens",
                              json={"voter": f"+load-{uuid.uuid4().hex}",
                                    "country": self.country},
                              headers=common.admin_headers(), name="voter token",
                              catch_response=True) as r:
            if check(r, {201}) == 201:
                self.auth = {"Authorization": f"Bearer {r.json()['token']}"}

    def _vote(self, entry: str, key: str, name: str, ok: set[int],
              expected: dict[int, set[str]]) -> int:
        with self.client.post(f"/api/v1/contests/{self.show.contest}/votes",
                              json={"entry": entry, "key": key}, headers=self.auth,
                              name=name, catch_response=True) as r:
            return check(r, ok, expected)

    def entry(self) -> str:
        return random.choice([e for e in common.ENTRIES if e != self.country])

    @task(85)
    def vote(self) -> None:
        if self.cast >= common.VOTE_CAP:
            if random.random() < OVER_CAP_SHARE:
                self._vote(self.entry(), uuid.uuid4().hex, "vote (over the cap → 429)", set(),
                           {429: {"vote_cap_reached", "rate_limited"}, 409: {"window_closed"}})
            self.new_identity()
            return
        status = self._vote(self.entry(), uuid.uuid4().hex, "vote", {201}, vote_refusals())
        if status == 201:
            self.cast += 1

    @task(10)
    def vote_and_retry(self) -> None:
        if self.cast >= common.VOTE_CAP:
            return
        key, entry = uuid.uuid4().hex, self.entry()
        status = self._vote(entry, key, "vote", {201}, vote_refusals())
        if status == 201:
            self.cast += 1
            self._vote(entry, key, "vote retry (same key → 200)", {200}, vote_refusals())

    @task(5)
    def vote_own_country(self) -> None:
        if self.country in common.ENTRIES:
            self._vote(self.country, uuid.uuid4().hex, "vote own country (→ 422)", set(),
                       {422: {"own_country"}, 409: {"window_closed"}, 429: {"rate_limited"}})


class Aggregator(FastHttpUser):
    """A telecom partner forwarding batches of SMS votes; every 5th batch is re-sent."""

    wait_time = pause(0.5, 2.0)
    weight = 1

    def on_start(self) -> None:
        self.show = common.show(self.host)
        self.size = min(int(os.environ.get("SILKVOTE_BATCH_SIZE", "1000")), 10_000)
        self.prefix = secrets.token_hex(4)
        self.sent = 0
        self.last: list[dict[str, str]] | None = None
        with self.client.post(f"/api/v1/contests/{self.show.contest}/aggregator-keys",
                              json={"name": f"telco-{self.prefix}"},
                              headers=common.admin_headers(), name="aggregator key",
                              catch_response=True) as r:
            if check(r, {201}) == 201:
                self.auth = {"Authorization": f"Bearer {r.json()['key']}"}

    def make_batch(self) -> list[dict[str, str]]:
        self.sent += 1
        votes = []
        for i in range(self.size):
            country = common.VOTING_COUNTRIES[(i // common.VOTE_CAP) % 13]
            entries = [e for e in common.ENTRIES if e != country]
            votes.append({"id": f"{self.prefix}-{self.sent}-{i}",
                          "voter": f"sms-{self.prefix}-{self.sent}-{i // common.VOTE_CAP}",
                          "country": country, "entry": entries[i % len(entries)]})
        return votes

    @task
    def send(self) -> None:
        resend = self.last is not None and random.random() < 0.2
        votes = self.last if resend and self.last is not None else self.make_batch()
        name = "batch re-sent (all duplicates)" if resend else "batch"
        with self.client.post(f"/api/v1/contests/{self.show.contest}/votes/batch",
                              json={"votes": votes}, headers=self.auth, name=name,
                              catch_response=True) as r:
            if check(r, {200}, {409: {"window_closed"}}) != 200:
                return
            body = r.json()
            counted = body["accepted"] + body["duplicates"] + len(body["rejected"])
            if counted != len(votes):
                r.failure(f"batch answer covers {counted} of {len(votes)} votes")
            elif resend and body["accepted"]:
                r.failure(f"re-sent batch counted {body['accepted']} votes again")
        self.last = votes


def _fire(environment: Environment, name: str, started: float, elapsed_ms: float,
          length: int = 0, exception: Exception | None = None) -> None:
    hook: Any = environment.events.request
    hook.fire(request_type="WS", name=name, response_time=elapsed_ms,
                                    response_length=length, exception=exception,
                                    context={}, start_time=started)


class Watcher(User):
    """A leaderboard subscriber (websocket). Reports two request types under "WS":

    - `update (as_of → arrival)`: arrival time minus the update's `as_of` (the server
      truncates `as_of` to whole seconds, so this reads up to 1 s high);
    - `vote → update`: a watcher casts a probe vote and times the wait from its 201 until
      an update shows its (country, entry) cell grown. With other viewers voting the same
      cell this may read low; alone (the `watchers` scenario) it is exact.
    """

    wait_time = pause(2.0, 4.0)
    weight = 3

    def on_start(self) -> None:
        from websockets.sync.client import connect

        self.show = common.show(self.host)
        self.cells: dict[tuple[str, str], int] = {}
        self.seq = -1
        self.waiting: tuple[str, str, int, float] | None = None
        url = self.show.url.replace("http", "ws", 1)
        started = time.time()
        try:
            self.socket = connect(f"{url}/ws/contests/{self.show.contest}/leaderboard",
                                  open_timeout=30, max_size=None)
        except Exception as exc:
            _fire(self.environment, "connect", started, (time.time() - started) * 1000,
                  exception=exc)
            raise
        _fire(self.environment, "connect", started, (time.time() - started) * 1000)
        self.reader = gevent.spawn(self._read)
        self.auth: dict[str, str] | None = None

    def on_stop(self) -> None:
        self.reader.kill(block=False)
        with contextlib.suppress(Exception):
            self.socket.close()

    def _read(self) -> None:
        while True:
            try:
                raw = self.socket.recv()
            except Exception as exc:
                if self.environment.runner is not None and getattr(
                        self.environment.runner, "state", "") not in ("stopping", "stopped"):
                    _fire(self.environment, "receive", time.time(), 0, exception=exc)
                return
            now = time.time()
            message = json.loads(raw)
            seq = int(message["seq"])
            if self.seq >= 0 and seq != self.seq + 1 and message["type"] == "update":
                _fire(self.environment, "seq gap", now, 0,
                      exception=RuntimeError(f"seq jumped {self.seq} → {seq}"))
            self.seq = seq
            results = message["results"]
            self._cells(results)
            if message["type"] == "update":
                as_of = results.get("as_of")
                if as_of:
                    from datetime import datetime

                    stamp = datetime.fromisoformat(as_of.replace("Z", "+00:00")).timestamp()
                    _fire(self.environment, "update (as_of → arrival)", now,
                          max(0.0, (now - stamp) * 1000), len(raw))
            if self.waiting is not None:
                country, entry, before, acked = self.waiting
                if self.cells.get((country, entry), 0) > before:
                    _fire(self.environment, "vote → update", acked, (now - acked) * 1000)
                    self.waiting = None

    def _cells(self, results: dict[str, Any]) -> None:
        for country, row in (results.get("votes") or {}).items():
            for entry, n in row.items():
                self.cells[(country, entry)] = n

    @task
    def probe(self) -> None:
        """Cast one vote and wait (in the reader) for the board to show it."""
        if self.waiting is not None:
            return
        country = random.choice(common.VOTING_COUNTRIES)
        entry = random.choice([e for e in common.ENTRIES if e != country])
        import httpx

        headers = common.admin_headers()
        with httpx.Client(base_url=self.show.url, timeout=30) as client:
            r = client.post(f"/api/v1/contests/{self.show.contest}/voter-tokens",
                            json={"voter": f"+probe-{uuid.uuid4().hex}", "country": country},
                            headers=headers)
            if r.status_code != 201:
                return
            before = self.cells.get((country, entry), 0)
            auth = {"Authorization": f"Bearer {r.json()['token']}"}
            r = client.post(f"/api/v1/contests/{self.show.contest}/votes",
                            json={"entry": entry, "key": "probe"}, headers=auth)
            if r.status_code == 201:
                self.waiting = (country, entry, before, time.time())


class Juror(FastHttpUser):
    """A juror of one of the 12 jury countries: signs in with a code, submits a ranking,
    then revises it a few times (each revision replaces the ballot until the lock)."""

    wait_time = pause(1.0, 3.0)
    weight = 1

    def on_start(self) -> None:
        self.show = common.show(self.host)
        self.auth: dict[str, str] | None = None
        self.code = common.take_juror_code(self.host)
        self.revisions = 0

    def sign_in(self) -> None:
        if self.code is None:
            return
        with self.client.post("/api/v1/jury/session", json={"code": self.code[1]},
                              name="jury session", catch_response=True) as r:
            status = check(r, {201}, {429: {"rate_limited"}})
            if status == 201:
                self.auth = {"Authorization": f"Bearer {r.json()['token']}"}
            elif status == 429:
                gevent.sleep(5)  # one generator IP: the per-IP login limit applies

    @task
    def ballot(self) -> None:
        if self.code is None:
            gevent.sleep(1)
            return
        if self.auth is None:
            self.sign_in()
            return
        own = self.code[0]
        ranking = [e for e in common.ENTRIES if e != own]
        random.shuffle(ranking)
        name = "ballot submit" if self.revisions == 0 else "ballot revise"
        with self.client.put(f"/api/v1/contests/{self.show.contest}/ballot",
                             json={"ranking": ranking}, headers=self.auth, name=name,
                             catch_response=True) as r:
            if check(r, {200, 201}, {409: {"ballot_locked"}}) in (200, 201):
                self.revisions += 1


class Producer(FastHttpUser):
    """The producer's console: opens and closes the window and polls stats and results."""

    wait_time = pause(1.0, 2.0)
    fixed_count = 1
    cycle_s = float(os.environ.get("SILKVOTE_WINDOW_CYCLE_S", "20"))

    def on_start(self) -> None:
        self.show = common.show(self.host)
        self.flipped_at = time.time()

    @task(3)
    def stats(self) -> None:
        self.flip_window_when_due()
        self.client.get(f"/api/v1/contests/{self.show.contest}/stats",
                        headers=common.admin_headers(), name="console stats")

    @task(1)
    def results(self) -> None:
        self.flip_window_when_due()
        self.client.get(f"/api/v1/contests/{self.show.contest}/results?source=live",
                        name="results (live)")

    def flip_window_when_due(self) -> None:
        """Lines close for a quarter of every cycle, then open again.

        Checked before every console request, not left to a weighted random task, so the
        window follows its cycle instead of sometimes never closing in a short run."""
        elapsed = time.time() - self.flipped_at
        want_open = not self.show.window_open and elapsed > self.cycle_s / 4
        want_closed = self.show.window_open and elapsed > self.cycle_s * 3 / 4
        if not (want_open or want_closed):
            return
        state = "open" if want_open else "closed"
        self.client.post(f"/api/v1/contests/{self.show.contest}/window", json={"state": state},
                         headers=common.admin_headers(), name=f"window {state}")
        self.show.window_open = state == "open"
        self.flipped_at = time.time()


def _reopen_window(environment: Environment, **_: Any) -> None:
    """Leave the contest as a scenario found it: window open."""
    if common._show is not None and not common._show.window_open:
        import httpx

        with httpx.Client(base_url=common._show.url, timeout=10) as client:
            client.post(f"/api/v1/contests/{common._show.contest}/window",
                        json={"state": "open"}, headers=common.admin_headers())
        common._show.window_open = True


_test_stop: Any = events.test_stop
_test_stop.add_listener(_reopen_window)
