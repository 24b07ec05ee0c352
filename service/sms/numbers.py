"""An SMS sender's number: its E.164 form (the voter's identity, hashed) and its country.

The country comes from the number's E.164 prefix (`phonenumbers`, Google's
libphonenumber metadata: +7 7xx is Kazakhstan, +7 9xx Russia). A number outside the
contest's voting countries votes as the rest of the world (`WW`). Gateways hand numbers
over as the SMSC gives them: "+99450…", "0099450…" or "99450…"; Kannel's
`unified-prefix` on the SMSC group turns national forms into one of these (docs/sms.md).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import NamedTuple

import phonenumbers

REST_OF_WORLD = "WW"
MAX_NUMBER = 32


class Sender(NamedTuple):
    e164: str  # "+994501234567": what is hashed as the voter
    region: str  # the number's own country ("RU"), for the reply's language
    country: str  # the voting country it votes as ("AZ", or WW)


def e164(number: str) -> phonenumbers.PhoneNumber | None:
    """The parsed international number, None for anything that is not a valid one
    (an alphanumeric sender, a short code, a national number without its prefix)."""
    raw = "".join(ch for ch in number[:MAX_NUMBER] if ch not in " -().")
    if raw.startswith("00"):
        raw = "+" + raw[2:]
    elif not raw.startswith("+"):
        raw = "+" + raw
    if not raw[1:].isascii() or not raw[1:].isdigit():
        return None
    try:
        parsed = phonenumbers.parse(raw, None)
    except phonenumbers.NumberParseException:
        return None
    return parsed if phonenumbers.is_valid_number(parsed) else None


def sender_of(number: str, voting_countries: Collection[str]) -> Sender | None:
    """Who sent an SMS and the country it votes as; None for no valid number."""
    parsed = e164(number)
    if parsed is None:
        return None
    region = phonenumbers.region_code_for_number(parsed) or ""
    country = region if region in voting_countries else REST_OF_WORLD
    return Sender(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
                  region, country)
