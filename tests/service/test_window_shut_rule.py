"""The vote path's early `window_closed` (service/intake/single_vote.py `window_shut`):
it may only refuse what the ledger would refuse, so a process whose cached contest
still says "closed" after the scheduled opening sends the vote on."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.intake.single_vote import window_shut

instants = st.floats(min_value=0, max_value=1e10, allow_nan=False)
maybe = st.none() | instants


@pytest.mark.stores_independent
@given(window=st.sampled_from(["open", "closed"]), opens=maybe, closes=maybe, now=instants)
def test_early_refusal_only_where_the_ledger_refuses(window: str, opens: float | None,
                                                      closes: float | None, now: float) -> None:
    shut = window_shut(window, opens, closes, now)
    if closes is not None and now > closes:
        assert shut  # the ledger refuses after closes_at whatever the state
    elif opens is not None and now >= opens:
        assert not shut  # the scheduler may have opened it a moment ago
    else:
        assert shut == (window == "closed")
