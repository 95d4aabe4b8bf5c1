//! Page 4, an indicator: the list of indicators, an indicator with the territories that set it,
//! and an indicator in one territory — baseline, targets and actual values per year for each
//! subject (a table, and a chart drawn from the same numbers when JavaScript is on), the rollup
//! table by child territory for one year, and the plan and measure that set each value.

use std::collections::{BTreeMap, BTreeSet};

use maud::{Markup, html};
use serde_json::json;

use super::layout::{Visitor, column_heads, measure_href, page, page_with, plan_href, territory_href};
use crate::format;
use crate::model::{Indicator, IndicatorTerritory, Rollup, TerritoryIndicator};

pub fn indicator_href(code: &str) -> String {
    format!("/indicators/{}", url_part(code))
}

pub fn indicator_territory_href(code: &str, territory: &str, subject: Option<&str>, period: Option<i64>) -> String {
    let mut href = format!("/indicators/{}/{}", url_part(code), url_part(territory));
    let mut sep = '?';
    if let Some(s) = subject {
        href.push_str(&format!("{sep}subject={}", url_part(s)));
        sep = '&';
    }
    if let Some(p) = period {
        href.push_str(&format!("{sep}period={p}"));
    }
    href
}

/// Percent-encodes everything but unreserved characters (codes and subject keys are ASCII, but a
/// subject the parser did not know is Russian text).
pub fn url_part(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn crumbs() -> Vec<(String, String)> {
    vec![("Показатели".to_string(), "/indicators".to_string())]
}

/// `/indicators`.
pub fn render_list(indicators: &[Indicator], visitor: Visitor) -> Markup {
    let body = html! {
        @if indicators.is_empty() { p.muted { "Показателей пока нет." } }
        ul.indicators {
            @for i in indicators {
                li {
                    a href=(indicator_href(&i.code)) { (i.name) }
                    " " span.muted { "(" (i.unit) @if let Some(e) = &i.exam { ", " (e) } ")" }
                }
            }
        }
    };
    page("Показатели", visitor, &[], body)
}

fn facts(i: &Indicator) -> Markup {
    html! {
        dl.facts {
            dt { "Код" } dd { code { (i.code) } }
            dt { "Единица" } dd { (i.unit) }
            @if let Some(d) = &i.direction { dt { "Направление" } dd { (format::direction(d)) } }
            @if let Some(e) = &i.exam {
                dt { "Экзамен" } dd { (e) @if let Some(g) = i.grade { ", " (g) " класс" } }
            }
        }
    }
}

/// `/indicators/{code}`: the territories with a baseline or target, and their subjects.
pub fn render_indicator(i: &Indicator, visitor: Visitor) -> Markup {
    let mut by_territory: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for t in &i.targets {
        if let Some(ter) = &t.territory {
            by_territory
                .entry((ter.name.clone(), ter.id.clone()))
                .or_default()
                .insert(t.subject.clone().unwrap_or_default());
        }
    }
    let body = html! {
        (facts(i))
        h2 { "Территории с базовыми и целевыми значениями" }
        @if by_territory.is_empty() { p.muted { "Значений пока нет." } }
        table.territories {
            (column_heads(&["Территория", "Предметы"]))
            tbody {
                @for ((name, id), subjects) in &by_territory {
                    tr {
                        th scope="row" { a href=(indicator_territory_href(&i.code, id, None, None)) { (name) } }
                        td {
                            @for (n, s) in subjects.iter().enumerate() {
                                @if n > 0 { ", " }
                                a href=(indicator_territory_href(&i.code, id, Some(s).filter(|s| !s.is_empty()).map(String::as_str), None)) {
                                    (format::subject(s))
                                }
                            }
                        }
                    }
                }
            }
        }
    };
    let mut c = crumbs();
    c.push((i.name.clone(), indicator_href(&i.code)));
    page(&i.name, visitor, &c[..1], body)
}

/// One year of one subject: what the plan set and what happened.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct YearRow {
    pub period: i64,
    pub baseline: Option<(f64, String)>,
    pub target: Option<(f64, String, String)>,
    pub actual: Option<f64>,
    pub gap: Option<f64>,
    pub status: Option<String>,
}

