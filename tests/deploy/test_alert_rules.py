"""The alert rules in deploy/prometheus/ load in Prometheus, behave as their unit tests
say, and give on-call what they need: what is wrong, where to look, and no page for a
blip (every alert waits a `for:` duration).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy.observability import ALERT_TESTS, ALERTS, alert_rules

pytestmark = pytest.mark.stores_independent  # files only: run once, in the embedded pass

SHOW_ALERTS = {
    "SilkVoteLedgerWriteFailures", "SilkVoteHighErrorRate", "SilkVoteTallyDriftNotRepaired",
    "SilkVoteVoteLatencyHigh", "SilkVoteWebsocketDrops", "SilkVoteNoVotesWhileWindowOpen",
    "SilkVoteInstanceDown",
}
DURATION = re.compile(r"^(\d+[smhd])+$")


def _promtool(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([tool, *args], capture_output=True, text=True, timeout=120,
                          check=False)


def test_promtool_accepts_the_alert_rules(promtool: str) -> None:
    result = _promtool(promtool, "check", "rules", str(ALERTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in result.stdout


def test_the_alerts_fire_and_stay_silent_as_their_unit_tests_say(promtool: str) -> None:
    result = _promtool(promtool, "test", "rules", str(ALERT_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_promtool_catches_a_broken_rule(promtool: str, tmp_path: Path) -> None:
    """Guard against a check that accepts everything."""
    broken = tmp_path / "broken.yml"
    broken.write_text("groups: [{name: x, rules: [{alert: X, expr: 'sum(rate(x[5m])'}]}]\n")
    assert _promtool(promtool, "check", "rules", str(broken)).returncode != 0


def test_the_unit_tests_see_at_least_two_alerts_fire_and_stay_silent() -> None:
    cases = [case for test in yaml.safe_load(ALERT_TESTS.read_text())["tests"]
             for case in test["alert_rule_test"]]
    fired = {case["alertname"] for case in cases if case["exp_alerts"]}
    silent = {case["alertname"] for case in cases if not case["exp_alerts"]}
    assert len(fired & silent) >= 2, (fired, silent)
    assert fired <= {rule["alert"] for rule in alert_rules()}


def test_the_alerts_cover_what_goes_wrong_during_a_show() -> None:
    names = {rule["alert"] for rule in alert_rules()}
    assert names >= SHOW_ALERTS, SHOW_ALERTS - names


@pytest.mark.parametrize("rule", alert_rules(), ids=lambda rule: rule["alert"])
def test_each_alert_says_what_is_wrong_and_waits_before_paging(rule: dict[str, object]
                                                               ) -> None:
    assert DURATION.match(str(rule["for"])) and str(rule["for"]) != "0s", rule["for"]
    labels = rule["labels"]
    assert isinstance(labels, dict) and labels["severity"] in ("warning", "critical")
    annotations = rule["annotations"]
    assert isinstance(annotations, dict)
    assert len(annotations["summary"]) > 10
    assert len(annotations["description"]) > len(annotations["summary"])
