"""Inclusion proofs from a stored seal: one chunk's leaves plus the chunk roots.

The seal keeps every leaf (in chunks of 1024) and the chunk roots, so a receipt's proof
reads one chunk row and never re-hashes the ledger. The vote's record is read from the
ledger as it is now: if its leaf is not in the chunk its sort key falls into, the row
changed after the seal, and the answer says so instead of a proof that would not hold.
"""

from __future__ import annotations

from typing import Any

from service.core.errors import ApiError
from service.seal.chunks import split_leaves
from service.seal.repository import SealStore
from service.verify.merkle import CHUNK, ChunkedTree, leaf_hash


def chunk_roots_of(row: Any) -> list[bytes]:
    return split_leaves(row["chunk_roots"])


async def receipt_proof(seals: SealStore, row: Any, line: bytes, key: bytes
                        ) -> tuple[int, list[bytes]]:
    """(leaf index, audit path) of the record `line` (sort key `key`) in the sealed tree."""
    found = await seals.chunk_at(row["contest_id"], key)
    leaf = leaf_hash(line)
    offset = -1
    if found is not None:
        chunk, joined = found
        leaves = split_leaves(joined)
        offset = leaves.index(leaf) if leaf in leaves else -1
    if found is None or offset < 0:
        raise ApiError(409, "record_not_sealed",
                       "this vote's ledger row does not match the sealed record: the ledger "
                       "changed after the seal (run `silkvote verify --seal`)")
    cached = {chunk: leaves}

    def leaves_of(number: int) -> list[bytes]:
        raise KeyError(number)  # a one-leaf proof needs its own chunk only

    tree = ChunkedTree(row["records"], chunk_roots_of(row), lambda n: cached.get(n) or
                       leaves_of(n))
    index = chunk * CHUNK + offset
    return index, tree.proof(index, index + 1)
