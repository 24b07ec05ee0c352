"""Runtime configuration, read once from the environment (and an optional `.env`).

Every setting is validated at start so a typo in a deployment fails loudly with the
variable's name instead of misbehaving mid-show. Secrets that are not configured are
generated once and kept in the data folder (0600 files in a 0700 folder), so tokens
survive a restart of `make run`. An admin token the operator sets must be a real one:
at least 32 characters and no placeholder (`CHANGE-ME…`), except under `silkvote up`,
the demo on one machine.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from urllib.parse import parse_qs, urlparse, urlsplit

import msgspec

from service.core.redis_url import SENTINEL_SCHEME, parse_sentinel_url
from service.security.client_address import parse_networks
from service.security.credentials import read_or_create_secret

# The checkout's root, for tools that only run from the repository (tests, bench) and
# for the migrations of a checkout. No default of an installed package points here:
# installed, this would be site-packages.
REPO_ROOT = Path(__file__).resolve().parents[2]


def shipped_migrations() -> Path:
    """The SQL migrations that came with this code, wherever it is installed.

    The repository's top-level `migrations/` is their one source; the wheel carries a
    copy as `service/migrations/` (mapped at build time, see setup.py), found through
    `importlib.resources`. A checkout or an editable install has no such copy and reads
    the repository's folder.
    """
    packaged = resources.files("service") / "migrations"
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    return REPO_ROOT / "migrations"


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """All knobs of one SilkVote process. Build it with `load_settings()`."""

    database_url: str | None = None  # the service's login (stores/database_roles.py)
    migration_database_url: str | None = None  # MIGRATION_DATABASE_URL: who migrates
    database_service_password: str = ""  # for `silkvote_service` when derived
    audit_chain_key: str = ""  # AUDIT_CHAIN_KEY: the HMAC key of the audit chain
    redis_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    admin_token: str = ""
    admin_token_generated: bool = False
    signing_secret: str = ""
    voter_hash_key: str = ""
    seal_secret: str = ""  # each contest's Ed25519 seal key is derived from it
    data_dir: Path = Path("var")  # DATA_DIR, relative to the working folder
    migrations_dir: Path = msgspec.field(default_factory=shipped_migrations)  # MIGRATIONS_DIR
    vote_cap: int = 20
    leaderboard_hz: float = 2.0
    results_token: str | None = None
    log_level: str = "info"
    log_format: str = "json"  # or "console": one readable line per record
    commit_window_ms: float = 2.0
    commit_max_batch: int = 512
    voter_token_ttl_s: int = 24 * 3600
    reconcile_interval_s: float = 5.0
    max_body_bytes: int = 4 * 1024 * 1024
    db_timeout_s: float = 5.0
    keepalive_timeout_s: int = 75  # above load balancers' 60 s idle timeout
    header_timeout_s: float = 10.0  # a request head must arrive within this
    body_timeout_s: float = 30.0  # and its body within this after the head
    self_service_tokens: bool = False
    cors_origins: list[str] = msgspec.field(default_factory=lambda: ["*"])
    rate_limit_ip_per_s: int = 0  # off by default: carriers put thousands of phones behind one IP
    rate_limit_voter_per_s: int = 10
    rate_limit_jury_login_per_min: int = 20
    # load balancers whose X-Forwarded-For is believed (security/client_address.py)
    trusted_proxies: tuple[str, ...] = ()
    ws_connections_per_client: int = 20  # per process; 0 = no limit
    vote_lane: bool = True  # single votes bypass the framework's generic path (intake/lane.py)
    # self-service device tokens per client network (/24, /48) and minute; 0 = no limit
    device_tokens_per_network_per_min: int = 20

    @property
    def uses_embedded_postgres(self) -> bool:
        return self.database_url is None

    @property
    def uses_embedded_redis(self) -> bool:
        return self.redis_url is None


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines (comments, blank lines and surrounding quotes allowed)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip().removeprefix("export ").strip()] = value.strip().strip("'\"")
    return values


def _int(env: dict[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _float(env: dict[str, str], name: str, default: float, minimum: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    return value


def _bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if raw == "":
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}")


def _url(env: dict[str, str], name: str, schemes: tuple[str, ...]) -> str | None:
    raw = env.get(name) or None
    if raw is None:
        return None
    scheme = urlparse(raw).scheme
    if scheme not in schemes:
        raise ConfigError(f"{name} must start with one of {', '.join(s + '://' for s in schemes)}")
    return raw


def _networks(env: dict[str, str], name: str) -> tuple[str, ...]:
    try:
        return parse_networks(env.get(name) or "")
    except ValueError as exc:
        raise ConfigError(f"{name}: {exc}") from None


def _redis_url(env: dict[str, str]) -> str | None:
    """One server, a Redis Cluster, or Sentinels and a master name (core/redis_url.py)."""
    raw = _url(env, "REDIS_URL", ("redis", "rediss", "redis+cluster", "redis+sentinel", "unix"))
    if raw is not None and raw.startswith(SENTINEL_SCHEME):
        try:
            parse_sentinel_url(raw)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
    return raw


_SESSION_ATTRS = ("any", "primary", "standby", "prefer-standby", "read-write", "read-only")
_WRITABLE_ATTRS = ("read-write", "primary")


def _postgres_url(env: dict[str, str], name: str) -> str | None:
    """A PostgreSQL URL, one host or several (`postgresql://u@h1:p1,h2:p2/db?…`).

    With several hosts (a primary and its standbys) asyncpg tries them in order for
    each new connection; `target_session_attrs` must then make it keep only the
    writable one, or the pool could settle on a standby and refuse every vote.
    """
    raw = _url(env, name, ("postgresql", "postgres"))
    if raw is None:
        return None
    parts = urlsplit(raw)
    hostlist = parts.netloc.rpartition("@")[2]  # never the password
    hosts = hostlist.split(",")
    for host in hosts:
        if len(hosts) > 1 and not host:
            raise ConfigError(f"{name} lists an empty host in {hostlist!r}")
        port = host.rpartition("]")[2].partition(":")[2]  # [v6]:port or name:port
        if port and not (port.isdigit() and 0 < int(port) < 65536):
            raise ConfigError(f"{name}: {port!r} is not a port (in host {host!r})")
    attrs = parse_qs(parts.query).get("target_session_attrs", [None])[-1]
    if attrs is not None and attrs not in _SESSION_ATTRS:
        raise ConfigError(f"{name}: target_session_attrs must be one of "
                          f"{', '.join(_SESSION_ATTRS)}, got {attrs!r}")
    if len(hosts) > 1 and attrs not in _WRITABLE_ATTRS:
        raise ConfigError(f"{name} lists {len(hosts)} hosts: add "
                          "?target_session_attrs=read-write so that votes go to the primary")
    return raw


def _persistent_secret(env: dict[str, str], name: str, data_dir: Path) -> tuple[str, bool]:
    """Return (secret, generated). Unset secrets are generated once into the data folder."""
    if env.get(name):
        return env[name], False
    return read_or_create_secret(data_dir / "secrets" / name.lower())[0], True


MIN_ADMIN_TOKEN_CHARS = 32
_PLACEHOLDERS = ("change-me", "changeme", "change_me", "example", "placeholder", "dev-only",
                 "replace-me", "your-", "secret-here", "xxxx", "todo")
UP_MODE = "SILKVOTE_UP"  # set by `silkvote up` for the processes it starts


def admin_token_problem(token: str) -> str | None:
    """Why an operator's ADMIN_TOKEN is not a real secret, or None."""
    lowered = token.lower()
    if len(token) < MIN_ADMIN_TOKEN_CHARS:
        return f"is {len(token)} characters; use at least {MIN_ADMIN_TOKEN_CHARS}"
    if any(p in lowered for p in _PLACEHOLDERS) or len(set(token)) < 8:
        return "is a placeholder"
    return None


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build and validate settings from `environ` (default: os.environ) plus `.env`."""
    source = dict(os.environ if environ is None else environ)
    # Both relative to the working folder (as `make run` from the checkout has them),
    # never to the code: an installed package would write into site-packages.
    dotenv = read_dotenv(Path(source.get("SILKVOTE_ENV_FILE") or ".env").expanduser())
    env = {**dotenv, **source}
    data_dir = Path(env.get("DATA_DIR") or "var").expanduser().resolve()
    admin_token, generated = _persistent_secret(env, "ADMIN_TOKEN", data_dir)
    problem = None if generated or env.get(UP_MODE) else admin_token_problem(admin_token)
    if problem:
        raise ConfigError(
            f"ADMIN_TOKEN {problem}. Set a random one, e.g. "
            "python -c 'import secrets; print(secrets.token_urlsafe(32))', or unset it to "
            "have one generated into DATA_DIR/secrets")
    log_level = env.get("LOG_LEVEL", "info").lower()
    if log_level not in {"debug", "info", "warning", "error"}:
        raise ConfigError("LOG_LEVEL must be one of debug, info, warning, error")
    log_format = (env.get("LOG_FORMAT") or "json").strip().lower()
    if log_format not in {"json", "console"}:
        raise ConfigError(f"LOG_FORMAT must be json or console, got {log_format!r}")
    return Settings(
        database_url=_postgres_url(env, "DATABASE_URL"),
        migration_database_url=_postgres_url(env, "MIGRATION_DATABASE_URL"),
        database_service_password=_persistent_secret(
            env, "DATABASE_SERVICE_PASSWORD", data_dir)[0],
        audit_chain_key=_persistent_secret(env, "AUDIT_CHAIN_KEY", data_dir)[0],
        redis_url=_redis_url(env),
        host=env.get("HOST") or "127.0.0.1",
        port=_int(env, "PORT", 8000, minimum=1),
        admin_token=admin_token,
        admin_token_generated=generated,
        signing_secret=_persistent_secret(env, "SIGNING_SECRET", data_dir)[0],
        voter_hash_key=_persistent_secret(env, "VOTER_HASH_KEY", data_dir)[0],
        seal_secret=_persistent_secret(env, "SEAL_SECRET", data_dir)[0],
        data_dir=data_dir,
        migrations_dir=Path(env.get("MIGRATIONS_DIR") or shipped_migrations()),
        vote_cap=_int(env, "VOTE_CAP", 20, minimum=1),
        leaderboard_hz=_float(env, "LEADERBOARD_HZ", 2.0, minimum=0.1),
        results_token=env.get("RESULTS_TOKEN") or None,
        log_level=log_level,
        log_format=log_format,
        commit_window_ms=_float(env, "COMMIT_WINDOW_MS", 2.0, minimum=0.0),
        commit_max_batch=_int(env, "COMMIT_MAX_BATCH", 512, minimum=1),
        voter_token_ttl_s=_int(env, "VOTER_TOKEN_TTL_S", 24 * 3600, minimum=60),
        reconcile_interval_s=_float(env, "RECONCILE_INTERVAL_S", 5.0, minimum=0.1),
        max_body_bytes=_int(env, "MAX_BODY_BYTES", 4 * 1024 * 1024, minimum=1024),
        db_timeout_s=_float(env, "DB_TIMEOUT_S", 5.0, minimum=0.1),
        keepalive_timeout_s=_int(env, "KEEPALIVE_TIMEOUT_S", 75, minimum=1),
        header_timeout_s=_float(env, "HEADER_TIMEOUT_S", 10.0, minimum=0.5),
        body_timeout_s=_float(env, "BODY_TIMEOUT_S", 30.0, minimum=0.5),
        self_service_tokens=_bool(env, "SELF_SERVICE_TOKENS", False),
        cors_origins=[o.strip() for o in (env.get("CORS_ORIGINS") or "*").split(",") if o.strip()],
        rate_limit_ip_per_s=_int(env, "RATE_LIMIT_IP_PER_S", 0),
        rate_limit_voter_per_s=_int(env, "RATE_LIMIT_VOTER_PER_S", 10),
        rate_limit_jury_login_per_min=_int(env, "RATE_LIMIT_JURY_LOGIN_PER_MIN", 20),
        trusted_proxies=_networks(env, "TRUSTED_PROXIES"),
        ws_connections_per_client=_int(env, "WS_CONNECTIONS_PER_CLIENT", 20),
        vote_lane=_bool(env, "VOTE_LANE", True),
        device_tokens_per_network_per_min=_int(env, "DEVICE_TOKENS_PER_NETWORK_PER_MIN", 20),
    )
