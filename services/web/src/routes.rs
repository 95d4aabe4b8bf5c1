//! The web target's HTTP routes: each page handler reads the visitor's token from the cookie,
//! sends its page's operation(s) to the gateway (at most two per page, whatever the data size)
//! and renders the answer.

use axum::Router;
use axum::body::Body;
use std::convert::Infallible;

use axum::extract::{Form, FromRequestParts, Path, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use chrono::NaiveDate;
use maud::Markup;
use roadmap_common::clock::Clock;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::assets;
use crate::gateway::{FetchError, Gateway};
use crate::model::{
    IndicatorData, IndicatorTerritoryData, IndicatorsData, MeasureData, PlanData, RootsData, TerritoryData,
};
use crate::operations::{self, Operation};
use crate::pages::layout::{Visitor, problem};
use crate::pages::{indicator, measure, overview, plan, signin};

#[derive(Clone)]
pub struct AppState {
    pub gateway: Gateway,
    /// "Today" for which plans are in force: the hub's clock, as the subgraphs' OVERDUE uses.
    pub clock: Clock,
}

/// The pages, the sign-in, the vendored assets, `/health` and `/ready` ([`crate::ready`]).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(roots))
        .route("/territories/{id}", get(territory))
        .route("/plans/{id}", get(plan_page))
        .route("/plans/{id}/live", get(plan_live))
        .route("/measures/{id}", get(measure_page))
        .route("/measures/{id}/live", get(measure_live))
        .route("/indicators", get(indicators))
        .route("/indicators/{code}", get(indicator_page))
        .route("/indicators/{code}/{territory}", get(indicator_territory))
        .route("/signin", get(signin_form).post(signin_submit))
        .route("/signout", post(signout))
        .route("/assets/{file}", get(asset))
        .route("/health", get(|| async { "ok" }))
        .route("/ready", get(crate::ready::ready))
        .with_state(state)
}

/// The visitor's token from the `Cookie` headers.
fn token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(signin::token_from_cookies)
        .map(str::to_string)
}

fn visitor(token: &Option<String>) -> Visitor {
    Visitor {
        signed_in: token.is_some(),
    }
}

fn html(status: StatusCode, markup: Markup) -> Response {
    (
        status,
        [(header::CACHE_CONTROL, "no-store")],
        Html(markup.into_string()),
    )
        .into_response()
}

fn ok(markup: Markup) -> Response {
    html(StatusCode::OK, markup)
}

fn fetch_failed(e: FetchError, v: Visitor) -> Response {
    let (status, message) = match e {
        FetchError::Unreachable(why) => {
            tracing::warn!(%why, "gateway unreachable");
            (
                StatusCode::BAD_GATEWAY,
                "Сервер данных недоступен. Попробуйте обновить страницу позже.".to_string(),
            )
        }
        FetchError::Graphql(messages) => (
            StatusCode::BAD_GATEWAY,
            format!("Сервер данных ответил ошибкой: {}", messages.join("; ")),
        ),
        FetchError::Shape(why) => {
            tracing::error!(%why, "gateway answer does not fit the page");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Страница не смогла прочитать ответ сервера данных.".to_string(),
            )
        }
    };
    html(status, problem("Ошибка", v, &message))
}

fn not_found(v: Visitor, what: &str) -> Response {
    let hint = if v.signed_in {
        ""
    } else {
        " Черновики видны только после входа."
    };
    html(
        StatusCode::NOT_FOUND,
        problem(
            "Не найдено",
            v,
            &format!("{what} не найден(о) или недоступен(о).{hint}"),
        ),
    )
}

/// One visitor's request: the gateway asked with the visitor's token (from the cookie), and what
/// the layout knows of the visitor.
struct Visit {
    gateway: Gateway,
    token: Option<String>,
    visitor: Visitor,
    /// "Today" of the hub's clock when the request came.
    today: NaiveDate,
}

impl FromRequestParts<AppState> for Visit {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, s: &AppState) -> Result<Self, Infallible> {
        let token = token(&parts.headers);
        Ok(Visit {
            gateway: s.gateway.clone(),
            visitor: visitor(&token),
            token,
            today: s.clock.today(),
        })
    }
}

impl Visit {
    async fn ask<T: DeserializeOwned>(&self, op: &Operation, variables: Value) -> Result<T, FetchError> {
        self.gateway.query(op, variables, self.token.as_deref()).await
    }

    /// A page of one request: `op`'s answer drawn by `render`, which gives `None` when the
    /// answer has no `what` (then 404).
    async fn page<T: DeserializeOwned>(
        &self,
        op: &Operation,
        variables: Value,
        what: &str,
        render: impl FnOnce(T) -> Option<Markup>,
    ) -> Response {
        match self.ask(op, variables).await {
            Ok(data) => render(data).map_or_else(|| not_found(self.visitor, what), ok),
            Err(e) => fetch_failed(e, self.visitor),
        }
    }
}

async fn roots(visit: Visit) -> Response {
    let render = |data: RootsData| Some(overview::render_roots(&data, visit.today, visit.visitor));
    visit.page(&operations::ROOTS, json!({}), "Обзор", render).await
}

async fn territory(visit: Visit, Path(id): Path<String>) -> Response {
    let render = |data: TerritoryData| {
        let territory = data.territory?;
        Some(overview::render_territory(
            &territory,
            &data.plans.nodes,
            visit.today,
            visit.visitor,
        ))
    };
    visit
        .page(&operations::TERRITORY, json!({ "id": id }), "Территория", render)
        .await
}

