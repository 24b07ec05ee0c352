-- The receipts index of a sealed contest, built by the owner.
--
-- `GET …/receipts/{id}` looks a vote up by its receipt once the contest is sealed; the
-- vote path keeps no such index (it would cost every insert a probe). The service's role
-- may not create indexes on the ledger (it owns none of it, migrations/0010), so the
-- owner builds it, only for a sealed contest (whose ledger takes no more rows), on that
-- contest's own partition, found from the contest id rather than taken from the caller.
CREATE FUNCTION index_sealed_receipts(p_contest text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    v_partition text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM seals WHERE contest_id = p_contest) THEN
        RAISE EXCEPTION 'contest % is not sealed', p_contest USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    SELECT c.relname INTO v_partition
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = 'votes'::regclass
       AND pg_get_expr(c.relpartbound, c.oid) = format('FOR VALUES IN (%L)', p_contest);
    IF v_partition IS NULL THEN
        RETURN;  -- a contest without its own partition (votes_default): nothing to index
    END IF;
    EXECUTE format('CREATE INDEX IF NOT EXISTS %I ON %I (receipt)',
                   v_partition || '_receipt', v_partition);
END;
$$;
