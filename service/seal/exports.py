"""`silkvote export --ledger` and `--breakdown`: sealed packages anyone can audit offline.

Both read the ledger in the seal's order and compare every record with the sealed leaves
as they write it (service/seal/ledger_check.py): a package is only ever cut from a ledger
that still matches its seal, otherwise the export stops naming the first changed row.
The files are described in service/verify/package.py.

A breakdown holds one voting country's records, which are one contiguous range of the
tree (records are ordered by country first), so its proof is a range proof: a few dozen
hashes tie all of them to the signed root.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import msgspec

from service.contests.models import Contest
from service.contests.repository import fetch_contest
from service.seal import repository as sql
from service.seal.chunks import LineSplitter, key_of, split_leaves
from service.seal.ledger_check import LedgerMatch
from service.seal.models import seal_document
from service.seal.proofs import chunk_roots_of
from service.seal.summary import SummaryFacts, write_summaries
from service.stores.postgres import connect
from service.verify import package as files
from service.verify.breakdown import breakdown_rows
from service.verify.diagnose import diagnose
from service.verify.merkle import CHUNK, ChunkedTree, leaf_hashes


class ExportError(Exception):
    """The export cannot be made (not sealed, or the ledger changed); the message says why."""


async def _sealed_contest(conn: Any, contest_id: str) -> tuple[Contest, Any]:
    contest = await fetch_contest(conn, contest_id)
    if contest is None:
        raise ExportError(f"contest {contest_id!r} not found")
    row = await sql.seal_row(conn, contest_id)
    if row is None:
        raise ExportError(f"contest {contest_id!r} is not sealed: close its window, lock "
                          f"its jury, then POST /api/v1/contests/{contest_id}/seal")
    return msgspec.structs.replace(contest, seal_public_key=row["public_key"].hex()), row


def _write_common(folder: Path, contest: Contest, row: Any) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / files.CONTEST).write_bytes(msgspec.json.format(msgspec.json.encode(contest)))
    (folder / files.SEAL).write_bytes(
        msgspec.json.format(msgspec.json.encode(seal_document(row))))
    (folder / files.RESULT).write_bytes(row["result"].encode())


def _write_proof(folder: Path, proof: files.RangeProof) -> None:
    (folder / files.PROOF).write_bytes(msgspec.json.format(msgspec.json.encode(proof)))


async def export_ledger(database_url: str, contest_id: str, folder: Path) -> list[Path]:
    """Every sealed record, the leaves, the seal and the result, plus the summary."""
    conn = await connect(database_url)
    try:
        contest, row = await _sealed_contest(conn, contest_id)
        # The stored leaves are compared with the ledger as it is written; that they
        # rebuild the signed root is the audit's first check (and `verify --seal`'s).
        sealed = await sql.sealed_chunks(conn, contest_id)
        _write_common(folder, contest, row)
        with (folder / files.RECORDS).open("wb") as records, \
                (folder / files.LEAVES).open("wb") as leaves:

            async def keep_leaves(lines: list[bytes], joined: bytes) -> None:
                leaves.write(joined)

            match = LedgerMatch(sealed, row["records"], on_chunk=keep_leaves)
            splitter = LineSplitter(match.add, raw=records.write)
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                await sql.stream_records(conn, contest_id, splitter.feed)
            await splitter.finish()
        mismatch = match.finish()
        if mismatch is not None:
            raise ExportError(f"the ledger no longer matches its seal: {mismatch.message}")
        _write_proof(folder, files.RangeProof(country="", first=0, end=row["records"],
                                              size=row["records"], hashes=[]))
        facts = SummaryFacts(
            contest=contest, seal=seal_document(row), result_json=row["result"],
            scope=None, channels=await sql.channel_counts(conn, contest_id),
            voids=await sql.void_counts(conn, contest_id))
    finally:
        await conn.close()
    return [*_listing(folder), *write_summaries(folder, facts)]


async def export_breakdown(database_url: str, contest_id: str, country: str, folder: Path
                           ) -> list[Path]:
    """One voting country's records, aggregates and jury ballots, with a range proof."""
    conn = await connect(database_url)
    try:
        contest, row = await _sealed_contest(conn, contest_id)
        if country not in contest.voting_countries:
            raise ExportError(f"{country} is not a voting country of {contest_id}")
        _write_common(folder, contest, row)
        lines: list[bytes] = []

        async def collect(batch: list[bytes]) -> None:
            lines.extend(batch)

        with (folder / files.RECORDS).open("wb") as records:
            splitter = LineSplitter(collect, raw=records.write)
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                await sql.stream_records(conn, contest_id, splitter.feed, country=country)
            await splitter.finish()
        if not lines:
            raise ExportError(f"{country} has no sealed records (no votes, no ballots)")
        leaves = leaf_hashes(lines)
        first = await _first_position(conn, contest_id, lines[0], leaves[0])
        end = first + len(lines)
        sealed = await sql.sealed_chunks(conn, contest_id, first // CHUNK,
                                         (end - 1) // CHUNK + 1)
        stored = b"".join(sealed[c] for c in sorted(sealed))[
            (first % CHUNK) * 32:(first % CHUNK + len(lines)) * 32]
        if stored != b"".join(leaves):
            at = next(i for i, leaf in enumerate(leaves) if stored[i * 32:i * 32 + 32] != leaf)
            found = diagnose(first + at, leaves[at:], lines[at:],
                             split_leaves(stored[at * 32:]))
            raise ExportError(f"the ledger no longer matches its seal: {found.message}")
        (folder / files.LEAVES).write_bytes(b"".join(leaves))
        tree = ChunkedTree(row["records"], chunk_roots_of(row),
                           lambda c: split_leaves(sealed[c]))
        _write_proof(folder, files.RangeProof(
            country=country, first=first, end=end, size=row["records"],
            hashes=[h.hex() for h in tree.proof(first, end)]))
        write_breakdown(folder / files.BREAKDOWN, lines)
        facts = SummaryFacts(
            contest=contest, seal=seal_document(row), result_json=row["result"],
            scope=country, channels=await sql.channel_counts(conn, contest_id, country),
            voids=await sql.void_counts(conn, contest_id, country))
    finally:
        await conn.close()
    return [*_listing(folder), *write_summaries(folder, facts)]


async def _first_position(conn: Any, contest_id: str, line: bytes, leaf: bytes) -> int:
    found = await sql.chunk_at(conn, contest_id, key_of(line))
    leaves = split_leaves(found[1]) if found else []
    if found is None or leaf not in leaves:
        raise ExportError("the ledger no longer matches its seal: the country's first "
                          f"record {line.decode(errors='replace')!r} is not sealed")
    return found[0] * CHUNK + leaves.index(leaf)


def write_breakdown(path: Path, lines: list[bytes]) -> None:
    with path.open("w", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(files.BREAKDOWN_HEADER)
        writer.writerows(breakdown_rows(lines))


def _listing(folder: Path) -> list[Path]:
    names = (files.CONTEST, files.SEAL, files.RESULT, files.RECORDS, files.LEAVES,
             files.PROOF, files.BREAKDOWN)
    return [folder / name for name in names if (folder / name).exists()]
