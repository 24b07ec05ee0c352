"""The live leaderboard: one computation per tick per contest, fanned out over websockets.

`ws.py` (the route) → `hub.py` (notices in, one scored view per tick, one frame for
every client) → `wire.py` (ready-frame writes) and `eager.py` (the ASGI fallback);
`heap.py` keeps garbage collection short while thousands of clients stay connected.
"""
