"""Country names in the language a graphics feed asks for (`?lang=`).

Graphics systems print what the feed says, so the names come from the project's own
translation files (`service/web/translations.py`, the files the pages read), never from
a browser's or a platform's locale data, which lacks some languages (no Kazakh names in
Chromium's Intl) and differs between machines.
"""

from __future__ import annotations

from service.web.translations import DEFAULT_LANGUAGE, LANGUAGES, catalog

__all__ = ["DEFAULT_LANGUAGE", "country_name", "languages"]


def languages() -> list[str]:
    return list(LANGUAGES)


def country_name(code: str, lang: str = DEFAULT_LANGUAGE) -> str:
    """The plain (nominative) name; the code itself for a country the files lack."""
    return catalog(lang).country(code)
