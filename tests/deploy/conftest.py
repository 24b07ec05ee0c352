"""promtool for the tests of the dashboard and the alert rules."""

from __future__ import annotations

import shutil

import pytest

PROMTOOL_MISSING = ("promtool is not installed and could not be: `make promtool` installs "
                    "it from Debian's prometheus package (needs root and apt)")


@pytest.fixture(scope="session")
def promtool() -> str:
    """promtool's path; the test is skipped, saying why, when it is not installed."""
    path = shutil.which("promtool")
    if path is None:
        pytest.skip(PROMTOOL_MISSING)
    return path
