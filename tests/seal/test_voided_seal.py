"""Voids through the seal, the export and the offline audit: the canonical record of every
vote carries its void flag and reason, the printable summary (HTML and PDF) names each
void with its count, and `silkvote audit` re-scores from the records with the voided votes
counting for no one; flipping one record's void flag fails the audit, naming the record."""

from __future__ import annotations

import html
import re
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
import msgspec
import pytest

from scoring import Result, score
from service.contests.models import Contest
from service.results.sheet import contest_sheet
from service.stores.postgres import connect
from service.verify import package as files
from service.verify.records import VoteRecord, parse
from service.verify.rescore import rescore, tally
from tests.conftest import LiveServer, Stores
from tests.seal.show import audit, exported, lock_close_and_seal
from tests.seal.test_exports_and_audit import copy_of, rewrite_records
from tests.service.helpers import aggregator_headers, open_window

VOTING = ["KZ", "UZ", "WW"]
# Two stuffers, each voided by a rule on its voter hash, each with its own reason (one
# with a backslash and Cyrillic, which the record escapes and the summary must keep).
STUFFERS = {"+79990000001": ("KZ", "KR", 8, "one phone, 8 votes for KR in a minute"),
            "+79990000002": ("UZ", "MN", 6, "Бот \\ 6 votes from one number")}


@dataclass
class VoidedExport:
    folder: Path
    cid: str
    voided: dict[str, str]  # voter hash (hex) -> its void's reason
    counted: dict[str, dict[str, int]]  # the votes that count, by voting country and entry
    everything: dict[str, dict[str, int]]  # every vote, voided ones too


def legit_votes() -> list[dict[str, str]]:
    entries = ["AZ", "GE", "KR", "MN", "TJ", "AM", "AZ"]  # AZ leads every country
    return [{"id": f"fan-{i}", "voter": f"+7700{i:07d}", "country": VOTING[i % 3],
             "entry": entries[i % 7]} for i in range(42)]


def stuffed_votes() -> list[dict[str, str]]:
    return [{"id": f"stuff-{phone}-{n}", "voter": phone, "country": country, "entry": entry}
            for phone, (country, entry, times, _) in STUFFERS.items() for n in range(times)]


def by_country(votes: list[dict[str, str]]) -> dict[str, dict[str, int]]:
    cells = Counter((v["country"], v["entry"]) for v in votes)
    counts: dict[str, dict[str, int]] = {}
    for (country, entry), n in cells.items():
        counts.setdefault(country, {})[entry] = n
    return counts


@pytest.fixture(scope="module")
async def export(live_server: LiveServer, stores: Stores,
                 tmp_path_factory: pytest.TempPathFactory) -> VoidedExport:
    legit, stuffed = legit_votes(), stuffed_votes()
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as api:
        cid = live_server.new_contest(jury_size=0, jury_min_valid=0, voting_countries=VOTING)
        await open_window(api, live_server, cid)
        r = await api.post(f"/api/v1/contests/{cid}/votes/batch",
                           json={"votes": legit + stuffed},
                           headers=await aggregator_headers(api, live_server, cid))
        assert r.status_code == 200 and r.json()["accepted"] == len(legit + stuffed), r.text
        conn = await connect(stores.database_url)
        try:
            hashes = {phone: (await conn.fetchval(
                "SELECT encode(voter_hash, 'hex') FROM votes WHERE contest_id = $1 "
                "AND voting_country = $2 AND entry = $3 GROUP BY voter_hash "
                "HAVING count(*) = $4", cid, country, entry, times))
                for phone, (country, entry, times, _) in STUFFERS.items()}
        finally:
            await conn.close()
        assert all(hashes.values()), hashes
        for phone, (_, _, times, reason) in STUFFERS.items():
            r = await api.post(f"/api/v1/contests/{cid}/voids", headers=live_server.admin,
                               json={"rule": {"voters": [hashes[phone]]}, "reason": reason,
                                     "by": "scrutineer"})
            assert r.status_code == 201 and r.json()["votes"] == times, r.text
        await lock_close_and_seal(api, live_server, cid)
    folder = exported(live_server, tmp_path_factory.mktemp("voided-export"), "--ledger", cid)
    return VoidedExport(folder=folder, cid=cid,
                        voided={hashes[p]: STUFFERS[p][3] for p in STUFFERS},
                        counted=by_country(legit), everything=by_country(legit + stuffed))


def vote_records(folder: Path) -> list[tuple[int, VoteRecord]]:
    """(line index, record) of every vote in records.txt."""
    return [(i, record) for i, line in enumerate(files.record_lines(folder))
            if isinstance(record := parse(line), VoteRecord)]


def test_the_sealed_record_of_a_voided_vote_carries_the_void_flag_and_its_reason(
        export: VoidedExport) -> None:
    votes = vote_records(export.folder)
    assert len(votes) == len(legit_votes()) + len(stuffed_votes())
    for _, record in votes:
        expected = export.voided.get(record.voter, "")
        assert (record.void, record.void_reason) == (bool(expected), expected), record
    void_reasons = Counter(r.void_reason for _, r in votes if r.void)
    assert void_reasons == {reason: times for _, _, times, reason in STUFFERS.values()}
    raw = (export.folder / files.RECORDS).read_bytes()  # the backslash escaped, as defined
    assert "\t1\tБот \\\\ 6 votes from one number\n".encode() in raw


_PDF_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}


