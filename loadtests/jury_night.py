"""Jury night: the 60 jurors of the 12 jury countries submit and revise ballots.

Run from the repository root (see loadtests/README.md)::

    python -m locust -f loadtests/jury_night.py --headless -H $SILKVOTE_URL ...
"""

from loadtests.users import Juror

__all__ = ["Juror"]
