-- The ordered event log: `cursor` is the order subscribers replay in.
CREATE TABLE event (
    id            uuid PRIMARY KEY,
    cursor        bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT event_cursor_unique UNIQUE,
    kind          text NOT NULL,
    subject_type  text NOT NULL,
    subject_id    uuid NOT NULL,
    occurred_at   timestamptz NOT NULL,
    payload       jsonb NOT NULL DEFAULT '{}'::jsonb
);
