//! The web target's HTTP routes: each page handler reads the visitor's token from the cookie,
//! sends its page's operation(s) to the gateway (at most two per page, whatever the data size)
//! and renders the answer.

use axum::Router;
use axum::body::Body;
use std::convert::Infallible;

use axum::extract::{Form, FromRequestParts, Path, Query, State};
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
    IndicatorData, IndicatorTerritoryData, IndicatorsData, LightsData, MeasureData, MissingData, PlanData, RootsData,
    TerritoryData,
};
use crate::operations::{self, Operation};
use crate::pages::layout::{Visitor, problem};
use crate::pages::{indicator, measure, missing, overview, plan, signin};

#[derive(Clone)]
pub struct AppState {
    pub gateway: Gateway,
    /// "Today" for which plans are in force: the hub's clock, as the subgraphs' OVERDUE uses.
    pub clock: Clock,
    /// The plans target's address (`http://host:port`), where `/export/` is forwarded; `None`
    /// when this process does not know it (then an ingress routes `/export/` to plans).
    pub exports: Option<String>,
}

/// The pages, the sign-in, the vendored assets, `/health` and `/ready` ([`crate::ready`]).
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(roots))
        .route("/territories/{id}", get(territory))
        .route("/territories/{id}/missing", get(missing_page))
        .route("/territories/{id}/missing/{file}", get(missing_csv))
        .route("/export/plans/{file}", get(export))
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

#[derive(Debug, Default, Deserialize)]
pub struct LightParams {
    indicator: Option<String>,
    subject: Option<String>,
}

/// `/territories/{id}[?indicator=&subject=]`: the territory, then (a second request) the
/// traffic lights of the chosen indicator, else of the first it has values of. Without lights
/// (none, or their request failed) the page is shown all the same.
async fn territory(visit: Visit, Path(id): Path<String>, Query(params): Query<LightParams>) -> Response {
    let v = visit.visitor;
    let data: TerritoryData = match visit.ask(&operations::TERRITORY, json!({ "id": id })).await {
        Ok(d) => d,
        Err(e) => return fetch_failed(e, v),
    };
    let Some(territory) = data.territory else {
        return not_found(v, "Территория");
    };
    let choices = overview::light_choices(&territory);
    let wanted = |c: &&overview::LightChoice| {
        params.indicator.as_deref() == Some(c.code.as_str())
            && params.subject.as_deref().filter(|s| !s.is_empty()) == c.subject.as_deref()
    };
    let choice = choices.iter().find(wanted).or(choices.first()).cloned();
    let mut lights = None;
    if let Some(choice) = choice.filter(|_| !territory.children.is_empty()) {
        let vars = json!({ "id": id, "indicator": choice.code, "subject": choice.subject });
        match visit.ask::<LightsData>(&operations::TERRITORY_LIGHTS, vars).await {
            Ok(LightsData { territory: Some(t) }) => {
                lights = Some(overview::Lights::new(choice, choices, t.series));
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(?e, "traffic lights left out"),
        }
    }
    ok(overview::render_territory(
        &territory,
        &data.plans.nodes,
        visit.today,
        lights.as_ref(),
        v,
    ))
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
pub struct MissingParams {
    days: Option<String>,
}

impl MissingParams {
    /// `?days=` (default 30), or the message saying what is wrong with it.
    fn days(&self) -> Result<i32, String> {
        match self.days.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            None => Ok(missing::DEFAULT_DAYS),
            Some(text) => text
                .parse::<i32>()
                .ok()
                .filter(|d| (0..=missing::MAX_DAYS).contains(d))
                .ok_or_else(|| {
                    format!(
                        "Параметр days: «{text}» — ожидается целое число дней от 0 до {}.",
                        missing::MAX_DAYS
                    )
                }),
        }
    }
}

impl Visit {
    /// The "what is missing" answer for territory `id`, lists `first` long.
    async fn missing(&self, id: &str, days: i32, first: i32) -> Result<MissingData, FetchError> {
        self.ask(&operations::MISSING, json!({ "id": id, "days": days, "first": first }))
            .await
    }
}

/// `/territories/{id}/missing?days=`: the auditor's page, one GraphQL request.
async fn missing_page(visit: Visit, Path(id): Path<String>, Query(params): Query<MissingParams>) -> Response {
    let days = match params.days() {
        Ok(d) => d,
        Err(message) => {
            return html(
                StatusCode::BAD_REQUEST,
                problem("Неверный запрос", visit.visitor, &message),
            );
        }
    };
    match visit.missing(&id, days, missing::PAGE_ROWS).await {
        Ok(MissingData { territory: Some(t) }) => ok(missing::render(&t, days, visit.visitor)),
        Ok(_) => not_found(visit.visitor, "Территория"),
        Err(e) => fetch_failed(e, visit.visitor),
    }
}

/// `/territories/{id}/missing/<table>.csv?days=`: one table of the page as CSV (UTF-8 with BOM,
/// `;`), from one GraphQL request with the lists up to [`missing::CSV_ROWS`] long.
async fn missing_csv(
    visit: Visit,
    Path((id, file)): Path<(String, String)>,
    Query(params): Query<MissingParams>,
) -> Response {
    let v = visit.visitor;
    let Some(table) = missing::Table::from_file(&file) else {
        return not_found(v, "Таблица");
    };
    let days = match params.days() {
        Ok(d) => d,
        Err(message) => return html(StatusCode::BAD_REQUEST, problem("Неверный запрос", v, &message)),
    };
    let t = match visit.missing(&id, days, missing::CSV_ROWS).await {
        Ok(MissingData { territory: Some(t) }) => t,
        Ok(_) => return not_found(v, "Территория"),
        Err(e) => return fetch_failed(e, v),
    };
    let (header, rows) = missing::rows(&t, table);
    let disposition = format!("attachment; filename=\"{}\"", missing::csv_file_name(&t, table));
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        crate::csv::table(&header, &rows),
    )
        .into_response()
}

