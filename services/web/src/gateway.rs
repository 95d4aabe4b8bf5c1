//! The web target's only source of data: the gateway's GraphQL API over HTTP, called as any
//! dashboard front-end would, with the visitor's token.

use std::time::Duration;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::operations::Operation;

/// GraphQL requests this process's web pages have sent to the gateway (every page, every
/// visitor): what the page benchmark divides by the pages it asked for.
static REQUESTS_SENT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many GraphQL requests (queries, mutations, subscriptions) the web pages of this process
/// have sent to the gateway since it started.
pub fn requests_sent() -> u64 {
    REQUESTS_SENT.load(std::sync::atomic::Ordering::Relaxed)
}

/// Sent as `graphql-client-name` (the router's CSRF check accepts it and logs it per client).
pub const CLIENT_NAME: &str = "roadmap-web";

/// A client of the gateway at `url` (`http://host:port/graphql`).
#[derive(Clone)]
pub struct Gateway {
    http: reqwest::Client,
    /// For subscriptions: no overall timeout (a stream stays open as long as the page does).
    streams: reqwest::Client,
    url: String,
}

/// Why a page has no data.
#[derive(Debug)]
pub enum FetchError {
    /// The gateway could not be reached or answered something that is not a GraphQL response.
    Unreachable(String),
    /// The gateway answered with errors (their messages) and no usable data.
    Graphql(Vec<String>),
    /// The data did not have the shape the page expects (a bug of the page's operation).
    Shape(String),
}

impl Gateway {
    pub fn new(url: impl Into<String>) -> Self {
        let http = reqwest::Client::builder()
            // The router's own subgraph timeout is 30 s; a page should not wait longer.
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap_or_default();
        let streams = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Self {
            http,
            streams,
            url: url.into(),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The HTTP client (its timeouts) for other plain requests of the web target.
    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Runs `op` with `variables`, as the visitor `token` (none: anonymous), and reads `data`
    /// as `T`. Errors next to data are logged and the data used (e.g. a hidden draft).
    pub async fn query<T: DeserializeOwned>(
        &self,
        op: &Operation,
        variables: Value,
        token: Option<&str>,
    ) -> Result<T, FetchError> {
        let response = self
            .request(&self.http, op, variables, token)
            .send()
            .await
            .map_err(|e| FetchError::Unreachable(e.to_string()))?;
        let status = response.status();
        let answer: Value = response
            .json()
            .await
            .map_err(|e| FetchError::Unreachable(format!("HTTP {status}: {e}")))?;
        read_data(op, answer)
    }
}

impl Gateway {
    /// `op` with `variables` as a POST to the gateway (the query and its persisted id, our client
    /// name), as the visitor `token` (none: anonymous).
    fn request(
        &self,
        client: &reqwest::Client,
        op: &Operation,
        variables: Value,
        token: Option<&str>,
    ) -> reqwest::RequestBuilder {
        REQUESTS_SENT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let body = json!({
            "query": op.document,
            "operationName": op.name,
            "variables": variables,
            "documentId": op.id(),
        });
        let request = client
            .post(&self.url)
            .header("graphql-client-name", CLIENT_NAME)
            .json(&body);
        match token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// Opens the subscription `op` over SSE (README "Event stream") as the visitor `token`; the
    /// answer's body is the router's event stream, unread. A refusal (not `text/event-stream`)
    /// is [`FetchError::Unreachable`] with the router's status and the start of its answer.
    pub async fn subscribe(
        &self,
        op: &Operation,
        variables: Value,
        token: Option<&str>,
    ) -> Result<reqwest::Response, FetchError> {
        let response = self
            .request(&self.streams, op, variables, token)
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .send()
            .await
            .map_err(|e| FetchError::Unreachable(e.to_string()))?;
        let status = response.status();
        let is_stream = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
        if status.is_success() && is_stream {
            return Ok(response);
        }
        let text = response.text().await.unwrap_or_default();
        let start: String = text.chars().take(300).collect();
        Err(FetchError::Unreachable(format!(
            "HTTP {status} to a subscription: {start}"
        )))
    }
}

/// The `data` of a GraphQL response as `T`.
pub fn read_data<T: DeserializeOwned>(op: &Operation, mut answer: Value) -> Result<T, FetchError> {
    let messages: Vec<String> = answer["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| e["message"].as_str().unwrap_or("ошибка").to_string())
                .collect()
        })
        .unwrap_or_default();
    let data = answer["data"].take();
    if data.is_null() {
        return Err(FetchError::Graphql(if messages.is_empty() {
            vec!["пустой ответ".to_string()]
        } else {
            messages
        }));
    }
    if !messages.is_empty() {
        tracing::warn!(operation = op.name, errors = ?messages, "gateway answered with errors next to data");
    }
    serde_json::from_value(data).map_err(|e| FetchError::Shape(format!("{}: {e}", op.name)))
}
