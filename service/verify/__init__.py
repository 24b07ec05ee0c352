"""What makes a sealed ledger checkable by anyone: pure code, no database, no network.

Read `records.py` first (the canonical line of one vote or one locked ballot: the bytes
every check hashes), then `merkle.py` (the RFC 6962 tree over those lines, inclusion and
range proofs), `statement.py` (what the contest's Ed25519 key signs), `package.py` (the
files of an export folder) and `audit.py` / `rescore.py` (what `silkvote audit DIR`
checks). `service/seal/` builds seals and exports from the ledger with these; an
observer's `silkvote audit` needs only this package and `scoring/`.
"""