/// `/export/plans/<id>.csv|.xlsx[?expires=&signature=]`: the plans target's export, passed
/// through as it answers (what an ingress routing `/export/` to the plans port does), so the
/// plan page's links (`Plan.exports`, paths) work on this address too. The plans target decides
/// who gets what (approved plans: anyone; drafts: a valid signed link).
async fn export(
    State(state): State<AppState>,
    Path(file): Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    let Some(base) = state.exports.as_deref() else {
        return (StatusCode::NOT_FOUND, "exports are served by the plans target").into_response();
    };
    let mut url = format!("{base}/export/plans/{file}");
    if let Some(q) = query {
        url.push('?');
        url.push_str(&q);
    }
    let upstream = match state.gateway.http().get(&url).send().await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(%e, "plans export unreachable");
            return (StatusCode::BAD_GATEWAY, "the plans target does not answer").into_response();
        }
    };
    let status = StatusCode::from_u16(upstream.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut response = Response::builder().status(status);
    for name in [header::CONTENT_TYPE, header::CONTENT_DISPOSITION, header::CACHE_CONTROL] {
        if let Some(value) = upstream
            .headers()
            .get(name.as_str())
            .and_then(|v| HeaderValue::from_bytes(v.as_bytes()).ok())
        {
            response = response.header(name, value);
        }
    }
    response
        .body(body_of(upstream))
        .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
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
    (
        [
            (header::CONTENT_TYPE, "text/event-stream"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body_of(upstream),
    )
        .into_response()
}

/// An upstream answer's body passed on as it comes; an error ends it (a live page's script then
/// reconnects after its last cursor).
fn body_of(upstream: reqwest::Response) -> Body {
    let chunks = futures::stream::unfold(Some(upstream), |upstream| async move {
        let mut upstream = upstream?;
        match upstream.chunk().await {
            Ok(Some(chunk)) => Some((Ok(chunk), Some(upstream))),
            Ok(None) => None,
            Err(e) => Some((Err(e), None)),
        }
    });
    Body::from_stream(chunks)
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
