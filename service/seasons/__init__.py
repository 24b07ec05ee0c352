"""Seasons: contests grouped into rounds, and how entries go from one round to the next.

A season is a list of rounds. The first round names its contests (semi-finals, or the
first episode); each round but the last says how entries go on (`qualify`: the top N of
each contest's frozen scoreboard, ties already broken by the contest's own chain in
scoring/; `leave`: the bottom K of the episode leave). `advance` creates the next
round's contest from those frozen results (models.py, rules.py, advance.py, store.py,
api.py).
"""
