"""Full show: viewers, aggregators, watchers and jurors at once, while the producer opens
and closes the voting window (votes during a close must get 409 window_closed).

Run from the repository root (see loadtests/README.md)::

    python -m locust -f loadtests/full_show.py --headless -H $SILKVOTE_URL ...
"""

from loadtests.users import Aggregator, Juror, Producer, Viewer, Watcher

__all__ = ["Aggregator", "Juror", "Producer", "Viewer", "Watcher"]
