//! What every page shares: the document around it, the navigation, breadcrumbs and the small
//! pieces (status badge, progress bar, status counts) several pages draw.

use maud::{DOCTYPE, Markup, html};

use crate::format;

/// What the layout needs to know of the visitor.
#[derive(Clone, Copy, Debug, Default)]
pub struct Visitor {
    pub signed_in: bool,
}

/// A whole page: `title` in `<title>` and `<h1>`, `crumbs` (label, href) above it.
pub fn page(title: &str, visitor: Visitor, crumbs: &[(String, String)], body: Markup) -> Markup {
    page_with(title, visitor, crumbs, body, false)
}

/// A page that draws charts: loads the vendored chart library and its starter.
pub fn page_with(title: &str, visitor: Visitor, crumbs: &[(String, String)], body: Markup, charts: bool) -> Markup {
    html! {
        (DOCTYPE)
        html lang="ru" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " — Дорожные карты качества образования" }
                link rel="stylesheet" href="/assets/web.css";
                @if charts {
                    link rel="stylesheet" href="/assets/uplot.min.css";
                    script defer src="/assets/uplot.iife.min.js" {}
                    script defer src="/assets/charts.js" {}
                }
            }
            body {
                header.site {
                    a.brand href="/" { "Дорожные карты качества образования" }
                    nav aria-label="Разделы" {
                        a href="/" { "Территории" }
                        " "
                        a href="/indicators" { "Показатели" }
                        " "
                        @if visitor.signed_in {
                            a href="/upload" { "Загрузить план" }
                            " "
                            form.inline method="post" action="/signout" {
                                button type="submit" { "Выйти" }
                            }
                        } @else {
                            a href="/signin" { "Вход" }
                        }
                    }
                }
                main {
                    @if !crumbs.is_empty() {
                        nav.crumbs aria-label="Путь" {
                            ol {
                                @for (label, href) in crumbs {
                                    li { a href=(href) { (label) } }
                                }
                            }
                        }
                    }
                    h1 { (title) }
                    (body)
                }
                footer.site {
                    "Данные — из GraphQL API хаба дорожных карт. "
                    @if !visitor.signed_in {
                        "Без входа видны только утверждённые планы."
                    }
                }
            }
        }
    }
}

/// A page saying why there is nothing to show.
pub fn problem(title: &str, visitor: Visitor, message: &str) -> Markup {
    page(
        title,
        visitor,
        &[],
        html! { p.problem role="alert" { (message) } p { a href="/" { "На главную" } } },
    )
}

/// A measure's status as a badge; OVERDUE stands out.
pub fn status_badge(status: Option<&str>) -> Markup {
    let s = status.unwrap_or("");
    html! {
        @if s == "OVERDUE" {
            span.badge.overdue title=(OVERDUE_TITLE) { (OVERDUE_LABEL) }
        } @else {
            span class={ "badge status-" (s.to_ascii_lowercase()) } { (format::status(s)) }
        }
    }
}

/// Makes the page follow status changes without reload: `assets/live.js` reads the stream at
/// `url` (the page's `/live` route) and redraws every `[data-status-of]` and `[data-progress-of]`
/// of the changed measure, and the badge after each link to it. Without JavaScript nothing of it
/// shows; the page is as it was rendered.
pub fn live(url: &str) -> Markup {
    // The badges' words, given to the script so they are written once (here and in `format`).
    let mut labels = serde_json::Map::new();
    for s in ["PLANNED", "IN_PROGRESS", "DONE", "CANCELLED", ""] {
        labels.insert(s.to_string(), format::status(s).into());
    }
    labels.insert("OVERDUE".to_string(), OVERDUE_LABEL.into());
    labels.insert("overdueTitle".to_string(), OVERDUE_TITLE.into());
    html! {
        div #live hidden data-live=(url) data-labels=(serde_json::Value::Object(labels).to_string()) {}
        script defer src="/assets/live.js" {}
    }
}

const OVERDUE_LABEL: &str = "ПРОСРОЧЕНО";
const OVERDUE_TITLE: &str = "Срок прошёл, мероприятие не выполнено";

