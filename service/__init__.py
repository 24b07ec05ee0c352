"""SilkVote service: the async app — API, ledger, tallies, live hub, pages, CLI."""
