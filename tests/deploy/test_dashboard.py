"""The Grafana dashboard in deploy/grafana/ imports into any Grafana (its Prometheus is an
import input, never a data source uid of ours), lays out cleanly, holds only valid
PromQL, and shows every series SilkVote exports for a show.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

import service.core.metrics  # noqa: F401  (registers the service's metrics)
from tests.deploy.observability import (
    dashboard,
    dashboard_metric_names,
    dashboard_queries,
    expand,
    metric_names,
    panels,
)

pytestmark = pytest.mark.stores_independent  # files only: run once, in the embedded pass

DATASOURCE = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
NOT_FOR_A_SHOW = {"silkvote_gc_frozen"}  # a memory-management detail (service/live/heap.py)
SAMPLE_SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"),
                   "gauge": ("",)}


@pytest.fixture(scope="module")
def board() -> dict[str, Any]:
    return dashboard()


def test_the_prometheus_data_source_is_an_import_input(board: dict[str, Any]) -> None:
    [source] = board["__inputs"]
    assert source["name"] == "DS_PROMETHEUS"
    assert (source["type"], source["pluginId"]) == ("datasource", "prometheus")
    for panel in panels(board):
        assert panel["datasource"] == DATASOURCE, panel["title"]
        for target in panel["targets"]:
            assert target["datasource"] == DATASOURCE, panel["title"]
    for variable in board["templating"]["list"]:
        assert variable["datasource"] == DATASOURCE, variable["name"]
    assert board["id"] is None and board["uid"] == "silkvote-live-show"


def test_panels_have_unique_ids_titles_and_do_not_overlap(board: dict[str, Any]) -> None:
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    taken: set[tuple[int, int]] = set()
    for panel in board["panels"]:
        assert panel["title"], panel["id"]
        box = panel["gridPos"]
        assert box["x"] + box["w"] <= 24, panel["title"]
        cells = {(x, y) for x in range(box["x"], box["x"] + box["w"])
                 for y in range(box["y"], box["y"] + box["h"])}
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells
    for panel in panels(board):
        assert panel["description"] and panel["targets"], panel["title"]


def test_every_query_of_the_dashboard_is_valid_promql(board: dict[str, Any], promtool: str,
                                                       tmp_path: Path) -> None:
    """promtool checks rule files only, so each query becomes a recording rule."""
    queries = dashboard_queries(board)
    rules = [{"record": f"dashboard:query_{n}", "expr": expand(q)}
             for n, q in enumerate(queries)]
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(queries)} rules found" in result.stdout


def test_the_dashboard_shows_every_series_the_service_exports(board: dict[str, Any]
                                                              ) -> None:
    shown = dashboard_metric_names(board)
    families = {family.name: family.type for family in REGISTRY.collect()
                if family.name.startswith("silkvote_")}
    assert len(families) > 10  # the service's metrics were found at all
    missing = [name for name, kind in families.items() if name not in NOT_FOR_A_SHOW
               and not {name + suffix for suffix in SAMPLE_SUFFIXES[kind]} & shown]
    assert not missing, f"series on no panel: {missing}"


def test_the_name_finder_reads_metric_names_not_functions_labels_or_durations() -> None:
    expr = ('histogram_quantile(0.99, sum by (le, route) (rate(a_bucket{route=~"/x|y", '
            'le!="1"}[5m] offset 1h))) > 1e3 and on () (sum(b_total) or vector(0)) == 0 '
            'unless ignoring (instance) c:recorded / bool 2')
    assert metric_names(expr) == {"a_bucket", "b_total", "c:recorded"}
