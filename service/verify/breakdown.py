"""A broadcaster's audience votes by entry × channel × minute, from its records.

The export writes this table as breakdown.csv and the audit computes it again from the
records, so the table a broadcaster reads is the one its proof covers.
"""

from __future__ import annotations

from collections import Counter

from service.verify.records import VoteRecord, parse


def breakdown_rows(lines: list[bytes]) -> list[tuple[str, str, str, int, int]]:
    """(entry, channel, minute, votes that count, void votes), sorted."""
    counted: Counter[tuple[str, str, str]] = Counter()
    void: Counter[tuple[str, str, str]] = Counter()
    for line in lines:
        if line[:1] != b"v":
            continue
        vote = parse(line)
        assert isinstance(vote, VoteRecord)
        (void if vote.void else counted)[(vote.entry, vote.channel, vote.minute)] += 1
    cells = sorted(set(counted) | set(void))
    return [(*cell, counted[cell], void[cell]) for cell in cells]
