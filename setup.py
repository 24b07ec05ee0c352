"""The one thing pyproject.toml cannot say: ship the top-level `migrations/` inside the
package.

The repository keeps its SQL in `migrations/` (the layout is fixed; the tests, the bench
and the image read it there). An installed SilkVote must find the same files without a
checkout, so the wheel maps that folder to the package `service.migrations` (setuptools'
`package_dir`, which pyproject.toml accepts only beside a hand-written list of every
package). `service.core.config.shipped_migrations` finds it with `importlib.resources`.
Everything else (metadata, dependencies, package data) is in pyproject.toml.
"""

from setuptools import find_namespace_packages, setup

setup(
    packages=[*find_namespace_packages(include=["service*", "scoring*"],
                                       exclude=["*.__pycache__"]), "service.migrations"],
    package_dir={"service.migrations": "migrations"},
)
