-- Two database roles, and a ledger that stays append-only for both of them.
--
-- * `silkvote_owner` (NOLOGIN) owns every table, sequence and function. Migrations after
--   this one run as it (`SET LOCAL ROLE silkvote_owner`, service/stores/migrations.py),
--   so what they create is owned by it and gets the default privileges below.
-- * `silkvote_app` (NOLOGIN) holds what the service may do; the service's login role
--   (`silkvote_service` unless DATABASE_URL names another) is a member of it and
--   never a superuser. It reads what it needs and writes the protected state (votes,
--   cap counters, ledger batches, ballots, audit events, the jury lock, the frozen
--   result, ledger partitions) only through the SECURITY DEFINER functions below, which
--   run as the owner with a fixed search_path.
--
-- Both roles are created by service/stores/database_roles.py before this file runs
-- (roles are cluster-wide: created once, with retries, outside any one database's
-- transaction). This file must be applied by a superuser: it moves ownership and
-- creates the event trigger, which only a superuser may do. The guard functions
-- (refuse_history_rewrite, the contest and DDL guards) stay owned by that superuser,
-- so the owner cannot replace them with no-ops.
--
-- Convention for later migrations (0011 and on), documented in docs/operations.md:
-- a new table is readable by the service (default privileges) and writable by nobody
-- but the owner; a table the service writes directly says so with its own GRANT; an
-- append-only table gets BEFORE UPDATE OR DELETE and BEFORE TRUNCATE triggers on
-- refuse_history_rewrite() named `<table>_append_only` / `<table>_no_truncate`, ENABLE
-- ALWAYS, and is written only through SECURITY DEFINER functions.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'silkvote_owner')
       OR NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'silkvote_app') THEN
        RAISE EXCEPTION 'roles silkvote_owner and silkvote_app must exist before migration '
                        '0010: run `silkvote migrate` (it creates them)';
    END IF;
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
        RAISE EXCEPTION 'migration 0010 must be applied by a superuser (set '
                        'MIGRATION_DATABASE_URL to one): it creates an event trigger';
    END IF;
END;
$$;

GRANT USAGE, CREATE ON SCHEMA public TO silkvote_owner;
GRANT USAGE ON SCHEMA public TO silkvote_app;

-- The guards belong to the superuser applying this file, not to the owner.
ALTER FUNCTION refuse_history_rewrite() OWNER TO CURRENT_USER;

-- The contest row's final facts: once the jury is locked or the result frozen, that
-- stays so for everyone; and only the owner (the functions below) sets them.
CREATE FUNCTION guard_contest_finality() RETURNS trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        IF OLD.jury_locked_at IS NOT NULL
           AND NEW.jury_locked_at IS DISTINCT FROM OLD.jury_locked_at THEN
            RAISE EXCEPTION 'the jury of contest % is locked; the lock cannot change', OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF (OLD.frozen_result IS NOT NULL
            AND NEW.frozen_result IS DISTINCT FROM OLD.frozen_result)
           OR (OLD.results_frozen_at IS NOT NULL
               AND NEW.results_frozen_at IS DISTINCT FROM OLD.results_frozen_at) THEN
            RAISE EXCEPTION 'the result of contest % is frozen; it cannot be rewritten', OLD.id
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
    IF NOT pg_has_role('silkvote_owner', 'USAGE')
       AND ((TG_OP = 'INSERT' AND (NEW.jury_locked_at IS NOT NULL
                                   OR NEW.frozen_result IS NOT NULL
                                   OR NEW.results_frozen_at IS NOT NULL))
            OR (TG_OP = 'UPDATE' AND (NEW.jury_locked_at IS DISTINCT FROM OLD.jury_locked_at
                                      OR NEW.frozen_result IS DISTINCT FROM OLD.frozen_result
                                      OR NEW.results_frozen_at
                                         IS DISTINCT FROM OLD.results_frozen_at))) THEN
        RAISE EXCEPTION 'the jury lock and the frozen result are set only by lock_jury() '
                        'and freeze_result()' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER contests_guard BEFORE INSERT OR UPDATE ON contests
    FOR EACH ROW EXECUTE FUNCTION guard_contest_finality();

