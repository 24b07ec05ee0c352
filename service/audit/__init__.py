"""The tamper-evident record of every change to a contest (hash-chained events)."""
