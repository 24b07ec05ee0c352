"""A void is a ledger batch with negative cells (migrations/0009): whatever updates Redis
lost, the reconciler's arithmetic (`service/intake/tally_cut.py`) brings the tallies to
the ledger without the voided votes, and never puts them back.

Property: any vote batches, a void of any of their votes as the next batch, any subset
of tally updates applied, any cut: judging at the cut and repairing, then applying the
updates still missing above the cut, leaves the tallies equal to the ledger's count,
which leaves the void out.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.intake.tally_cut import (
    Cells,
    Counts,
    HeldCells,
    Scope,
    held_ranges,
    judge,
    ledger_at,
)

pytestmark = pytest.mark.stores_independent

Cell = tuple[str, str]
cells_st = st.lists(st.tuples(st.sampled_from(["KZ", "UZ"]), st.sampled_from(["AM", "GE", "KR"])),
                    min_size=1, max_size=6)


def as_cells(votes: Counter[Cell]) -> Cells:
    return [(c, e, n) for (c, e), n in sorted(votes.items()) if n]


def summed(batches: dict[int, Cells], numbers: list[int]) -> Counts:
    """What the batches numbered `numbers` hold together, as PostgreSQL adds them up."""
    total: Counter[Cell] = Counter()
    for b in numbers:
        for c, e, n in batches[b]:
            total[(c, e)] += n
    return as_counts(total)


def held_by(scope: Scope, batches: dict[int, Cells], cut: int) -> HeldCells:
    """What the ledger holds in the batches `scope` holds above `cut` (`held_ranges`)."""
    numbers = [b for after, upto in held_ranges(scope, cut) for b in range(after + 1, upto + 1)]
    return HeldCells(max(batches, default=0), summed(batches, numbers))


def as_counts(votes: Counter[Cell]) -> Counts:
    counts: Counts = {}
    for (c, e), n in votes.items():
        if n:
            counts.setdefault(c, {})[e] = n
    return counts


@settings(max_examples=300, deadline=None)
@given(batches=st.lists(cells_st, min_size=1, max_size=6), data=st.data())
def test_the_reconciler_never_puts_voided_votes_back(batches: list[list[Cell]],
                                                     data: st.DataObject) -> None:
    votes = [(b, cell) for b, batch in enumerate(batches, start=1) for cell in batch]
    voided = data.draw(st.sets(st.integers(0, len(votes) - 1), min_size=1), label="voided")
    void_batch = len(batches) + 1
    batch_cells: dict[int, Cells] = {
        b: as_cells(Counter(cell for vb, cell in votes if vb == b)) for b in range(1, void_batch)}
    taken: Counter[Cell] = Counter(votes[i][1] for i in voided)
    batch_cells[void_batch] = [(c, e, -n) for c, e, n in as_cells(taken)]
    counted = Counter(cell for _, cell in votes) - taken  # the ledger's count now
    applied = data.draw(st.sets(st.sampled_from(sorted(batch_cells))), label="applied")
    cut = data.draw(st.integers(0, void_batch), label="cut")

    tallies: Counter[Cell] = Counter()
    for b in applied:
        for c, e, n in batch_cells[b]:
            tallies[(c, e)] += n
    scope = Scope("applied", ["KZ", "UZ"], top=0, above=set(applied),
                  tallies=as_counts(tallies))
    later = {b: cells for b, cells in batch_cells.items() if b > cut}
    ledger = ledger_at(as_counts(counted), summed(later, sorted(later)), cut)
    verdict = judge(scope, ledger, held_by(scope, batch_cells, cut))
    assert not verdict.ahead
    tallies.update(verdict.deltas)  # the repair; it marks batches 1..cut held
    for b in sorted(later):  # the updates still missing above the cut arrive late
        if b not in applied:
            for c, e, n in batch_cells[b]:
                tallies[(c, e)] += n
    assert as_counts(tallies) == as_counts(counted)
