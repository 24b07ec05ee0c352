"""One list of flat rows, three encodings: JSON (an array of objects), XML, CSV.

vMix's JSON data source wants a top-level array of objects; its XML source takes an
XPath such as `/rows/row`; its CSV source reads a header row. The same columns, in the
same order, come out of all three, so a title built on one format works on another.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any, Literal
from xml.sax.saxutils import escape

import msgspec

Format = Literal["json", "xml", "csv"]
MEDIA_TYPES: dict[Format, str] = {
    "json": "application/json",
    "xml": "application/xml; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
}
Row = Mapping[str, Any]


def as_mappings(rows: Sequence[msgspec.Struct | Row]) -> list[Row]:
    return [msgspec.structs.asdict(r) if isinstance(r, msgspec.Struct) else r for r in rows]


def text_of(value: Any) -> str:
    """A cell as text: booleans as true/false (as in the JSON), numbers as written."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def encode(rows: Sequence[msgspec.Struct | Row], fmt: Format) -> bytes:
    if fmt == "json":
        return msgspec.json.encode(list(rows))
    mappings = as_mappings(rows)
    if fmt == "csv":
        return _csv(mappings)
    return _xml(mappings)


def _csv(rows: list[Row]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180
    if rows:
        writer.writerow(list(rows[0]))
        for row in rows:
            writer.writerow([text_of(v) for v in row.values()])
    return out.getvalue().encode()


def _xml(rows: list[Row]) -> bytes:
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<rows>\n']
    for row in rows:
        cells = "".join(f"<{key}>{escape(text_of(value))}</{key}>" for key, value in row.items())
        parts.append(f"  <row>{cells}</row>\n")
    parts.append("</rows>\n")
    return "".join(parts).encode()