def _pdf_string(literal: bytes) -> bytes:
    """The bytes of a PDF literal string's body (its backslash escapes undone)."""
    return re.sub(rb"\\([0-7]{1,3}|.)", lambda m: bytes([int(m.group(1), 8)])
                  if m.group(1)[:1].isdigit() else _PDF_ESCAPES.get(m.group(1), m.group(1)),
                  literal, flags=re.S)


def pdf_text(pdf: bytes) -> str:
    """The text fpdf2 drew, one line per text object: with its Unicode font each string
    is two-byte glyph ids, mapped back to characters by the font's ToUnicode CMap (the
    core font, without DejaVu, writes Latin-1 text as is)."""
    streams = []
    for m in re.finditer(rb"/Length (\d+)[^>]*>>\s*stream\r?\n", pdf):
        body = pdf[m.end():m.end() + int(m.group(1))]
        try:
            streams.append(zlib.decompress(body))
        except zlib.error:
            streams.append(body)
    glyphs: dict[bytes, str] = {}
    for stream in streams:
        for block in re.findall(rb"beginbfchar(.*?)endbfchar", stream, re.S):
            for gid, uni in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                glyphs[bytes.fromhex(gid.decode())] = bytes.fromhex(
                    uni.decode()).decode("utf-16-be")
    lines = []
    for stream in streams:
        for literal in re.findall(rb"\(((?:\\.|[^\\)])*)\)\s*Tj", stream, re.S):
            shown = _pdf_string(literal)
            lines.append("".join(glyphs.get(shown[i:i + 2], "?")
                                 for i in range(0, len(shown), 2)) if glyphs
                         else shown.decode("latin-1"))
    return "\n".join(lines)


def test_the_printable_summary_names_each_void_with_its_reason_and_count(
        export: VoidedExport) -> None:
    summary = (export.folder / files.SUMMARY_HTML).read_text(encoding="utf-8")
    assert "no vote is void" not in summary
    printed = pdf_text((export.folder / files.SUMMARY_PDF).read_bytes())
    assert "Voids" in printed and "Scoreboard" in printed, printed[:500]
    for _, _, times, reason in STUFFERS.values():
        line = f"{times} votes void: {reason}"
        assert html.escape(line) in summary, summary
        assert line in printed or line.encode("latin-1", "replace").decode("latin-1") \
            in printed, printed


def test_the_audit_passes_and_re_scores_the_published_result_without_the_voided_votes(
        export: VoidedExport) -> None:
    done = audit(export.folder)
    assert done.returncode == 0, done.stdout
    voided = sum(times for _, _, times, _ in STUFFERS.values())
    assert f"({voided} void)" in done.stdout and "PASS  rescore" in done.stdout, done.stdout
    contest = msgspec.json.decode((export.folder / files.CONTEST).read_bytes(), type=Contest)
    published = msgspec.json.decode((export.folder / files.RESULT).read_bytes(), type=Result)
    without_voids = score(contest_sheet(contest, export.counted, {}))
    assert msgspec.to_builtins(published) == msgspec.to_builtins(without_voids)
    found = tally(files.record_lines(export.folder))
    assert found.counts == export.counted and found.void == voided
    assert msgspec.to_builtins(rescore(contest, found)) == msgspec.to_builtins(published)
    # the voids decide something: counted, the stuffers would have won their countries
    with_voids = score(contest_sheet(contest, export.everything, {}))
    assert msgspec.to_builtins(with_voids.sets) != msgspec.to_builtins(published.sets)
    for country, entry in {(c, e) for c, e, _, _ in STUFFERS.values()}:
        own = next(s for s in published.sets if s.from_ == country and s.body == "televote")
        assert own.points.get(entry, 0) != 12, (country, own.points)


@pytest.mark.parametrize("flip", ["un-void a voided vote", "void a counted vote"])
def test_flipping_one_records_void_flag_fails_the_audit_naming_that_record(
        export: VoidedExport, tmp_path: Path, flip: str) -> None:
    folder = copy_of(export.folder, tmp_path)
    index = next(i for i, record in vote_records(folder)
                 if record.void == (flip == "un-void a voided vote"))

    def change(lines: list[bytes]) -> None:
        fields = lines[index].split(b"\t")
        fields[7] = b"0" if fields[7] == b"1" else b"1"
        lines[index] = b"\t".join(fields)

    rewrite_records(folder, change)
    done = audit(folder)
    assert done.returncode == 1, done.stdout
    failed = [line for line in done.stdout.splitlines() if line.startswith("FAIL")]
    assert failed and " root" in failed[0], done.stdout
    assert f"line {index + 1} of records.txt: changed" in failed[0], failed[0]


def test_a_broadcasters_breakdown_names_only_its_own_void_and_passes_the_audit(
        live_server: LiveServer, export: VoidedExport, tmp_path: Path) -> None:
    folder = exported(live_server, tmp_path / "kz", "--breakdown", export.cid, "--country", "KZ")
    kz, uz = STUFFERS["+79990000001"], STUFFERS["+79990000002"]
    summary = (folder / files.SUMMARY_HTML).read_text(encoding="utf-8")
    assert html.escape(f"{kz[2]} votes void: {kz[3]}") in summary, summary
    assert html.escape(uz[3]) not in summary
    void_cells = [row.split(",") for row in (folder / files.BREAKDOWN).read_text().splitlines()
                  if row.startswith("KR,")]
    assert sum(int(cells[4]) for cells in void_cells) == kz[2], void_cells
    done = audit(folder)
    assert done.returncode == 0 and "PASS  breakdown" in done.stdout, done.stdout