-- Every existing ledger partition gets its own TRUNCATE guard (the parent's statement
-- trigger does not fire for `TRUNCATE votes_<contest>`); new ones get it from
-- create_ledger_partition(). Every guard fires ALWAYS: also with
-- session_replication_role = replica (which only a superuser may set anyway).
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT t.relid FROM pg_partition_tree('votes') t WHERE t.relid <> 'votes'::regclass
    LOOP
        EXECUTE format('CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON %s '
                       'FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_rewrite()', r.relid);
    END LOOP;
    FOR r IN SELECT DISTINCT tg.tgrelid::regclass AS rel, tg.tgname
               FROM pg_trigger tg
              WHERE tg.tgfoid IN ('refuse_history_rewrite'::regproc,
                                  'guard_contest_finality'::regproc)
                AND NOT tg.tgisinternal AND tg.tgparentid = 0
    LOOP
        EXECUTE format('ALTER TABLE %s ENABLE ALWAYS TRIGGER %I', r.rel, r.tgname);
    END LOOP;
END;
$$;

-- The write paths of the service, run as the owner.

-- A contest's slice of the ledger, split by hash of the dedupe key, each part with its
-- TRUNCATE guard. The contest row must exist (the caller inserted it in this
-- transaction), and names are quoted, so a caller cannot smuggle SQL in.
CREATE FUNCTION create_ledger_partition(p_contest text, p_name text, p_parts integer)
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
END;
$$;

-- The jury deadline, set once: the time it was set, or NULL without such a contest.
CREATE FUNCTION lock_jury(p_contest text) RETURNS timestamptz
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    UPDATE contests SET jury_locked_at = coalesce(jury_locked_at, now())
     WHERE id = p_contest RETURNING jury_locked_at;
$$;

-- The official result, first writer wins; true when this call froze it.
CREATE FUNCTION freeze_result(p_contest text, p_result jsonb) RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = public, pg_temp AS $$
    WITH frozen AS (
        UPDATE contests SET frozen_result = p_result, results_frozen_at = now()
         WHERE id = p_contest AND frozen_result IS NULL RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM frozen);
$$;

-- A juror's ballot, refused once the jury is locked (the lock and this write
-- serialise on the contest row); its submitted_at.
CREATE FUNCTION save_ballot(p_contest text, p_juror text, p_ranking jsonb, p_hash text)
RETURNS timestamptz LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_locked timestamptz;
    v_at     timestamptz;
BEGIN
    SELECT jury_locked_at INTO v_locked FROM contests WHERE id = p_contest FOR SHARE;
    IF v_locked IS NOT NULL THEN
        RAISE EXCEPTION 'the jury of contest % is locked', p_contest
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    INSERT INTO ballots (contest_id, juror_id, ranking, ballot_hash)
    VALUES (p_contest, p_juror, p_ranking, p_hash) RETURNING submitted_at INTO v_at;
    RETURN v_at;
END;
$$;

-- Every voter's cap counter set to their votes in the ledger (the repair after a
-- restore); never anything else. Rows changed.
CREATE FUNCTION recount_caps(p_contest text) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_changed integer;
BEGIN
    PERFORM 1 FROM contests WHERE id = p_contest FOR UPDATE;
    UPDATE voters v SET votes_used = c.n
      FROM (SELECT voter_hash, count(*)::int AS n FROM votes
             WHERE contest_id = p_contest GROUP BY voter_hash) c
     WHERE v.contest_id = p_contest AND v.voter_hash = c.voter_hash AND v.votes_used <> c.n;
    GET DIAGNOSTICS v_changed = ROW_COUNT;
    RETURN v_changed;
END;
$$;

