"""`silkvote bench`: throughput and latency of the real service on this machine.

The bench starts its own stores (the machine's PostgreSQL/Redis when DATABASE_URL and
REDIS_URL are set — in a fresh database that is dropped afterwards — else embedded ones
in a temporary folder) and its own `silkvote serve` process, then drives it with a load
generator written for the job: raw HTTP/1.1 keep-alive and raw websocket clients on
asyncio protocols (uvloop when installed), running in separate processes so that the
bench's own bookkeeping never stalls them. Every figure is read next to `/healthz` of
the same server under the same generator and concurrency, so the vote figures can be
compared across machines as ratios.

Afterwards every contest the bench voted in is checked: the ledger must hold exactly
the votes that were acknowledged (201 or `accepted`), and the live tallies must equal
the ledger. The report goes to `docs/benchmarks.md` with PNG plots in `docs/img/`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import math
import os
import platform
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import msgspec

from service.bench_history import HISTORY_FILE, RunRecord, history_section, record_run
from service.core.config import REPO_ROOT

SCORING_HEADING = "## Scoring engine"
CAP = 20  # votes per voter in the bench contests (the default cap)
BATCH_SIZE = 10_000


# --------------------------------------------------------------------------- plans


@dataclass(frozen=True)
class Plan:
    """How long and how hard each phase runs."""

    phase_s: float = 20.0
    warmup_s: float = 3.0
    concurrency: int = 64
    alternations: int = 4  # /healthz and single votes take turns in this many slices each
    batch_connections: int = 2
    ws_clients: int = 10_000
    ws_s: float = 30.0
    ws_connect_s: float = 25.0
    ws_votes_per_s: float = 20.0
    generator_procs: int = 2
    two_workers: bool = True
    quick: bool = False

    @classmethod
    def quick_plan(cls) -> Plan:
        return cls(phase_s=2.5, warmup_s=1.0, alternations=1, ws_clients=300, ws_s=3.0,
                   ws_connect_s=2.5, two_workers=False, quick=True)


# --------------------------------------------------------------------------- /proc


CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2:].split()


def _parents() -> dict[int, int]:
    found: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat(int(entry))
            if fields is not None:
                found[int(entry)] = int(fields[1])
    return found


def process_tree(root: int, parents: dict[int, int] | None = None) -> list[int]:
    """`root` and every live descendant (`parents`: one scan of /proc, to share)."""
    parents = _parents() if parents is None else parents
    tree, frontier = [root], [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent]
        tree += children
        frontier += children
    return [pid for pid in tree if pid in parents]


def pids_named(*names: str) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                comm = Path(f"/proc/{entry}/comm").read_text().strip()
            except OSError:
                continue
            if comm in names:
                pids.append(int(entry))
    return pids


def cpu_seconds(pids: list[int]) -> float:
    """User+system CPU of `pids`, including children they have already reaped."""
    total = 0
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            total += sum(int(x) for x in fields[11:15])
    return total / CLK_TCK


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total


@dataclass
class ProcessGroups:
    """Where the CPU goes: the service, PostgreSQL, Redis (found by pid files or name)."""

    server_pid: int
    postgres_root: int | None
    redis_pid: int | None

    def pids(self) -> dict[str, list[int]]:
        parents = _parents()  # one scan of /proc: on a slow host each costs milliseconds
        postgres = (process_tree(self.postgres_root, parents) if self.postgres_root
                    else pids_named("postgres"))
        redis = [self.redis_pid] if self.redis_pid else pids_named("redis-server",
                                                                    "valkey-server")
        return {"service": process_tree(self.server_pid, parents), "postgres": postgres,
                "redis": redis}

    def cpu(self, pids: dict[str, list[int]] | None = None) -> dict[str, float]:
        return {name: cpu_seconds(group) for name, group in (pids or self.pids()).items()}

    def rss(self, pids: dict[str, list[int]] | None = None) -> dict[str, int]:
        return {name: rss_bytes(group) for name, group in (pids or self.pids()).items()}


# --------------------------------------------------------------------------- generator


def _fast_loop() -> None:
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


class HttpConnection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection; one request in flight at a time."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass

    def connection_lost(self, exc: Exception | None) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(ConnectionError("connection closed"))

    def data_received(self, data: bytes) -> None:
        self._buf += data
        if self._waiter is None:
            return
        end = self._buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self._buf[:end]).lower()
        at = head.find(b"content-length:")
        length = 0
        if at >= 0:
            eol = head.find(b"\r\n", at)
            length = int(head[at + 15:eol if eol >= 0 else len(head)])
        total = end + 4 + length
        if len(self._buf) < total:
            return
        status = int(head[9:12])
        body = bytes(self._buf[end + 4:total])
        del self._buf[:total]
        waiter, self._waiter = self._waiter, None
        if not waiter.done():
            waiter.set_result((status, body))

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        assert self.transport is not None
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(raw)
        return await self._waiter


async def connect_http(host: str, port: int) -> HttpConnection:
    _, protocol = await asyncio.get_running_loop().create_connection(
        HttpConnection, host, port)
    return protocol


def http_request(method: str, path: str, host: str, body: bytes = b"",
                 token: str | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if body or method != "GET":
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass
class Tally:
    """What one generator process saw in one phase."""

    statuses: Counter[int] = field(default_factory=Counter)
    per_second: Counter[int] = field(default_factory=Counter)  # completions by second
    accepted_per_second: Counter[int] = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    errors: int = 0
    cpu_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def answered(self, status: int, since: float, spec: LoadSpec) -> float:
        """Count one answered request sent (or, open-loop, scheduled) at `since`; the time
        of the answer."""
        done = time.time()
        self.statuses[status] += 1
        self.per_second[_second(done, spec)] += 1
        self.latencies.append(done - since)
        return done

    def merge(self, other: Tally) -> None:
        self.statuses.update(other.statuses)
        self.per_second.update(other.per_second)
        self.accepted_per_second.update(other.accepted_per_second)
        self.latencies += other.latencies
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.rejected += other.rejected
        self.errors += other.errors
        self.cpu_s += other.cpu_s
        for key, value in other.extra.items():
            mine = self.extra.get(key)
            if isinstance(value, dict) and isinstance(mine, dict):
                for k, v in value.items():
                    if isinstance(v, list) and isinstance(mine.get(k), list):
                        mine[k] = mine[k] + v
                    elif isinstance(v, int) and isinstance(mine.get(k), int):
                        mine[k] += v
                    else:
                        mine.setdefault(k, v)
            elif (isinstance(value, list) and isinstance(mine, list)) or (
                    isinstance(value, int | float) and isinstance(mine, int | float)):
                self.extra[key] += value
            else:
                self.extra.setdefault(key, value)


@dataclass(frozen=True)
class LoadSpec:
    """One generator process's share of a phase (picklable)."""

    kind: str  # healthz | vote | batch | ws | ws_votes
    host: str
    port: int
    start_at: float  # wall clock; every process starts together
    duration_s: float
    connections: int
    worker: int
    contest: str = ""
    signing_secret: str = ""
    countries: tuple[str, ...] = ()
    entries: tuple[str, ...] = ()
    rate: float = 0.0  # requests/s of this process for open-loop phases (0 = closed loop)
    token: str = ""
    tag: str = ""
    resend_every: int = 0


