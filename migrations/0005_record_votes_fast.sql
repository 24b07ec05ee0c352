-- record_votes, second version: the same decisions with less work per vote.
--
-- Version 1 (0002) inserted missing voter rows, locked them with SELECT … FOR UPDATE,
-- and updated the counters afterwards: three row operations per voter, plus array
-- subscripting (p_keys[i]) whose cost grows with the batch. This version:
--   * reads the batch with unnest(...) WITH ORDINALITY (linear);
--   * creates, locks and moves each voter's cap counter in ONE upsert, in voter-hash
--     order (no deadlocks), keeping the counter's value before the batch in
--     `batch_base` so each vote's position can be numbered afterwards;
--   * inserts the ledger rows with ON CONFLICT DO NOTHING. A conflict means another
--     transaction committed the same key between our duplicate check and our insert
--     (concurrent retries of one vote). That rare case raises `serialization_failure`
--     (40001) and rolls the whole batch back; the caller retries it, and the retry
--     sees the key as a duplicate.
--   * does all of it in one SQL statement (data-modifying CTEs), no temporary tables.
--
-- The outcome contract is unchanged (see 0002): one row per input vote, by position.
ALTER TABLE voters ADD COLUMN batch_base integer NOT NULL DEFAULT 0;
-- record_votes already holds the contest row (FOR SHARE) while it writes voter rows, and
-- contests are never deleted during a show: the per-row foreign-key check (about 9 µs a
-- voter, a sixth of a batch's time) buys nothing.
ALTER TABLE voters DROP CONSTRAINT voters_contest_id_fkey;

CREATE FUNCTION retry_batch_if(conflicted boolean) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    IF conflicted THEN
        RAISE EXCEPTION 'a vote of this batch was committed concurrently; retry the batch'
            USING ERRCODE = 'serialization_failure';
    END IF;
    RETURN false;
END;
$$;

CREATE OR REPLACE FUNCTION record_votes(
    p_contest   text,
    p_keys      bytea[],
    p_voters    bytea[],
    p_countries text[],
    p_entries   text[],
    p_sources   text[]
) RETURNS TABLE (idx integer, outcome text, seq integer, cap integer)
LANGUAGE plpgsql
SET enable_nestloop = off  -- batches are thousands of rows: hash joins, not loops
SET jit = off              -- compiling this plan costs far more than running it
AS $$
DECLARE
    v_state text;
    v_cap   integer;
BEGIN
    SELECT c.window_state, c.vote_cap INTO v_state, v_cap
      FROM contests c WHERE c.id = p_contest FOR SHARE;
    IF v_state IS NULL OR v_state <> 'open' THEN
        RETURN QUERY SELECT i::integer,
                            CASE WHEN v_state IS NULL THEN 'not_found' ELSE 'window_closed' END,
                            0, coalesce(v_cap, 0)
                       FROM generate_subscripts(p_keys, 1) AS i;
        RETURN;
    END IF;

    RETURN QUERY
    WITH req AS (
        SELECT t.i::integer AS i, t.k, t.v, t.c, t.e, t.s
          FROM unnest(p_keys, p_voters, p_countries, p_entries, p_sources)
               WITH ORDINALITY AS t(k, v, c, e, s, i)
    ),
    earlier AS (            -- already in the ledger from an earlier batch
        SELECT l.dedupe_key, l.voter_seq
          FROM votes l
         WHERE l.contest_id = p_contest AND l.dedupe_key = ANY (p_keys)
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
        RETURNING 1
    ),
    guard AS (
        SELECT retry_batch_if((SELECT count(*) FROM inserted)
                              <> (SELECT count(*) FROM numbered WHERE n <= v_cap)) AS ok
    )
    SELECT r.i,
           CASE
             WHEN x.dedupe_key IS NOT NULL THEN 'duplicate'
             WHEN nb.i = r.i AND nb.n <= v_cap THEN 'accepted'
             WHEN nb.i = r.i THEN 'vote_cap_reached'
             WHEN nb.n <= v_cap THEN 'duplicate'        -- repeated inside this batch
             ELSE 'vote_cap_reached'
           END,
           coalesce(x.voter_seq, least(nb.n, v_cap)::integer, 0),
           v_cap
      FROM req r
      LEFT JOIN earlier x ON x.dedupe_key = r.k
      LEFT JOIN numbered nb ON nb.k = r.k
     WHERE NOT (SELECT g.ok FROM guard g)
     ORDER BY r.i;
END;
$$;
