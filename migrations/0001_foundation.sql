-- SilkVote foundation schema: contests and their parts, credentials, the vote ledger,
-- jury ballots and the audit trail. Secrets and voter identities are stored only as hashes.

CREATE TABLE contests (
    id              text PRIMARY KEY CHECK (id ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    name            text NOT NULL,
    rules           jsonb NOT NULL,           -- the scoring rules (scoring-io.md), validated by scoring/
    vote_cap        integer NOT NULL CHECK (vote_cap > 0),
    jury_size       integer NOT NULL CHECK (jury_size >= 0),
    jury_min_valid  integer NOT NULL DEFAULT 3 CHECK (jury_min_valid >= 0),
    window_state    text NOT NULL DEFAULT 'closed' CHECK (window_state IN ('open', 'closed')),
    jury_locked_at  timestamptz,
    revealed        integer NOT NULL DEFAULT 0 CHECK (revealed >= 0),
    results_frozen_at timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE entries (
    contest_id      text NOT NULL REFERENCES contests(id) ON DELETE CASCADE,
    country         text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    running_order   integer NOT NULL CHECK (running_order > 0),
    artist          text NOT NULL DEFAULT '',
    song            text NOT NULL DEFAULT '',
    PRIMARY KEY (contest_id, country),
    UNIQUE (contest_id, running_order)
);

CREATE TABLE voting_countries (
    contest_id      text NOT NULL REFERENCES contests(id) ON DELETE CASCADE,
    country         text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    position        integer NOT NULL,         -- announcement order of its jury set
    PRIMARY KEY (contest_id, country)
);

-- Every opening and closing of the audience window, for the record.
CREATE TABLE window_events (
    id              bigserial PRIMARY KEY,
    contest_id      text NOT NULL REFERENCES contests(id) ON DELETE CASCADE,
    state           text NOT NULL CHECK (state IN ('open', 'closed')),
    at              timestamptz NOT NULL DEFAULT now()
);

-- Per-voter cap counters: the cap decision is made here, inside the ledger transaction.
CREATE TABLE voters (
    contest_id      text NOT NULL REFERENCES contests(id) ON DELETE CASCADE,
    voter_hash      bytea NOT NULL,           -- keyed hash of the upstream identity
    country         text NOT NULL,
    votes_used      integer NOT NULL DEFAULT 0 CHECK (votes_used >= 0),
    PRIMARY KEY (contest_id, voter_hash)
);

-- The ledger: one row per accepted audience vote. Append-only; partitioned by contest
-- (one partition is created with each contest) so it can be distributed later.
CREATE TABLE votes (
    contest_id      text NOT NULL,
    dedupe_key      bytea NOT NULL,           -- hash of (voter, idempotency key) or (aggregator, vote id)
    voter_hash      bytea NOT NULL,
    voting_country  text NOT NULL,
    entry           text NOT NULL,
    voter_seq       integer NOT NULL,         -- this vote is the voter's n-th: retries answer `remaining`
    source          text NOT NULL,            -- 'app' or the aggregator key id
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (contest_id, dedupe_key)
) PARTITION BY LIST (contest_id);

CREATE TABLE votes_default PARTITION OF votes DEFAULT;

CREATE TABLE aggregator_keys (
    id              text PRIMARY KEY,
    contest_id      text NOT NULL REFERENCES contests(id) ON DELETE CASCADE,
    name            text NOT NULL,
    key_hash        bytea NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz
);

CREATE TABLE jurors (
    id              text PRIMARY KEY,
    contest_id      text NOT NULL REFERENCES contests(id) ON DELETE CASCADE,
    country         text NOT NULL,
    name            text NOT NULL,
    code_hash       bytea NOT NULL,           -- one-time access code, hashed
    code_used_at    timestamptz,
    session_nonce   text,                     -- the device session the code was exchanged for
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jurors_by_contest ON jurors (contest_id, country);

-- Ballots are append-only: a juror's revision adds a row; the latest row per juror is
-- their ballot. Earlier versions stay for the scrutineer.
CREATE TABLE ballots (
    id              bigserial PRIMARY KEY,
    contest_id      text NOT NULL REFERENCES contests(id) ON DELETE CASCADE,
    juror_id        text NOT NULL REFERENCES jurors(id) ON DELETE CASCADE,
    ranking         jsonb NOT NULL,           -- entry countries, best first
    ballot_hash     text NOT NULL,            -- sha256 of the canonical ballot
    submitted_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ballots_latest ON ballots (contest_id, juror_id, id DESC);

CREATE TABLE audit_events (
    id              bigserial PRIMARY KEY,
    contest_id      text,
    actor           text NOT NULL,            -- 'admin', 'juror:<id>', 'aggregator:<id>', 'system'
    kind            text NOT NULL,
    detail          jsonb NOT NULL DEFAULT '{}'::jsonb,
    prev_hash       text,
    event_hash      text,
    at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_events_by_contest ON audit_events (contest_id, id);
