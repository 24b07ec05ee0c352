"""Graphics feeds for broadcast systems (vMix, Singular, CasparCG): flat rows, the same in
JSON, XML and CSV, numbers as numbers, localized names, flag images served by the app,
and an ETag with a 304 on every feed; substitutes marked wherever a set is shown."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer
from tests.graphics.show import COUNTRIES, Show, kazakh_jury_only

SCOREBOARD_KEYS = ["place", "previous_place", "country", "name", "artist", "song",
                   "running_order", "flag", "flag_png", "total", "jury", "televote",
                   "step_points", "is_twelve"]
NUMBER_KEYS = ["place", "previous_place", "running_order", "total", "jury", "televote",
               "step_points"]


@pytest.fixture(scope="module")
def show(live_server: LiveServer) -> Iterator[Show]:
    yield kazakh_jury_only(live_server)


def get(url: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(url, timeout=20, **kwargs)


def test_the_scoreboard_feed_is_a_top_level_array_of_flat_rows_with_numbers(show: Show) -> None:
    r = get(show.url("/graphics/scoreboard.json"))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    rows = r.json()
    assert isinstance(rows, list) and len(rows) == len(COUNTRIES)
    for row in rows:
        assert list(row) == SCOREBOARD_KEYS
        assert all(not isinstance(v, (dict, list)) and v is not None for v in row.values())
        assert all(isinstance(row[k], (int, float)) and not isinstance(row[k], bool)
                   for k in NUMBER_KEYS)
        assert isinstance(row["is_twelve"], bool)
        assert row["flag"].endswith(f"/flags/{row['country']}.svg")
    assert [row["place"] for row in rows] == list(range(1, len(COUNTRIES) + 1))
    assert {row["country"] for row in rows} == set(COUNTRIES)
    assert next(r for r in rows if r["country"] == "KZ")["name"] == "Kazakhstan"


def test_names_follow_lang_and_an_unknown_language_is_a_clear_400(show: Show) -> None:
    rows = get(show.url("/graphics/scoreboard.json"), params={"lang": "ru"}).json()
    assert {r["country"]: r["name"] for r in rows}["KZ"] == "Казахстан"
    rows = get(show.url("/graphics/scoreboard.json"), params={"lang": "kk"}).json()
    assert {r["country"]: r["name"] for r in rows}["KZ"] == "Қазақстан"
    r = get(show.url("/graphics/scoreboard.json"), params={"lang": "xx"})
    assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_body"


def test_xml_and_csv_carry_the_same_rows_in_the_same_column_order(show: Show) -> None:
    rows = get(show.url("/graphics/scoreboard.json"), params={"lang": "ru"}).json()
    xml = get(show.url("/graphics/scoreboard.xml"), params={"lang": "ru"})
    assert xml.headers["content-type"].startswith("application/xml")
    parsed = [{cell.tag: cell.text or "" for cell in row}
              for row in ET.fromstring(xml.content).findall("row")]
    table = list(csv.DictReader(io.StringIO(
        get(show.url("/graphics/scoreboard.csv"), params={"lang": "ru"}).text)))
    for form in (parsed, table):
        assert [list(r) for r in form] == [SCOREBOARD_KEYS] * len(rows)
        assert [r["country"] for r in form] == [r["country"] for r in rows]
        assert [r["name"] for r in form] == [r["name"] for r in rows]
        assert [float(r["total"]) for r in form] == [float(r["total"]) for r in rows]
        assert {r["is_twelve"] for r in form} <= {"true", "false"}


@pytest.mark.parametrize("feed", ["scoreboard.json", "scoreboard.xml", "scoreboard.csv",
                                  "now.json", "now.xml", "now.csv"])
def test_every_feed_has_an_etag_and_answers_304_while_nothing_changed(show: Show,
                                                                       feed: str) -> None:
    first = get(show.url(f"/graphics/{feed}"))
    assert first.status_code == 200
    etag = first.headers["etag"]
    assert "max-age=1" in first.headers["cache-control"]
    assert "public" in first.headers["cache-control"]
    again = get(show.url(f"/graphics/{feed}"), headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    other = get(show.url(f"/graphics/{feed}"), headers={"If-None-Match": '"stale"'})
    assert other.status_code == 200 and other.content == first.content


def test_flags_are_image_files_served_by_the_app(live_server: LiveServer) -> None:
    svg = get(f"{live_server.base_url}/flags/KZ.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.startswith("<svg") and 'viewBox="0 0 30 20"' in svg.text
    png = get(f"{live_server.base_url}/flags/KZ.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    badge = get(f"{live_server.base_url}/flags/ZZ.svg")
    assert badge.status_code == 200 and ">ZZ</text>" in badge.text
    assert get(f"{live_server.base_url}/flags/ZZ.png").content[:4] == b"\x89PNG"
    assert get(f"{live_server.base_url}/flags/KZ.svg",
               headers={"If-None-Match": svg.headers["etag"]}).status_code == 304
    bad = get(f"{live_server.base_url}/flags/kz.gif")
    assert bad.status_code == 404 and bad.json()["error"]["code"] == "not_found"


def test_every_country_of_the_demo_has_a_drawn_flag(live_server: LiveServer) -> None:
    for code in [*COUNTRIES, "WW"]:
        assert "<text" not in get(f"{live_server.base_url}/flags/{code}.svg").text, code


def test_public_results_carry_a_short_public_cache_control_and_an_etag(show: Show) -> None:
    r = get(show.url("/results"))
    assert r.status_code == 200
    cache = r.headers["cache-control"]
    assert "public" in cache and "max-age=1" in cache and "stale-while-revalidate" in cache
    etag = r.headers["etag"]
    again = get(show.url("/results"), headers={"If-None-Match": etag})
    assert again.status_code == 304, "only as_of moved, so the copy is current"
    full = get(show.url("/results"), params={"view": "full"}, headers=show.server.admin)
    assert full.headers["cache-control"] == "private, no-store"
    reveal = get(show.url("/reveal"))
    assert reveal.status_code == 200 and "etag" in reveal.headers
