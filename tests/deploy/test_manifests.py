"""Offline checks of the Kubernetes manifests in deploy/k8s/.

* every manifest validates against the Kubernetes JSON schemas shipped inside the
  `kubernetes-validate` package (strict mode: unknown fields are errors), no network;
* the security and availability settings the issue asks for are present.

deploy/compose.yaml, the Dockerfile and the wheel the image installs have
tests/deploy/test_compose_and_image.py.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from service.ops.health import CHECK_TIMEOUT_S
from tests.deploy.artefacts import K8S, MANIFESTS, all_resources, container_of, documents

pytestmark = pytest.mark.stores_independent  # run once, in the embedded pass

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read the deploy/ manifests")

KUBERNETES_VERSION = "1.30"



@pytest.fixture(scope="module")
def resources() -> dict[str, dict[str, Any]]:
    return all_resources()


# --------------------------------------------------------------------------- k8s schemas


def test_manifest_folder_is_complete() -> None:
    kinds = set(all_resources())
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
    docs = documents(path)
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
    deployment = all_resources()["Deployment"]
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
    assert len(kinds) == len(all_resources())


# ------------------------------------------------------------------ k8s required settings


def test_deployment_probes_resources_and_drain(resources: dict[str, dict[str, Any]]) -> None:
    deployment = resources["Deployment"]
    pod = deployment["spec"]["template"]["spec"]
    container = container_of(deployment)
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
    container = container_of(resources["Deployment"])
    assert container["startupProbe"]["httpGet"]["path"] == "/livez"
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["readinessProbe"]["timeoutSeconds"] > CHECK_TIMEOUT_S
    startup = container["startupProbe"]
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 60  # migrations at start


@pytest.mark.parametrize("kind", ["Deployment", "Job"])
def test_pods_are_locked_down(resources: dict[str, dict[str, Any]], kind: str) -> None:
    pod = resources[kind]["spec"]["template"]["spec"]
    container = container_of(resources[kind])
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
    assert container_of(job)["args"] == ["migrate"]
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


def test_k8s_pods_never_get_the_superuser_s_login(resources: dict[str, dict[str, Any]]
                                                  ) -> None:
    secret = resources["Secret"]["stringData"]
    assert "MIGRATION_DATABASE_URL" not in secret  # the service's pods read this Secret
    assert secret["DATABASE_URL"].startswith("postgresql://silkvote_service:")
    assert secret["REDIS_URL"].startswith("redis://:CHANGE-ME")
    job_env = {e["name"]: e for e in container_of(resources["Job"]).get("env", [])}
    ref = job_env["MIGRATION_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    assert ref["name"] != resources["Secret"]["metadata"]["name"]