-- One audit event at the head of its contest's chain. The hash is keyed with a secret
-- of the service (service/audit/chain.py), so it is computed there; here the event
-- must follow the current head, so the chain is never forked or rewritten.
CREATE FUNCTION append_audit_event(p_contest text, p_actor text, p_kind text, p_detail jsonb,
                                   p_prev text, p_hash text, p_at timestamptz)
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_head text;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext(coalesce(p_contest, '')));
    SELECT event_hash INTO v_head FROM audit_events
     WHERE contest_id IS NOT DISTINCT FROM p_contest ORDER BY id DESC LIMIT 1;
    IF v_head IS DISTINCT FROM p_prev THEN
        RAISE EXCEPTION 'an audit event must follow the head of its chain'
            USING ERRCODE = 'check_violation';
    END IF;
    IF abs(extract(epoch FROM clock_timestamp() - p_at)) > 300 THEN
        RAISE EXCEPTION 'an audit event is stamped with the time it is written'
            USING ERRCODE = 'check_violation';
    END IF;
    INSERT INTO audit_events (contest_id, actor, kind, detail, prev_hash, event_hash, at)
    VALUES (p_contest, p_actor, p_kind, p_detail, p_prev, p_hash, p_at);
END;
$$;

-- Ownership: everything in public moves to the owner, except the guards above.
DO $$
DECLARE
    r record;
BEGIN
    FOR r IN SELECT c.oid::regclass AS rel FROM pg_class c
              WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
                AND c.relowner <> 'silkvote_owner'::regrole
    LOOP
        EXECUTE format('ALTER TABLE %s OWNER TO silkvote_owner', r.rel);
    END LOOP;
    FOR r IN SELECT c.oid::regclass AS rel FROM pg_class c
              WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'S'
                AND c.relowner <> 'silkvote_owner'::regrole
    LOOP
        EXECUTE format('ALTER SEQUENCE %s OWNER TO silkvote_owner', r.rel);
    END LOOP;
    FOR r IN SELECT p.oid::regprocedure AS fn FROM pg_proc p
              WHERE p.pronamespace = 'public'::regnamespace
                AND p.proowner <> 'silkvote_owner'::regrole
                AND p.proname NOT IN ('refuse_history_rewrite', 'guard_contest_finality',
                                      'refuse_ledger_ddl')
    LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO silkvote_owner', r.fn);
    END LOOP;
END;
$$;

-- Every function the service may call runs as the owner with a fixed search_path
-- (record_votes and any function of 0001-0009 included): service/stores/migrations.py
-- makes them so after this migration and after every later run, the one place that
-- does it, so a function added later is secured the same way.

-- What the service may do. Reads: everything. Writes: the definitions and credentials
-- it manages; never the protected state, which only the functions above write.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;
GRANT SELECT ON ALL TABLES IN SCHEMA public TO silkvote_app;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO silkvote_app;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO silkvote_app;
-- A new partition clones the ledger's guard triggers, which needs EXECUTE on them.
GRANT EXECUTE ON FUNCTION refuse_history_rewrite(), guard_contest_finality()
    TO silkvote_owner;
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON votes, voters, ballots, audit_events,
    ledger_heads, ledger_batches FROM silkvote_app;
DO $$
DECLARE
    t text;
BEGIN
    FOR t IN SELECT c.oid::regclass::text FROM pg_class c
              WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p')
                AND (c.relname ~ '^votes_' OR c.relname IN ('voids', 'voided_votes'))
    LOOP
        EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON %s FROM silkvote_app', t);
    END LOOP;
END;
$$;
REVOKE DELETE, TRUNCATE ON contests FROM silkvote_app;

-- Objects the owner creates later: readable by the service, functions callable by it
-- (and by nobody else).
ALTER DEFAULT PRIVILEGES FOR ROLE silkvote_owner IN SCHEMA public
    GRANT SELECT ON TABLES TO silkvote_app;
