-- Transactional outbox: status-change events written in the transaction of the change, moved to
-- the event stream by the relay (roadmap_common::outbox), which sets published_at.
CREATE TABLE outbox (
    id            uuid PRIMARY KEY,
    seq           bigint GENERATED ALWAYS AS IDENTITY,
    kind          text NOT NULL,
    subject_type  text NOT NULL,
    subject_id    uuid NOT NULL,
    occurred_at   timestamptz NOT NULL,
    before        jsonb,
    after         jsonb,
    -- What subscribers filter on: territory, plan, level, ancestors (measure ids).
    context       jsonb NOT NULL DEFAULT '{}'::jsonb,
    published_at  timestamptz
);
CREATE INDEX outbox_unpublished_idx ON outbox (seq) WHERE published_at IS NULL;
