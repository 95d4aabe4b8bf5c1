//! Page 1, the territory tree: the roots (countries, regions no country holds, federal plans) and
//! each territory with its own plans (in force or not), its measures by status and, per child
//! territory, how much of its plans is implemented there; children link to their own page.
//!
//! Each child territory shows its plans and measures by status (`Territory.measureCounts`: its
//! plans and those of the territories under it), all children in the page's one request.

use chrono::NaiveDate;
use maud::{Markup, html};

use super::indicator::{light, url_part};
use super::layout::{
    StatusCounts, Visitor, page, plan_href, status_cells, status_headers, territory_crumbs, territory_href,
};
use super::missing::missing_href;
use crate::format;
use crate::model::{PlanSummary, Rollup, RootsData, Territory};

/// An indicator (and subject) a territory has values of: one choice of traffic light.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LightChoice {
    pub code: String,
    pub name: String,
    pub subject: Option<String>,
}

impl LightChoice {
    fn label(&self) -> String {
        match &self.subject {
            Some(s) => format!("{}: {}", self.name, format::subject(s)),
            None => self.name.clone(),
        }
    }

    /// The territory's page showing this choice's lights.
    fn href(&self, territory: &str) -> String {
        let mut href = format!("{}?indicator={}", territory_href(territory), url_part(&self.code));
        if let Some(s) = &self.subject {
            href.push_str(&format!("&subject={}", url_part(s)));
        }
        href + "#children"
    }
}

/// The indicators and subjects `t` has values of, once each, as the API lists them.
pub fn light_choices(t: &Territory) -> Vec<LightChoice> {
    let mut out: Vec<LightChoice> = Vec::new();
    for ti in &t.indicators {
        let Some(i) = &ti.indicator else { continue };
        let choice = LightChoice {
            code: i.code.clone(),
            name: i.name.clone(),
            subject: ti.subject.clone(),
        };
        if !out.contains(&choice) {
            out.push(choice);
        }
    }
    out
}

/// The traffic lights on a territory's page: of one indicator and subject, its latest period
/// with a value (`Territory.series`), for the territory and each child.
#[derive(Clone, Debug, Default)]
pub struct Lights {
    pub choice: LightChoice,
    pub choices: Vec<LightChoice>,
    pub rollup: Option<Rollup>,
}

impl Lights {
    pub fn new(choice: LightChoice, choices: Vec<LightChoice>, series: Vec<Rollup>) -> Lights {
        let rollup = series.into_iter().rev().find(|r| r.value.is_some());
        Lights {
            choice,
            choices,
            rollup,
        }
    }

    /// The status of child territory `id` (`None`: no value).
    fn of_child(&self, id: &str) -> Option<&str> {
        self.rollup
            .as_ref()?
            .children
            .iter()
            .find(|c| c.territory.as_ref().is_some_and(|t| t.id == id))?
            .status
            .as_deref()
    }
}

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
                @for t in data.countries.iter().chain(orphans.iter().copied()) {
                    li {
                        a href=(territory_href(&t.id)) { (t.name) }
                        " " span.muted { "(" (format::territory_kind(t.kind.as_deref().unwrap_or(""))) ")" }
                        " · " a.missing href=(missing_href(&t.id)) { "чего не хватает" }
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
pub fn render_territory(
    territory: &Territory,
    plans: &[PlanSummary],
    today: NaiveDate,
    lights: Option<&Lights>,
    visitor: Visitor,
) -> Markup {
    let crumbs = territory_crumbs(&territory.ancestors, None);
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
            " · " a.missing href=(missing_href(&territory.id)) { "чего не хватает" }
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
                @if let Some(l) = lights {
                    (lights_head(territory, l))
                }
                table.children {
                    thead {
                        tr {
                            th scope="col" { "Территория" }
                            th scope="col" { "Планов" }
                            (status_headers())
                            @if let Some(l) = lights { th scope="col" { "Светофор: " (l.choice.label()) } }
                            @for p in &rolled {
                                th scope="col" title=(p.title) { "Реализация плана «" (short(&p.title)) "»" }
                            }
                        }
                    }
                    tbody {
                        @for child in &territory.children {
                            tr {
                                th scope="row" { a href=(territory_href(&child.id)) { (child.name) } }
                                @let c = child.measure_counts.clone().unwrap_or_default();
                                td.num { (c.plans) }
                                (status_cells(&StatusCounts {
                                    planned: c.not_started,
                                    in_progress: c.in_progress,
                                    done: c.done,
                                    overdue: c.overdue,
                                    cancelled: c.cancelled,
                                    unknown: 0,
                                }))
                                @if let Some(l) = lights { td { (light(l.of_child(&child.id).unwrap_or(""))) } }
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
                    "Планы и мероприятия — территории и всех входящих в неё. "
                    "Реализация — сколько мероприятий плана имеют исполняющее мероприятие в планах "
                    "входящей территории (на любом уровне ниже)."
                }
            }
        }
    };
    page(&territory.name, visitor, &crumbs, body)
}

/// Which indicator the lights are of, the territory's own light, and the other choices.
fn lights_head(territory: &Territory, l: &Lights) -> Markup {
    html! {
        p.lights {
            "Светофор показателя «" (l.choice.label()) "»"
            @match &l.rollup {
                Some(r) => {
                    ", " (r.period) " год: " (territory.name) " — "
                    (light(r.status.as_deref().unwrap_or("")))
                }
                None => { ": " span.muted { "значений пока нет" } }
            }
            " (зелёный — в норме, жёлтый — в пределах 10 % от цели, красный — отстаёт)."
        }
        @if l.choices.len() > 1 {
            nav.lights aria-label="Светофор какого показателя" {
                ul.plain {
                    @for c in &l.choices {
                        li {
                            @if *c == l.choice { strong { (c.label()) } }
                            @else { a href=(c.href(&territory.id)) { (c.label()) } }
                        }
                    }
                }
            }
        }
    }
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
