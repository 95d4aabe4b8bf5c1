//! The web target's HTTP routes: each page handler reads the visitor's token from the cookie,
//! sends its page's operation(s) to the gateway (at most two per page, whatever the data size)
//! and renders the answer.

use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use maud::Markup;
use roadmap_common::clock::Clock;
use serde::Deserialize;
use serde_json::json;

use crate::assets;
use crate::gateway::{FetchError, Gateway};
use crate::model::{
    IndicatorData, IndicatorTerritoryData, IndicatorsData, MeasureData, PlanData, RootsData, TerritoryData,
};
use crate::operations;
use crate::pages::layout::{Visitor, problem};
use crate::pages::{indicator, measure, overview, plan, signin};

#[derive(Clone)]
pub struct AppState {
    pub gateway: Gateway,
    /// "Today" for which plans are in force: the hub's clock, as the subgraphs' OVERDUE uses.
    pub clock: Clock,
}

/// The pages, the sign-in, the vendored assets and `/health`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(roots))
        .route("/territories/{id}", get(territory))
        .route("/plans/{id}", get(plan_page))
        .route("/measures/{id}", get(measure_page))
        .route("/indicators", get(indicators))
        .route("/indicators/{code}", get(indicator_page))
        .route("/indicators/{code}/{territory}", get(indicator_territory))
        .route("/signin", get(signin_form).post(signin_submit))
        .route("/signout", post(signout))
        .route("/assets/{file}", get(asset))
        .route("/health", get(|| async { "ok" }))
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

async fn roots(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let t = token(&headers);
    let v = visitor(&t);
    match s
        .gateway
        .query::<RootsData>(&operations::ROOTS, json!({}), t.as_deref())
        .await
    {
        Ok(data) => ok(overview::render_roots(&data, s.clock.today(), v)),
        Err(e) => fetch_failed(e, v),
    }
}

async fn territory(State(s): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let t = token(&headers);
    let v = visitor(&t);
    match s
        .gateway
        .query::<TerritoryData>(&operations::TERRITORY, json!({ "id": id }), t.as_deref())
        .await
    {
        Ok(TerritoryData {
            territory: Some(territory),
            plans,
        }) => ok(overview::render_territory(&territory, &plans.nodes, s.clock.today(), v)),
        Ok(_) => not_found(v, "Территория"),
        Err(e) => fetch_failed(e, v),
    }
}

async fn plan_page(State(s): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let t = token(&headers);
    let v = visitor(&t);
    match s
        .gateway
        .query::<PlanData>(&operations::PLAN, json!({ "id": id }), t.as_deref())
        .await
    {
        Ok(PlanData { plan: Some(p) }) => ok(plan::render(&p, v)),
        Ok(_) => not_found(v, "План"),
        Err(e) => fetch_failed(e, v),
    }
}

async fn measure_page(State(s): State<AppState>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let t = token(&headers);
    let v = visitor(&t);
    match s
        .gateway
        .query::<MeasureData>(&operations::MEASURE, json!({ "id": id }), t.as_deref())
        .await
    {
        Ok(MeasureData { measure: Some(m) }) => ok(measure::render(&m, v)),
        Ok(_) => not_found(v, "Мероприятие"),
        Err(e) => fetch_failed(e, v),
    }
}

async fn indicators(State(s): State<AppState>, headers: HeaderMap) -> Response {
    let t = token(&headers);
    let v = visitor(&t);
    match s
        .gateway
        .query::<IndicatorsData>(&operations::INDICATORS, json!({}), t.as_deref())
        .await
    {
        Ok(data) => ok(indicator::render_list(&data.indicators, v)),
        Err(e) => fetch_failed(e, v),
    }
}

async fn indicator_page(State(s): State<AppState>, Path(code): Path<String>, headers: HeaderMap) -> Response {
    let t = token(&headers);
    let v = visitor(&t);
    match s
        .gateway
        .query::<IndicatorData>(&operations::INDICATOR, json!({ "code": code }), t.as_deref())
        .await
    {
        Ok(IndicatorData { indicator: Some(i) }) => ok(indicator::render_indicator(&i, v)),
        Ok(_) => not_found(v, "Показатель"),
        Err(e) => fetch_failed(e, v),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct IndicatorParams {
    subject: Option<String>,
    period: Option<i64>,
}

async fn indicator_territory(
    State(s): State<AppState>,
    Path((code, territory)): Path<(String, String)>,
    Query(params): Query<IndicatorParams>,
    headers: HeaderMap,
) -> Response {
    let t = token(&headers);
    let v = visitor(&t);
    let subject = params.subject.filter(|s| !s.is_empty());
    let ask = |subject: Option<String>| {
        let vars = json!({ "code": code, "territory": territory, "subject": subject });
        let gateway = s.gateway.clone();
        let t = t.clone();
        async move {
            gateway
                .query::<IndicatorTerritoryData>(&operations::INDICATOR_TERRITORY, vars, t.as_deref())
                .await
        }
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

async fn signin_form(headers: HeaderMap) -> Response {
    let t = token(&headers);
    ok(signin::render(visitor(&t), None))
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
    let mut response = Redirect::to("/").into_response();
    if let Ok(cookie) = HeaderValue::from_str(&signin::set_cookie(token)) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

async fn signout() -> Response {
    let mut response = Redirect::to("/").into_response();
    if let Ok(cookie) = HeaderValue::from_str(&signin::clear_cookie()) {
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
