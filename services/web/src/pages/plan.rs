//! Page 2, a plan as its document lays it out: sections and measures (number, title, schedule as
//! written and the parsed due day, responsible as written and resolved, status, progress,
//! OVERDUE badge), the act that approved it, its parent plans with how many of their measures
//! it implements, its imported versions (`super::versions`), and the links to its CSV and XLSX
//! export (`Plan.exports`; the web target forwards `/export/` to the plans target, see
//! `crate::routes`).

use std::collections::{HashMap, HashSet};

use maud::{Markup, html};

use super::layout::{
    StatusCounts, Visitor, column_heads, live, measure_href, page, plan_href, progress_bar, status_badge,
    territory_crumbs, territory_href,
};
use crate::format;
use crate::model::{Measure, Plan};

/// Per parent plan id: (its measures this plan implements, its measures listed).
pub fn parent_shares(plan: &Plan) -> HashMap<String, (usize, usize)> {
    let mut out: HashMap<String, (usize, usize)> = HashMap::new();
    for row in &plan.parent_coverage {
        let entry = out.entry(row.parent_measure.plan.id.clone()).or_default();
        entry.1 += 1;
        if !row.implemented_by.is_empty() {
            entry.0 += 1;
        }
    }
    out
}

fn all_measures(plan: &Plan) -> Vec<&Measure> {
    fn walk<'a>(m: &'a Measure, out: &mut Vec<&'a Measure>) {
        out.push(m);
        for c in &m.children {
            walk(c, out);
        }
    }
    let mut out = Vec::new();
    for s in &plan.sections {
        for m in &s.measures {
            walk(m, &mut out);
        }
    }
    out
}

