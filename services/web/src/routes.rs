//! The web target's HTTP routes: each page handler reads the visitor's token from the cookie,
//! sends its page's operation(s) to the gateway (at most two per page, whatever the data size)
//! and renders the answer.

use axum::Router;
use axum::body::Body;
use std::convert::Infallible;

use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, Form, FromRequestParts, Multipart, Path, Query, State};
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
    ImportData, ImportResult, IndicatorData, IndicatorTerritoryData, IndicatorsData, LightsData, MeasureData,
    MissingData, PlanData, PreviewData, RootsData, TerritoryData,
};
use crate::oidc::{self, Oidc};
use crate::operations::{self, Operation};
use crate::pages::layout::{Visitor, plan_href, problem};
use crate::pages::{indicator, measure, missing, overview, plan, signin, upload};

#[derive(Clone)]
pub struct AppState {
    pub gateway: Gateway,
    /// "Today" for which plans are in force: the hub's clock, as the subgraphs' OVERDUE uses.
    pub clock: Clock,
    /// The plans target's address (`http://host:port`), where `/export/` is forwarded; `None`
    /// when this process does not know it (then an ingress routes `/export/` to plans).
    pub exports: Option<String>,
    /// The OpenID Connect provider visitors sign in with; `None`: the development sign-in only.
    pub oidc: Option<Oidc>,
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
        .route("/plans/{id}/versions/{version}", get(plan_version_page))
        .route("/measures/{id}", get(measure_page))
        .route("/measures/{id}/live", get(measure_live))
        .route("/indicators", get(indicators))
        .route("/indicators/{code}", get(indicator_page))
        .route("/indicators/{code}/{territory}", get(indicator_territory))
        .route(
            "/upload",
            get(upload_form)
                .post(upload_preview)
                .layer(DefaultBodyLimit::max(UPLOAD_BODY_BYTES)),
        )
        .route(
            "/upload/confirm",
            post(upload_confirm).layer(DefaultBodyLimit::max(UPLOAD_BODY_BYTES)),
        )
        .route("/signin", get(signin_form).post(signin_submit))
        .route("/signout", post(signout))
        .route(oidc::LOGIN_PATH, get(auth_login))
        .route(oidc::CALLBACK_PATH, get(auth_callback))
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

/// `/plans/{id}/versions/{n}`: what changed in version n of the plan against the one before it,
/// one request. A version the plan does not have is a 404 (the API's error names it).
async fn plan_version_page(visit: Visit, Path((id, version)): Path<(String, String)>) -> Response {
    let v = visit.visitor;
    let Some(version) = version.parse::<i32>().ok().filter(|n| *n > 0) else {
        return not_found(v, "Версия плана");
    };
    let vars = json!({ "id": id, "version": version });
    match visit.ask::<PlanData>(&operations::PLAN_VERSION, vars).await {
        Ok(PlanData { plan: Some(plan) }) => match &plan.version_changes {
            Some(changes) => ok(crate::pages::versions::render(&plan, changes, v)),
            None => not_found(v, "Версия плана"),
        },
        Ok(_) => not_found(v, "План"),
        Err(e) => fetch_failed(e, v),
    }
}

/// `/measures/{id}`: the level of the measure's plan (first request) decides how deep the
/// cascade down is asked (second request, see [`measure::down_depth`]).
async fn measure_page(visit: Visit, Path(id): Path<String>) -> Response {
    let v = visit.visitor;
    let level = match visit
        .ask::<MeasureData>(&operations::MEASURE_LEVEL, json!({ "id": id }))
        .await
    {
        Ok(MeasureData { measure: Some(m) }) => m.plan.and_then(|p| p.level),
        Ok(_) => return not_found(v, "Мероприятие"),
        Err(e) => return fetch_failed(e, v),
    };
    let down = measure::down_depth(level.as_deref());
    let render = |data: MeasureData| data.measure.map(|m| measure::render(&m, down, v));
    visit
        .page(
            &operations::MEASURE,
            json!({ "id": id, "down": down }),
            "Мероприятие",
            render,
        )
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

/// The request body the upload routes take: a file of [`upload::MAX_FILE_BYTES`] as multipart,
/// or as base64 in the confirmation form (URL-encoded), with room for the other fields.
const UPLOAD_BODY_BYTES: usize = upload::MAX_FILE_BYTES * 2;

#[derive(Debug, Default, Deserialize)]
pub struct UploadParams {
    cancelled: Option<String>,
}

/// `/upload[?cancelled=1]`: the form (after a cancelled preview, saying that nothing was stored).
async fn upload_form(visit: Visit, Query(params): Query<UploadParams>) -> Response {
    ok(match params.cancelled {
        Some(_) => upload::render_cancelled(visit.visitor),
        None => upload::render_form(visit.visitor, &upload::Upload::default(), None),
    })
}

/// The upload form's fields, or the message saying what is wrong with them.
async fn read_upload(mut form: Multipart) -> Result<upload::Upload, String> {
    use base64::Engine as _;
    let mut out = upload::Upload::default();
    let mut file: Option<Vec<u8>> = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return Err(format!("Форма не прочитана: {}", e.body_text())),
        };
        let name = field.name().unwrap_or("").to_string();
        if name == "file" {
            out.file_name = field.file_name().unwrap_or("").trim().to_string();
            let bytes = field.bytes().await.map_err(|e| {
                format!(
                    "Файл не прочитан: {} (до {} МБ).",
                    e.body_text(),
                    upload::MAX_FILE_BYTES / (1024 * 1024)
                )
            })?;
            file = Some(bytes.to_vec());
            continue;
        }
        let value = field
            .text()
            .await
            .map_err(|e| format!("Поле {name}: {}", e.body_text()))?;
        match name.as_str() {
            "territory" => out.territory = value,
            "level" => out.level = value,
            "owner" => out.owner = value,
            "key" => out.key = value,
            _ => {}
        }
    }
    let file = file.filter(|f| !f.is_empty()).ok_or("Выберите непустой файл.")?;
    if file.len() > upload::MAX_FILE_BYTES {
        return Err(format!(
            "Файл больше {} МБ: через шлюз его не загрузить.",
            upload::MAX_FILE_BYTES / (1024 * 1024)
        ));
    }
    if out.file_name.is_empty() {
        out.file_name = "document".to_string();
    }
    out.content_base64 = base64::engine::general_purpose::STANDARD.encode(&file);
    Ok(out)
}

