"""Audience vote intake: the hot path from a viewer's tap to a durable ledger row.

In the order a vote meets them: `api.py` (the routes and the voter's claims) →
`rules.py` (checks that need only the cached contest) → `committer.py` (group commit,
with `spare_core.py` deciding early cuts) → `ledger.py` (the `record_votes` call: the
vote becomes a row) → `tallies.py` (live counts in Redis and the change notice).
`aggregators.py` identifies batch senders; `reconcile.py` repairs tallies from the ledger.
"""
