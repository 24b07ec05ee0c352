"""Seasons: the next round's contest comes from the frozen results of the current one."""

from __future__ import annotations

import secrets
from typing import Any

import httpx

from tests.conftest import LiveServer
from tests.service.helpers import aggregator_headers, open_window

SEMI_1 = ["AZ", "AM", "GE", "IN", "KZ", "CN"]
SEMI_2 = ["KG", "MN", "TJ", "TM", "UZ", "KR"]
ALL = SEMI_1 + SEMI_2


def _entries(countries: list[str]) -> list[dict[str, Any]]:
    return [{"country": c, "running_order": i, "artist": f"{c} artist", "song": f"{c} song"}
            for i, c in enumerate(countries, start=1)]


async def _contest(server: LiveServer, entries: list[str]) -> str:
    return server.new_contest(entries=_entries(entries), voting_countries=ALL, jury_size=0,
                              jury_min_valid=0, name="Round " + secrets.token_hex(3))


async def _play(api: httpx.AsyncClient, server: LiveServer, cid: str,
                entries: list[str], seed: int) -> None:
    """Audience votes (varied per voting country), then close and freeze (first reveal)."""
    await open_window(api, server, cid)
    partner = await aggregator_headers(api, server, cid)
    votes = []
    for v, country in enumerate(ALL):
        for k, entry in enumerate(entries):
            if entry != country:
                votes += [{"id": f"{country}-{entry}-{n}", "voter": f"+{v}{k}{n}",
                           "country": country, "entry": entry}
                          for n in range((seed * (k + 3) + v * (k + 1)) % 5)]
    r = await api.post(f"/api/v1/contests/{cid}/votes/batch", json={"votes": votes},
                       headers=partner)
    assert r.status_code == 200, r.text
    await open_window(api, server, cid, "closed")
    r = await api.post(f"/api/v1/contests/{cid}/reveal/next", headers=server.admin)
    assert r.status_code == 200, r.text


async def _frozen_board(api: httpx.AsyncClient, server: LiveServer, cid: str
                        ) -> list[dict[str, Any]]:
    r = await api.get(f"/api/v1/contests/{cid}/results?view=full", headers=server.admin)
    assert r.status_code == 200 and r.json()["source"] == "ledger", r.text
    board = list(r.json()["scoreboard"])
    totals = [line["total"] for line in sorted(board, key=lambda line: line["place"])]
    assert totals == sorted(totals, reverse=True)  # places follow the totals
    return board


def _top(board: list[dict[str, Any]], n: int) -> list[str]:
    return [line["country"] for line in sorted(board, key=lambda line: line["place"])[:n]]


async def test_a_season_of_two_semi_finals_sends_each_ones_top_three_to_the_final(
        api: httpx.AsyncClient, live_server: LiveServer) -> None:
    semis = [await _contest(live_server, SEMI_1), await _contest(live_server, SEMI_2)]
    r = await api.post("/api/v1/seasons", headers=live_server.admin, json={
        "name": "Silk Road 2026", "rounds": [
            {"name": "Semi-finals", "contests": semis, "advance": {"qualify": 3}},
            {"name": "Final"}]})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]

    r = await api.post(f"/api/v1/seasons/{sid}/advance", json={}, headers=live_server.admin)
    assert r.status_code == 409 and r.json()["error"]["code"] == "results_not_frozen", r.text

    await _play(api, live_server, semis[0], SEMI_1, seed=1)
    await _play(api, live_server, semis[1], SEMI_2, seed=2)
    qualifiers = [_top(await _frozen_board(api, live_server, c), 3) for c in semis]
    # the producer's draw for the final
    draw = [qualifiers[1][0], qualifiers[0][2], qualifiers[0][0], qualifiers[1][2],
            qualifiers[1][1], qualifiers[0][1]]
    r = await api.post(f"/api/v1/seasons/{sid}/advance", json={"running_order": draw},
                       headers=live_server.admin)
    assert r.status_code == 201, r.text
    final = r.json()
    assert sorted(final["going_on"]) == sorted(qualifiers[0] + qualifiers[1])
    assert sorted(final["out"]) == sorted(set(ALL) - set(final["going_on"]))
    contest = (await api.get(f"/api/v1/contests/{final['contest_id']}")).json()
    assert [e["country"] for e in sorted(contest["entries"],
                                         key=lambda e: e["running_order"])] == draw
    assert {e["artist"] for e in contest["entries"]} == {f"{c} artist" for c in draw}
    assert contest["voting_countries"] == ALL
    assert final["season"]["rounds"][1]["contests"] == [final["contest_id"]]
    assert final["season"]["current"] == 1

    r = await api.post(f"/api/v1/seasons/{sid}/advance", json={}, headers=live_server.admin)
    assert r.status_code == 409 and r.json()["error"]["code"] == "season_complete", r.text


