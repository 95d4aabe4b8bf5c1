//! Webhooks: HTTP endpoints that receive the events of the log their filter matches, signed per
//! the Standard Webhooks specification.
//!
//! Layout:
//! - [`sign`]: `whsec_` secrets and `v1,` HMAC-SHA256 signatures (checked against the reference
//!   libraries' test vector).
//! - [`store`]: SQL of endpoints (`webhook_endpoint`), deliveries (`webhook_delivery`, one per
//!   event × endpoint) and attempts (`webhook_attempt`, one per try).
//! - [`worker`]: the delivery worker the events target runs next to its consumer.
//! - their GraphQL is with the rest of the schema: types in `graphql/webhook.rs`,
//!   `registerWebhook`, `disableWebhook`, `enableWebhook`, `replayWebhookDelivery`,
//!   `replayWebhookEvents` in `graphql/mutation.rs`, `Query.webhooks` and `Query.webhook` in
//!   `graphql/query.rs`.
//!
//! # Decisions
//!
//! - **Durable fan-out.** The consumer inserts an event into the log and creates its deliveries
//!   in one transaction ([`store::enqueue_event`]), for every enabled endpoint whose filter
//!   matches: a crash loses no delivery and creates none twice (`UNIQUE (endpoint_id,
//!   event_id)`). Matching is the live subscription's [`crate::filter::Filter::matches`]; the filter is stored as
//!   JSON in the shape of `EventFilter`. Endpoints disabled at that moment get no delivery;
//!   `replayWebhookEvents(endpoint, after)` fills such gaps from the log.
//! - **Wake-up.** Each transaction that makes a delivery due sends `NOTIFY webhooks_events` at
//!   commit; the worker `LISTEN`s, sleeps until the next scheduled attempt otherwise, and polls
//!   every 5 s in case a notification was lost.
//! - **Several replicas.** The worker claims due deliveries with `FOR UPDATE SKIP LOCKED` and
//!   moves their `next_attempt_at` past a lease (the attempt timeout plus a margin) in the same
//!   statement, then sends without holding a transaction. Another worker never takes a claimed
//!   delivery; if the claiming one dies, the delivery comes due again when the lease ends
//!   (at-least-once; the receiver deduplicates on `webhook-id`).
//! - **Request.** `POST` of the JSON payload `{"type", "timestamp", "data": {"id", "cursor",
//!   "kind", "subjectType", "subjectId", "occurredAt", "before", "after", "context"}}` (`type` is
//!   the event kind, `timestamp` when it occurred) with `webhook-id` (the event id, the same on
//!   every retry and replay), `webhook-timestamp` (unix seconds of this attempt) and
//!   `webhook-signature` (`v1,` + base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` keyed by the
//!   base64-decoded part of the `whsec_` secret). Redirects are not followed (a 3xx is a
//!   failure, as the spec recommends). Webhook requests do not carry the hub's
//!   service-to-service credentials: the receivers are outside. They do carry a W3C
//!   `traceparent` (the attempt's span, in the trace of the change that made the event) when
//!   the event has one, so a receiver that traces continues the same trace; it names trace and
//!   span ids only.
//! - **Outcome.** 2xx: delivered. 410 Gone: the delivery fails and the endpoint is disabled with
//!   the reason recorded (`enableWebhook` turns it back on). Anything else, a timeout or a
//!   connection error: retried after the next delay of the schedule, with up to 10 % random
//!   jitter; when the schedule is exhausted the delivery is `FAILED` (replayable).
//! - **Schedule.** By default the spec's example: after the first attempt,
//!   5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h, so 10 attempts over about 3 days
//!   and 3 hours. `ROADMAP_WEBHOOK_RETRY_SCHEDULE` replaces it (`250ms,1s,1m,2h,1d`); the
//!   per-attempt timeout is `ROADMAP_WEBHOOK_TIMEOUT` (default 15 s). Both are keys of
//!   [`roadmap_common::config`], handed to the worker as
//!   [`roadmap_common::config::WebhookSettings`].
//! - **Replay.** `replayWebhookDelivery` makes one delivery due now with a fresh schedule (its
//!   attempts are kept and numbered on); `replayWebhookEvents` does it for every matching
//!   event after a cursor, creating missing deliveries, in one transaction.
//! - **Observability.** One span `webhook delivery` per attempt (event, endpoint, delivery,
//!   attempt number, status code, outcome), a child of the consumer's `event consumed` span in
//!   the trace of the change (a root span for events logged without a trace context); `roadmap_webhook_deliveries_total{outcome}` counts
//!   attempts by outcome (`delivered`, `retry`, `failed`, `gone`) and
//!   `roadmap_webhook_failures_total` the failed ones.
//! - **Secrets** are shown once, by `registerWebhook`, and stored as given to sign with.

pub mod sign;
pub mod store;
pub mod worker;
