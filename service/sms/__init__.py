"""SMS votes through a real SMS gateway (Kannel's smsbox, or any gateway that can POST).

A viewer texts the show's number; the operator's gateway POSTs each mobile-originated
message to `POST /api/v1/contests/{cid}/sms` and sends the response body back to the
phone as the reply SMS (docs/sms.md). The pieces, one concept each:

- `choice.py`   the message text → the entry it chooses (running-order number or
                country code, forgiving of case, spaces and the phone's own digits)
- `numbers.py`  the sender's number → its E.164 form and voting country (`WW` outside
                the contest's voting countries)
- `replies.py`  the reply text for every outcome, in the sender's country's language,
                from the project's translation files
- `api.py`      the endpoint: the gateway's key, the message, the ledger

An SMS vote goes through the same ledger path as an aggregator batch
(`VoteLedger.record`, `record_votes`): caps, windows, one country per voter and
idempotency (the gateway's message id) hold exactly as for app votes, and the vote's
`channel` is `sms`.
"""
