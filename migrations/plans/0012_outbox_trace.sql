-- The W3C trace context (`traceparent`) of the change that wrote the event, handed on by the
-- relay so one trace runs from the mutation to the event's consumers (roadmap_common::outbox).
ALTER TABLE outbox ADD COLUMN traceparent text;
