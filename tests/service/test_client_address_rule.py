"""The chain-walking rule: the right-most X-Forwarded-For entry not added by a trusted proxy."""

from __future__ import annotations

import ipaddress
import secrets

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.core.config import ConfigError, load_settings
from service.security.client_address import ClientAddressRule, canonical, parse_networks

pytestmark = pytest.mark.stores_independent  # pure: run once, in the embedded pass

TRUSTED = ("10.0.0.0/8", "2001:db8:1::/48")
RULE = ClientAddressRule(TRUSTED)

trusted_v4 = st.builds(lambda n: str(ipaddress.IPv4Address(0x0A000000 + n)),
                       st.integers(0, 2**24 - 1))
trusted_v6 = st.builds(lambda n: str(ipaddress.IPv6Address((0x20010DB80001 << 80) + n)),
                       st.integers(0, 2**80 - 1))
trusted_hop = st.one_of(trusted_v4, trusted_v6)
outside_v4 = st.ip_addresses(v=4).filter(lambda a: not RULE.is_trusted(a)).map(str)
outside_v6 = st.ip_addresses(v=6).filter(
    lambda a: a.ipv4_mapped is None and not RULE.is_trusted(a)).map(str)
outside = st.one_of(outside_v4, outside_v6)
anything = st.one_of(outside, trusted_hop, st.text(max_size=20).filter(lambda t: "," not in t))


@given(peer=outside, forged=st.lists(anything, max_size=6))
def test_without_a_trusted_peer_the_header_is_ignored(peer: str, forged: list[str]) -> None:
    assert RULE.client(peer, forged) == str(ipaddress.ip_address(peer))
    assert ClientAddressRule(()).client(peer, forged) == str(ipaddress.ip_address(peer))


@given(forged=st.lists(anything, max_size=6), client=outside,
       proxies=st.lists(trusted_hop, max_size=4), peer=trusted_hop)
def test_the_client_is_the_right_most_entry_no_trusted_proxy_added(
        forged: list[str], client: str, proxies: list[str], peer: str) -> None:
    """Whatever the client wrote, then its address as the first proxy saw it, then each
    further trusted proxy's peer: the client's address comes out."""
    chain = [*forged, client, *proxies]
    assert RULE.client(peer, chain) == str(ipaddress.ip_address(client))


@given(forged_a=st.lists(anything, max_size=6), forged_b=st.lists(anything, max_size=6),
       client=outside, proxies=st.lists(trusted_hop, max_size=4), peer=trusted_hop)
def test_nothing_the_client_writes_changes_the_answer(
        forged_a: list[str], forged_b: list[str], client: str, proxies: list[str],
        peer: str) -> None:
    assert (RULE.client(peer, [*forged_a, client, *proxies])
            == RULE.client(peer, [*forged_b, client, *proxies]))


@given(chain=st.lists(trusted_hop, min_size=1, max_size=5), peer=trusted_hop)
def test_a_chain_of_trusted_hops_only_gives_its_left_most(chain: list[str], peer: str) -> None:
    assert RULE.client(peer, chain) == str(ipaddress.ip_address(chain[0]))


@given(garbage=st.text(max_size=12).filter(lambda t: canonical(t) is None and "," not in t),
       proxies=st.lists(trusted_hop, min_size=1, max_size=4), peer=trusted_hop)
def test_garbage_after_trusted_hops_gives_the_hop_that_passed_it_on(
        garbage: str, proxies: list[str], peer: str) -> None:
    assert RULE.client(peer, [garbage, *proxies]) == str(ipaddress.ip_address(proxies[0]))


@pytest.mark.parametrize(("spelling", "address"), [
    ("::ffff:192.0.2.1", "192.0.2.1"), (" 192.0.2.1 ", "192.0.2.1"),
    ("192.0.2.1:443", "192.0.2.1"), ("[2001:DB8::1]:8080", "2001:db8::1"),
    ("2001:0db8:0000::0001", "2001:db8::1"),
])
def test_spellings_of_one_address_are_one_client(spelling: str, address: str) -> None:
    assert RULE.client("10.0.0.1", [spelling]) == address


def test_trusted_proxies_are_validated_when_settings_load() -> None:
    assert parse_networks("10.0.0.0/8, 192.168.1.7 2001:db8::/32") == (
        "10.0.0.0/8", "192.168.1.7/32", "2001:db8::/32")
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        load_settings({"TRUSTED_PROXIES": "10.0.0.0/8, *", "ADMIN_TOKEN": secrets.token_urlsafe(32),
                       "SIGNING_SECRET": "s", "VOTER_HASH_KEY": "k", "DATA_DIR": "/tmp/x"})
