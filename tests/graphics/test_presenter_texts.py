"""The presenter's own texts (service/web/i18n/presenter/<lang>.json) follow the rules of
the main translation files: a file for every language the pages offer, the same keys in
each, the same placeholders as English, the plural variants the language needs, and only
country forms that the main file of that language holds for every country. Then every
line the presenter reads, for every kind of reveal step, every country and the points
that change a noun's form, is rendered the way presenter.js renders it: nothing may be
left unfilled, no key may show through, and a few lines are pinned word for word so a
case form cannot drift unnoticed."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import pytest

from service.web.translations import (
    COUNTRIES,
    I18N_DIR,
    LANGUAGES,
    PLACEHOLDER,
    Catalog,
    forms_used,
    load_file,
    placeholders,
)

PRESENTER_DIR = I18N_DIR / "presenter"
FILES = sorted(PRESENTER_DIR.glob("*.json"))
PLURAL_NEEDS = {"ru": {"one", "few", "many", "other"}}
STEP_KINDS = ("jury", "combined", "substitute", "televote", "televote_substitutes", "final")
#: Points that pick every plural variant (1, 2–4, 5+, 11, a fraction from a tie split).
POINTS = (1, 2, 5, 11, 12, Fraction(21, 2))


def load(path: Path) -> dict[str, str]:
    data = json.loads(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict) and all(isinstance(v, str) for v in data.values())
    return data


def base_key(key: str) -> str:
    stem, _, last = key.rpartition(".")
    return stem if last in ("one", "few", "many", "other") else key


def presenter_catalog(lang: str) -> Catalog:
    """The page's catalog (presenter-i18n.js): the main file and the presenter file of
    `lang`, with no English underneath, so a key the language lacks shows as the key."""
    return Catalog(lang, {**load_file(lang), **load(PRESENTER_DIR / f"{lang}.json")}, {})


def points_text(points: int | Fraction) -> str:
    return f"{points.numerator}/{points.denominator}" \
        if isinstance(points, Fraction) and points.denominator != 1 else str(points)


def script(tr: Catalog, kind: str, src: str, dst: str, pts: int | Fraction) -> list[str]:
    """The head, the line and the details presenter.js shows for one step."""
    n = points_text(pts)
    if kind in ("televote", "televote_substitutes"):
        details = [tr.text("presenter.televote_substitutes", list=", ".join(
            tr.country(c) for c in (src, "WW")))] if kind == "televote_substitutes" else []
        return [tr.text("overlay.televote"),
                tr.plural("presenter.televote_line", pts, n=n, country=dst), *details]
    if kind == "final":
        return [tr.text("overlay.final_result"),
                tr.plural("presenter.final_line", pts, n=n, country=dst)]
    head = {"jury": "jury.jury_of", "combined": "presenter.votes_of",
            "substitute": "results.jury_substitute"}[kind]
    also = ", ".join(f"{p} — {tr.country(c)}" for p, c in (("1", "KR"), ("8", src)))
    return [tr.text(head, country=src), tr.plural("overlay.award", pts, n=n, country=dst),
            tr.text("presenter.also", list=also)]


def test_every_language_of_the_pages_has_presenter_texts() -> None:
    assert {p.stem for p in FILES} == set(LANGUAGES)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_language_says_what_english_says(path: Path) -> None:
    english, texts = load(PRESENTER_DIR / "en.json"), load(path)
    assert {base_key(k) for k in texts} == {base_key(k) for k in english}
    for key, template in texts.items():
        assert template.strip(), key
        assert placeholders(template) == placeholders(english.get(key)
                                                      or english[base_key(key) + ".other"]), key


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_plurals_and_country_forms_exist(path: Path) -> None:
    lang, texts = path.stem, load(path)
    plurals = {base_key(k) for k in texts if base_key(k) != k}
    for key in plurals:
        have = {k.rpartition(".")[2] for k in texts if base_key(k) == key and k != key}
        assert have >= PLURAL_NEEDS.get(lang, {"one", "other"}), key
    main = load_file(lang)
    for template in texts.values():
        for _, form in forms_used(template):
            for country in COUNTRIES:
                assert not form or f"country.{country}.{form}" in main, (lang, form, country)


@pytest.mark.parametrize("kind", STEP_KINDS)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_line_of_every_step_renders_whole(lang: str, kind: str) -> None:
    tr = presenter_catalog(lang)
    for src in COUNTRIES:
        dst = "KZ" if src != "KZ" else "MN"
        for pts in POINTS:
            lines = script(tr, kind, src, dst, pts)
            assert points_text(pts) in lines[1], (lang, kind, lines[1])
            for line in lines:
                assert line.strip(), (lang, kind, src)
                assert not PLACEHOLDER.search(line), (lang, kind, src, line)
                assert not any(part in line for part in ("presenter.", "overlay.", "jury.",
                                                         "results.", "country.")), line


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_page_s_own_labels_fill_in(lang: str) -> None:
    tr = presenter_catalog(lang)
    for key, template in load(PRESENTER_DIR / f"{lang}.json").items():
        if placeholders(template) <= {"n", "total"} and base_key(key) == key:
            line = tr.text(key, n=3, total=27)
            assert not PLACEHOLDER.search(line) and line.strip(), (lang, key)


@pytest.mark.parametrize(("lang", "kind", "pts", "expected"), [
    ("ru", "combined", 12, ["Голоса Казахстана", "12 баллов — Монголии"]),
    ("ru", "televote", 12, ["Телеголосование", "Монголия получает 12 баллов от телезрителей."]),
    ("ru", "final", 1, ["Итоговый результат", "Побеждает Монголия: 1 балл!"]),
    ("kk", "combined", 12, ["Қазақстан дауыстары", "Моңғолияға 12 ұпай"]),
    ("hy", "combined", 12, ["Ղազախստանի ձայները"]),
    ("ka", "combined", 12, ["ყაზახეთის ხმები"]),
    ("en", "televote", 1, ["Televote", "Mongolia receives 1 point from the televote."]),
])
def test_lines_take_the_case_their_language_needs(lang: str, kind: str, pts: int,
                                                  expected: list[str]) -> None:
    lines = script(presenter_catalog(lang), kind, "KZ", "MN", pts)
    assert lines[:len(expected)] == expected
