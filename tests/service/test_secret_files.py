"""Secrets at rest and the admin token (issue 15, point 7).

Generated secrets are private from the moment they exist (a 0700 folder, 0600
files, never written first and chmod'ed after); an operator's admin token must be a
real secret outside `silkvote up`; the embedded Valkey refuses clients without its
password, so nobody on the machine can write a forged tally into it.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis
from hypothesis import given
from hypothesis import strategies as st

from service.core.config import REPO_ROOT, ConfigError, load_settings
from service.stores.embedded import VALKEY_PASSWORD_FILE
from tests.conftest import Stores

GOOD_TOKEN = "kQ7vX2mN9pL4sR8tW1yZ5bC3dF6gH0jA"  # 32 random-looking characters


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask() -> Iterator[None]:
    """The loosest umask, so only the modes the code asks for protect the files."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def settings_env(tmp_path: Path, **env: str) -> dict[str, str]:
    return {"DATA_DIR": str(tmp_path / "data"), "SILKVOTE_ENV_FILE": str(tmp_path / ".env"),
            **env}


@pytest.mark.stores_independent
def test_generated_secrets_are_0600_in_a_0700_folder_from_the_start(
        tmp_path: Path, open_umask: None, monkeypatch: pytest.MonkeyPatch) -> None:
    chmodded: list[str] = []
    real_chmod = os.chmod
    monkeypatch.setattr(os, "chmod", lambda p, m, **kw: (chmodded.append(str(p)),
                                                         real_chmod(p, m, **kw)))
    load_settings(settings_env(tmp_path))
    folder = tmp_path / "data" / "secrets"
    files = sorted(p.name for p in folder.iterdir())
    assert {"admin_token", "signing_secret", "voter_hash_key", "audit_chain_key",
            "database_service_password"} <= set(files)
    assert mode(folder) == 0o700
    assert {p.name: mode(p) for p in folder.iterdir()} == dict.fromkeys(files, 0o600)
    assert chmodded == []  # created with their modes, never fixed afterwards


@pytest.mark.stores_independent
def test_a_secrets_folder_left_open_by_an_older_version_is_closed(tmp_path: Path) -> None:
    folder = tmp_path / "data" / "secrets"
    folder.mkdir(parents=True, mode=0o755)
    folder.chmod(0o755)
    load_settings(settings_env(tmp_path))
    assert mode(folder) == 0o700


@pytest.mark.stores_independent
@pytest.mark.parametrize("token", ["CHANGE-ME-admin-token-dev-only-0123456789",
                                   "replace-me-with-a-long-admin-token-please",
                                   "a" * 40, "up-admin"])
def test_a_placeholder_or_short_admin_token_is_refused_with_the_reason(
        tmp_path: Path, token: str) -> None:
    with pytest.raises(ConfigError, match=r"ADMIN_TOKEN (is a placeholder|is \d+ characters)"):
        load_settings(settings_env(tmp_path, ADMIN_TOKEN=token))


@pytest.mark.stores_independent
@given(st.text(alphabet=st.characters(codec="ascii", categories=["L", "N"]), max_size=31))
def test_any_admin_token_under_32_characters_is_refused(token: str) -> None:
    if token:  # empty means unset: one is generated
        with pytest.raises(ConfigError, match="ADMIN_TOKEN"):
            load_settings({"ADMIN_TOKEN": token, "SILKVOTE_ENV_FILE": "/nonexistent"})


@pytest.mark.stores_independent
def test_a_real_token_a_generated_one_and_the_demo_s_token_are_accepted(
        tmp_path: Path) -> None:
    assert load_settings(settings_env(tmp_path, ADMIN_TOKEN=GOOD_TOKEN)).admin_token == GOOD_TOKEN
    generated = load_settings(settings_env(tmp_path))
    assert generated.admin_token_generated and len(generated.admin_token) >= 32
    assert load_settings(settings_env(tmp_path, ADMIN_TOKEN="up-admin",
                                      SILKVOTE_UP="1")).admin_token == "up-admin"


@pytest.mark.stores_independent
def test_serve_refuses_to_start_with_a_weak_admin_token(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "ADMIN_TOKEN"}
    env.update(settings_env(tmp_path, ADMIN_TOKEN="CHANGE-ME-admin-token-dev-only"))
    out = subprocess.run([sys.executable, "-m", "service.cli", "serve"], env=env,
                         cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert "ADMIN_TOKEN is 30 characters; use at least 32" in " ".join(out.stderr.split())


async def test_a_forged_tally_written_to_the_embedded_valkey_without_its_password_is_refused(
        stores: Stores) -> None:
    if not stores.embedded:
        pytest.skip("the machine's Redis of the external pass is not ours to protect")
    address = urlsplit(stores.redis_url)
    assert address.password and address.hostname
    forger = redis.Redis(host=address.hostname, port=address.port, socket_timeout=2)
    with pytest.raises(redis.AuthenticationError):
        forger.hincrby("sv:{forged:AZ}:tally", "UZ", 5000)
    forger.close()
    assert stores.folder is not None
    assert mode(stores.folder / "valkey" / VALKEY_PASSWORD_FILE) == 0o600
