"""Regenerate the worked example of docs/scoring.md (deterministic).

    .venv/bin/python docs/examples/make_silk_way_star.py
    .venv/bin/python -m scoring docs/examples/silk-way-star.sheet.json \
        > docs/examples/silk-way-star.result.json
"""

from __future__ import annotations

import json
import random
from pathlib import Path

LINE_UP = ["AZ", "AM", "GE", "IN", "KZ", "CN", "KG", "MN", "TJ", "TM", "UZ", "KR"]
APPEAL = {  # how much juries and audiences like each song (made up)
    "AZ": 0.62, "AM": 0.55, "GE": 0.70, "IN": 0.66, "KZ": 0.74, "CN": 0.58,
    "KG": 0.45, "MN": 0.68, "TJ": 0.40, "TM": 0.35, "UZ": 0.52, "KR": 0.80,
}  # fmt: skip
AUDIENCE = {"IN": 40_000, "CN": 55_000, "KR": 9_000, "KZ": 6_000, "UZ": 5_000}


def main() -> None:
    rnd = random.Random(7)
    entries = [{"country": c, "running_order": i} for i, c in enumerate(LINE_UP, start=1)]
    votes: list[dict[str, object]] = []
    for voter in [*LINE_UP, "WW"]:
        others = [c for c in LINE_UP if c != voter]
        vote: dict[str, object] = {"from": voter}
        if voter == "TM":
            # TM's jury did not deliver enough valid ballots: a substitute result
            vote["substitute_from"] = ["TJ", "UZ", "KG"]
        elif voter != "WW":
            vote["jury_rankings"] = [
                sorted(others, key=lambda c: -(APPEAL[c] + rnd.gauss(0, 0.15))) for _ in range(5)
            ]
        size = AUDIENCE.get(voter, 2_500 if voter != "WW" else 20_000)
        vote["televote_counts"] = {
            c: int(size * APPEAL[c] ** 3 * rnd.uniform(0.6, 1.4)) for c in others
        }
        votes.append(vote)
    sheet = {"rules": {}, "entries": entries, "votes": votes}
    path = Path(__file__).with_name("silk-way-star.sheet.json")
    path.write_text(json.dumps(sheet, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
