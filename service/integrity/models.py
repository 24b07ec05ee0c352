"""Bodies of the integrity report and of voids (contract: docs/api.md, "Integrity").

Hashes travel as lowercase hex: network and token hashes are 16 bytes (32 digits),
voter hashes 32 bytes (64 digits), as the ledger keeps them (migrations/0008). They are
keyed per contest, so a report names no address, token or person, and nothing in it
links one show to another; a scrutineer copies them from the report into a void rule.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from service.security.text import NO_CONTROLS

ShortHash = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{32}$",
                                        description="16-byte keyed hash, hex")]
VoterHash = Annotated[str, msgspec.Meta(pattern=r"^[0-9a-f]{64}$",
                                        description="32-byte keyed voter hash, hex")]
# A network is named by its hash from the report, or as the CIDR of its prefix
# ("203.0.113.0/24", "2001:db8:1::/48"), which the service hashes as the ledger does.
NetworkName = Annotated[str, msgspec.Meta(
    pattern=r"^([0-9a-f]{32}|[0-9A-Fa-f.:]{2,39}/[0-9]{1,3})$",
    description="a network hash from the report (hex), or a CIDR prefix")]
MAX_RULE_ITEMS = 10_000


class VoidRule(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, omit_defaults=True):
    """Which votes a void covers: every vote that matches all the criteria given."""

    networks: Annotated[list[NetworkName], msgspec.Meta(
        min_length=1, max_length=MAX_RULE_ITEMS)] | None = None
    tokens: Annotated[list[ShortHash], msgspec.Meta(
        min_length=1, max_length=MAX_RULE_ITEMS)] | None = None
    voters: Annotated[list[VoterHash], msgspec.Meta(
        min_length=1, max_length=MAX_RULE_ITEMS)] | None = None
    received_from: datetime | None = msgspec.field(default=None, name="from")
    received_until: datetime | None = msgspec.field(default=None, name="until")


class VoidIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    rule: VoidRule
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000, pattern=NO_CONTROLS)]
    by: Annotated[str, msgspec.Meta(min_length=1, max_length=200, pattern=NO_CONTROLS,
                                    description="who decided, for the record")] | None = None


class Void(msgspec.Struct, kw_only=True):
    """One void as recorded: its rule, reason, who and when, and the votes it took out."""

    id: str
    rule: VoidRule
    reason: str
    actor: str
    at: datetime
    votes: int


class VoidOut(Void, kw_only=True):
    """The answer to a void: the record, and the ledger batch that took the votes out of
    the tallies (0 when it matched none)."""

    batch: int


class Totals(msgspec.Struct, kw_only=True):
    votes: int  # counted: in the ledger and not void
    voided: int
    tokens: int  # distinct voter tokens among counted votes
    voters: int
    networks: int  # distinct client networks among counted votes
    without_network: int  # counted votes with no network (aggregator batches)
    top_1pct_networks: int  # how many networks the top 1 % is (at least one)
    top_1pct_share: float  # of the counted votes with a network, what the top 1 % cast
    channels: dict[str, int]


class NetworkRow(msgspec.Struct, kw_only=True):
    network: str  # hash, hex
    votes: int
    share: float  # of the counted votes with a network
    tokens: int
    voters: int
    first_at: datetime
    last_at: datetime
    entries: dict[str, int]


class TokenBurst(msgspec.Struct, kw_only=True):
    token: str  # hash, hex
    voter: str
    network: str | None  # of its first vote
    networks: int
    votes: int
    most_in_window: int  # its most votes within any `burst_window_s`
    first_at: datetime
    last_at: datetime


class EntryRow(msgspec.Struct, kw_only=True):
    entry: str
    votes: int
    networks: int
    tokens: int
    top_network_votes: int  # from the one network that gave it most
    top_1pct_share: float  # of its votes with a network, from its top 1 % of networks


class IntegrityReport(msgspec.Struct, kw_only=True):
    contest: str
    as_of: datetime
    burst_window_s: int
    burst_threshold: int
    bursting_tokens: int  # tokens with at least `burst_threshold` votes in one window
    totals: Totals
    networks: list[NetworkRow]  # the top `top`, most votes first
    bursts: list[TokenBurst]  # the top `top`, most votes in one window first
    entries: list[EntryRow]  # most votes first
    voids: list[Void]
