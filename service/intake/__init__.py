"""Audience vote intake: the hot path from a viewer's tap to a durable ledger row."""
