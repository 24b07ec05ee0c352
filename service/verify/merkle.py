"""The Merkle tree of a sealed ledger: RFC 6962 (Certificate Transparency) hashing.

    leaf hash = SHA-256(0x00 || record line)      node hash = SHA-256(0x01 || left || right)

The tree over n leaves is RFC 6962's: the left subtree holds the largest power of two
below n. Building it level by level, pairing neighbours and carrying an odd last node up
unchanged, gives the same tree; so node (level L, index i) is the tree hash of leaves
[i * 2^L, min((i + 1) * 2^L, n)), whatever n is.

Large ledgers are hashed in chunks of `CHUNK` = 2^`CHUNK_LEVEL` leaves: each chunk is a
node of the tree, so the seal keeps the chunks' leaves and roots, and a proof is the path
inside a chunk followed by the path between chunk roots. A proof here is a *range proof*:
the sibling hashes that, with the hashes of leaves [first, end), rebuild the root (for a
single leaf it is RFC 9162's audit path, bottom up). Every proof is checked by
`verify_range`, the same code the offline audit runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

CHUNK_LEVEL = 10
CHUNK = 1 << CHUNK_LEVEL
_sha256 = hashlib.sha256
_LEAF = _sha256(b"\x00")
_NODE = b"\x01"
EMPTY_ROOT = _sha256(b"").digest()  # RFC 6962: the hash of an empty tree


class ProofError(ValueError):
    """A proof does not have the shape its range and tree size need."""


def leaf_hash(line: bytes) -> bytes:
    h = _LEAF.copy()
    h.update(line)
    return h.digest()


def leaf_hashes(lines: Sequence[bytes]) -> list[bytes]:
    """Many leaves at once: the loop the seal spends most of its time in."""
    copy = _LEAF.copy
    out: list[bytes] = []
    append = out.append
    for line in lines:
        h = copy()
        h.update(line)
        append(h.digest())
    return out


def node_hash(left: bytes, right: bytes) -> bytes:
    return _sha256(_NODE + left + right).digest()


def next_level(level: Sequence[bytes]) -> list[bytes]:
    """Pair neighbours; an odd last node goes up unchanged."""
    sha, prefix = _sha256, _NODE
    up = [sha(prefix + a + b).digest() for a, b in zip(level[::2], level[1::2], strict=False)]
    if len(level) % 2:
        up.append(level[-1])
    return up


def levels_of(leaves: Sequence[bytes]) -> list[list[bytes]]:
    """Every level, leaves first, root last (one list of one hash)."""
    levels = [list(leaves)]
    while len(levels[-1]) > 1:
        levels.append(next_level(levels[-1]))
    return levels


def root_of(nodes: Sequence[bytes]) -> bytes:
    """The tree hash over `nodes` (leaf hashes, or chunk roots as level-10 nodes)."""
    if not nodes:
        return EMPTY_ROOT
    level = list(nodes)
    while len(level) > 1:
        level = next_level(level)
    return level[0]


def level_sizes(size: int) -> list[int]:
    """How many nodes each level of a tree of `size` leaves has, leaves first."""
    sizes = [size]
    while sizes[-1] > 1:
        sizes.append((sizes[-1] + 1) // 2)
    return sizes


def range_proof(node: Callable[[int, int], bytes], size: int, first: int, end: int
                ) -> list[bytes]:
    """The hashes that tie leaves [first, end) to the root, given `node(level, index)`.

    At each level the range's nodes need at most their left neighbour (when the range
    starts on a right child) and their right neighbour (when it ends on a left child
    that has a sibling); nothing else, so a range costs at most two hashes a level.
    """
    if not 0 <= first < end <= size:
        raise ProofError(f"range [{first}, {end}) is not inside a tree of {size} leaves")
    proof: list[bytes] = []
    lo, hi = first, end
    for level, count in enumerate(level_sizes(size)[:-1]):
        if lo % 2:
            proof.append(node(level, lo - 1))
        if (hi - 1) % 2 == 0 and hi < count:
            proof.append(node(level, hi))
        lo, hi = lo // 2, (hi - 1) // 2 + 1
    return proof


def root_from_range(leaves: Sequence[bytes], size: int, first: int, proof: Sequence[bytes]
                    ) -> bytes:
    """The root that `leaves` (hashes of leaves first, first + 1, …) and `proof` imply."""
    end = first + len(leaves)
    if not leaves or not 0 <= first < end <= size:
        raise ProofError(f"range [{first}, {end}) is not inside a tree of {size} leaves")
    row, lo, hi = list(leaves), first, end
    given = iter(proof)
    try:
        for count in level_sizes(size)[:-1]:
            if lo % 2:
                row.insert(0, next(given))
                lo -= 1
            if (hi - 1) % 2 == 0 and hi < count:
                row.append(next(given))
                hi += 1
            row = next_level(row)
            lo, hi = lo // 2, (hi - 1) // 2 + 1
    except StopIteration:
        raise ProofError("the proof is too short for its range") from None
    if next(given, None) is not None:
        raise ProofError("the proof is longer than its range needs")
    return row[0]


def verify_range(leaves: Sequence[bytes], size: int, first: int, proof: Sequence[bytes],
                 root: bytes) -> bool:
    try:
        return root_from_range(leaves, size, first, proof) == root
    except ProofError:
        return False


class ChunkedTree:
    """A sealed tree held as chunk roots plus the leaves of whichever chunks a proof
    needs (`leaves_of(chunk)`), so a proof never needs every leaf in memory."""

    def __init__(self, size: int, chunk_roots: Sequence[bytes],
                 leaves_of: Callable[[int], Sequence[bytes]]) -> None:
        self.size = size
        self.chunk_roots = list(chunk_roots)
        self._leaves_of = leaves_of
        self._chunk_levels: dict[int, list[list[bytes]]] = {}
        self._top: list[list[bytes]] | None = None

    @property
    def root(self) -> bytes:
        return root_of(self.chunk_roots)

    def node(self, level: int, index: int) -> bytes:
        if level < CHUNK_LEVEL:
            chunk, offset = divmod(index << level, CHUNK)
            levels = self._chunk_levels.get(chunk)
            if levels is None:
                levels = self._chunk_levels[chunk] = levels_of(self._leaves_of(chunk))
            return levels[level][offset >> level]
        if self._top is None:
            self._top = levels_of(self.chunk_roots)
        return self._top[level - CHUNK_LEVEL][index]

    def proof(self, first: int, end: int) -> list[bytes]:
        return range_proof(self.node, self.size, first, end)
