-- Transactional outbox of the people service: audit entries of its mutations, written in the
-- transaction of the change and moved to the event stream by the relay (roadmap_common::outbox).
CREATE TABLE outbox (
    id            uuid PRIMARY KEY,
    seq           bigint GENERATED ALWAYS AS IDENTITY,
    kind          text NOT NULL,
    subject_type  text NOT NULL,
    subject_id    uuid NOT NULL,
    occurred_at   timestamptz NOT NULL,
    before        jsonb,
    after         jsonb,
    context       jsonb NOT NULL DEFAULT '{}'::jsonb,
    published_at  timestamptz
);
CREATE INDEX outbox_unpublished_idx ON outbox (seq) WHERE published_at IS NULL;
