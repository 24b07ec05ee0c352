"""A small finished show for the graphics tests: only Kazakhstan's jury is valid, so every
other jury gets a substitute result, and only some audiences vote (the rest get
substitute televote sets) — the case that went on air unmarked (issue 17)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import httpx

from service.contests.demo import DEMO_LINEUP
from tests.conftest import LiveServer

COUNTRIES = [c for c, _, _ in DEMO_LINEUP]
VOTES = {"KZ": {"UZ": 3, "KR": 1}, "UZ": {"KZ": 2}, "WW": {"KR": 2, "IN": 1}}


@dataclass
class Show:
    server: LiveServer
    cid: str

    def url(self, rest: str) -> str:
        return f"{self.server.base_url}/api/v1/contests/{self.cid}{rest}"

    def reveal_next(self) -> dict:  # type: ignore[type-arg]
        return dict(self.server.call("POST", f"/api/v1/contests/{self.cid}/reveal/next"))


def ranking_for(country: str, rotate: int = 0) -> list[str]:
    others = [c for c in COUNTRIES if c != country]
    return others[rotate:] + others[:rotate]


def cast(server: LiveServer, cid: str, plan: dict[str, dict[str, int]]) -> None:
    for country, entries in plan.items():
        for entry, n in entries.items():
            for _ in range(n):
                token = server.call("POST", f"/api/v1/contests/{cid}/voter-tokens",
                                    {"voter": f"v-{uuid.uuid4()}", "country": country})["token"]
                r = httpx.post(f"{server.base_url}/api/v1/contests/{cid}/votes",
                               json={"entry": entry, "key": str(uuid.uuid4())},
                               headers={"Authorization": f"Bearer {token}"}, timeout=20)
                assert r.status_code == 201, r.text


def kazakh_jury_only(server: LiveServer, *, name: str | None = None) -> Show:
    """Voting closed, jury locked, reveal not started."""
    extra = {"name": name} if name else {}
    cid = server.new_contest(jury_size=3, jury_min_valid=2, **extra)
    for rotate in range(2):
        code = server.call("POST", f"/api/v1/contests/{cid}/jurors",
                           {"country": "KZ", "name": f"KZ juror {rotate}"})["code"]
        session = httpx.post(f"{server.base_url}/api/v1/jury/session", json={"code": code},
                             timeout=10).json()
        r = httpx.put(f"{server.base_url}/api/v1/contests/{cid}/ballot",
                      json={"ranking": ranking_for("KZ", rotate)}, timeout=10,
                      headers={"Authorization": f"Bearer {session['token']}"})
        assert r.status_code == 200, r.text
    server.call("POST", f"/api/v1/contests/{cid}/window", {"state": "open"})
    cast(server, cid, VOTES)
    server.call("POST", f"/api/v1/contests/{cid}/window", {"state": "closed"})
    server.call("POST", f"/api/v1/contests/{cid}/jury/lock")
    return Show(server, cid)
