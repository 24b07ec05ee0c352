"""Create a load-test contest and print `export SILKVOTE_CONTEST=…` for the shell.

    eval "$(python -m loadtests.setup_contest)"

Use it when several Locust processes (``--processes`` or master/workers) must share one
contest; otherwise each scenario creates its own on start.
"""

from __future__ import annotations

import argparse

from loadtests.common import base_url, create_contest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="server (default SILKVOTE_URL)")
    parser.add_argument("--closed", action="store_true", help="leave the voting window closed")
    args = parser.parse_args()
    contest = create_contest(base_url(args.url), "Load test", open_window=not args.closed)
    print(f"export SILKVOTE_CONTEST={contest}")


if __name__ == "__main__":
    main()
