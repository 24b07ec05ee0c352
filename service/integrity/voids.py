"""Voids: a scrutineer's rule turned into votes that no longer count.

The votes stay in the ledger; the void is an append-only record (rule, reason, who,
when) and the list of the votes it covers (migrations/0009). It is also a numbered
ledger batch whose cells are negative, so:

* the official count (`ledger_counts`) leaves the votes out from the void's commit on;
* the live tallies move by the same cells through the same once-only update as a vote
  batch (`LiveTallies.add` with the void's batch number), and announce the change;
* the reconciler, comparing Redis with the ledger at a batch number, sees the void as
  one batch among others: if the tally update is lost it repairs the tallies *down*,
  and it never puts the votes back.

A void covers the votes in the ledger when it is made; votes the same rule would match
that arrive later are not void (void again, or close the window first). It is refused
once the official result is frozen, and the freeze and a void exclude each other.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import secrets
from collections import Counter

import msgspec

from service.core import metrics
from service.core.errors import ApiError, invalid_body
from service.intake.tallies import TALLY_UPDATE_TIMEOUT_S
from service.integrity.models import VoidIn, VoidOut, VoidRule
from service.integrity.repository import VoidCriteria
from service.runtime import Runtime
from service.security.credentials import network_hash

log = logging.getLogger("silkvote.integrity")


def criteria_of(rule: VoidRule, contest: str, hash_key: str) -> VoidCriteria:
    """The rule as the ledger stores it; 422 `invalid_rule` for a rule that names nothing
    or an empty time range, 400 for a network that is neither a hash nor a CIDR."""
    if not any((rule.networks, rule.tokens, rule.voters, rule.received_from,
                rule.received_until)):
        raise ApiError(422, "invalid_rule", "a void rule needs at least one criterion: "
                       "networks, tokens, voters, from or until")
    if (rule.received_from is not None and rule.received_until is not None
            and rule.received_from >= rule.received_until):
        raise ApiError(422, "invalid_rule", "rule.from must be before rule.until")
    for bound in (rule.received_from, rule.received_until):
        if bound is not None and bound.tzinfo is None:
            raise invalid_body("rule.from and rule.until need a time zone (e.g. Z)")
    return VoidCriteria(
        networks=None if rule.networks is None else [
            _network(name, contest, hash_key) for name in rule.networks],
        tokens=None if rule.tokens is None else [bytes.fromhex(t) for t in rule.tokens],
        voters=None if rule.voters is None else [bytes.fromhex(v) for v in rule.voters],
        received_from=rule.received_from, received_until=rule.received_until,
    )


def _network(name: str, contest: str, hash_key: str) -> bytes:
    if "/" not in name:
        return bytes.fromhex(name)
    try:
        ipaddress.ip_network(name, strict=False)
    except ValueError:
        raise invalid_body(f"rule.networks: {name!r} is not a network prefix") from None
    return network_hash(hash_key, contest, name)


async def void_votes(rt: Runtime, contest: str, data: VoidIn) -> VoidOut:
    """Record the void, then move the live tallies by its cells (see the module doc)."""
    criteria = criteria_of(data.rule, contest, rt.settings.voter_hash_key)
    void_id = "void-" + secrets.token_hex(6)
    actor = "admin" if data.by is None else f"admin:{data.by}"
    rule = msgspec.to_builtins(data.rule)
    done = await rt.integrity.void(contest, void_id, rule, data.reason, actor, criteria)
    if done.outcome == "not_found":
        raise ApiError(404, "not_found", f"contest {contest!r} not found")
    if done.outcome == "sealed":
        raise ApiError(409, "sealed", "the contest's ledger is sealed: no more voids")
    if done.outcome == "frozen":
        raise ApiError(409, "result_frozen",
                       "the official result is frozen (the reveal has begun): no more voids")
    log.warning("void %s of %s by %s took out %d votes (ledger batch %d): %s",
                void_id, contest, actor, done.voided, done.batch, data.reason)
    metrics.VOIDED_VOTES.inc(done.voided)
    if done.cells:
        await _move_tallies(rt, contest, done.batch, done.cells)
    assert done.at is not None
    return VoidOut(id=void_id, rule=data.rule, reason=data.reason, actor=actor,
                   at=done.at, votes=done.voided, batch=done.batch)


async def _move_tallies(rt: Runtime, contest: str, batch: int,
                        cells: list[tuple[str, str, int]]) -> None:
    """The void's batch in Redis, once; a failure is repaired by the reconciler."""
    deltas: Counter[tuple[str, str]] = Counter({(c, e): n for c, e, n in cells})
    try:
        await asyncio.wait_for(rt.tallies.add(contest, deltas, batch), TALLY_UPDATE_TIMEOUT_S)
    except Exception as exc:
        log.warning("tally update of void batch %d of %s failed (reconciler will repair): "
                    "%s", batch, contest, exc)
        metrics.TALLY_FAILURES.inc()
