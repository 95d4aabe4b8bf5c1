//! Each page rendered from a gateway answer: structure (headings, tables, links, badges) and the
//! numbers as the page writes them.

use roadmap_web::gateway::read_data;
use roadmap_web::model::{
    IndicatorData, IndicatorTerritoryData, IndicatorsData, LightsData, MeasureData, PlanData, RootsData, TerritoryData,
};
use roadmap_web::operations;
use roadmap_web::pages::layout::Visitor;
use roadmap_web::pages::{indicator, measure, overview, plan, signin, versions};

use crate::{fixture, today};

const NBSP: &str = "\u{a0}";
const ANON: Visitor = Visitor { signed_in: false };

/// The text between `start` and the next `end` after it.
fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html.find(start).unwrap_or_else(|| panic!("`{start}` not in page")) + start.len();
    let to = html[from..].find(end).map_or(html.len(), |i| from + i);
    &html[from..to]
}

/// The cells of the table row whose header cell starts with `label`, as text without tags.
fn row_cells(html: &str, label: &str) -> Vec<String> {
    let row_start = html
        .find(&format!("<th scope=\"row\">{label}"))
        .unwrap_or_else(|| panic!("no row `{label}`"));
    let row_end = html[row_start..].find("</tr>").expect("row end") + row_start;
    let row = &html[row_start..row_end];
    row.split("<td")
        .skip(1)
        .map(|cell| {
            let inner = &cell[cell.find('>').expect("cell") + 1..];
            let inner = inner.split("</td>").next().unwrap_or("");
            strip_tags(inner)
        })
        .collect()
}

fn strip_tags(s: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in s.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.trim().to_string()
}

fn assert_document(html: &str, title: &str) {
    assert!(html.starts_with("<!DOCTYPE html><html lang=\"ru\">"), "{html:.80}");
    assert!(html.contains(&format!("<h1>{title}</h1>")), "h1 {title}");
    assert!(html.contains("href=\"/assets/web.css\""));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing fetched from elsewhere"
    );
}

