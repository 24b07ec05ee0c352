"""Full garbage collections stay short under a large websocket audience, and what departed
clients leave behind is still reclaimed."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from service.live.heap import LARGE_AUDIENCE, MIN_CHURN, HeapPolicy


@pytest.fixture
def policy() -> Iterator[HeapPolicy]:
    yield HeapPolicy()
    gc.unfreeze()  # leave the test process as it was


def test_survivors_of_a_full_collection_are_frozen_under_a_large_audience(
        policy: HeapPolicy) -> None:
    gc.collect()
    policy.on_tick(connected=LARGE_AUDIENCE)
    assert policy.frozen and gc.get_freeze_count() > 0


def test_nothing_is_frozen_for_a_small_audience(policy: HeapPolicy) -> None:
    gc.collect()
    policy.on_tick(connected=LARGE_AUDIENCE - 1)
    assert not policy.frozen and gc.get_freeze_count() == 0


def test_nothing_is_frozen_until_a_full_collection_has_run(policy: HeapPolicy) -> None:
    policy.on_tick(connected=10 * LARGE_AUDIENCE)
    assert not policy.frozen


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


def test_an_audience_that_shrinks_below_the_threshold_is_thawed(policy: HeapPolicy) -> None:
    gc.collect()
    policy.on_tick(connected=LARGE_AUDIENCE)
    policy.on_tick(connected=10)
    assert not policy.frozen and gc.get_freeze_count() == 0


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
