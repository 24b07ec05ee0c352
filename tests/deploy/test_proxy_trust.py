"""The deployments believe X-Forwarded-For only from their own load balancer.

uvicorn's `FORWARDED_ALLOW_IPS=*` made every replica take the header's first entry
from any peer; the service now reads the header itself, from `TRUSTED_PROXIES` only
(service/security/client_address.py), and the manifests name the balancer's range.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest

from service.security.client_address import parse_networks

pytestmark = pytest.mark.stores_independent  # run once, in the embedded pass

yaml = pytest.importorskip("yaml", reason="PyYAML is needed to read the deploy/ manifests")

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def test_no_deployment_file_lets_uvicorn_believe_forwarded_headers() -> None:
    for path in DEPLOY.rglob("*"):
        if path.is_file() and path.suffix in (".yaml", ".yml", ".conf", ".md", ""):
            text = path.read_text(encoding="utf-8", errors="replace")
            assert "FORWARDED_ALLOW_IPS" not in text, path
            assert "--forwarded-allow-ips" not in text, path
            assert "proxy-headers" not in text, path


def test_compose_trusts_exactly_its_load_balancer() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    trusted = compose["services"]["silkvote"]["environment"]["TRUSTED_PROXIES"]
    default = re.fullmatch(r"\$\{TRUSTED_PROXIES:-(.+)\}", trusted)
    assert default, trusted
    networks = [ipaddress.ip_network(n) for n in parse_networks(default.group(1))]
    lb_address = ipaddress.ip_address(
        compose["services"]["lb"]["networks"]["default"]["ipv4_address"])
    assert networks == [ipaddress.ip_network(f"{lb_address}/32")]
    subnet = compose["networks"]["default"]["ipam"]["config"][0]["subnet"]
    assert lb_address in ipaddress.ip_network(subnet)


def test_nginx_appends_the_peer_it_saw() -> None:
    """The rule reads the right-most entries, so the balancer must append its peer
    (never replace the header with, or pass on, what the client sent)."""
    conf = (DEPLOY / "nginx.conf").read_text(encoding="utf-8")
    assert re.search(r"proxy_set_header\s+X-Forwarded-For\s+\$proxy_add_x_forwarded_for;",
                     conf)


def test_kubernetes_config_names_a_trusted_range() -> None:
    config = yaml.safe_load((DEPLOY / "k8s" / "configmap.yaml").read_text(encoding="utf-8"))
    assert parse_networks(config["data"]["TRUSTED_PROXIES"])