/// The form again with what went wrong (the gateway's messages name the file and line).
fn upload_refused(visit: &Visit, upload: &upload::Upload, e: FetchError) -> Response {
    match e {
        FetchError::Graphql(messages) => html(
            StatusCode::UNPROCESSABLE_ENTITY,
            upload::render_form(
                visit.visitor,
                upload,
                Some(&format!("Файл не принят: {}", messages.join("; "))),
            ),
        ),
        other => fetch_failed(other, visit.visitor),
    }
}

/// `POST /upload`: the file read and previewed (`importPreview`, nothing stored).
async fn upload_preview(visit: Visit, form: Multipart) -> Response {
    let upload = match read_upload(form).await {
        Ok(u) => u,
        Err(message) => {
            return html(
                StatusCode::BAD_REQUEST,
                upload::render_form(visit.visitor, &upload::Upload::default(), Some(&message)),
            );
        }
    };
    let vars = json!({ "input": upload.input() });
    match visit.ask::<PreviewData>(&operations::IMPORT_PREVIEW, vars).await {
        Ok(PreviewData {
            import_preview: Some(p),
        }) => ok(upload::render_preview(&p, &upload, visit.visitor)),
        Ok(_) => upload_refused(&visit, &upload, FetchError::Graphql(vec!["пустой ответ".to_string()])),
        Err(e) => upload_refused(&visit, &upload, e),
    }
}

