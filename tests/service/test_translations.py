"""The translation files (service/web/i18n/<lang>.json): complete, consistent, and
grammatical where the issue caught them out (the pages and the server read the same
files, so this is the one place a missing string or a wrong case is caught)."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.web.translations import (
    COUNTRIES,
    COUNTRY_LANGUAGE,
    I18N_DIR,
    LANGUAGES,
    PLURAL_SUFFIXES,
    catalog,
    forms_used,
    load_file,
    page_languages,
    pick_language,
    placeholders,
    plural_category,
)

ENGLISH = load_file("en")
PLURAL_BASES = {key.rsplit(".", 1)[0] for key in ENGLISH if key.endswith(".other")}
COUNTRY_FORM = re.compile(r"^country\.([A-Z]{2})\.(\w+)$")


def plural_base(key: str) -> str | None:
    base, _, suffix = key.rpartition(".")
    return base if base in PLURAL_BASES and suffix in ("one", "few", "many", "other") else None


def test_there_is_one_file_per_offered_language_and_no_other() -> None:
    files = sorted(p.stem for p in I18N_DIR.glob("*.json"))
    assert files == sorted(LANGUAGES)
    assert set(COUNTRY_LANGUAGE.values()) <= set(LANGUAGES)
    assert set(COUNTRY_LANGUAGE) == set(COUNTRIES) - {"WW"}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_language_has_every_english_key(lang: str) -> None:
    texts = load_file(lang)
    missing = sorted(set(ENGLISH) - set(texts))
    assert not missing, f"{lang}.json lacks {missing}"
    empty = sorted(k for k, v in texts.items() if not v.strip())
    assert not empty, f"{lang}.json has empty texts: {empty}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_language_adds_only_plural_variants_and_country_forms(lang: str) -> None:
    """Anything else beyond English's keys is a typo of a key the pages never ask for."""
    extra = [k for k in set(load_file(lang)) - set(ENGLISH)
             if not plural_base(k) and not COUNTRY_FORM.match(k)]
    assert not extra, f"{lang}.json has keys English does not: {sorted(extra)}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_placeholders_match_english(lang: str) -> None:
    texts = load_file(lang)
    wrong = {}
    for key, text in texts.items():
        if COUNTRY_FORM.match(key):
            assert not placeholders(text), f"{lang} {key}: a country form has no placeholders"
            continue
        base = plural_base(key)
        english = ENGLISH[f"{base}.other"] if base else ENGLISH[key]
        if placeholders(text) != placeholders(english):
            wrong[key] = (sorted(placeholders(text)), sorted(placeholders(english)))
    assert not wrong, f"{lang}: placeholders differ from English: {wrong}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_country_form_a_template_uses_exists_for_every_country(lang: str) -> None:
    texts = load_file(lang)
    forms = {form for text in texts.values() for _, form in forms_used(text) if form}
    missing = [f"country.{code}.{form}" for form in sorted(forms) for code in COUNTRIES
               if f"country.{code}.{form}" not in texts]
    assert not missing, f"{lang}: templates use forms the file lacks: {missing}"
    unused = {m.group(2) for k in texts if (m := COUNTRY_FORM.match(k))} - forms
    assert not unused, f"{lang}: country forms no template uses: {sorted(unused)}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_plural_has_the_categories_its_language_needs(lang: str) -> None:
    texts = load_file(lang)
    for base in PLURAL_BASES:
        for n in (0, 1, 2, 5, 11, 12, 21, 22, 25, 101, 112):
            category = plural_category(lang, n)
            assert f"{base}.{category}" in texts, f"{lang} lacks {base}.{category} (n={n})"


@given(st.integers(min_value=0, max_value=10**6))
def test_russian_plural_categories_follow_cldr(n: int) -> None:
    category = plural_category("ru", n)
    if n % 10 == 1 and n % 100 != 11:
        assert category == "one"
    elif n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        assert category == "few"
    else:
        assert category == "many"


def test_the_issue_s_russian_sentences_use_the_right_cases() -> None:
    ru = catalog("ru")
    assert ru.text("vote.voting_from", country="KZ") == "Вы голосуете из Казахстана"
    assert ru.text("vote.vote_ok", country="MN", n=3) == "Голос за Монголию учтён. Осталось: 3."
    assert ru.text("jury.jury_of", country="AM") == "Жюри Армении"
    assert [ru.plural("common.points", n) for n in (1, 2, 5, 12, 21)] == \
        ["1 балл", "2 балла", "5 баллов", "12 баллов", "21 балл"]


def test_turkic_and_other_languages_inflect_the_country_name() -> None:
    assert catalog("kk").text("vote.voting_from", country="KZ") == "Сіз Қазақстаннан дауыс бересіз"
    assert catalog("ky").text("jury.jury_of", country="KG") == "Кыргызстандын калыстары"
    assert catalog("az").text("vote.vote_ok", country="MN", n=1).startswith("Monqolustana ")
    assert catalog("ka").text("vote.voting_from", country="GE").endswith("საქართველოდან")
    assert catalog("hi").text("vote.voting_from", country="IN") == "आप भारत से वोट कर रहे हैं"


