"""The integrity report: the ledger's rows shaped into what a scrutineer reads.

Stuffing shows as concentration: many tokens and votes behind one client network, tokens
that spend their whole cap within a minute, a handful of networks carrying a large part
of the vote, an entry whose votes come mostly from one place. Each section says one of
those in numbers; none of them proves fraud alone (a venue's Wi-Fi is one network, a fan
taps fast), which is why a person decides the void and writes its reason.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

import msgspec

from service.integrity.models import (
    EntryRow,
    IntegrityReport,
    NetworkRow,
    TokenBurst,
    Totals,
    Void,
    VoidRule,
)
from service.integrity.repository import ReportRows


def _share(part: int, whole: int) -> float:
    return round(part / whole, 6) if whole else 0.0


def _hex(value: bytes | None) -> str | None:
    return None if value is None else value.hex()


def void_of(row: Any) -> Void:
    return Void(id=row["id"], rule=msgspec.convert(row["rule"], VoidRule), reason=row["reason"],
                actor=row["actor"], at=row["at"], votes=row["votes"])


def build_report(contest: str, rows: ReportRows, burst_window_s: int,
                 burst_threshold: int) -> IntegrityReport:
    t, share = rows.totals, rows.top_share
    with_network = int(share["with_network"])
    totals = Totals(
        votes=t["votes"], voided=t["voided"], tokens=t["tokens"], voters=t["voters"],
        networks=t["networks"], without_network=t["without_network"],
        top_1pct_networks=int(share["top_networks"]),
        top_1pct_share=_share(int(share["top_votes"]), with_network),
        channels={r["channel"]: r["n"] for r in rows.channels},
    )
    per_network: dict[bytes, dict[str, int]] = defaultdict(dict)
    for r in rows.network_entries:
        per_network[r["net_hash"]][r["entry"]] = r["n"]
    networks = [
        NetworkRow(network=r["net_hash"].hex(), votes=r["votes"],
                   share=_share(r["votes"], with_network), tokens=r["tokens"],
                   voters=r["voters"], first_at=r["first_at"], last_at=r["last_at"],
                   entries=dict(sorted(per_network[r["net_hash"]].items(),
                                       key=lambda kv: (-kv[1], kv[0]))))
        for r in rows.networks
    ]
    bursts = [
        TokenBurst(token=r["token_hash"].hex(), voter=r["voter"].hex(),
                   network=_hex(r["network"]), networks=r["networks"], votes=r["votes"],
                   most_in_window=r["most"], first_at=r["first_at"], last_at=r["last_at"])
        for r in rows.bursts
    ]
    tokens_of = {r["entry"]: r["tokens"] for r in rows.entry_tokens}
    entries = [
        EntryRow(entry=r["entry"], votes=int(r["votes"]), networks=r["networks"],
                 tokens=tokens_of.get(r["entry"], 0),
                 top_network_votes=int(r["top_network_votes"]),
                 top_1pct_share=_share(int(r["top_votes"]), int(r["with_network"])))
        for r in rows.entries
    ]
    return IntegrityReport(
        contest=contest, as_of=datetime.now(UTC), burst_window_s=burst_window_s,
        burst_threshold=burst_threshold,
        bursting_tokens=int(rows.bursts[0]["bursting"]) if rows.bursts else 0,
        totals=totals, networks=networks, bursts=bursts, entries=entries,
        voids=[void_of(r) for r in rows.voids],
    )
