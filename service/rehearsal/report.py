"""What a rehearsal did, counted as it goes, and its printed report."""

from __future__ import annotations

from collections import Counter

import msgspec


class RehearsalReport(msgspec.Struct, kw_only=True):
    contest: str  # the real contest, untouched
    rehearsal: str  # the copy the rehearsal ran on
    rate: float
    seconds: float
    votes_sent: int = 0
    votes_accepted: int = 0
    refused: dict[str, int] = msgspec.field(default_factory=dict)  # by error code
    batches: int = 0
    batch_votes: int = 0
    jurors: int = 0
    ballots: int = 0
    reveal_steps: int = 0
    verify_ok: bool | None = None
    ledger_total: int = 0
    live_total: int = 0
    timings_s: dict[str, float] = msgspec.field(default_factory=dict)  # per phase

    def count_refusal(self, code: str, n: int = 1) -> None:
        tally = Counter(self.refused)
        tally[code] += n
        self.refused = dict(tally)

    @property
    def votes_refused(self) -> int:
        return sum(self.refused.values())


def render(report: RehearsalReport) -> list[str]:
    """The report as lines of text (the CLI prints them; rich markup-free)."""
    refused = ", ".join(f"{code} {n}" for code, n in sorted(report.refused.items())) or "none"
    verify = {True: "ok", False: "DIFFERENCES", None: "not run"}[report.verify_ok]
    timings = ", ".join(f"{phase} {s:.1f} s" for phase, s in report.timings_s.items())
    return [
        f"rehearsal {report.rehearsal} of {report.contest} "
        f"({report.rate:g} votes/s for {report.seconds:g} s)",
        f"votes sent {report.votes_sent}, accepted {report.votes_accepted}, "
        f"refused {report.votes_refused} ({refused})",
        f"aggregator batches {report.batches} ({report.batch_votes} votes)",
        f"jurors {report.jurors}, ballots {report.ballots}",
        f"reveal steps {report.reveal_steps}",
        f"verify {verify}: ledger {report.ledger_total}, live {report.live_total}",
        f"timing: {timings}",
    ]