#[test]
fn roots_list_countries_orphan_regions_and_federal_plans() {
    let data: RootsData = read_data(&operations::ROOTS, fixture("roots")).expect("roots");
    let html = overview::render_roots(&data, today(), ANON).into_string();
    assert_document(&html, "Обзор");
    assert!(html.contains(r#"<a href="/territories/ter-rf">Российская Федерация</a>"#));
    // A region under a country is reached through it; one without a country is a root.
    assert!(!html.contains(r#"<a href="/territories/ter-zab">"#));
    assert!(html.contains(r#"<a href="/territories/ter-khab">Хабаровский край</a>"#));
    assert!(html.contains(r#"<a href="/plans/plan-fed">Федеральный план повышения качества образования</a>"#));
    // done, in progress, overdue, total.
    assert_eq!(
        row_cells(&html, "<a href=\"/plans/plan-fed\">"),
        [
            "Российская Федерация",
            "федеральный",
            "01.01.2024 – 31.12.2026",
            "да",
            "1",
            "2",
            "0",
            "4"
        ]
    );
    assert!(html.contains(r#"<a href="/signin">Вход</a>"#));
}

#[test]
fn a_territory_shows_its_plans_in_force_status_counts_and_children_coverage() {
    let data: TerritoryData = read_data(&operations::TERRITORY, fixture("territory")).expect("territory");
    let t = data.territory.expect("territory");
    let lights: LightsData = read_data(&operations::TERRITORY_LIGHTS, fixture("territory_lights")).expect("lights");
    let choices = overview::light_choices(&t);
    assert_eq!(choices.len(), 2, "chemistry and physics, once each: {choices:?}");
    let series = lights.territory.expect("territory").series;
    let lights = overview::Lights::new(choices[0].clone(), choices.clone(), series);
    let html = overview::render_territory(&t, &data.plans.nodes, today(), Some(&lights), ANON).into_string();
    assert_document(&html, "Забайкальский край");
    assert!(
        html.contains(r#"<li><a href="/territories/ter-rf">Российская Федерация</a></li>"#),
        "crumbs"
    );
    assert!(html.contains("действующих планов: <strong>1</strong>"));
    assert!(html.contains("выполнено <strong>5</strong>, выполняется <strong>7</strong>, просрочено <strong class=\"overdue-count\">3</strong>"));
    let plan_row = row_cells(&html, "<a href=\"/plans/plan-zab\">");
    assert_eq!(
        plan_row,
        ["региональный", "01.01.2024 – 31.12.2026", "да", "5", "7", "3", "40"]
    );
    // The 2021–2023 plan is over on 15.09.2024.
    let old = row_cells(&html, "<a href=\"/plans/plan-zab-2021\">");
    assert_eq!(old[2], "нет");
    assert!(html.find("Не действующие сейчас") < html.find("plan-zab-2021"));
    // Children drill down, with the share of the plan implemented in each.
    assert!(html.contains("<h2 id=\"children\">Муниципалитеты</h2>"));
    // Plans, done, in progress, overdue, all measures (of the child and under it), the traffic
    // light of the latest year with a value (2024), implementation.
    assert_eq!(
        row_cells(&html, "<a href=\"/territories/ter-chita\">"),
        ["2", "6", "4", "2", "17", "в норме", &format!("12 из 40 (30{NBSP}%)")]
    );
    assert_eq!(
        row_cells(&html, "<a href=\"/territories/ter-aga\">"),
        ["0", "0", "0", "0", "0", "отстаёт", &format!("0 из 40 (0{NBSP}%)")]
    );
    assert_eq!(
        row_cells(&html, "<a href=\"/territories/ter-borzya\">")[5],
        "нет данных"
    );
    assert!(html.contains("2024 год: Забайкальский край — <span class=\"light yellow\">под угрозой</span>"));
    assert!(
        html.contains("href=\"/territories/ter-zab?indicator=ege_below_min&amp;subject=physics#children\""),
        "the other subject's lights"
    );
}

#[test]
fn a_plan_reads_like_its_document() {
    let data: PlanData = read_data(&operations::PLAN, fixture("plan")).expect("plan");
    let p = data.plan.expect("plan");
    let html = plan::render(&p, ANON).into_string();
    assert_document(&html, &p.title);
    assert!(html.contains("распоряжение от 21.03.2024 № 114-р"));
    // Sections in document order, each a row group.
    let s1 = html.find("1. Организационно - правовое").expect("section 1");
    let s2 = html.find("2. Работа с педагогическими").expect("section 2");
    let s3 = html.find("3. Работа с обучающимися").expect("section 3");
    assert!(s1 < s2 && s2 < s3);
    // Number, title, schedule as written, parsed due day, responsible, status, progress.
    let row = between(&html, "id=\"m-m-1-1\"", "</tr>");
    assert!(row.contains("<td class=\"number\">1.1.</td>"));
    assert!(row.contains("<td class=\"schedule\">Январь – февраль 2024 года</td>"));
    assert!(row.contains("<time datetime=\"2024-02-29\">29.02.2024</time>"));
    assert!(row.contains("(далее – Минобразования)"));
    assert!(row.contains("<li>Министерство образования и науки Забайкальского края</li>"));
    assert!(row.contains("выполнено"));
    assert!(row.contains("<progress max=\"100\" value=\"100\""));
    // The overdue measure carries the badge and its row the class.
    assert!(html.contains("<tr class=\"measure overdue\" id=\"m-m-1-2\""));
    let overdue = between(&html, "id=\"m-m-1-2\"", "</tr>");
    assert!(overdue.contains("ПРОСРОЧЕНО"));
    // One overdue badge (the word is also in the live script's labels, hence the class).
    assert_eq!(html.matches("class=\"badge overdue\"").count(), 1);
    // The page follows its plan's status changes; the rows say which measure they show.
    assert!(html.contains(&format!("data-live=\"/plans/{}/live\"", p.id)));
    assert!(
        row.contains("<td class=\"status\" data-status-of=\"m-1-1\" data-status=\"DONE\">"),
        "{row}"
    );
    // The totals say which status each counts, so the live script can move a changed measure.
    assert!(html.contains("<strong class=\"overdue-count\" data-count=\"OVERDUE\">1</strong>"));
    // Rolled-up progress wins over the reported one.
    let row = between(&html, "id=\"m-m-2-3\"", "</tr>");
    assert!(row.contains(&format!("63{NBSP}%")), "{row}");
    assert!(row.contains("↑ реализует"));
    // A sub-measure follows its measure, indented.
    let parent = html.find("id=\"m-m-3-1\"").expect("3.1");
    let child = html.find("id=\"m-m-3-1-1\" data-depth=\"1\"").expect("3.1.1");
    assert!(parent < child);
    // Parent plan and how much of it this plan implements.
    assert_eq!(
        row_cells(&html, "<a href=\"/plans/plan-fed\">"),
        ["федеральный", &format!("1 из 3 (33{NBSP}%)")]
    );
    assert!(html.contains("всего <strong>6</strong>, выполнено <strong data-count=\"DONE\">1</strong>"));
}

/// A federal measure's page asks one level down and says where the rest of the cascade is; any
/// other measure's page asks three and says nothing of it.
#[test]
fn a_federal_measure_shows_one_level_of_the_cascade_and_says_so() {
    assert_eq!(measure::down_depth(Some("FEDERAL")), 1);
    assert_eq!(measure::down_depth(Some("REGIONAL")), 3);
    assert_eq!(measure::down_depth(None), 3);
    let data: MeasureData = read_data(&operations::MEASURE, fixture("measure")).expect("measure");
    let m = data.measure.expect("measure");
    let note = "Показан первый уровень каскада";
    assert!(measure::render(&m, 1, ANON).into_string().contains(note));
    assert!(!measure::render(&m, 3, ANON).into_string().contains(note));
}

#[test]
fn a_measure_shows_the_cascade_down_to_school_occurrences_up_and_coverage() {
    let data: MeasureData = read_data(&operations::MEASURE, fixture("measure")).expect("measure");
    let m = data.measure.expect("measure");
    let html = measure::render(&m, 3, ANON).into_string();
    assert_document(&html, &format!("{} {}", m.head.number, m.head.title));
    // Up: the federal measure.
    let up = between(&html, "<ul class=\"trace up\">", "</section>");
    assert!(up.contains("<a href=\"/measures/fm-1\">1.2 Методическое сопровождение"));
    assert!(up.contains("федеральный"));
    // Down: municipal, then school, with the school's occurrences and reports.
    let down = between(&html, "<ul class=\"trace down\">", "</section>");
    let municipal = down.find("/measures/cm-4").expect("municipal");
    let school = down.find("/measures/sm-7").expect("school");
    assert!(municipal < school);
    assert!(down.contains("<li data-depth=\"2\">"));
    assert!(down.contains("муниципальный"));
    assert!(down.contains("школьный · <a href=\"/plans/plan-school1\">"));
    assert!(down.contains("Проведения: 2"));
    assert!(down.contains("<time datetime=\"2024-01-08\">08.01.2024</time>"));
    assert!(down.contains("проведено, участников: 2 (09.01.2024)"));
    assert!(
        down.contains(
            "<time datetime=\"2024-03-25\">25.03.2024</time> – <time datetime=\"2024-03-29\">29.03.2024</time>"
        )
    );
    assert!(down.contains("<strong>не проведено</strong>"));
    assert!(down.contains("ПРОСРОЧЕНО"));
    // Coverage of the municipalities.
    assert!(html.contains(&format!("Охвачено <strong>1</strong> из 2 (50{NBSP}%)")));
    let borzya = html.find("Борзинский район").expect("Борзинский район");
    assert!(
        html[..borzya].ends_with("<tr class=\"uncovered\"><th scope=\"row\"><a href=\"/territories/ter-borzya\">"),
        "{}",
        &html[borzya - 120..borzya]
    );
    assert_eq!(row_cells(&html, "<a href=\"/territories/ter-borzya\">")[0], "нет");
    // The measure's own occurrences.
    assert!(html.contains("проведено, участников: 118 (02.04.2024)"));
    assert!(html.contains(&format!("<span class=\"progress-text\">63{NBSP}%</span>")));
    // The page follows status changes under its measure: the script, its stream, the badge.
    assert!(html.contains(&format!("data-live=\"/measures/{}/live\"", m.head.id)));
    assert!(html.contains("<script defer src=\"/assets/live.js\">"));
    assert!(html.contains(&format!("<dd aria-live=\"polite\" data-status-of=\"{}\">", m.head.id)));
}

#[test]
fn the_indicator_list_and_an_indicator_link_to_territories_and_subjects() {
    let data: IndicatorsData = read_data(&operations::INDICATORS, fixture("indicators")).expect("list");
    let html = indicator::render_list(&data.indicators, ANON).into_string();
    assert_document(&html, "Показатели");
    assert!(html.contains(
        "<a href=\"/indicators/ege_below_min\">Доля обучающихся, не преодолевших минимальный порог баллов на ЕГЭ</a>"
    ));

    let data: IndicatorData = read_data(&operations::INDICATOR, fixture("indicator")).expect("indicator");
    let i = data.indicator.expect("indicator");
    let html = indicator::render_indicator(&i, ANON).into_string();
    assert_document(&html, &i.name);
    assert!(html.contains("чем меньше, тем лучше"));
    assert!(html.contains("<a href=\"/indicators/ege_below_min/ter-zab\">Забайкальский край</a>"));
    assert!(html.contains("<a href=\"/indicators/ege_below_min/ter-zab?subject=chemistry\">Химия</a>"));
    assert!(
        html.contains("<a href=\"/indicators/ege_below_min/ter-khab?subject=math_profile\">Математика (профиль)</a>")
    );
}

#[test]
fn zabaykalsky_chemistry_baseline_32_79_and_target_23_for_2026() {
    let data: IndicatorTerritoryData =
        read_data(&operations::INDICATOR_TERRITORY, fixture("indicator_territory")).expect("data");
    let (i, t) = (data.indicator.expect("indicator"), data.territory.expect("territory"));
    let html = indicator::render_territory(&i, &t, Some("chemistry"), None, ANON).into_string();
    assert_document(&html, &format!("{} — Забайкальский край", i.name));
    assert!(html.contains("<h2 id=\"values\">Химия: базовое, целевые и фактические значения</h2>"));
    // Year, baseline, target, actual, gap, status.
    assert_eq!(row_cells(&html, "2023"), ["32,79", "", "—", "", ""]);
    assert_eq!(row_cells(&html, "2024"), ["", "30", "24", "-6", "в норме"]);
    assert_eq!(row_cells(&html, "2026"), ["", "23", "—", "", ""]);
    // The chart is drawn from the same numbers, by the vendored library only.
    assert!(html.contains("<script defer src=\"/assets/uplot.iife.min.js\"></script>"));
    let chart = between(&html, "data-chart=\"", "\"");
    let chart: serde_json::Value = serde_json::from_str(&chart.replace("&quot;", "\"")).expect("chart data");
    assert_eq!(chart["years"], serde_json::json!([2023, 2024, 2025, 2026]));
    assert_eq!(
        chart["series"][0]["values"],
        serde_json::json!([32.79, 30.0, 27.0, 23.0])
    );
    assert_eq!(
        chart["series"][1]["values"],
        serde_json::json!([null, 24.0, null, null])
    );
    // Other subjects are a link away.
    assert!(html.contains("<strong aria-current=\"page\">Химия</strong>"));
    assert!(html.contains("<a href=\"/indicators/ege_below_min/ter-zab?subject=biology\">Биология</a>"));
    // Rollup by municipality for the latest year with a value (2024), ranked.
    assert!(html.contains("<h2 id=\"rollup\">По территориям, 2024 год</h2>"));
    assert!(html.contains("Забайкальский край: <strong class=\"value\">24</strong> при цели 30"));
    let chita = "<a href=\"/indicators/ege_below_min/ter-chita?subject=chemistry&amp;period=2024\">";
    assert_eq!(row_cells(&html, chita), ["20", "300", "—", "", ""]);
    assert!(html.contains(&format!("<td class=\"num\">1</td><th scope=\"row\">{chita}")));
    let borzya = between(
        &html,
        "ter-borzya?subject=chemistry&amp;period=2024\">Борзинский район</a></th>",
        "</tr>",
    );
    assert!(borzya.contains("<td class=\"num\">36</td>"));
    assert!(borzya.contains("<td class=\"num\">+1</td>"));
    assert!(borzya.contains("под угрозой"));
    // Who set the values.
    assert!(html.contains("<td class=\"num\">32,79</td>"));
    assert!(html.contains("Кем установлены значения"));

    // Another year from the period links.
    let html = indicator::render_territory(&i, &t, Some("chemistry"), Some(2026), ANON).into_string();
    assert!(html.contains("<h2 id=\"rollup\">По территориям, 2026 год</h2>"));
    assert!(html.contains("при цели 23"));
}

#[test]
fn sign_in_explains_the_development_token() {
    let html = signin::render(ANON, None, None).into_string();
    assert_document(&html, "Вход");
    assert!(html.contains("<form class=\"signin\" method=\"post\" action=\"/signin\">"));
    assert!(html.contains("roadmap-hub token --role viewer"));
    assert!(!html.contains("/auth/login"), "no provider link without a provider");
    let html = signin::render(ANON, None, Some("/auth/login?back=%2Fplans%2F1")).into_string();
    assert!(
        html.contains("<a class=\"oidc-login\" href=\"/auth/login?back=%2Fplans%2F1\">Войти</a>"),
        "{html}"
    );
    assert!(
        html.contains("roadmap-hub token --role viewer"),
        "the development form stays"
    );
    let html = signin::render(Visitor { signed_in: true }, None, None).into_string();
    assert!(html.contains("action=\"/signout\""));
    assert!(!html.contains("Без входа видны только утверждённые планы.</footer>"));
}

#[test]
fn what_is_missing_shows_counts_gaps_and_lists_each_with_its_csv() {
    use roadmap_web::model::MissingData;
    use roadmap_web::pages::missing::{self, Table};
    let data: MissingData = read_data(&operations::MISSING, fixture("missing")).expect("missing");
    let t = data.territory.expect("territory");
    let html = missing::render(&t, 45, ANON).into_string();
    assert_document(&html, "Чего не хватает: Забайкальский край");
    // Plans, in force, done, in progress, overdue, not started, cancelled, all.
    assert_eq!(
        row_cells(&html, "Забайкальский край (всего)"),
        ["3", "2", "5", "7", "12", "20", "1", "45"]
    );
    assert_eq!(
        row_cells(&html, "<a href=\"/territories/ter-chita/missing\">"),
        ["2", "2", "3", "2", "4", "5", "0", "14"]
    );
    assert_eq!(
        row_cells(&html, "<a href=\"/measures/m-1-2\">"),
        ["ПЛАН мероприятий («дорожная карта»)", "1 из 2", "Агинский район"]
    );
    assert!(html.contains("Показаны первые 1 из 12"), "the overdue list is cut");
    assert!(html.contains("<time datetime=\"2024-03-31\">31.03.2024</time>"));
    assert!(html.contains("value=\"45\""), "the days asked");
    for table in Table::ALL {
        let href = format!("/territories/ter-zab/missing/{}.csv?days=45", table.slug());
        assert!(html.contains(&format!("href=\"{href}\"")), "{href}");
    }
    // The CSV rows: the page's text, not its markup.
    let (head, rows) = missing::rows(&t, Table::Overdue);
    assert_eq!(head, ["№", "Мероприятие", "План", "Территория", "Срок", "Статус"]);
    assert_eq!(
        rows,
        [[
            "1.2.",
            "Семинар; \"итоги\" года",
            "ПЛАН мероприятий («дорожная карта»)",
            "Забайкальский край",
            "31.03.2024",
            "просрочено"
        ]]
    );
    let (_, rows) = missing::rows(&t, Table::Territories);
    assert_eq!(rows.len(), 3, "the region and its two districts");
    let (_, rows) = missing::rows(&t, Table::Stale);
    assert!(rows.is_empty());
}

#[test]
fn a_plan_lists_its_versions_with_what_each_changed() {
    let data: PlanData = read_data(&operations::PLAN, fixture("plan")).expect("plan");
    let p = data.plan.expect("plan");
    let html = plan::render(&p, ANON).into_string();
    let list = between(&html, "<h2 id=\"versions\">Версии</h2>", "</table>");
    // Newest first: version, date, file (format), added, removed, changed.
    assert!(list.find("версия 2") < list.find("версия 1"), "{list}");
    assert_eq!(
        row_cells(list, "<a href=\"/plans/plan-zab/versions/2\">"),
        ["10.09.2024", "002.docx (DOCX)", "1", "1", "2"]
    );
    assert_eq!(
        row_cells(list, "<a href=\"/plans/plan-zab/versions/1\">"),
        ["25.03.2024", "002_587447f0e4c9bb26.txt (plain text)", "0", "0", "0"]
    );
    // A plan entered by hand has no versions and no section for them.
    let manual = roadmap_web::model::Plan {
        versions: Vec::new(),
        ..p
    };
    assert!(!plan::render(&manual, ANON).into_string().contains("id=\"versions\""));
}

#[test]
fn a_version_shows_its_changes_against_the_one_before_field_by_field() {
    let data: PlanData = read_data(&operations::PLAN_VERSION, fixture("plan_version")).expect("version");
    let p = data.plan.expect("plan");
    let changes = p.version_changes.clone().expect("changes");
    let html = versions::render(&p, &changes, ANON).into_string();
    assert_document(&html, &format!("Версия 2 плана «{}»", p.title));
    // Crumbs end at the plan; the facts name the date, file and the version compared with.
    assert!(html.contains("<li><a href=\"/plans/plan-zab\">"), "crumb to the plan");
    assert!(html.contains("<time datetime=\"2024-09-10T06:30:00+00:00\">10.09.2024</time>"));
    assert!(html.contains("с версией <a href=\"/plans/plan-zab/versions/1\">1</a> · это действующая версия"));
    let added = between(&html, "<h2 id=\"added\">Добавлены (1)</h2>", "</section>");
    assert!(
        added.contains("<td class=\"number\">3.4.</td><th scope=\"row\">Региональная олимпиада"),
        "{added}"
    );
    let removed = between(&html, "<h2 id=\"removed\">Удалены (1)</h2>", "</section>");
    assert!(removed.contains("Выездные методические десанты"), "{removed}");
    // Each changed field: its name, before, after; dates as 15.09.2023, an empty cell as such.
    let m12 = between(&html, "id=\"k-1.2\"", "</tbody>");
    let fields: Vec<Vec<String>> = m12
        .split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<td class=\"")
                .skip(1)
                .filter(|c| !c.starts_with("number"))
                .map(|c| strip_tags(&c[c.find('>').expect("cell") + 1..]))
                .collect()
        })
        .collect();
    assert_eq!(
        fields,
        [
            vec![
                "Наименование",
                "Мониторинг реализации дорожной карты",
                "Мониторинг реализации дорожной карты (ежеквартальный отчёт)"
            ],
            vec![
                "Срок (как в документе)",
                "До 1 марта 2024 года",
                "До 15 апреля 2024 года"
            ],
            vec!["Источник финансирования", "пусто", "краевой бюджет"],
            vec!["Срок до", "01.03.2024", "15.04.2024"],
        ]
    );
    assert!(m12.contains("rowspan=\"4\""), "{m12}");
    let m23 = between(&html, "id=\"k-2.3\"", "</tbody>");
    assert!(
        m23.contains("<td class=\"field\">Примечание</td><td class=\"before\">по заявкам МОУО</td>"),
        "{m23}"
    );
}

#[test]
fn the_first_version_has_nothing_to_compare_with() {
    let data: PlanData = read_data(&operations::PLAN_VERSION, fixture("plan_version")).expect("version");
    let p = data.plan.expect("plan");
    let first = roadmap_web::model::VersionChanges {
        from: None,
        to: 1,
        ..Default::default()
    };
    let html = versions::render(&p, &first, ANON).into_string();
    assert!(html.contains("первая версия плана: сравнивать не с чем"));
    assert!(html.contains("<time datetime=\"2024-03-25T09:00:00+00:00\">25.03.2024</time>"));
    assert!(!html.contains("id=\"changed\"") && !html.contains("Мероприятия не изменились"));
}

#[test]
fn an_upload_preview_shows_each_parsed_row_next_to_its_source_line_and_confirms_the_same_file() {
    use roadmap_web::model::PreviewData;
    use roadmap_web::pages::upload::{self, Upload};
    let answer = serde_json::json!({ "data": { "importPreview": {
        "status": "UPDATED", "version": 3, "sourceKey": "act:приказ:12:2024-01-10", "title": "План",
        "format": "DOCX", "sections": 1, "measures": 2, "childMeasures": 0, "milestones": 0,
        "unresolvedNames": ["ЦНППМ"], "newTerritories": ["Город Чита"], "extraColumns": [], "ignoredColumns": [],
        "existingPlan": { "id": "plan-1", "title": "План", "version": 2, "state": "APPROVED" },
        "changes": { "added": ["1.2"], "removed": [], "changed": ["1.1"] },
        "lint": [{ "code": "schedule-outside-period", "severity": "WARNING", "message": "1.2 вне периода", "line": 3, "measureNumber": "1.2" }],
        "sourceLines": ["ПЛАН", "1.1\tДиагностика\tЯнварь 2024 года\tЦОКО", "1.2\tСеминар\t2031 год\tИРО"],
        "rows": [
            { "key": "1.1", "section": "Раздел", "depth": 0, "milestone": false, "number": "1.1", "title": "Диагностика",
              "scheduleText": "Январь 2024 года", "dueOn": "2024-01-31", "responsibleText": "ЦОКО",
              "responsible": ["Центр оценки качества образования"], "line": 2 },
            { "key": "1.2", "section": "Раздел", "depth": 0, "milestone": false, "number": "1.2", "title": "Семинар",
              "scheduleText": "2031 год", "dueOn": null, "responsibleText": "ИРО", "responsible": [], "line": 3 }
        ]
    } } });
    let data: PreviewData = read_data(&operations::IMPORT_PREVIEW, answer).expect("preview");
    let file = Upload {
        file_name: "plan.docx".into(),
        content_base64: "UEsDBA==".into(),
        territory: "Забайкальский край/Город Чита".into(),
        ..Upload::default()
    };
    let html = upload::render_preview(
        &data.import_preview.expect("preview"),
        &file,
        Visitor { signed_in: true },
    )
    .into_string();
    assert_document(&html, "Проверка перед импортом");
    assert!(html.contains("ничего не сохранено"));
    assert!(html.contains("plan.docx (DOCX)"));
    assert!(
        html.contains("Новая версия 3 плана <a href=\"/plans/plan-1\">«План»</a> (сейчас версия 2)"),
        "{html}"
    );
    assert!(html.contains("будут созданы: Город Чита"));
    assert!(html.contains("добавлено <strong>1</strong>, удалено <strong>0</strong>, изменено <strong>1</strong>"));
    // Row 1.1: the source line's cells, then what was read: the due day and the resolved party.
    let row = between(&html, "<tr id=\"line-2\">", "</tr>");
    let cells: Vec<String> = row.split("<td").skip(1).map(strip_tags).collect();
    assert!(cells[0].ends_with('2'), "{cells:?}");
    assert!(
        cells[1].contains("1.1 | Диагностика | Январь 2024 года | ЦОКО"),
        "{cells:?}"
    );
    assert!(
        cells[4].contains("Январь 2024 года") && cells[4].contains("срок: 31.01.2024"),
        "{cells:?}"
    );
    assert!(cells[5].contains("Центр оценки качества образования"), "{cells:?}");
    // The row a lint finding points at is marked, and the finding links to it.
    assert!(html.contains("<tr id=\"line-3\" class=\"flagged\">"));
    assert!(html.contains("<a href=\"#line-3\">3</a>"));
    assert!(html.contains("<li>ЦНППМ</li>"));
    // Confirming posts the same file and options; cancelling goes back to the form.
    let form = between(
        &html,
        "<form class=\"confirm\" method=\"post\" action=\"/upload/confirm\">",
        "</form>",
    );
    assert!(form.contains("name=\"contentBase64\" value=\"UEsDBA==\""));
    assert!(form.contains("name=\"territory\" value=\"Забайкальский край/Город Чита\""));
    assert!(form.contains("Импортировать"));
    assert!(form.contains("href=\"/upload?cancelled=1\""));
}
