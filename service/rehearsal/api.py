"""The rehearsal's HTTP calls: the same public endpoints a show uses, nothing internal.

Every call answers (status, JSON body) instead of raising for a 4xx: a refusal is part
of what a rehearsal counts, not a failure of it.
"""

from __future__ import annotations

from typing import Any

import httpx

TIMEOUT_S = 30.0


class RehearsalApi:
    def __init__(self, base_url: str, admin_token: str) -> None:
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        self._client = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=TIMEOUT_S,
                                         limits=limits)
        self._admin = {"Authorization": f"Bearer {admin_token}"}

    async def close(self) -> None:
        await self._client.aclose()

    async def call(self, method: str, path: str, body: Any = None,
                   token: str | None = None) -> tuple[int, Any]:
        """One request, as the admin unless `token` (a voter, aggregator or juror
        credential) is given."""
        headers = self._admin if token is None else {"Authorization": f"Bearer {token}"}
        response = await self._client.request(method, path, json=body, headers=headers)
        try:
            data = response.json()
        except ValueError:
            data = response.text
        return response.status_code, data

    async def admin(self, method: str, path: str, body: Any = None) -> Any:
        """An admin call that must succeed; RehearsalError names the refusal."""
        status, data = await self.call(method, path, body)
        if status >= 400:
            raise RehearsalError(f"{method} {path}: {status} {error_code(data)}")
        return data


class RehearsalError(Exception):
    """A step the rehearsal needs was refused (its set-up, not a counted vote)."""


def error_code(data: Any) -> str:
    """The `error.code` of an error body, or a short rendering of an odd one."""
    if isinstance(data, dict) and isinstance(data.get("error"), dict):
        return str(data["error"].get("code", "error"))
    return str(data)[:80]
