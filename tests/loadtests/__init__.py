"""Smoke runs of the Locust scenarios and of the bench machinery (`loadtests/bench`)."""
