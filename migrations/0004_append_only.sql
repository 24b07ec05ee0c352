-- The ledger, ballots and the audit trail are append-only.
--
-- 1. A trigger refuses UPDATE, DELETE and TRUNCATE on them for every role, superusers
--    included, so neither a bug nor a hurried operator can rewrite history.
-- 2. The role `silkvote_app` is what a deployment's login user should be a member of:
--    it may read and insert those tables but holds no UPDATE/DELETE grant on them.
CREATE FUNCTION refuse_history_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% on % is not allowed: the table is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER votes_append_only BEFORE UPDATE OR DELETE ON votes
    FOR EACH ROW EXECUTE FUNCTION refuse_history_rewrite();
CREATE TRIGGER votes_no_truncate BEFORE TRUNCATE ON votes
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_rewrite();
CREATE TRIGGER ballots_append_only BEFORE UPDATE OR DELETE ON ballots
    FOR EACH ROW EXECUTE FUNCTION refuse_history_rewrite();
CREATE TRIGGER ballots_no_truncate BEFORE TRUNCATE ON ballots
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_rewrite();
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION refuse_history_rewrite();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_rewrite();

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'silkvote_app') THEN
        CREATE ROLE silkvote_app NOLOGIN;
    END IF;
END;
$$;

GRANT SELECT, INSERT ON votes, ballots, audit_events TO silkvote_app;
GRANT SELECT, INSERT, UPDATE ON contests, entries, voting_countries, window_events, voters,
    aggregator_keys, jurors TO silkvote_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO silkvote_app;
GRANT EXECUTE ON FUNCTION record_votes(text, bytea[], bytea[], text[], text[], text[])
    TO silkvote_app;
