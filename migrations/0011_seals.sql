-- Sealed ledgers: a contest's votes and locked ballots, frozen into a signed Merkle root.
--
-- `seals` holds one signed statement per contest (service/verify/statement.py): the
-- root, the record counts, the result's hash, the time, the contest's Ed25519 public
-- key and the signature. `seal_chunks` keeps the tree's leaves, 1024 per row, so that a
-- receipt's inclusion proof and `silkvote verify --seal` (which names a ledger row that
-- changed since) need no re-hashing of the whole ledger; `chunk_roots` in `seals` are
-- the roots of those chunks, in order, 32 bytes each. The private key is never stored:
-- it is derived from SEAL_SECRET and the contest id (service/seal/keys.py).
--
-- After the seal nothing that it covers may change: both tables are append-only, the
-- audience window can no longer open, and no vote can be voided (the trigger below is
-- created when the voids of 0009 exist). A seal takes the per-contest count lock of 0009
-- (`silkvote-count:<contest>`) for its whole read, so a void commits either before the
-- seal's snapshot or after the seal, and then the trigger refuses it.
CREATE TABLE seals (
    contest_id      text PRIMARY KEY REFERENCES contests(id),
    statement       text NOT NULL,            -- the signed bytes, as text
    root            bytea NOT NULL,
    records         bigint NOT NULL CHECK (records >= 0),
    votes           bigint NOT NULL CHECK (votes >= 0),
    ballots         integer NOT NULL CHECK (ballots >= 0),
    result          text NOT NULL,            -- result.json, whose SHA-256 is signed
    public_key      bytea NOT NULL,
    signature       bytea NOT NULL,
    chunk_roots     bytea NOT NULL,
    sealed_at       timestamptz NOT NULL
);

CREATE TABLE seal_chunks (
    contest_id      text NOT NULL REFERENCES seals(contest_id) DEFERRABLE INITIALLY DEFERRED,
    chunk           integer NOT NULL CHECK (chunk >= 0),
    first_key       bytea NOT NULL,           -- the sort key of the chunk's first record
    leaves          bytea NOT NULL,           -- 32-byte leaf hashes, in tree order
    PRIMARY KEY (contest_id, chunk)
);
CREATE INDEX seal_chunks_by_key ON seal_chunks (contest_id, first_key);
ALTER TABLE seal_chunks ALTER COLUMN leaves SET STORAGE EXTERNAL;  -- hashes don't compress
ALTER TABLE seals ALTER COLUMN chunk_roots SET STORAGE EXTERNAL;

CREATE TRIGGER seals_append_only BEFORE UPDATE OR DELETE ON seals
    FOR EACH ROW EXECUTE FUNCTION refuse_history_rewrite();
CREATE TRIGGER seals_no_truncate BEFORE TRUNCATE ON seals
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_rewrite();
CREATE TRIGGER seal_chunks_append_only BEFORE UPDATE OR DELETE ON seal_chunks
    FOR EACH ROW EXECUTE FUNCTION refuse_history_rewrite();
CREATE TRIGGER seal_chunks_no_truncate BEFORE TRUNCATE ON seal_chunks
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_history_rewrite();

-- A text field of a canonical record (service/verify/records.py, `escape`): backslash,
-- tab, newline, carriage return and the two bytes the export's COPY framing uses.
CREATE FUNCTION seal_escape(t text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT replace(replace(replace(replace(replace(replace(t,
        E'\\', E'\\\\'), E'\t', E'\\t'), E'\n', E'\\n'), E'\r', E'\\r'),
        E'\x01', E'\\1'), E'\x02', E'\\2')
$$;

-- A sealed contest's window stays closed: votes after the seal would be outside it.
CREATE FUNCTION refuse_after_seal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM seals WHERE contest_id = NEW.contest_id) THEN
        RAISE EXCEPTION 'contest % is sealed: % refused', NEW.contest_id, TG_TABLE_NAME
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    RETURN NEW;
END;
$$;

CREATE FUNCTION refuse_open_after_seal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.window_state = 'open' AND OLD.window_state <> 'open'
       AND EXISTS (SELECT 1 FROM seals WHERE contest_id = NEW.id) THEN
        RAISE EXCEPTION 'contest % is sealed: its window cannot open', NEW.id
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER contests_sealed_window BEFORE UPDATE OF window_state ON contests
    FOR EACH ROW EXECUTE FUNCTION refuse_open_after_seal();
CREATE TRIGGER ballots_after_seal BEFORE INSERT ON ballots
    FOR EACH ROW EXECUTE FUNCTION refuse_after_seal();

DO $$
BEGIN
    IF to_regclass('voids') IS NOT NULL THEN
        CREATE TRIGGER voids_after_seal BEFORE INSERT ON voids
            FOR EACH ROW EXECUTE FUNCTION refuse_after_seal();
        CREATE TRIGGER voided_votes_after_seal BEFORE INSERT ON voided_votes
            FOR EACH ROW EXECUTE FUNCTION refuse_after_seal();
    END IF;
END;
$$;

GRANT SELECT, INSERT ON seals, seal_chunks TO silkvote_app;
