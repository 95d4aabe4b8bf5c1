//! An OTLP/HTTP trace receiver on loopback: what a collector sees of the hub's real exporter.
//!
//! `POST /v1/traces` with an `ExportTraceServiceRequest` in protobuf (the hub's default
//! protocol) is decoded with the protocol's own messages (`opentelemetry-proto`) and kept as
//! [`ReceivedSpan`]s; anything else is refused with 400/415, so an exporter sending something
//! else fails the test instead of passing it silently. Point a hub at it with
//! `OTEL_EXPORTER_OTLP_ENDPOINT=<`[`OtlpReceiver::endpoint`]`>`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use axum::http::{HeaderMap, StatusCode};
use opentelemetry_proto::tonic::collector::trace::v1::{ExportTraceServiceRequest, ExportTraceServiceResponse};
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use prost::Message as _;

/// One exported span, ids in lowercase hex (`parent_span_id` empty for a root span).
#[derive(Debug, Clone)]
pub struct ReceivedSpan {
    /// `service.name` of the exporting process.
    pub service: String,
    pub name: String,
    pub trace_id: String,
    pub span_id: String,
    pub parent_span_id: String,
    pub attributes: Vec<(String, String)>,
    /// How many events it has (SQL statements are span events).
    pub events: usize,
}

impl ReceivedSpan {
    /// Whether it continues a span (a root span has no parent).
    pub fn has_parent(&self) -> bool {
        !self.parent_span_id.is_empty()
    }

    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn text(value: Option<&AnyValue>) -> String {
    match value.and_then(|v| v.value.as_ref()) {
        Some(any_value::Value::StringValue(s)) => s.clone(),
        Some(any_value::Value::IntValue(i)) => i.to_string(),
        Some(any_value::Value::BoolValue(b)) => b.to_string(),
        Some(any_value::Value::DoubleValue(d)) => d.to_string(),
        Some(other) => format!("{other:?}"),
        None => String::new(),
    }
}

fn pairs(attributes: &[KeyValue]) -> Vec<(String, String)> {
    attributes
        .iter()
        .map(|kv| (kv.key.clone(), text(kv.value.as_ref())))
        .collect()
}

/// The spans of one export request.
pub fn decode(body: &[u8]) -> anyhow::Result<Vec<ReceivedSpan>> {
    let request = ExportTraceServiceRequest::decode(body).context("not an ExportTraceServiceRequest")?;
    let mut spans = Vec::new();
    for resource_spans in request.resource_spans {
        let resource = pairs(
            resource_spans
                .resource
                .as_ref()
                .map_or(&[][..], |r| r.attributes.as_slice()),
        );
        let service = resource
            .iter()
            .find(|(k, _)| k == "service.name")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        for scope_spans in resource_spans.scope_spans {
            for span in scope_spans.spans {
                spans.push(ReceivedSpan {
                    service: service.clone(),
                    name: span.name,
                    trace_id: hex(&span.trace_id),
                    span_id: hex(&span.span_id),
                    parent_span_id: hex(&span.parent_span_id),
                    attributes: pairs(&span.attributes),
                    events: span.events.len(),
                });
            }
        }
    }
    Ok(spans)
}

type Spans = Arc<Mutex<Vec<ReceivedSpan>>>;

/// The receiver; stops when dropped.
pub struct OtlpReceiver {
    addr: std::net::SocketAddr,
    spans: Spans,
    server: tokio::task::JoinHandle<()>,
}

impl OtlpReceiver {
    /// Listens on a free loopback port.
    pub async fn start() -> anyhow::Result<OtlpReceiver> {
        let spans: Spans = Arc::default();
        let handler = {
            let spans = spans.clone();
            move |headers: HeaderMap, body: axum::body::Bytes| {
                let spans = spans.clone();
                async move {
                    let content_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
                    if content_type != "application/x-protobuf" {
                        return (
                            StatusCode::UNSUPPORTED_MEDIA_TYPE,
                            format!("OTLP/HTTP protobuf expected, got {content_type:?}").into_bytes(),
                        );
                    }
                    match decode(&body) {
                        Ok(received) => {
                            if let Ok(mut all) = spans.lock() {
                                all.extend(received);
                            }
                            (StatusCode::OK, ExportTraceServiceResponse::default().encode_to_vec())
                        }
                        Err(e) => (StatusCode::BAD_REQUEST, format!("{e:#}").into_bytes()),
                    }
                }
            }
        };
        let app = axum::Router::new().route("/v1/traces", axum::routing::post(handler));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("binding the OTLP receiver")?;
        let addr = listener.local_addr()?;
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(OtlpReceiver { addr, spans, server })
    }

    /// The base URL for `OTEL_EXPORTER_OTLP_ENDPOINT` (the exporter adds `/v1/traces`).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every span received so far.
    pub fn spans(&self) -> Vec<ReceivedSpan> {
        self.spans.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Waits until `done` holds for the spans received (exporters send in batches, every few
    /// seconds); returns them, or fails after `limit` listing what came.
    pub async fn wait_for(
        &self,
        limit: Duration,
        done: impl Fn(&[ReceivedSpan]) -> bool,
    ) -> anyhow::Result<Vec<ReceivedSpan>> {
        let deadline = Instant::now() + limit;
        loop {
            let spans = self.spans();
            if done(&spans) {
                return Ok(spans);
            }
            if Instant::now() > deadline {
                let names: Vec<String> = spans
                    .iter()
                    .map(|s| format!("{} {} {} ({})", s.trace_id, s.span_id, s.name, s.service))
                    .collect();
                bail!(
                    "spans not received within {limit:?}; {} received:\n{}",
                    spans.len(),
                    names.join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for OtlpReceiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}
