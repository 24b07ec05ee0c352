"""Turning one body's votes into an order of entries (best first), exactly.

* Exponential jury (EBU 2018 on): a juror's rank r is worth x**r with x = e^(-0.19); the
  weights are summed per entry, highest first. Sums are compared exactly: first with
  18-digit fixed-point integers; when two sums are within the rounding bound, their rank
  multisets decide (equal multisets = a real tie, since x is transcendental), else the
  difference is re-evaluated with more digits until its sign is certain.
* Average rank (EBU 2016-2017): lowest mean rank first, compared as fractions.
* Televote counts: most votes first.
Every tie that the method leaves open goes to the entry that performs earlier.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import ROUND_FLOOR, Decimal, localcontext
from fractions import Fraction
from functools import cmp_to_key, lru_cache
from operator import itemgetter

#: Fixed-point digits of the first, fast comparison (small enough that sums of a few
#: jurors stay machine-size integers, which CPython adds fastest).
_DIGITS = 18


@lru_cache(maxsize=64)
def _powers(digits: int, size: int) -> tuple[int, ...]:
    """floor(e^(-0.19·r) · 10^digits) for r = 0 .. size-1 (each within 1 of the truth)."""
    with localcontext() as ctx:
        ctx.prec = digits + 30
        scale = Decimal(10) ** digits
        return tuple(
            int(((Decimal(-19 * r) / 100).exp() * scale).to_integral_value(rounding=ROUND_FLOOR))
            for r in range(size)
        )


def _table(digits: int, max_rank: int) -> tuple[int, ...]:
    size = 64
    while size <= max_rank:
        size *= 2
    return _powers(digits, size)


def exponential_order(
    ranks: Mapping[str, Sequence[int]], running_order: Mapping[str, int]
) -> list[str]:
    """Entries by the summed e^(-0.19·r) of their ranks, highest first; an exact tie (equal
    multisets of ranks) goes to the earlier performance."""
    if not ranks:
        return []
    max_rank = max((max(rs) for rs in ranks.values() if rs), default=1)
    max_terms = max(len(rs) for rs in ranks.values())
    table = _table(_DIGITS, max_rank)
    fixed = {e: sum(table[r] for r in rs) for e, rs in ranks.items()}
    order = sorted(ranks, key=lambda e: (-fixed[e], running_order[e]))
    bound = 4 * max(max_terms, 1)  # > the rounding error of any difference of two sums

    def exact(a: str, b: str) -> int:
        ra, rb = sorted(ranks[a]), sorted(ranks[b])
        if ra == rb:
            return -1 if running_order[a] < running_order[b] else 1
        digits = 2 * _DIGITS
        while True:
            t = _table(digits, max_rank)
            diff = sum(t[r] for r in ra) - sum(t[r] for r in rb)
            if abs(diff) > bound:
                return -1 if diff > 0 else 1
            digits *= 2  # pragma: no cover - never needed for real juries

    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and fixed[order[j]] - fixed[order[j + 1]] <= bound:
            j += 1
        if j > i:
            order[i : j + 1] = sorted(order[i : j + 1], key=cmp_to_key(exact))
        i = j + 1
    return order


def _exponential_from_rankings(
    rankings: Sequence[Sequence[str]], running_order: Mapping[str, int]
) -> list[str]:
    """The fast path of :func:`exponential_order` for complete rankings of equal length:
    sums are accumulated juror by juror; rank multisets are only built for near-ties."""
    table = _table(_DIGITS, len(rankings[0]))[1:]
    keys = rankings[0]
    if len(keys) < 2:
        return list(keys)
    # per juror: entry -> weight (C-level), read back in one fixed entry order, then
    # summed column-wise; no per-item Python bytecode
    values = itemgetter(*keys)
    columns = [values(dict(zip(juror, table, strict=False))) for juror in rankings]
    fixed: dict[str, int] = dict(zip(keys, map(sum, zip(*columns, strict=True)), strict=True))
    order = sorted(fixed, key=running_order.__getitem__)
    order.sort(key=fixed.__getitem__, reverse=True)
    bound = 4 * len(rankings)
    for a, b in itertools.pairwise(order):
        if fixed[a] - fixed[b] <= bound:  # a near-tie somewhere: decide it exactly
            ranks: dict[str, list[int]] = {}
            for juror in rankings:
                for position, entry in enumerate(juror, start=1):
                    ranks.setdefault(entry, []).append(position)
            return exponential_order(ranks, running_order)
    return order


def average_rank_order(
    ranks: Mapping[str, Sequence[int]], running_order: Mapping[str, int]
) -> list[str]:
    """Entries by mean rank, lowest first; ties go to the earlier performance."""
    mean = {e: Fraction(sum(rs), len(rs)) for e, rs in ranks.items()}
    return sorted(ranks, key=lambda e: (mean[e], running_order[e]))


JURY_METHODS: dict[str, Callable[[Mapping[str, Sequence[int]], Mapping[str, int]], list[str]]] = {
    "exponential": exponential_order,
    "average_rank": average_rank_order,
}


def jury_order_from_rankings(
    rankings: Iterable[Sequence[str]], method: str, running_order: Mapping[str, int]
) -> list[str]:
    """One jury's order from its jurors' rankings (each best first, already validated)."""
    rankings = list(rankings)
    if method == "exponential" and rankings and all(len(r) == len(rankings[0]) for r in rankings):
        return _exponential_from_rankings(rankings, running_order)
    ranks: dict[str, list[int]] = {}
    for ranking in rankings:
        for position, entry in enumerate(ranking, start=1):
            ranks.setdefault(entry, []).append(position)
    return JURY_METHODS[method](ranks, running_order)


def televote_order(
    counts: Mapping[str, int],
    running_order: Mapping[str, int],
    jury_order: Sequence[str] | None,
) -> list[str]:
    """Entries with at least one vote, most votes first. Equal counts go to the entry the
    same country's jury ranked higher (if it has a jury), else to the earlier performance."""
    voted = [e for e, n in counts.items() if n > 0]
    # stable sorts from the last criterion to the first (faster than tuple keys)
    voted.sort(key=running_order.__getitem__)
    if jury_order:
        jury_pos = dict(zip(jury_order, range(len(jury_order)), strict=True))
        if not jury_pos.keys() >= set(voted):
            last = len(jury_pos)
            jury_pos.update({e: last for e in voted if e not in jury_pos})
        voted.sort(key=jury_pos.__getitem__)
    voted.sort(key=counts.__getitem__, reverse=True)
    return voted


