"""`python -m tests.harness.probe DATABASE_URL REDIS_URL`: exit 0 when both answer.

`make test` uses it to decide whether to run the suite a second time against the
machine's own PostgreSQL and Redis (CI has them; a laptop may not). It lives with the
harness because only the tests need it: the shipped service has no use for it.
"""

from __future__ import annotations

import asyncio
import sys

import asyncpg

from service.stores.redis import create_redis


async def stores_answer(database_url: str, redis_url: str, timeout_s: float = 3.0) -> bool:
    try:
        conn = await asyncpg.connect(database_url, timeout=timeout_s)
        await conn.close()
        redis = create_redis(redis_url)
        try:
            await asyncio.wait_for(redis.ping(), timeout_s)
        finally:
            await redis.aclose()
    except Exception as exc:  # any failure means "not available": the caller skips
        print(f"store not answering: {exc}", file=sys.stderr)
        return False
    return True


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m tests.harness.probe DATABASE_URL REDIS_URL", file=sys.stderr)
        return 2
    return 0 if asyncio.run(stores_answer(argv[0], argv[1])) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
