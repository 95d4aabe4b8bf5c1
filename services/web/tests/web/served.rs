//! The web router served over HTTP against a stand-in gateway that answers each operation with
//! its fixture and records what it was sent: pages answer 200 with their numbers, each sends at
//! most two GraphQL requests, the visitor's token goes along as `Authorization: Bearer`, every
//! request names its persisted document, and the sign-in sets the cookie.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use roadmap_common::clock::Clock;
use roadmap_web::gateway::Gateway;
use roadmap_web::operations::{self, ALL};
use roadmap_web::{AppState, routes};
use serde_json::Value;

use crate::{fixture, today};

#[derive(Clone, Debug)]
struct Seen {
    authorization: Option<String>,
    client_name: Option<String>,
    body: Value,
}

type Log = Arc<Mutex<Vec<Seen>>>;

async fn stand_in(State(log): State<Log>, headers: HeaderMap, Json(body): Json<Value>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let subscription = body["operationName"] == "WebStatusChanged";
    let wants_stream = headers
        .get("accept")
        .is_some_and(|v| v.to_str().unwrap_or("").contains("text/event-stream"));
    let answer = answer(log, &headers, body);
    if subscription && wants_stream && answer.0["refuse"].is_null() {
        // The router's SSE framing: `next` events, then `complete`.
        let text = format!("event: next\ndata: {}\n\nevent: complete\n\n", answer.0);
        return ([("content-type", "text/event-stream")], text).into_response();
    }
    answer.into_response()
}

fn answer(log: Log, headers: &HeaderMap, body: Value) -> Json<Value> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    log.lock().expect("log").push(Seen {
        authorization: header("authorization"),
        client_name: header("graphql-client-name"),
        body: body.clone(),
    });
    // A draft the visitor may not see is `null`; a failure is `errors` without data.
    match body["variables"]["id"].as_str() {
        Some("hidden") => return Json(serde_json::json!({ "data": { "plan": null } })),
        Some("broken") => {
            return Json(serde_json::json!({ "data": null, "errors": [{ "message": "unauthorized" }] }));
        }
        _ => {}
    }
    let file = match body["operationName"].as_str().unwrap_or("") {
        "WebRoots" => "roots",
        "WebTerritory" => "territory",
        "WebTerritoryLights" => "territory_lights",
        "WebMissing" => "missing",
        "WebPlan" => "plan",
        "WebPlanVersion" => "plan_version",
        "WebMeasure" | "WebMeasureLevel" => "measure",
        "WebIndicators" => "indicators",
        "WebIndicator" => "indicator",
        "WebIndicatorTerritory" => "indicator_territory",
        // A refused subscription is answered as JSON, not as a stream.
        "WebStatusChanged" if body["variables"]["after"] == "refuse" => {
            return Json(serde_json::json!({ "refuse": true, "errors": [{ "message": "no" }] }));
        }
        "WebStatusChanged" => {
            return Json(serde_json::json!({ "data": { "statusChanged": {
                "cursor": "8", "kind": "MEASURE_STATUS_CHANGED",
                "measure": { "id": "m-1", "status": "DONE", "progress": 100.0, "rolledProgress": null } } } }));
        }
        other => panic!("unknown operation {other}"),
    };
    Json(fixture(file))
}

async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    format!("http://{addr}")
}

pub struct Setup {
    pub web: String,
    log: Log,
    http: reqwest::Client,
}

pub async fn setup() -> Setup {
    let log: Log = Arc::default();
    let gateway = serve(
        axum::Router::new()
            .route("/graphql", post(stand_in))
            .with_state(log.clone()),
    )
    .await;
    let web = serve(routes::router(AppState {
        gateway: Gateway::new(format!("{gateway}/graphql")),
        clock: Clock::fixed(today()),
        exports: None,
        oidc: None,
    }))
    .await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    Setup { web, log, http }
}

impl Setup {
    /// GETs `path` with the token cookie; the page's status, HTML and the requests it sent.
    async fn page(&self, path: &str, token: Option<&str>) -> (u16, String, Vec<Seen>) {
        self.log.lock().expect("log").clear();
        let mut req = self.http.get(format!("{}{path}", self.web));
        if let Some(t) = token {
            req = req.header("cookie", format!("theme=dark; roadmap_token={t}"));
        }
        let res = req.send().await.expect("page");
        let status = res.status().as_u16();
        let html = res.text().await.expect("html");
        let seen = self.log.lock().expect("log").clone();
        (status, html, seen)
    }
}

