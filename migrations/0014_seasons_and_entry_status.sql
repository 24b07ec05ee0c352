-- Seasons and rounds (a season groups contests; a round says how entries go on), and an
-- entry's status: a disqualified entry stays in the contest and its votes in the ledger,
-- but it counts for no one (scoring/disqualify.py). Every change is an audit event.

ALTER TABLE entries ADD COLUMN status text NOT NULL DEFAULT 'in'
    CHECK (status IN ('in', 'disqualified'));
ALTER TABLE entries ADD COLUMN status_reason text NOT NULL DEFAULT '';

CREATE TABLE seasons (
    id              text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name            text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);

-- The rounds in order. `advance` (jsonb) is how entries go from this round's contests to
-- the next round: {"qualify": N} (top N of each contest) or {"leave": K} (bottom K of
-- the episode leave); NULL for the last round. `contests` are the round's contests, in
-- the order their qualifiers keep in the next round's default running order.
CREATE TABLE season_rounds (
    season_id       text NOT NULL REFERENCES seasons(id) ON DELETE CASCADE,
    position        integer NOT NULL CHECK (position >= 0),
    name            text NOT NULL,
    advance         jsonb,
    contests        text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (season_id, position)
);

GRANT SELECT, INSERT, UPDATE ON seasons, season_rounds TO silkvote_app;
