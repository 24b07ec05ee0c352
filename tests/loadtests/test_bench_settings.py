"""Every bench tool starts its server with settings the server accepts: a bench that
dies on its own configuration measures nothing (the profiler's 30-character admin
token did, once the server required 32)."""

from __future__ import annotations

import pytest

from loadtests.bench.server_secrets import server_secrets
from service.core.config import load_settings

pytestmark = pytest.mark.stores_independent


@pytest.mark.parametrize("tool", ["bench", "profile", "cache-bench"])
def test_each_bench_tool_gets_secrets_the_server_accepts(tool: str) -> None:
    settings = load_settings(server_secrets(tool) | {"SILKVOTE_ENV_FILE": "/nonexistent"})
    assert settings.admin_token and len(settings.admin_token) >= 32


def test_each_call_draws_new_secrets() -> None:
    assert server_secrets("bench") != server_secrets("bench")