class VoterSource:
    """Fresh voters with signed tokens; each casts at most CAP votes (all accepted).

    Votes rotate over a ring of `RING` active voters, so one voter sends a few votes a
    second at most (well under the per-voter rate limit), as phones do.
    """

    RING = 600

    def __init__(self, spec: LoadSpec) -> None:
        from service.security.tokens import TokenSigner

        self._spec = spec
        self._signer = TokenSigner(spec.signing_secret)
        self._n = 0
        self._entries = {c: [e for e in spec.entries if e != c] for c in spec.countries}
        self._path = f"/api/v1/contests/{spec.contest}/votes"
        self._host = f"{spec.host}:{spec.port}"

    def _voter(self) -> list[Any]:
        """[token, country, votes cast so far, voter number] of a new voter."""
        from service.security.tokens import VoterClaims

        spec = self._spec
        self._n += 1
        country = spec.countries[self._n % len(spec.countries)]
        identity = f"{spec.tag}-w{spec.worker}-{self._n}-{secrets.token_hex(4)}"
        claims = VoterClaims(contest=spec.contest,
                             voter=hashlib.sha256(identity.encode()).hexdigest(),
                             country=country, exp=int(time.time()) + 3600)
        return [self._signer.sign(claims), country, 0, self._n]

    def requests(self) -> Iterator[bytes]:
        """Endless vote requests: CAP per voter, voters taking turns."""
        ring = [self._voter() for _ in range(self.RING)]
        while True:
            for slot, voter in enumerate(ring):
                token, country, cast, number = voter
                if cast >= CAP:
                    ring[slot] = voter = self._voter()
                    token, country, cast, number = voter
                entries = self._entries[country]
                voter[2] = cast + 1
                body = (f'{{"entry":"{entries[(number + cast) % len(entries)]}",'
                        f'"key":"k{cast}"}}').encode()
                yield http_request("POST", self._path, self._host, body, token)


async def request_or_count_error(conn: HttpConnection, raw: bytes, tally: Tally
                                 ) -> tuple[int, bytes] | None:
    """The answer to one request, or None (counted as an error) if the connection broke."""
    try:
        return await conn.request(raw)
    except ConnectionError:
        tally.errors += 1
        return None


def _second(now: float, spec: LoadSpec) -> int:
    return int(now - spec.start_at)


async def _closed_loop(spec: LoadSpec, tally: Tally) -> None:
    """`connections` clients, each sending its next request as soon as one is answered."""
    host = f"{spec.host}:{spec.port}"
    if spec.kind == "healthz":
        raw = http_request("GET", "/healthz", host)
        source: Iterator[bytes] = iter(lambda: raw, b"")
    else:
        source = VoterSource(spec).requests()
    conns = [await connect_http(spec.host, spec.port) for _ in range(spec.connections)]
    await asyncio.sleep(max(0.0, spec.start_at - time.time()))
    stop = spec.start_at + spec.duration_s

    async def client(conn: HttpConnection) -> None:
        while True:
            started = time.time()
            if started >= stop:
                return
            answer = await request_or_count_error(conn, next(source), tally)
            if answer is None:
                return
            status = answer[0]
            tally.answered(status, started, spec)
            if status == 201 or (spec.kind == "healthz" and status == 200):
                tally.accepted += 1

    await asyncio.gather(*(client(c) for c in conns))
    for conn in conns:
        if conn.transport is not None:
            conn.transport.close()


async def _open_loop(spec: LoadSpec, tally: Tally) -> None:
    """Requests at a fixed rate; latency counts from the scheduled send time."""
    source = VoterSource(spec).requests()
    idle: asyncio.Queue[HttpConnection] = asyncio.Queue()
    for _ in range(spec.connections):
        idle.put_nowait(await connect_http(spec.host, spec.port))
    await asyncio.sleep(max(0.0, spec.start_at - time.time()))
    interval = 1.0 / spec.rate
    total = int(spec.duration_s * spec.rate)
    tasks: set[asyncio.Task[None]] = set()

    async def send(scheduled: float, raw: bytes) -> None:
        conn = await idle.get()
        answer = await request_or_count_error(conn, raw, tally)
        if answer is None:
            return
        idle.put_nowait(conn)
        tally.answered(answer[0], scheduled, spec)
        if answer[0] == 201:
            tally.accepted += 1

    for k in range(total):
        scheduled = spec.start_at + k * interval
        delay = scheduled - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(send(scheduled, next(source)))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)


