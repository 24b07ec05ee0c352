"""Results: from ledger or live tallies plus locked ballots, through scoring/, to views."""
