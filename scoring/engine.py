"""``score(sheet) -> Result``: the contest rules, pure and synchronous."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TypeVar, cast

from scoring import ranking
from scoring.errors import SheetError
from scoring.models import (
    EUROVISION_TIEBREAK,
    Body,
    CountryVote,
    Entry,
    Explanation,
    PointSet,
    PointsValue,
    Result,
    RevealStep,
    Rules,
    ScoreLine,
    Sheet,
    TiebreakCriterion,
)
from scoring.numbers import format_points
from scoring.validate import effective_weights, integral_weights, validate_rules

_Raw = TypeVar("_Raw")  # a body's raw input: juror rankings or televote counts
Num = int | Fraction  # points: plain ints while every weight is whole, else fractions


def _num(value: Fraction) -> Num:
    return value.numerator if value.denominator == 1 else value


@dataclass
class _Vote:
    """One vote object after validation."""

    index: int
    country: str
    eligible: frozenset[str]
    source: CountryVote
    jury_weight: Fraction
    televote_weight: Fraction
    # A body's own data is usable when present and valid; a problem is kept (not raised)
    # only when the vote names substitute countries.
    jury_ok: bool = False
    televote_ok: bool = False
    jury_problem: str = ""
    televote_problem: str = ""
    substitutes: list[str] = field(default_factory=list)
    jury_substitute: bool = False  # the jury is replaced by the substitute aggregate
    televote_substitute: bool = False


@dataclass
class _BodyResult:
    order: list[str]  # the body's ranking, best first (only entries it ranked)
    raw: dict[str, int]  # the raw scale points it awards, best first
    substitute: bool = False
    note: str = ""


@dataclass
class _Set:
    country: str
    body: Body
    raw: dict[str, int]
    weight: Fraction
    substitute: bool
    note: str

    def weighted(self) -> dict[str, Num]:
        weight = _num(self.weight)
        if weight == 1:
            return dict(self.raw)
        return {e: p * weight for e, p in self.raw.items()}


@dataclass
class _Plan:
    rules: Rules
    scale: list[int]
    running_order: dict[str, int]
    votes: list[_Vote]


def _entry_list(names: Sequence[str], running_order: Mapping[str, int]) -> str:
    return ", ".join(sorted(names, key=lambda e: running_order[e]))


def _check_rankings(
    rankings: list[list[str]], vote: _Vote, running_order: Mapping[str, int], base: str
) -> SheetError | None:
    if not rankings:
        return SheetError(
            base, "lists no juror ranking (leave the field out when there is no jury)"
        )
    eligible_count = len(vote.eligible)
    for j, juror in enumerate(rankings):
        if len(juror) == eligible_count and vote.eligible.issubset(
            juror
        ):  # (as many items as eligible entries, all of them present: nothing else fits)
            continue  # the common case: a complete ranking (no per-item work)
        seen: set[str] = set()
        for k, entry in enumerate(juror):
            where = f"{base}[{j}][{k}]"
            if entry == vote.country:
                return SheetError(where, f"a juror of {vote.country} ranks their own country")
            if entry not in running_order:
                return SheetError(where, f"unknown entry {entry!r}")
            if entry in seen:
                return SheetError(where, f"{entry} is ranked twice")
            seen.add(entry)
        missing = vote.eligible - seen
        if missing:
            return SheetError(
                f"{base}[{j}]",
                f"incomplete ranking: missing {_entry_list(list(missing), running_order)}"
                " (a juror ranks every entry except their own country's)",
            )
    return None


def _check_points(
    points: dict[str, int],
    vote: _Vote,
    running_order: Mapping[str, int],
    scale: Counter[int],
    base: str,
) -> SheetError | None:
    used: Counter[int] = Counter()
    for entry, value in points.items():
        where = f"{base}.{entry}"
        if entry == vote.country and value != 0:
            return SheetError(where, f"{vote.country} cannot give points to itself")
        if entry not in running_order:
            return SheetError(where, f"unknown entry {entry!r}")
        if value < 0:
            return SheetError(where, f"points must not be negative (got {value})")
        if value == 0:
            continue
        if value not in scale:
            return SheetError(where, f"{value} is not a value of the points scale")
        used[value] += 1
        if used[value] > scale[value]:
            return SheetError(where, f"{value} points given more often than the scale allows")
    return None


def _check_body(
    raw: _Raw | None,
    check_raw: Callable[[_Raw, _Vote, Mapping[str, int], str], SheetError | None],
    points: dict[str, int] | None,
    vote: _Vote,
    running_order: Mapping[str, int],
    scale: Counter[int],
    raw_where: str,
    points_where: str,
    substitutable: bool,
) -> SheetError | None:
    """Check one body's input (raw rankings/counts, else given points).

    The error is returned when a substitute can stand in for the body, raised otherwise.
    """
    error: SheetError | None = None
    if raw is not None:
        error = check_raw(raw, vote, running_order, raw_where)
    elif points is not None:
        error = _check_points(points, vote, running_order, scale, points_where)
    if error is not None and not substitutable:
        raise error
    return error


def _body_state(error: SheetError | None, given: bool, substitutable: bool
                ) -> tuple[bool, str, bool]:
    """(ok, problem, substitute) of one body: usable when given and valid; otherwise a
    substitute stands in if the vote lists countries to take it from."""
    ok = error is None and given
    return ok, str(error) if error else "", substitutable and not ok


def _check_counts(
    counts: dict[str, int], vote: _Vote, running_order: Mapping[str, int], base: str
) -> SheetError | None:
    if (
        running_order.keys() >= counts.keys()
        and min(counts.values(), default=0) >= 0
        and not counts.get(vote.country)
    ):
        return None  # the common case, without per-item work
    for entry, value in counts.items():
        where = f"{base}.{entry}"
        if entry not in running_order:
            return SheetError(where, f"unknown entry {entry!r}")
        if value < 0:
            return SheetError(where, f"a vote count must not be negative (got {value})")
        if entry == vote.country and value != 0:
            return SheetError(where, f"{vote.country} cannot vote for itself (count must be 0)")
    return None


def _prepare(sheet: Sheet) -> _Plan:
    rules = sheet.rules
    validate_rules(rules)
    if not sheet.entries:
        raise SheetError("entries", "a contest needs at least one entry")
    running_order: dict[str, int] = {}
    by_order: dict[int, str] = {}
    for i, entry in enumerate(sheet.entries):
        if not entry.country:
            raise SheetError(f"entries[{i}].country", "must not be empty")
        if entry.country in running_order:
            raise SheetError(f"entries[{i}].country", f"{entry.country} is entered twice")
        if isinstance(entry.running_order, bool) or entry.running_order < 1:
            raise SheetError(f"entries[{i}].running_order", "must be a positive integer")
        if entry.running_order in by_order:
            raise SheetError(
                f"entries[{i}].running_order",
                f"{entry.running_order} is also the running order of "
                f"{by_order[entry.running_order]}",
            )
        running_order[entry.country] = entry.running_order
        by_order[entry.running_order] = entry.country
    scale = Counter(rules.points)
    all_entries = frozenset(running_order)

    global_weights = effective_weights(rules, "")
    votes: list[_Vote] = []
    voters: dict[str, int] = {}
    for i, cv in enumerate(sheet.votes):
        if not cv.from_:
            raise SheetError(f"votes[{i}].from", "must not be empty")
        if cv.from_ in voters:
            raise SheetError(
                f"votes[{i}].from", f"{cv.from_} already votes in votes[{voters[cv.from_]}]"
            )
        voters[cv.from_] = i
        wj, wt = effective_weights(rules, cv.from_, global_weights)
        votes.append(
            _Vote(
                index=i,
                country=cv.from_,
                eligible=all_entries - {cv.from_},
                source=cv,
                jury_weight=wj,
                televote_weight=wt,
            )
        )

    jury_errors: dict[int, SheetError | None] = {}
    tele_errors: dict[int, SheetError | None] = {}
    for vote in votes:
        cv, base = vote.source, f"votes[{vote.index}]"
        if cv.jury_rankings is not None and cv.jury_points is not None:
            raise SheetError(f"{base}.jury_points", "give jury_rankings or jury_points, not both")
        if cv.televote_counts is not None and cv.televote_points is not None:
            raise SheetError(
                f"{base}.televote_points", "give televote_counts or televote_points, not both"
            )
        if cv.substitute_from is not None:
            if not cv.substitute_from:
                raise SheetError(f"{base}.substitute_from", "must name at least one voting country")
            for k, other in enumerate(cv.substitute_from):
                where = f"{base}.substitute_from[{k}]"
                if other == vote.country:
                    raise SheetError(where, f"{other} cannot substitute for itself")
                if other not in voters:
                    raise SheetError(where, f"{other} is not a voting country of this sheet")
                if other in vote.substitutes:
                    raise SheetError(where, f"{other} is listed twice")
                vote.substitutes.append(other)
        substitutable = bool(vote.substitutes)

        jury_error = _check_body(
            cv.jury_rankings, _check_rankings, cv.jury_points, vote, running_order, scale,
            f"{base}.jury_rankings", f"{base}.jury_points", substitutable,
        )
        jury_given = cv.jury_rankings is not None or cv.jury_points is not None
        vote.jury_ok, vote.jury_problem, vote.jury_substitute = _body_state(
            jury_error, jury_given, substitutable)
        jury_errors[vote.index] = jury_error

        tele_error = _check_body(
            cv.televote_counts, _check_counts, cv.televote_points, vote, running_order, scale,
            f"{base}.televote_counts", f"{base}.televote_points", substitutable,
        )
        tele_given = cv.televote_counts is not None or cv.televote_points is not None
        vote.televote_ok, vote.televote_problem, vote.televote_substitute = _body_state(
            tele_error, tele_given, substitutable)
        tele_errors[vote.index] = tele_error

    # A substitute needs at least one listed country with a valid body of the same kind.
    # If none has one, an invalid body is reported as the error it is; a missing body
    # simply stays missing.
    by_country = {v.country: v for v in votes}
    for vote in votes:
        if not vote.substitutes:
            continue
        if not any(by_country[c].jury_ok for c in vote.substitutes):
            if (error := jury_errors.get(vote.index)) is not None:
                raise error
            vote.jury_substitute = False
        if not any(by_country[c].televote_ok for c in vote.substitutes):
            if (error := tele_errors.get(vote.index)) is not None:
                raise error
            vote.televote_substitute = False
    return _Plan(rules=rules, scale=list(rules.points), running_order=running_order, votes=votes)


def validate_sheet(sheet: Sheet) -> None:
    """Check a decoded sheet completely; raises :class:`SheetError` naming the field."""
    _prepare(sheet)


def _own_jury(vote: _Vote, plan: _Plan) -> _BodyResult | None:
    cv = vote.source
    if not vote.jury_ok:
        return None
    if cv.jury_rankings is not None:
        order = ranking.jury_order_from_rankings(
            cv.jury_rankings, plan.rules.jury_method, plan.running_order
        )
        return _BodyResult(order=order, raw=ranking.award(order, plan.scale))
    assert cv.jury_points is not None
    order = ranking.points_order(cv.jury_points, plan.running_order)
    return _BodyResult(order=order, raw={e: cv.jury_points[e] for e in order})


def _own_televote(vote: _Vote, plan: _Plan, jury: _BodyResult | None) -> _BodyResult | None:
    cv = vote.source
    if not vote.televote_ok:
        return None
    if cv.televote_counts is not None:
        counts = cv.televote_counts
        if vote.country in counts:  # validated to be 0; keep it out of the ranking
            counts = {e: n for e, n in counts.items() if e != vote.country}
        order = ranking.televote_order(
            counts, plan.running_order, jury.order if jury is not None else None
        )
        return _BodyResult(order=order, raw=ranking.award(order, plan.scale))
    assert cv.televote_points is not None
    order = ranking.points_order(cv.televote_points, plan.running_order)
    return _BodyResult(order=order, raw={e: cv.televote_points[e] for e in order})


def _substitute(
    vote: _Vote, own: Mapping[str, _BodyResult | None], plan: _Plan, problem: str, body: str
) -> _BodyResult:
    sets = [r.raw for c in vote.substitutes if (r := own.get(c)) is not None]
    order = ranking.substitute_order(sets, vote.country, plan.running_order)
    note = problem or f"no {body}"
    note += "; substitute from " + ", ".join(c for c in vote.substitutes if own.get(c) is not None)
    return _BodyResult(
        order=order, raw=ranking.award(order, plan.scale), substitute=True, note=note
    )


def _bodies(
    plan: _Plan,
) -> tuple[dict[str, _BodyResult | None], dict[str, _BodyResult | None]]:
    """Every voting country's jury and televote (substitutes filled in)."""
    own_jury = {v.country: _own_jury(v, plan) for v in plan.votes}
    jury = dict(own_jury)
    for v in plan.votes:
        if v.jury_substitute:
            jury[v.country] = _substitute(v, own_jury, plan, v.jury_problem, "jury")
    own_tele = {v.country: _own_televote(v, plan, jury[v.country]) for v in plan.votes}
    tele = dict(own_tele)
    for v in plan.votes:
        if v.televote_substitute:
            tele[v.country] = _substitute(v, own_tele, plan, v.televote_problem, "televote")
    return jury, tele