def batch_template(spec: LoadSpec) -> bytes:
    """A 10,000-vote batch whose ids and voters carry a placeholder prefix `@@`."""
    parts = []
    for i in range(BATCH_SIZE):
        country = spec.countries[(i // CAP) % len(spec.countries)]
        entries = [e for e in spec.entries if e != country]
        parts.append(f'{{"id":"@@-{i}","voter":"@@-v{i // CAP}","country":"{country}",'
                     f'"entry":"{entries[i % len(entries)]}"}}')
    return ('{"votes":[' + ",".join(parts) + "]}").encode()


async def _batches(spec: LoadSpec, tally: Tally) -> None:
    """Aggregators posting 10,000-vote batches back to back; some batches re-sent."""
    template = batch_template(spec)
    path = f"/api/v1/contests/{spec.contest}/votes/batch"
    host = f"{spec.host}:{spec.port}"
    conns = [await connect_http(spec.host, spec.port) for _ in range(spec.connections)]
    await asyncio.sleep(max(0.0, spec.start_at - time.time()))
    stop = spec.start_at + spec.duration_s

    async def client(index: int, conn: HttpConnection) -> None:
        n = 0
        previous = b""
        while time.time() < stop:
            n += 1
            resend = bool(spec.resend_every and previous and n % spec.resend_every == 0)
            if not resend:
                previous = template.replace(b"@@", f"{spec.tag}{spec.worker}x{index}x{n}".encode())
            started = time.time()
            answer = await request_or_count_error(
                conn, http_request("POST", path, host, previous, spec.token), tally)
            if answer is None:
                return
            status, body = answer
            done = tally.answered(status, started, spec)
            if status == 200:
                result = json.loads(body)
                tally.accepted += result["accepted"]
                tally.duplicates += result["duplicates"]
                tally.rejected += len(result["rejected"])
                tally.accepted_per_second[_second(done, spec)] += result["accepted"]
                tally.extra["resent"] = tally.extra.get("resent", 0) + int(resend)

    await asyncio.gather(*(client(i, c) for i, c in enumerate(conns)))


# --- websockets


class WsClient(asyncio.Protocol):
    """A minimal websocket client: handshake, then unmasked server frames; answers pings."""

    def __init__(self, path: str, host: str, sink: WsSink) -> None:
        self._request = (f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
                         "Connection: Upgrade\r\nSec-WebSocket-Key: c2lsa3ZvdGUtYmVuY2gtMQ==\r\n"
                         "Sec-WebSocket-Version: 13\r\n\r\n").encode()
        self._buf = bytearray()
        self._upgraded = False
        self._votes_seen: int | None = None  # votes in the last message this client got
        self._sink = sink
        self.transport: asyncio.Transport | None = None
        self.ready: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self.closed_code: int | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is no subclass
        self.transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_result(False)
        if self.closed_code is None:
            self.closed_code = -1

    def data_received(self, data: bytes) -> None:
        now = time.time()
        self._buf += data
        if not self._upgraded:
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                return
            ok = self._buf[9:12] == b"101"
            del self._buf[:end + 4]
            self._upgraded = ok
            if not self.ready.done():
                self.ready.set_result(ok)
            if not ok:
                return
        buf = self._buf
        while len(buf) >= 2:
            opcode = buf[0] & 0x0F
            length = buf[1] & 0x7F
            at = 2
            if length == 126:
                if len(buf) < 4:
                    return
                length, at = int.from_bytes(buf[2:4], "big"), 4
            elif length == 127:
                if len(buf) < 10:
                    return
                length, at = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < at + length:
                return
            payload = bytes(buf[at:at + length])
            del buf[:at + length]
            self._frame(opcode, payload, now)

    def _frame(self, opcode: int, payload: bytes, now: float) -> None:
        if opcode in (0x1, 0x0):
            votes = _votes_in(payload)
            if self._votes_seen is not None and votes > self._votes_seen:
                self._sink.arrival(self._votes_seen, now)
            self._votes_seen = votes
        elif opcode == 0x9 and self.transport is not None:  # ping -> masked pong
            mask = os.urandom(4)
            masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
            self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + mask + masked)
        elif opcode == 0x8:
            self.closed_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 0
            self._sink.closes[self.closed_code] += 1
            if self.transport is not None:
                self.transport.close()


class _Board(msgspec.Struct):
    votes: dict[str, dict[str, int]] = {}


class _Message(msgspec.Struct):
    results: _Board


_message_decoder = msgspec.json.Decoder(_Message)


class _VoteCounter:
    """Audience votes counted in a leaderboard message (msgspec skips the rest in C).

    Every client of a generator process receives the same bytes each tick (one message
    per service process), so the last few counts are kept: comparing bytes is far cheaper
    than parsing them again, and the generator shares the cores with the service.
    """

    KEEP = 4  # service processes whose latest message is remembered

    def __init__(self) -> None:
        self._recent: list[tuple[bytes, int]] = []

    def __call__(self, payload: bytes) -> int:
        for seen, votes in self._recent:
            if seen == payload:
                return votes
        board = _message_decoder.decode(payload).results
        votes = sum(sum(row.values()) for row in board.votes.values())
        self._recent = [(payload, votes), *self._recent[: self.KEEP - 1]]
        return votes


_votes_in = _VoteCounter()


@dataclass
class WsSink:
    """For all clients of a generator process: when an update arrived, keyed by how many
    votes the client had seen before it. The first vote an update newly shows is vote
    number `key` (0-based), whose send time the voter process knows: the pair gives the
    delay without relying on `seq`, which each service process numbers on its own."""

    arrivals: dict[int, list[float]] = field(default_factory=dict)
    closes: Counter[int] = field(default_factory=Counter)

    def arrival(self, votes_before: int, now: float) -> None:
        self.arrivals.setdefault(votes_before, []).append(now)


async def _ws_watchers(spec: LoadSpec, tally: Tally) -> None:
    """`connections` subscribers; connects as fast as the server accepts, then listens."""
    loop = asyncio.get_running_loop()
    sink = WsSink()
    path = f"/ws/contests/{spec.contest}/leaderboard"
    host = f"{spec.host}:{spec.port}"
    gate = asyncio.Semaphore(100)
    clients: list[WsClient] = []
    connected_at: list[float] = []

    async def one(i: int) -> None:
        async with gate:
            try:
                _, client = await loop.create_connection(
                    lambda: WsClient(path, host, sink), spec.host, spec.port)
                if await asyncio.wait_for(client.ready, 30):
                    clients.append(client)
                    connected_at.append(time.time())
                else:
                    tally.errors += 1
            except (OSError, TimeoutError):
                tally.errors += 1

    await asyncio.sleep(max(0.0, spec.start_at - time.time()))  # "connected in" counts
    await asyncio.gather(*(one(i) for i in range(spec.connections)))  # from here
    tally.extra["connected"] = len(clients)
    tally.extra["last_connected_at"] = [max(connected_at, default=0.0)]
    await asyncio.sleep(max(0.0, spec.start_at + spec.duration_s - time.time()))
    for client in clients:
        if client.transport is not None:
            client.transport.close()
    tally.extra["arrivals"] = dict(sink.arrivals)
    tally.extra["closes"] = dict(sink.closes)


async def _ws_votes(spec: LoadSpec, tally: Tally) -> None:
    """Votes at a steady rate, one at a time, with their send and acknowledgement times."""
    source = VoterSource(spec).requests()
    conn = await connect_http(spec.host, spec.port)
    await asyncio.sleep(max(0.0, spec.start_at - time.time()))
    sent: list[tuple[float, float]] = []
    for k in range(int(spec.duration_s * spec.rate)):
        delay = spec.start_at + k / spec.rate - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
        started = time.time()
        status, _ = await conn.request(next(source))
        tally.statuses[status] += 1
        if status == 201:
            tally.accepted += 1
            sent.append((started, time.time()))
    tally.extra["votes"] = sent


_RUNNERS: dict[str, Callable[[LoadSpec, Tally], Any]] = {
    "healthz": _closed_loop, "vote": _closed_loop, "vote_rate": _open_loop,
    "batch": _batches, "ws": _ws_watchers, "ws_votes": _ws_votes,
}


def run_load(spec: LoadSpec) -> Tally:
    """Entry point of a generator process for one phase."""
    _fast_loop()
    tally = Tally()
    cpu_before = time.process_time()
    asyncio.run(_RUNNERS[spec.kind](spec, tally))
    tally.cpu_s = time.process_time() - cpu_before
    return tally


def _warm_process() -> int:
    _fast_loop()
    import service.security.tokens  # noqa: F401  (import once, before any timed phase)

    return os.getpid()


# --------------------------------------------------------------------------- statistics


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, math.ceil(q / 100 * len(ordered)) - 1))
    return ordered[index]


def parse_histogram(metrics_text: str, name: str) -> dict[float, float]:
    """Cumulative bucket counts of a Prometheus histogram, summed over label sets."""
    buckets: dict[float, float] = {}
    pattern = re.compile(rf'^{name}_bucket\{{(.*?)le="([^"]+)"(.*?)\}} ([0-9.e+-]+)$')
    for line in metrics_text.splitlines():
        match = pattern.match(line)
        if match:
            le = math.inf if match.group(2) == "+Inf" else float(match.group(2))
            buckets[le] = buckets.get(le, 0.0) + float(match.group(4))
    return buckets


def bucket_counts(before: dict[float, float], after: dict[float, float]
                  ) -> list[tuple[float, int]]:
    """Per-bucket (non-cumulative) counts of what happened between two scrapes."""
    result = []
    previous = 0.0
    for le in sorted(after):
        cumulative = after[le] - before.get(le, 0.0)
        result.append((le, round(cumulative - previous)))
        previous = cumulative
    return result


# --------------------------------------------------------------------------- stores & server


