"""What the observability tests share: the dashboard and alert files, the PromQL they
hold, the metric names those queries read.

Names are found by taking PromQL apart just enough: strings, label matchers, ranges and
grouping clauses go, and what is left that is not a function, keyword or number is a
metric name. That is all a check of "does the service export what we query" needs; the
syntax itself is left to promtool.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DASHBOARD = DEPLOY / "grafana" / "silkvote-live-show.json"
ALERTS = DEPLOY / "prometheus" / "silkvote-alerts.yml"
ALERT_TESTS = DEPLOY / "prometheus" / "silkvote-alerts.test.yml"

PROMETHEUS_OWN = {"up"}  # series Prometheus makes itself for every target
# Grafana's variables, as a Prometheus rule file would have them
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__interval": "1m", "$job": "silkvote",
                     "$instance": ".*"}

_STRING = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGE = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_OFFSET = re.compile(r"\boffset\s+-?\w+")
_NUMBER = re.compile(r"(?<![\w:])(?:0x[0-9a-fA-F]+|\d+(?:\.\d*)?(?:[eE][+-]?\d+)?)")
_IDENTIFIER = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*(?!\s*\()(?![A-Za-z0-9_:])")
_KEYWORDS = {"and", "or", "unless", "bool", "by", "without", "on", "ignoring",
             "group_left", "group_right", "offset", "inf", "nan", "start", "end"}
_LABEL_VALUES = re.compile(r"label_values\(\s*([A-Za-z_:][A-Za-z0-9_:]*)")



def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads."""
    text = _STRING.sub(" ", expr)
    text = _MATCHERS.sub(" ", text)
    text = _RANGE.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    text = _OFFSET.sub(" ", text)
    text = _NUMBER.sub(" ", text)
    return {m.group(0) for m in _IDENTIFIER.finditer(text)} - _KEYWORDS


def dashboard() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    return data


def panels(board: dict[str, Any]) -> list[dict[str, Any]]:
    """Every panel that draws something (rows only group)."""
    found = []
    for panel in board["panels"]:
        if panel["type"] == "row":
            found += panel.get("panels", [])
        else:
            found.append(panel)
    return found


def dashboard_queries(board: dict[str, Any]) -> list[str]:
    """Every PromQL expression of the panels, as Grafana sends it (variables unexpanded)."""
    return [target["expr"] for panel in panels(board) for target in panel["targets"]]


def variable_queries(board: dict[str, Any]) -> list[str]:
    queries = []
    for variable in board["templating"]["list"]:
        query = variable.get("query")
        queries.append(query["query"] if isinstance(query, dict) else str(query or ""))
    return queries


def expand(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return expr


def dashboard_metric_names(board: dict[str, Any]) -> set[str]:
    names = set().union(*(metric_names(expand(q)) for q in dashboard_queries(board)))
    for query in variable_queries(board):
        names |= set(_LABEL_VALUES.findall(query))
    return names


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
    return [rule for group in groups for rule in group["rules"]]


def alert_metric_names() -> set[str]:
    return set().union(*(metric_names(rule["expr"]) for rule in alert_rules()))
