-- record_votes: one round trip writes a whole commit batch of audience votes.
--
-- Inside one transaction it (1) takes a share lock on the contest row, so closing the
-- window waits for in-flight batches and nothing lands after the close is acknowledged;
-- (2) creates and locks the voters' cap rows in a fixed order (no deadlocks between
-- concurrent batches); (3) drops votes whose dedupe key is already in the ledger or
-- earlier in the batch; (4) numbers each voter's new votes and accepts those within the
-- cap; (5) appends them to the ledger and moves the cap counters. Because the cap rows
-- are locked before the duplicate check, two processes racing with the same key for
-- the same voter are serialised: the second sees the first's row.
--
-- Returns one row per input vote, by 1-based position:
--   outcome  'accepted' | 'duplicate' | 'vote_cap_reached' | 'window_closed' | 'not_found'
--   seq      the voter's n-th vote this outcome refers to (0 when none), so that
--            remaining = cap - seq, also for a duplicate (the original answer).
CREATE FUNCTION record_votes(
    p_contest   text,
    p_keys      bytea[],
    p_voters    bytea[],
    p_countries text[],
    p_entries   text[],
    p_sources   text[]
) RETURNS TABLE (idx integer, outcome text, seq integer, cap integer)
LANGUAGE plpgsql AS $$
DECLARE
    v_state text;
    v_cap   integer;
BEGIN
    SELECT c.window_state, c.vote_cap INTO v_state, v_cap
      FROM contests c WHERE c.id = p_contest FOR SHARE;
    IF v_state IS NULL OR v_state <> 'open' THEN
        RETURN QUERY SELECT i, CASE WHEN v_state IS NULL THEN 'not_found' ELSE 'window_closed' END,
                            0, coalesce(v_cap, 0)
                       FROM generate_subscripts(p_keys, 1) AS i;
        RETURN;
    END IF;

    INSERT INTO voters (contest_id, voter_hash, country)
    SELECT DISTINCT ON (v) p_contest, v, c
      FROM unnest(p_voters, p_countries) AS t(v, c)
     ORDER BY v
    ON CONFLICT DO NOTHING;

    PERFORM 1 FROM voters
      WHERE contest_id = p_contest AND voter_hash = ANY (p_voters)
      ORDER BY voter_hash
      FOR UPDATE;

    RETURN QUERY
    WITH req AS (
        SELECT i, p_keys[i] AS k, p_voters[i] AS v, p_countries[i] AS c,
               p_entries[i] AS e, p_sources[i] AS s
          FROM generate_subscripts(p_keys, 1) AS i
    ),
    earlier AS (            -- already in the ledger from an earlier batch
        SELECT l.dedupe_key, l.voter_seq
          FROM votes l
         WHERE l.contest_id = p_contest AND l.dedupe_key = ANY (p_keys)
    ),
    firsts AS (             -- first occurrence of each new key in this batch
        SELECT DISTINCT ON (r.k) r.*
          FROM req r
         WHERE NOT EXISTS (SELECT 1 FROM earlier x WHERE x.dedupe_key = r.k)
         ORDER BY r.k, r.i
    ),
    numbered AS (
        SELECT f.*, vo.votes_used + row_number() OVER (PARTITION BY f.v ORDER BY f.i) AS n
          FROM firsts f
          JOIN voters vo ON vo.contest_id = p_contest AND vo.voter_hash = f.v
    ),
    inserted AS (
        INSERT INTO votes (contest_id, dedupe_key, voter_hash, voting_country, entry,
                           voter_seq, source)
        SELECT p_contest, nb.k, nb.v, nb.c, nb.e, nb.n, nb.s
          FROM numbered nb WHERE nb.n <= v_cap
        RETURNING dedupe_key, voter_hash, voter_seq
    ),
    bumped AS (
        UPDATE voters vo SET votes_used = m.top
          FROM (SELECT voter_hash, max(voter_seq) AS top FROM inserted GROUP BY voter_hash) m
         WHERE vo.contest_id = p_contest AND vo.voter_hash = m.voter_hash
        RETURNING 1
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
     ORDER BY r.i;
END;
$$;