ALTER DEFAULT PRIVILEGES FOR ROLE silkvote_owner IN SCHEMA public
    GRANT USAGE ON SEQUENCES TO silkvote_app;
ALTER DEFAULT PRIVILEGES FOR ROLE silkvote_owner IN SCHEMA public
    REVOKE EXECUTE ON FUNCTIONS FROM PUBLIC;
ALTER DEFAULT PRIVILEGES FOR ROLE silkvote_owner IN SCHEMA public
    GRANT EXECUTE ON FUNCTIONS TO silkvote_app;

-- Dropping a ledger partition or table, detaching a partition, and dropping or
-- disabling a guard are refused for every role. A superuser can still drop these event
-- triggers: the seal detects what that allows. (Created last: they watch every later
-- migration too.)
CREATE FUNCTION refuse_ledger_ddl() RETURNS event_trigger LANGUAGE plpgsql
SET search_path = pg_catalog, public AS $$
DECLARE
    r record;
BEGIN
    IF TG_EVENT = 'ddl_command_start' THEN
        -- A concurrent detach commits its first half before any end-of-command check.
        IF current_query() ~* '\mdetach\M' AND current_query() ~* '\mconcurrently\M' THEN
            RAISE EXCEPTION 'detaching a ledger partition is refused: they are permanent'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    ELSIF TG_EVENT = 'sql_drop' THEN
        FOR r IN SELECT * FROM pg_event_trigger_dropped_objects() LOOP
            IF (r.object_type = 'table' AND r.schema_name = 'public'
                AND (r.object_name ~ '^votes(_|$)'
                     OR r.object_name IN ('ballots', 'audit_events', 'ledger_batches',
                                          'ledger_heads', 'voters', 'contests',
                                          'voids', 'voided_votes', 'seals')))
               OR (r.object_type = 'trigger'
                   AND split_part(r.object_identity, ' on ', 1)
                       ~ '(_append_only|_no_truncate|^contests_guard)$') THEN
                RAISE EXCEPTION '% % cannot be dropped: the ledger is append-only',
                    r.object_type, r.object_identity USING ERRCODE = 'insufficient_privilege';
            END IF;
        END LOOP;
    ELSE  -- ddl_command_end of ALTER TABLE (a guard a later migration just created fires
          -- on origin, 'O', until `silkvote migrate` makes it ALWAYS: only a superuser
          -- could switch that off, so disabled and replica-only are what is refused)
        SELECT tg.tgrelid::regclass AS rel INTO r
          FROM pg_trigger tg
         WHERE tg.tgname = 'ledger_no_truncate'
           AND (tg.tgrelid NOT IN (SELECT t.relid FROM pg_partition_tree('votes') t)
                OR tg.tgrelid IN (SELECT i.inhrelid FROM pg_inherits i
                                   WHERE i.inhdetachpending))
         LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'ledger partition % cannot be detached: partitions are permanent',
                r.rel USING ERRCODE = 'insufficient_privilege';
        END IF;
        SELECT tg.tgrelid::regclass AS rel, tg.tgname INTO r
          FROM pg_trigger tg
         WHERE tg.tgfoid IN ('refuse_history_rewrite'::regproc,
                             'guard_contest_finality'::regproc)
           AND tg.tgenabled IN ('D', 'R')
         LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION 'trigger % on % must stay enabled: the ledger is append-only',
                r.tgname, r.rel USING ERRCODE = 'insufficient_privilege';
        END IF;
    END IF;
END;
$$;

CREATE EVENT TRIGGER ledger_no_concurrent_detach ON ddl_command_start
    WHEN TAG IN ('ALTER TABLE') EXECUTE FUNCTION refuse_ledger_ddl();
CREATE EVENT TRIGGER ledger_no_drop ON sql_drop
    EXECUTE FUNCTION refuse_ledger_ddl();
CREATE EVENT TRIGGER ledger_guards_stay ON ddl_command_end
    WHEN TAG IN ('ALTER TABLE') EXECUTE FUNCTION refuse_ledger_ddl();
