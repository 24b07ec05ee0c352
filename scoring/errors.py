"""The one error type of the scoring library."""

from __future__ import annotations


class SheetError(Exception):
    """A sheet (or rules) that breaks the contract.

    ``field`` is a path into the sheet as written in JSON (``votes[3].jury_rankings[1]``),
    ``message`` says what is wrong; ``str(err)`` is the one-line ``"field: message"``.
    """

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = " ".join(message.split())  # always one line
        super().__init__(f"{self.field}: {self.message}")

    def __reduce__(self) -> tuple[type[SheetError], tuple[str, str]]:
        return (SheetError, (self.field, self.message))
