"""A real SilkVote on real stores for tests and benchmarks; nothing mocked."""
