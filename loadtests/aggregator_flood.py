"""Aggregator flood: partners post vote batches back to back, some re-sent.

Run from the repository root (see loadtests/README.md)::

    python -m locust -f loadtests/aggregator_flood.py --headless -H $SILKVOTE_URL ...
"""

from loadtests.users import Aggregator

__all__ = ["Aggregator"]
