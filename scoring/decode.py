"""Sheets from JSON text: msgspec's type errors become the same one-line
:class:`SheetError` (``field: problem``) as every rule the checks enforce, so a caller
handles one kind of error whatever is wrong with a sheet."""

from __future__ import annotations

import re

import msgspec

from scoring.errors import SheetError
from scoring.models import Sheet
from scoring.validate import validate_sheet

_AT = re.compile(r"^(?P<msg>.*?) - at `\$(?P<path>[^`]*)`$", re.DOTALL)
_FIELD_NAMED = re.compile(r"^Object (?:missing required|contains unknown) field `(?P<name>[^`]*)`")


def _path(raw: str) -> str:
    """msgspec's ``$.votes[3].from`` → ``votes[3].from``; the root is ``sheet``."""
    raw = raw.lstrip(".")
    return raw


def translate_validation_error(exc: msgspec.MsgspecError, root: str = "sheet") -> SheetError:
    """msgspec names a missing or unknown field in its message, not in its path; the
    field is moved into the path so that it always points at the culprit."""
    text = str(exc)
    match = _AT.match(text)
    message, path = (match.group("msg"), _path(match.group("path"))) if match else (text, "")
    named = _FIELD_NAMED.match(message)
    if named:
        name = named.group("name")
        path = f"{path}.{name}" if path else name
    if not path:
        path = root
    elif root != "sheet":
        path = f"{root}.{path}" if not path.startswith("[") else f"{root}{path}"
    return SheetError(path, message)


def decode_sheet(data: bytes | str) -> Sheet:
    """Decode and fully validate a sheet (JSON text). Raises :class:`SheetError`."""
    try:
        sheet = msgspec.json.decode(data, type=Sheet)
    except msgspec.ValidationError as exc:
        raise translate_validation_error(exc) from None
    except msgspec.DecodeError as exc:
        raise SheetError("sheet", f"not valid JSON: {exc}") from None
    validate_sheet(sheet)
    return sheet
