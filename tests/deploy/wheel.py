"""Build SilkVote's wheel the way the image's builder stage does, for the deploy tests.

The wheel is built from a clean copy of exactly what deploy/Dockerfile copies into its
build context, never from the working tree: setuptools reuses a `build/` folder, so a
file deleted from the tree could otherwise still ride along in the wheel under test.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# What deploy/Dockerfile copies (its README.md* glob included); LICENSE when present.
SOURCES = ("pyproject.toml", "setup.py", "README.md", "LICENSE", "service", "scoring",
           "migrations")
BUILD_TIMEOUT_S = 300


def build_wheel(workdir: Path) -> Path:
    """Build the wheel into `workdir/dist` from a copy in `workdir/source`; return it."""
    source = workdir / "source"
    source.mkdir(parents=True)
    for name in SOURCES:
        path = REPO / name
        if path.is_dir():
            shutil.copytree(path, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif path.is_file():
            shutil.copy2(path, source / name)
    dist = workdir / "dist"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist),
         str(source)], capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, check=False)
    assert built.returncode == 0, built.stdout + built.stderr
    [wheel] = dist.glob("silkvote-*.whl")
    return wheel