#[tokio::test]
async fn every_page_is_served_from_at_most_two_gateway_requests_with_the_visitors_token() {
    let s = setup().await;
    let token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZXN0In0.c2lnbmF0dXJl";
    let pages = [
        ("/", "Федеральные планы", 1),
        // The territory, then the traffic lights of its first indicator.
        ("/territories/ter-zab", "Светофор показателя", 2),
        ("/territories/ter-zab/missing", "Чего не хватает", 1),
        ("/plans/plan-zab", "114-р", 1),
        ("/plans/plan-zab/versions/2", "Источник финансирования", 1),
        // The level of the measure's plan, then the measure as deep as that level asks.
        ("/measures/m-2-3", "Охват территорий", 2),
        ("/indicators", "ege_below_min", 1),
        ("/indicators/ege_below_min", "Забайкальский край", 1),
        ("/indicators/ege_below_min/ter-zab?subject=chemistry", "32,79", 1),
        // No subject: the first one the territory has, in a second request.
        ("/indicators/ege_below_min/ter-zab", "Химия: базовое", 2),
    ];
    for (path, text, requests) in pages {
        let (status, html, seen) = s.page(path, Some(token)).await;
        assert_eq!(status, 200, "{path}: {html}");
        assert!(html.contains(text), "{path} lacks {text}");
        assert!(html.contains("action=\"/signout\""), "{path}: signed in");
        assert_eq!(seen.len(), requests, "{path}: gateway requests");
        for r in &seen {
            assert_eq!(r.authorization.as_deref(), Some(&*format!("Bearer {token}")), "{path}");
            assert_eq!(r.client_name.as_deref(), Some("roadmap-web"));
            let query = r.body["query"].as_str().expect("query");
            let op = ALL.iter().find(|op| op.document == query).expect("a listed operation");
            assert_eq!(r.body["operationName"], op.name);
            assert_eq!(r.body["documentId"], operations::document_id(query));
        }
    }
    let (_, _, seen) = s.page("/indicators/ege_below_min/ter-zab", None).await;
    assert_eq!(seen[0].body["variables"]["subject"], Value::Null);
    assert_eq!(seen[1].body["variables"]["subject"], "chemistry");
    assert_eq!(seen[1].body["variables"]["territory"], "ter-zab");
}

#[tokio::test]
async fn anonymous_visitors_send_no_token() {
    let s = setup().await;
    let (status, html, seen) = s.page("/plans/plan-zab", None).await;
    assert_eq!(status, 200);
    assert!(html.contains("<a href=\"/signin\">Вход</a>"));
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].authorization, None);
    // A cookie that is not a token is not forwarded.
    let (_, _, seen) = s.page("/plans/plan-zab", Some("not a token")).await;
    assert_eq!(seen[0].authorization, None);
}

#[tokio::test]
async fn a_hidden_plan_is_not_found_and_a_failing_query_is_a_bad_gateway() {
    let s = setup().await;
    let (status, html, _) = s.page("/plans/hidden", None).await;
    assert_eq!(status, 404);
    assert!(
        html.contains("План не найден(о) или недоступен(о). Черновики видны только после входа."),
        "{html}"
    );
    let (status, html, _) = s.page("/plans/broken", None).await;
    assert_eq!(status, 502);
    assert!(html.contains("Сервер данных ответил ошибкой: unauthorized"), "{html}");
}

#[tokio::test]
async fn sign_in_sets_the_cookie_and_sign_out_clears_it() {
    let s = setup().await;
    let (status, html, seen) = s.page("/signin", None).await;
    assert_eq!(status, 200);
    assert!(html.contains("name=\"token\""));
    assert!(seen.is_empty(), "the sign-in page asks the gateway nothing");

    let res = s
        .http
        .post(format!("{}/signin", s.web))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("token=%20aaa.bbb.ccc%0A")
        .send()
        .await
        .expect("sign in");
    assert_eq!(res.status().as_u16(), 303);
    assert_eq!(res.headers()["location"], "/");
    let cookie = res.headers()["set-cookie"].to_str().expect("cookie");
    assert!(cookie.starts_with("roadmap_token=aaa.bbb.ccc;"), "{cookie}");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"),
        "{cookie}"
    );

    let res = s
        .http
        .post(format!("{}/signin", s.web))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("token=a%0D%0ASet-Cookie%3A+x")
        .send()
        .await
        .expect("bad token");
    assert_eq!(res.status().as_u16(), 400);
    assert!(res.headers().get("set-cookie").is_none());

    let res = s
        .http
        .post(format!("{}/signout", s.web))
        .send()
        .await
        .expect("sign out");
    assert_eq!(res.status().as_u16(), 303);
    assert!(
        res.headers()["set-cookie"]
            .to_str()
            .expect("cookie")
            .contains("Max-Age=0")
    );
}

#[tokio::test]
async fn assets_are_served_from_the_binary() {
    let s = setup().await;
    for (file, kind) in [
        ("uplot.iife.min.js", "text/javascript"),
        ("uplot.min.css", "text/css"),
        ("charts.js", "text/javascript"),
        ("web.css", "text/css"),
        ("uplot.LICENSE", "text/plain"),
    ] {
        let res = s
            .http
            .get(format!("{}/assets/{file}", s.web))
            .send()
            .await
            .expect("asset");
        assert_eq!(res.status().as_u16(), 200, "{file}");
        assert!(res.headers()["content-type"].to_str().expect("type").starts_with(kind));
        assert!(!res.bytes().await.expect("body").is_empty());
    }
    let res = s
        .http
        .get(format!("{}/assets/nope.js", s.web))
        .send()
        .await
        .expect("404");
    assert_eq!(res.status().as_u16(), 404);
    let res = s.http.get(format!("{}/health", s.web)).send().await.expect("health");
    assert_eq!(res.status().as_u16(), 200);
}