async def test_an_elimination_episode_sends_everyone_but_its_bottom_two_on_in_order(
        api: httpx.AsyncClient, live_server: LiveServer) -> None:
    episode = await _contest(live_server, SEMI_1)
    r = await api.post("/api/v1/seasons", headers=live_server.admin, json={
        "name": "Elimination", "rounds": [
            {"name": "Episode 1", "contests": [episode], "advance": {"leave": 2}},
            {"name": "Episode 2", "advance": {"leave": 1}}, {"name": "Finale"}]})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    await _play(api, live_server, episode, SEMI_1, seed=3)
    board = await _frozen_board(api, live_server, episode)
    bottom = [line["country"] for line in sorted(board, key=lambda line: line["place"])[-2:]]

    r = await api.post(f"/api/v1/seasons/{sid}/advance",
                       json={"running_order": SEMI_1}, headers=live_server.admin)
    assert r.status_code == 422 and r.json()["error"]["code"] == "running_order_mismatch"
    r = await api.post(f"/api/v1/seasons/{sid}/advance", json={}, headers=live_server.admin)
    assert r.status_code == 201, r.text
    assert r.json()["out"] == bottom
    assert r.json()["going_on"] == [c for c in SEMI_1 if c not in bottom]  # relative order
    assert r.json()["season"]["current"] == 1


async def test_a_season_definition_that_cannot_be_played_is_refused(
        api: httpx.AsyncClient, live_server: LiveServer) -> None:
    cid = await _contest(live_server, SEMI_1)
    bad = [
        [{"name": "Semi", "contests": [cid]}, {"name": "Final"}],  # no advance rule
        [{"name": "Semi", "contests": [cid], "advance": {"qualify": 3, "leave": 1}},
         {"name": "Final"}],
        [{"name": "Semi", "advance": {"qualify": 3}}, {"name": "Final"}],  # no contests
    ]
    for rounds in bad:
        r = await api.post("/api/v1/seasons", json={"name": "S", "rounds": rounds},
                           headers=live_server.admin)
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_season", r.text
    r = await api.post("/api/v1/seasons", headers=live_server.admin, json={"name": "S", "rounds": [
        {"name": "Semi", "contests": ["no-such-contest"], "advance": {"qualify": 1}},
        {"name": "Final"}]})
    assert r.status_code == 422 and r.json()["error"]["code"] == "unknown_contest", r.text
    r = await api.get("/api/v1/seasons/no-such-season")
    assert r.status_code == 404


TIE_SEMI = ["AZ", "AM", "GE", "IN"]  # running orders 1..4
TIE_VOTERS = ["KZ", "CN", "UZ"]
# Audience counts on a 12-10-8 scale: AZ 10+10+12 = 32; AM 12+12 = 24 from two audiences;
# GE 8+8+8 = 24 from three; IN 10. Second and third place are level on points (and on
# televote points: there is no jury), and the chain's next criterion, points from more
# audiences, puts GE ahead although AM performed earlier.
TIE_COUNTS = {"KZ": {"AM": 4, "AZ": 3, "GE": 2}, "CN": {"AM": 4, "AZ": 3, "GE": 2},
              "UZ": {"AZ": 4, "IN": 3, "GE": 2}}


async def test_a_tie_at_the_qualifying_cut_goes_to_the_entry_the_tie_break_chain_puts_ahead(
        api: httpx.AsyncClient, live_server: LiveServer) -> None:
    semi = live_server.new_contest(entries=_entries(TIE_SEMI), voting_countries=TIE_VOTERS,
                                   jury_size=0, jury_min_valid=0, rules={"points": [12, 10, 8]},
                                   name="Tied semi " + secrets.token_hex(3))
    r = await api.post("/api/v1/seasons", headers=live_server.admin, json={
        "name": "Tied 2026", "rounds": [
            {"name": "Semi-final", "contests": [semi], "advance": {"qualify": 2}},
            {"name": "Final"}]})
    assert r.status_code == 201, r.text
    sid = r.json()["id"]
    await open_window(api, live_server, semi)
    votes = [{"id": f"{country}-{entry}-{n}", "voter": f"+{v}{k}{n}", "country": country,
              "entry": entry}
             for v, (country, cells) in enumerate(TIE_COUNTS.items())
             for k, (entry, times) in enumerate(cells.items()) for n in range(times)]
    r = await api.post(f"/api/v1/contests/{semi}/votes/batch", json={"votes": votes},
                       headers=await aggregator_headers(api, live_server, semi))
    assert r.status_code == 200 and r.json()["accepted"] == len(votes), r.text
    await open_window(api, live_server, semi, "closed")
    r = await api.post(f"/api/v1/contests/{semi}/reveal/next", headers=live_server.admin)
    assert r.status_code == 200, r.text

    board = {line["country"]: line for line in await _frozen_board(api, live_server, semi)}
    assert board["AM"]["total"] == board["GE"]["total"] == 24
    assert board["AM"]["televote"] == board["GE"]["televote"] == 24
    assert board["AM"]["running_order"] < board["GE"]["running_order"]
    assert [board[c]["place"] for c in TIE_SEMI] == [1, 3, 2, 4]  # the chain, not the order

    draw = ["GE", "AZ"]  # the producer's running order for the final
    r = await api.post(f"/api/v1/seasons/{sid}/advance", json={"running_order": draw},
                       headers=live_server.admin)
    assert r.status_code == 201, r.text
    final = r.json()
    assert final["going_on"] == draw and final["out"] == ["AM", "IN"]
    contest = (await api.get(f"/api/v1/contests/{final['contest_id']}")).json()
    assert [(e["country"], e["running_order"]) for e in sorted(
        contest["entries"], key=lambda e: e["running_order"])] == [("GE", 1), ("AZ", 2)]
