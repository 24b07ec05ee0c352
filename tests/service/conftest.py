"""Fixtures of the modules that drive a `tally_world.World`: a quiet ledger of the
module's own (no server reconciles it) and the run's Redis. A module that needs another
pool or Redis defines its own, which pytest prefers (test_ledger_batches.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from service.stores.redis import create_redis
from tests.conftest import Stores
from tests.service.tally_world import quiet_pool


@pytest.fixture(scope="module")
async def pool(stores: Stores) -> AsyncIterator[asyncpg.Pool]:
    async with quiet_pool(stores.database_url) as opened:
        yield opened


@pytest.fixture(scope="module")
async def redis(stores: Stores) -> AsyncIterator[Any]:
    client = create_redis(stores.redis_url)
    yield client
    await client.aclose()
