//! Webhooks: HTTP endpoints that receive the events of the log their filter matches, signed per
//! the Standard Webhooks specification.
//!
//! Layout:
//! - [`sign`]: `whsec_` secrets and `v1,` HMAC-SHA256 signatures (checked against the reference
//!   libraries' test vector).
//! - [`store`]: SQL of endpoints (`webhook_endpoint`), deliveries (`webhook_delivery`, one per
//!   event × endpoint) and attempts (`webhook_attempt`, one per try).
//! - [`worker`]: the delivery worker the events target runs next to its consumer.
//! - [`graphql`]: `registerWebhook`, `disableWebhook`, `enableWebhook`,
//!   `replayWebhookDelivery`, `replayWebhookEvents`, `Query.webhooks`, `Query.webhook`.
//!
//! # Decisions
//!
//! - **Durable fan-out.** The consumer inserts an event into the log and creates its deliveries
//!   in one transaction ([`store::enqueue_event`]), for every enabled endpoint whose filter
//!   matches: a crash loses no delivery and creates none twice (`UNIQUE (endpoint_id,
//!   event_id)`). Matching is the live subscription's `Filter::matches`; the filter is stored as
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
//!   service-to-service credentials: the receivers are outside.
//! - **Outcome.** 2xx: delivered. 410 Gone: the delivery fails and the endpoint is disabled with
//!   the reason recorded (`enableWebhook` turns it back on). Anything else, a timeout or a
//!   connection error: retried after the next delay of the schedule, with up to 10 % random
//!   jitter; when the schedule is exhausted the delivery is `FAILED` (replayable).
//! - **Schedule.** [`DEFAULT_RETRY_SCHEDULE`] (the spec's example): after the first attempt,
//!   5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h, 20 h, 24 h, so 10 attempts over about 3 days
//!   and 3 hours. `ROADMAP_WEBHOOK_RETRY_SCHEDULE` replaces it (`250ms,1s,1m,2h,1d`); the
//!   per-attempt timeout is `ROADMAP_WEBHOOK_TIMEOUT` (default 15 s).
//! - **Replay.** `replayWebhookDelivery` makes one delivery due now with a fresh schedule (its
//!   attempts are kept and numbered on); `replayWebhookEvents` does it for every matching
//!   event after a cursor, creating missing deliveries, in one transaction.
//! - **Observability.** One root span `webhook delivery` per attempt (event, endpoint, delivery,
//!   attempt number, status code, outcome); `roadmap_webhook_deliveries_total{outcome}` counts
//!   attempts by outcome (`delivered`, `retry`, `failed`, `gone`) and
//!   `roadmap_webhook_failures_total` the failed ones.
//! - **Secrets** are shown once, by `registerWebhook`, and stored as given to sign with.

pub mod graphql;
pub mod sign;
pub mod store;
pub mod worker;

use std::time::Duration;

/// The retry delays after a failed first attempt (Standard Webhooks' example schedule).
pub const DEFAULT_RETRY_SCHEDULE: &str = "5s,5m,30m,2h,5h,10h,14h,20h,24h";

/// Default per-attempt timeout (the spec recommends 15 to 30 s).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);

/// How the delivery worker sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookConfig {
    /// Delay before each retry after a failed attempt; the first attempt is immediate.
    pub retry_schedule: Vec<Duration>,
    /// Limit of one attempt, connecting and answering included.
    pub timeout: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            retry_schedule: parse_schedule(DEFAULT_RETRY_SCHEDULE).expect("the default schedule parses"),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// Parses `250ms`, `5s`, `5m`, `2h` or `1d`.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration like 250ms, 5s, 5m, 2h or 1d"))?;
    let millis = match unit {
        "ms" => 1,
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("`{text}` has no unit: use ms, s, m, h or d")),
    };
    number
        .checked_mul(millis)
        .map(Duration::from_millis)
        .ok_or_else(|| format!("`{text}` is too long"))
}

/// Parses a comma-separated list of durations (`5s,5m,30m`); an empty list means no retry.
pub fn parse_schedule(text: &str) -> Result<Vec<Duration>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(parse_duration)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_spans_about_three_days() {
        let schedule = WebhookConfig::default().retry_schedule;
        assert_eq!(schedule.len(), 9);
        assert_eq!(schedule[0], Duration::from_secs(5));
        let total: Duration = schedule.iter().sum();
        assert_eq!(total.as_secs(), 75 * 3600 + 35 * 60 + 5);
    }

    #[test]
    fn durations_parse_with_units_and_refuse_garbage() {
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration(" 2h ").unwrap(), Duration::from_secs(7200));
        assert_eq!(parse_duration("1d").unwrap(), Duration::from_secs(86_400));
        assert!(parse_duration("5").unwrap_err().contains("unit"));
        assert!(parse_duration("fast").is_err());
        assert!(parse_duration("5w").is_err());
        assert_eq!(
            parse_schedule("1s, 2m").unwrap(),
            vec![Duration::from_secs(1), Duration::from_secs(120)]
        );
        assert!(parse_schedule("").unwrap().is_empty());
        assert!(parse_schedule("1s,x").is_err());
    }
}
