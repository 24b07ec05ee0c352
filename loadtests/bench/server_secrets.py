"""The secrets a bench tool's own server starts with, drawn fresh for each run.

The server refuses an admin token under 32 characters or one that looks like a
placeholder (service/core/config.py), and a bench that dies on its own configuration
measures nothing; so every tool takes them from here instead of writing its own.
"""

from __future__ import annotations

import secrets


def server_secrets(tool: str) -> dict[str, str]:
    """ADMIN_TOKEN, SIGNING_SECRET and VOTER_HASH_KEY for a server `tool` starts."""
    return {
        "ADMIN_TOKEN": f"{tool}-admin-" + secrets.token_hex(16),
        "SIGNING_SECRET": f"{tool}-signing-" + secrets.token_hex(8),
        "VOTER_HASH_KEY": f"{tool}-voters-" + secrets.token_hex(8),
    }
