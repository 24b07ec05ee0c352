"""What a voter's SMS text chooses: an entry by its running-order number or country code.

Phones send what their keyboards type, so the parser forgives what does not change the
meaning: case ("kz"), spaces and punctuation around or inside ("K Z", "#3", "3."),
full-width forms (NFKC: "３", "ＫＺ"), any script's decimal digits (`unicodedata.digit`:
Arabic-Indic "٣", Devanagari "३", Mongolian "᠓"), and Cyrillic letters that look like
Latin ones on a Russian, Kazakh or Mongolian keyboard ("КZ" with a Cyrillic К). It never
guesses between entries: a text that is not exactly one number or one code chooses
nothing, and the voter is told how to vote.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from service.contests.models import EntryIn

#: Cyrillic (and Greek) capitals that a Latin country code typed on another keyboard
#: looks identical with.
_LOOKALIKES = str.maketrans({
    "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H", "О": "O", "Р": "P",
    "С": "C", "Т": "T", "Х": "X", "У": "Y", "І": "I", "Ј": "J", "Ѕ": "S", "Ү": "Y",
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M",
    "Ν": "N", "Ο": "O", "Ρ": "P", "Τ": "T", "Χ": "X", "Υ": "Y",
})
MAX_TEXT = 160  # one SMS; anything longer is not a vote


def significant(text: str) -> str:
    """The letters and digits of `text`, NFKC-normalised and upper-cased, with local
    digits as ASCII digits and look-alike letters as Latin ones."""
    out = []
    for ch in unicodedata.normalize("NFKC", text[:MAX_TEXT * 2]).upper():
        if ch.isspace() or not ch.isalnum():
            continue
        digit = unicodedata.digit(ch, None)
        out.append(str(digit) if digit is not None else ch)
    return "".join(out).translate(_LOOKALIKES)


def chosen_entry(text: str, entries: Iterable[EntryIn]) -> str | None:
    """The country code of the entry `text` chooses, None when it chooses none."""
    key = significant(text)
    if not key:
        return None
    if key.isascii() and key.isdigit():
        number = int(key)
        return next((e.country for e in entries if e.running_order == number), None)
    if len(key) == 2 and key.isascii() and key.isalpha():
        return next((e.country for e in entries if e.country == key), None)
    return None
