"""Default Locust file: the full show (every user class). Scenario files beside it run
one part each: lines_open, aggregator_flood, watchers, jury_night, full_show."""

from loadtests.full_show import Aggregator, Juror, Producer, Viewer, Watcher

__all__ = ["Aggregator", "Juror", "Producer", "Viewer", "Watcher"]
