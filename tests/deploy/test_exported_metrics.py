"""Every metric the dashboard and the alert rules read is one the service really exports:
a renamed or never-recorded series would leave a panel empty or an alert silent, and
nothing else would notice before a show.

The live server is scraped after a vote, an aggregator batch and a websocket client, so
the labelled series that appear only once something happened are there too.
"""

from __future__ import annotations

import uuid

import httpx
import websockets
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import LiveServer
from tests.deploy.observability import (
    PROMETHEUS_OWN,
    alert_metric_names,
    dashboard,
    dashboard_metric_names,
)
from tests.harness.waiting import eventually
from tests.service.helpers import aggregator_headers, open_window, voter_headers

RECONCILED_WITHIN_S = 15.0  # test servers reconcile every second (RECONCILE_INTERVAL_S=1)


def exported(text: str) -> set[str]:
    """The sample names of one scrape: `x_total`, `h_bucket`, `h_count`, `h_sum`, `g`…"""
    return {sample.name for family in text_string_to_metric_families(text)
            for sample in family.samples}


async def test_every_metric_the_dashboard_and_the_alerts_read_is_exported(
        live_server: LiveServer, api: httpx.AsyncClient) -> None:
    cid = live_server.new_contest()
    await open_window(api, live_server, cid)
    voter = await voter_headers(api, live_server, cid, "+" + uuid.uuid4().hex[:10], "KZ")
    r = await api.post(f"/api/v1/contests/{cid}/votes",
                       json={"entry": "UZ", "key": uuid.uuid4().hex}, headers=voter)
    assert r.status_code == 201, r.text
    partner = await aggregator_headers(api, live_server, cid)
    r = await api.post(f"/api/v1/contests/{cid}/votes/batch", headers=partner, json={
        "votes": [{"id": "1", "voter": "+1", "country": "KZ", "entry": "UZ"}]})
    assert r.status_code == 200, r.text
    ws = live_server.base_url.replace("http", "ws", 1) + f"/ws/contests/{cid}/leaderboard"
    async with websockets.connect(ws) as socket:
        await socket.recv()  # the snapshot
        read = dashboard_metric_names(dashboard()) | alert_metric_names()
        assert len(read) > 10  # the names were found at all

        async def missing() -> set[str]:
            scrape = await api.get("/metrics")
            return read - exported(scrape.text) - PROMETHEUS_OWN

        # the reconciler's series appear with its first pass over the open window
        await eventually(missing, RECONCILED_WITHIN_S,
                         "every series the dashboard and the alerts read on /metrics",
                         ok=lambda names: not names)
