-- Ledger batches: a point at which live tallies can be compared with the ledger.
--
-- Live tallies move after each commit, so while votes flow the ledger and Redis are never
-- read at the same moment; comparing them by reading twice and keeping what persists
-- failed under load (every cell moves between the reads), and a flushed Redis passed.
-- Each `record_votes` call that accepts a vote now takes its contest's next batch number
-- and records what the batch added, cell by cell. The tally update of the batch carries
-- that number into Redis atomically with its increments (service/intake/tallies.py), so
-- "the ledger up to batch S" and "the tallies of the batches Redis applied up to S" are
-- the same set of votes, whatever is still in flight above S.
--
-- Why the numbers are dense and commit in order: the number is taken by an upsert of the
-- contest's `ledger_heads` row, whose row lock is held to the commit, so batch n + 1 gets
-- its number only once batch n has committed (or rolled back, and then n is taken again).
-- Any snapshot of the ledger therefore sees exactly batches 1..head. The lock is taken
-- as the last step of the function, so batches of one contest still do all their work
-- concurrently and wait for one another only for the number and the commit: one row
-- update and one insert per batch, nothing per vote.
--
-- Votes recorded before this migration belong to no batch ("batch 0"): every comparison
-- counts them below any point.
CREATE TABLE ledger_heads (
    contest_id  text PRIMARY KEY,
    batch       bigint NOT NULL CHECK (batch >= 0)    -- the contest's last committed batch
);

-- What each batch added to the ledger: one element per (voting country, entry) cell.
-- Append-only like the votes; no foreign key (record_votes holds the contest row).
CREATE TABLE ledger_batches (
    contest_id  text NOT NULL,
    batch       bigint NOT NULL,
    countries   text[] NOT NULL,
    entries     text[] NOT NULL,
    votes       integer[] NOT NULL,
    PRIMARY KEY (contest_id, batch)
);

CREATE TRIGGER ledger_batches_append_only BEFORE UPDATE OR DELETE ON ledger_batches
    FOR EACH ROW EXECUTE FUNCTION refuse_history_rewrite();
CREATE TRIGGER ledger_batches_no_truncate BEFORE TRUNCATE ON ledger_batches
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_rewrite();

INSERT INTO ledger_heads (contest_id, batch) SELECT id, 0 FROM contests;

-- The outcome contract is 0006's, plus `batch`: the batch number of the call's accepted
-- votes on every row (0 when it accepted none). Same arguments, new result type, so the
-- function is dropped and created again, and its grant given again.
DROP FUNCTION record_votes(text, bytea[], bytea[], text[], text[], text[]);

CREATE FUNCTION record_votes(
    p_contest   text,
    p_keys      bytea[],
    p_voters    bytea[],
    p_countries text[],
    p_entries   text[],
    p_sources   text[]
) RETURNS TABLE (idx integer, outcome text, seq integer, cap integer, batch bigint)
LANGUAGE plpgsql
SET enable_nestloop = off  -- batches are thousands of rows: hash joins, not loops
SET jit = off              -- compiling this plan costs far more than running it
AS $$
DECLARE
    v_state     text;
    v_cap       integer;
    v_idx       integer[];
    v_outcomes  text[];
    v_seqs      integer[];
    v_countries text[];
    v_entries   text[];
    v_votes     integer[];
    v_batch     bigint := 0;
