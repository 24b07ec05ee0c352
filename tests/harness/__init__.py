"""A real SilkVote on real stores for tests and benchmarks; nothing mocked.

The test suite, the fault rig, the cluster tests and the benchmark all need the same
thing: PostgreSQL and Redis with the schema applied, and `silkvote serve` running on
them as it runs in production (its own process, its own workers, a real port). Built
once here, a fix to start-up or clean-up reaches every one of them, and a figure the
bench reports comes from the same server the tests check.

- `stores`: embedded PostgreSQL and Valkey in a folder, or the machine's servers (with
  a fresh database per run) when DATABASE_URL and REDIS_URL are set.
- `server`: a `silkvote serve` subprocess on a free port, its log, its health, its stop.
- `probe`: whether the machine's servers answer (decides `make test`'s external pass).
- `replicated_postgres`: a PostgreSQL primary with a synchronous standby (the service's
  own pair) and Valkey, and the kill of the primary, for the ledger failover drill.
- `sentinel`: a Valkey primary, a replica and three Sentinels, for the failover drill.
- `waiting`: poll a condition until a deadline instead of sleeping a fixed time.
"""
