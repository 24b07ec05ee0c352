"""The live leaderboard: one computation per tick per contest, fanned out over websockets."""