async fn plan_page(visit: Visit, Path(id): Path<String>) -> Response {
    let render = |data: PlanData| data.plan.map(|p| plan::render(&p, visit.visitor));
    visit.page(&operations::PLAN, json!({ "id": id }), "План", render).await
}

async fn measure_page(visit: Visit, Path(id): Path<String>) -> Response {
    let render = |data: MeasureData| data.measure.map(|m| measure::render(&m, visit.visitor));
    visit
        .page(&operations::MEASURE, json!({ "id": id }), "Мероприятие", render)
        .await
}

#[derive(Debug, Default, Deserialize)]
pub struct LiveParams {
    /// The last cursor the page saw, when it reconnects: the events after it are replayed.
    after: Option<String>,
}

async fn measure_live(visit: Visit, Path(id): Path<String>, Query(params): Query<LiveParams>) -> Response {
    live(visit, json!({ "underMeasure": id }), params.after).await
}

async fn plan_live(visit: Visit, Path(id): Path<String>, Query(params): Query<LiveParams>) -> Response {
    live(visit, json!({ "plan": id }), params.after).await
}

/// The gateway's `statusChanged` stream (SSE) for `filter`, passed through as it comes, asked
/// with the visitor's token from the cookie: the page's script never sees the token (the cookie
/// is HttpOnly) and the gateway leaves out what this visitor may not read (drafts). The
/// gateway's stream ends when the page goes away (the body is dropped with the connection).
async fn live(visit: Visit, filter: Value, after: Option<String>) -> Response {
    let variables = json!({ "filter": filter, "after": after.filter(|a| !a.is_empty()) });
    let upstream = match visit
        .gateway
        .subscribe(&operations::STATUS_CHANGED, variables, visit.token.as_deref())
        .await
    {
        Ok(upstream) => upstream,
        Err(e) => {
            tracing::warn!(?e, "live status stream refused");
            return (StatusCode::BAD_GATEWAY, "the gateway's event stream is unavailable").into_response();
        }
    };
    let chunks = futures::stream::unfold(Some(upstream), |upstream| async move {
        let mut upstream = upstream?;
        match upstream.chunk().await {
            Ok(Some(chunk)) => Some((Ok(chunk), Some(upstream))),
            Ok(None) => None,
            // The error ends the page's stream; the script reconnects after its last cursor.
            Err(e) => Some((Err(e), None)),
        }
    });
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Body::from_stream(chunks),
    )
        .into_response()
}

async fn indicators(visit: Visit) -> Response {
    let render = |data: IndicatorsData| Some(indicator::render_list(&data.indicators, visit.visitor));
    visit
        .page(&operations::INDICATORS, json!({}), "Показатели", render)
        .await
}

async fn indicator_page(visit: Visit, Path(code): Path<String>) -> Response {
    let render = |data: IndicatorData| data.indicator.map(|i| indicator::render_indicator(&i, visit.visitor));
    visit
        .page(&operations::INDICATOR, json!({ "code": code }), "Показатель", render)
        .await
}

#[derive(Debug, Default, Deserialize)]
pub struct IndicatorParams {
    subject: Option<String>,
    period: Option<i64>,
}

async fn indicator_territory(
    visit: Visit,
    Path((code, territory)): Path<(String, String)>,
    Query(params): Query<IndicatorParams>,
) -> Response {
    let v = visit.visitor;
    let subject = params.subject.filter(|s| !s.is_empty());
    let ask = |subject: Option<String>| {
        let vars = json!({ "code": code, "territory": territory, "subject": subject });
        visit.ask::<IndicatorTerritoryData>(&operations::INDICATOR_TERRITORY, vars)
    };
    let mut data = match ask(subject.clone()).await {
        Ok(d) => d,
        Err(e) => return fetch_failed(e, v),
    };
    // Without a subject the series is of all subjects together; an indicator broken down by
    // subject is shown for its first subject instead: a second request, the last one.
    let mut shown = subject;
    if shown.is_none() {
        let first = data
            .territory
            .as_ref()
            .and_then(|t| t.indicators.first())
            .and_then(|ti| ti.subject.clone());
        if first.is_some() {
            data = match ask(first.clone()).await {
                Ok(d) => d,
                Err(e) => return fetch_failed(e, v),
            };
            shown = first;
        }
    }
    match data {
        IndicatorTerritoryData {
            indicator: Some(i),
            territory: Some(ter),
        } => ok(indicator::render_territory(
            &i,
            &ter,
            shown.as_deref(),
            params.period,
            v,
        )),
        IndicatorTerritoryData { indicator: None, .. } => not_found(v, "Показатель"),
        _ => not_found(v, "Территория"),
    }
}

async fn signin_form(visit: Visit) -> Response {
    ok(signin::render(visit.visitor, None))
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    token: String,
}

async fn signin_submit(Form(form): Form<SignInForm>) -> Response {
    let token = form.token.trim();
    if !signin::valid_token(token) {
        return html(
            StatusCode::BAD_REQUEST,
            signin::render(
                Visitor::default(),
                Some("Это не похоже на токен: ожидается строка вида xxx.yyy.zzz."),
            ),
        );
    }
    home_setting(&signin::set_cookie(token))
}

async fn signout() -> Response {
    home_setting(&signin::clear_cookie())
}

/// A redirect to the home page that sets `cookie`.
fn home_setting(cookie: &str) -> Response {
    let mut response = Redirect::to("/").into_response();
    if let Ok(cookie) = HeaderValue::from_str(cookie) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

async fn asset(Path(file): Path<String>) -> Response {
    match assets::get(&file) {
        Some((content_type, body)) => (
            [
                (header::CONTENT_TYPE, content_type),
                (header::CACHE_CONTROL, "public, max-age=3600"),
            ],
            body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
