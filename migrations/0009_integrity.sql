-- Integrity under a hostile audience: who may see the standings, and how a scrutineer
-- takes stuffed votes out of the count without taking them out of the ledger.
--
-- 1. Results visibility per contest: `live` (standings and counts public while voting),
--    `after_close` (public once the window is closed; the default: a stuffer gets no
--    live feedback and nothing leaks on air), `reveal` (public only as the on-air
--    reveal announces it). The producer and read tokens always see everything.
-- 2. Read tokens: revocable, read-only credentials for graphics systems, one contest
--    each; only their hash is stored.
-- 3. Voids: a void is a decision (rule, reason, who, when) in `voids`; the votes it
--    covers are listed in `voided_votes`. Both are append-only, and the votes stay in
--    the ledger: a vote is void iff it has a row in `voided_votes`, and every count of
--    the ledger leaves it out. A void is a numbered ledger batch (migrations/0007) whose
--    cells are negative, so the live tallies take it through the same once-only tally
--    update as any batch, and the reconciler, which compares Redis with the ledger at a
--    batch number, sees a void as one more batch: it never puts the votes back.
-- 4. The freeze of the official result and a void exclude each other (one advisory
--    lock per contest), so no frozen result counts a vote voided before it.

ALTER TABLE contests ADD COLUMN results_visibility text NOT NULL DEFAULT 'after_close'
    CHECK (results_visibility IN ('live', 'after_close', 'reveal'));

CREATE TABLE read_tokens (
    id              text PRIMARY KEY,
    contest_id      text NOT NULL REFERENCES contests(id) ON DELETE CASCADE,
    label           text NOT NULL,
    token_hash      bytea NOT NULL UNIQUE,    -- hash_secret() of the token
    created_at      timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz
);
CREATE INDEX read_tokens_by_contest ON read_tokens (contest_id, created_at);

