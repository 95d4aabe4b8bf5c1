//! Page 5, the auditor's "what is missing" under a territory (`/territories/{id}/missing`):
//! measures by status for the territory and each child territory (overdue among them), measures
//! of the territory's own plans with no implementer in some child territory, child territories
//! without a plan implementing one of its plans, overdue measures, and measures not updated in
//! `days` days (`?days=`, default 30). Every table is also a CSV download
//! (`/territories/{id}/missing/<table>.csv?days=`) from the same answer ([`rows`]), of up to
//! [`CSV_ROWS`] measures a list; the page shows the first [`PAGE_ROWS`] of each list.

use maud::{Markup, html};

use super::layout::{Visitor, measure_href, page, plan_href, status_badge, territory_crumbs, territory_href};
use crate::format;
use crate::model::{Counts, ListedMeasure, MeasureList, MissingTerritory};

/// "Not updated in" when the address does not say.
pub const DEFAULT_DAYS: i32 = 30;
/// The longest "not updated in" (the API's limit).
pub const MAX_DAYS: i32 = 3660;
/// Measures of a list the page shows.
pub const PAGE_ROWS: i32 = 100;
/// Measures of a list a CSV holds (the API's most).
pub const CSV_ROWS: i32 = 5000;

/// The tables of the page, each downloadable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    /// Measures by status, the territory and its children.
    Territories,
    /// Measures without an implementer in some child territory.
    Gaps,
    /// Child territories without a plan implementing one of the territory's plans.
    WithoutPlan,
    Overdue,
    Stale,
}

impl Table {
    pub const ALL: [Table; 5] = [
        Table::Territories,
        Table::Gaps,
        Table::WithoutPlan,
        Table::Overdue,
        Table::Stale,
    ];

    /// The table's name in its address (`…/missing/<slug>.csv`).
    pub fn slug(self) -> &'static str {
        match self {
            Table::Territories => "territories",
            Table::Gaps => "gaps",
            Table::WithoutPlan => "without-plan",
            Table::Overdue => "overdue",
            Table::Stale => "stale",
        }
    }

    /// `<slug>.csv` → the table.
    pub fn from_file(file: &str) -> Option<Table> {
        let slug = file.strip_suffix(".csv")?;
        Table::ALL.into_iter().find(|t| t.slug() == slug)
    }

    fn title(self) -> &'static str {
        match self {
            Table::Territories => "Мероприятия по территориям",
            Table::Gaps => "Мероприятия без исполнителя",
            Table::WithoutPlan => "Территории без плана",
            Table::Overdue => "Просроченные мероприятия",
            Table::Stale => "Давно не обновлялись",
        }
    }
}

pub fn missing_href(territory: &str) -> String {
    format!("{}/missing", territory_href(territory))
}

pub fn csv_href(territory: &str, table: Table, days: i32) -> String {
    format!("{}/{}.csv?days={days}", missing_href(territory), table.slug())
}

/// The download file's name: the table and the territory.
pub fn csv_file_name(territory: &MissingTerritory, table: Table) -> String {
    format!("{}-{}.csv", table.slug(), territory.id)
}

const COUNT_HEADS: [&str; 8] = [
    "Планов",
    "Действует",
    "Выполнено",
    "Выполняется",
    "Просрочено",
    "Не начато",
    "Отменено",
    "Всего мероприятий",
];

fn count_cells(c: &Counts) -> [i64; 8] {
    [
        c.plans,
        c.plans_in_force,
        c.done,
        c.in_progress,
        c.overdue,
        c.not_started,
        c.cancelled,
        c.total,
    ]
}

fn plan_title(m: &ListedMeasure) -> String {
    m.plan.as_ref().map(|p| p.title.clone()).unwrap_or_default()
}

fn territory_name(m: &ListedMeasure) -> String {
    m.plan
        .as_ref()
        .and_then(|p| p.territory.as_ref())
        .map(|t| t.name.clone())
        .unwrap_or_default()
}

fn status_text(m: &ListedMeasure) -> String {
    format::status(m.status.as_deref().unwrap_or("")).to_string()
}

fn day(d: &Option<String>, f: fn(&str) -> String) -> String {
    d.as_deref().map(f).unwrap_or_default()
}

fn names(list: &[crate::model::Named]) -> String {
    list.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", ")
}

