"""Redis key and channel names in one place.

Keys carry a hash tag (`{...}`) so that on a Redis Cluster each multi-key operation
stays on one slot while different voting countries of one contest spread over shards.
"""

from __future__ import annotations


def tally(contest: str, voting_country: str) -> str:
    """Hash entry -> audience votes counted live for one voting country."""
    return f"sv:{{{contest}:{voting_country}}}:tally"


def tally_pattern(contest: str) -> str:
    return f"sv:{{{contest}:*}}:tally"


def applied(contest: str, voting_country: str | None = None) -> str:
    """Hash of the ledger batches whose votes the tallies hold (service/intake/tally_cut.py):
    one per contest on a single server; on a cluster one per voting country, in its
    tally's slot, since a script may touch only one slot."""
    tag = contest if voting_country is None else f"{contest}:{voting_country}"
    return f"sv:{{{tag}}}:applied"


CHANGED_CHANNEL = "sv:changed"  # message: a contest id whose live tallies moved


CONTEST_EVENTS_CHANNEL = "sv:contest-events"  # window/jury/reveal changes, for every process


def ws_ticket(ticket_digest: str) -> str:
    """A websocket ticket (service/security/ws_tickets.py), by the hash of its text."""
    return f"sv:ws-ticket:{ticket_digest}"


SCHEDULER_LEADER_KEY = "sv:scheduler:leader"  # the process that flips scheduled windows


def rehearsal_job(job_id: str) -> str:
    """A rehearsal started from the console: its progress and report (any process answers)."""
    return f"sv:rehearsal:{job_id}"
