"""The seal's Merkle tree is RFC 6962's, and its proofs verify as RFC 9162 says."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.verify.merkle import (
    CHUNK,
    EMPTY_ROOT,
    ChunkedTree,
    leaf_hashes,
    levels_of,
    range_proof,
    root_from_range,
    root_of,
    verify_range,
)

pytestmark = pytest.mark.stores_independent


def rfc6962_mth(data: list[bytes]) -> bytes:
    """RFC 6962 section 2.1, written out as the RFC states it (recursive split at k)."""
    n = len(data)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + data[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + rfc6962_mth(data[:k]) + rfc6962_mth(data[k:])).digest()


def rfc9162_verify_inclusion(index: int, size: int, leaf: bytes, path: list[bytes],
                             root: bytes) -> bool:
    """RFC 9162 section 2.1.3.2, step by step, independent of merkle.py."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn % 2 == 1 or fn == sn:
            r = hashlib.sha256(b"\x01" + p + r).digest()
            if fn % 2 == 0:
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = hashlib.sha256(b"\x01" + r + p).digest()
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def test_the_root_of_no_records_is_the_hash_of_nothing() -> None:
    assert root_of([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=20), min_size=1, max_size=70))
def test_the_root_is_rfc_6962s_tree_hash(data: list[bytes]) -> None:
    assert root_of(leaf_hashes(data)) == rfc6962_mth(data)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.data())
def test_a_one_record_proof_is_the_rfc_9162_audit_path(size: int, draw: st.DataObject) -> None:
    leaves = leaf_hashes([str(i).encode() for i in range(size)])
    levels = levels_of(leaves)
    index = draw.draw(st.integers(0, size - 1))
    path = range_proof(lambda lv, i: levels[lv][i], size, index, index + 1)
    assert rfc9162_verify_inclusion(index, size, leaves[index], path, levels[-1][0])


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 300), st.data())
def test_a_range_proof_ties_exactly_its_records_to_the_root(size: int,
                                                             draw: st.DataObject) -> None:
    leaves = leaf_hashes([str(i).encode() for i in range(size)])
    levels = levels_of(leaves)
    first = draw.draw(st.integers(0, size - 1))
    end = draw.draw(st.integers(first + 1, size))
    proof = range_proof(lambda lv, i: levels[lv][i], size, first, end)
    root = levels[-1][0]
    assert verify_range(leaves[first:end], size, first, proof, root)
    assert len(proof) <= 2 * len(levels)
    changed = list(leaves[first:end])
    changed[draw.draw(st.integers(0, len(changed) - 1))] = hashlib.sha256(b"x").digest()
    assert not verify_range(changed, size, first, proof, root)
    if first > 0:
        assert not verify_range(leaves[first:end], size, first - 1, proof, root)


def test_chunked_trees_give_the_same_root_and_proofs_as_the_whole_tree() -> None:
    size = 3 * CHUNK + 17
    leaves = leaf_hashes([str(i).encode() for i in range(size)])
    roots = [root_of(leaves[i:i + CHUNK]) for i in range(0, size, CHUNK)]
    tree = ChunkedTree(size, roots, lambda c: leaves[c * CHUNK:(c + 1) * CHUNK])
    levels = levels_of(leaves)
    assert tree.root == levels[-1][0]
    for first, end in ((0, size), (5, 6), (CHUNK - 1, 2 * CHUNK + 3), (size - 1, size)):
        assert tree.proof(first, end) == range_proof(lambda lv, i: levels[lv][i], size,
                                                     first, end)
        assert root_from_range(leaves[first:end], size, first,
                               tree.proof(first, end)) == tree.root
