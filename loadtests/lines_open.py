"""Lines open: viewers ramp up to the peak and vote (retries, cap, own country).

Run from the repository root (see loadtests/README.md)::

    python -m locust -f loadtests/lines_open.py --headless -H $SILKVOTE_URL ...
"""

from loadtests.users import Viewer

__all__ = ["Viewer"]