/// Progress 0–100 as a bar that reads without styles: `<progress>` with the number inside.
pub fn progress_bar(progress: Option<f64>) -> Markup {
    match progress {
        Some(p) => {
            let p = p.clamp(0.0, 100.0);
            html! {
                progress max="100" value=(format!("{p:.0}")) title=(format::percent(p)) { (format::percent(p)) }
                " " span.progress-text { (format::percent(p)) }
            }
        }
        None => html! { span.muted { "—" } },
    }
}

/// Counts of measures by effective status.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StatusCounts {
    pub planned: i64,
    pub in_progress: i64,
    pub done: i64,
    pub overdue: i64,
    pub cancelled: i64,
    pub unknown: i64,
}

impl StatusCounts {
    pub fn add(&mut self, status: Option<&str>) {
        match status.unwrap_or("") {
            "PLANNED" => self.planned += 1,
            "IN_PROGRESS" => self.in_progress += 1,
            "DONE" => self.done += 1,
            "OVERDUE" => self.overdue += 1,
            "CANCELLED" => self.cancelled += 1,
            _ => self.unknown += 1,
        }
    }

    pub fn total(&self) -> i64 {
        self.planned + self.in_progress + self.done + self.overdue + self.cancelled + self.unknown
    }

    pub fn merge(&mut self, other: &StatusCounts) {
        self.planned += other.planned;
        self.in_progress += other.in_progress;
        self.done += other.done;
        self.overdue += other.overdue;
        self.cancelled += other.cancelled;
        self.unknown += other.unknown;
    }
}

/// Table cells: done, in progress, overdue, total.
pub fn status_cells(c: &StatusCounts) -> Markup {
    html! {
        td.num.done { (c.done) }
        td.num.in-progress { (c.in_progress) }
        td.num.overdue { @if c.overdue > 0 { strong { (c.overdue) } } @else { "0" } }
        td.num { (c.total()) }
    }
}

/// A table's head: one row of column headers.
pub fn column_heads(names: &[&str]) -> Markup {
    html! {
        thead { tr { @for name in names { th scope="col" { (name) } } } }
    }
}

/// Header cells matching [`status_cells`].
pub fn status_headers() -> Markup {
    html! {
        th scope="col" { "Выполнено" }
        th scope="col" { "Выполняется" }
        th scope="col" { "Просрочено" }
        th scope="col" { "Всего мероприятий" }
    }
}

/// Breadcrumbs: the overview, then `ancestors` (as the API gives them, nearest first) from the
/// top down, then `last` (name, territory id) when given.
pub fn territory_crumbs(ancestors: &[crate::model::Territory], last: Option<(&str, &str)>) -> Vec<(String, String)> {
    let mut crumbs: Vec<(String, String)> = vec![("Обзор".to_string(), "/".to_string())];
    crumbs.extend(ancestors.iter().rev().map(|a| (a.name.clone(), territory_href(&a.id))));
    if let Some((name, id)) = last {
        crumbs.push((name.to_string(), territory_href(id)));
    }
    crumbs
}

pub fn territory_href(id: &str) -> String {
    format!("/territories/{id}")
}

pub fn plan_href(id: &str) -> String {
    format!("/plans/{id}")
}

pub fn measure_href(id: &str) -> String {
    format!("/measures/{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_status() {
        let mut c = StatusCounts::default();
        for s in ["DONE", "DONE", "OVERDUE", "IN_PROGRESS", "PLANNED", "CANCELLED"] {
            c.add(Some(s));
        }
        c.add(None);
        assert_eq!((c.done, c.overdue, c.in_progress, c.total()), (2, 1, 1, 7));
    }

    #[test]
    fn progress_reads_without_styles() {
        let html = progress_bar(Some(45.4)).into_string();
        assert!(html.contains(r#"<progress max="100" value="45""#), "{html}");
        assert!(html.contains("45\u{a0}%"), "{html}");
        assert!(status_badge(Some("OVERDUE")).into_string().contains("ПРОСРОЧЕНО"));
    }
}
