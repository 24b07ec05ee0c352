"""The AsyncAPI document of the leaderboard websocket: valid AsyncAPI 3.0.0, and what it
says is what a client receives.

The official JSON Schema of AsyncAPI 3.0.0 is vendored from npm `@asyncapi/specs`
6.11.1 (Apache-2.0, tests/data/asyncapi/) so the check runs offline.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from importlib.metadata import version
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import websockets
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from service.live.ws import (
    CLOSE_FORBIDDEN,
    CLOSE_NOT_FOUND,
    CLOSE_TOO_MANY,
    CLOSE_TOO_SLOW,
    CLOSE_TRY_AGAIN,
    CLOSE_UNAUTHORIZED,
)
from tests.conftest import LiveServer
from tests.service.helpers import open_window, voter_headers

ASYNCAPI_SCHEMA = Path(__file__).resolve().parents[1] / "data" / "asyncapi" / "asyncapi-3.0.0.json"
DOC_URI = "urn:silkvote:asyncapi"


@pytest.fixture(scope="module")
def document(live_server: LiveServer) -> dict[str, Any]:
    response = httpx.get(f"{live_server.base_url}/schema/asyncapi", timeout=10)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    return dict(response.json())


@pytest.mark.stores_independent
def test_the_document_is_valid_asyncapi_3(document: dict[str, Any]) -> None:
    schema = json.loads(ASYNCAPI_SCHEMA.read_text())
    validator = jsonschema.Draft7Validator(schema)
    assert [e.message for e in validator.iter_errors(document)] == []
    broken = {**document, "operations": {"sendStandings": {"action": "publish"}}}
    assert list(validator.iter_errors(broken)), "the schema must refuse a 2.x-style action"


@pytest.mark.stores_independent
def test_it_names_the_package_version_and_the_server_that_served_it(
        document: dict[str, Any], live_server: LiveServer) -> None:
    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["version"] == version("silkvote")
    server = document["servers"]["silkvote"]
    assert (server["protocol"], server["host"]) == ("ws", live_server.base_url.split("//")[1])


@pytest.mark.stores_independent
def test_the_channel_has_the_contest_parameter_and_both_messages(
        document: dict[str, Any]) -> None:
    channel = document["channels"]["leaderboard"]
    assert channel["address"] == "/ws/contests/{cid}/leaderboard"
    assert set(channel["parameters"]) == {"cid"}
    assert set(channel["messages"]) == {"snapshot", "update"}
    send = document["operations"]["sendStandings"]
    assert send["action"] == "send" and send["channel"] == {"$ref": "#/channels/leaderboard"}


@pytest.mark.stores_independent
def test_the_close_codes_are_the_ones_the_socket_uses(document: dict[str, Any]) -> None:
    channel = document["channels"]["leaderboard"]
    codes = {CLOSE_TOO_SLOW, CLOSE_UNAUTHORIZED, CLOSE_FORBIDDEN, CLOSE_NOT_FOUND,
             CLOSE_TOO_MANY, CLOSE_TRY_AGAIN, 1009}
    assert set(channel["x-close-codes"]) == {str(code) for code in codes}
    assert all(f"`{code}`" in channel["description"] for code in codes)


@pytest.mark.stores_independent
def test_only_a_ticket_travels_in_the_query(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert set(schemes) == {"resultsToken", "adminToken", "readToken"}
    assert all((s["type"], s["in"], s["name"]) == ("httpApiKey", "query", "ticket")
               for s in schemes.values())
    query = document["channels"]["leaderboard"]["bindings"]["ws"]["query"]
    assert set(query["properties"]) == {"ticket"}
    assert len(document["operations"]["sendStandings"]["security"]) == 3


def payload_validator(document: dict[str, Any], message: str) -> jsonschema.Validator:
    """A validator for one message's payload, resolving refs inside the document."""
    registry: Registry[Any] = Registry().with_resource(
        DOC_URI, Resource.from_contents(document, default_specification=DRAFT202012))
    payload = document["components"]["messages"][message]["payload"]
    ref = f"{DOC_URI}{payload['$ref']}"
    return jsonschema.Draft202012Validator({"$ref": ref}, registry=registry)


async def test_a_client_receives_the_messages_the_document_describes(
        document: dict[str, Any], live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.base_url, timeout=10) as api:
        cid = live_server.new_contest()
        await open_window(api, live_server, cid)
        voter = await voter_headers(api, live_server, cid, "+asyncapi", "KZ")
        url = f"{live_server.base_url.replace('http', 'ws', 1)}/ws/contests/{cid}/leaderboard"
        async with websockets.connect(url) as socket:
            snapshot = json.loads(await asyncio.wait_for(socket.recv(), 10))
            vote = await api.post(f"/api/v1/contests/{cid}/votes", headers=voter,
                                  json={"entry": "UZ", "key": uuid.uuid4().hex})
            assert vote.status_code == 201, vote.text
            update = json.loads(await asyncio.wait_for(socket.recv(), 10))
    assert (snapshot["type"], update["type"]) == ("snapshot", "update")
    assert list(payload_validator(document, "snapshot").iter_errors(snapshot)) == []
    assert list(payload_validator(document, "update").iter_errors(update)) == []
    assert list(payload_validator(document, "update").iter_errors(snapshot)), \
        "an update's payload schema must refuse a snapshot"
