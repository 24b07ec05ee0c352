"""A small sealed show for the seal tests: app and aggregator votes, ballots, a lock."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from service.core.config import REPO_ROOT
from tests.conftest import LiveServer
from tests.harness.waiting import eventually
from tests.service.helpers import open_window, voter_headers
from tests.service.test_jury import juror_session, new_juror, ranking_for

ODD_CHANNEL = "tel\\co net"  # an aggregator's name is its channel: escaped in records
# (a tab would test the escaping further, but names refuse control characters)


@dataclass
class Show:
    cid: str
    receipts: list[str]


async def run_show(api: httpx.AsyncClient, server: LiveServer, *, seal: bool = True,
                   batch: int = 60) -> Show:
    """Votes from KZ, UZ, CN and WW (app and batch), KZ and UZ juries, CN's one juror
    (a substitute set), the jury locked, then the window closed: that seals it."""
    cid = server.new_contest(jury_size=3, jury_min_valid=2, vote_cap=50)
    for country in ("KZ", "UZ"):
        for rotate in range(2):
            juror = await juror_session(api, (await new_juror(api, server, cid, country))["code"])
            await api.put(f"/api/v1/contests/{cid}/ballot",
                          json={"ranking": ranking_for(country, rotate)}, headers=juror)
    lonely = await juror_session(api, (await new_juror(api, server, cid, "CN"))["code"])
    await api.put(f"/api/v1/contests/{cid}/ballot", json={"ranking": ranking_for("CN")},
                  headers=lonely)
    await open_window(api, server, cid)
    receipts = []
    for i, (country, entry) in enumerate([("KZ", "UZ"), ("KZ", "CN"), ("UZ", "KZ"),
                                          ("CN", "MN"), ("WW", "KR")]):
        voter = await voter_headers(api, server, cid, f"viewer-{i}", country)
        r = await api.post(f"/api/v1/contests/{cid}/votes", json={"entry": entry,
                           "key": f"tap-{i}"}, headers=voter)
        assert r.status_code == 201, r.text
        receipts.append(r.json().get("receipt", ""))
    r = await api.post(f"/api/v1/contests/{cid}/aggregator-keys", json={"name": ODD_CHANNEL},
                       headers=server.admin)
    partner = {"Authorization": f"Bearer {r.json()['key']}"}
    countries, entries = ["KZ", "UZ", "CN", "WW"], ["AZ", "AM", "GE", "KR", "MN", "TJ"]
    votes = [{"id": f"b{i}", "voter": f"+7{i % 20}", "country": countries[i % 4],
              "entry": entries[i % 6]} for i in range(batch)]
    r = await api.post(f"/api/v1/contests/{cid}/votes/batch", json={"votes": votes},
                       headers=partner)
    assert r.status_code == 200, r.text
    if seal:
        await lock_close_and_seal(api, server, cid)
    else:
        await api.post(f"/api/v1/contests/{cid}/jury/lock", headers=server.admin)
    return Show(cid, receipts)


async def lock_close_and_seal(api: httpx.AsyncClient, server: LiveServer, cid: str
                              ) -> dict[str, Any]:
    """Lock the jury and close the window, which seals the contest; the seal."""
    await api.post(f"/api/v1/contests/{cid}/jury/lock", headers=server.admin)
    await open_window(api, server, cid, "closed")
    return await sealed(api, cid)


async def sealed(api: httpx.AsyncClient, cid: str) -> dict[str, Any]:
    """The seal, once the background seal after the close has made it."""
    response = await eventually(lambda: api.get(f"/api/v1/contests/{cid}/seal"), 30,
                                f"the seal of {cid}", ok=lambda r: r.status_code == 200)
    return dict(response.json())


def silkvote(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    """The `silkvote` command against the server's stores (its environment)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(DATABASE_URL=server.env["DATABASE_URL"], REDIS_URL=server.env["REDIS_URL"],
               DATA_DIR=server.env["DATA_DIR"], SEAL_SECRET=server.env.get("SEAL_SECRET", ""))
    return subprocess.run([sys.executable, "-m", "service.cli", *args], env=env,
                          cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)


def exported(server: LiveServer, folder: Path, *what: str) -> Path:
    """`silkvote export <what…> --out folder`, which must succeed; the folder."""
    done = silkvote(server, "export", *what, "--out", str(folder))
    assert done.returncode == 0, done.stdout + done.stderr
    return folder


def audit(folder: Path) -> subprocess.CompletedProcess[str]:
    """`silkvote audit` with no store configured at all: it must not need one."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return subprocess.run([sys.executable, "-m", "service.cli", "audit", str(folder)],
                          env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)


__all__ = ["ODD_CHANNEL", "Show", "audit", "exported", "lock_close_and_seal", "run_show",
           "sealed", "silkvote"]
