//! Page 1, the territory tree: the roots (countries, regions no country holds, federal plans) and
//! each territory with its own plans (in force or not), its measures by status and, per child
//! territory, how much of its plans is implemented there; children link to their own page.
//!
//! A child's own plans and measure counts are on the child's page: the API has no per-territory
//! counts over many territories in one query (see the crate docs, "What the API lacks").

use chrono::NaiveDate;
use maud::{Markup, html};

use super::layout::{StatusCounts, Visitor, page, plan_href, status_cells, status_headers, territory_href};
use crate::format;
use crate::model::{PlanSummary, RootsData, Territory};

/// Whether a plan's period covers `today`; a plan without a period is taken as in force.
pub fn in_force(plan: &PlanSummary, today: NaiveDate) -> bool {
    let day = |d: &Option<String>| d.as_deref().and_then(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").ok());
    let started = day(&plan.period_start).is_none_or(|s| s <= today);
    let not_ended = day(&plan.period_end).is_none_or(|e| e >= today);
    started && not_ended
}

pub fn counts(plan: &PlanSummary) -> StatusCounts {
    let mut c = StatusCounts::default();
    for m in &plan.measures {
        c.add(m.status.as_deref());
    }
    c
}

fn period(plan: &PlanSummary) -> String {
    match (&plan.period_start, &plan.period_end) {
        (Some(s), Some(e)) => format!("{} – {}", format::date_text(s), format::date_text(e)),
        (Some(s), None) => format!("с {}", format::date_text(s)),
        (None, Some(e)) => format!("до {}", format::date_text(e)),
        (None, None) => plan.period_text.clone().unwrap_or_else(|| "—".to_string()),
    }
}

/// The plans table: title, level, period, in force, counts by status.
pub fn plans_table(plans: &[PlanSummary], today: NaiveDate, with_territory: bool) -> Markup {
    let mut sum = StatusCounts::default();
    for p in plans {
        sum.merge(&counts(p));
    }
    html! {
        table.plans {
            thead {
                tr {
                    th scope="col" { "План" }
                    @if with_territory { th scope="col" { "Территория" } }
                    th scope="col" { "Уровень" }
                    th scope="col" { "Период" }
                    th scope="col" { "Действует" }
                    (status_headers())
                }
            }
            tbody {
                @for p in plans {
                    tr {
                        th scope="row" {
                            a href=(plan_href(&p.id)) { (p.title) }
                            @if p.state == "DRAFT" { " " span.badge.draft { "черновик" } }
                        }
                        @if with_territory {
                            td { @if let Some(t) = &p.territory { a href=(territory_href(&t.id)) { (t.name) } } }
                        }
                        td { (format::level(p.level.as_deref().unwrap_or(""))) }
                        td { (period(p)) }
                        td { @if in_force(p, today) { "да" } @else { "нет" } }
                        (status_cells(&counts(p)))
                    }
                }
            }
            @if plans.len() > 1 {
                tfoot {
                    tr {
                        th scope="row" colspan=(if with_territory { 5 } else { 4 }) { "Итого" }
                        (status_cells(&sum))
                    }
                }
            }
        }
    }
}

/// `/`: the roots of the tree and the federal plans.
pub fn render_roots(data: &RootsData, today: NaiveDate, visitor: Visitor) -> Markup {
    let orphans: Vec<&Territory> = data.regions.iter().filter(|r| r.parent.is_none()).collect();
    let body = html! {
        p.lead {
            "Дорожные карты повышения качества образования: федеральные, региональные, "
            "муниципальные и школьные планы, связанные от министерства до класса."
        }
        section aria-labelledby="roots" {
            h2 #roots { "Территории" }
            @if data.countries.is_empty() && orphans.is_empty() {
                p.muted { "Территорий пока нет." }
            }
            ul.tree {
                @for c in &data.countries {
                    li {
                        a href=(territory_href(&c.id)) { (c.name) }
                        " " span.muted { "(" (format::territory_kind(c.kind.as_deref().unwrap_or(""))) ")" }
                    }
                }
                @for r in &orphans {
                    li {
                        a href=(territory_href(&r.id)) { (r.name) }
                        " " span.muted { "(" (format::territory_kind(r.kind.as_deref().unwrap_or(""))) ")" }
                    }
                }
            }
        }
        section aria-labelledby="federal" {
            h2 #federal { "Федеральные планы" }
            @if data.plans.nodes.is_empty() {
                p.muted { "Федеральных планов нет." }
            } @else {
                (plans_table(&data.plans.nodes, today, true))
            }
        }
    };
    page("Обзор", visitor, &[], body)
}

/// `/territories/{id}`: one territory, its plans and its children.
pub fn render_territory(territory: &Territory, plans: &[PlanSummary], today: NaiveDate, visitor: Visitor) -> Markup {
    let mut crumbs: Vec<(String, String)> = vec![("Обзор".to_string(), "/".to_string())];
    crumbs.extend(
        territory
            .ancestors
            .iter()
            .rev()
            .map(|a| (a.name.clone(), territory_href(&a.id))),
    );
    let kind = territory.kind.as_deref().unwrap_or("");
    let (in_force_plans, other_plans): (Vec<PlanSummary>, Vec<PlanSummary>) =
        plans.iter().cloned().partition(|p| in_force(p, today));
    // Columns of the children table: the plans that say something per child territory.
    let rolled: Vec<&PlanSummary> = plans
        .iter()
        .filter(|p| !p.implementation_by_territory.is_empty())
        .collect();
    let mut sum = StatusCounts::default();
    for p in &in_force_plans {
        sum.merge(&counts(p));
    }
    let body = html! {
        p.lead {
            (format::territory_kind(kind))
            " · действующих планов: " strong { (in_force_plans.len()) }
            " · мероприятий: выполнено " strong { (sum.done) }
            ", выполняется " strong { (sum.in_progress) }
            ", просрочено " strong.overdue-count { (sum.overdue) }
        }
        section aria-labelledby="plans" {
            h2 #plans { "Планы территории" }
            @if plans.is_empty() {
                p.muted { "У территории нет своих планов." }
            } @else {
                (plans_table(&in_force_plans, today, false))
                @if !other_plans.is_empty() {
                    h3 { "Не действующие сейчас" }
                    (plans_table(&other_plans, today, false))
                }
            }
        }
        section aria-labelledby="children" {
            h2 #children { (format::children_of(kind)) }
            @if territory.children.is_empty() {
                p.muted { "Входящих территорий нет." }
            } @else {
                table.children {
                    thead {
                        tr {
                            th scope="col" { "Территория" }
                            @for p in &rolled {
                                th scope="col" title=(p.title) { "Реализация плана «" (short(&p.title)) "»" }
                            }
                        }
                    }
                    tbody {
                        @for child in &territory.children {
                            tr {
                                th scope="row" { a href=(territory_href(&child.id)) { (child.name) } }
                                @for p in &rolled {
                                    @let row = p.implementation_by_territory.iter().find(|i| i.territory.id == child.id);
                                    td.num {
                                        @match row {
                                            Some(i) => {
                                                (i.implemented) " из " (i.total)
                                                " (" (format::share(i.share)) ")"
                                            }
                                            None => span.muted { "—" },
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                p.note {
                    "Реализация — сколько мероприятий плана имеют исполняющее мероприятие в планах "
                    "входящей территории (на любом уровне ниже)."
                }
            }
        }
    };
    page(&territory.name, visitor, &crumbs, body)
}

/// A title cut to about 40 characters for a column header.
fn short(title: &str) -> String {
    let chars: Vec<char> = title.chars().collect();
    if chars.len() <= 40 {
        title.to_string()
    } else {
        let cut: String = chars[..40].iter().collect();
        format!("{}…", cut.trim_end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_is_in_force_within_its_period() {
        let plan = PlanSummary {
            period_start: Some("2024-01-01".into()),
            period_end: Some("2026-12-31".into()),
            ..PlanSummary::default()
        };
        let d = |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert!(in_force(&plan, d("2024-01-01")));
        assert!(in_force(&plan, d("2026-12-31")));
        assert!(!in_force(&plan, d("2027-01-01")));
        assert!(!in_force(&plan, d("2023-12-31")));
        assert!(in_force(&PlanSummary::default(), d("2000-01-01")));
    }

    #[test]
    fn long_titles_are_cut() {
        assert_eq!(short("Короткий"), "Короткий");
        assert!(short(&"д".repeat(60)).ends_with('…'));
    }
}
