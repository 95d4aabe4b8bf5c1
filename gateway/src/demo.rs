//! Demo data for `up --demo`: the five seed roadmaps, imported as far as the importer can, and a
//! small generated cascade under fictional names. Idempotent: a second run finds every document
//! unchanged and the cascade present.

use anyhow::{Context as _, anyhow};
use roadmap_common::people::PeopleClient;
use roadmap_plans::graphql::{PlanLevel, PlanState};
use roadmap_plans::import::{ImportOptions, ImportSummary, import_document_with};
use roadmap_plans::indicators_client::IndicatorsClient;

use crate::targets::{Hub, Target};

/// A seed document with what the document itself does not say.
pub struct Seed {
    pub file_name: &'static str,
    pub text: &'static [u8],
    pub level: PlanLevel,
    pub territory: Option<&'static str>,
    pub owner: Option<&'static str>,
}

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../tests/fixtures/roadmaps/",
            $name
        ))
    };
}

pub const SEEDS: [Seed; 5] = [
    Seed {
        file_name: "000_4b83c36956a51ac0.txt",
        text: fixture!("000_4b83c36956a51ac0.txt"),
        level: PlanLevel::Municipal,
        territory: Some("Хабаровский край/Николаевский муниципальный район"),
        owner: None,
    },
    Seed {
        file_name: "001_874814e5f764bb7a.txt",
        text: fixture!("001_874814e5f764bb7a.txt"),
        level: PlanLevel::Municipal,
        territory: Some("Красноярский край/Казачинский район"),
        owner: None,
    },
    Seed {
        file_name: "002_587447f0e4c9bb26.txt",
        text: fixture!("002_587447f0e4c9bb26.txt"),
        level: PlanLevel::Regional,
        territory: Some("Забайкальский край"),
        owner: Some("Правительство Забайкальского края"),
    },
    Seed {
        file_name: "003_7f00e907b2a1d76c.txt",
        text: fixture!("003_7f00e907b2a1d76c.txt"),
        level: PlanLevel::Regional,
        territory: Some("Сахалинская область"),
        owner: Some("Министерство образования Сахалинской области"),
    },
    Seed {
        file_name: "004_cded1a1a885c41f7.txt",
        text: fixture!("004_cded1a1a885c41f7.txt"),
        level: PlanLevel::School,
        territory: None,
        owner: Some("МБОУ СОШ № 8"),
    },
];

/// Imports every seed into a running hub (needs its plans and people targets).
pub async fn load(hub: &Hub) -> anyhow::Result<Vec<ImportSummary>> {
    let pool = hub
        .pool(Target::PLANS)
        .ok_or_else(|| anyhow!("demo data needs the plans target in this process"))?;
    let people = PeopleClient::new(
        roadmap_plans::NAME,
        hub.graphql_url(Target::PEOPLE)
            .ok_or_else(|| anyhow!("demo data needs the people target in this process"))?,
        hub.secret().clone(),
    );
    // Indicator targets go to the indicators target when this process runs it.
    let indicators = hub
        .graphql_url(Target::INDICATORS)
        .map(|url| IndicatorsClient::new(url, hub.secret().clone()));
    let mut out = Vec::new();
    for seed in &SEEDS {
        let options = ImportOptions {
            level: Some(seed.level),
            territory: seed.territory.map(str::to_string),
            owner: seed.owner.map(str::to_string),
            key: None,
            file_name: Some(seed.file_name.to_string()),
            // Published documents: approved whatever the text says about its approving act.
            state: Some(PlanState::Approved),
            actor: roadmap_common::auth::Actor::service("demo"),
        };
        let summary = import_document_with(pool, &people, indicators.as_ref(), seed.text, &options)
            .await
            .map_err(|e| anyhow!("{}: {}", seed.file_name, e.message()))
            .with_context(|| "loading demo data")?;
        tracing::info!(file = seed.file_name, status = ?summary.status, measures = summary.measures, "demo roadmap");
        out.push(summary);
    }
    let mut conn = pool.acquire().await?;
    if !crate::generate::exists(&mut conn, DEMO_CASCADE.seed).await? {
        crate::generate::load(&mut conn, DEMO_CASCADE, hub.clock().today(), false).await?;
    }
    drop(conn);
    classroom(hub, &people).await.context("loading the demo classes")?;
    Ok(out)
}

/// The district of the demo school, under the region of plan 002.
pub const DEMO_DISTRICT: &str = "Забайкальский край/Читинский район";
/// The demo school of Zabaykalsky, reached from plan 002's chemistry diagnostic work.
pub const DEMO_SCHOOL: &str = "МОУ СОШ № 1 (Читинский район, демонстрационная)";
/// Its classes: grade, letter, pupils (counts only).
pub const DEMO_CLASSES: [(i32, &str, i32); 2] = [(9, "А", 25), (11, "Б", 24)];
/// Participants of the first two consultations of 11Б's plan, as reported.
pub const DEMO_CONSULTATIONS: [i32; 2] = [5, 4];
/// The chemistry mock exam of 11Б: how many wrote, how many stayed below the minimum score.
pub const DEMO_MOCK_EXAM: (i32, i32) = (24, 5);

