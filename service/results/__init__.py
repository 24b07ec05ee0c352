"""Results: from ledger or live tallies plus locked ballots, through scoring/, to views.

`api.py` (results, reveal, verify, stats) → `compute.py` (`ResultsReader`: counts and
ballots in, scored views out) → `sheet.py` (stored votes as a scoring sheet) and
`views.py` (what each audience may see at each phase); `repository.py` keeps the
frozen official result and the reveal position.
"""
