//! The calendar feed: `GET /calendar/organisations/{id}.ics`, an RFC 5545 iCalendar that calendar
//! clients (Google Calendar, Outlook, Thunderbird, phones) subscribe to.
//!
//! - **What.** One all-day VEVENT per occurrence (`occurrences`) of every measure on the
//!   organisation's calendar: the measures it is responsible for and every measure of the plans
//!   it owns (the owner answers for the whole plan, including measures assigned only to roles such
//!   as "учителя-предметники ОО"). Continuous and externally dated work has no occurrences and
//!   so no events.
//! - **Event fields.** `UID` is `<measure id>-<YYYYMMDD>@roadmap-hub`, stable across fetches and
//!   re-imports that keep the measure (so clients update rather than duplicate); `DTSTART;VALUE=DATE`
//!   the day (and `DTEND;VALUE=DATE`, exclusive, the day after the last for windows);
//!   `SUMMARY` the measure's number (section-qualified when imported: "III.1") and title; `DESCRIPTION` the plan title and the schedule as
//!   written. `DTSTAMP` is the time of the fetch.
//! - **Format.** CRLF line ends, lines folded at 75 octets (never inside a UTF-8 character),
//!   `\`, `;`, `,` and newlines escaped in text values.
//! - **Where.** The plans subgraph serves it beside `/graphql`, on its own port (4001 by default)
//!   or behind an ingress path to that port: it is plain HTTP, not GraphQL, so the gateway does
//!   not route it. It is public and read-only (calendar clients cannot send tokens); the
//!   organisation id in the address is the only key.
//! - **Errors.** An id that is not a UUID → 400; an organisation neither this subgraph nor the
//!   people subgraph knows → 404; the people subgraph unreachable for an organisation unknown
//!   here → 503. Each with a plain-text message.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, NaiveDate, Utc};
use sqlx::PgPool;
use uuid::Uuid;

use roadmap_common::ServiceError;
use roadmap_common::people::PeopleClient;

use crate::store::{self, MeasureRow, PlanRow};

/// Where the feeds are served; `{file}` is `<organisation id>.ics`.
pub const ROUTE: &str = "/calendar/organisations/{file}";

/// The feed URL of an organisation on a plans subgraph at `base` (`http://host:port`).
pub fn feed_url(base: &str, organisation: &str) -> String {
    format!("{base}/calendar/organisations/{organisation}.ics")
}

#[derive(Clone)]
struct Feeds {
    pool: PgPool,
    people: PeopleClient,
}

/// The calendar routes, to merge into the plans subgraph's router.
pub fn routes(pool: PgPool, people: PeopleClient) -> Router {
    Router::new().route(ROUTE, get(feed)).with_state(Feeds { pool, people })
}

fn plain(status: StatusCode, message: String) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], message).into_response()
}

fn internal(err: ServiceError) -> Response {
    if let ServiceError::Internal(cause) = &err {
        tracing::error!(%cause, "calendar feed failed");
    }
    plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error".to_string())
}

async fn feed(State(feeds): State<Feeds>, Path(file): Path<String>) -> Response {
    let Some(id) = file.strip_suffix(".ics") else {
        return plain(
            StatusCode::NOT_FOUND,
            format!("no calendar `{file}`: calendars are at /calendar/organisations/<organisation id>.ics"),
        );
    };
    let Ok(organisation) = Uuid::parse_str(id) else {
        return plain(StatusCode::BAD_REQUEST, format!("`{id}` is not an organisation id"));
    };
    let known = match store::organisation_known(&feeds.pool, organisation).await {
        Ok(known) => known,
        Err(e) => return internal(e),
    };
    let name = match feeds.people.organisation_name(organisation).await {
        Ok(Some(name)) => Some(name),
        Ok(None) if !known => {
            return plain(StatusCode::NOT_FOUND, format!("organisation {organisation} not found"));
        }
        Ok(None) => None,
        Err(e) if !known => {
            tracing::warn!(%organisation, error = %e.message(), "calendar: people subgraph unavailable");
            return plain(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("cannot check organisation {organisation} now: the people subgraph is unavailable"),
            );
        }
        // Known here: the name is a nicety the feed can do without.
        Err(_) => None,
    };
    let measures = match store::measures_of_organisation(&feeds.pool, organisation).await {
        Ok(rows) => rows,
        Err(e) => return internal(e),
    };
    let mut plan_ids: Vec<Uuid> = measures.iter().map(|m| m.plan_id).collect();
    plan_ids.sort();
    plan_ids.dedup();
    let plans = match store::plans_by_ids(&feeds.pool, &plan_ids).await {
        Ok(rows) => rows,
        Err(e) => return internal(e),
    };
    let events = events(&measures, &plans);
    let body = render(name.as_deref(), &events, Utc::now());
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{organisation}.ics\""),
            ),
        ],
        body,
    )
        .into_response()
}

/// One all-day event of the feed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarEvent {
    pub uid: String,
    pub start: NaiveDate,
    /// Last day (inclusive) when the event lasts several days.
    pub last: Option<NaiveDate>,
    pub summary: String,
    pub description: String,
}

