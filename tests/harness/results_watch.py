"""What a cache in front of SilkVote is judged by: votes that keep coming, each with the
moment it was acknowledged, and how many result reads reached SilkVote itself.

The nginx test (`tests/deploy/test_nginx_cache.py`) and the cache benchmark
(`loadtests/bench/results_cache.py`) both measure "every poll saw the votes acknowledged
2 s before it, while the origin answered a few reads a second" with these.
"""

from __future__ import annotations

import bisect
import re
import threading
import time
import uuid

import httpx

from tests.harness.server import LiveServer

RESULTS_ROUTE = re.compile(
    r'^silkvote_http_request_seconds_count\{method="GET",route="/api/v1/contests/\{cid[^}]*\}'
    r'/results",status="(\d+)"\} (\S+)$', re.M)


def origin_results_answers(server: LiveServer) -> float:
    """Result reads SilkVote has answered so far (its own latency histogram's count)."""
    text = httpx.get(f"{server.base_url}/metrics", timeout=10).text
    return sum(float(count) for _, count in RESULTS_ROUTE.findall(text))


class Voting(threading.Thread):
    """Casts a vote every 0.1 s straight to SilkVote (one token each) and notes when each
    was acknowledged; a vote refused is kept in `refused` (status, body)."""

    def __init__(self, server: LiveServer, cid: str, tokens: list[str]) -> None:
        super().__init__(daemon=True)
        self.server, self.cid, self.tokens = server, cid, tokens
        self.acked_at: list[float] = []
        self.refused: list[tuple[int, str]] = []
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.server.base_url, timeout=10) as client:
            for token in self.tokens:
                if self.stop.is_set():
                    return
                r = client.post(f"/api/v1/contests/{self.cid}/votes",
                                json={"entry": "KZ", "key": str(uuid.uuid4())},
                                headers={"Authorization": f"Bearer {token}"})
                if r.status_code == 201:
                    self.acked_at.append(time.monotonic())
                else:
                    self.refused.append((r.status_code, r.text))
                self.stop.wait(0.1)  # the pace of the votes is part of what is measured

    def acked_by(self, moment: float) -> int:
        """Votes acknowledged at or before `moment` (monotonic clock)."""
        return bisect.bisect_right(self.acked_at, moment)