def points_order(points: Mapping[str, int], running_order: Mapping[str, int]) -> list[str]:
    """The order of an already awarded set: most points first (equal: earlier performance)."""
    given = [e for e, p in points.items() if p > 0]
    return sorted(given, key=lambda e: (-points[e], running_order[e]))


def award(order: Sequence[str], scale: Sequence[int]) -> dict[str, int]:
    """The scale given to the top of an order, best first (fewer if fewer entries)."""
    return dict(zip(order, scale, strict=False))


def substitute_order(
    sets: Sequence[Mapping[str, int]], excluded: str, running_order: Mapping[str, int]
) -> list[str]:
    """The order of a substitute set: the listed countries' raw sets added up, without the
    receiving country's own entry; more points first, then points from more of the listed
    countries, then the earlier performance. Entries with no points are not ranked."""
    total: dict[str, int] = {}
    givers: dict[str, int] = {}
    for points in sets:
        for entry, value in points.items():
            if entry == excluded or value <= 0:
                continue
            total[entry] = total.get(entry, 0) + value
            givers[entry] = givers.get(entry, 0) + 1
    return sorted(total, key=lambda e: (-total[e], -givers[e], running_order[e]))


def combined_order(
    jury_order: Sequence[str] | None,
    televote_order_: Sequence[str] | None,
    jury_weight: Fraction,
    televote_weight: Fraction,
    running_order: Mapping[str, int],
) -> list[str]:
    """EBU 2009-2015 style: weighted sum of jury rank and televote rank, lowest first; equal
    sums go to the better televote rank, then the better jury rank, then the earlier
    performance. An entry a body did not rank takes that body's rank len(order) + 1; an
    entry neither body ranked is left out. A missing body simply does not count."""
    jury = list(jury_order or ())
    tele = list(televote_order_ or ())
    jpos = {e: i + 1 for i, e in enumerate(jury)}
    tpos = {e: i + 1 for i, e in enumerate(tele)}
    candidates = set(jpos) | set(tpos)

    def key(e: str) -> tuple[Fraction, int, int, int]:
        rj = jpos.get(e, len(jury) + 1)
        rt = tpos.get(e, len(tele) + 1)
        score = Fraction(0)
        if jury_order is not None:
            score += jury_weight * rj
        if televote_order_ is not None:
            score += televote_weight * rt
        return (score, rt, rj, running_order[e])

    return sorted(candidates, key=key)
