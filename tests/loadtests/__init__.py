"""Smoke runs of the Locust scenarios and of the `silkvote bench` machinery."""