/// The demo's level below the school: a district of Zabaykalsky whose plan carries out plan 002's
/// chemistry diagnostic work, a school whose plan carries out the district's, the school's classes
/// (9А, 11Б) with a subject team and staff roles, 11Б's plan for its pupils at risk in chemistry
/// (its weekly consultations implementing the school's measure, the first two reported with
/// participant counts), and 11Б's chemistry mock exam as a class-level observation. Everything
/// goes through the subgraphs' own mutations (checked and audited as any client's), acting as the
/// `demo` service. Idempotent: a school that has its classes is left as it is.
async fn classroom(hub: &Hub, people: &PeopleClient) -> anyhow::Result<()> {
    use roadmap_common::client::SubgraphClient;
    use roadmap_common::people::OrganisationRef;
    use serde_json::{Value, json};

    let url = |target: &Target| {
        hub.graphql_url(*target)
            .ok_or_else(|| anyhow!("demo classes need the {} target in this process", target.name()))
    };
    let plans = SubgraphClient::new("demo", "plans", url(&Target::PLANS)?, hub.secret().clone());
    let people_api = SubgraphClient::new("demo", "people", url(&Target::PEOPLE)?, hub.secret().clone());
    let fail = |e: roadmap_common::ServiceError| anyhow!(e.message());
    let call = |client: &SubgraphClient, query: &'static str, variables: Value| {
        let client = client.clone();
        async move { client.call(query, variables).await.map_err(fail) }
    };
    let id = |v: &Value| v.as_str().map(str::to_string).ok_or_else(|| anyhow!("no id in {v}"));

    let district = people.ensure_territory_path(DEMO_DISTRICT).await.map_err(fail)?;
    let school = people
        .ensure_organisations(&[OrganisationRef {
            name: DEMO_SCHOOL.to_string(),
            kind: "SCHOOL",
            territory: Some(district),
            abbreviations: Vec::new(),
        }])
        .await
        .map_err(fail)?[0];
    if !people.unit_subtrees(school).await.map_err(fail)?.is_empty() {
        return Ok(());
    }
    let region = people
        .territory_parent("territory", district)
        .await
        .map_err(fail)?
        .ok_or_else(|| anyhow!("{DEMO_DISTRICT} has no region"))?;
    let data = call(
        &plans,
        "query($t: ID!) { plans(level: REGIONAL, territory: $t) { edges { node { measures { id title } } } } }",
        json!({ "t": region.to_string() }),
    )
    .await?;
    let chemistry = data["plans"]["edges"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|e| e["node"]["measures"].as_array().into_iter().flatten())
        .find(|m| m["title"] == "по химии")
        .ok_or_else(|| anyhow!("plan 002 has no chemistry diagnostic work"))?;
    let chemistry = id(&chemistry["id"])?;

    let today = hub.clock().today();
    let (start, end) = crate::generate::school_year(today);
    let year = format!(
        "{}/{:02}",
        chrono::Datelike::year(&start),
        chrono::Datelike::year(&end) % 100
    );
    let period = format!("{year} учебный год");
    let create_plan =
        "mutation($input: CreatePlanInput!) { createPlan(input: $input) { sections { measures { id } } } }";
    let plan_input = |title: String, level: &str, owner: Option<String>, measure: Value| {
        json!({ "input": {
            "title": title, "level": level, "territory": district.to_string(), "owner": owner,
            "periodStart": start, "periodEnd": end, "periodText": period, "state": "APPROVED",
            "sections": [{ "number": "1", "title": "Мероприятия", "measures": [measure] }],
        } })
    };
    let first_measure = |data: &Value| id(&data["createPlan"]["sections"][0]["measures"][0]["id"]);
    let link = "mutation($m: ID!, $i: ID!) { linkMeasures(measure: $m, implements: $i) { state } }";

    let municipal = call(
        &plans,
        create_plan,
        plan_input(
            format!("Дорожная карта повышения качества образования Читинского района на {year} (демонстрационная)"),
            "MUNICIPAL",
            None,
            json!({ "number": "1.1", "title": "Диагностическая работа по химии в 11 классах школ района",
                    "responsibleText": "Комитет образования" }),
        ),
    )
    .await?;
    let municipal = first_measure(&municipal)?;
    call(&plans, link, json!({ "m": municipal, "i": chemistry })).await?;
    let school_plan = call(
        &plans,
        create_plan,
        plan_input(
            format!("Дорожная карта школы на {year}: {DEMO_SCHOOL}"),
            "SCHOOL",
            Some(school.to_string()),
            json!({ "number": "1.1", "title": "Разработка индивидуальных образовательных маршрутов учащихся",
                    "expectedResult": "ИОМ для обучающихся группы риска по итогам диагностики",
                    "responsibleText": "Руководители МО, учителя-предметники" }),
        ),
    )
    .await?;
    let school_measure = first_measure(&school_plan)?;
    call(&plans, link, json!({ "m": school_measure, "i": municipal })).await?;

    let mut units: Vec<Value> = DEMO_CLASSES
        .iter()
        .map(|(grade, letter, pupils)| {
            json!({ "parent": school.to_string(), "kind": "CLASS", "grade": grade, "letter": letter,
                    "schoolYear": year, "pupils": pupils })
        })
        .collect();
    units.push(json!({ "parent": school.to_string(), "kind": "SUBJECT_TEAM",
                       "name": "МО учителей естественно-научного цикла", "subject": "химия, биология" }));
    let data = call(
        &people_api,
        "mutation($inputs: [CreateUnitInput!]!) { createUnits(inputs: $inputs) { id name } }",
        json!({ "inputs": units }),
    )
    .await?;
    let created = data["createUnits"].as_array().cloned().unwrap_or_default();
    let class = |name: &str| -> anyhow::Result<String> {
        created
            .iter()
            .find(|u| u["name"] == name)
            .map(|u| id(&u["id"]))
            .ok_or_else(|| anyhow!("class {name} not created"))?
    };
    let (class_9a, class_11b) = (class("9А")?, class("11Б")?);
    call(
        &people_api,
        "mutation($inputs: [CreateUnitInput!]!) { createUnits(inputs: $inputs) { id } }",
        json!({ "inputs": [
            { "parent": class_9a, "kind": "STAFF_ROLE", "name": "классный руководитель 9А" },
            { "parent": class_11b, "kind": "STAFF_ROLE", "name": "учитель химии 11Б", "subject": "химия" },
        ] }),
    )
    .await?;

    let class_plan = call(
        &plans,
        create_plan,
        json!({ "input": {
            "title": format!("План работы с обучающимися группы риска 11Б по химии на {year}"),
            "level": "CLASSROOM", "owner": class_11b,
            "periodStart": start, "periodEnd": end, "periodText": period, "state": "APPROVED",
            "sections": [{ "number": "1", "title": "Работа с обучающимися группы риска", "measures": [
                { "number": "1.1", "title": "Консультации по химии для обучающихся группы риска по итогам диагностики",
                  "scheduleText": "еженедельно", "responsibleText": "учитель химии 11Б",
                  "expectedResult": "Снижение доли не преодолевших минимальный порог на ЕГЭ по химии" },
            ] }],
        } }),
    )
    .await?;
    let class_measure = first_measure(&class_plan)?;
    call(&plans, link, json!({ "m": class_measure, "i": school_measure })).await?;
    let data = call(
        &plans,
        "query($m: ID!, $to: NaiveDate!) { measure(id: $m) { occurrences(to: $to) { date } } }",
        json!({ "m": class_measure, "to": today }),
    )
    .await?;
    let dates: Vec<Value> = data["measure"]["occurrences"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| o["date"].clone())
        .collect();
    for (date, participants) in dates.iter().zip(DEMO_CONSULTATIONS) {
        call(
            &plans,
            "mutation($m: ID!, $d: NaiveDate!, $p: Int!, $n: String!) { \
             reportOccurrence(measure: $m, date: $d, held: true, participants: $p, note: $n) { date } }",
            json!({ "m": class_measure, "d": date, "p": participants,
                    "n": format!("Консультация проведена, присутствовали {participants} обучающихся группы риска") }),
        )
        .await?;
    }

    // 11Б's chemistry mock exam, next to (never inside) the official ЕГЭ results.
    if let Some(url) = hub.graphql_url(Target::INDICATORS) {
        let indicators = SubgraphClient::new("demo", "indicators", url, hub.secret().clone());
        let data = call(&indicators, "{ indicator(code: \"ege_below_min\") { id } }", json!({})).await?;
        let indicator = id(&data["indicator"]["id"])?;
        let observed = mock_exam_day(start, today);
        let (wrote, below) = DEMO_MOCK_EXAM;
        call(
            &indicators,
            "mutation($input: RecordObservationInput!) { recordObservation(input: $input) { id } }",
            json!({ "input": {
                "indicator": indicator, "organisation": class_11b, "period": chrono::Datelike::year(&observed),
                "subject": "chemistry", "numerator": below, "denominator": wrote,
                "resultSource": "MOCK_EXAM", "source": "пробный ЕГЭ", "observedOn": observed,
            } }),
        )
        .await?;
    }
    tracing::info!(school = %school, "demo classes");
    Ok(())
}

/// The day 11Б wrote its mock exam: two months into the school year, or today if that is earlier.
pub fn mock_exam_day(year_start: chrono::NaiveDate, today: chrono::NaiveDate) -> chrono::NaiveDate {
    (year_start + chrono::Days::new(60)).min(today)
}

/// The small generated cascade `up --demo` adds next to the seeds, so ministry → region →
/// municipality → school can be traced at once.
pub const DEMO_CASCADE: crate::generate::Params = crate::generate::Params {
    regions: 2,
    municipalities: 3,
    schools: 2,
    seed: 1,
};
