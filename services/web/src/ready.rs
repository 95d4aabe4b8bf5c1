//! `/ready` of the web target: every page needs the gateway, so the web target is ready when the
//! gateway it reads is (its `/readiness` answers 200); `/health` stays the liveness (the process
//! answers). A Deployment's readiness probe then keeps visitors away from a web pod whose
//! gateway is down instead of showing them error pages.

use std::sync::LazyLock;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;

use crate::AppState;

/// Probes are seconds apart; this answers within the chart's probe timeout (2 s), so a slow
/// gateway reads as "not ready" with its reason rather than as a probe timeout.
static PROBE: LazyLock<reqwest::Client> = LazyLock::new(|| {
    reqwest::Client::builder()
        .timeout(Duration::from_millis(1500))
        .build()
        .unwrap_or_default()
});

/// The gateway's `/readiness` next to its GraphQL URL (`http://gateway:4000/graphql` →
/// `http://gateway:4000/readiness`).
pub fn readiness_url(graphql_url: &str) -> Result<String, String> {
    let url = reqwest::Url::parse(graphql_url).map_err(|e| format!("gateway URL {graphql_url:?}: {e}"))?;
    url.join("/readiness")
        .map(String::from)
        .map_err(|e| format!("gateway URL {graphql_url:?}: {e}"))
}

/// 200 `ready` when the gateway is ready; else 503 naming the gateway and why.
pub async fn ready(State(s): State<AppState>) -> (StatusCode, String) {
    let unready = |why: String| (StatusCode::SERVICE_UNAVAILABLE, format!("gateway not ready: {why}"));
    let url = match readiness_url(s.gateway.url()) {
        Ok(url) => url,
        Err(why) => return unready(why),
    };
    match PROBE.get(&url).send().await {
        Ok(r) if r.status().is_success() => (StatusCode::OK, "ready".to_string()),
        Ok(r) => unready(format!("{url} answered {}", r.status())),
        Err(e) => unready(format!("{url}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_readiness_url_sits_next_to_the_graphql_url() {
        assert_eq!(
            readiness_url("http://gateway:4000/graphql").as_deref(),
            Ok("http://gateway:4000/readiness")
        );
        assert_eq!(
            readiness_url("http://127.0.0.1:4000/").as_deref(),
            Ok("http://127.0.0.1:4000/readiness")
        );
        assert!(readiness_url("no url").unwrap_err().contains("gateway URL"));
    }
}
