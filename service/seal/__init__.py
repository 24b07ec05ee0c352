"""Sealing a contest's ledger, and what is built on a seal: exports, receipts, checks.

`keys.py` (each contest's Ed25519 key, derived from SEAL_SECRET) → `repository.py`
(every SQL statement: the canonical records streamed out of PostgreSQL, the seal and its
chunks) → `sealer.py` (records → Merkle tree → signed statement, once per contest) →
`api.py` (`POST …/seal`, `GET …/receipts/{id}`), `exports.py` (`silkvote export
--ledger / --breakdown`, with `summary.py` for the printable summary) and `ledger_check.py`
(`silkvote verify --seal`). The pure parts an observer runs offline are in
`service/verify/`.
"""
