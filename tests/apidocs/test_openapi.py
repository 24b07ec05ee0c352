"""The OpenAPI document says what the service does: valid, versioned, with readable
operation ids, the token each route accepts and the one error body for every refusal."""

from __future__ import annotations

import re
from importlib.metadata import version
from typing import Any

import httpx
import pytest
from litestar.handlers import HTTPRouteHandler
from openapi_spec_validator import validate

from service.app import create_app
from service.security.guards import admin_only
from tests.conftest import LiveServer

pytestmark = pytest.mark.stores_independent
METHODS = {"get", "post", "put", "patch", "delete"}
ERROR_BODY = {"$ref": "#/components/schemas/ErrorBody"}
# operations whose 503 is a report of their own, not a refusal
REPORTS = {("/healthz", "get"), ("/readyz", "get")}


@pytest.fixture(scope="module")
def document(live_server: LiveServer) -> dict[str, Any]:
    response = httpx.get(f"{live_server.base_url}/schema/openapi.json", timeout=10)
    assert response.status_code == 200
    return dict(response.json())


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, method, operation) for path, item in document["paths"].items()
            for method, operation in item.items() if method in METHODS]


def operation(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    return dict(document["paths"][path][method])


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_the_version_is_the_installed_package_version(document: dict[str, Any]) -> None:
    assert document["info"]["version"] == version("silkvote")


def test_operation_ids_are_readable_and_unique(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for _, _, op in operations(document)]
    assert len(ids) == len(set(ids))
    unreadable = [i for i in ids if not re.fullmatch(r"[a-z]+(?:[A-Z][a-z]+)*", i)
                  or i.startswith("api")]
    assert not unreadable
    assert operation(document, "post", "/api/v1/contests/{cid}/votes")["operationId"] == "castVote"
    assert operation(document, "post", "/api/v1/contests")["operationId"] == "createContest"


def test_each_token_has_its_own_bearer_scheme(document: dict[str, Any]) -> None:
    """…and the SMS gateway's key its Basic one (Kannel sends a URL's user:key@ so)."""
    schemes = document["components"]["securitySchemes"]
    assert set(schemes) == {"adminToken", "voterToken", "jurorSession", "aggregatorKey",
                            "resultsToken", "readToken", "smsGatewayKey"}
    assert all(s["type"] == "http" and s["scheme"] == "bearer"
               for name, s in schemes.items() if name != "smsGatewayKey")
    assert schemes["smsGatewayKey"]["scheme"] == "basic"


@pytest.mark.parametrize(("method", "path", "security"), [
    ("post", "/api/v1/contests", [{"adminToken": []}]),
    ("post", "/api/v1/contests/{cid}/votes", [{"voterToken": []}]),
    ("get", "/api/v1/contests/{cid}/votes/me", [{"voterToken": []}]),
    ("post", "/api/v1/contests/{cid}/votes/batch", [{"aggregatorKey": []}]),
    ("post", "/api/v1/contests/{cid}/sms", [{"smsGatewayKey": []}, {"aggregatorKey": []}]),
    ("put", "/api/v1/contests/{cid}/ballot", [{"jurorSession": []}]),
    ("get", "/api/v1/contests/{cid}/results",
     [{}, {"resultsToken": []}, {"readToken": []}, {"adminToken": []}]),
    ("get", "/api/v1/contests/{cid}/reveal",
     [{}, {"resultsToken": []}, {"readToken": []}, {"adminToken": []}]),
    ("post", "/api/v1/contests/{cid}/read-tokens", [{"adminToken": []}]),
    ("get", "/api/v1/contests/{cid}/integrity", [{"adminToken": []}]),
    ("post", "/api/v1/contests/{cid}/voids", [{"adminToken": []}]),
])
def test_a_route_lists_the_tokens_it_accepts(document: dict[str, Any], method: str, path: str,
                                             security: list[dict[str, list[str]]]) -> None:
    assert operation(document, method, path)["security"] == security


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/api/v1/contests"), ("get", "/api/v1/contests/{cid}"),
    ("post", "/api/v1/contests/{cid}/device-token"), ("post", "/api/v1/jury/session"),
    ("get", "/healthz"), ("get", "/metrics"),
])
def test_a_public_route_needs_no_token(document: dict[str, Any], method: str, path: str) -> None:
    assert "security" not in operation(document, method, path)


def test_every_route_behind_the_admin_guard_takes_the_admin_token(
        document: dict[str, Any]) -> None:
    app = create_app()
    guarded = [(route.path_format, method.lower()) for route in app.routes
               for method, (handler, _) in getattr(route, "route_handler_map", {}).items()
               if isinstance(handler, HTTPRouteHandler) and admin_only in (handler.guards or [])]
    assert len(guarded) >= 11
    for path, method in guarded:
        op = operation(document, method, path)
        assert op["security"] == [{"adminToken": []}], (method, path)
        assert "401" in op["responses"], (method, path)


def test_every_refusal_is_the_error_body_never_litestars_default(
        document: dict[str, Any]) -> None:
    for path, method, op in operations(document):
        for status, response in op["responses"].items():
            if int(status) < 400 or (path, method) in REPORTS:
                continue
            assert response["content"]["application/json"]["schema"] == ERROR_BODY, \
                (method, path, status)
    error = document["components"]["schemas"]["ErrorBody"]
    assert error["required"] == ["error"]
    assert "ValidationException" not in str(document) and "status_code" not in str(document)


def test_each_status_names_its_codes_with_an_example_each(document: dict[str, Any]) -> None:
    vote = operation(document, "post", "/api/v1/contests/{cid}/votes")["responses"]
    assert set(vote) == {"201", "200", "400", "401", "403", "404", "408", "409", "415", "422",
                         "429", "503"}
    codes = [e["value"]["error"]["code"]
             for e in vote["429"]["content"]["application/json"]["examples"].values()]
    assert codes == ["rate_limited", "vote_cap_reached"]
    assert "`vote_cap_reached`" in vote["429"]["description"]
    body = operation(document, "post", "/api/v1/contests")["responses"]["400"]
    assert "`body_too_large`" in body["description"] and "`invalid_body`" in body["description"]
    assert "`request_timeout`" in operation(document, "post", "/api/v1/contests")[
        "responses"]["408"]["description"]
    assert "503" in operation(document, "get", "/api/v1/contests")["responses"]
    assert "`unsupported_media_type`" in operation(document, "post", "/api/v1/contests")[
        "responses"]["415"]["description"]


def test_a_route_documents_only_statuses_it_can_answer(document: dict[str, Any]) -> None:
    """No body and no query: no 400; no token: no 401; no store: no 503."""
    assert set(operation(document, "get", "/api/v1/contests/{cid}")["responses"]) == \
        {"200", "404", "503"}
    assert set(operation(document, "get", "/metrics")["responses"]) == {"200"}


def test_the_description_links_the_asyncapi_document(document: dict[str, Any]) -> None:
    assert "(/schema/asyncapi)" in document["info"]["description"]


def test_a_refusal_has_the_documented_shape_and_status(live_server: LiveServer,
                                                       document: dict[str, Any]) -> None:
    response = httpx.post(f"{live_server.base_url}/api/v1/contests", json={}, timeout=10)
    assert response.status_code == 401
    assert set(response.json()) == {"error"}
    assert "401" in operation(document, "post", "/api/v1/contests")["responses"]