/// `/live` forwards the gateway's SSE stream of the page's filter, asked with the cookie's token
/// (the page's script cannot read it), and a refused stream is a bad gateway.
#[tokio::test]
async fn live_routes_forward_the_gateways_event_stream_with_the_visitors_token() {
    let s = setup().await;
    let res = s
        .http
        .get(format!("{}/measures/m-1/live?after=7", s.web))
        .header("cookie", "roadmap_token=tok.en.x")
        .send()
        .await
        .expect("live");
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let text = res.text().await.expect("stream");
    assert!(text.starts_with("event: next\ndata: {"), "{text}");
    assert!(text.contains("\"status\":\"DONE\""), "{text}");
    assert!(text.ends_with("event: complete\n\n"), "{text}");
    let seen = s.log.lock().expect("log").clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].authorization.as_deref(), Some("Bearer tok.en.x"));
    assert_eq!(
        seen[0].body["variables"],
        serde_json::json!({ "filter": { "underMeasure": "m-1" }, "after": "7" })
    );

    s.log.lock().expect("log").clear();
    let res = s
        .http
        .get(format!("{}/plans/p-1/live", s.web))
        .send()
        .await
        .expect("live");
    assert_eq!(res.status().as_u16(), 200);
    let seen = s.log.lock().expect("log").clone();
    assert_eq!(seen[0].authorization, None);
    assert_eq!(
        seen[0].body["variables"],
        serde_json::json!({ "filter": { "plan": "p-1" }, "after": null })
    );

    let res = s
        .http
        .get(format!("{}/measures/m-1/live?after=refuse", s.web))
        .send()
        .await
        .expect("live");
    assert_eq!(res.status().as_u16(), 502);
}

#[tokio::test]
async fn an_unreachable_gateway_is_a_readable_error_page() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let closed = listener.local_addr().expect("addr");
    drop(listener);
    let web = serve(routes::router(AppState {
        gateway: Gateway::new(format!("http://{closed}/graphql")),
        clock: Clock::fixed(today()),
        exports: None,
        oidc: None,
    }))
    .await;
    let res = reqwest::get(format!("{web}/plans/x")).await.expect("page");
    assert_eq!(res.status().as_u16(), 502);
    assert!(res.text().await.expect("html").contains("Сервер данных недоступен"));
}

/// The descriptor as the hub uses it: started with the gateway's URL in `Deps`, it hands back a
/// router that serves the pages from that gateway.
#[tokio::test]
async fn the_target_starts_as_the_hub_starts_it() {
    use roadmap_common::config::HubConfig;
    use roadmap_common::target::{Deps, EventChannel};
    use roadmap_web::TARGET;

    assert_eq!(TARGET.name, "web");
    assert_eq!(TARGET.default_port, 4005);
    assert!(TARGET.migrator.is_none() && TARGET.sdl.is_none() && !TARGET.ops);
    assert_eq!(TARGET.depends_on, ["gateway"]);
    assert_eq!(TARGET.calls, ["gateway"]);

    let log: Log = Arc::default();
    let gateway = serve(
        axum::Router::new()
            .route("/graphql", post(stand_in))
            .with_state(log.clone()),
    )
    .await;
    let mut config = HubConfig::defaults();
    config.clock = Clock::fixed(today());
    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    let deps = Deps::new(
        Arc::new(config),
        None,
        Arc::new(Mutex::new(None)),
        [("gateway".to_string(), format!("{gateway}/graphql"))].into(),
        shutdown,
        EventChannel::new(),
    );
    let started = (TARGET.start)(deps).await.expect("start");
    let web = serve(started.router.expect("a router")).await;
    let html = reqwest::get(format!("{web}/territories/ter-zab"))
        .await
        .expect("page")
        .text()
        .await
        .expect("html");
    assert!(html.contains("действующих планов: <strong>1</strong>"), "{html}");
    // The territory and its traffic lights.
    assert_eq!(log.lock().expect("log").len(), 2);
}

/// A version page asks for its version as an integer; a path that is not one is a 404 without
/// a request, a version the plan lacks (the API's `versionChanges` is `null`) a 404 too.
#[tokio::test]
async fn a_version_page_asks_for_its_version_and_refuses_what_is_not_one() {
    let s = setup().await;
    let (status, html, seen) = s.page("/plans/plan-zab/versions/2", None).await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].body["operationName"], "WebPlanVersion");
    assert_eq!(
        seen[0].body["variables"],
        serde_json::json!({ "id": "plan-zab", "version": 2 })
    );
    for bad in ["x", "0", "-1"] {
        let (status, _, seen) = s.page(&format!("/plans/plan-zab/versions/{bad}"), None).await;
        assert_eq!(status, 404, "{bad}");
        assert!(seen.is_empty(), "{bad}: no request");
    }
    let (status, html, _) = s.page("/plans/hidden/versions/2", None).await;
    assert_eq!(status, 404);
    assert!(html.contains("План не найден(о)"), "{html}");
}