CREATE TABLE voids (
    id              text PRIMARY KEY,
    contest_id      text NOT NULL REFERENCES contests(id),
    rule            jsonb NOT NULL,           -- as the scrutineer gave it (hashes in hex)
    reason          text NOT NULL,
    actor           text NOT NULL,
    at              timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX voids_by_contest ON voids (contest_id, at);

CREATE TABLE voided_votes (
    contest_id      text NOT NULL,
    dedupe_key      bytea NOT NULL,           -- the vote's key in `votes`
    void_id         text NOT NULL REFERENCES voids(id),
    PRIMARY KEY (contest_id, dedupe_key)      -- a vote is voided once
);
CREATE INDEX voided_votes_by_void ON voided_votes (void_id);

CREATE TRIGGER voids_append_only BEFORE UPDATE OR DELETE ON voids
    FOR EACH ROW EXECUTE FUNCTION refuse_history_rewrite();
CREATE TRIGGER voids_no_truncate BEFORE TRUNCATE ON voids
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_rewrite();
CREATE TRIGGER voided_votes_append_only BEFORE UPDATE OR DELETE ON voided_votes
    FOR EACH ROW EXECUTE FUNCTION refuse_history_rewrite();
CREATE TRIGGER voided_votes_no_truncate BEFORE TRUNCATE ON voided_votes
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_rewrite();

-- The lock a void and the freeze of the official result take, in that order of the
-- transaction's work: before reading whether the result is frozen.
CREATE FUNCTION lock_contest_count(p_contest text) RETURNS void
LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(hashtext('silkvote-count:' || p_contest));
$$;

-- Void every vote of the contest that matches all the given criteria (a NULL array or
-- bound is no criterion), unless the result is frozen. Returns the outcome
-- (`voided`, `frozen`, `not_found`), how many votes this void took out (votes already
-- void stay with their first void), the ledger batch of the void (0 if none) and its
-- cells (what it took from each voting country and entry, negative), for the tallies.
CREATE FUNCTION void_votes(
    p_contest   text,
    p_void      text,
    p_rule      jsonb,
    p_reason    text,
    p_actor     text,
    p_networks  bytea[],
    p_tokens    bytea[],
    p_voters    bytea[],
    p_from      timestamptz,
    p_until     timestamptz
) RETURNS TABLE (outcome text, voided integer, batch bigint, countries text[],
                entries text[], votes integer[])
LANGUAGE plpgsql
SET plan_cache_mode = force_custom_plan  -- prune to the contest's partitions (see 0008)
AS $$
DECLARE
    v_frozen    boolean;
    v_countries text[];
    v_entries   text[];
    v_votes     integer[];
    v_total     integer;
    v_batch     bigint := 0;
BEGIN
    PERFORM lock_contest_count(p_contest);
    SELECT c.frozen_result IS NOT NULL INTO v_frozen FROM contests c WHERE c.id = p_contest;
    IF v_frozen IS NULL THEN
        RETURN QUERY SELECT 'not_found'::text, 0, 0::bigint, NULL::text[], NULL::text[],
                            NULL::integer[];
        RETURN;
    END IF;
    IF v_frozen THEN
        RETURN QUERY SELECT 'frozen'::text, 0, 0::bigint, NULL::text[], NULL::text[],
                            NULL::integer[];
        RETURN;
    END IF;

    INSERT INTO voids (id, contest_id, rule, reason, actor)
    VALUES (p_void, p_contest, p_rule, p_reason, p_actor);

    WITH hit AS (
        INSERT INTO voided_votes (contest_id, dedupe_key, void_id)
        SELECT p_contest, v.dedupe_key, p_void FROM votes v
         WHERE v.contest_id = p_contest
           AND (p_networks IS NULL OR v.net_hash = ANY (p_networks))
           AND (p_tokens IS NULL OR v.token_hash = ANY (p_tokens))
           AND (p_voters IS NULL OR v.voter_hash = ANY (p_voters))
           AND (p_from IS NULL OR v.received_at >= p_from)
           AND (p_until IS NULL OR v.received_at < p_until)
        ON CONFLICT DO NOTHING
        RETURNING dedupe_key
    ),
    cells AS (              -- what the void takes from each (voting country, entry)
        SELECT v.voting_country AS c, v.entry AS e, count(*)::integer AS n
          FROM hit JOIN votes v ON v.contest_id = p_contest AND v.dedupe_key = hit.dedupe_key
         GROUP BY v.voting_country, v.entry
    )
    SELECT array_agg(cl.c), array_agg(cl.e), array_agg(-cl.n), coalesce(sum(cl.n), 0)
      INTO v_countries, v_entries, v_votes, v_total
      FROM cells cl;

    IF v_total > 0 THEN  -- a batch like record_votes' (0007), last, with negative cells
        INSERT INTO ledger_heads AS h (contest_id, batch) VALUES (p_contest, 1)
        ON CONFLICT (contest_id) DO UPDATE SET batch = h.batch + 1
        RETURNING h.batch INTO v_batch;
        INSERT INTO ledger_batches (contest_id, batch, countries, entries, votes)
        VALUES (p_contest, v_batch, v_countries, v_entries, v_votes);
    END IF;
    RETURN QUERY SELECT 'voided'::text, v_total, v_batch, v_countries, v_entries, v_votes;
END;
$$;

-- Store the official result unless one is frozen, and only if the ledger is still at
-- the batch the result was computed at (else a void landed meanwhile: `stale`, compute
-- again). Returns `frozen`, `already` or `stale`.
CREATE FUNCTION freeze_result(p_contest text, p_result jsonb, p_batch bigint)
RETURNS text
LANGUAGE plpgsql
AS $$
DECLARE
    v_head bigint;
BEGIN
    PERFORM lock_contest_count(p_contest);
    IF EXISTS (SELECT 1 FROM contests WHERE id = p_contest AND frozen_result IS NOT NULL) THEN
        RETURN 'already';
    END IF;
    SELECT coalesce(max(h.batch), 0) INTO v_head FROM ledger_heads h
     WHERE h.contest_id = p_contest;
    IF v_head <> p_batch THEN
        RETURN 'stale';
    END IF;
    UPDATE contests SET frozen_result = p_result, results_frozen_at = now()
     WHERE id = p_contest AND frozen_result IS NULL;
    RETURN 'frozen';
END;
$$;

GRANT SELECT, INSERT, UPDATE ON read_tokens TO silkvote_app;
GRANT SELECT, INSERT ON voids, voided_votes TO silkvote_app;
GRANT EXECUTE ON FUNCTION lock_contest_count(text) TO silkvote_app;
GRANT EXECUTE ON FUNCTION void_votes(text, text, jsonb, text, text, bytea[], bytea[], bytea[],
                                     timestamptz, timestamptz) TO silkvote_app;
GRANT EXECUTE ON FUNCTION freeze_result(text, jsonb, bigint) TO silkvote_app;