def test_every_language_names_every_country_in_its_own_words() -> None:
    for lang in LANGUAGES:
        names = [catalog(lang).country(code) for code in COUNTRIES]
        assert len(set(names)) == len(COUNTRIES), f"{lang}: two countries share a name"
        if lang != "en":
            same = [c for c in COUNTRIES if catalog(lang).country(c) == catalog("en").country(c)]
            assert not same, f"{lang} keeps the English names of {same}"


def test_a_language_is_picked_from_the_request_then_the_country_then_the_client() -> None:
    assert pick_language(requested="ru", country="KZ", accepted=["en"]) == "ru"
    assert pick_language(requested="xx", country="KZ", accepted=["en"]) == "kk"
    assert pick_language(country="WW", accepted=["de-DE", "ko-KR"]) == "ko"
    assert pick_language(accepted=["fr"]) == "en"
    assert catalog("xx").lang == "en"


# ---------------------------------------------------------------- the console's own files

CONSOLE_DIR = I18N_DIR / "console"
CONSOLE_ENGLISH = json.loads((CONSOLE_DIR / "en.json").read_text(encoding="utf-8"))
#: Keys with plural variants (`.one` in English: "console.error.other" is no plural).
CONSOLE_PLURALS = {k.rsplit(".", 1)[0] for k in CONSOLE_ENGLISH if k.endswith(".one")}
CONSOLE_JS = I18N_DIR.parent / "static" / "console-i18n.js"


def console_file(lang: str) -> dict[str, str]:
    data = json.loads((CONSOLE_DIR / f"{lang}.json").read_text(encoding="utf-8"))
    assert isinstance(data, dict) and all(isinstance(v, str) for v in data.values())
    return data


def console_base(key: str) -> str:
    """The English key a console key stands for (a plural variant → its `.other`)."""
    base, _, suffix = key.rpartition(".")
    return f"{base}.other" if base in CONSOLE_PLURALS and suffix in PLURAL_SUFFIXES else key


def test_the_console_offers_every_language_its_page_script_lists() -> None:
    listed = re.search(r"CONSOLE_LANGUAGES = \[([^\]]*)\]", CONSOLE_JS.read_text(encoding="utf-8"))
    assert listed, "console-i18n.js has no CONSOLE_LANGUAGES list"
    assert re.findall(r'"(\w+)"', listed.group(1)) == list(page_languages("console"))
    assert page_languages("console") == LANGUAGES


@pytest.mark.parametrize("lang", page_languages("console"))
def test_every_console_file_has_exactly_the_english_keys(lang: str) -> None:
    texts = console_file(lang)
    plain = {k for k in texts if console_base(k) == k}
    assert plain == {k for k in CONSOLE_ENGLISH if console_base(k) == k}, \
        f"console/{lang}.json: missing {sorted(set(CONSOLE_ENGLISH) - set(texts))}, " \
        f"extra {sorted(set(texts) - set(CONSOLE_ENGLISH))}"
    variants = {k for k in texts if console_base(k) != k}
    assert all(k.rsplit(".", 1)[-1] in ("one", "other") or lang == "ru" for k in variants), \
        f"console/{lang}.json: .few/.many belong to Russian only"
    for base in CONSOLE_PLURALS:
        assert {f"{base}.one", f"{base}.other"} <= set(texts), f"console/{lang}: {base}"
        for n in (0, 1, 2, 5, 11, 12, 21, 22, 25, 101, 112):
            assert f"{base}.{plural_category(lang, n)}" in texts, f"console/{lang}: {base} n={n}"
    empty = sorted(k for k, v in texts.items() if not v.strip())
    assert not empty, f"console/{lang}.json has empty texts: {empty}"


@pytest.mark.parametrize("lang", page_languages("console"))
def test_console_placeholders_and_country_forms_match(lang: str) -> None:
    texts, main = console_file(lang), load_file(lang)
    wrong = {k: (sorted(placeholders(v)), sorted(placeholders(CONSOLE_ENGLISH[console_base(k)])))
             for k, v in texts.items()
             if placeholders(v) != placeholders(CONSOLE_ENGLISH[console_base(k)])}
    assert not wrong, f"console/{lang}: placeholders differ from English: {wrong}"
    missing = sorted(f"country.{code}.{form}" for text in texts.values()
                     for _, form in forms_used(text) if form for code in COUNTRIES
                     if f"country.{code}.{form}" not in main)
    assert not missing, f"console/{lang} uses forms {lang}.json lacks: {missing}"


def test_the_console_names_countries_in_each_language_s_case() -> None:
    def text(lang: str, key: str, **values: object) -> str:
        return catalog(lang).format(console_file(lang)[key], values)
    assert text("ru", "console.step_votes_of", country="KZ") == "Голоса Казахстана"
    assert text("ky", "console.card_jury", country="KG") == "Кыргызстандын калыстары"
    assert text("az", "console.step_jury_of", country="MN") == "Monqolustanın münsifləri"
    assert text("ka", "console.step_votes_of", country="GE") == "საქართველოს ხმები"
    assert text("tg", "console.step_jury_of", country="TJ") == "Ҳакамони Тоҷикистон"
