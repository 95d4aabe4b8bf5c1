//! The delivery worker: claims due deliveries, sends them, records each attempt.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use roadmap_common::config::WebhookSettings;
use roadmap_common::outbox::Wakeup;
use serde_json::{Value, json};
use sqlx::PgPool;
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;
use tracing::Instrument;

use super::sign::{key_of, sign};
use super::store::{self, AttemptRow, DueDelivery, Outcome};
use crate::NAME;
use crate::store::EventRow;

/// Attempts in flight at once: one slow endpoint does not hold up the others.
const CONCURRENCY: usize = 16;

/// Longest sleep without a notification: a lost `NOTIFY` delays a delivery at most this much.
const POLL: Duration = Duration::from_secs(5);

/// The body of a delivery (see the module docs of `webhooks` for the shape).
pub fn payload(event: &EventRow) -> Value {
    json!({
        "type": event.kind,
        "timestamp": event.occurred_at,
        "data": {
            "id": event.id,
            "cursor": event.cursor.to_string(),
            "kind": event.kind,
            "subjectType": event.subject_type,
            "subjectId": event.subject_id,
            "occurredAt": event.occurred_at,
            "before": event.before,
            "after": event.after,
            "context": event.context,
        }
    })
}

/// What an attempt that got `status` (or no answer: `None`) leads to, after `retry_step` failed
/// attempts since the delivery was queued; `jitter` in `0.0..=1.0` stretches the delay by up to
/// 10 %.
pub fn outcome(
    status: Option<u16>,
    retry_step: i32,
    schedule: &[Duration],
    now: DateTime<Utc>,
    jitter: f64,
    url: &str,
) -> Outcome {
    match status {
        Some(s) if (200..300).contains(&s) => Outcome::Delivered,
        Some(410) => Outcome::Gone(format!(
            "{url} answered 410 Gone at {}",
            now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        )),
        _ => match usize::try_from(retry_step).ok().and_then(|step| schedule.get(step)) {
            Some(delay) => {
                let delay = delay.mul_f64(1.0 + 0.1 * jitter.clamp(0.0, 1.0));
                Outcome::Retry(now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX))
            }
            None => Outcome::Failed,
        },
    }
}

/// `0.0..=1.0` from the operating system's randomness (0 if it fails: no jitter).
fn jitter() -> f64 {
    getrandom::u32()
        .map(|r| f64::from(r) / f64::from(u32::MAX))
        .unwrap_or(0.0)
}

