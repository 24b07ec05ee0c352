"""The leaderboard hub of one service process.

Votes taken by any process publish a "changed" notice on Redis; every hub listens,
marks the contest dirty, and on its next tick (at most `LEADERBOARD_HZ` a second)
computes the standings once, encodes them once, and sends the same text to every
subscriber — as one ready websocket frame where the server allows it (`wire.py`). A
subscriber that falls `QUEUE_LIMIT` messages behind is dropped rather than allowed to
slow the others; it reconnects and gets a fresh snapshot.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from litestar.types import WebSocketSendEvent

from service.contests.cache import ContestCache
from service.contests.events import ContestEvent
from service.core import metrics
from service.core.background import stop_tasks
from service.live.eager import start_eagerly
from service.live.heap import HeapPolicy
from service.live.wire import WriteFrame, text_frame
from service.results.compute import ResultsReader
from service.results.views import ResultsView
from service.stores import redis_keys
from service.stores.redis import create_pubsub_redis

log = logging.getLogger("silkvote.live")
QUEUE_LIMIT = 16  # updates a client may fall behind before it is dropped
_event_decoder = msgspec.json.Decoder(ContestEvent)


Send = Callable[[WebSocketSendEvent], Awaitable[None]]  # the socket's ASGI send


@dataclass(frozen=True, slots=True)
class Message:
    """One websocket message, built once per tick and shared by every client."""

    event: WebSocketSendEvent  # for the ASGI send
    wire: bytes  # the same message as a ready websocket frame, for `WriteFrame`


@dataclass(eq=False)
class Subscriber:
    """One websocket client: every message is delivered in order, or the client is dropped.

    A client that keeps up gets each message on the spot: written as a ready frame when
    the server offers `write` (see `wire.py`), otherwise through the ASGI `send`, started
    eagerly (see `eager.py`) so it needs no task or queue wake-up. While a send to a slow
    client is blocked, later messages wait in `backlog`; past `QUEUE_LIMIT` of them the
    client is dropped: `ended` is set, `on_end` wakes the socket handler, and the
    handler closes the socket with 4008.
    """

    contest: str
    full: bool
    send: Send
    write: WriteFrame | None = None
    backlog: deque[Message] = field(default_factory=deque)
    sending: asyncio.Task[None] | None = None
    dropped: bool = False
    read_token: str | None = None  # the id of the read token that opened it, if one did
    revoked: bool = False  # ended because that token was revoked
    ended: bool = False
    on_end: Callable[[], object] | None = None  # set by the socket handler that waits

    def offer(self, message: Message) -> None:
        if self.ended:
            return
        if self.sending is not None:  # a send is blocked on this client: queue behind it
            if len(self.backlog) >= QUEUE_LIMIT:
                self.drop()
            else:
                self.backlog.append(message)
            return
        if self.write is not None and self.write(message.wire):
            return
        self.sending = start_eagerly(self._deliver(message))

    def drop(self) -> None:
        """Stop sending to a client that fell too far behind; it reconnects for a snapshot."""
        self.dropped = True
        self.stop()
        metrics.WS_DROPPED.inc()

    def stop(self) -> None:
        """Send nothing more, and wake the socket handler so it finishes."""
        self.backlog.clear()
        if not self.ended:
            self.ended = True
            if self.on_end is not None:
                self.on_end()

    async def _deliver(self, message: Message) -> None:
        try:
            await self.send(message.event)
            while self.backlog and not self.ended:
                await self.send(self.backlog.popleft().event)
        except Exception:  # the client went away mid-send: its handler ends on its own
            self.stop()
        finally:
            self.sending = None


@dataclass(eq=False)
class SentView:
    """One view (public or full) of a contest as this process last encoded it.

    Each view counts its own `seq`: a vote on a hidden board changes the full view only,
    and a public client must not hear of it, not even as an update that shows nothing
    new (its timing alone tells a watcher when votes land).
    """

    seq: int = 0
    view: ResultsView | None = None
    encoded: bytes = b""

    def take(self, view: ResultsView) -> bool:
        """Keep the view (re-encoded, for a fresh `as_of` on snapshots); True when what
        it shows changed, `as_of` aside: then its `seq` moves on."""
        last = self.view
        changed = last is None or msgspec.structs.replace(view, as_of=last.as_of) != last
        self.view, self.encoded = view, msgspec.json.encode(view)
        if changed:
            self.seq += 1
        return changed


@dataclass(eq=False)
class ContestFeed:
    """The encoded standings of one contest in this process, and who receives them."""

    dirty: bool = True
    public: SentView = field(default_factory=SentView)
    full: SentView = field(default_factory=SentView)
    subscribers: set[Subscriber] = field(default_factory=set)
    joining: int = 0  # clients between arrival and registration: keep the feed alive
    # Unix time at which the views change with no notice (a hidden board's scheduled
    # close: `results_visibility` shows it then); None when nothing is scheduled
    refresh_at: float | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def frame(kind: str, seq: int, results: bytes) -> Message:
    """One websocket message, as an ASGI event and as a frame: built once, sent to all."""
    text = f'{{"type":"{kind}","seq":{seq},"results":{results.decode()}}}'
    return Message({"type": "websocket.send", "bytes": None, "text": text},
                   text_frame(text.encode()))


class LeaderboardHub:
    def __init__(self, results: ResultsReader, contests: ContestCache, redis_url: str,
                 hz: float) -> None:
        self._results = results
        self._contests = contests
        self._redis_url = redis_url
        self._feeds: dict[str, ContestFeed] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._period_s = 1.0 / hz
        self._heap = HeapPolicy()

    async def start(self) -> None:
        self._heap.start()
        self._tasks = [asyncio.create_task(self._listen(), name="hub-listen"),
                       asyncio.create_task(self._tick(), name="hub-tick")]

    async def stop(self) -> None:
        await stop_tasks(self._tasks)
        for feed in self._feeds.values():
            for sub in feed.subscribers:
                sub.stop()

    async def join(self, contest_id: str, full: bool, send: Send,
                   write: WriteFrame | None = None, read_token: str | None = None
                   ) -> Subscriber:
        """Register a client and send it the snapshot, before any update can reach it."""
        feed = self._feeds.setdefault(contest_id, ContestFeed())
        feed.joining += 1
        try:
            if feed.public.view is None:  # first client here: compute, tell who just joined
                await self._publish(contest_id, feed)
                if feed.public.view is None:
                    raise RuntimeError(f"standings of {contest_id} are unavailable")
            async with feed.lock:  # no update can be sent between this snapshot and joining
                sub = Subscriber(contest_id, full, send, write, read_token=read_token)
                feed.subscribers.add(sub)
                metrics.WS_CLIENTS.inc()
                shown = feed.full if full else feed.public
                sub.offer(frame("snapshot", shown.seq, shown.encoded))
                return sub
        finally:
            feed.joining -= 1

    def leave(self, sub: Subscriber) -> None:
        feed = self._feeds.get(sub.contest)
        if feed is not None and sub in feed.subscribers:
            feed.subscribers.discard(sub)
            self._heap.client_left()
            metrics.WS_CLIENTS.dec()

    def end_read_token(self, contest_id: str, token_id: str) -> None:
        """End every socket of this process that the revoked read token opened."""
        feed = self._feeds.get(contest_id)
        for sub in list(feed.subscribers) if feed is not None else []:
            if sub.read_token == token_id:
                sub.revoked = True
                sub.stop()

    def mark_changed(self, contest_id: str) -> None:
        feed = self._feeds.get(contest_id)
        if feed is not None:
            feed.dirty = True

    async def _refresh(self, contest_id: str, feed: ContestFeed) -> tuple[bool, bool]:
        """Recompute and encode the contest's views; whether each (public, full) changed.

        Every new `seq` must reach every subscriber of its view, so only `_publish` calls
        this.
        """
        feed.dirty = False
        contest = await self._contests.get(contest_id)
        public, full = await self._results.views(contest, "live")
        closes = contest.closes_ts
        feed.refresh_at = (closes if public.standings_hidden and closes is not None
                           and closes > time.time() else None)
        public.as_of = full.as_of = public.as_of.replace(microsecond=0)
        return feed.public.take(public), feed.full.take(full)

    async def _tick(self) -> None:
        """Publish dirty contests on a fixed cadence: a long broadcast does not stretch it."""
        loop = asyncio.get_running_loop()
        due = loop.time()
        while True:
            due = max(due + self._period_s, loop.time())
            await asyncio.sleep(due - loop.time())
            self._heap.on_tick(sum(len(feed.subscribers) for feed in self._feeds.values()))
            for contest_id, feed in list(self._feeds.items()):
                if not feed.subscribers and not feed.joining:
                    self._feeds.pop(contest_id, None)
                    continue
                if feed.refresh_at is not None and time.time() > feed.refresh_at:
                    feed.dirty, feed.refresh_at = True, None
                if feed.dirty:
                    await self._publish(contest_id, feed)

    async def _publish(self, contest_id: str, feed: ContestFeed) -> None:
        async with feed.lock:
            await self._publish_locked(contest_id, feed)

    async def _publish_locked(self, contest_id: str, feed: ContestFeed) -> None:
        try:
            with metrics.LEADERBOARD_REFRESH_SECONDS.time():
                public_changed, full_changed = await self._refresh(contest_id, feed)
        except Exception as exc:  # a store hiccup: keep the last standings, retry next tick
            feed.dirty = True
            log.warning("leaderboard refresh of %s failed: %s", contest_id, exc)
            return
        if not (public_changed or full_changed):
            return
        public = frame("update", feed.public.seq, feed.public.encoded) if public_changed else None
        full = frame("update", feed.full.seq, feed.full.encoded) if full_changed else None
        with metrics.LEADERBOARD_FANOUT_SECONDS.time():
            for sub in list(feed.subscribers):
                message = full if sub.full else public
                if message is not None:
                    sub.offer(message)

    async def _listen(self) -> None:
        """Follow "changed" and contest-event notices from every process, reconnecting."""
        client = create_pubsub_redis(self._redis_url)
        try:
            while True:
                await self._follow(client)
        finally:
            await client.aclose()

    async def _follow(self, client: Any) -> None:
        pubsub = client.pubsub()
        try:
            await pubsub.subscribe(redis_keys.CHANGED_CHANNEL, redis_keys.CONTEST_EVENTS_CHANNEL)
            for feed in self._feeds.values():
                feed.dirty = True  # we may have missed notices while disconnected
            async for message in pubsub.listen():
                self._on_message(message)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("leaderboard notices interrupted (%s); reconnecting", exc)
            await asyncio.sleep(0.5)
        finally:
            await pubsub.aclose()

    def _on_message(self, message: dict[str, object]) -> None:
        if message.get("type") != "message":
            return
        data = message.get("data")
        channel = message.get("channel")
        if not isinstance(data, bytes):
            return
        if channel in (redis_keys.CHANGED_CHANNEL, redis_keys.CHANGED_CHANNEL.encode()):
            self.mark_changed(data.decode())
            return
        event = _event_decoder.decode(data)
        if event.kind == "read_token_revoked" and isinstance(event.value, str):
            self.end_read_token(event.contest, event.value)
            return
        self._contests.forget(event.contest)
        self.mark_changed(event.contest)
