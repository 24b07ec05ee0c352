"""The deployment artefacts of deploy/ as the offline tests read them: the Kubernetes
resources by kind, a workload's one container, the Dockerfile's instructions."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
MANIFESTS = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def all_resources() -> dict[str, dict[str, Any]]:
    """Every resource of deploy/k8s keyed by its kind (each kind appears once)."""
    by_kind: dict[str, dict[str, Any]] = {}
    for path in MANIFESTS:
        for doc in documents(path):
            assert doc["kind"] not in by_kind, f"{doc['kind']} defined twice"
            by_kind[doc["kind"]] = doc
    return by_kind


def container_of(workload: dict[str, Any]) -> dict[str, Any]:
    """The one container of a Deployment's or Job's pod."""
    containers = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    container: dict[str, Any] = containers[0]
    return container


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(KEYWORD, rest) for each instruction of deploy/Dockerfile, continuations joined."""
    text = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    text = re.sub(r"\\\n", " ", text)  # join continuation lines
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            out.append((keyword.upper(), rest.strip()))
    return out
