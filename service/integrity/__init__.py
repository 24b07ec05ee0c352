"""Integrity: what a scrutineer looks at when a televote is attacked, and how stuffed
votes are taken out of the count without taking them out of the ledger.

`report.py` reads the ledger's patterns (votes and tokens per client network, tokens
that vote in bursts, how much the top 1 % of networks carry, per entry) through
`repository.py`; `voids.py` turns a scrutineer's rule into a void: an append-only record
and a ledger batch with negative cells (migrations/0009), so the official count, the
live tallies and the reconciler all agree the votes no longer count. `api.py` holds the
two admin routes; `models.py` their bodies.
"""
