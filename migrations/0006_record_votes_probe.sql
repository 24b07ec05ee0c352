-- record_votes, third version: the duplicate check probes the ledger key by key.
--
-- Versions 1 and 2 found earlier votes with `dedupe_key = ANY (p_keys)`. How PostgreSQL
-- runs that depends on statistics, and a contest's ledger partitions have none when it
-- matters: they are created empty before the show, fill within minutes, and autovacuum
-- analyzes them at most once a minute (never, where it is switched off). Planned against
-- "a few rows", the check became a scan of the whole contest partition with the keys as
-- a filter, so every batch got slower as the show went on: on a partition of 6,600
-- votes a 44-vote batch took 10-45 ms instead of 2-3 ms, and a 10,000-vote batch 20 s.
--
-- This version looks each distinct key up on its own (a LATERAL subquery that cannot be
-- flattened into a join). The only sensible plan for that is the primary-key index, and
-- run-time partition pruning sends each probe to the one hash partition that can hold the
-- key, whatever the statistics say. Everything else is unchanged from 0005.
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
