-- record_votes, fifth version: the duplicate lookup keeps its plan.
--
-- 0008 planned the lookup of the keys already in the ledger anew on every call
-- (EXECUTE … %L, the contest's id a constant, so that a batch locks only its own
-- contest's partitions: tests/service/test_ledger_locks.py). That planning was about a
-- tenth of PostgreSQL's CPU per call at the 8-24 votes of a group commit: a scratch run
-- of 300 calls of 24 votes, alternating, gave 1,467 µs per call against 1,317 µs with
-- the lookup below (loadtests/bench/ledger_calls.py measures it).
--
-- Now each contest has a lookup function of its own, made with its ledger partition,
-- with the contest's id written in as a constant: PL/pgSQL keeps its plan for the
-- session, and that plan still names only this contest's partitions. record_votes
-- finds it by name (a hash of the contest id, so no table read is needed), and the
-- statement it plans per call is one function call. Everything else in record_votes is
-- 0008's, unchanged.

-- The lookup's name for a contest: md5 keeps it inside PostgreSQL's 63 bytes for any id.
CREATE FUNCTION ledger_key_lookup_name(p_contest text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT 'ledger_keys_' || md5(p_contest);
$$;

-- A contest's lookup: for each distinct key, the ledger's row if it holds one (one
-- primary-key probe per key, as in 0008, whatever the statistics say). STABLE: it reads
-- only, in the caller's snapshot; no SET clause (that would cost a GUC save and restore
-- per call), the table named with its schema instead. The id is quoted (%L), so no id
-- can smuggle SQL in.
CREATE FUNCTION create_ledger_key_lookup(p_contest text) RETURNS void
LANGUAGE plpgsql AS $maker$
BEGIN
    EXECUTE format($f$
        CREATE OR REPLACE FUNCTION %I(p_keys bytea[], OUT k bytea[], OUT s integer[],
                                      OUT rc bytea[])
        LANGUAGE plpgsql STABLE AS $body$
        BEGIN
            SELECT array_agg(x.k), array_agg(x.s), array_agg(x.rc) INTO k, s, rc
              FROM (SELECT DISTINCT u.k FROM unnest(p_keys) AS u(k)) u
             CROSS JOIN LATERAL (
                   SELECT l.dedupe_key AS k, l.voter_seq AS s, l.receipt AS rc
                     FROM public.votes l WHERE l.contest_id = %L AND l.dedupe_key = u.k
                    LIMIT 1) x;
        END;
        $body$
        $f$, ledger_key_lookup_name(p_contest), p_contest);
END;
$maker$;

-- 0010's partition maker, now also making the contest's lookup.
CREATE OR REPLACE FUNCTION create_ledger_partition(p_contest text, p_name text,
                                                   p_parts integer)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM contests WHERE id = p_contest) THEN
        RAISE EXCEPTION 'contest % does not exist', p_contest USING ERRCODE = 'no_data_found';
    END IF;
    IF p_name !~ '^votes_[a-z0-9_]{1,52}$' OR p_parts NOT BETWEEN 1 AND 64 THEN
        RAISE EXCEPTION 'bad ledger partition % (%)', p_name, p_parts
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    EXECUTE format('CREATE TABLE %I PARTITION OF votes FOR VALUES IN (%L) '
                   'PARTITION BY HASH (dedupe_key)', p_name, p_contest);
    EXECUTE format('CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON %I '
                   'FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_rewrite()', p_name);
    EXECUTE format('ALTER TABLE %I ENABLE ALWAYS TRIGGER ledger_no_truncate', p_name);
    FOR i IN 0 .. p_parts - 1 LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF %I '
                       'FOR VALUES WITH (MODULUS %s, REMAINDER %s)',
                       p_name || '_h' || i, p_name, p_parts, i);
        EXECUTE format('CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON %I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_rewrite()',
                       p_name || '_h' || i);
        EXECUTE format('ALTER TABLE %I ENABLE ALWAYS TRIGGER ledger_no_truncate',
                       p_name || '_h' || i);
    END LOOP;
    PERFORM create_ledger_key_lookup(p_contest);
END;
$$;

-- Every contest there is gets its lookup (one without a partition of its own reads
-- the default partition through it, as before).
SELECT create_ledger_key_lookup(id) FROM contests;

CREATE OR REPLACE FUNCTION record_votes(
    p_contest    text,
    p_keys       bytea[],
    p_voters     bytea[],
    p_countries  text[],
    p_entries    text[],
    p_sources    text[],
    p_channels   text[],          -- NULL: every vote 'app'; a NULL element: 'app'
    p_receipts   bytea[],         -- one fresh receipt per vote, kept if it is accepted
    p_nets       bytea[],         -- NULL for batches
    p_tokens     bytea[],         -- NULL for batches
    p_aggregator text DEFAULT NULL  -- the key id of an aggregator batch
) RETURNS TABLE (idx integer, outcome text, seq integer, cap integer, batch bigint,
                 receipt bytea)
