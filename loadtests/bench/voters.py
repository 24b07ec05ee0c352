"""The requests a phase sends: votes of fresh voters, and aggregators' batches.

Every vote must be one the service accepts (a new voter with a signed token, under
the cap, not for their own country), or the bench would measure refusals. Tokens are
signed here with the server's secret, as an app backend mints them, so a phase needs
no extra request per voter.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterator
from typing import Any

from loadtests.bench.http_client import http_request
from loadtests.bench.plan import BATCH_SIZE, CAP
from loadtests.bench.tally import LoadSpec


class VoterSource:
    """Fresh voters with signed tokens; each casts at most CAP votes (all accepted).

    Votes rotate over a ring of `RING` active voters, so one voter sends a few votes a
    second at most (well under the per-voter rate limit), as phones do.
    """

    RING = 600

    def __init__(self, spec: LoadSpec) -> None:
        from service.security.tokens import TokenSigner

        self._spec = spec
        self._signer = TokenSigner(spec.signing_secret)
        self._n = 0
        self._entries = {c: [e for e in spec.entries if e != c] for c in spec.countries}
        self._path = f"/api/v1/contests/{spec.contest}/votes"
        self._host = f"{spec.host}:{spec.port}"

    def _voter(self) -> list[Any]:
        """[token, country, votes cast so far, voter number] of a new voter."""
        from service.security.tokens import VoterClaims

        spec = self._spec
        self._n += 1
        country = spec.countries[self._n % len(spec.countries)]
        identity = f"{spec.tag}-w{spec.worker}-{self._n}-{secrets.token_hex(4)}"
        claims = VoterClaims(contest=spec.contest,
                             voter=hashlib.sha256(identity.encode()).hexdigest(),
                             country=country, exp=int(time.time()) + 3600)
        return [self._signer.sign(claims), country, 0, self._n]

    def requests(self) -> Iterator[bytes]:
        """Endless vote requests: CAP per voter, voters taking turns."""
        ring = [self._voter() for _ in range(self.RING)]
        while True:
            for slot, voter in enumerate(ring):
                token, country, cast, number = voter
                if cast >= CAP:
                    ring[slot] = voter = self._voter()
                    token, country, cast, number = voter
                entries = self._entries[country]
                voter[2] = cast + 1
                body = (f'{{"entry":"{entries[(number + cast) % len(entries)]}",'
                        f'"key":"k{cast}"}}').encode()
                yield http_request("POST", self._path, self._host, body, token)


def batch_template(spec: LoadSpec) -> bytes:
    """A 10,000-vote batch whose ids and voters carry a placeholder prefix `@@`."""
    parts = []
    for i in range(BATCH_SIZE):
        country = spec.countries[(i // CAP) % len(spec.countries)]
        entries = [e for e in spec.entries if e != country]
        parts.append(f'{{"id":"@@-{i}","voter":"@@-v{i // CAP}","country":"{country}",'
                     f'"entry":"{entries[i % len(entries)]}"}}')
    return ('{"votes":[' + ",".join(parts) + "]}").encode()