/// The events of `measures` (their plans in `plans`), measure by measure, by date.
pub fn events(measures: &[MeasureRow], plans: &[PlanRow]) -> Vec<CalendarEvent> {
    let mut out = Vec::new();
    for m in measures {
        let plan = plans.iter().find(|p| p.id == m.plan_id);
        let Some(expansion) = crate::occurrences::expansion(m, plan) else {
            continue;
        };
        let label = m.label();
        let summary = [label.as_str(), m.title.trim()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        let description = [plan.map(|p| p.title.as_str()), m.schedule_text.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("\n");
        for o in &expansion.occurrences {
            out.push(CalendarEvent {
                uid: format!("{}-{}@roadmap-hub", m.id, o.date.format("%Y%m%d")),
                start: o.date,
                last: o.end,
                summary: summary.clone(),
                description: description.clone(),
            });
        }
    }
    out
}

/// RFC 5545 TEXT escaping: backslash, semicolon, comma and line breaks; other control
/// characters (not allowed in TEXT) become spaces.
pub fn escape_text(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push('\t'),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded so no physical line exceeds 75 octets (continuations start
/// with a space), breaking only between characters, each line ending in CRLF.
pub fn push_line(out: &mut String, line: &str) {
    const LIMIT: usize = 75;
    let mut rest = line;
    let mut first = true;
    loop {
        let room = if first { LIMIT } else { LIMIT - 1 };
        if !first {
            out.push(' ');
        }
        if rest.len() <= room {
            out.push_str(rest);
            out.push_str("\r\n");
            return;
        }
        let mut cut = room;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        out.push_str(&rest[..cut]);
        out.push_str("\r\n");
        rest = &rest[cut..];
        first = false;
    }
}

/// The whole VCALENDAR.
pub fn render(name: Option<&str>, events: &[CalendarEvent], stamp: DateTime<Utc>) -> String {
    let mut out = String::new();
    let stamp = stamp.format("%Y%m%dT%H%M%SZ").to_string();
    let date = |d: NaiveDate| d.format("%Y%m%d").to_string();
    push_line(&mut out, "BEGIN:VCALENDAR");
    push_line(&mut out, "VERSION:2.0");
    push_line(&mut out, "PRODID:-//Roadmap Hub//Measure calendar//RU");
    push_line(&mut out, "CALSCALE:GREGORIAN");
    push_line(&mut out, "METHOD:PUBLISH");
    if let Some(name) = name {
        push_line(&mut out, &format!("X-WR-CALNAME:{}", escape_text(name)));
    }
    push_line(&mut out, "REFRESH-INTERVAL;VALUE=DURATION:PT6H");
    push_line(&mut out, "X-PUBLISHED-TTL:PT6H");
    for e in events {
        push_line(&mut out, "BEGIN:VEVENT");
        push_line(&mut out, &format!("UID:{}", e.uid));
        push_line(&mut out, &format!("DTSTAMP:{stamp}"));
        push_line(&mut out, &format!("DTSTART;VALUE=DATE:{}", date(e.start)));
        if let Some(next) = e.last.and_then(|l| l.succ_opt()) {
            push_line(&mut out, &format!("DTEND;VALUE=DATE:{}", date(next)));
        }
        push_line(&mut out, &format!("SUMMARY:{}", escape_text(&e.summary)));
        if !e.description.is_empty() {
            push_line(&mut out, &format!("DESCRIPTION:{}", escape_text(&e.description)));
        }
        push_line(&mut out, "TRANSP:TRANSPARENT");
        push_line(&mut out, "END:VEVENT");
    }
    push_line(&mut out, "END:VCALENDAR");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape_text("a,b;c\\d\r\ne\nf\u{7}"), "a\\,b\\;c\\\\d\\ne\\nf ");
    }

    #[test]
    fn long_lines_fold_at_75_octets_between_characters() {
        let text = format!("SUMMARY:{}", "Организация практикумов с обучающимися ".repeat(5));
        let mut out = String::new();
        push_line(&mut out, &text);
        assert!(out.ends_with("\r\n"));
        let lines: Vec<&str> = out.trim_end_matches("\r\n").split("\r\n").collect();
        assert!(lines.len() > 3);
        for (i, l) in lines.iter().enumerate() {
            assert!(l.len() <= 75, "line {i} has {} octets", l.len());
            if i > 0 {
                assert!(l.starts_with(' '));
            }
        }
        // Unfolding (drop CRLF + one space) gives the line back.
        let unfolded: String = lines
            .iter()
            .enumerate()
            .map(|(i, l)| if i == 0 { *l } else { &l[1..] })
            .collect();
        assert_eq!(unfolded, text);
        let mut short = String::new();
        push_line(&mut short, "VERSION:2.0");
        assert_eq!(short, "VERSION:2.0\r\n");
    }

    #[test]
    fn windows_end_the_day_after_their_last_day() {
        let d = |m, day| NaiveDate::from_ymd_opt(2023, m, day).unwrap();
        let stamp = DateTime::parse_from_rfc3339("2024-01-02T03:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        let ics = render(
            Some("МБУ ИМЦ"),
            &[CalendarEvent {
                uid: "x-20231001@roadmap-hub".into(),
                start: d(10, 1),
                last: Some(d(12, 31)),
                summary: "1.1 Диагностика".into(),
                description: "План; версия 2".into(),
            }],
            stamp,
        );
        assert!(ics.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(ics.contains("\r\nDTSTART;VALUE=DATE:20231001\r\nDTEND;VALUE=DATE:20240101\r\n"));
        assert!(ics.contains("\r\nDTSTAMP:20240102T030405Z\r\n"));
        assert!(ics.contains("\r\nDESCRIPTION:План\\; версия 2\r\n"));
        assert!(ics.contains("\r\nX-WR-CALNAME:МБУ ИМЦ\r\n"));
        assert!(ics.ends_with("END:VEVENT\r\nEND:VCALENDAR\r\n"));
    }
}