/// A table's header and rows as plain text (the CSV download).
pub fn rows(t: &MissingTerritory, table: Table) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let list = |l: &MeasureList, last: &'static str, value: fn(&ListedMeasure) -> String| {
        let head = vec!["№", "Мероприятие", "План", "Территория", last, "Статус"];
        let rows = l
            .measures
            .iter()
            .map(|m| {
                vec![
                    m.number.clone(),
                    m.title.clone(),
                    plan_title(m),
                    territory_name(m),
                    value(m),
                    status_text(m),
                ]
            })
            .collect();
        (head, rows)
    };
    match table {
        Table::Territories => {
            let mut head = vec!["Территория"];
            head.extend(COUNT_HEADS);
            let own = std::iter::once((format!("{} (всего)", t.name), &t.measure_counts));
            let children = t.children.iter().map(|c| (c.name.clone(), &c.measure_counts));
            let rows = own
                .chain(children)
                .map(|(name, c)| {
                    let mut row = vec![name];
                    row.extend(count_cells(c).iter().map(|n| n.to_string()));
                    row
                })
                .collect();
            (head, rows)
        }
        Table::Gaps => {
            let head = vec![
                "№",
                "Мероприятие",
                "План",
                "Исполняют территорий",
                "Всего территорий",
                "Нет исполнителя",
            ];
            let rows = t
                .coverage_gaps
                .iter()
                .map(|g| {
                    vec![
                        g.measure.number.clone(),
                        g.measure.title.clone(),
                        plan_title(&g.measure),
                        g.covered.to_string(),
                        g.territories.to_string(),
                        names(&g.uncovered),
                    ]
                })
                .collect();
            (head, rows)
        }
        Table::WithoutPlan => {
            let head = vec!["План", "С планом", "Всего территорий", "Без плана"];
            let rows = t
                .children_without_plan
                .iter()
                .filter(|w| !w.territories.is_empty())
                .map(|w| {
                    vec![
                        w.plan.title.clone(),
                        w.with_plan.to_string(),
                        w.children.to_string(),
                        names(&w.territories),
                    ]
                })
                .collect();
            (head, rows)
        }
        Table::Overdue => list(&t.overdue_measures, "Срок", |m| day(&m.due_on, format::date_text)),
        Table::Stale => list(&t.stale_measures, "Обновлено", |m| {
            day(&m.updated_at, format::date_time_text)
        }),
    }
}

fn download(t: &MissingTerritory, table: Table, days: i32) -> Markup {
    html! {
        p.download {
            a href=(csv_href(&t.id, table, days)) download=(csv_file_name(t, table)) {
                "Скачать таблицу «" (table.title()) "» (CSV)"
            }
        }
    }
}

/// "the first 100 of 2 345" when a list is longer than what is shown.
fn shown_of(list: &MeasureList) -> Markup {
    let shown = list.measures.len() as i64;
    html! {
        @if list.total_count > shown {
            p.note {
                "Показаны первые " (shown) " из " (format::number(list.total_count as f64))
                "; в CSV — до " (format::number(f64::from(CSV_ROWS))) "."
            }
        }
    }
}

fn measure_list(list: &MeasureList, last: &str, value: impl Fn(&ListedMeasure) -> Markup) -> Markup {
    html! {
        table.listed {
            thead { tr {
                th scope="col" { "№" } th scope="col" { "Мероприятие" } th scope="col" { "План" }
                th scope="col" { "Территория" } th scope="col" { (last) } th scope="col" { "Статус" }
            } }
            tbody {
                @for m in &list.measures {
                    tr {
                        td.number { (m.number) }
                        th scope="row" { a href=(measure_href(&m.id)) { (m.title) } }
                        td { @if let Some(p) = &m.plan { a href=(plan_href(&p.id)) { (p.title) } } }
                        td { @if let Some(t) = m.plan.as_ref().and_then(|p| p.territory.as_ref()) {
                            a href=(territory_href(&t.id)) { (t.name) }
                        } }
                        td.due { (value(m)) }
                        td { (status_badge(m.status.as_deref())) }
                    }
                }
            }
        }
    }
}

