"""Every error a route answered while the suite ran is one its OpenAPI operation lists.

The server counts each request it serves in
`silkvote_http_request_seconds_count{method, route, status}`, where `route` is the
route's template. At the end of the session `tests/conftest.py` reads the session
server's `/metrics` and its `/schema/openapi.json` (before stopping it) and fails with
every (method, route, status) of a 4xx or 5xx that the operation does not document.
The suite, schemathesis included (`tests/reliability/test_schema_fuzz.py`), is then the
evidence for the document, and a route that learns a new refusal must say so.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, NamedTuple

import httpx
from prometheus_client.parser import text_string_to_metric_families

REQUESTS_FAMILY = "silkvote_http_request_seconds"
# CORS preflights are answered by Litestar's CORS middleware for any path, not by an
# operation, and OpenAPI has no place for them.
NOT_OPERATIONS = {"OPTIONS"}


class Served(NamedTuple):
    method: str
    route: str  # as OpenAPI writes it: /api/v1/contests/{cid}
    status: int

    def __str__(self) -> str:
        return f"{self.method} {self.route} → {self.status}"


def openapi_template(route: str) -> str:
    """`/api/v1/contests/{cid:str}` (Litestar's template) → `/api/v1/contests/{cid}`."""
    return re.sub(r"\{(\w+):[^}]*\}", r"{\1}", route)


def errors_served(metrics_text: str) -> set[Served]:
    """The (method, route, status) of every 4xx/5xx the metrics have counted."""
    seen: set[Served] = set()
    for family in text_string_to_metric_families(metrics_text):
        if family.name != REQUESTS_FAMILY:
            continue
        for sample in family.samples:
            status = sample.labels.get("status", "")
            if (sample.name == f"{REQUESTS_FAMILY}_count" and sample.value > 0
                    and status.isdigit() and int(status) >= 400):
                seen.add(Served(sample.labels["method"],
                                openapi_template(sample.labels["route"]), int(status)))
    return seen


def undocumented(errors: Iterable[Served], openapi: dict[str, Any]) -> list[Served]:
    """The errors whose operation does not list their status.

    Routes outside the document (the pages, static files, the schema URLs, URLs no
    route matched) are not API operations and are left out. A 405 for a method the
    path does not have is HTTP's answer, not an operation's, and is left out too.
    """
    missing: list[Served] = []
    for error in sorted(errors):
        path_item = openapi["paths"].get(error.route)
        if path_item is None or error.method in NOT_OPERATIONS:
            continue
        operation = path_item.get(error.method.lower())
        if operation is None:
            if error.status != 405:
                missing.append(error)
            continue
        if str(error.status) not in operation.get("responses", {}):
            missing.append(error)
    return missing


def undocumented_errors_of(base_url: str) -> list[Served]:
    """Read a running server's metrics and document; what it answered but does not list."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        metrics = client.get("/metrics")
        metrics.raise_for_status()
        openapi = client.get("/schema/openapi.json")
        openapi.raise_for_status()
    return undocumented(errors_served(metrics.text), openapi.json())


def report(missing: list[Served]) -> str:
    lines = "\n".join(f"  {error}" for error in missing)
    return ("errors the server answered during this session that their OpenAPI operation "
            "does not document (add them to the route's @documented errors, "
            f"service/apidocs/routes.py):\n{lines}")
