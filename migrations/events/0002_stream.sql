-- Events arrive from the producers' outboxes through the stream: before/after values and the
-- filtering context (territory, plan, level, ancestors) travel with them.
ALTER TABLE event
    ADD COLUMN before       jsonb,
    ADD COLUMN after        jsonb,
    ADD COLUMN context      jsonb NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN received_at  timestamptz NOT NULL DEFAULT now();
CREATE INDEX event_kind_idx ON event (kind, cursor);
CREATE INDEX event_context_idx ON event USING gin (context jsonb_path_ops);