/// The years of a subject, from its baselines, targets and (for the subject the series is of)
/// the rollups' values.
pub fn year_rows(ti: &TerritoryIndicator, series: &[Rollup]) -> Vec<YearRow> {
    let mut rows: BTreeMap<i64, YearRow> = BTreeMap::new();
    for b in &ti.baselines {
        let r = rows.entry(b.period).or_default();
        r.baseline = Some((b.value, b.value_raw.clone()));
    }
    for t in &ti.targets {
        let r = rows.entry(t.period).or_default();
        r.target = Some((t.value, t.value_raw.clone(), t.comparator.clone()));
    }
    for s in series {
        if s.value.is_none() && s.target.is_none() {
            continue;
        }
        let r = rows.entry(s.period).or_default();
        r.actual = s.value;
        r.gap = s.gap;
        r.status = s.status.clone();
    }
    rows.into_iter()
        .map(|(period, mut r)| {
            r.period = period;
            r
        })
        .collect()
}

/// The chart's data, as `charts.js` reads it: the years, the target line (starting from the
/// baseline) and the actual values; `null` where a year has none.
pub fn chart_data(title: &str, unit: &str, rows: &[YearRow]) -> serde_json::Value {
    let years: Vec<i64> = rows.iter().map(|r| r.period).collect();
    let target: Vec<Option<f64>> = rows
        .iter()
        .map(|r| r.target.as_ref().map(|t| t.0).or(r.baseline.as_ref().map(|b| b.0)))
        .collect();
    let actual: Vec<Option<f64>> = rows.iter().map(|r| r.actual).collect();
    json!({
        "title": title,
        "unit": unit,
        "years": years,
        "series": [
            { "label": "Цель (от базового значения)", "values": target },
            { "label": "Факт", "values": actual },
        ],
    })
}

