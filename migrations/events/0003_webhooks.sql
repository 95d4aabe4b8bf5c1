-- Webhooks: endpoints that receive matching events, one delivery per event × endpoint, one
-- attempt row per try. Deliveries are created in the transaction that inserts the event into the
-- log, so a crash loses none.
CREATE TABLE webhook_endpoint (
    id               uuid PRIMARY KEY,
    url              text NOT NULL,
    description      text NOT NULL DEFAULT '',
    -- The subscription's EventFilter, validated: {"territory", "plan", "level", "kinds", "underMeasure"}.
    filter           jsonb NOT NULL DEFAULT '{}'::jsonb,
    -- `whsec_` + base64 of the signing key (Standard Webhooks).
    secret           text NOT NULL,
    enabled          boolean NOT NULL DEFAULT true,
    disabled_reason  text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    created_by       text NOT NULL,
    CONSTRAINT webhook_endpoint_url_scheme CHECK (url ~ '^https?://')
);

CREATE TABLE webhook_delivery (
    id               uuid PRIMARY KEY,
    endpoint_id      uuid NOT NULL REFERENCES webhook_endpoint (id) ON DELETE CASCADE,
    event_id         uuid NOT NULL REFERENCES event (id),
    -- The event's position in the log: the order deliveries are listed and replayed in.
    event_cursor     bigint NOT NULL,
    -- PENDING (an attempt is due at next_attempt_at), DELIVERED, FAILED (retries exhausted or
    -- the endpoint answered 410 Gone).
    state            text NOT NULL DEFAULT 'PENDING',
    -- Every attempt ever made (attempt rows are numbered by it).
    attempts         integer NOT NULL DEFAULT 0,
    -- Failed attempts since the delivery was last queued: the position in the retry schedule.
    retry_step       integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at     timestamptz,
    CONSTRAINT webhook_delivery_once UNIQUE (endpoint_id, event_id),
    CONSTRAINT webhook_delivery_state CHECK (state IN ('PENDING', 'DELIVERED', 'FAILED')),
    CONSTRAINT webhook_delivery_pending_is_scheduled CHECK ((state = 'PENDING') = (next_attempt_at IS NOT NULL))
);
-- The worker's scan for due deliveries.
CREATE INDEX webhook_delivery_due_idx ON webhook_delivery (next_attempt_at) WHERE state = 'PENDING';
-- An endpoint's deliveries in log order (listing, replay after a cursor).
CREATE INDEX webhook_delivery_endpoint_idx ON webhook_delivery (endpoint_id, event_cursor);

CREATE TABLE webhook_attempt (
    delivery_id      uuid NOT NULL REFERENCES webhook_delivery (id) ON DELETE CASCADE,
    number           integer NOT NULL,
    attempted_at     timestamptz NOT NULL,
    -- The HTTP status answered, or NULL when no answer came (then `error` says why).
    status_code      integer,
    error            text,
    duration_ms      integer NOT NULL,
    PRIMARY KEY (delivery_id, number)
);
