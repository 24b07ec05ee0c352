"""Exports anyone can audit offline, and the tamper drills: every change is named."""

from __future__ import annotations

import shutil
from pathlib import Path

import asyncpg
import httpx
import pytest

from service.verify import package as files
from tests.conftest import LiveServer
from tests.seal.show import Show, audit, exported, run_show, silkvote


@pytest.fixture(scope="module")
async def show(live_server: LiveServer) -> Show:
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=30) as api:
        return await run_show(api, live_server)


@pytest.fixture(scope="module")
def ledger_export(live_server: LiveServer, show: Show,
                  tmp_path_factory: pytest.TempPathFactory) -> Path:
    return exported(live_server, tmp_path_factory.mktemp("ledger-export"), "--ledger", show.cid)


def copy_of(folder: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(folder, target)
    return target


def rewrite_records(folder: Path, change: object) -> None:
    lines = files.record_lines(folder)
    change(lines)  # type: ignore[operator]
    (folder / files.RECORDS).write_bytes(b"".join(line + b"\n" for line in lines))


def test_a_ledger_export_passes_every_check_of_the_offline_audit(ledger_export: Path) -> None:
    done = audit(ledger_export)
    assert done.returncode == 0, done.stdout
    for check in ("signature", "result hash", "root", "records", "counts", "rescore"):
        assert any(line.startswith("PASS") and f" {check}" in line
                   for line in done.stdout.splitlines()), (check, done.stdout)
    assert (ledger_export / files.SUMMARY_PDF).read_bytes().startswith(b"%PDF")
    summary = (ledger_export / files.SUMMARY_HTML).read_text()
    assert "CN jury" in summary and "Substitute jury sets" in summary


@pytest.mark.parametrize("drill", ["edit", "drop", "add"])
def test_editing_dropping_or_adding_one_record_fails_the_audit_naming_it(
        ledger_export: Path, tmp_path: Path, drill: str) -> None:
    folder = copy_of(ledger_export, tmp_path)
    victim = 9  # a vote (ballots of AM… come first in their country's range)

    def change(lines: list[bytes]) -> None:
        if drill == "edit":
            fields = lines[victim].split(b"\t")
            fields[4] = b"KR" if fields[4] != b"KR" else b"AZ"
            lines[victim] = b"\t".join(fields)
        elif drill == "drop":
            del lines[victim]
        else:
            lines.insert(victim, lines[victim].replace(b"\t0\t", b"\t0\t", 1)[:-1] + b"x")

    rewrite_records(folder, change)
    done = audit(folder)
    assert done.returncode == 1, done.stdout
    failed = [line for line in done.stdout.splitlines() if line.startswith("FAIL")]
    assert failed and " root" in failed[0], done.stdout
    expected = {"edit": "changed", "drop": "missing", "add": "added"}[drill]
    assert f"line {victim + 1} of records.txt: {expected}" in failed[0], failed[0]


def test_a_forged_result_or_signature_fails_the_audit(ledger_export: Path,
                                                      tmp_path: Path) -> None:
    folder = copy_of(ledger_export, tmp_path)
    seal = (folder / files.SEAL).read_text()
    (folder / files.SEAL).write_text(seal.replace('"votes": 65', '"votes": 66'))
    done = audit(folder)
    assert done.returncode == 1 and "FAIL  signature" in done.stdout, done.stdout


def test_a_broadcasters_breakdown_proves_its_records_against_the_root(
        live_server: LiveServer, show: Show, tmp_path: Path) -> None:
    folder = exported(live_server, tmp_path / "kz", "--breakdown", show.cid, "--country", "KZ")
    proof = files.read_proof(folder)
    assert proof.country == "KZ" and 0 < proof.end - proof.first < proof.size
    lines = files.record_lines(folder)
    assert all(b"\tKZ\t" in line[:140] or line.startswith(b"b\tKZ") for line in lines)
    csv = (folder / files.BREAKDOWN).read_text().splitlines()
    assert csv[0] == "entry,channel,minute,votes,void" and len(csv) > 1
    done = audit(folder)
    assert done.returncode == 0, done.stdout
    assert "PASS  rescore" in done.stdout and "PASS  breakdown" in done.stdout
    rewrite_records(folder, lambda lines: lines.__delitem__(-1))
    done = audit(folder)
    assert done.returncode == 1 and "missing" in done.stdout, done.stdout


async def test_a_superuser_change_after_the_seal_is_named_by_verify_seal(
        live_server: LiveServer, api: httpx.AsyncClient, ledger: asyncpg.Connection,
        tmp_path: Path) -> None:
    mine = await run_show(api, live_server, batch=10)
    assert silkvote(live_server, "verify", "--seal", mine.cid).returncode == 0
    key = await ledger.fetchval(
        "SELECT dedupe_key FROM votes WHERE contest_id = $1 AND voting_country = 'UZ' "
        "ORDER BY dedupe_key LIMIT 1", mine.cid)
    async with ledger.transaction():  # what only a superuser can do: switch the guards
        # off (they fire ALWAYS, so replica mode is not enough; migrations/0010), and on
        await ledger.execute("ALTER EVENT TRIGGER ledger_guards_stay DISABLE")
        await ledger.execute("ALTER TABLE votes DISABLE TRIGGER votes_append_only")
        await ledger.execute("UPDATE votes SET entry = 'TM' WHERE contest_id = $1 "
                             "AND dedupe_key = $2", mine.cid, key)
        await ledger.execute("ALTER TABLE votes ENABLE ALWAYS TRIGGER votes_append_only")
        await ledger.execute("ALTER EVENT TRIGGER ledger_guards_stay ENABLE")
    done = silkvote(live_server, "verify", "--seal", mine.cid)
    assert done.returncode == 1, done.stdout
    assert key.hex() in done.stdout and "changed since the seal" in done.stdout
    refused = silkvote(live_server, "export", "--ledger", mine.cid, "--out", str(tmp_path))
    assert refused.returncode == 1 and key.hex() in refused.stdout
