"""Checking a decoded sheet completely before anything is scored.

The scoring modules trust their input because every field is checked first, and each
problem names its place in the JSON (``votes[3].jury_rankings[1][4]``). A problem with a
body that a substitute can stand in for is kept rather than raised: the substitute's
note reports it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TypeVar

from scoring.disqualify import without_disqualified
from scoring.errors import SheetError
from scoring.models import CountryVote, Entry, Rules, Sheet
from scoring.rules import effective_weights, validate_rules

_Raw = TypeVar("_Raw")  # a body's raw input: juror rankings or televote counts


@dataclass
class CheckedVote:
    """One vote object as the checks found it: which bodies are usable, which need a
    substitute, and the weights that apply to this voter."""

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
class CheckedSheet:
    """A sheet that passed every check, with the lookups scoring needs."""

    rules: Rules
    scale: list[int]
    running_order: dict[str, int]
    votes: list[CheckedVote]


def _entry_list(names: Sequence[str], running_order: Mapping[str, int]) -> str:
    return ", ".join(sorted(names, key=lambda e: running_order[e]))


def _check_rankings(
    rankings: list[list[str]], vote: CheckedVote, running_order: Mapping[str, int], base: str
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
    vote: CheckedVote,
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
    check_raw: Callable[[_Raw, CheckedVote, Mapping[str, int], str], SheetError | None],
    points: dict[str, int] | None,
    vote: CheckedVote,
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


def _body_state(
    error: SheetError | None, given: bool, substitutable: bool
) -> tuple[bool, str, bool]:
    """(ok, problem, substitute) of one body: usable when given and valid; otherwise a
    substitute stands in if the vote lists countries to take it from."""
    ok = error is None and given
    return ok, str(error) if error else "", substitutable and not ok


def _check_counts(
    counts: dict[str, int], vote: CheckedVote, running_order: Mapping[str, int], base: str
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


def _running_order(entries: Sequence[Entry]) -> dict[str, int]:
    if not entries:
        raise SheetError("entries", "a contest needs at least one entry")
    running_order: dict[str, int] = {}
    by_order: dict[int, str] = {}
    for i, entry in enumerate(entries):
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
    return running_order


def _voters(sheet: Sheet, entries: frozenset[str]) -> list[CheckedVote]:
    global_weights = effective_weights(sheet.rules, "")
    votes: list[CheckedVote] = []
    voters: dict[str, int] = {}
    for i, cv in enumerate(sheet.votes):
        if not cv.from_:
            raise SheetError(f"votes[{i}].from", "must not be empty")
        if cv.from_ in voters:
            raise SheetError(
                f"votes[{i}].from", f"{cv.from_} already votes in votes[{voters[cv.from_]}]"
            )
        voters[cv.from_] = i
        wj, wt = effective_weights(sheet.rules, cv.from_, global_weights)
        votes.append(
            CheckedVote(
                index=i,
                country=cv.from_,
                eligible=entries - {cv.from_},
                source=cv,
                jury_weight=wj,
                televote_weight=wt,
            )
        )
    return votes


def _substitute_list(vote: CheckedVote, voters: Mapping[str, CheckedVote], base: str) -> None:
    listed = vote.source.substitute_from
    if listed is None:
        return
    if not listed:
        raise SheetError(f"{base}.substitute_from", "must name at least one voting country")
    for k, other in enumerate(listed):
        where = f"{base}.substitute_from[{k}]"
        if other == vote.country:
            raise SheetError(where, f"{other} cannot substitute for itself")
        if other not in voters:
            raise SheetError(where, f"{other} is not a voting country of this sheet")
        if other in vote.substitutes:
            raise SheetError(where, f"{other} is listed twice")
        vote.substitutes.append(other)


def _check_vote(
    vote: CheckedVote,
    voters: Mapping[str, CheckedVote],
    running_order: Mapping[str, int],
    scale: Counter[int],
) -> tuple[SheetError | None, SheetError | None]:
    """Check one vote object; returns the (jury, televote) problems a substitute may
    replace (every other problem is raised)."""
    cv, base = vote.source, f"votes[{vote.index}]"
    if cv.jury_rankings is not None and cv.jury_points is not None:
        raise SheetError(f"{base}.jury_points", "give jury_rankings or jury_points, not both")
    if cv.televote_counts is not None and cv.televote_points is not None:
        raise SheetError(
            f"{base}.televote_points", "give televote_counts or televote_points, not both"
        )
    _substitute_list(vote, voters, base)
    substitutable = bool(vote.substitutes)

    jury_error = _check_body(
        cv.jury_rankings, _check_rankings, cv.jury_points, vote, running_order, scale,
        f"{base}.jury_rankings", f"{base}.jury_points", substitutable,
    )  # fmt: skip
    jury_given = cv.jury_rankings is not None or cv.jury_points is not None
    vote.jury_ok, vote.jury_problem, vote.jury_substitute = _body_state(
        jury_error, jury_given, substitutable
    )
    tele_error = _check_body(
        cv.televote_counts, _check_counts, cv.televote_points, vote, running_order, scale,
        f"{base}.televote_counts", f"{base}.televote_points", substitutable,
    )  # fmt: skip
    tele_given = cv.televote_counts is not None or cv.televote_points is not None
    vote.televote_ok, vote.televote_problem, vote.televote_substitute = _body_state(
        tele_error, tele_given, substitutable
    )
    return jury_error, tele_error


def _settle_substitutes(
    voters: Mapping[str, CheckedVote],
    problems: Mapping[int, tuple[SheetError | None, SheetError | None]],
) -> None:
    """A substitute needs at least one listed country with a valid body of the same kind.
    If none has one, an invalid body is reported as the error it is; a missing body
    simply stays missing."""
    for vote in voters.values():
        if not vote.substitutes:
            continue
        jury_error, tele_error = problems[vote.index]
        if not any(voters[c].jury_ok for c in vote.substitutes):
            if jury_error is not None:
                raise jury_error
            vote.jury_substitute = False
        if not any(voters[c].televote_ok for c in vote.substitutes):
            if tele_error is not None:
                raise tele_error
            vote.televote_substitute = False


def check_sheet(sheet: Sheet) -> CheckedSheet:
    """Check a sheet completely; what the checks learn is what scoring starts from."""
    rules = sheet.rules
    validate_rules(rules)
    running_order = _running_order(sheet.entries)
    scale = Counter(rules.points)
    votes = _voters(sheet, frozenset(running_order))
    voters = {v.country: v for v in votes}
    problems = {v.index: _check_vote(v, voters, running_order, scale) for v in votes}
    _settle_substitutes(voters, problems)
    return CheckedSheet(
        rules=rules, scale=list(rules.points), running_order=running_order, votes=votes
    )


def validate_sheet(sheet: Sheet) -> None:
    """Check a decoded sheet completely; raises :class:`SheetError` naming the field."""
    check_sheet(without_disqualified(sheet))
