-- The W3C trace context (`traceparent`) of the span that logged the event: subscription
-- deliveries and webhook attempts continue that trace (see the events crate docs).
ALTER TABLE event ADD COLUMN traceparent text;