BEGIN
    SELECT c.window_state, c.vote_cap INTO v_state, v_cap
      FROM contests c WHERE c.id = p_contest FOR SHARE;
    IF v_state IS NULL OR v_state <> 'open' THEN
        RETURN QUERY SELECT i::integer,
                            CASE WHEN v_state IS NULL THEN 'not_found' ELSE 'window_closed' END,
                            0, coalesce(v_cap, 0), 0::bigint
                       FROM generate_subscripts(p_keys, 1) AS i;
        RETURN;
    END IF;

    -- 0006's decisions, kept in arrays rather than returned at once: the batch number is
    -- known only after the votes are written, and every row carries it.
    WITH req AS (
        SELECT t.i::integer AS i, t.k, t.v, t.c, t.e, t.s
          FROM unnest(p_keys, p_voters, p_countries, p_entries, p_sources)
               WITH ORDINALITY AS t(k, v, c, e, s, i)
    ),
    earlier AS (            -- already in the ledger from an earlier batch
        SELECT u.k AS dedupe_key, x.voter_seq
          FROM (SELECT DISTINCT r.k FROM req r) u
         CROSS JOIN LATERAL (
               SELECT l.voter_seq FROM votes l
                WHERE l.contest_id = p_contest AND l.dedupe_key = u.k
                LIMIT 1) x
    ),
    firsts AS (             -- first occurrence of each new key in this batch
        SELECT DISTINCT ON (r.k) r.*
          FROM req r LEFT JOIN earlier x ON x.dedupe_key = r.k
         WHERE x.dedupe_key IS NULL
         ORDER BY r.k, r.i
    ),
    wanted AS (             -- new votes per voter
        SELECT f.v, min(f.c) AS c, count(*)::integer AS k
          FROM firsts f GROUP BY f.v
    ),
    moved AS (              -- create, lock and move each cap counter in one upsert
        INSERT INTO voters AS vo (contest_id, voter_hash, country, votes_used, batch_base)
        SELECT p_contest, w.v, w.c, least(w.k, v_cap), 0 FROM wanted w ORDER BY w.v
        ON CONFLICT (contest_id, voter_hash) DO UPDATE
           SET batch_base = vo.votes_used,
               votes_used = least(vo.votes_used + EXCLUDED.votes_used, v_cap)
        RETURNING vo.voter_hash, vo.batch_base
    ),
    numbered AS (
        SELECT f.*, m.batch_base + row_number() OVER (PARTITION BY f.v ORDER BY f.i) AS n
          FROM firsts f JOIN moved m ON m.voter_hash = f.v
    ),
    inserted AS (
        INSERT INTO votes (contest_id, dedupe_key, voter_hash, voting_country, entry,
                           voter_seq, source)
        SELECT p_contest, nb.k, nb.v, nb.c, nb.e, nb.n, nb.s
          FROM numbered nb WHERE nb.n <= v_cap
        ON CONFLICT DO NOTHING
        RETURNING voting_country, entry
    ),
    cells AS (              -- what this batch adds to each (voting country, entry)
        SELECT ins.voting_country AS c, ins.entry AS e, count(*)::integer AS n
          FROM inserted ins GROUP BY ins.voting_country, ins.entry
    ),
    guard AS (
        SELECT retry_batch_if(coalesce((SELECT sum(cl.n) FROM cells cl), 0)
                              <> (SELECT count(*) FROM numbered WHERE n <= v_cap)) AS ok
    ),
    decided AS (
        SELECT r.i,
               CASE
                 WHEN x.dedupe_key IS NOT NULL THEN 'duplicate'
                 WHEN nb.i = r.i AND nb.n <= v_cap THEN 'accepted'
                 WHEN nb.i = r.i THEN 'vote_cap_reached'
                 WHEN nb.n <= v_cap THEN 'duplicate'        -- repeated inside this batch
                 ELSE 'vote_cap_reached'
               END AS o,
               coalesce(x.voter_seq, least(nb.n, v_cap)::integer, 0) AS s
          FROM req r
          LEFT JOIN earlier x ON x.dedupe_key = r.k
          LEFT JOIN numbered nb ON nb.k = r.k
         WHERE NOT (SELECT g.ok FROM guard g)
    )
    SELECT array_agg(d.i), array_agg(d.o), array_agg(d.s),  -- one order: sorted once, below
           (SELECT array_agg(cl.c) FROM cells cl), (SELECT array_agg(cl.e) FROM cells cl),
           (SELECT array_agg(cl.n) FROM cells cl)
      INTO v_idx, v_outcomes, v_seqs, v_countries, v_entries, v_votes
      FROM decided d;

    IF v_votes IS NOT NULL THEN  -- last, so the head's row lock is held only to the commit
        INSERT INTO ledger_heads AS h (contest_id, batch) VALUES (p_contest, 1)
        ON CONFLICT (contest_id) DO UPDATE SET batch = h.batch + 1
        RETURNING h.batch INTO v_batch;
        INSERT INTO ledger_batches (contest_id, batch, countries, entries, votes)
        VALUES (p_contest, v_batch, v_countries, v_entries, v_votes);
    END IF;

    RETURN QUERY SELECT u.i, u.o, u.s, v_cap, v_batch
                   FROM unnest(v_idx, v_outcomes, v_seqs) AS u(i, o, s) ORDER BY u.i;
END;
$$;

GRANT EXECUTE ON FUNCTION record_votes(text, bytea[], bytea[], text[], text[], text[])
    TO silkvote_app;
GRANT SELECT, INSERT, UPDATE ON ledger_heads TO silkvote_app;
GRANT SELECT, INSERT ON ledger_batches TO silkvote_app;
