//! Page 3, a measure and its cascade: up to the measures of higher plans it carries out, down to
//! the municipal and school measures that carry it out with their dated occurrences and reports,
//! and which child territories are covered by an implementing measure.

use maud::{Markup, html};

use super::layout::{
    Visitor, column_heads, live, measure_href, page, plan_href, progress_bar, status_badge, territory_href,
};
use crate::format;
use crate::model::{MeasureDetail, Occurrence, TraceMeasure, TraceNode};

/// How many occurrences a trace node lists before "и ещё N".
const OCCURRENCES_SHOWN: usize = 12;

/// How many levels of the cascade down a measure's page shows, by its plan's level: a federal
/// measure's cascade spans the country (tens of thousands of school measures at national scale),
/// so its page lists the regional measures that carry it out, each of which opens its own
/// cascade; any other measure's page goes three levels down (a region's to its schools' and
/// classes' measures).
pub fn down_depth(level: Option<&str>) -> i32 {
    match level {
        Some("FEDERAL") => 1,
        _ => 3,
    }
}

pub fn render(m: &MeasureDetail, down: i32, visitor: Visitor) -> Markup {
    let head = &m.head;
    let mut crumbs: Vec<(String, String)> = vec![("Обзор".to_string(), "/".to_string())];
    if let Some(p) = &m.plan {
        if let Some(t) = &p.territory {
            crumbs.push((t.name.clone(), territory_href(&t.id)));
        }
        crumbs.push((p.title.clone(), plan_href(&p.id)));
    }
    let title = format!("{} {}", head.number, head.title);
    let covered = m.coverage.iter().filter(|r| r.covered).count();
    let body = html! {
        dl.facts {
            @if let Some(p) = &m.plan {
                dt { "План" }
                dd {
                    a href=(plan_href(&p.id)) { (p.title) }
                    " (" (format::level(p.level.as_deref().unwrap_or(""))) ")"
                }
            }
            dt { "Статус" }
            dd aria-live="polite" data-status-of=(head.id) { (status_badge(head.status.as_deref())) }
            dt { "Выполнение" }
            dd data-progress-of=(head.id) { (progress_bar(head.rolled_progress.or(head.progress))) }
            dt { "Срок (как в документе)" } dd { (head.schedule_text.as_deref().unwrap_or("—")) }
            dt { "Срок до" }
            dd {
                @match &head.due_on {
                    Some(d) => time datetime=(d) { (format::date_text(d)) },
                    None => span.muted { "не датирован" },
                }
                @if let Some(s) = &head.starts_on { " (начало " (format::date_text(s)) ")" }
            }
            dt { "Ответственные" }
            dd {
                @if let Some(t) = &head.responsible_text { div.as-written { (t) } }
                @if !head.responsible.is_empty() {
                    ul.resolved { @for o in &head.responsible { li { (o.name) } } }
                }
            }
            @if let Some(r) = &m.expected_result { dt { "Результат" } dd { (r) } }
            @if let Some(r) = &m.reporting_forms { dt { "Формы отчётности" } dd { (r) } }
            @if let Some(n) = &m.notes { dt { "Примечания" } dd { (n) } }
        }
        (trace_section(Direction::Up, &m.implements))
        (trace_section(Direction::Down, &m.implemented_by))
        @if down == 1 && !m.implemented_by.is_empty() {
            p.muted.cascade-note {
                "Показан первый уровень каскада: исполнение ниже — на странице каждого исполняющего мероприятия."
            }
        }
        @if !m.coverage.is_empty() {
            section aria-labelledby="coverage" {
                h2 #coverage { "Охват территорий" }
                p.lead {
                    "Охвачено " strong { (covered) } " из " (m.coverage.len()) " ("
                    (format::share(covered as f64 / m.coverage.len() as f64)) ")"
                }
                table.coverage {
                    (column_heads(&["Территория", "Охвачена", "Исполняющие мероприятия"]))
                    tbody {
                        @for row in &m.coverage {
                            tr class=(if row.covered { "covered" } else { "uncovered" }) {
                                th scope="row" { a href=(territory_href(&row.territory.id)) { (row.territory.name) } }
                                td { @if row.covered { "да" } @else { strong { "нет" } } }
                                td {
                                    ul.plain {
                                        @for im in &row.implementing_measures {
                                            li {
                                                a href=(measure_href(&im.id)) { (im.number) " " (im.title) }
                                                " " (status_badge(im.status.as_deref()))
                                                @if let Some(p) = &im.plan { " " span.muted { "(" (p.title) ")" } }
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        section aria-labelledby="occurrences" {
            h2 #occurrences { "Даты проведения" }
            @if m.occurrences.is_empty() {
                p.muted { "Датированных проведений нет." }
            } @else {
                (occurrence_list(&m.occurrences, usize::MAX))
            }
            @if !m.undated_schedule.is_empty() {
                ul.undated {
                    @for u in &m.undated_schedule {
                        li {
                            (format::undated_reason(&u.reason))
                            @if let Some(d) = &u.detail { ": " (d) }
                        }
                    }
                }
            }
        }
        (live(&format!("{}/live", measure_href(&head.id))))
    };
    page(&title, visitor, &crumbs, body)
}

/// Which way a trace goes from the measure.
#[derive(Clone, Copy, PartialEq)]
enum Direction {
    /// To the measures of higher plans it carries out.
    Up,
    /// To the measures that carry it out, with their occurrences.
    Down,
}

fn trace_section(direction: Direction, nodes: &[TraceNode]) -> Markup {
    let (id, heading, none) = match direction {
        Direction::Up => (
            "up",
            "Реализует (вверх по каскаду)",
            "Не связано с мероприятиями планов верхнего уровня.",
        ),
        Direction::Down => (
            "down",
            "Исполняется (вниз по каскаду)",
            "Исполняющих мероприятий в планах нижнего уровня нет.",
        ),
    };
    html! {
        section aria-labelledby=(id) {
            h2 id=(id) { (heading) }
            @if nodes.is_empty() {
                p.muted { (none) }
            } @else {
                ul class={ "trace " (id) } { @for n in nodes { (trace_node(n, direction == Direction::Down)) } }
            }
        }
    }
}

fn trace_measure(t: &TraceMeasure) -> Markup {
    html! {
        a href=(measure_href(&t.id)) { (t.number) " " (t.title) }
        " " (status_badge(t.status.as_deref()))
        @if let Some(d) = &t.due_on { " " span.muted { "до " (format::date_text(d)) } }
        @if let Some(p) = &t.plan {
            div.trace-plan {
                (format::level(p.level.as_deref().unwrap_or("")))
                " · " a href=(plan_href(&p.id)) { (p.title) }
                @if let Some(ter) = &p.territory { " · " (ter.name) }
            }
        }
    }
}

fn trace_node(n: &TraceNode, with_occurrences: bool) -> Markup {
    html! {
        li data-depth=(n.depth) {
            @match &n.measure {
                Some(t) => {
                    (trace_measure(t))
                    @if let Some(l) = &n.link {
                        @if l.state != "CONFIRMED" { " " span.badge.link { "связь " (format::link_state(&l.state)) } }
                    }
                    @if with_occurrences && !t.occurrences.is_empty() {
                        details.occurrences {
                            summary { "Проведения: " (t.occurrences.len()) }
                            (occurrence_list(&t.occurrences, OCCURRENCES_SHOWN))
                        }
                    }
                }
                None => span.muted { "мероприятие скрыто" },
            }
            @if !n.next.is_empty() {
                ul { @for c in &n.next { (trace_node(c, with_occurrences)) } }
            }
        }
    }
}

fn occurrence_list(list: &[Occurrence], shown: usize) -> Markup {
    html! {
        table.occurrences {
            (column_heads(&["Дата", "Вид", "Отчёт"]))
            tbody {
                @for o in list.iter().take(shown) {
                    tr {
                        td {
                            time datetime=(o.date) { (format::date_text(&o.date)) }
                            @if let Some(e) = &o.end_date { " – " time datetime=(e) { (format::date_text(e)) } }
                        }
                        td { (format::occurrence_kind(&o.kind)) }
                        td {
                            @match &o.report {
                                Some(r) => {
                                    @if r.held { "проведено" } @else { strong { "не проведено" } }
                                    @if let Some(p) = r.participants {
                                        ", участников: " (format::number(p as f64))
                                    }
                                    @if let Some(at) = &r.reported_at { " (" (format::date_time_text(at)) ")" }
                                }
                                None => span.muted { "нет отчёта" },
                            }
                        }
                    }
                }
            }
        }
        @if list.len() > shown {
            p.muted { "и ещё " (list.len() - shown) }
        }
    }
}
