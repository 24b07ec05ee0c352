"""Full garbage collections stay short under a large websocket audience, and what departed
clients leave behind is still reclaimed."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from service.live.heap import LARGE_AUDIENCE, MIN_CHURN, HeapPolicy

pytestmark = pytest.mark.stores_independent  # run once, in the embedded pass


@pytest.fixture
def policy() -> Iterator[HeapPolicy]:
    yield HeapPolicy()
    gc.unfreeze()  # leave the test process as it was


def test_what_the_process_built_at_start_up_is_frozen(policy: HeapPolicy) -> None:
    policy.start()
    assert policy.frozen and gc.get_freeze_count() > 0


def test_survivors_of_each_full_collection_are_frozen_under_a_large_audience(
        policy: HeapPolicy) -> None:
    policy.start()
    frozen_at_start = gc.get_freeze_count()
    keep = [[i] for i in range(1000)]  # newer long-lived objects
    gc.collect()
    policy.on_tick(connected=LARGE_AUDIENCE)
    assert gc.get_freeze_count() >= frozen_at_start + len(keep)


def test_a_small_audience_freezes_only_once(policy: HeapPolicy) -> None:
    policy.start()  # the once: what start-up built
    frozen_at_start = gc.get_freeze_count()
    assert policy.frozen and frozen_at_start > 0
    keep = [[i] for i in range(1000)]  # newer long-lived objects, as a small audience's
    for collection in range(3):  # full collection after full collection, each seen by a tick
        gc.collect()
        policy.on_tick(connected=LARGE_AUDIENCE - 1)
        assert policy.frozen, "what start-up froze stays frozen"
        assert gc.get_freeze_count() == frozen_at_start, (
            f"full collection {collection + 1} froze its survivors under a small audience")
    still_scanned = {id(o) for o in gc.get_objects()}  # the frozen are in none of these
    assert all(id(o) in still_scanned for o in [keep, *keep]), (
        "the newer objects must stay with the collector, not be frozen")


def test_nothing_is_frozen_before_start_or_a_full_collection(policy: HeapPolicy) -> None:
    policy.on_tick(connected=10 * LARGE_AUDIENCE)
    assert not policy.frozen and gc.get_freeze_count() == 0


def test_enough_departures_thaw_so_the_next_full_collection_reclaims_their_cycles(
        policy: HeapPolicy) -> None:
    connected = 8 * MIN_CHURN
    gc.collect()
    policy.on_tick(connected)
    for _ in range(connected // 4 - 1):
        policy.client_left()
    policy.on_tick(connected)
    assert policy.frozen, "a little churn keeps the audience frozen"
    policy.client_left()
    policy.on_tick(connected)
    assert not policy.frozen and gc.get_freeze_count() == 0


def test_the_first_full_collection_after_a_thaw_freezes_again(policy: HeapPolicy) -> None:
    policy.start()
    for _ in range(MIN_CHURN):
        policy.client_left()
    policy.on_tick(connected=10)
    assert not policy.frozen
    gc.collect()
    policy.on_tick(connected=10)
    assert policy.frozen


def test_a_cycle_frozen_while_alive_is_freed_once_churn_thaws_the_audience(
        policy: HeapPolicy) -> None:
    class Node:
        partner: object = None

    a, b = Node(), Node()
    a.partner, b.partner = b, a  # a reference cycle, as a socket and its protocol form
    alive = weakref.ref(a)
    gc.collect()
    policy.on_tick(connected=LARGE_AUDIENCE)
    del a, b
    gc.collect()
    assert alive() is not None, "frozen cyclic garbage waits for the thaw"
    for _ in range(MIN_CHURN):
        policy.client_left()
    policy.on_tick(connected=LARGE_AUDIENCE)
    gc.collect()
    assert alive() is None
