"""Keep full garbage collections short: freeze what lives long, thaw after client churn.

CPython's full collection walks every object the collector tracks, and the process
stops while it does. Two kinds of objects make that walk long for nothing:
* what the process builds at start-up (modules, classes, the app, its routes): about
  110,000 objects, 20-40 ms a walk. Under a vote burst a full collection runs about
  twice a second, so these walks alone were a visible share of the vote p99;
* the state of connected websocket clients: 10,000 leaderboard subscribers are about
  1.2 million objects (sockets, protocol state, the framework's per-connection
  coroutines), a walk of about 0.9 s that every vote and update of the process waits
  for. They live as long as their connections; scanning them again finds nothing.

The policy (`HeapPolicy`, driven by the leaderboard hub's ticks):
* at start-up, collect and freeze (`gc.freeze()`) everything built so far;
* with at least `LARGE_AUDIENCE` clients connected, freeze the survivors of each full
  collection too, so later collections scan only newer objects;
* frozen objects are still freed by reference counting; only garbage in reference
  cycles among them waits. Once the clients that left since the last thaw reach a
  quarter of those connected (at least `MIN_CHURN`), unfreeze, so the next full
  collection reclaims it (the 25 % rule CPython applies to its oldest generation);
  the first full collection after a thaw freezes its survivors again.
"""

from __future__ import annotations

import gc

from service.core import metrics

LARGE_AUDIENCE = 1000  # connected clients from which survivors of every full collection freeze
MIN_CHURN = 1000  # clients that may leave before frozen garbage is reclaimed


def full_collections() -> int:
    return int(gc.get_stats()[-1]["collections"])


class HeapPolicy:
    """Freezes long-lived objects; thaws them after enough client churn.

    Whether anything is frozen is tracked here: `gc.get_freeze_count()` walks the whole
    frozen list, about 0.1 s at a million objects, far too slow to ask on every tick.
    """

    def __init__(self) -> None:
        self._seen = full_collections()
        self._left = 0
        self.frozen = False

    def start(self) -> None:
        """Freeze what the process built at start-up (after collecting its garbage)."""
        gc.collect()
        self._freeze()
        self._seen = full_collections()

    def client_left(self) -> None:
        self._left += 1

    def on_tick(self, connected: int) -> None:
        """Called on each hub tick with the number of clients connected to this process."""
        done = full_collections()
        if self.frozen and self._left >= max(MIN_CHURN, connected // 4):
            gc.unfreeze()  # the next full collection reclaims what departed clients left
            self._left = 0
            self._set_frozen(False)
        elif done != self._seen and (connected >= LARGE_AUDIENCE or not self.frozen):
            self._freeze()
        self._seen = done

    def _freeze(self) -> None:
        gc.freeze()
        self._set_frozen(True)

    def _set_frozen(self, frozen: bool) -> None:
        self.frozen = frozen
        metrics.GC_FROZEN.set(int(frozen))
