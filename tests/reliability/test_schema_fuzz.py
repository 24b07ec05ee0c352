"""Bad input over the whole OpenAPI document: never a 5xx, every 4xx in the error shape.

Schemathesis generates requests from `/schema/openapi.json` (coverage + fuzzing phases,
deterministic); the HAR file it writes is then checked response by response.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import LiveServer

EXAMPLES = os.environ.get("SCHEMA_FUZZ_EXAMPLES", "5")


def error_shaped(text: str) -> bool:
    try:
        body = json.loads(text)
    except ValueError:
        return False
    return (isinstance(body, dict) and set(body) == {"error"}
            and set(body["error"]) == {"code", "message"})


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("schemathesis", path=str(Path(sys.executable).parent)) is None,
                    reason="schemathesis is not installed (pip install -e '.[dev]')")
def test_generated_requests_never_get_5xx_and_every_4xx_has_the_error_body(
        live_server: LiveServer, tmp_path: Path) -> None:
    har = tmp_path / "schemathesis.har"
    command = [str(Path(sys.executable).parent / "schemathesis"), "run",
               f"{live_server.base_url}/schema/openapi.json", "-c", "not_a_server_error",
               "-n", EXAMPLES, "--phases", "coverage,fuzzing", "--generation-deterministic",
               "-H", f"Authorization: Bearer {live_server.admin_token}",
               "--report", "har", "--report-har-path", str(har)]
    run = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-4000:]
    entries = json.loads(har.read_text())["log"]["entries"]
    assert len(entries) > 200
    refusals = [e for e in entries if e["response"]["status"] >= 400]
    malformed = [(e["response"]["status"], e["request"]["method"], e["request"]["url"])
                 for e in refusals
                 if not error_shaped(e["response"]["content"].get("text", ""))]
    assert not malformed, malformed[:5]
    assert all(e["response"]["status"] < 500 for e in entries)
