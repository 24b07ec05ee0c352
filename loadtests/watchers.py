"""Watchers: websocket subscribers measuring how fast the leaderboard moves.

Run from the repository root (see loadtests/README.md)::

    python -m locust -f loadtests/watchers.py --headless -H $SILKVOTE_URL ...
"""

from loadtests.users import Watcher

__all__ = ["Watcher"]