/// `POST /upload/confirm`: the previewed file imported; on success, its plan's page.
async fn upload_confirm(visit: Visit, Form(upload): Form<upload::Upload>) -> Response {
    let vars = json!({ "input": upload.input() });
    match visit.ask::<ImportData>(&operations::IMPORT, vars).await {
        Ok(ImportData {
            import_roadmap: Some(ImportResult { plan: Some(plan), .. }),
        }) => Redirect::to(&plan_href(&plan.id)).into_response(),
        Ok(_) => upload_refused(&visit, &upload, FetchError::Graphql(vec!["пустой ответ".to_string()])),
        Err(e) => upload_refused(&visit, &upload, e),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct BackParams {
    back: Option<String>,
}

/// `/signin[?back=]`: the sign-in page; its provider link returns to `back`, else to the page of
/// this site the visitor came from (`Referer`), else to the overview.
async fn signin_form(
    visit: Visit,
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<BackParams>,
) -> Response {
    let back = params.back.unwrap_or_else(|| referring_path(&headers));
    let login = state.oidc.as_ref().map(|_| oidc::login_href(&back));
    ok(signin::render(visit.visitor, None, login.as_deref()))
}

/// The path (and query) of the `Referer` when it is a page of this site (same `Host`) other
/// than the sign-in's own, else `/`.
fn referring_path(headers: &HeaderMap) -> String {
    let text = |name| headers.get(name).and_then(|v: &HeaderValue| v.to_str().ok());
    let (Some(referer), Some(host)) = (text(header::REFERER), text(header::HOST)) else {
        return "/".to_string();
    };
    let Ok(url) = reqwest::Url::parse(referer) else {
        return "/".to_string();
    };
    let path = url.path();
    if url.authority() != host || path.starts_with("/signin") || path.starts_with("/auth/") {
        return "/".to_string();
    }
    match url.query() {
        Some(q) => format!("{path}?{q}"),
        None => path.to_string(),
    }
}

/// The sign-in page when no provider is configured.
fn no_provider(v: Visitor) -> Response {
    html(
        StatusCode::NOT_FOUND,
        signin::render(
            v,
            Some("Вход через поставщика учётных записей не настроен: используйте вход для разработки."),
            None,
        ),
    )
}

/// `/auth/login?back=`: to the provider's sign-in, the flow kept in a cookie.
async fn auth_login(visit: Visit, State(state): State<AppState>, Query(params): Query<BackParams>) -> Response {
    let Some(oidc) = &state.oidc else {
        return no_provider(visit.visitor);
    };
    match oidc.start(params.back.as_deref().unwrap_or("/")).await {
        Ok((authorize, cookie)) => redirect_setting(&authorize, &[cookie]),
        Err(failure) => signin_failed(oidc, visit.visitor, failure),
    }
}

/// `/auth/callback?code=&state=` (or `?error=`): the visitor's token in the cookie and back to
/// the page the sign-in started from, or the sign-in page saying what went wrong (no token set).
/// The flow's cookie is cleared either way: a callback is used once.
async fn auth_callback(
    visit: Visit,
    State(state): State<AppState>,
    headers: HeaderMap,
    params: Result<Query<oidc::Callback>, QueryRejection>,
) -> Response {
    let Some(oidc) = &state.oidc else {
        return no_provider(visit.visitor);
    };
    let params = match params {
        Ok(Query(params)) => params,
        Err(e) => {
            let message = format!("Ответ поставщика входа не читается: {}", e.body_text());
            return signin_failed(
                oidc,
                visit.visitor,
                oidc::Failure {
                    upstream: false,
                    message,
                },
            );
        }
    };
    let flow = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(oidc::flow_from_cookies);
    match oidc.finish(flow, &params).await {
        Ok(signed_in) => redirect_setting(
            &signed_in.back,
            &[oidc.clear_flow_cookie(), oidc.token_cookie(&signed_in)],
        ),
        Err(failure) => signin_failed(oidc, visit.visitor, failure),
    }
}

/// The sign-in page saying why the sign-in failed, with a link to try again; the flow's cookie
/// cleared.
fn signin_failed(oidc: &Oidc, v: Visitor, failure: oidc::Failure) -> Response {
    let status = if failure.upstream {
        StatusCode::BAD_GATEWAY
    } else {
        StatusCode::BAD_REQUEST
    };
    let login = oidc::login_href("/");
    let mut response = html(status, signin::render(v, Some(&failure.message), Some(&login)));
    if let Ok(cookie) = HeaderValue::from_str(&oidc.clear_flow_cookie()) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    token: String,
}

async fn signin_submit(State(state): State<AppState>, Form(form): Form<SignInForm>) -> Response {
    let token = form.token.trim();
    if !signin::valid_token(token) {
        let login = state.oidc.as_ref().map(|_| oidc::login_href("/"));
        return html(
            StatusCode::BAD_REQUEST,
            signin::render(
                Visitor::default(),
                Some("Это не похоже на токен: ожидается строка вида xxx.yyy.zzz."),
                login.as_deref(),
            ),
        );
    }
    redirect_setting("/", &[signin::set_cookie(token)])
}

async fn signout() -> Response {
    redirect_setting("/", &[signin::clear_cookie()])
}

/// A redirect to `to` that sets `cookies`.
fn redirect_setting(to: &str, cookies: &[String]) -> Response {
    let mut response = Redirect::to(to).into_response();
    for cookie in cookies {
        if let Ok(cookie) = HeaderValue::from_str(cookie) {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
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