def _sets(plan: _Plan) -> list[_Set]:
    jury, tele = _bodies(plan)
    sets: list[_Set] = []
    for v in plan.votes:
        j, t = jury[v.country], tele[v.country]
        if plan.rules.combination == "combined":
            if j is None and t is None:
                continue
            order = ranking.combined_order(
                j.order if j is not None else None,
                t.order if t is not None else None,
                v.jury_weight,
                v.televote_weight,
                plan.running_order,
            )
            notes = "; ".join(b.note for b in (j, t) if b is not None and b.note)
            sets.append(
                _Set(
                    v.country,
                    "combined",
                    ranking.award(order, plan.scale),
                    Fraction(1),
                    any(b is not None and b.substitute for b in (j, t)),
                    notes,
                )
            )
            continue
        if j is not None and v.jury_weight != 0:
            sets.append(_Set(v.country, "jury", j.raw, v.jury_weight, j.substitute, j.note))
        if t is not None and v.televote_weight != 0:
            sets.append(_Set(v.country, "televote", t.raw, v.televote_weight, t.substitute, t.note))
    return sets


@dataclass
class _Tally:
    jury: Num = 0
    televote: Num = 0
    combined: Num = 0
    televote_countries: int = 0
    top: dict[int, int] = field(default_factory=dict)  # raw scale value -> times received
    televote_top: dict[int, int] = field(default_factory=dict)

    @property
    def total(self) -> Num:
        return self.jury + self.televote + self.combined


