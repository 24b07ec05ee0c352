"""Live tallies against the ledger at one ledger batch number, the cut.

Under load the ledger and the tallies are never read at the same moment: every cell
moves between any two reads, so "read both now" compares two different moments and
"read twice and keep what persists" keeps nothing. Batch numbers make one moment. Every
ledger transaction that accepts votes takes its contest's next number (batches commit in
number order, migrations/0007), and its tally update carries the number into Redis
atomically with its increments, so Redis knows which batches its tallies hold. Then:

* the ledger at cut C is every vote of batches 1..C (and of no batch: votes recorded
  before batches were numbered): the ledger read at any later moment, less what the
  batches above C added (PostgreSQL sums them);
* the tallies at C are the tallies, less what the batches above C that Redis holds
  added. Redis is read first and the ledger after it, so every batch Redis holds is
  committed by then. PostgreSQL sums those batches per scope (`held_ranges` says which:
  a few runs of numbers), so a round reads a few rows whatever the rate of batches,
  instead of every batch since the cut into the serving process;
* the two are the same set of batches, whatever is in flight, so any difference is
  drift: a lost update, a flush, a partial loss. Repairing it by that difference, with a
  check that no batch up to C was applied meanwhile, leaves the tallies at C equal to the
  ledger at C, and applying batches above C later is still right.

Redis keeps what it holds per "scope" (one hash of batch numbers; one per contest on a
single server, one per voting country on a cluster, next to that country's tally): `h`,
every batch up to it, and the batches above `h` one by one; and `r`, the repairs made,
so that a repair judged on a read that another repair has since overtaken is refused.

This module is the arithmetic only, on values already read; `LiveTallies` reads and
writes Redis and `TallyCheck` drives it. It is pure, so a property test can drive it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

Counts = dict[str, dict[str, int]]  # voting country -> entry -> votes
Cells = list[tuple[str, str, int]]  # what one batch added: (voting country, entry, votes)


@dataclass
class Scope:
    """One atomic read of a scope: which batches its tallies hold, and the tallies."""

    key: str  # the Redis hash of applied batches
    countries: list[str]
    top: int = 0  # every batch up to `top` is held
    above: set[int] = field(default_factory=set)  # and these, each above `top`
    repairs: int = 0  # repairs made on the scope so far
    tallies: Counts = field(default_factory=dict)

    def holds(self, batch: int) -> bool:
        return batch <= self.top or batch in self.above

    def held_through(self, cut: int) -> int:
        """How many of batches 1..cut are held: what a repair checks is unchanged."""
        return min(self.top, cut) + sum(1 for b in self.above if b <= cut)


@dataclass
class LedgerCut:
    """The ledger at batch `cut`."""

    cut: int
    counts: Counts  # every vote of batches 1..cut (and of no batch)

    def total(self) -> int:
        return sum(n for row in self.counts.values() for n in row.values())


@dataclass
class HeldCells:
    """What the ledger holds in the batches a scope holds above a cut, read after Redis."""

    head: int  # the ledger's newest batch at that read
    sums: Counts | None  # their cells added up; None if one of them is not in the ledger


@dataclass
class Verdict:
    """One scope's tallies against the ledger, both at the cut."""

    scope: Scope
    live: Counts  # the scope's tallies at the cut
    want: Counts  # the ledger at the cut, for the scope's countries
    ahead: bool  # Redis holds batches the ledger does not have (a restored ledger)

    @property
    def deltas(self) -> Counter[tuple[str, str]]:
        """What to add to each cell so the tallies at the cut equal the ledger."""
        moved: Counter[tuple[str, str]] = Counter()
        for country, entry, have, want in differences(self.live, self.want):
            moved[(country, entry)] = want - have
        return moved


def held_ranges(scope: Scope, cut: int) -> list[tuple[int, int]]:
    """The batches `scope` holds above `cut`, as runs (after, upto]: one run for every
    batch up to its `top`, then the batches held one by one above it, merged where they
    follow each other (on a cluster a scope holds long runs of them)."""
    runs = [(cut, scope.top)] if scope.top > cut else []
    for batch in sorted(b for b in scope.above if b > cut):
        if runs and runs[-1][1] == batch - 1:
            runs[-1] = (runs[-1][0], batch)
        else:
            runs.append((batch - 1, batch))
    return runs


def judge(scope: Scope, ledger: LedgerCut, held: HeldCells) -> Verdict:
    """The scope's tallies at the ledger's cut, against the ledger at that cut."""
    countries = set(scope.countries)
    want = {c: dict(row) for c, row in ledger.counts.items() if c in countries and row}
    if held.sums is None or scope.top > held.head or any(b > held.head for b in scope.above):
        # it holds batches the ledger does not have: nothing it holds can be trusted
        return Verdict(scope, scope.tallies, want, True)
    mine = {c: row for c, row in held.sums.items() if c in countries}
    return Verdict(scope, _added(scope.tallies, mine, -1), want, False)


def differences(live: Counts, ledger: Counts) -> list[tuple[str, str, int, int]]:
    """Cells where live and ledger disagree: (country, entry, live, ledger)."""
    cells = {(c, e) for c, row in live.items() for e in row}
    cells |= {(c, e) for c, row in ledger.items() for e in row}
    found = []
    for country, entry in sorted(cells):
        have = live.get(country, {}).get(entry, 0)
        want = ledger.get(country, {}).get(entry, 0)
        if have != want:
            found.append((country, entry, have, want))
    return found


def ledger_at(newest: Counts, above: Counts, cut: int) -> LedgerCut:
    """The ledger at `cut`, from counts read at a moment whose batches above `cut` added
    `above` together."""
    return LedgerCut(cut, _added(newest, above, -1))


def advanced(known: LedgerCut, added: Counts, present: int, cut: int) -> LedgerCut | None:
    """The ledger at `cut` (at or above `known.cut`) from the ledger at `known.cut` and
    `added`, what the `present` batches numbered above `known.cut` and up to `cut` hold
    together. The ledger up to a batch never changes, so what was counted stays counted;
    None if a batch up to `cut` is missing (a restored ledger): count it all again."""
    if present != cut - known.cut:
        return None
    return LedgerCut(cut, _added(known.counts, added, 1))


def _added(counts: Counts, more: Counts, sign: int) -> Counts:
    summed = {c: dict(row) for c, row in counts.items()}
    for country, row in more.items():
        mine = summed.setdefault(country, {})
        for entry, votes in row.items():
            mine[entry] = mine.get(entry, 0) + sign * votes
    return _nonzero(summed)


def _nonzero(counts: Counts) -> Counts:
    return {c: kept for c, row in counts.items() if (kept := {e: n for e, n in row.items() if n})}
