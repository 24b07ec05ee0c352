"""Keyed hashes of voters, networks and tokens: per contest, and per network prefix."""

from __future__ import annotations

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from service.security.credentials import (
    _keyed,
    network_hash,
    network_hasher,
    network_prefix,
    token_hasher,
    voter_hash,
)

SECRET = "test-voter-key"
ipv4 = st.integers(0, 2**32 - 1).map(lambda n: ipaddress.IPv4Address(n))
ipv6 = st.integers(0, 2**128 - 1).map(lambda n: ipaddress.IPv6Address(n))


@given(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=20))
def test_one_identity_hashes_differently_in_two_contests_and_alike_within_one(
        identity: str, contest: str) -> None:
    assert voter_hash(SECRET, contest, identity) == voter_hash(SECRET, contest, identity)
    assert voter_hash(SECRET, contest, identity) != voter_hash(SECRET, contest + "x", identity)
    assert len(voter_hash(SECRET, contest, identity)) == 32


@given(ipv4, st.integers(0, 255))
def test_addresses_of_one_ipv4_slash_24_share_a_hash_and_the_cidr_names_it(
        address: ipaddress.IPv4Address, last: int) -> None:
    neighbour = ipaddress.IPv4Address((int(address) & ~0xFF) | last)
    hasher = network_hasher(SECRET, "c1")
    network = ipaddress.ip_network(f"{address}/24", strict=False)
    assert hasher(str(address)) == hasher(str(neighbour)) == network_hash(SECRET, "c1",
                                                                          str(network))
    assert hasher(str(address)) != network_hasher(SECRET, "c2")(str(address))
    mapped = f"::ffff:{address}"  # a dual-stack socket's view of an IPv4 client
    assert hasher(mapped) == hasher(str(address))


@given(ipv6, st.integers(0, 2**80 - 1))
def test_addresses_of_one_ipv6_slash_48_share_a_hash(
        address: ipaddress.IPv6Address, host_bits: int) -> None:
    if address.ipv4_mapped is not None:
        return
    neighbour = ipaddress.IPv6Address((int(address) >> 80 << 80) | host_bits)
    hasher = network_hasher(SECRET, "c1")
    assert hasher(str(address)) == hasher(str(neighbour))
    assert network_prefix(str(address)) == str(ipaddress.ip_network(f"{address}/48",
                                                                    strict=False))


def test_neighbouring_networks_and_non_addresses_hash_apart() -> None:
    hasher = network_hasher(SECRET, "c1")
    assert hasher("203.0.113.7") != hasher("203.0.114.7")
    assert hasher("2001:db8:1::1") != hasher("2001:db8:2::1")
    assert hasher("testclient") is None and network_prefix("") is None


def test_a_token_hash_is_keyed_per_contest_and_short() -> None:
    token = "eyJ.abc"
    assert token_hasher(SECRET, "c1")(token) == token_hasher(SECRET, "c1")(token)
    assert token_hasher(SECRET, "c1")(token) != token_hasher(SECRET, "c2")(token)
    assert len(token_hasher(SECRET, "c1")(token)) == 16


@given(tokens=st.lists(st.text(min_size=1, max_size=40), min_size=1, max_size=30))
def test_a_remembered_token_hash_is_the_hash_itself(tokens: list[str]) -> None:
    """A viewer's next votes with one token take its hash from memory: it must be the
    hash the key gives, whatever tokens came between."""
    hasher = token_hasher(SECRET, "c-memo")
    fresh = _keyed(SECRET, "c-memo", "token", 16)
    for token in tokens + tokens[::-1]:
        assert hasher(token) == fresh(token.encode())