/// A readable reason for a request that got no answer.
fn describe(error: &reqwest::Error, timeout: Duration) -> String {
    if error.is_timeout() {
        return format!("no answer within {} ms", timeout.as_millis());
    }
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Sends one claimed delivery and records the attempt; every step runs in one span, continuing
/// the event's trace (a root span when the event has none); the request carries its
/// `traceparent`.
async fn attempt(pool: &PgPool, http: &reqwest::Client, config: &WebhookSettings, due: DueDelivery) {
    let number = due.attempts + 1;
    let span = tracing::info_span!(
        parent: None,
        "webhook delivery",
        event.id = %due.event.id,
        endpoint.id = %due.endpoint_id,
        delivery.id = %due.delivery_id,
        attempt = number,
        http.status_code = tracing::field::Empty,
        outcome = tracing::field::Empty,
    );
    let traceparent = roadmap_common::telemetry::continue_trace(&span, due.event.traceparent.as_deref());
    async {
        let body = payload(&due.event).to_string();
        let id = due.event.id.to_string();
        let started_at = Utc::now();
        let started = Instant::now();
        let answer = match key_of(&due.secret) {
            Some(key) => {
                let timestamp = started_at.timestamp();
                let signature = sign(&key, &id, timestamp, body.as_bytes());
                let mut request = http.post(&due.url);
                if let Some(traceparent) = &traceparent {
                    request = request.header("traceparent", traceparent);
                }
                request
                    .header("content-type", "application/json")
                    .header("webhook-id", &id)
                    .header("webhook-timestamp", timestamp.to_string())
                    .header("webhook-signature", signature)
                    .body(body)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .map_err(|e| describe(&e, config.timeout))
            }
            None => Err("the webhook's secret cannot be decoded".to_string()),
        };
        let duration_ms = i32::try_from(started.elapsed().as_millis()).unwrap_or(i32::MAX);
        let (status, error) = match answer {
            Ok(status) => (Some(status), None),
            Err(error) => (None, Some(error)),
        };
        let result = outcome(
            status,
            due.retry_step,
            &config.retry_schedule,
            Utc::now(),
            jitter(),
            &due.url,
        );
        let span = tracing::Span::current();
        if let Some(s) = status {
            span.record("http.status_code", s);
        }
        span.record("outcome", result.label());
        let m = roadmap_common::metrics::metrics();
        m.webhook_deliveries.with_label_values(&[NAME, result.label()]).inc();
        if result != Outcome::Delivered {
            m.webhook_failures.with_label_values(&[NAME]).inc();
            tracing::info!(url = %due.url, status, error, outcome = result.label(), "webhook attempt failed");
        }
        let row = AttemptRow {
            delivery_id: due.delivery_id,
            number,
            attempted_at: started_at,
            status_code: status.map(i32::from),
            error,
            duration_ms,
        };
        // The lease keeps others off this delivery meanwhile; keep trying to record it.
        let mut backoff = Duration::from_millis(100);
        for _ in 0..8 {
            match store::record_attempt(pool, &due, &row, &result).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot record a webhook attempt; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
        tracing::error!("webhook attempt not recorded; the delivery comes due again after its lease");
    }
    .instrument(span)
    .await
}

/// The worker: runs until `shutdown` turns true, then lets attempts in flight finish (at most
/// the attempt timeout).
pub async fn run(pool: PgPool, config: WebhookSettings, mut shutdown: watch::Receiver<bool>) {
    let http = match reqwest::Client::builder()
        .timeout(config.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("roadmap-hub-webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(http) => http,
        Err(e) => {
            tracing::error!(error = %e, "cannot build the webhook HTTP client; webhooks are not delivered");
            return;
        }
    };
    let config = Arc::new(config);
    // A claimed delivery must be recorded before its lease ends.
    let lease = config.timeout + Duration::from_secs(30);
    let slots = Arc::new(Semaphore::new(CONCURRENCY));
    let finished = Arc::new(Notify::new());
    let mut in_flight = JoinSet::new();
    let mut wakeup = Wakeup::new(store::channel());
    let mut backoff = Duration::from_millis(100);
    loop {
        if *shutdown.borrow() {
            break;
        }
        while in_flight.try_join_next().is_some() {}
        wakeup.connect(&pool).await;
        let free = slots.available_permits();
        let mut wait = POLL;
        if free > 0 {
            match store::claim_due(&pool, free as i64, lease).await {
                Ok(batch) => {
                    backoff = Duration::from_millis(100);
                    let claimed = batch.len();
                    for due in batch {
                        let Ok(permit) = slots.clone().acquire_owned().await else {
                            break;
                        };
                        let (pool, http, config, finished) =
                            (pool.clone(), http.clone(), config.clone(), finished.clone());
                        in_flight.spawn(async move {
                            attempt(&pool, &http, &config, due).await;
                            drop(permit);
                            finished.notify_one();
                        });
                    }
                    if claimed == free {
                        // Maybe more are due: claim again as soon as a slot frees.
                        wait = Duration::ZERO;
                    } else {
                        match store::next_due(&pool).await {
                            Ok(Some(at)) => {
                                let until = (at - Utc::now()).to_std().unwrap_or(Duration::ZERO);
                                wait = until.min(POLL);
                            }
                            Ok(None) => {}
                            Err(e) => tracing::warn!(error = %e, "webhook worker cannot read the schedule"),
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, retry_in = ?backoff, "webhook worker cannot claim deliveries");
                    wait = backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
            }
        }
        if wait.is_zero() && slots.available_permits() > 0 {
            continue;
        }
        // All slots busy: wait for one to free (or for anything else below).
        let sleep_for = if wait.is_zero() { POLL } else { wait };
        tokio::select! {
            _ = tokio::time::sleep(sleep_for) => {}
            _ = finished.notified() => {}
            changed = shutdown.changed() => if changed.is_err() { break },
            _ = wakeup.notified() => {}
        }
    }
    let drain = async { while in_flight.join_next().await.is_some() {} };
    if tokio::time::timeout(config.timeout + Duration::from_secs(1), drain)
        .await
        .is_err()
    {
        tracing::warn!("webhook attempts still in flight at shutdown; they come due again after their lease");
    }
}

#[cfg(test)]
mod tests {
    use roadmap_common::outbox::OutboxEvent;

    use super::*;

    #[test]
    fn outcomes_follow_the_status_and_the_schedule() {
        let now = Utc::now();
        let schedule = [Duration::from_secs(5), Duration::from_secs(300)];
        let url = "https://example.org/hook";
        assert_eq!(outcome(Some(200), 0, &schedule, now, 0.0, url), Outcome::Delivered);
        assert_eq!(outcome(Some(204), 1, &schedule, now, 0.0, url), Outcome::Delivered);
        assert_eq!(
            outcome(Some(500), 0, &schedule, now, 0.0, url),
            Outcome::Retry(now + chrono::Duration::seconds(5))
        );
        assert_eq!(
            outcome(None, 1, &schedule, now, 0.0, url),
            Outcome::Retry(now + chrono::Duration::seconds(300))
        );
        // Jitter stretches by at most 10 %.
        let Outcome::Retry(at) = outcome(Some(503), 1, &schedule, now, 1.0, url) else {
            panic!("a retry");
        };
        assert_eq!(at, now + chrono::Duration::seconds(330));
        // Redirects are failures; after the last delay, the delivery fails.
        assert_eq!(outcome(Some(302), 2, &schedule, now, 0.0, url), Outcome::Failed);
        let Outcome::Gone(reason) = outcome(Some(410), 0, &schedule, now, 0.0, url) else {
            panic!("gone");
        };
        assert!(reason.contains("410") && reason.contains(url), "{reason}");
    }

    #[test]
    fn the_payload_carries_the_event() {
        let event = EventRow {
            event: OutboxEvent {
                before: Some(json!({ "status": "PLANNED" })),
                after: Some(json!({ "status": "DONE" })),
                context: json!({ "level": "SCHOOL" }),
                ..OutboxEvent::new("MEASURE_STATUS_CHANGED", "Measure", uuid::Uuid::new_v4())
            },
            cursor: 42,
            territories: Some(Vec::new()),
            draft: false,
        };
        let p = payload(&event);
        assert_eq!(p["type"], "MEASURE_STATUS_CHANGED");
        assert_eq!(p["data"]["id"], event.id.to_string());
        assert_eq!(p["data"]["cursor"], "42");
        assert_eq!(p["data"]["subjectId"], event.subject_id.to_string());
        assert_eq!(p["data"]["after"]["status"], "DONE");
        assert_eq!(p["data"]["context"]["level"], "SCHOOL");
    }
}