class Admin:
    """Blocking admin calls to the server under test (stdlib HTTP)."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.token = token

    def call(self, method: str, path: str, body: Any = None, timeout: float = 30) -> Any:
        import urllib.error
        import urllib.request

        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.base + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{method} {path}: {exc.code} {exc.read()[:300]!r}") from None
        ctype = response.headers.get("content-type", "")
        return json.loads(raw) if "json" in ctype else raw.decode()

    def new_contest(self, label: str) -> str:
        import msgspec

        from service.contests.demo import demo_definition

        body: dict[str, Any] = msgspec.to_builtins(demo_definition())
        body.pop("id", None)
        body["name"] = f"Bench {label} {secrets.token_hex(3)}"
        body["vote_cap"] = CAP
        contest_id = str(self.call("POST", "/api/v1/contests", body)["id"])
        self.call("POST", f"/api/v1/contests/{contest_id}/window", {"state": "open"})
        return contest_id


@dataclass
class Stores:
    database_url: str
    redis_url: str
    embedded: bool
    folder: Path | None
    postgres_root: int | None = None
    redis_pid: int | None = None
    cleanup: list[Callable[[], None]] = field(default_factory=list)

    def close(self) -> None:
        for step in reversed(self.cleanup):
            with contextlib.suppress(Exception):
                step()


def _pid_file(folder: Path, name: str) -> int | None:
    for path in folder.rglob(name):
        with contextlib.suppress(OSError, ValueError, IndexError):
            return int(path.read_text().split()[0])
    return None


def open_stores(folder: Path, migrations: Path = REPO_ROOT / "migrations") -> Stores:
    """External stores (fresh database) when both URLs are set, else embedded ones;
    the database gets the `migrations`."""
    from service.stores.migrations import apply_url

    external_db, external_redis = os.environ.get("DATABASE_URL"), os.environ.get("REDIS_URL")
    if external_db and external_redis:
        from urllib.parse import urlparse, urlunparse

        import asyncpg

        name = f"silkvote_bench_{secrets.token_hex(4)}"

        async def admin(sql: str) -> None:
            conn = await asyncpg.connect(external_db)
            try:
                await conn.execute(sql)
            finally:
                await conn.close()

        asyncio.run(admin(f'CREATE DATABASE "{name}"'))
        url = urlunparse(urlparse(external_db)._replace(path="/" + name))
        stores = Stores(url, external_redis, False, None)
        stores.cleanup.append(lambda: asyncio.run(
            admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')))
    else:
        from service.stores.embedded import start_postgres, start_valkey

        pg_url, pg = start_postgres(folder / "postgres")
        stores = Stores(pg_url, "", True, folder)
        stores.cleanup.append(pg.cleanup)
        stores.redis_url, valkey = start_valkey(folder / "valkey")
        if valkey is not None:
            stores.cleanup.append(valkey.stop)
        stores.postgres_root = _pid_file(folder / "postgres", "postmaster.pid")
        stores.redis_pid = _pid_file(folder / "valkey", "valkey.pid")
    asyncio.run(apply_url(stores.database_url, migrations))
    return stores


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    admin: Admin
    workers: int
    log_path: Path

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(stores: Stores, folder: Path, workers: int, secrets_env: dict[str, str]
                 ) -> Server:
    port = free_port()
    env = dict(os.environ)
    env.update(DATABASE_URL=stores.database_url, REDIS_URL=stores.redis_url,
               DATA_DIR=str(folder / "data"), LOG_LEVEL="warning", LEADERBOARD_HZ="2",
               SELF_SERVICE_TOKENS="false", **secrets_env)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log_path = folder / f"server-{port}.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "service.cli", "serve", "--port", str(port),
         "--workers", str(workers)],
        env=env, cwd=REPO_ROOT, stdout=log_path.open("wb"), stderr=subprocess.STDOUT)
    server = Server(proc, port, Admin(f"http://127.0.0.1:{port}", secrets_env["ADMIN_TOKEN"]),
                    workers, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited:\n" + log_path.read_text()[-2000:])
        try:
            server.admin.call("GET", "/healthz", timeout=2)
            return server
        except Exception:
            time.sleep(0.2)
    server.stop()
    raise RuntimeError("server did not become healthy:\n" + log_path.read_text()[-2000:])


async def _ledger_count(database_url: str, contest: str) -> int:
    import asyncpg

    conn = await asyncpg.connect(database_url)
    try:
        return int(await conn.fetchval(
            "SELECT count(*) FROM votes WHERE contest_id = $1", contest))
    finally:
        await conn.close()


# --------------------------------------------------------------------------- phases


@dataclass
class PhaseResult:
    name: str
    label: str
    kind: str
    workers: int
    started: float
    duration_s: float
    tally: Tally
    cpu: dict[str, float]
    rss: dict[str, int] = field(default_factory=dict)
    commit_batches: list[tuple[float, int]] = field(default_factory=list)
    contest: str = ""

    @property
    def rate(self) -> float:
        """Completed requests per second over the steady part of the phase."""
        return sum(self.tally.statuses.values()) / self.duration_s

    @property
    def votes_per_s(self) -> float:
        return self.tally.accepted / self.duration_s

    def cpu_per_vote_us(self) -> dict[str, float]:
        accepted = max(self.tally.accepted, 1)
        return {name: seconds / accepted * 1e6 for name, seconds in self.cpu.items()}

    @classmethod
    def joined(cls, slices: list[PhaseResult]) -> PhaseResult:
        """One phase from slices of it run at different times (sums; peak memory)."""
        first = slices[0]
        tally = Tally()
        cpu: Counter[str] = Counter()
        rss: dict[str, int] = {}
        batches: Counter[float] = Counter()
        for part in slices:
            tally.merge(part.tally)
            cpu.update(part.cpu)
            for name, size in part.rss.items():
                rss[name] = max(rss.get(name, 0), size)
            batches.update(dict(part.commit_batches))
        return cls(first.name, first.label, first.kind, first.workers, first.started,
                   sum(part.duration_s for part in slices), tally, dict(cpu), rss,
                   sorted(batches.items()), first.contest)

    def summary(self) -> dict[str, Any]:
        lat = self.tally.latencies
        return {
            "name": self.name, "label": self.label, "workers": self.workers,
            "duration_s": round(self.duration_s, 2), "requests": sum(self.tally.statuses.values()),
            "rate": round(self.rate, 1), "accepted": self.tally.accepted,
            "accepted_per_s": round(self.votes_per_s, 1),
            "statuses": {str(k): v for k, v in sorted(self.tally.statuses.items())},
            "errors": self.tally.errors,
            "latency_ms": {f"p{q}": round(percentile(lat, q) * 1000, 2)
                           for q in (50, 90, 99, 99.9)} | {
                               "max": round(max(lat, default=math.nan) * 1000, 2)},
            "cpu_s": {k: round(v, 3) for k, v in self.cpu.items()},
            "generator_cpu_s": round(self.tally.cpu_s, 3),
            "commit_batches": self.commit_batches,
        }


@dataclass
class WsResult:
    workers: int
    clients: int
    connected: int
    connect_s: float
    updates: int
    delays: list[float]
    drops: dict[int, int]
    cpu_percent: float
    rss_mb: float
    votes: int
    per_update_clients: float


class Bench:
    """Runs the phases against one server; collects results and writes the report."""

    def __init__(self, plan: Plan, out_dir: Path, progress: Any) -> None:
        self.plan = plan
        self.out_dir = out_dir
        self.progress = progress
        self.t0 = time.time()
        self.phases: list[PhaseResult] = []  # what the tables report
        self.timeline: list[PhaseResult] = []  # every run as it happened, for the plot
        self.ws_runs: list[WsResult] = []  # one per server configuration (1, 2 workers)
        self.checks: list[dict[str, Any]] = []
        self.notes: list[str] = []
        self.executor: ProcessPoolExecutor | None = None
        self.secrets_env = {
            "ADMIN_TOKEN": "bench-admin-" + secrets.token_hex(8),
            "SIGNING_SECRET": "bench-signing-" + secrets.token_hex(8),
            "VOTER_HASH_KEY": "bench-voters-" + secrets.token_hex(8),
        }
        self.acknowledged: dict[str, int] = Counter()
        self.load_before = os.getloadavg()
        self.load_after = self.load_before
        self.stores_desc = ""

    # -- helpers

    def say(self, text: str) -> None:
        self.progress.console.print(text)

    def _start_executor(self) -> None:
        import multiprocessing

        procs = self.plan.generator_procs + 1  # +1 for the websocket vote poster
        self.executor = ProcessPoolExecutor(procs, mp_context=multiprocessing.get_context("spawn"))
        for future in [self.executor.submit(_warm_process) for _ in range(procs * 2)]:
            future.result()

    def _wait(self, futures: list[Future[Tally]], label: str, total_s: float) -> Tally:
        task = self.progress.add_task(label, total=total_s)
        started = time.time()
        while not all(f.done() for f in futures):
            self.progress.update(task, completed=min(time.time() - started, total_s))
            time.sleep(0.1)
        self.progress.update(task, completed=total_s)
        merged = Tally()
        for future in futures:
            merged.merge(future.result())
        return merged

    def _specs(self, kind: str, server: Server, duration: float, connections: int,
               **extra: Any) -> list[LoadSpec]:
        from service.contests.demo import DEMO_LINEUP, DEMO_VOTING_COUNTRIES

        procs = self.plan.generator_procs
        start_at = time.time() + 1.5
        return [LoadSpec(kind=kind, host="127.0.0.1", port=server.port, start_at=start_at,
                         duration_s=duration, connections=max(1, connections // procs),
                         worker=w, signing_secret=self.secrets_env["SIGNING_SECRET"],
                         countries=tuple(DEMO_VOTING_COUNTRIES),
                         entries=tuple(c for c, _, _ in DEMO_LINEUP), **extra)
                for w in range(procs)]

    def run_phase(self, server: Server, groups: ProcessGroups, name: str, label: str,
                  kind: str, duration: float, connections: int, contest: str = "",
                  **extra: Any) -> PhaseResult:
        assert self.executor is not None
        specs = self._specs(kind, server, duration, connections, contest=contest, **extra)
        metrics_before = parse_histogram(server.admin.call("GET", "/metrics"),
                                         "silkvote_commit_batch_votes")
        futures = [self.executor.submit(run_load, spec) for spec in specs]
        time.sleep(max(0.0, specs[0].start_at - time.time()))
        cpu_before = groups.cpu()
        tally = self._wait(futures, label, duration + 1.5)
        cpu_after = groups.cpu()
        elapsed = time.time() - specs[0].start_at
        metrics_after = parse_histogram(server.admin.call("GET", "/metrics"),
                                        "silkvote_commit_batch_votes")
        result = PhaseResult(
            name, label, kind, server.workers, specs[0].start_at - self.t0,
            min(duration, elapsed) if kind != "vote_rate" else duration, tally,
            {k: cpu_after[k] - cpu_before[k] for k in cpu_after}, groups.rss(),
            bucket_counts(metrics_before, metrics_after), contest)
        if contest:
            self.acknowledged[contest] += tally.accepted
        self.phases.append(result)
        self.timeline.append(result)
        lat = tally.latencies
        unit = "votes/s" if kind == "batch" else "req/s"
        figure = result.votes_per_s if kind == "batch" else result.rate
        self.say(f"  {label}: [bold]{figure:,.0f} {unit}[/bold], p50 "
                 f"{percentile(lat, 50) * 1000:.1f} ms, p99 {percentile(lat, 99) * 1000:.1f} ms, "
                 f"statuses {dict(sorted(tally.statuses.items()))}"
                 + (f", errors {tally.errors}" if tally.errors else ""))
        return result

    # -- the run

    def run(self) -> None:
        plan = self.plan
        folder = Path(tempfile.mkdtemp(prefix="silkvote-bench-"))
        self.say(f"[dim]working folder {folder}[/dim]")
        stores = open_stores(folder)
        self.stores_desc = ("embedded PostgreSQL and Valkey (temporary folder)" if stores.embedded
                            else "the machine's PostgreSQL and Redis (fresh database)")
        self.say(f"stores: {self.stores_desc}")
        self._start_executor()
        try:
            self._run_on(stores, folder, workers=1)
            if plan.two_workers:
                self._run_on(stores, folder, workers=2)
        finally:
            if self.executor is not None:
                self.executor.shutdown(cancel_futures=True)
            stores.close()
            shutil.rmtree(folder, ignore_errors=True)
        self.load_after = os.getloadavg()

    def _run_on(self, stores: Stores, folder: Path, workers: int) -> None:
        plan = self.plan
        server = start_server(stores, folder, workers, self.secrets_env)
        groups = ProcessGroups(server.proc.pid, stores.postgres_root, stores.redis_pid)
        suffix = "" if workers == 1 else f" ({workers} workers)"
        tag = f"w{workers}"
        try:
            admin = server.admin
            warm = admin.new_contest("warm-up")
            self.run_phase(server, groups, f"warmup{tag}", "warm-up" + suffix, "vote",
                           plan.warmup_s, plan.concurrency, warm, tag=f"warm{tag}")
            self.phases.pop()
            self.timeline.pop()
            vote = self.run_yardstick_and_votes(server, groups, tag, suffix)
            if workers == 1:
                rate = max(vote.rate / 2, 10.0)
                paced = admin.new_contest("paced")
                self.run_phase(server, groups, "paced", f"votes at {rate:,.0f}/s (half rate)",
                               "vote_rate", plan.phase_s, plan.concurrency, paced,
                               rate=rate / plan.generator_procs, tag="paced")
                batch = admin.new_contest("batch")
                key = admin.call("POST", f"/api/v1/contests/{batch}/aggregator-keys",
                                 {"name": "bench"})["key"]
                self.run_phase(server, groups, "batch", "10,000-vote batches", "batch",
                               plan.phase_s, plan.batch_connections * plan.generator_procs,
                               batch, token=key, tag="b", resend_every=5)
            self.run_websockets(server, groups, workers)
            self.verify(server, stores)
        finally:
            server.stop()

    def run_yardstick_and_votes(self, server: Server, groups: ProcessGroups, tag: str,
                                suffix: str) -> PhaseResult:
        """/healthz and single votes in alternating slices; the single-vote phase.

        The host's speed drifts (other tenants, CPU steal), by a third within minutes on
        a shared VM. Taking turns makes the drift weigh on both alike, so their ratio is
        measured, not the host's mood between two phases.
        """
        plan = self.plan
        votes = server.admin.new_contest("votes")
        slice_s = plan.phase_s / plan.alternations
        slices: dict[str, list[PhaseResult]] = {"healthz": [], "vote": []}
        for turn in range(plan.alternations):
            slices["healthz"].append(self.run_phase(
                server, groups, f"healthz{tag}", "/healthz" + suffix, "healthz", slice_s,
                plan.concurrency))
            slices["vote"].append(self.run_phase(
                server, groups, f"votes{tag}", "single votes" + suffix, "vote", slice_s,
                plan.concurrency, votes, tag=f"v{tag}t{turn}"))
        for part in slices["healthz"] + slices["vote"]:
            self.phases.remove(part)
        joined = [PhaseResult.joined(parts) for parts in slices.values()]
        self.phases += joined
        return joined[1]

    def run_websockets(self, server: Server, groups: ProcessGroups, workers: int) -> None:
        assert self.executor is not None
        plan = self.plan
        contest = server.admin.new_contest("watchers")
        connect_at = time.time() + 0.5
        votes_at = connect_at + plan.ws_connect_s
        listen_until = votes_at + plan.ws_s + 2.0
        watcher_specs = [
            dataclasses.replace(spec, start_at=connect_at, duration_s=listen_until - connect_at)
            for spec in self._specs("ws", server, 0, plan.ws_clients, contest=contest)]
        voter_spec = self._specs("ws_votes", server, plan.ws_s, 1, contest=contest,
                                 rate=plan.ws_votes_per_s, tag="ws")[0]
        voter_spec = dataclasses.replace(voter_spec, start_at=votes_at)
        futures = [self.executor.submit(run_load, s) for s in watcher_specs]
        futures.append(self.executor.submit(run_load, voter_spec))
        task = self.progress.add_task(f"{plan.ws_clients:,} websocket watchers ({workers} w)",
                                      total=listen_until - connect_at)
        time.sleep(max(0.0, votes_at - time.time()))
        cpu_before, t_before = groups.cpu(), time.time()
        rss_peak = 0
        cpu_after, t_after = cpu_before, t_before
        while not all(f.done() for f in futures):  # sample once a second: the bench's own
            now = time.time()                      # /proc reading competes for the cores
            self.progress.update(task, completed=min(now - connect_at, listen_until - connect_at))
            if now < votes_at + plan.ws_s:
                pids = groups.pids()
                rss_peak = max(rss_peak, groups.rss(pids)["service"])
                cpu_after, t_after = groups.cpu(pids), now
            time.sleep(1.0)
        tally = Tally()
        for future in futures:
            tally.merge(future.result())
        ack = tally.accepted
        self.acknowledged[contest] += ack
        votes: list[tuple[float, float]] = tally.extra.get("votes", [])
        arrivals: dict[int, list[float]] = tally.extra.get("arrivals", {})
        delays = [t - votes[before][0] for before, times in arrivals.items()
                  if before < len(votes) for t in times]
        connected_now = max(int(tally.extra.get("connected", 0)), 1)
        updates = round(len(delays) / connected_now)  # updates each client got, on average
        connected = int(tally.extra.get("connected", 0))
        last = max(tally.extra.get("last_connected_at", [connect_at]))
        cpu_s = sum(cpu_after.values()) - sum(cpu_before.values())
        ws = WsResult(
            workers, plan.ws_clients, connected, last - connect_at, updates, delays,
            {int(k): v for k, v in tally.extra.get("closes", {}).items()},
            (cpu_after["service"] - cpu_before["service"]) / max(t_after - t_before, 1e-9) * 100,
            rss_peak / 2**20, ack, len(delays) / max(updates, 1))
        self.progress.update(task, completed=listen_until - connect_at)
        self.ws_runs.append(ws)
        self.notes.append(f"websocket phase ({workers} workers): stores+service CPU "
                          f"{cpu_s:.1f} s over {t_after - t_before:.1f} s")
        self.say(f"  websockets ({workers} workers): {connected:,}/{plan.ws_clients:,} connected "
                 f"in {last - connect_at:.1f} s, {updates} updates, p99 delay "
                 f"[bold]{percentile(delays, 99) * 1000:.0f} ms[/bold], service CPU "
                 f"{ws.cpu_percent:.0f}%, RSS {ws.rss_mb:.0f} MB, drops {ws.drops or 'none'}")

    def verify(self, server: Server, stores: Stores) -> None:
        for contest, acknowledged in self.acknowledged.items():
            if any(c["contest"] == contest for c in self.checks):
                continue
            ledger = asyncio.run(_ledger_count(stores.database_url, contest))
            found = server.admin.call("POST", f"/api/v1/contests/{contest}/verify")
            check = {"contest": contest, "acknowledged": acknowledged, "ledger": ledger,
                     "live": found.get("live_total"), "tallies_match": bool(found.get("ok")),
                     "ok": ledger == acknowledged and bool(found.get("ok"))}
            self.checks.append(check)
            mark = "[green]OK[/green]" if check["ok"] else "[red]MISMATCH[/red]"
            self.say(f"  ledger check {contest}: acknowledged {acknowledged:,}, ledger "
                     f"{ledger:,}, live {check['live']:,} {mark}")

    # -- results

    def phase(self, name: str) -> PhaseResult | None:
        return next((p for p in self.phases if p.name == name), None)

    def headline(self) -> dict[str, Any]:
        healthz, votes = self.phase("healthzw1"), self.phase("votesw1")
        paced, batch = self.phase("paced"), self.phase("batch")
        out: dict[str, Any] = {}
        if healthz and votes:
            out["healthz_rps"] = healthz.rate
            out["vote_rps"] = votes.rate
            out["ratio"] = votes.rate / healthz.rate if healthz.rate else math.nan
        if paced:
            out["paced_rate"] = paced.rate
            out["paced_p50_ms"] = percentile(paced.tally.latencies, 50) * 1000
            out["paced_p99_ms"] = percentile(paced.tally.latencies, 99) * 1000
        if batch:
            out["batch_votes_per_s"] = batch.votes_per_s
        if votes:
            out["cpu_per_vote_us"] = votes.cpu_per_vote_us()
        if batch:
            out["cpu_per_batch_vote_us"] = batch.cpu_per_vote_us()
        if self.ws_runs:  # the headline is the run with one worker per core, when there is one
            best = max(self.ws_runs, key=lambda run: run.workers)
            out["ws_p99_ms"] = percentile(best.delays, 99) * 1000
            out["ws_workers"] = best.workers
        h2, v2 = self.phase("healthzw2"), self.phase("votesw2")
        if h2 and v2:
            out["healthz_rps_2w"], out["vote_rps_2w"] = h2.rate, v2.rate
        out["ledger_ok"] = all(c["ok"] for c in self.checks) and bool(self.checks)
        return out


# --------------------------------------------------------------------------- report


def machine_facts() -> dict[str, str]:
    model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, IndexError, ValueError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 2**20:.0f} GiB"

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True,
                                  text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return {"cores": str(os.cpu_count()), "cpu": model, "memory": memory,
            "kernel": platform.release(), "python": platform.python_version(),
            "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "commit": commit}


def _fmt_ms(seconds: float) -> str:
    return "–" if math.isnan(seconds) else f"{seconds * 1000:,.1f}"


def write_plots(bench: Bench, img_dir: Path) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    img_dir.mkdir(parents=True, exist_ok=True)
    names: dict[str, str] = {}
    colors = {"healthz": "#8c8c8c", "vote": "#1f77b4", "vote_rate": "#2ca02c",
              "batch": "#d62728"}

    # 1. throughput over time
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(10, 6.5), sharex=True)
    labelled: set[str] = set()
    for p in bench.timeline:
        series = p.tally.accepted_per_second if p.kind == "batch" else p.tally.per_second
        xs = [s for s in sorted(series) if 0 <= s < p.duration_s]
        ys = [series[s] for s in xs]
        axis = bottom if p.kind == "batch" else top
        axis.plot([p.started + s + 0.5 for s in xs], ys, marker="o", ms=3,
                  color=colors.get(p.kind, "k"),
                  label="_nolegend_" if p.label in labelled else p.label,
                  linestyle="--" if p.workers > 1 else "-")
        labelled.add(p.label)
    top.set_ylabel("requests per second")
    top.set_title("Throughput over the run (one point per second)")
    top.legend(fontsize=8, loc="best")
    top.grid(alpha=0.3)
    bottom.set_ylabel("durable votes per second")
    bottom.set_xlabel("seconds since the bench started")
    bottom.axhline(50_000, color="#d62728", alpha=0.4, linestyle=":", label="target 50,000/s")
    bottom.legend(fontsize=8, loc="best")
    bottom.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(img_dir / "bench-throughput.png", dpi=110)
    plt.close(fig)
    names["throughput"] = "bench-throughput.png"

    # 2. latency percentiles
    quantiles: list[float] = [50, 90, 99, 99.9]
    series_lat: list[tuple[str, list[float]]] = [
        (p.label, p.tally.latencies) for p in bench.phases if p.tally.latencies]
    series_lat += [(f"websocket update delay ({ws.workers} w)", ws.delays)
                   for ws in bench.ws_runs if ws.delays]
    fig, ax = plt.subplots(figsize=(10, 4.8))
    width = 0.8 / max(len(series_lat), 1)
    for i, (label, values) in enumerate(series_lat):
        heights = [percentile(values, q) * 1000 for q in quantiles]
        lefts = [j + i * width for j in range(len(quantiles))]
        bars = ax.bar(lefts, heights, width, label=label)
        ax.bar_label(bars, fmt="%.0f", fontsize=6, padding=1)
    ax.set_xticks([q + width * (len(series_lat) - 1) / 2 for q in range(len(quantiles))],
                  [f"p{q:g}" for q in quantiles])
    ax.set_yscale("log")
    ax.set_ylabel("milliseconds (log scale)")
    ax.axhline(50, color="#2ca02c", linestyle=":", alpha=0.7, label="vote p99 target 50 ms")
    ax.axhline(1000, color="#9467bd", linestyle=":", alpha=0.7, label="websocket target 1 s")
    ax.set_title("Latency percentiles by phase (batch = one 10,000-vote request)")
    ax.legend(fontsize=7, ncol=2)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(img_dir / "bench-latency.png", dpi=110)
    plt.close(fig)
    names["latency"] = "bench-latency.png"

    # 3. commit batch sizes
    fig, ax = plt.subplots(figsize=(10, 4))
    shown = [p for p in bench.phases if p.kind in ("vote", "vote_rate")
             and any(n for _, n in p.commit_batches)]
    width = 0.8 / max(len(shown), 1)
    labels: list[str] = []
    for i, p in enumerate(shown):
        buckets = p.commit_batches
        labels = [f"≤{le:g}" if not math.isinf(le) else ">10000" for le, _ in buckets]
        total = sum(n for _, n in buckets) or 1
        ax.bar([j + i * width for j in range(len(buckets))],
               [n / total * 100 for _, n in buckets], width, label=p.label)
    ax.set_xticks([j + width * (len(shown) - 1) / 2 for j in range(len(labels))], labels,
                  fontsize=8)
    ax.set_xlabel("votes per ledger transaction (group commit)")
    ax.set_ylabel("% of transactions")
    ax.set_title("Commit batch sizes of the single-vote endpoint")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    fig.savefig(img_dir / "bench-batch-sizes.png", dpi=110)
    plt.close(fig)
    names["batches"] = "bench-batch-sizes.png"
    return names


def _verdict(ok: bool) -> str:
    return "✅ met" if ok else "❌ missed"


def render_report(bench: Bench, facts: dict[str, str], images: dict[str, str],
                  img_prefix: str, history: list[RunRecord] | None = None) -> str:
    h = bench.headline()
    plan = bench.plan
    lines = [
        "# SilkVote benchmarks",
        "",
        "Written by `silkvote bench`" + (" --quick (short phases: indicative only)"
                                         if plan.quick else "") +
        ". Re-run it to refresh this page; the [scaling model](scaling.md) is built on "
        "the per-vote CPU cost measured here.",
        "",
        f"**Machine:** {facts['cores']} cores ({facts['cpu']}), {facts['memory']} RAM, "
        f"Linux {facts['kernel']}, Python {facts['python']} · **date** {facts['date']} · "
        f"**commit** `{facts['commit']}`  ",
        f"**Stores:** {bench.stores_desc}, on the same machine.  ",
        f"**Generator:** the bench's own asyncio HTTP/1.1 keep-alive and websocket clients "
        f"(raw protocols on uvloop) in {plan.generator_procs} separate processes. "
        "Generator, service, PostgreSQL and Redis all share the same "
        f"{facts['cores']} cores, so every figure is a lower bound on what the service does "
        "with a machine to itself; the `/healthz` figure from the same generator, "
        "concurrency and server is the yardstick.  ",
        f"**Load average** before/after the run: "
        f"{' / '.join(f'{x:.1f}' for x in bench.load_before)} → "
        f"{' / '.join(f'{x:.1f}' for x in bench.load_after)} "
        "(other work on the machine shows up here).",
        "",
        "## Headline",
        "",
        "| measure | result | target | |",
        "|---|---|---|---|",
    ]
    if "ratio" in h:
        lines.append(f"| `/healthz` throughput, {plan.concurrency} connections, 1 worker | "
                     f"{h['healthz_rps']:,.0f} req/s | yardstick | |")
        lines.append(f"| single-vote throughput, same concurrency | {h['vote_rps']:,.0f} "
                     f"votes/s = **{h['ratio']:.0%} of `/healthz`** | ≥ 50% | "
                     f"{_verdict(h['ratio'] >= 0.5)} |")
    if "paced_p99_ms" in h:
        lines.append(f"| vote latency at half that rate ({h['paced_rate']:,.0f}/s) | "
                     f"p50 {h['paced_p50_ms']:.1f} ms, **p99 {h['paced_p99_ms']:.1f} ms** | "
                     f"p99 ≤ 50 ms | {_verdict(h['paced_p99_ms'] <= 50)} |")
    if "batch_votes_per_s" in h:
        lines.append(f"| batch endpoint, 10,000-vote batches, "
                     f"{plan.batch_connections * plan.generator_procs} concurrent | "
                     f"**{h['batch_votes_per_s']:,.0f} durable votes/s** | ≥ 50,000/s | "
                     f"{_verdict(h['batch_votes_per_s'] >= 50_000)} |")
    for ws in bench.ws_runs:
        p99 = percentile(ws.delays, 99) * 1000
        lines.append(f"| websocket: {ws.connected:,} subscribers, 2 updates/s, delay vote → "
                     f"update (p99), {ws.workers} worker{'s' if ws.workers > 1 else ''} | "
                     f"**{p99:,.0f} ms** | ≤ 1 s | {_verdict(p99 <= 1000)} |")
    if "cpu_per_vote_us" in h:
        c = h["cpu_per_vote_us"]
        lines.append(f"| CPU per accepted single vote | service {c['service']:.0f} µs, "
                     f"PostgreSQL {c['postgres']:.0f} µs, Redis {c['redis']:.0f} µs | report | |")
    if "cpu_per_batch_vote_us" in h:
        c = h["cpu_per_batch_vote_us"]
        lines.append(f"| CPU per accepted batch vote | service {c['service']:.1f} µs, "
                     f"PostgreSQL {c['postgres']:.1f} µs, Redis {c['redis']:.2f} µs | report | |")
    if "vote_rps_2w" in h:
        lines.append(f"| 2 workers: `/healthz` / single votes | {h['healthz_rps_2w']:,.0f} / "
                     f"{h['vote_rps_2w']:,.0f} req/s "
                     f"({h['vote_rps_2w'] / h['healthz_rps_2w']:.0%}) | (same 2 cores) | |")
    lines.append(f"| ledger holds exactly the acknowledged votes | "
                 f"{'yes, in every contest' if h['ledger_ok'] else '**NO** — see below'} | "
                 f"exact | {_verdict(h['ledger_ok'])} |")
    lines += ["", f"![Throughput over time]({img_prefix}{images['throughput']})", ""]
    lines += history_section(history or [])
    lines += ["## Phases", "",
              "| phase | duration | requests | rate | accepted | p50 ms | p90 ms | p99 ms | "
              "max ms | statuses | service CPU s | PG CPU s | Redis CPU s | generator CPU s |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for p in bench.phases:
        lat = p.tally.latencies
        rate = (f"{p.votes_per_s:,.0f} votes/s ({p.rate:.1f} batches/s)" if p.kind == "batch"
                else f"{p.rate:,.0f}/s")
        statuses = ", ".join(f"{k}×{v:,}" for k, v in sorted(p.tally.statuses.items()))
        lines.append(
            f"| {p.label} | {p.duration_s:.0f} s | {sum(p.tally.statuses.values()):,} | {rate} | "
            f"{p.tally.accepted:,} | {_fmt_ms(percentile(lat, 50))} | "
            f"{_fmt_ms(percentile(lat, 90))} | {_fmt_ms(percentile(lat, 99))} | "
            f"{_fmt_ms(max(lat, default=math.nan))} | {statuses} | "
            f"{p.cpu.get('service', 0):.1f} | {p.cpu.get('postgres', 0):.1f} | "
            f"{p.cpu.get('redis', 0):.1f} | {p.tally.cpu_s:.1f} |")
    lines += [
        "",
        "Closed-loop phases keep every connection busy (the next request leaves when the "
        "previous answer arrives). "
        + (f"`/healthz` and single votes take turns in {plan.alternations} slices of "
           f"{plan.phase_s / plan.alternations:g} s each, so a drift in the host's speed "
           "weighs on both alike; their rows sum the slices. " if plan.alternations > 1
           else "") +
        "The half-rate phase is open-loop: requests are scheduled "
        "at a fixed rate and latency counts from the *scheduled* time, so a stall is not "
        "hidden by the generator waiting for it. Batch phases re-send every 5th batch "
        "unchanged (counted as duplicates, never twice).",
        "",
        f"![Latency percentiles]({img_prefix}{images['latency']})",
        "",
        "## CPU per accepted vote",
        "",
        "User+system CPU from `/proc/<pid>/stat` of the service process tree, the PostgreSQL "
        "postmaster and its backends, and the Redis server, over the phase, divided by the "
        "votes it accepted. Redis work here is the live tallies and the pub/sub notice (one "
        "script call per commit batch) and the shared rate counters of busy voters.",
        "",
        "| phase | service µs/vote | PostgreSQL µs/vote | Redis µs/vote | total µs/vote | "
        "votes/s per busy core |",
        "|---|---|---|---|---|---|",
    ]
    for p in bench.phases:
        if p.kind in ("vote", "vote_rate", "batch") and p.tally.accepted:
            c = p.cpu_per_vote_us()
            total = sum(c.values())
            lines.append(f"| {p.label} | {c['service']:.1f} | {c['postgres']:.1f} | "
                         f"{c['redis']:.2f} | {total:.1f} | {1e6 / total:,.0f} |")
    lines += ["", "## Commit batch sizes (group commit)", "",
              "From the `silkvote_commit_batch_votes` histogram in `/metrics`, scraped before "
              "and after each phase.", ""]
    for p in bench.phases:
        if p.kind in ("vote", "vote_rate") and p.commit_batches:
            total = sum(n for _, n in p.commit_batches)
            if not total:
                continue
            mean = p.tally.accepted / total if total else 0
            cells = ", ".join(f"≤{le:g}: {n:,}" for le, n in p.commit_batches
                              if n and not math.isinf(le))
            lines.append(f"- **{p.label}**: {total:,} transactions, ≈{mean:.1f} votes each "
                         f"({cells})")
    lines += ["", f"![Commit batch sizes]({img_prefix}{images['batches']})", ""]
    if bench.ws_runs:
        lines += websocket_section(bench.ws_runs, plan)
    lines += ["## Ledger check", "",
              "After the phases, for every contest the bench voted in: the acknowledged votes "
              "(HTTP 201s, or the `accepted` count of batches) against `SELECT count(*) FROM "
              "votes` for the contest, and `POST …/verify` (live tallies against the ledger).",
              "", "| contest | acknowledged | ledger rows | live tallies | result |",
              "|---|---|---|---|---|"]
    for c in bench.checks:
        lines.append(f"| `{c['contest']}` | {c['acknowledged']:,} | {c['ledger']:,} | "
                     f"{c['live']:,} | {'exact' if c['ok'] else '**MISMATCH**'} |")
    lines += ["", "## Reproduce", "", "```sh",
              "make bench                 # = .venv/bin/silkvote bench (5–11 minutes, by host)",
              "silkvote bench --quick     # ≈30 s smoke run, written to var/bench-quick/",
              "DATABASE_URL=postgresql://… REDIS_URL=redis://… silkvote bench  # external stores",
              "```", "",
              "The Locust scenarios in `loadtests/` (see its README) replay realistic show "
              "traffic; this page is the throughput and latency yardstick.", ""]
    if bench.notes:
        lines += ["Notes: " + "; ".join(bench.notes) + ".", ""]
    return "\n".join(lines)


def merge_scoring_section(new_text: str, old_text: str) -> str:
    """Keep the scoring engineer's `## Scoring engine` section (to the next `## `)."""
    start = old_text.find(SCORING_HEADING)
    if start < 0:
        return new_text
    rest = old_text[start:]
    following = re.search(r"^## (?!Scoring engine)", rest[len(SCORING_HEADING):], re.M)
    section = rest if following is None else rest[:len(SCORING_HEADING) + following.start()]
    return new_text.rstrip() + "\n\n" + section.rstrip() + "\n"


