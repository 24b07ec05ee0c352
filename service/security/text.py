"""What a string field of a request may hold: no control characters, ever.

Names, codes and ids end up in log lines, the overlay, CSV exports and PostgreSQL. A
NUL is refused by PostgreSQL's `text` (a 500 where the request was at fault), a
newline forges log lines and breaks exports, and an escape sequence paints a
terminal. So every string of every input model carries one of these patterns and
msgspec refuses the body with `400 invalid_body` before any handler runs.

The patterns are written for both of their readers: Python's `re` (msgspec) and
ECMAScript (the OpenAPI document's clients). Python's `$` also matches before a final
newline, which is how `"KZ\\n"` once passed `^[A-Z]{2}$`; `(?![\\s\\S])` ("no character
follows") is the end of the string in both.
"""

from __future__ import annotations

# C0 controls, DEL and the C1 controls (U+0080-U+009F, e.g. NEL)
_CONTROL = r"\x00-\x1f\x7f-\x9f"
END = r"(?![\s\S])"
NO_CONTROLS = rf"^(?![\s\S]*[{_CONTROL}])"
COUNTRY_CODE = rf"^[A-Z]{{2}}{END}"
CONTEST_ID = rf"^[a-z0-9][a-z0-9-]{{0,62}}{END}"


def ecmascript_pattern(pattern: str) -> str:
    """The same rule without lookaheads, for the OpenAPI document's JavaScript readers
    (ReDoc's sample generator fails on them). In ECMAScript `$` is the end of the
    string, so nothing is lost there; only Python needs the lookahead forms."""
    if pattern.startswith("^(?![\\s\\S]*[") and pattern.endswith("])"):
        return "^[^" + pattern[len("^(?![\\s\\S]*["):-2] + "]*$"
    return pattern.replace(END, "$")
