"""Who the client is: the socket peer, or what trusted proxies say it was.

Rate limits (votes, juror logins, device tokens, websocket connections), log lines
and the network prefix recorded with each vote all key on the client's address, so a
client that can choose its address can dodge every one of them, or pin them on
somebody else. `X-Forwarded-For` is written by whoever sends the request: a client
can put anything in it, and a proxy only appends the address it saw. So the header is
read from the right, and only as far as it was written by proxies we trust:

- `TRUSTED_PROXIES` (a list of CIDR ranges; default: none) names the load balancers.
- If the socket peer is not one of them, the peer is the client and the header is
  ignored. This is the default, and then this module costs a request nothing at all:
  `client_address_middleware` returns the app unchanged.
- Otherwise the header's entries are walked right to left, skipping the ones that are
  themselves trusted proxies; the first that is not is the client. An entry that is
  not an address (garbage the client sent, passed on by a trusted proxy) ends the walk:
  the client is then the hop that appended it. If every entry is trusted, the client
  is the left-most one (requests from inside the proxies' own network).

The answer replaces the ASGI scope's `client`, before routing, so every route, guard,
limiter and log line reads one address (`request.client.host`), already canonical
(`ipaddress` spelling, IPv4-mapped IPv6 as IPv4): `010.0.0.1` and `::ffff:10.0.0.1`
cannot count as other clients than `10.0.0.1`. uvicorn's own proxy-header handling is
switched off (`proxy_headers=False` in `cli/server.py`): it takes the header's first
entry from any peer in `FORWARDED_ALLOW_IPS`, the very hole this replaces.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

# ASGI's callables, spelled out here: core/config.py imports this module, and settings
# load in commands that never start the app (so never import Litestar)
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

FORWARDED_FOR = b"x-forwarded-for"
_SCOPES = frozenset({"http", "websocket"})
MAX_HOPS = 32  # entries read from the right; a longer chain is a client's padding


def parse_networks(text: str) -> tuple[str, ...]:
    """`TRUSTED_PROXIES` (comma or space separated CIDRs or addresses) as canonical
    CIDR strings; raises ValueError naming the entry that is not one."""
    networks: list[str] = []
    for raw in text.replace(",", " ").split():
        try:
            network = ipaddress.ip_network(raw, strict=False)
        except ValueError:
            raise ValueError(f"{raw!r} is not an address or a CIDR range") from None
        networks.append(str(network))
    return tuple(dict.fromkeys(networks))


def canonical(text: str) -> Address | None:
    """The address an `X-Forwarded-For` entry or a socket peer names, or None.

    Accepts `[v6]` and `[v6]:port` (RFC 7239 style, some proxies write it) and
    `v4:port`; an IPv4-mapped IPv6 address is its IPv4 address."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class ClientAddressRule:
    """The right-most address not added by a trusted proxy (see the module docstring)."""

    def __init__(self, trusted: Iterable[str]) -> None:
        self.trusted: tuple[Network, ...] = tuple(
            ipaddress.ip_network(n, strict=False) for n in trusted)
        # a process sees few distinct proxies: their verdicts are kept
        self.is_trusted = functools.lru_cache(maxsize=4096)(self._is_trusted)

    def _is_trusted(self, address: Address) -> bool:
        return any(address in network for network in self.trusted)

    def client(self, peer: str, forwarded_for: Sequence[str]) -> str:
        """The client's address, given the socket peer and the `X-Forwarded-For`
        entries in order (several headers joined, as RFC 9110 reads them)."""
        hop = canonical(peer)
        if hop is None:  # a unix socket or a test transport: nothing to walk from
            return peer
        if not self.is_trusted(hop):
            return str(hop)
        for entry in reversed(forwarded_for[-MAX_HOPS:]):
            address = canonical(entry)
            if address is None:
                break
            hop = address
            if not self.is_trusted(hop):
                break
        return str(hop)

    def rewrite(self, scope: Any) -> None:
        """Set `scope["client"]` to the client this rule finds behind the socket peer."""
        peer: Any = scope.get("client")
        if peer:
            client = self.client(peer[0], forwarded_entries(scope["headers"]))
            scope["client"] = (client, peer[1] if client == peer[0] else 0)


def client_rule(trusted: Sequence[str]) -> ClientAddressRule | None:
    """The rule for `TRUSTED_PROXIES`, or None when no proxy is trusted (the peer is then
    the client, and nothing needs rewriting)."""
    return ClientAddressRule(trusted) if trusted else None


def forwarded_entries(headers: Iterable[tuple[bytes, bytes]]) -> list[str]:
    """Every `X-Forwarded-For` entry of a request's raw headers, left to right."""
    entries: list[str] = []
    for name, value in headers:
        if name == FORWARDED_FOR:
            entries += value.decode("latin-1").split(",")
    return entries


def client_address_middleware(app: ASGIApp, trusted: Sequence[str]) -> ASGIApp:
    """`app` with the client address rewritten from trusted proxies' headers; `app`
    itself (no cost at all) when no proxy is trusted."""
    rule = client_rule(trusted)
    if rule is None:
        return app

    async def with_client_address(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in _SCOPES:
            rule.rewrite(scope)
        await app(scope, receive, send)

    return with_client_address
