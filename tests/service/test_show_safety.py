"""Show safety and the jury desk through the API: a reveal that has started cannot be
reopened to voting, the producer sees each jury's ballots and which will get a
substitute before the lock, a new juror's card carries a working QR code, and the
overlay's hide-scores mode is durable and travels in the results."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import LiveServer
from tests.service.helpers import open_window, voter_headers
from tests.service.test_jury import juror_session, new_juror, ranking_for


async def post(api: httpx.AsyncClient, server: LiveServer, path: str, body: Any = None,
               ) -> httpx.Response:
    return await api.post(path, json=body, headers=server.admin)


async def test_voting_cannot_be_reopened_once_the_reveal_has_started(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = live_server.new_contest()
    base = f"/api/v1/contests/{cid}"
    await open_window(api, live_server, cid)
    for n, entry in enumerate(["UZ", "KR"]):  # two televote steps to reveal
        voter = await voter_headers(api, live_server, cid, f"+7700000{n}", "KZ")
        r = await api.post(f"{base}/votes", json={"entry": entry, "key": f"k{n}"}, headers=voter)
        assert r.status_code == 201, r.text
    await open_window(api, live_server, cid, "closed")
    assert (await post(api, live_server, f"{base}/reveal/next")).status_code == 200

    r = await post(api, live_server, f"{base}/window", {"state": "open"})
    assert r.status_code == 409 and r.json()["error"]["code"] == "reveal_started"
    assert (await api.get(base)).json()["window"] == "closed"
    # closing again is harmless; the reveal goes on
    assert (await post(api, live_server, f"{base}/window", {"state": "closed"})).status_code == 200
    assert (await post(api, live_server, f"{base}/reveal/next")).status_code == 200


async def test_the_desk_counts_ballots_per_jury_and_names_every_substitute_before_the_lock(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = live_server.new_contest()
    url = f"/api/v1/contests/{cid}/jury/progress"
    empty = (await api.get(url, headers=live_server.admin)).json()
    assert empty["no_valid_jury"] is True and empty["substitutes"] == []
    assert "WW" not in {c["country"] for c in empty["countries"]}
    assert (await api.get(url)).status_code == 401

    for rotate in range(3):
        juror = await new_juror(api, live_server, cid, "KZ")
        headers = await juror_session(api, juror["code"])
        r = await api.put(f"/api/v1/contests/{cid}/ballot", headers=headers,
                          json={"ranking": ranking_for("KZ", rotate)})
        assert r.status_code == 200
    await new_juror(api, live_server, cid, "AM")  # a juror who has not voted yet

    progress = (await api.get(url, headers=live_server.admin)).json()
    by_country = {c["country"]: c for c in progress["countries"]}
    assert by_country["KZ"] == {
        "country": "KZ", "jurors": 3, "ballots": 3, "size": 5, "needed": 3, "substitute": False}
    assert (by_country["AM"]["jurors"], by_country["AM"]["ballots"]) == (1, 0)
    assert progress["no_valid_jury"] is False
    assert sorted(progress["substitutes"]) == sorted(c for c in by_country if c != "KZ")

    # The lock does what the warning said.
    assert (await post(api, live_server, f"/api/v1/contests/{cid}/jury/lock")).status_code == 200
    results = (await api.get(f"/api/v1/contests/{cid}/results?view=full",
                             headers=live_server.admin)).json()
    stood_in = {s["from"] for s in results["sets"] if s["body"] == "jury" and s["substitute"]}
    assert stood_in == set(progress["substitutes"])
    assert (await api.get(url, headers=live_server.admin)).json()["locked"] is True


async def test_a_new_jurors_card_has_a_qr_code_of_the_jury_page_with_the_code(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = live_server.new_contest()
    juror = await new_juror(api, live_server, cid, "UZ")
    assert juror["sign_in_url"] == f"{live_server.base_url}/jury#code={juror['code']}"
    assert juror["qr_svg"].startswith("<svg xmlns=\"http://www.w3.org/2000/svg\"")
    reissued = (await post(api, live_server,
                           f"/api/v1/contests/{cid}/jurors/{juror['juror_id']}/code")).json()
    assert reissued["code"] != juror["code"] and reissued["code"] in reissued["sign_in_url"]
    assert reissued["qr_svg"].startswith("<svg")


async def test_hide_scores_is_recorded_and_carried_in_every_results_view(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = live_server.new_contest()
    base = f"/api/v1/contests/{cid}"
    assert (await api.get(f"{base}/results")).json()["hide_scores"] is False
    r = await post(api, live_server, f"{base}/display", {"hide_scores": True})
    assert r.status_code == 200 and r.json() == {"hide_scores": True}
    assert (await api.get(base)).json()["hide_scores"] is True
    assert (await api.get(f"{base}/results")).json()["hide_scores"] is True
    await post(api, live_server, f"{base}/display", {"hide_scores": False})
    assert (await api.get(base)).json()["hide_scores"] is False
    r = await post(api, live_server, f"{base}/display", {"hide": True})
    assert r.status_code == 400
    r = await post(api, live_server, "/api/v1/contests/no-such-contest/display",
                   {"hide_scores": True})
    assert r.status_code == 404
