"""The benchmark: throughput and latency of the real service on this machine.

A figure only means something on real stores and a real server, so the bench starts
them with the test harness (`tests/harness`: the machine's PostgreSQL and Redis in a
fresh database when DATABASE_URL and REDIS_URL are set, else embedded ones) and drives
`silkvote serve` over real sockets. General-purpose load tools spend more CPU per
request than the service does, and here they share its cores, so the generator is
written for the job: raw HTTP/1.1 keep-alive and websocket clients on asyncio
protocols (uvloop when installed), in processes of their own. Hosts of one size differ
by several times, so every figure is read next to `/healthz` of the same server under
the same generator and concurrency, and compares across machines as a ratio. A fast
figure is worth nothing if votes were lost, so each run ends by checking the ledger
against every acknowledged vote and the live tallies against the ledger.

Modules: `plan` (how hard), `http_client` and `ws_client` (the raw clients), `tally`
(what the generator processes are told and report), `voters` (the requests), `load`
(the loops), `sampling` (/proc CPU and memory), `stats`, `phases` (results),
`runner` (the run), `plots`, `report`, `history` (earlier runs), `__main__` (options).
"""
