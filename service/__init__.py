"""SilkVote service: the async app that takes votes and ballots and shows the result.

Read it from the outside in: `app.py` (routes and lifespan) and `runtime.py` (what a
process holds), then one feature package per concept — `intake/` (a vote's path),
`results/`, `live/`, `jury/`, `contests/` — standing on `core/`, `stores/`,
`security/` and `audit/`; `ops/` and `cli/` are for operators, `web/` for people.
docs/architecture.md draws the path of one vote and of one leaderboard update.
"""
