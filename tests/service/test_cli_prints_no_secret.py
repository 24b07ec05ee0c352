"""The CLI shows a token only when it generated it."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.cli.server import print_welcome
from service.core.config import Settings

pytestmark = pytest.mark.stores_independent  # no store involved: run once


def test_an_admin_token_the_operator_set_is_never_printed(
        capsys: pytest.CaptureFixture[str]) -> None:
    chosen = "operator-chosen-" + "z" * 24
    print_welcome(Settings(admin_token=chosen, admin_token_generated=False), "demo", 8000)
    out = capsys.readouterr().out
    assert chosen not in out and "not shown" in out


def test_a_generated_admin_token_is_shown_once_so_the_producer_can_sign_in(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    made = "generated-" + "q" * 30
    print_welcome(Settings(admin_token=made, admin_token_generated=True, data_dir=tmp_path),
                  "demo", 8000)
    assert made in capsys.readouterr().out.replace("\n", "")
