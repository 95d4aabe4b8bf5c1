//! Requests per second per client at the gateway (`rate_limit`, `ROADMAP_RATE_LIMIT`; 0 = off).
//! Hive Router 0.2.19 has no rate limiting of its own (its `traffic_shaping` limits connections
//! to subgraphs and long-lived clients, not requests per client), so this is an ntex middleware
//! in front of the router's pipeline, on the listener we own.
//!
//! - **Client.** The subject (`sub`) of a bearer token that verifies, checked with the router's
//!   own JWT runtime and claims cache (the pipeline then finds it cached): users sharing an
//!   address (a school behind one NAT) each get their own budget, and a forged token cannot buy
//!   a fresh one, as it does not verify and counts against its address. Without a (valid) token,
//!   the peer address. Behind an ingress the peer is the ingress: anonymous clients then share
//!   one budget, so put per-address limits there.
//! - **Budget.** A token bucket per client: `rate` requests per second, bursts of `rate`.
//! - **Refusal.** HTTP 429 with `Retry-After` (whole seconds) and a GraphQL error (`extensions.code`
//!   `RATE_LIMITED`) naming the limit and the client kind. Health, readiness and metrics are
//!   never limited; a WebSocket or SSE subscription counts once, when it opens.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hive_router::RouterSharedState;
use hive_router::ntex::service::{Service, ServiceCtx};
use hive_router::ntex::web::{self, DefaultError};
use hive_router::ntex::{Middleware, SharedCfg};

/// Clients remembered before idle ones (full buckets) are forgotten.
const REMEMBERED: usize = 10_000;

/// Paths never limited: probes and scrapes.
const EXEMPT: [&str; 3] = ["/health", "/readiness", "/metrics"];

/// Token buckets per client, or nothing to limit (0); cheap to clone (shared by the router's
/// workers).
#[derive(Clone)]
pub struct RateLimit(Option<Arc<Limiter>>);

struct Limiter {
    rate: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimit {
    /// `per_second` 0 limits nothing.
    pub fn new(per_second: u32) -> RateLimit {
        RateLimit((per_second > 0).then(|| {
            Arc::new(Limiter {
                rate: f64::from(per_second),
                buckets: Mutex::default(),
            })
        }))
    }

    /// Takes one request from `client`'s bucket, or says how long until one is there.
    fn take(&self, client: &str, now: Instant) -> Result<(), Duration> {
        let Some(limiter) = &self.0 else { return Ok(()) };
        // A poisoned map still holds valid buckets.
        let mut buckets = limiter.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= REMEMBERED && !buckets.contains_key(client) {
            let rate = limiter.rate;
            buckets.retain(|_, b| b.tokens + now.duration_since(b.at).as_secs_f64() * rate < rate);
        }
        let bucket = buckets.entry(client.to_string()).or_insert(Bucket {
            tokens: limiter.rate,
            at: now,
        });
        let refilled = now.duration_since(bucket.at).as_secs_f64() * limiter.rate;
        bucket.tokens = (bucket.tokens + refilled).min(limiter.rate);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64((1.0 - bucket.tokens) / limiter.rate))
        }
    }

    fn per_second(&self) -> f64 {
        self.0.as_ref().map_or(0.0, |l| l.rate)
    }
}

impl<S> Middleware<S, SharedCfg> for RateLimit {
    type Service = RateLimitMiddleware<S>;

    fn create(&self, service: S, _cfg: SharedCfg) -> Self::Service {
        RateLimitMiddleware {
            service,
            limit: self.clone(),
        }
    }
}

pub struct RateLimitMiddleware<S> {
    service: S,
    limit: RateLimit,
}

/// Who is asking: `subject <sub>` of a verified token, else `address <ip>`.
async fn client(req: &web::WebRequest<DefaultError>) -> String {
    if let Some(state) = req.app_state::<Arc<RouterSharedState>>()
        && let Some(jwt) = state.jwt_auth_runtime.as_ref()
        && let Ok(Some(verified)) = jwt.validate_headers(req.headers(), &state.jwt_claims_cache).await
        && let Some(sub) = verified.token_payload.claims.sub.as_deref()
    {
        return format!("subject {sub}");
    }
    match req.peer_addr() {
        Some(addr) => format!("address {}", addr.ip()),
        None => "address unknown".to_string(),
    }
}

impl<S> Service<web::WebRequest<DefaultError>> for RateLimitMiddleware<S>
where
    S: Service<web::WebRequest<DefaultError>, Response = web::WebResponse, Error = web::Error>,
{
    type Response = web::WebResponse;
    type Error = S::Error;

    hive_router::ntex::forward_ready!(service);

    async fn call(
        &self,
        req: web::WebRequest<DefaultError>,
        ctx: ServiceCtx<'_, Self>,
    ) -> Result<Self::Response, Self::Error> {
        if self.limit.0.is_none() || EXEMPT.contains(&req.path()) {
            return ctx.call(&self.service, req).await;
        }
        let client = client(&req).await;
        match self.limit.take(&client, Instant::now()) {
            Ok(()) => ctx.call(&self.service, req).await,
            Err(wait) => {
                let kind = client.split(' ').next().unwrap_or("client");
                let seconds = wait.as_secs_f64().ceil().max(1.0) as u64;
                let body = serde_json::json!({ "errors": [{
                    "message": format!(
                        "rate limit exceeded: at most {} requests per second per client (this one is known by its {kind}); retry after {seconds} s",
                        self.limit.per_second()
                    ),
                    "extensions": { "code": "RATE_LIMITED" },
                }]});
                tracing::debug!(%client, "rate limited");
                let response = web::HttpResponse::TooManyRequests()
                    .header("retry-after", seconds.to_string())
                    .content_type("application/json")
                    .body(body.to_string());
                Ok(req.into_response(response))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_allows_bursts_of_the_rate_then_refills() {
        assert!(RateLimit::new(0).take("anyone", Instant::now()).is_ok());
        let limit = RateLimit::new(3);
        let start = Instant::now();
        for _ in 0..3 {
            assert!(limit.take("subject a", start).is_ok());
        }
        let wait = limit.take("subject a", start).expect_err("fourth in the same instant");
        assert!(wait > Duration::ZERO && wait <= Duration::from_millis(334), "{wait:?}");
        assert!(limit.take("subject b", start).is_ok(), "another client is unaffected");
        assert!(limit.take("subject a", start + Duration::from_millis(340)).is_ok());
        assert!(limit.take("subject a", start + Duration::from_millis(340)).is_err());
    }
}
