"""The sets a voting country awards, split into jury and televote or combined into one.

In ``split`` the weight multiplies a set's points, so the raw scale points are kept beside
it: the tie-breaks count top scores by scale value, whatever the weight. In ``combined``
the weights act on the ranks instead and the one set keeps whole scale points.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from scoring.bodies import verdicts
from scoring.models import Body
from scoring.numbers import Num, exact
from scoring.ranking import award, combined_order
from scoring.validate import CheckedSheet


@dataclass
class CountrySet:
    country: str
    body: Body
    raw: dict[str, int]  # scale points, best first, before the weight
    weight: Fraction
    substitute: bool
    note: str

    def weighted(self) -> dict[str, Num]:
        weight = exact(self.weight)
        if weight == 1:
            return dict(self.raw)
        return {e: p * weight for e, p in self.raw.items()}


def country_sets(sheet: CheckedSheet) -> list[CountrySet]:
    """Every set in the order of the votes (jury before televote), which is the order the
    result lists them and the jury part of the reveal announces them. A body with weight
    0 awards no set: it would only add zeros to the board and to the reveal."""
    jury, tele = verdicts(sheet)
    sets: list[CountrySet] = []
    for v in sheet.votes:
        j, t = jury[v.country], tele[v.country]
        if sheet.rules.combination == "combined":
            if j is None and t is None:
                continue
            order = combined_order(
                j.order if j is not None else None,
                t.order if t is not None else None,
                v.jury_weight,
                v.televote_weight,
                sheet.running_order,
            )
            notes = "; ".join(b.note for b in (j, t) if b is not None and b.note)
            sets.append(
                CountrySet(
                    v.country,
                    "combined",
                    award(order, sheet.scale),
                    Fraction(1),
                    any(b is not None and b.substitute for b in (j, t)),
                    notes,
                )
            )
            continue
        if j is not None and v.jury_weight != 0:
            sets.append(CountrySet(v.country, "jury", j.raw, v.jury_weight, j.substitute, j.note))
        if t is not None and v.televote_weight != 0:
            sets.append(
                CountrySet(v.country, "televote", t.raw, v.televote_weight, t.substitute, t.note)
            )
    return sets