def websocket_section(runs: list[WsResult], plan: Plan) -> list[str]:
    """The websocket part of the report: one column per server configuration."""
    first = runs[0]
    head = " | ".join(f"{r.workers} worker{'s' if r.workers > 1 else ''}" for r in runs)

    def row(label: str, cell: Callable[[WsResult], str]) -> str:
        return f"| {label} | " + " | ".join(cell(r) for r in runs) + " |"

    def delays(r: WsResult) -> str:
        return " / ".join(_fmt_ms(percentile(r.delays, q)) for q in (50, 90, 99)) + " / " + \
            _fmt_ms(max(r.delays, default=math.nan)) + " ms"

    return [
        "## Live leaderboard websockets", "",
        f"{first.clients:,} subscribers connect (raw websocket clients in "
        f"{plan.generator_procs} processes). Then one voter casts {plan.ws_votes_per_s:g} "
        f"votes/s for {plan.ws_s:g} s, so the board changes before every tick. For each "
        "update the delay is measured from the *send* time of the oldest vote it newly "
        "contains to its arrival at each client — a conservative reading of “commit → "
        "screen”. Clients match updates to votes by the vote counts they show, never by "
        "`seq`, which each service process numbers on its own. With several workers, the "
        "operating system spreads the connections over the processes and each one "
        "broadcasts to its own share.", "",
        f"| measure | {head} |", "|---|" + "---|" * len(runs),
        row("connected", lambda r: f"{r.connected:,} in {r.connect_s:.1f} s"),
        row("updates per client (mean)", lambda r: str(r.updates)),
        row("deliveries measured", lambda r: f"{len(r.delays):,}"),
        row("delay p50 / p90 / p99 / max", delays),
        row("service CPU while updating", lambda r: f"{r.cpu_percent:.0f}% of one core"),
        row("service RSS (peak)", lambda r: f"{r.rss_mb:,.0f} MB"),
        row("clients dropped (close codes)", lambda r: str(r.drops or "none")), "",
        "Each tick the hub scores the standings once, frames them once as a websocket "
        "message and writes the same bytes to every client that keeps up, straight to its "
        "socket (no task, no re-encoding per client), so the cost per client is one "
        "`write()` — see `silkvote_leaderboard_fanout_seconds` in `/metrics`. Each process "
        "keeps its long-lived objects (start-up state, the connections) out of full "
        "garbage collections (`service/live/heap.py`): at 10,000 clients a full "
        "collection otherwise stops the process for about 0.9 s.", "",
    ]