pub fn render(plan: &Plan, visitor: Visitor) -> Markup {
    let crumbs = match &plan.territory {
        Some(t) => territory_crumbs(&t.ancestors, Some((&t.name, &t.id))),
        None => territory_crumbs(&[], None),
    };
    let measures = all_measures(plan);
    let mut counts = StatusCounts::default();
    for m in &measures {
        counts.add(m.status.as_deref());
    }
    let shares = parent_shares(plan);
    let implemented: HashSet<&str> = plan
        .parent_coverage
        .iter()
        .flat_map(|r| r.implemented_by.iter().map(|m| m.id.as_str()))
        .collect();
    let body = html! {
        dl.facts {
            dt { "Уровень" } dd { (format::level(plan.level.as_deref().unwrap_or(""))) }
            @if let Some(t) = &plan.territory {
                dt { "Территория" } dd { a href=(territory_href(&t.id)) { (t.name) } }
            }
            @if let Some(o) = &plan.owner { dt { "Владелец" } dd { (o.name) } }
            dt { "Период" }
            dd {
                @if let Some(text) = &plan.period_text { (text) }
                @if let (Some(s), Some(e)) = (&plan.period_start, &plan.period_end) {
                    " (" (format::date_text(s)) " – " (format::date_text(e)) ")"
                }
            }
            dt { "Состояние" }
            dd {
                (format::plan_state(&plan.state))
                @if plan.state == "DRAFT" { " " span.badge.draft { "черновик" } }
                " · версия " (plan.version)
            }
            @if let Some(a) = &plan.approval {
                dt { "Утверждён" }
                dd {
                    @if let Some(k) = &a.kind { (k) " " }
                    @if let Some(d) = &a.date { "от " (format::date_text(d)) " " }
                    @if let Some(n) = &a.number { "№ " (n) }
                    @if let Some(s) = &a.signatory { " (" (s) ")" }
                }
            }
            dt { "Мероприятия" }
            dd.counts {
                // `data-count`: the status whose measures it counts; live.js moves a measure
                // from one count to the other when its status changes.
                "всего " strong { (counts.total()) }
                ", выполнено " strong data-count="DONE" { (counts.done) }
                ", выполняется " strong data-count="IN_PROGRESS" { (counts.in_progress) }
                ", просрочено " strong.overdue-count data-count="OVERDUE" { (counts.overdue) }
            }
            @if let Some(x) = &plan.exports {
                dt { "Скачать" }
                dd.exports {
                    a href=(x.xlsx) download { "таблица XLSX" }
                    " · "
                    a href=(x.csv) download { "CSV (для Excel)" }
                    " " span.note { "все мероприятия как в документе и вычисленные столбцы; файл можно загрузить обратно" }
                }
            }
        }
        @if !plan.goals.is_empty() {
            section aria-labelledby="goals" {
                h2 #goals { "Цели" }
                ul { @for g in &plan.goals { li { (g) } } }
            }
        }
        @if !plan.parents.is_empty() {
            section aria-labelledby="parents" {
                h2 #parents { "Реализует планы" }
                table.parents {
                    (column_heads(&["План", "Уровень", "Мероприятий реализуется"]))
                    tbody {
                        @for p in &plan.parents {
                            tr {
                                th scope="row" { a href=(plan_href(&p.id)) { (p.title) } }
                                td { (format::level(p.level.as_deref().unwrap_or(""))) }
                                td.num {
                                    @match shares.get(&p.id) {
                                        Some((done, total)) if *total > 0 => {
                                            (done) " из " (total)
                                            " (" (format::share(*done as f64 / *total as f64)) ")"
                                        }
                                        _ => span.muted { "—" },
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        (super::versions::list(plan))
        section aria-labelledby="measures" {
            h2 #measures { "Мероприятия" }
            @if plan.sections.is_empty() { p.muted { "В плане нет мероприятий." } }
            table.measures {
                (column_heads(&[
                    "№", "Мероприятие", "Срок (как в документе)", "Срок до", "Ответственные", "Статус", "Выполнение",
                ]))
                @for s in &plan.sections {
                    tbody.section {
                        tr.section-title {
                            th colspan="7" scope="rowgroup" {
                                @if !s.number.is_empty() { (s.number) ". " }
                                (s.title)
                            }
                        }
                        @for m in &s.measures {
                            (measure_rows(m, 0, &implemented))
                        }
                    }
                }
            }
        }
        (live(&format!("{}/live", plan_href(&plan.id))))
    };
    page(&plan.title, visitor, &crumbs, body)
}

fn measure_rows(m: &Measure, depth: usize, implemented: &HashSet<&str>) -> Markup {
    let overdue = m.status.as_deref() == Some("OVERDUE");
    html! {
        tr.measure.overdue[overdue] id=(format!("m-{}", m.id)) data-depth=(depth) {
            td.number { (m.number) }
            td.title {
                @if depth > 0 { span.indent style=(format!("padding-left:{}em", depth)) {} }
                a href=(measure_href(&m.id)) { (m.title) }
                @if m.kind == "MILESTONE" { " " span.badge.milestone { "контрольная точка" } }
                @if implemented.contains(m.id.as_str()) {
                    " " span.badge.implements title="Исполняет мероприятие плана верхнего уровня" { "↑ реализует" }
                }
            }
            td.schedule { (m.schedule_text.as_deref().unwrap_or("")) }
            td.due {
                @if let Some(d) = &m.due_on { time datetime=(d) { (format::date_text(d)) } }
            }
            td.responsible {
                @if let Some(t) = &m.responsible_text { div.as-written { (t) } }
                @if !m.responsible.is_empty() {
                    ul.resolved {
                        @for o in &m.responsible { li { (o.name) } }
                    }
                }
            }
            td.status data-status-of=(m.id) data-status=(m.status.as_deref().unwrap_or("")) { (status_badge(m.status.as_deref())) }
            td.progress data-progress-of=(m.id) { (progress_bar(m.rolled_progress.or(m.progress))) }
        }
        @for c in &m.children {
            (measure_rows(c, depth + 1, implemented))
        }
    }
}
