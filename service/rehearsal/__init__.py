"""Dress rehearsals: a copy of a contest driven end to end through the real HTTP API.

`silkvote rehearse CONTEST` copies the contest's definition into a new contest
(`<cid>-rehearsal-<n>`), so the real one's ledger, ballots and audit log are never
touched; sends synthetic viewers' single votes, aggregator batches and jurors' ballots
at a chosen rate; closes, locks, steps the whole reveal, verifies, and reports.
Modules: `api` (the HTTP calls), `copy` (the contest copy), `traffic` (audience
votes), `jury` (jurors), `report` (what happened), `run` (the whole rehearsal).
"""
