"""Shared set-up for the Locust scenarios: one contest per run, created with the admin token.

Configuration comes from the environment:

- `SILKVOTE_URL` (default `http://127.0.0.1:8000`; Locust's `-H/--host` wins for requests)
- `SILKVOTE_ADMIN_TOKEN` (required unless `SILKVOTE_CONTEST` names a prepared contest
  *and* the scenario needs no admin calls — viewers, aggregators and jurors all do)
- `SILKVOTE_CONTEST`: use this contest instead of creating one (e.g. made by
  `python -m loadtests.setup_contest`, so several Locust workers share it)
- `SILKVOTE_BATCH_SIZE` (default 1000): votes per aggregator batch (≤ 10,000)

The contest is created lazily by the first user that needs it (one per Locust process),
with its window open. Jurors' codes are minted on demand (12 countries × 5).
"""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import gevent.lock
import httpx

from service.contests.demo import DEMO_LINEUP, DEMO_VOTING_COUNTRIES

ENTRIES = [country for country, _, _ in DEMO_LINEUP]
VOTING_COUNTRIES = list(DEMO_VOTING_COUNTRIES)
JURY_COUNTRIES = [c for c in VOTING_COUNTRIES if c != "WW"]  # Rest of World: audience only
VOTE_CAP = int(os.environ.get("SILKVOTE_VOTE_CAP", "20"))  # small values exercise 429s


def base_url(host: str | None = None) -> str:
    return (host or os.environ.get("SILKVOTE_URL") or "http://127.0.0.1:8000").rstrip("/")


def admin_token() -> str:
    token = os.environ.get("SILKVOTE_ADMIN_TOKEN", "")
    if not token:
        raise RuntimeError("set SILKVOTE_ADMIN_TOKEN to the server's ADMIN_TOKEN")
    return token


def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {admin_token()}"}


def contest_definition(name: str = "Load test") -> dict[str, Any]:
    """A Silk Way Star final (12 entries, 13 voting countries incl. WW), cap 20, 5 jurors."""
    return {
        "name": f"{name} {secrets.token_hex(3)}",
        "entries": [{"country": c, "running_order": i, "artist": a, "song": s}
                    for i, (c, a, s) in enumerate(DEMO_LINEUP, start=1)],
        "voting_countries": VOTING_COUNTRIES,
        "vote_cap": VOTE_CAP,
        "jury_size": 5,
        "jury_min_valid": 3,
        # live public standings: every vote moves the public websocket (the worst case)
        "results_visibility": "live",
    }


def create_contest(url: str, name: str = "Load test", open_window: bool = True) -> str:
    with httpx.Client(base_url=url, headers=admin_headers(), timeout=30) as client:
        r = client.post("/api/v1/contests", json=contest_definition(name))
        r.raise_for_status()
        contest_id = str(r.json()["id"])
        if open_window:
            client.post(f"/api/v1/contests/{contest_id}/window",
                        json={"state": "open"}).raise_for_status()
    return contest_id


@dataclass
class Show:
    """The contest of this Locust process and the credentials handed out for it."""

    url: str
    contest: str
    window_open: bool = True
    jurors_taken: int = 0
    aggregator_keys: list[str] = field(default_factory=list)
    jury_locked: bool = False

    def mint_juror(self, n: int) -> tuple[str, str]:
        """Create the n-th juror (countries in turn) and return (country, code)."""
        country = JURY_COUNTRIES[n % len(JURY_COUNTRIES)]
        with httpx.Client(base_url=self.url, headers=admin_headers(), timeout=30) as client:
            r = client.post(f"/api/v1/contests/{self.contest}/jurors",
                            json={"country": country, "name": f"{country} juror {n + 1}"})
            r.raise_for_status()
            return country, str(r.json()["code"])


_lock = gevent.lock.RLock()
_show: Show | None = None


def show(host: str | None = None) -> Show:
    """The shared contest of this process (created on first use)."""
    global _show
    with _lock:
        if _show is None:
            url = base_url(host)
            contest = os.environ.get("SILKVOTE_CONTEST") or create_contest(url)
            _show = Show(url, contest)
        return _show


def take_juror_code(host: str | None = None, per_country: int = 5) -> tuple[str, str] | None:
    """A new juror's (country, code); None once every jury seat is taken (12 × 5)."""
    current = show(host)
    with _lock:
        n = current.jurors_taken
        if n >= per_country * len(JURY_COUNTRIES):
            return None
        current.jurors_taken += 1
    return current.mint_juror(n)


def reset() -> None:
    """Forget the contest (tests run several scenarios in one process)."""
    global _show
    with _lock:
        _show = None


def now_ms() -> float:
    return time.time() * 1000
