"""Locust scenarios for SilkVote (see README.md). Run from the repository root."""
