"""``python -m scoring SHEET.json`` — see :mod:`scoring.cli`."""

import sys

from scoring.cli import main

sys.exit(main())
