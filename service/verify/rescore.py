"""Score the contest again from the records alone, and compare with the published result.

The same code path as the service: `service/results/sheet.py` turns counts and ballots
into a scoring sheet and `scoring/` scores it, so a difference is a difference in the
data, never in two implementations of the rules. Void votes are left out, as every
count of the ledger leaves them out.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import msgspec

from scoring import Result, score
from service.contests.models import Contest
from service.results.sheet import Counts, Rankings, contest_sheet
from service.verify.records import BallotRecord, RecordError, parse, unescape


class Tally(msgspec.Struct, kw_only=True):
    counts: Counts
    rankings: Rankings
    votes: int
    ballots: int
    void: int
    bad: tuple[int, str] | None = None  # (line index, why) of the first bad record


def tally(lines: Sequence[bytes]) -> Tally:
    """Counts by (voting country, entry) of votes that count, and ballots by country;
    also the first record that is malformed or out of tree order."""
    cells: Counter[tuple[bytes, bytes]] = Counter()
    rankings: Rankings = {}
    votes = ballots = void = 0
    bad: tuple[int, str] | None = None
    previous = b""
    for index, line in enumerate(lines):
        fields = line.split(b"\t")
        if line[:1] == b"v" and len(fields) == 9 and fields[7] in (b"0", b"1"):
            votes += 1
            key = fields[3] + b"v" + fields[1]
            if fields[7] == b"0":
                cells[fields[3], fields[4]] += 1
            else:
                void += 1
        else:
            try:
                record = parse(line)
            except RecordError as exc:
                bad = bad or (index, str(exc))
                continue
            if not isinstance(record, BallotRecord):
                bad = bad or (index, "malformed vote")
                continue
            ballots += 1
            key = record.country.encode() + b"b" + record.juror.encode()
            rankings.setdefault(record.country, []).append(record.ranking)
        if key <= previous:
            bad = bad or (index, "out of tree order (or a duplicate)")
        previous = key
    counts: Counts = {}
    for (country, entry), n in cells.items():
        counts.setdefault(country.decode(), {})[unescape(entry.decode())] = n
    return Tally(counts=counts, rankings=rankings, votes=votes, ballots=ballots, void=void,
                 bad=bad)


def tally_file(path: str) -> Tally:
    """`tally` of a records file (what the audit runs in a second process)."""
    from service.verify.package import split_lines

    with open(path, "rb") as records:
        return tally(split_lines(records.read()))


def rescore(contest: Contest, found: Tally, only: str | None = None) -> Result:
    """The result the records imply (`only`: a sheet of that one voting country)."""
    if only is not None:
        contest = msgspec.structs.replace(contest, voting_countries=[only])
    rankings = found.rankings if contest.jury_locked else None
    return score(contest_sheet(contest, found.counts, rankings))


def _sets(result: Result) -> dict[tuple[str, str], Any]:
    return {(s.from_, s.body): msgspec.to_builtins(s) for s in result.sets}


def first_difference(published: Result, recomputed: Result, only: str | None = None
                     ) -> str | None:
    """The first set, total or place where they differ (None if none does).

    With `only`, just that country's sets are compared, and a published substitute jury
    set is not (it comes from other countries' juries, which the package does not hold).
    """
    mine = _sets(recomputed)
    for key, shown in _sets(published).items():
        if only is not None and (key[0] != only or shown.get("substitute")):
            continue
        if mine.get(key) != shown:
            return (f"set from {key[0]} ({key[1]}): published {shown.get('points')}, "
                    f"records give {(mine.get(key) or {}).get('points')}")
    if only is not None:
        extra = [k for k in mine if k not in _sets(published)]
        return f"set from {extra[0][0]} ({extra[0][1]}) is not published" if extra else None
    if set(mine) != set(_sets(published)):
        return "the records give other sets than the published ones"
    lines = {line.country: msgspec.to_builtins(line) for line in recomputed.scoreboard}
    for line in published.scoreboard:
        if lines.get(line.country) != msgspec.to_builtins(line):
            return (f"scoreboard line of {line.country}: published place {line.place}, total "
                    f"{line.total}; records give {lines.get(line.country)}")
    return None
