"""The reply SMS for every outcome, in the sender's language.

The gateway sends the endpoint's response body back to the phone, so each outcome of
the ledger or the contest rules has one short sentence in each of the project's
languages (`sms.*` in service/web/i18n/<lang>.json, the files the pages read). The
language is that of the number's own country when the files hold it (a +7 7xx number
reads Kazakh), else English.
"""

from __future__ import annotations

from service.web.translations import COUNTRY_LANGUAGE, DEFAULT_LANGUAGE, catalog

#: The outcomes that have a reply of their own (ledger outcomes and contest rules).
REPLY_KEYS = {
    "accepted": "sms.accepted",
    "duplicate": "sms.duplicate",
    "unknown_entry": "sms.unknown_entry",
    "own_country": "sms.own_country",
    "entry_disqualified": "sms.entry_disqualified",
    "vote_cap_reached": "sms.vote_cap_reached",
    "window_closed": "sms.window_closed",
    "country_mismatch": "sms.country_mismatch",
    "unknown_country": "sms.unknown_country",
    "unknown_sender": "sms.unknown_country",
}


def reply_language(region: str) -> str:
    """The language of a number's own country, English where the files have none."""
    return COUNTRY_LANGUAGE.get(region, DEFAULT_LANGUAGE)


def reply_text(outcome: str, lang: str, *, entry: str = "", remaining: int = 0,
               entries: int = 0) -> str:
    """The reply to an SMS whose vote ended in `outcome`."""
    key = REPLY_KEYS.get(outcome, "sms.unknown_entry")
    return catalog(lang).text(key, country=entry or "WW", n=remaining, max=entries)