LANGUAGE plpgsql
SET enable_nestloop = off  -- batches are thousands of rows: hash joins, not loops
SET jit = off              -- compiling this plan costs far more than running it
SET plan_cache_mode = force_generic_plan  -- planned once per connection (0008)
AS $$
DECLARE
    v_state     text;
    v_cap       integer;
    v_closes    timestamptz;
    v_refusal   text;
    v_idx       integer[];
    v_outcomes  text[];
    v_seqs      integer[];
    v_receipts  bytea[];
    v_countries text[];
    v_entries   text[];
    v_votes     integer[];
    v_batch     bigint := 0;
    v_seen_keys bytea[];
    v_seen_seqs integer[];
    v_seen_rcs  bytea[];
BEGIN
    SELECT c.window_state, c.vote_cap, c.closes_at INTO v_state, v_cap, v_closes
      FROM contests c WHERE c.id = p_contest FOR SHARE;
    IF v_state IS NULL THEN
        v_refusal := 'not_found';
    ELSIF v_state <> 'open' OR clock_timestamp() > v_closes THEN
        v_refusal := 'window_closed';
    ELSIF p_aggregator IS NOT NULL THEN
        PERFORM 1 FROM aggregator_keys a
          WHERE a.id = p_aggregator AND a.contest_id = p_contest AND a.revoked_at IS NULL
            FOR SHARE;
        IF NOT FOUND THEN
            v_refusal := 'key_revoked';
        END IF;
    END IF;
    IF v_refusal IS NOT NULL THEN
        RETURN QUERY SELECT i::integer, v_refusal, 0, coalesce(v_cap, 0), 0::bigint,
                            NULL::bytea
                       FROM generate_subscripts(p_keys, 1) AS i;
        RETURN;
    END IF;

    -- The keys already in the ledger: the contest's own lookup (above), its plan kept
    -- for the session; only naming it is planned here, a statement of one function call.
    EXECUTE format('SELECT k, s, rc FROM %I($1)', ledger_key_lookup_name(p_contest))
       INTO v_seen_keys, v_seen_seqs, v_seen_rcs USING p_keys;

    WITH req AS (
        SELECT t.i::integer AS i, t.k, t.v, t.c, t.e, t.s, t.ch, t.r, t.nh, t.th
          FROM unnest(p_keys, p_voters, p_countries, p_entries, p_sources, p_channels,
                      p_receipts, p_nets, p_tokens)
               WITH ORDINALITY AS t(k, v, c, e, s, ch, r, nh, th, i)
    ),
    earlier AS (            -- already in the ledger from an earlier batch
        SELECT x.k AS dedupe_key, x.s AS voter_seq, x.rc
          FROM unnest(v_seen_keys, v_seen_seqs, v_seen_rcs) AS x(k, s, rc)
    ),
    firsts AS (             -- first occurrence of each new key in this batch
        SELECT DISTINCT ON (r.k) r.*
          FROM req r LEFT JOIN earlier x ON x.dedupe_key = r.k
         WHERE x.dedupe_key IS NULL
         ORDER BY r.k, r.i
    ),
    starts AS (             -- each voter with new votes: the countries they name, its first
        SELECT f.v, min(f.c) AS c_lo, max(f.c) AS c_hi, min(f.i) AS i0, count(*)::integer AS k
          FROM firsts f GROUP BY f.v
    ),
    bound AS MATERIALIZED ( -- the country each voter is proposed for; only a voter naming
                            -- two countries here needs its row read first
        SELECT s.v, s.k, s.c_lo <> s.c_hi AS multi,
               CASE WHEN s.c_lo = s.c_hi THEN s.c_lo
                    ELSE coalesce((SELECT vo.country FROM voters vo
                                    WHERE vo.contest_id = p_contest AND vo.voter_hash = s.v),
                                  p_countries[s.i0]) END AS c
          FROM starts s
    ),
    wanted AS (             -- new votes per voter from the proposed country
        SELECT b.v, b.c, b.k FROM bound b WHERE NOT b.multi
        UNION ALL
        SELECT f.v, b.c, count(*)::integer
          FROM firsts f JOIN bound b ON b.v = f.v AND b.c = f.c
         WHERE b.multi GROUP BY f.v, b.c
    ),
    moved AS (              -- create, lock and move each cap counter in one upsert; a row
                            -- bound to another country is left alone: its votes mismatch
        INSERT INTO voters AS vo (contest_id, voter_hash, country, votes_used, batch_base)
        SELECT p_contest, w.v, w.c, least(w.k, v_cap), 0 FROM wanted w ORDER BY w.v
        ON CONFLICT (contest_id, voter_hash) DO UPDATE
           SET batch_base = vo.votes_used,
               votes_used = least(vo.votes_used + EXCLUDED.votes_used, v_cap)
         WHERE vo.country = EXCLUDED.country
        RETURNING vo.voter_hash, vo.batch_base, vo.country
    ),
    numbered AS (
        SELECT f.*, mv.batch_base + row_number() OVER (PARTITION BY f.v ORDER BY f.i) AS n
          FROM firsts f JOIN moved mv ON mv.voter_hash = f.v AND mv.country = f.c
    ),
    inserted AS (
        INSERT INTO votes (contest_id, dedupe_key, voter_hash, voting_country, entry,
                           voter_seq, source, channel, receipt, net_hash, token_hash)
        SELECT p_contest, nb.k, nb.v, nb.c, nb.e, nb.n, nb.s, coalesce(nb.ch, 'app'),
               nb.r, nb.nh, nb.th
          FROM numbered nb WHERE nb.n <= v_cap
        ON CONFLICT DO NOTHING
        RETURNING voting_country, entry
    ),
    cells AS (              -- what this batch adds to each (voting country, entry)
        SELECT ins.voting_country AS c, ins.entry AS e, count(*)::integer AS n
          FROM inserted ins GROUP BY ins.voting_country, ins.entry
    ),
    guard AS (              -- a concurrent commit of one of these keys, or of the row of a
                            -- voter naming two countries here: retry
        SELECT retry_batch_if(
                 coalesce((SELECT sum(cl.n) FROM cells cl), 0)
                   <> (SELECT count(*) FROM numbered nb WHERE nb.n <= v_cap)
                 OR CASE WHEN EXISTS (SELECT 1 FROM bound b WHERE b.multi)
                         THEN EXISTS (SELECT 1 FROM wanted w
                                        JOIN bound b ON b.v = w.v AND b.multi
                                        LEFT JOIN moved mv ON mv.voter_hash = w.v
                                       WHERE mv.voter_hash IS NULL)
                         ELSE false END) AS ok
    ),
    decided AS (
        SELECT r.i,
               CASE
                 WHEN x.dedupe_key IS NOT NULL THEN 'duplicate'
                 WHEN nb.k IS NULL THEN 'country_mismatch'
                 WHEN nb.i = r.i AND nb.n <= v_cap THEN 'accepted'
                 WHEN nb.i = r.i THEN 'vote_cap_reached'
                 WHEN nb.n <= v_cap THEN 'duplicate'        -- repeated inside this batch
                 ELSE 'vote_cap_reached'
               END AS o,
               coalesce(x.voter_seq, least(nb.n, v_cap)::integer, 0) AS s,
               CASE WHEN x.dedupe_key IS NOT NULL THEN x.rc
                    WHEN nb.n <= v_cap THEN nb.r END AS rc
          FROM req r
          LEFT JOIN earlier x ON x.dedupe_key = r.k
          LEFT JOIN numbered nb ON nb.k = r.k
         WHERE NOT (SELECT g.ok FROM guard g)
    )
    SELECT array_agg(d.i), array_agg(d.o), array_agg(d.s), array_agg(d.rc),
           (SELECT array_agg(cl.c) FROM cells cl), (SELECT array_agg(cl.e) FROM cells cl),
           (SELECT array_agg(cl.n) FROM cells cl)
      INTO v_idx, v_outcomes, v_seqs, v_receipts, v_countries, v_entries, v_votes
      FROM decided d;

    IF v_votes IS NOT NULL THEN  -- last, so the head's row lock is held only to the commit
        INSERT INTO ledger_heads AS h (contest_id, batch) VALUES (p_contest, 1)
        ON CONFLICT (contest_id) DO UPDATE SET batch = h.batch + 1
        RETURNING h.batch INTO v_batch;
        INSERT INTO ledger_batches (contest_id, batch, countries, entries, votes)
        VALUES (p_contest, v_batch, v_countries, v_entries, v_votes);
        IF clock_timestamp() > v_closes THEN  -- the window closed while this batch ran
            RAISE EXCEPTION 'voting in % closed at % while this batch was written',
                            p_contest, v_closes
                USING ERRCODE = 'SV001';
        END IF;
    END IF;

    RETURN QUERY SELECT u.i, u.o, u.s, v_cap, v_batch, u.rc
                   FROM unnest(v_idx, v_outcomes, v_seqs, v_receipts) AS u(i, o, s, rc)
                  ORDER BY u.i;
END;
$$;

