"""Seal and receipt endpoints (docs/api.md, "Verification").

`POST …/seal` seals now (the window must be closed and the jury locked), `GET …/seal`
shows the signed statement, and `GET …/receipts/{id}` gives a voter the sealed record of
one vote with its audit path: anyone holding the receipt can check that the vote is in
the tree whose root went on air.
"""

from __future__ import annotations

import base64
import binascii

from litestar import Controller, get, post
from litestar.status_codes import HTTP_200_OK

from service.apidocs.routes import documented
from service.core.errors import ApiError, not_found
from service.runtime import Runtime
from service.seal.models import Receipt, SealView, seal_view
from service.seal.proofs import receipt_proof
from service.security.guards import admin_only
from service.verify.records import VoteRecord, parse

RECEIPT_BYTES = 16


def receipt_bytes(receipt: str) -> bytes:
    """The 16 bytes of a receipt id (base64url without padding); 404 if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(receipt + "=" * (-len(receipt) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != RECEIPT_BYTES or len(receipt) != 22:
        raise not_found("receipt")
    return raw


def not_sealed(cid: str) -> ApiError:
    return ApiError(409, "not_sealed", f"contest {cid!r} is not sealed yet")


class SealController(Controller):
    path = "/api/v1/contests/{cid:str}"
    tags = ["verification"]

    @documented("sealLedger", {404: ["not_found"], 409: ["window_open", "jury_not_locked"]})
    @post("/seal", status_code=HTTP_200_OK, guards=[admin_only],
          summary="Seal the ledger now: Merkle root of every record, signed (admin)")
    async def seal(self, rt: Runtime, cid: str) -> SealView:
        await rt.contests.get(cid)
        row, made = await rt.sealer.seal(cid)
        if made:
            await rt.events.publish(cid, "seal")
            rt.sealer.index_later(cid)
        return seal_view(row)

    @documented("getSeal", {404: ["not_found"], 409: ["not_sealed"]})
    @get("/seal", summary="The signed seal of the contest's ledger")
    async def read(self, rt: Runtime, cid: str) -> SealView:
        await rt.contests.get(cid)
        row = await rt.seals.get(cid)
        if row is None:
            raise not_sealed(cid)
        return seal_view(row)

    @documented("getReceipt", {404: ["not_found"], 409: ["not_sealed", "record_not_sealed"]})
    @get("/receipts/{receipt:str}", summary="A vote's sealed record and its inclusion proof")
    async def receipt(self, rt: Runtime, cid: str, receipt: str) -> Receipt:
        raw = receipt_bytes(receipt)
        await rt.contests.get(cid)
        row = await rt.seals.get(cid)
        if row is None:
            raise not_sealed(cid)
        found = await rt.seals.receipt(cid, raw)
        if found is None:
            raise not_found("receipt")
        line, key = found
        index, proof = await receipt_proof(rt.seals, row, line, key)
        vote = parse(line)
        assert isinstance(vote, VoteRecord)
        return Receipt(receipt=receipt, record=line.decode(), vote=vote, leaf_index=index,
                       tree_size=row["records"], proof=[h.hex() for h in proof],
                       seal=seal_view(row))
