"""Commands packed by hiredis say exactly what redis-py's own packing says.

The service's Redis connections pack commands with hiredis (`stores/redis.py`,
`HiredisPacking`): the bytes on the wire must not change, whatever the arguments, and
what hiredis does not take must still reach Redis (or be refused) as redis-py would.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis.asyncio.connection import Connection
from redis.exceptions import DataError

from service.stores.redis import HiredisPacking, create_redis
from tests.conftest import Stores


class FastConnection(HiredisPacking, Connection):
    pass


redis_py = Connection()  # never connected: only its packing is asked for
hiredis_packed = FastConnection()

argument = (st.text(max_size=40) | st.binary(max_size=40)
            | st.integers(min_value=-(2**80), max_value=2**80)
            | st.floats(allow_nan=False, allow_infinity=False))
command_name = st.sampled_from(["EVALSHA", "HINCRBY", "CONFIG GET", b"CLIENT SETNAME", b"GET"])


def wire(connection: Connection, *args: Any) -> bytes:
    return b"".join(bytes(part) for part in connection.pack_command(*args))


@given(name=command_name, args=st.lists(argument, max_size=30))
def test_any_command_goes_out_as_the_same_bytes(name: str | bytes, args: list[Any]) -> None:
    assert wire(hiredis_packed, name, *args) == wire(redis_py, name, *args)


def test_a_memoryview_is_packed_by_redis_py_as_before() -> None:
    value = memoryview(b"a value held in a buffer")
    assert wire(hiredis_packed, "SET", "key", value) == wire(redis_py, "SET", "key", value)


@pytest.mark.parametrize("bad", [True, None, [1], {"a": 1}])
def test_what_redis_py_refuses_is_still_refused_with_its_error(bad: Any) -> None:
    with pytest.raises(DataError):
        hiredis_packed.pack_command("SET", "key", bad)


async def test_the_services_client_packs_with_hiredis_and_talks_to_a_real_redis(
        stores: Stores) -> None:
    client = create_redis(stores.redis_url)
    key = f"silkvote-test:packing:{uuid.uuid4().hex}"
    try:
        assert issubclass(client.connection_pool.connection_class, HiredisPacking)
        script = client.register_script("return redis.call('HINCRBY', KEYS[1], ARGV[1], ARGV[2])")
        assert await script(keys=[key], args=["ключ", 41]) == 41
        assert await client.hincrby(key, "ключ", 1) == 42
        assert await client.hgetall(key) == {"ключ".encode(): b"42"}
    finally:
        await client.delete(key)
        await client.aclose()
