-- Who may see an event (rules: services/events/src/lib.rs, "Who sees which events").
--
-- The territory an event is about and its ancestors, nearest first, resolved by the consumer in
-- the people subgraph (territories never move, so this never goes stale). A scope covers the
-- event when its root is in the array. '{}': no territory (a federal plan); NULL: logged before
-- this column existed (covered by national scopes only).
ALTER TABLE event ADD COLUMN territories uuid[];
CREATE INDEX event_territories_idx ON event USING gin (territories);

-- Plans the log has seen as drafts, keyed by the `plan` text of events' context. A draft becomes
-- approved (a PLAN_APPROVED event, or any event recorded while it was approved) and never goes
-- back, so `draft` only ever turns false.
CREATE TABLE plan_visibility (
    plan   text PRIMARY KEY,
    draft  boolean NOT NULL
);

-- Whoever registered a webhook, as claims (`sub`, `roles`, `territory`): its deliveries are what
-- that user may see. NULL (registered before this column): the anonymous reader's view.
ALTER TABLE webhook_endpoint ADD COLUMN registrant jsonb;