/// `/territories/{id}/missing?days=`.
pub fn render(t: &MissingTerritory, days: i32, visitor: Visitor) -> Markup {
    let crumbs = territory_crumbs(&t.ancestors, Some((&t.name, &t.id)));
    let kind = t.kind.as_deref().unwrap_or("");
    let children = format::children_of(kind);
    let c = &t.measure_counts;
    let without: Vec<_> = t
        .children_without_plan
        .iter()
        .filter(|w| !w.territories.is_empty())
        .collect();
    let body = html! {
        p.lead {
            (format::territory_kind(kind)) " и входящие территории · планов: " strong { (c.plans) }
            " · мероприятий: " strong { (c.total) }
            ", просрочено " strong.overdue-count { (c.overdue) }
            ", без исполнителя в части территорий: " strong { (t.coverage_gaps.len()) }
        }
        nav.toc aria-label="Разделы страницы" {
            ul.plain {
                @for table in Table::ALL {
                    li { a href=(format!("#{}", table.slug())) { (table.title()) } }
                }
            }
        }
        section aria-labelledby="territories" {
            h2 #territories { (Table::Territories.title()) }
            table.counts {
                thead { tr {
                    th scope="col" { "Территория" }
                    @for h in COUNT_HEADS { th scope="col" { (h) } }
                } }
                tbody {
                    tr.own {
                        th scope="row" { (t.name) " (всего)" }
                        (counts_cells(&t.measure_counts))
                    }
                    @for child in &t.children {
                        tr {
                            th scope="row" { a href=(crate::pages::missing::missing_href(&child.id)) { (child.name) } }
                            (counts_cells(&child.measure_counts))
                        }
                    }
                }
            }
            p.note { "Каждая строка — планы территории и всех входящих в неё. Просрочено — срок прошёл, мероприятие не выполнено и не отменено." }
            (download(t, Table::Territories, days))
        }
        section aria-labelledby="gaps" {
            h2 #gaps { (Table::Gaps.title()) }
            p.note {
                "Мероприятия планов территории (кроме отменённых и контрольных точек), которые в части "
                "входящих территорий (" (children.to_lowercase()) ") не исполняет ни одно мероприятие их планов."
            }
            @if t.coverage_gaps.is_empty() {
                p.muted { "Таких мероприятий нет." }
            } @else {
                table.gaps {
                    thead { tr {
                        th scope="col" { "№" } th scope="col" { "Мероприятие" } th scope="col" { "План" }
                        th scope="col" { "Исполняют" } th scope="col" { "Нет исполнителя" }
                    } }
                    tbody {
                        @for g in &t.coverage_gaps {
                            tr {
                                td.number { (g.measure.number) }
                                th scope="row" { a href=(measure_href(&g.measure.id)) { (g.measure.title) } }
                                td { @if let Some(p) = &g.measure.plan { a href=(plan_href(&p.id)) { (p.title) } } }
                                td.num { (g.covered) " из " (g.territories) }
                                td { (territory_links(&g.uncovered)) }
                            }
                        }
                    }
                }
            }
            (download(t, Table::Gaps, days))
        }
        section aria-labelledby="without-plan" {
            h2 #without-plan { (Table::WithoutPlan.title()) }
            p.note { "Входящие территории, ни один план которых не объявлен исполняющим план территории и не исполняет ни одного его мероприятия." }
            @if without.is_empty() {
                p.muted { "Таких территорий нет." }
            } @else {
                table.without-plan {
                    thead { tr {
                        th scope="col" { "План" } th scope="col" { "С планом" } th scope="col" { "Без плана" }
                    } }
                    tbody {
                        @for w in &without {
                            tr {
                                th scope="row" { a href=(plan_href(&w.plan.id)) { (w.plan.title) } }
                                td.num { (w.with_plan) " из " (w.children) }
                                td { (territory_links(&w.territories)) }
                            }
                        }
                    }
                }
            }
            (download(t, Table::WithoutPlan, days))
        }
        section aria-labelledby="overdue" {
            h2 #overdue { (Table::Overdue.title()) " (" (format::number(t.overdue_measures.total_count as f64)) ")" }
            (shown_of(&t.overdue_measures))
            @if !t.overdue_measures.measures.is_empty() {
                (measure_list(&t.overdue_measures, "Срок", |m| html! {
                    @if let Some(d) = &m.due_on { time datetime=(d) { (format::date_text(d)) } }
                }))
            }
            (download(t, Table::Overdue, days))
        }
        section aria-labelledby="stale" {
            h2 #stale { (Table::Stale.title()) " (" (format::number(t.stale_measures.total_count as f64)) ")" }
            form.days method="get" action=(format!("{}#stale", missing_href(&t.id))) {
                label for="days" { "Не обновлялись дней: " }
                input #days type="number" name="days" min="0" max=(MAX_DAYS) value=(days);
                " "
                button type="submit" { "Показать" }
            }
            p.note {
                "Не выполненные и не отменённые мероприятия, у которых " (days) " "
                (format::plural(i64::from(days), "день", "дня", "дней"))
                " не менялись ни статус, ни выполнение, ни текст, и не было отчётов о проведении."
            }
            (shown_of(&t.stale_measures))
            @if !t.stale_measures.measures.is_empty() {
                (measure_list(&t.stale_measures, "Обновлено", |m| html! {
                    (day(&m.updated_at, format::date_time_text))
                }))
            }
            (download(t, Table::Stale, days))
        }
    };
    page(&format!("Чего не хватает: {}", t.name), visitor, &crumbs, body)
}

/// Territories as links, separated by commas.
fn territory_links(list: &[crate::model::Named]) -> Markup {
    html! {
        @for (i, u) in list.iter().enumerate() {
            @if i > 0 { ", " }
            a href=(territory_href(&u.id)) { (u.name) }
        }
    }
}

fn counts_cells(c: &Counts) -> Markup {
    html! {
        @for (i, n) in count_cells(c).iter().enumerate() {
            @if i == 4 && *n > 0 { td.num.overdue { strong { (n) } } } @else { td.num { (n) } }
        }
    }
}