def run_record(bench: Bench, facts: dict[str, str]) -> RunRecord:
    h = bench.headline()
    return RunRecord(
        facts["date"], facts["commit"], h.get("healthz_rps"), h.get("ratio"),
        h.get("paced_p99_ms"), h.get("batch_votes_per_s"),
        {str(ws.workers): percentile(ws.delays, 99) * 1000 for ws in bench.ws_runs})


def write_report(bench: Bench, out_dir: Path) -> Path:
    img_dir = out_dir / "img"
    images = write_plots(bench, img_dir)
    page = out_dir / "benchmarks.md"
    facts = machine_facts()
    history = record_run(img_dir / HISTORY_FILE, run_record(bench, facts))
    text = render_report(bench, facts, images, "img/", history)
    old = page.read_text() if page.is_file() else ""
    page.parent.mkdir(parents=True, exist_ok=True)
    page.write_text(merge_scoring_section(text, old))
    (out_dir / "img" / "bench-results.json").write_text(json.dumps(
        {"headline": bench.headline(), "phases": [p.summary() for p in bench.phases],
         "checks": bench.checks}, indent=1, default=str))
    return page


def run_bench(plan: Plan, out_dir: Path) -> int:
    """The `silkvote bench` command: run, print a summary, write the report."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    with Progress(TextColumn("[progress.description]{task.description:<40}"), BarColumn(),
                  TextColumn("{task.percentage:>3.0f}%"), TimeElapsedColumn(),
                  console=console) as progress:
        bench = Bench(plan, out_dir, progress)
        bench.run()
    page = write_report(bench, out_dir)
    h = bench.headline()
    console.print(f"\nwrote [bold]{page}[/bold] and plots in {out_dir / 'img'}")
    if "ratio" in h:
        console.print(f"healthz {h['healthz_rps']:,.0f} req/s · votes {h['vote_rps']:,.0f}/s "
                      f"({h['ratio']:.0%}) · p99 at half rate {h.get('paced_p99_ms', 0):.1f} ms"
                      f" · batch {h.get('batch_votes_per_s', 0):,.0f} votes/s"
                      + (f" · ws p99 {h['ws_p99_ms']:,.0f} ms" if "ws_p99_ms" in h else ""))
    if not h["ledger_ok"]:
        console.print("[red]the ledger does not hold exactly the acknowledged votes[/red]")
        return 1
    return 0
