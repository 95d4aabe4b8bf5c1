-- The audit trail: every mutation of every service, who/when/what, append-only.
CREATE TABLE audit_log (
    id            uuid PRIMARY KEY,
    seq           bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT audit_log_seq_unique UNIQUE,
    service       text NOT NULL,
    action        text NOT NULL,
    actor         jsonb NOT NULL,
    subject_type  text NOT NULL,
    subject_id    uuid NOT NULL,
    occurred_at   timestamptz NOT NULL,
    before        jsonb,
    after         jsonb,
    received_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_subject_idx ON audit_log (subject_id, seq);
CREATE INDEX audit_log_actor_idx ON audit_log ((actor->>'subject'), seq);

-- Nobody edits history: not the API (it has no such mutation), not a stray statement.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only (% refused)', TG_OP;
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