def _criterion(
    name: TiebreakCriterion, tally: _Tally, running_order: int, values: Sequence[int]
) -> tuple[Num, ...]:
    """A sort key part: smaller sorts first (i.e. "more wins" is negated)."""
    if name == "televote_points":
        return (-tally.televote,)
    if name == "televote_countries":
        return (-tally.televote_countries,)
    if name == "top_scores":
        return tuple(-tally.top.get(v, 0) for v in values)
    if name == "televote_top_scores":
        return tuple(-tally.televote_top.get(v, 0) for v in values)
    if name == "jury_points":
        return (-tally.jury,)
    return (running_order,)


def score(sheet: Sheet) -> Result:
    """Score a sheet: every set, the scoreboard with its tie-breaks, the reveal order and the
    per-entry explanations. Raises :class:`SheetError` for a sheet that breaks the rules."""
    plan = _prepare(sheet)
    as_int = plan.rules.combination == "combined" or integral_weights(plan.rules)

    def fmt(value: Num) -> PointsValue:
        # with whole weights every value is already an int (see _num)
        return cast(int, value) if as_int else format_points(value, False)

    sets = _sets(plan)
    tallies = {e: _Tally() for e in plan.running_order}
    explanations: dict[str, list[Explanation]] = {e: [] for e in plan.running_order}
    out_sets: list[PointSet] = []
    for s in sets:
        weighted = s.weighted()
        body, country, substitute = s.body, s.country, s.substitute
        for position, (entry, raw) in enumerate(s.raw.items(), start=1):
            tally = tallies[entry]
            value = weighted[entry]
            if body == "jury":
                tally.jury += value
            elif body == "televote":
                tally.televote += value
                tally.televote_top[raw] = tally.televote_top.get(raw, 0) + 1
                if value > 0:
                    tally.televote_countries += 1
            else:
                tally.combined += value
            tally.top[raw] = tally.top.get(raw, 0) + 1
            explanations[entry].append(
                Explanation(
                    from_=country,
                    body=body,
                    points=value if as_int else fmt(value),  # type: ignore[arg-type]
                    rank=position,
                    substitute=substitute,
                )
            )
        out_sets.append(
            PointSet(
                from_=s.country,
                body=s.body,
                points=(
                    cast(dict[str, PointsValue], weighted)
                    if as_int
                    else {e: fmt(v) for e, v in weighted.items()}
                ),
                substitute=s.substitute,
                note=s.note,
            )
        )

    chain: Sequence[TiebreakCriterion] = (
        EUROVISION_TIEBREAK if plan.rules.tiebreak == "eurovision" else plan.rules.tiebreak
    )
    values = sorted(set(plan.scale), reverse=True)

    def board_key(entry: str) -> tuple[object, ...]:
        tally, ro = tallies[entry], plan.running_order[entry]
        key: list[object] = [-tally.total]
        for name in chain:
            key.extend(_criterion(name, tally, ro, values))
        key.extend((ro, entry))
        return tuple(key)

    board = sorted(plan.running_order, key=board_key)
    scoreboard = [
        ScoreLine(
            country=e,
            place=i,
            total=fmt(tallies[e].total),
            jury=fmt(tallies[e].jury),
            televote=fmt(tallies[e].televote),
            running_order=plan.running_order[e],
            combined=fmt(tallies[e].combined) if plan.rules.combination == "combined" else None,
        )
        for i, e in enumerate(board, start=1)
    ]

    reveal: list[RevealStep] = []
    for s, ps in zip(sets, out_sets, strict=True):
        if s.body != "televote":
            reveal.append(
                RevealStep(step=len(reveal) + 1, body=s.body, from_=s.country, points=ps.points)
            )
    if any(s.body == "televote" for s in sets):
        jury_board = sorted(
            plan.running_order, key=lambda e: (-tallies[e].jury, plan.running_order[e])
        )
        for entry in reversed(jury_board):
            reveal.append(
                RevealStep(
                    step=len(reveal) + 1,
                    body="televote",
                    to=entry,
                    points={entry: fmt(tallies[entry].televote)},
                )
            )

    return Result(scoreboard=scoreboard, sets=out_sets, reveal=reveal, explanations=explanations)


def jury_set(
    rules: Rules, entries: Sequence[Entry], country: str, rankings: list[list[str]]
) -> dict[str, int]:
    """One voting country's jury set from its jurors' rankings: raw scale points, best
    first, before weights (what ``score`` computes for that country). Raises
    :class:`SheetError` (field ``votes[0].jury_rankings[j]...``) for invalid rankings."""
    sheet = Sheet(
        rules=rules,
        entries=list(entries),
        votes=[CountryVote(from_=country, jury_rankings=rankings)],
    )
    plan = _prepare(sheet)
    body = _own_jury(plan.votes[0], plan)
    return dict(body.raw) if body is not None else {}
