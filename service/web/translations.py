"""The project's own translations: one flat JSON file per language in `web/i18n/`.

The pages load the same files (`/i18n/<lang>.json`, read by `static/i18n.js`), so a
server-side text (an SMS reply, a graphics feed's country name) and the page say the
same thing. Country names and their grammatical forms come from these files, never from
the browser's or the platform's locale data: CLDR has no Kazakh or Kyrgyz names in most
browsers, and no locale library knows which case a sentence needs.

Templates:
- `{name}` is replaced by the value passed for `name`.
- A placeholder whose name starts with `country` takes a country code and prints that
  country's name: `{country}` the plain (nominative) name `country.KZ`, `{country:gen}`
  the form `country.KZ.gen`. Each language writes its own sentence and picks the form
  its grammar needs there (Russian "из {country:gen}", Kazakh "{country:abl}", Hindi
  "{country} से"); the form names are the language's own (see docs/i18n.md).
- A key with plural variants has `.one` and `.other` in every language (and `.few`,
  `.many` in Russian); `plural()` picks the variant by the count.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from pathlib import Path

I18N_DIR = Path(__file__).resolve().parent / "i18n"

#: Every language the pages offer, in the order of the switcher (English first).
LANGUAGES: tuple[str, ...] = (
    "en", "ru", "az", "hy", "ka", "hi", "kk", "zh", "ky", "mn", "tg", "tk", "uz", "ko",
)
DEFAULT_LANGUAGE = "en"

#: The language a viewer voting from a country reads first (WW: none, the browser's).
COUNTRY_LANGUAGE: Mapping[str, str] = {
    "AZ": "az", "AM": "hy", "GE": "ka", "IN": "hi", "KZ": "kk", "CN": "zh",
    "KG": "ky", "MN": "mn", "TJ": "tg", "TM": "tk", "UZ": "uz", "KR": "ko",
}

#: The voting countries the files name (the 12 participants and the rest of the world).
COUNTRIES: tuple[str, ...] = (
    "AZ", "AM", "GE", "IN", "KZ", "CN", "KG", "MN", "TJ", "TM", "UZ", "KR", "WW",
)

PLACEHOLDER = re.compile(r"\{(\w+)(?::(\w+))?\}")
PLURAL_SUFFIXES = ("one", "few", "many", "other")


def plural_category(lang: str, count: int | Fraction | float) -> str:
    """CLDR's plural category of `count` for the languages the files hold.

    Only Russian and English change the noun after a number in the texts we show; the
    other languages keep one form (their `.one` and `.other` say the same)."""
    whole = isinstance(count, int) or (isinstance(count, Fraction) and count.denominator == 1) \
        or (isinstance(count, float) and count.is_integer())
    if lang == "ru":
        if not whole:
            return "other"
        n = abs(int(count))
        if n % 10 == 1 and n % 100 != 11:
            return "one"
        if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
            return "few"
        return "many"
    if lang in ("zh", "ko"):
        return "other"
    return "one" if whole and abs(int(count)) == 1 else "other"


def placeholders(template: str) -> set[str]:
    """The placeholder names of a template, without their forms ({country:gen} → country)."""
    return {m.group(1) for m in PLACEHOLDER.finditer(template)}


def forms_used(template: str) -> set[tuple[str, str]]:
    """The (placeholder, form) pairs of a template's country placeholders."""
    return {(m.group(1), m.group(2) or "") for m in PLACEHOLDER.finditer(template)
            if m.group(1).startswith("country")}


def page_languages(page: str) -> tuple[str, ...]:
    """The languages a page with its own keys (`i18n/<page>/<lang>.json`: the presenter,
    the console) offers, in switcher order: those its files exist in. The page's own
    JavaScript list must say the same; the layout test switches to each of these."""
    have = {path.stem for path in (I18N_DIR / page).glob("*.json")}
    return tuple(lang for lang in LANGUAGES if lang in have)


def load_file(lang: str) -> dict[str, str]:
    data = json.loads((I18N_DIR / f"{lang}.json").read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
        raise ValueError(f"{lang}.json must be one object of strings")
    return data


@dataclass(frozen=True)
class Catalog:
    """The texts of one language, falling back to English for a missing key."""

    lang: str
    texts: Mapping[str, str]
    fallback: Mapping[str, str]

    def raw(self, key: str) -> str:
        return self.texts.get(key) or self.fallback.get(key) or key

    def country(self, code: str, form: str = "") -> str:
        """A country's name, in `form` when the language has it (else the plain name)."""
        base = f"country.{code}"
        if form and f"{base}.{form}" in self.texts:
            return self.texts[f"{base}.{form}"]
        return self.texts.get(base) or self.fallback.get(base) or code

    def format(self, template: str, values: Mapping[str, object]) -> str:
        def fill(match: re.Match[str]) -> str:
            name, form = match.group(1), match.group(2) or ""
            if name not in values:
                return match.group(0)
            value = values[name]
            if name.startswith("country"):
                return self.country(str(value), form)
            return str(value)
        return PLACEHOLDER.sub(fill, template)

    def text(self, key: str, **values: object) -> str:
        """text("vote.voting_from", country="KZ") → "Вы голосуете из Казахстана"."""
        return self.format(self.raw(key), values)

    def plural(self, key: str, count: int | Fraction, **values: object) -> str:
        """plural("common.points", 12) → "12 баллов"; `n` is the count unless given."""
        variant = f"{key}.{plural_category(self.lang, count)}"
        template = self.texts.get(variant) or self.texts.get(f"{key}.other") \
            or self.fallback.get(f"{key}.other") or key
        return self.format(template, {"n": count, **values})


@cache
def catalog(lang: str) -> Catalog:
    """The catalog of `lang` (English for a language the files do not hold)."""
    english = load_file(DEFAULT_LANGUAGE)
    if lang not in LANGUAGES or lang == DEFAULT_LANGUAGE:
        return Catalog(DEFAULT_LANGUAGE, english, english)
    return Catalog(lang, load_file(lang), english)


def pick_language(*, requested: str | None = None, country: str | None = None,
                  accepted: Iterable[str] = ()) -> str:
    """The language to speak: the one asked for, else the voting country's, else the
    first of the client's languages (Accept-Language order) the files hold, else English."""
    for tag in (requested, COUNTRY_LANGUAGE.get(country or ""), *accepted):
        base = (tag or "").strip().lower().replace("_", "-").split("-")[0]
        if base in LANGUAGES:
            return base
    return DEFAULT_LANGUAGE
