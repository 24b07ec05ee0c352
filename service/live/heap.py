"""Keep full garbage collections short while thousands of websocket clients stay connected.

CPython's full collection walks every object the collector tracks, and the process
stops while it does. 10,000 leaderboard subscribers are about 1.4 million such objects
(sockets, protocol state, the framework's per-connection coroutines); a full collection
then takes about 0.9 s on the development machine, and every vote acknowledgement and
leaderboard update of the process waits for it. Those objects live as long as their
connections, so scanning them again and again finds nothing to free.

The policy, applied on every hub tick while at least `LARGE_AUDIENCE` clients are
connected to the process (below that, nothing stays frozen):
* after a full collection, freeze its survivors (`gc.freeze()`): later collections scan
  only newer objects, so a pause is proportional to what changed, not to the audience;
* frozen objects are still freed by reference counting; only garbage in reference
  cycles among them waits. Once the clients that left since the last thaw reach a
  quarter of those connected (at least `MIN_CHURN`), unfreeze, so the next full
  collection reclaims it: the same 25 % rule CPython applies to its oldest generation.
"""

from __future__ import annotations

import gc

from service import metrics

LARGE_AUDIENCE = 1000  # connected clients from which the policy applies
MIN_CHURN = 1000  # clients that may leave before frozen garbage is reclaimed


def full_collections() -> int:
    return int(gc.get_stats()[-1]["collections"])


class HeapPolicy:
    """Freezes the survivors of full collections; thaws them after enough client churn.

    Whether anything is frozen is tracked here: `gc.get_freeze_count()` walks the whole
    frozen list, about 0.1 s at a million objects, far too slow to ask on every tick.
    """

    def __init__(self) -> None:
        self._seen = full_collections()
        self._left = 0
        self.frozen = False

    def client_left(self) -> None:
        self._left += 1

    def on_tick(self, connected: int) -> None:
        """Called on each hub tick with the number of clients connected to this process."""
        done = full_collections()
        large = connected >= LARGE_AUDIENCE
        churned = self._left >= max(MIN_CHURN, connected // 4)
        if self.frozen and (churned or not large):
            gc.unfreeze()  # the next full collection reclaims what departed clients left
            self._left = 0
            self._set_frozen(False)
        elif large and done != self._seen:
            gc.freeze()
            self._set_frozen(True)
        self._seen = done

    def _set_frozen(self, frozen: bool) -> None:
        self.frozen = frozen
        metrics.GC_FROZEN.set(int(frozen))
