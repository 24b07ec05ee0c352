"""The bench's regression guard: a run fails when votes per busy core fall more than 15 %
below the baseline recorded for its host class, and only then."""

from __future__ import annotations

from pathlib import Path

import pytest

from loadtests.bench.guard import TOLERANCE, judge, record_baseline

FACTS = {"cores": "2", "cpu": "Example CPU @ 2.0GHz", "commit": "abc1234",
         "date": "2026-12-01 12:00 UTC"}
pytestmark = pytest.mark.stores_independent


def headline(service_us: float, postgres_us: float = 40.0, redis_us: float = 10.0) -> dict:
    return {"cpu_per_vote_us": {"service": service_us, "postgres": postgres_us,
                                "redis": redis_us}}


def test_a_run_without_a_baseline_passes_and_says_how_to_record_one(tmp_path: Path) -> None:
    verdict = judge(headline(150), FACTS, tmp_path / "baselines.json")
    assert verdict is not None and verdict.ok and verdict.baseline is None
    assert "--record-baseline" in verdict.line()


def test_a_run_more_than_15_percent_below_its_host_class_baseline_fails(tmp_path: Path) -> None:
    path = tmp_path / "baselines.json"
    record_baseline(headline(150), FACTS, path)  # 1e6 / 200 µs = 5,000 votes/s per core
    slower = 200 / (1 - TOLERANCE) * 1.01 - 50  # a little past the 15 % allowance
    verdict = judge(headline(slower), FACTS, path)
    assert verdict is not None and not verdict.ok
    assert "FAILED" in verdict.line()


def test_a_run_within_15_percent_of_the_baseline_passes(tmp_path: Path) -> None:
    path = tmp_path / "baselines.json"
    record_baseline(headline(150), FACTS, path)
    within = 200 / (1 - TOLERANCE) * 0.99 - 50
    verdict = judge(headline(within), FACTS, path)
    assert verdict is not None and verdict.ok


def test_baselines_are_kept_per_host_class(tmp_path: Path) -> None:
    path = tmp_path / "baselines.json"
    record_baseline(headline(150), FACTS, path)
    other_host = FACTS | {"cpu": "Another CPU"}
    verdict = judge(headline(1000), other_host, path)
    assert verdict is not None and verdict.baseline is None and verdict.ok