/// `/indicators/{code}/{territory}?subject=&period=`.
pub fn render_territory(
    i: &Indicator,
    t: &IndicatorTerritory,
    subject: Option<&str>,
    period: Option<i64>,
    visitor: Visitor,
) -> Markup {
    let selected: Option<&TerritoryIndicator> = t
        .indicators
        .iter()
        .find(|ti| ti.subject.as_deref() == subject)
        .or_else(|| t.indicators.first());
    let subject_key = selected.and_then(|ti| ti.subject.clone());
    let series: Vec<Rollup> = t.series.iter().filter(|r| r.subject == subject_key).cloned().collect();
    let rows = selected.map(|ti| year_rows(ti, &series)).unwrap_or_default();
    // The rollup table's year: asked, else the latest with a value, else the latest.
    let rollup = match period {
        Some(p) => series.iter().find(|r| r.period == p),
        None => series.iter().rev().find(|r| r.value.is_some()).or(series.last()),
    };
    let subject_name = format::subject(subject_key.as_deref().unwrap_or(""));
    let title = format!("{} — {}", i.name, t.name);
    let chart = chart_data(&format!("{subject_name}, {}", t.name), &i.unit, &rows);
    let mut c = crumbs();
    c.push((i.name.clone(), indicator_href(&i.code)));
    c.extend(t.ancestors.iter().rev().map(|a| {
        (
            a.name.clone(),
            indicator_territory_href(&i.code, &a.id, subject_key.as_deref(), None),
        )
    }));
    let body = html! {
        (facts(i))
        p { "Территория: " a href=(territory_href(&t.id)) { (t.name) } }
        @if t.indicators.is_empty() {
            p.muted { "У территории нет значений этого показателя." }
        }
        @if t.indicators.len() > 1 {
            nav.subjects aria-label="Предметы" {
                ul {
                    @for ti in &t.indicators {
                        @let key = ti.subject.as_deref();
                        li {
                            @if key == subject_key.as_deref() {
                                strong aria-current="page" { (format::subject(key.unwrap_or(""))) }
                            } @else {
                                a href=(indicator_territory_href(&i.code, &t.id, key, None)) { (format::subject(key.unwrap_or(""))) }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(ti) = selected {
            section aria-labelledby="values" {
                h2 #values { (subject_name) ": базовое, целевые и фактические значения" }
                figure.chart {
                    div.chart-canvas data-chart=(chart.to_string()) {}
                    figcaption { "График: цель (от базового значения) и факт по годам, " (i.unit) "." }
                }
                table.values {
                    (column_heads(&["Год", "Базовое", "Цель", "Факт", "Отклонение", "Статус"]))
                    tbody {
                        @for r in &rows {
                            tr data-period=(r.period) {
                                th scope="row" { (r.period) }
                                td.num.baseline { @if let Some((v, _)) = &r.baseline { (format::number(*v)) } }
                                td.num.target {
                                    @if let Some((v, _, cmp)) = &r.target { (format::comparator(cmp)) (format::number(*v)) }
                                }
                                td.num.actual { (format::opt_number(r.actual)) }
                                td.num.gap { @if let Some(g) = r.gap { (format::signed(g)) } }
                                td { @if let Some(s) = &r.status { (light(s)) } }
                            }
                        }
                    }
                }
                (set_by(ti))
            }
        }
        @if let Some(r) = rollup {
            section aria-labelledby="rollup" {
                h2 #rollup { "По территориям, " (r.period) " год" }
                @if series.len() > 1 {
                    nav.periods aria-label="Годы" {
                        ul {
                            @for s in &series {
                                li {
                                    @if s.period == r.period { strong aria-current="page" { (s.period) } }
                                    @else { a href=(indicator_territory_href(&i.code, &t.id, subject_key.as_deref(), Some(s.period))) { (s.period) } }
                                }
                            }
                        }
                    }
                }
                p.lead {
                    (t.name) ": " strong.value { (format::opt_number(r.value)) }
                    @if let Some(target) = r.target { " при цели " (format::number(target)) }
                    @if let Some(s) = &r.status { " " (light(s)) }
                    " · с данными: " (r.children_with_data)
                    @if r.missing_children > 0 { ", без данных: " (r.missing_children) }
                }
                table.rollup {
                    (column_heads(&[
                        "Место", "Территория или организация", "Значение", "Участников", "Цель", "Отклонение",
                        "Статус",
                    ]))
                    tbody {
                        @for c in &r.children {
                            tr {
                                td.num { @if let Some(rank) = c.rank { (rank) } }
                                th scope="row" {
                                    @if let Some(ter) = &c.territory {
                                        a href=(indicator_territory_href(&i.code, &ter.id, subject_key.as_deref(), Some(r.period))) { (ter.name) }
                                    } @else if let Some(o) = &c.organisation { (o.name) }
                                }
                                td.num { (format::opt_number(c.value)) }
                                td.num { (format::opt_number(c.denominator)) }
                                td.num { (format::opt_number(c.target)) }
                                td.num { @if let Some(g) = c.gap { (format::signed(g)) } }
                                td { @if let Some(s) = &c.status { (light(s)) } }
                            }
                        }
                    }
                }
            }
        }
    };
    page_with(&title, visitor, &c, body, true)
}

/// The traffic light of a track status: a coloured dot and the word (colour is never the only
/// sign).
pub fn light(status: &str) -> Markup {
    html! {
        span class={ "light " (format::track_class(status)) } { (format::track_status(status)) }
    }
}

/// Which plan and measure set each baseline and target.
fn set_by(ti: &TerritoryIndicator) -> Markup {
    let rows: Vec<_> = ti.baselines.iter().chain(ti.targets.iter()).collect();
    html! {
        details.set-by {
            summary { "Кем установлены значения" }
            table {
                (column_heads(&["Год", "Вид", "Значение (как в документе)", "План", "Мероприятие"]))
                tbody {
                    @for r in rows {
                        tr {
                            td { (r.period) }
                            td { @if r.kind == "BASELINE" { "базовое" } @else { "целевое" } }
                            td.num { (format::comparator(&r.comparator)) (r.value_raw) }
                            td { @if let Some(p) = &r.plan { a href=(plan_href(&p.id)) { (p.title) } } }
                            td { @if let Some(m) = &r.measure { a href=(measure_href(&m.id)) { (m.number) " " (m.title) } } }
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_parts_are_encoded() {
        assert_eq!(url_part("ege_below_min"), "ege_below_min");
        assert_eq!(url_part("хим"), "%D1%85%D0%B8%D0%BC");
        assert_eq!(
            indicator_territory_href("ege", "t1", Some("chemistry"), Some(2026)),
            "/indicators/ege/t1?subject=chemistry&period=2026"
        );
    }
}
