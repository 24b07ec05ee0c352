"""The load loops a generator process runs for one phase.

Each phase kind is one loop: closed-loop clients (the next request leaves when the
answer arrives) for throughput, an open-loop schedule (latency from the *scheduled*
send time, so a stall is not hidden by the generator waiting for it) for latency at a
given rate, aggregators' batches, websocket watchers and the one voter they watch.
They run in processes of their own so that the bench's bookkeeping never stalls them.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from loadtests.bench.http_client import HttpConnection, connect_http, fast_loop, http_request
from loadtests.bench.tally import LoadSpec, Tally, second_of
from loadtests.bench.voters import VoterSource, batch_template
from loadtests.bench.ws_client import WsClient, WsSink

# The trivial requests votes are measured against: `/healthz` asks both stores (through
# one shared check), `/livez` nothing at all (the ping: no I/O, the server's own floor).
YARDSTICKS = {"healthz": "/healthz", "ping": "/livez"}


async def request_or_count_error(conn: HttpConnection, raw: bytes, tally: Tally
                                 ) -> tuple[int, bytes] | None:
    """The answer to one request, or None (counted as an error) if the connection broke."""
    try:
        return await conn.request(raw)
    except ConnectionError:
        tally.errors += 1
        return None


async def _closed_loop(spec: LoadSpec, tally: Tally) -> None:
    """`connections` clients, each sending its next request as soon as one is answered."""
    host = f"{spec.host}:{spec.port}"
    if spec.kind in YARDSTICKS:
        raw = http_request("GET", YARDSTICKS[spec.kind], host)
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
            if status == 201 or (spec.kind in YARDSTICKS and status == 200):
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
                tally.accepted_per_second[second_of(done, spec)] += result["accepted"]
                tally.extra["resent"] = tally.extra.get("resent", 0) + int(resend)

    await asyncio.gather(*(client(i, c) for i, c in enumerate(conns)))


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
    "healthz": _closed_loop, "ping": _closed_loop, "vote": _closed_loop, "vote_rate": _open_loop,
    "batch": _batches, "ws": _ws_watchers, "ws_votes": _ws_votes,
}


def run_load(spec: LoadSpec) -> Tally:
    """Entry point of a generator process for one phase."""
    fast_loop()
    tally = Tally()
    cpu_before = time.process_time()
    asyncio.run(_RUNNERS[spec.kind](spec, tally))
    tally.cpu_s = time.process_time() - cpu_before
    return tally


def warm_process() -> int:
    fast_loop()
    import service.security.tokens  # noqa: F401  (import once, before any timed phase)

    return os.getpid()
