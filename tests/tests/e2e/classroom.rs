//! Down to the classroom, through the gateway: a school's classes, subject teams and staff roles;
//! class plans (CLASSROOM) whose measures implement the school's; one query from a regional
//! measure of plan 002 down to a class plan's reported occurrences (the demo data); a class
//! teacher's token refused for the class next door; personal names refused in class-level text;
//! and no column anywhere that could hold a pupil's identity.

use anyhow::Context as _;
use roadmap_common::auth::Role;
use roadmap_e2e::{TestHub, first_error};
use roadmap_hub::targets::Target;
use roadmap_hub::token::{TokenRequest, sign_dev};
use serde_json::{Value, json};
use uuid::Uuid;

const CREATE_UNITS: &str = "mutation($inputs: [CreateUnitInput!]!) { createUnits(inputs: $inputs) { id name kind grade letter schoolYear pupils parent { id name } } }";
const CREATE_PLAN: &str = "mutation($input: CreatePlanInput!) { createPlan(input: $input) { id territory { id } sections { measures { id occurrences { date } } } } }";
const REPORT: &str = "mutation($m: ID!, $d: NaiveDate!, $p: Int, $n: String) { \
     reportOccurrence(measure: $m, date: $d, held: true, participants: $p, note: $n) { date report { participants } } }";

fn id(v: &Value) -> String {
    v.as_str().unwrap_or_else(|| panic!("an id, got {v}")).to_string()
}

/// A token of `roles` in `territory`, narrowed to `organisation`.
fn token(subject: &str, roles: &[Role], territory: Option<Uuid>, organisation: Option<Uuid>) -> String {
    sign_dev(&TokenRequest::new(subject, roles, territory).with_organisation(organisation)).expect("token")
}

/// A region, a district in it, and a school there; returns (region, district, school).
async fn school(hub: &TestHub, name: &str) -> (String, String, String) {
    let region = hub
        .gql(
            "mutation { ensureTerritory(name: \"Условный край\", kind: REGION) { id } }",
            json!({}),
        )
        .await
        .expect("region");
    let region = id(&region["ensureTerritory"]["id"]);
    let district = hub
        .gql(
            "mutation($p: ID!) { ensureTerritory(name: \"Условный район\", kind: MUNICIPALITY, parent: $p) { id } }",
            json!({ "p": region }),
        )
        .await
        .expect("district");
    let district = id(&district["ensureTerritory"]["id"]);
    let school = hub
        .gql(
            "mutation($t: ID!, $n: String!) { createOrganisation(input: { name: $n, kind: SCHOOL, territory: $t }) { id } }",
            json!({ "t": district, "n": name }),
        )
        .await
        .expect("school");
    (region, district, id(&school["createOrganisation"]["id"]))
}

fn class(school: &str, grade: i32, letter: &str, pupils: i32) -> Value {
    json!({ "parent": school, "kind": "CLASS", "grade": grade, "letter": letter, "schoolYear": "2024/25", "pupils": pupils })
}

/// A class plan of one weekly measure owned by `owner`, over the school year 2024/25.
fn class_plan(owner: &str, title: &str, measure: &str) -> Value {
    json!({ "input": {
        "title": title, "level": "CLASSROOM", "owner": owner, "state": "APPROVED",
        "periodStart": "2024-09-01", "periodEnd": "2025-05-31", "periodText": "2024/25 учебный год",
        "sections": [{ "number": "1", "title": "Работа с группой риска", "measures": [
            { "number": "1.1", "title": measure, "scheduleText": "еженедельно", "responsibleText": "учитель математики" },
        ] }],
    } })
}

#[tokio::test]
async fn classes_are_created_all_or_nothing_with_errors_naming_the_field() {
    let hub = TestHub::spawn_targets(&[Target::PEOPLE, Target::GATEWAY])
        .await
        .expect("hub");
    // A school's name with a dedication is an organisation's name, not a person's.
    let (_, district, school) = school(&hub, "МБОУ СОШ им. А.С. Пушкина").await;

    let body = hub
        .request(
            CREATE_UNITS,
            json!({ "inputs": [class(&school, 9, "А", 25), class(&school, 9, "B", 24)] }),
        )
        .await
        .expect("request");
    let error = first_error(&body).expect("a Latin letter is refused");
    assert!(error.contains("inputs[1].letter"), "{body}");
    assert!(error.contains("«B»"), "{error}");
    let units = "query($id: ID!) { organisation(id: $id) { units { name kind grade letter schoolYear pupils territory { id } } } }";
    let data = hub.gql(units, json!({ "id": school })).await.expect("units");
    assert_eq!(
        data["organisation"]["units"],
        json!([]),
        "nothing of the refused call was written"
    );

    let data = hub
        .gql(
            CREATE_UNITS,
            json!({ "inputs": [
                class(&school, 11, "б", 24),
                class(&school, 9, "А", 25),
                { "parent": school, "kind": "SUBJECT_TEAM", "name": "МО учителей математики", "subject": "математика" },
            ] }),
        )
        .await
        .expect("classes");
    let created = data["createUnits"].as_array().expect("list");
    assert_eq!(created[0]["name"], "11Б");
    assert_eq!(created[0]["letter"], "Б");
    assert_eq!(created[0]["parent"]["name"], "МБОУ СОШ им. А.С. Пушкина");
    let data = hub.gql(units, json!({ "id": school })).await.expect("units");
    let listed: Vec<(&str, &str)> = data["organisation"]["units"]
        .as_array()
        .expect("units")
        .iter()
        .map(|u| (u["name"].as_str().unwrap_or(""), u["kind"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        listed,
        [
            ("9А", "CLASS"),
            ("11Б", "CLASS"),
            ("МО учителей математики", "SUBJECT_TEAM")
        ],
        "classes first, by grade"
    );
    assert_eq!(data["organisation"]["units"][0]["pupils"], 25);
    assert_eq!(data["organisation"]["units"][0]["territory"]["id"], district.as_str());

    // The same class again, and a class under a class, are refused naming the field.
    let body = hub
        .request(CREATE_UNITS, json!({ "inputs": [class(&school, 9, "А", 20)] }))
        .await
        .expect("request");
    assert!(
        first_error(&body)
            .expect("duplicate")
            .contains("9А of 2024/25 already exists"),
        "{body}"
    );
    let nine_a = id(&created[1]["id"]);
    let body = hub
        .request(CREATE_UNITS, json!({ "inputs": [class(&nine_a, 9, "В", 20)] }))
        .await
        .expect("request");
    assert!(
        first_error(&body)
            .expect("class under a class")
            .contains("inputs[0].parent"),
        "{body}"
    );

    // The number of pupils changes; nothing else about them is kept.
    let data = hub
        .gql(
            "mutation($id: ID!) { updateUnit(id: $id, input: { pupils: 26 }) { name pupils } }",
            json!({ "id": nine_a }),
        )
        .await
        .expect("update");
    assert_eq!(data["updateUnit"], json!({ "name": "9А", "pupils": 26 }));
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn a_class_teachers_token_reports_for_its_class_and_is_refused_next_door() {
    let hub = TestHub::spawn().await.expect("hub");
    let (region, _, school) = school(&hub, "МБОУ СОШ № 3").await;
    let school_id = Uuid::parse_str(&school).expect("uuid");
    // The school's editor (its organisation claim) creates its classes and their plans.
    let school_editor = token("editor@school3", &[Role::Editor], None, Some(school_id));
    let data = hub
        .gql_as(
            Some(&school_editor),
            CREATE_UNITS,
            json!({ "inputs": [class(&school, 9, "А", 25), class(&school, 9, "Б", 23)] }),
        )
        .await
        .expect("the school's editor creates its classes");
    let (nine_a, nine_b) = (id(&data["createUnits"][0]["id"]), id(&data["createUnits"][1]["id"]));
    let mut measures = Vec::new();
    for (class, name) in [(&nine_a, "9А"), (&nine_b, "9Б")] {
        let data = hub
            .gql_as(
                Some(&school_editor),
                CREATE_PLAN,
                class_plan(
                    class,
                    &format!("План работы с обучающимися группы риска {name} по математике на 2024/25"),
                    "Консультации по математике для обучающихся группы риска",
                ),
            )
            .await
            .expect("the school's editor creates a class plan");
        let measure = &data["createPlan"]["sections"][0]["measures"][0];
        let first = measure["occurrences"][0]["date"].clone();
        assert_eq!(
            first, "2024-09-02",
            "weekly on Mondays from the plan's start: {measure}"
        );
        measures.push((id(&measure["id"]), first));
    }
    // Another school's editor may not create classes here.
    let other = token("editor@elsewhere", &[Role::Editor], None, Some(Uuid::new_v4()));
    let body = hub
        .request_as(
            Some(&other),
            CREATE_UNITS,
            json!({ "inputs": [class(&school, 10, "А", 20)] }),
        )
        .await
        .expect("request");
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");

    // The class teacher of 9А: an editor of the whole region, narrowed to 9А.
    let teacher = token(
        "teacher@9a",
        &[Role::Editor],
        Some(Uuid::parse_str(&region).expect("uuid")),
        Some(Uuid::parse_str(&nine_a).expect("uuid")),
    );
    let (own, own_day) = &measures[0];
    let data = hub
        .gql_as(
            Some(&teacher),
            REPORT,
            json!({ "m": own, "d": own_day, "p": 6, "n": "Проведена консультация" }),
        )
        .await
        .expect("the teacher reports for 9А");
    assert_eq!(data["reportOccurrence"]["report"]["participants"], 6);
    let (next_door, next_day) = &measures[1];
    let body = hub
        .request_as(Some(&teacher), REPORT, json!({ "m": next_door, "d": next_day, "p": 4 }))
        .await
        .expect("request");
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");
    let message = first_error(&body).expect("refused");
    assert!(
        message.contains(&nine_a) && message.contains("reporting an occurrence"),
        "{message}"
    );
    let reports = hub
        .gql(
            "query($m: ID!) { measure(id: $m) { occurrences(to: \"2024-09-30\") { report { participants } } } }",
            json!({ "m": next_door }),
        )
        .await
        .expect("9Б");
    assert!(
        reports["measure"]["occurrences"]
            .as_array()
            .expect("occurrences")
            .iter()
            .all(|o| o["report"].is_null()),
        "nothing was reported for 9Б: {reports}"
    );
    // Nor may it create a class plan for 9Б, or a unit under 9Б; under its own class it may.
    let body = hub
        .request_as(
            Some(&teacher),
            CREATE_PLAN,
            class_plan(&nine_b, "План 9Б", "Консультации"),
        )
        .await
        .expect("request");
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");
    let role =
        |parent: &str| json!({ "inputs": [{ "parent": parent, "kind": "STAFF_ROLE", "name": "учитель математики" }] });
    let body = hub
        .request_as(Some(&teacher), CREATE_UNITS, role(&nine_b))
        .await
        .expect("request");
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");
    hub.gql_as(Some(&teacher), CREATE_UNITS, role(&nine_a))
        .await
        .expect("a staff role of its own class");
    // A narrowed token does not import; class plans are never imported.
    let import = "mutation($level: PlanLevel) { importRoadmap(input: { document: \"План\", fileName: \"plan.txt\", level: $level }) { status } }";
    let body = hub
        .request_as(Some(&teacher), import, json!({ "level": "SCHOOL" }))
        .await
        .expect("request");
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN", "{body}");
    let body = hub
        .request(import, json!({ "level": "CLASSROOM" }))
        .await
        .expect("request");
    assert!(first_error(&body).expect("refused").starts_with("level:"), "{body}");
    hub.finish().await.expect("finish");
}

#[tokio::test]
async fn personal_names_are_refused_in_class_level_text_and_reports() {
    let hub = TestHub::spawn().await.expect("hub");
    let (_, _, school) = school(
        &hub,
        "МБОУ «Лицей имени Героя Советского Союза Ивана Петровича Кочубея»",
    )
    .await;
    let body = hub
        .request(
            CREATE_UNITS,
            json!({ "inputs": [
                class(&school, 11, "А", 22),
                { "parent": school, "kind": "STAFF_ROLE", "name": "Классный руководитель Смирнова Ольга Викторовна" },
            ] }),
        )
        .await
        .expect("request");
    let message = first_error(&body).expect("a person's name as a staff role");
    assert!(
        message.contains("inputs[1].name") && message.contains("Ольга Викторовна"),
        "{message}"
    );
    let data = hub
        .gql(CREATE_UNITS, json!({ "inputs": [class(&school, 11, "А", 22)] }))
        .await
        .expect("class");
    let class = id(&data["createUnits"][0]["id"]);

    let body = hub
        .request(
            CREATE_PLAN,
            class_plan(
                &class,
                "План 11А по математике",
                "Индивидуальный маршрут для Кравченко Д.С.",
            ),
        )
        .await
        .expect("request");
    let message = first_error(&body).expect("a pupil's name in a measure");
    assert!(
        message.contains("input.sections[0].measures[0].title") && message.contains("Кравченко Д.С."),
        "{message}"
    );
    let data = hub
        .gql(
            CREATE_PLAN,
            class_plan(
                &class,
                "План 11А по математике на 2024/25",
                "Консультации для обучающихся группы риска",
            ),
        )
        .await
        .expect("a plan without names");
    let measure = &data["createPlan"]["sections"][0]["measures"][0];
    let (m, day) = (id(&measure["id"]), measure["occurrences"][0]["date"].clone());
    let body = hub
        .request(
            REPORT,
            json!({ "m": m, "d": day, "p": 3, "n": "Присутствовали: А. В. Мельникова, Петров П.П." }),
        )
        .await
        .expect("request");
    let message = first_error(&body).expect("names in a class-level report");
    assert!(
        message.contains("note") && message.contains("А. В. Мельникова"),
        "{message}"
    );
    let data = hub
        .gql(
            REPORT,
            json!({ "m": m, "d": day, "p": 3, "n": "Присутствовали 3 обучающихся группы риска" }),
        )
        .await
        .expect("counts are fine");
    assert_eq!(data["reportOccurrence"]["report"]["participants"], 3);
    hub.finish().await.expect("finish");
}

/// The rule: no column of any service's schema may hold a pupil's identity. A column is refused
/// when its name speaks of a pupil or child (`pupil`, `student`, `learner`, `child`, `ученик`), of
/// a person's name parts (`surname`, `first_name`, `last_name`, `middle_name`, `patronymic`,
/// `full_name`, `fio`), of a birth (`birth`, `dob`) or of a personal document (`snils`,
/// `passport`); a column called `name` (or ending in `_name`) is allowed only in the tables listed
/// below, which name organisations, places and things, never people, and as `file_name` (an
/// imported document's file). Counts of pupils (`pupils`, `participants`) are what the hub keeps
/// instead. The columns are read from a database every service's migrations were applied to.
#[tokio::test]
async fn no_column_in_any_schema_can_hold_a_pupils_identity() {
    let hub = TestHub::spawn().await.expect("hub");
    let pool = hub.plans_pool();
    let schemas: Vec<String> = Target::ALL
        .iter()
        .filter(|t| t.descriptor().migrator.is_some())
        .map(|t| t.name().to_string())
        .collect();
    assert!(schemas.len() >= 4, "{schemas:?}");
    let columns: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT table_schema::text, table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = ANY($1) ORDER BY 1, 2, 3",
    )
    .bind(&schemas)
    .fetch_all(pool)
    .await
    .expect("columns");
    assert!(
        columns.iter().any(|c| c.1 == "organisation" && c.2 == "pupils"),
        "the class's count is there"
    );
    const IDENTITY: [&str; 17] = [
        "pupil_id",
        "student",
        "learner",
        "child",
        "ученик",
        "surname",
        "first_name",
        "last_name",
        "middle_name",
        "patronymic",
        "full_name",
        "fio",
        "birth",
        "dob",
        "snils",
        "passport",
        "pupil_name",
    ];
    const NAMED_THINGS: [&str; 4] = ["territory", "organisation", "indicator", "webhook"];
    let mut offending = Vec::new();
    for (schema, table, column) in &columns {
        let c = column.to_lowercase();
        let identity = IDENTITY.iter().any(|p| c.contains(p)) || (c.starts_with("pupil") && c != "pupils");
        let a_name =
            (c == "name" || c.ends_with("_name")) && !NAMED_THINGS.contains(&table.as_str()) && c != "file_name";
        if identity || a_name {
            offending.push(format!("{schema}.{table}.{column}"));
        }
    }
    assert!(
        offending.is_empty(),
        "columns that could hold a pupil's identity: {offending:?}"
    );
    hub.finish().await.expect("finish");
}

/// The demo (`up --demo`): one gateway query from plan 002's chemistry measure down to a
/// district's, a school's and a class plan's measure with its reported occurrences; the school
/// measure's coverage by class; the classes' counts; 11Б's mock exam recorded for the class.
#[tokio::test]
async fn the_demo_traces_a_regional_measure_down_to_a_class_plan_and_its_reports() {
    let hub = TestHub::spawn().await.expect("hub");
    let running = hub.hub.as_ref().expect("hub");
    roadmap_hub::demo::load(running).await.expect("demo");
    let data = hub
        .gql(
            "{ plans(level: REGIONAL, first: 50) { edges { node { territory { name } measures { id title } } } } }",
            json!({}),
        )
        .await
        .expect("plans");
    let chemistry = data["plans"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter(|e| e["node"]["territory"]["name"] == "Забайкальский край")
        .flat_map(|e| e["node"]["measures"].as_array().cloned().unwrap_or_default())
        .find(|m| m["title"] == "по химии")
        .expect("plan 002's chemistry measure");
    let trace = "query($id: ID!) { measure(id: $id) { title implementedBy(depth: 3) {
        measure { title plan { level territory { name } } }
        next { measure { id title plan { level owner { name } }
                         coverageByUnit { unit { name kind } covered implementingMeasures { id } } }
          next { measure { id title plan { level title owner { name kind pupils parent { name } } }
                           occurrences { date report { participants note } } } } } } } }";
    let data = hub.gql(trace, json!({ "id": chemistry["id"] })).await.expect("trace");
    let municipal = data["measure"]["implementedBy"]
        .as_array()
        .expect("down")
        .iter()
        .find(|n| n["measure"]["plan"]["territory"]["name"] == "Читинский район")
        .with_context(|| format!("a district's measure: {data}"))
        .expect("district");
    assert_eq!(municipal["measure"]["plan"]["level"], "MUNICIPAL");
    let school = &municipal["next"][0]["measure"];
    assert_eq!(school["plan"]["level"], "SCHOOL");
    assert_eq!(school["plan"]["owner"]["name"], roadmap_hub::demo::DEMO_SCHOOL);
    let class = &municipal["next"][0]["next"][0]["measure"];
    assert_eq!(class["plan"]["level"], "CLASSROOM");
    assert_eq!(class["plan"]["owner"]["name"], "11Б");
    assert_eq!(class["plan"]["owner"]["kind"], "CLASS");
    assert_eq!(class["plan"]["owner"]["pupils"], 24);
    assert_eq!(class["plan"]["owner"]["parent"]["name"], roadmap_hub::demo::DEMO_SCHOOL);
    assert!(
        class["plan"]["title"]
            .as_str()
            .expect("title")
            .starts_with("План работы с обучающимися группы риска 11Б")
    );
    let reported: Vec<i64> = class["occurrences"]
        .as_array()
        .expect("occurrences")
        .iter()
        .filter_map(|o| o["report"]["participants"].as_i64())
        .collect();
    assert_eq!(reported, [5, 4], "the first two consultations, as reported");
    // Which classes of the school have a plan implementing the school's measure: 11Б, not 9А.
    let coverage: Vec<(String, bool)> = school["coverageByUnit"]
        .as_array()
        .expect("coverage")
        .iter()
        .filter(|r| r["unit"]["kind"] == "CLASS")
        .map(|r| {
            (
                r["unit"]["name"].as_str().unwrap_or("").to_string(),
                r["covered"].as_bool().unwrap_or(false),
            )
        })
        .collect();
    assert_eq!(coverage, [("9А".to_string(), false), ("11Б".to_string(), true)]);
    let covering = school["coverageByUnit"]
        .as_array()
        .expect("coverage")
        .iter()
        .find(|r| r["unit"]["name"] == "11Б")
        .expect("11Б");
    assert_eq!(covering["implementingMeasures"][0]["id"], class["id"]);

    // 11Б's chemistry mock exam reaches the region's rollup, next to the official results.
    let (start, _) = roadmap_hub::generate::school_year(running.clock().today());
    let period = chrono::Datelike::year(&roadmap_hub::demo::mock_exam_day(start, running.clock().today()));
    let rollup = "query($p: Int!) { territories(kind: REGION) { name
        rollup(indicator: \"ege_below_min\", period: $p, subject: \"chemistry\") {
          target bySource { source value numerator denominator } } } }";
    let rolled = hub.gql(rollup, json!({ "p": period })).await.expect("rollup");
    let region = rolled["territories"]
        .as_array()
        .expect("regions")
        .iter()
        .find(|t| t["name"] == "Забайкальский край")
        .expect("Zabaykalsky")
        .clone();
    let sources = region["rollup"]["bySource"].as_array().expect("by source");
    assert_eq!(
        sources[0]["source"], "OFFICIAL",
        "the official result comes first: {region}"
    );
    let mock = sources
        .iter()
        .find(|s| s["source"] == "MOCK_EXAM")
        .unwrap_or_else(|| panic!("the class's mock exam rolls up to the region: {region}"));
    assert_eq!(
        (mock["numerator"].as_f64(), mock["denominator"].as_f64()),
        (Some(5.0), Some(24.0))
    );
    let share = mock["value"].as_f64().expect("a share");
    assert!((share - 100.0 * 5.0 / 24.0).abs() < 0.05, "{share}");

    // Loading again changes nothing.
    roadmap_hub::demo::load(running).await.expect("demo again");
    let again = hub.gql(trace, json!({ "id": chemistry["id"] })).await.expect("trace");
    assert_eq!(again, data);
    hub.finish().await.expect("finish");
}

/// The generated cascade of the demo reaches the fifth level: one query from a federal measure
/// down four links to class plans' measures.
#[tokio::test]
async fn a_generated_federal_measure_reaches_class_plans_in_one_query() {
    let hub = TestHub::spawn().await.expect("hub");
    let running = hub.hub.as_ref().expect("hub");
    let pool = running.pool(Target::PLANS).expect("pool");
    let mut conn = pool.acquire().await.expect("conn");
    roadmap_hub::generate::load(
        &mut conn,
        roadmap_hub::demo::DEMO_CASCADE,
        running.clock().today(),
        false,
    )
    .await
    .expect("generate");
    drop(conn);
    let data = hub
        .gql(
            "{ plans(level: FEDERAL) { edges { node { measures { id } } } } }",
            json!({}),
        )
        .await
        .expect("federal");
    let measures = data["plans"]["edges"][0]["node"]["measures"]
        .as_array()
        .expect("measures")
        .clone();
    let query = "query($id: ID!) { measure(id: $id) { plan { level } implementedBy(depth: 4) {
        measure { plan { level } } next { measure { plan { level } } next { measure { plan { level } }
        next { measure { plan { level owner { kind parent { kind } } } } } } } } } }";
    let mut deepest = None;
    for m in &measures {
        let data = hub.gql(query, json!({ "id": m["id"] })).await.expect("trace");
        let fourth: Vec<Value> = data["measure"]["implementedBy"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|n| n["next"].as_array().cloned().unwrap_or_default())
            .flat_map(|n| n["next"].as_array().cloned().unwrap_or_default())
            .flat_map(|n| n["next"].as_array().cloned().unwrap_or_default())
            .collect();
        if let Some(node) = fourth.first() {
            deepest = Some(node["measure"]["plan"].clone());
            break;
        }
    }
    let plan = deepest.expect("some federal measure reaches the fifth level");
    assert_eq!(plan["level"], "CLASSROOM");
    assert_eq!(plan["owner"]["kind"], "CLASS");
    assert_eq!(plan["owner"]["parent"]["kind"], "SCHOOL");

    // The 11th grades' generated mock exams roll up to their region next to the official value:
    // no school or district reports a mock exam of its own, so the region counts every class's,
    // summed here from the stored rows.
    let (code, region): (String, uuid::Uuid) = sqlx::query_as(
        "SELECT i.code, t.id FROM indicators.indicator i, people.territory t \
         WHERE i.code LIKE 'generated:%' AND t.kind = 'REGION' ORDER BY t.name LIMIT 1",
    )
    .fetch_one(pool)
    .await
    .expect("generated indicator and region");
    let (classes, below, wrote): (i64, Option<f64>, Option<f64>) = sqlx::query_as(
        "SELECT count(*), sum(numerator)::float8, sum(denominator)::float8 FROM indicators.observation \
         WHERE result_source = 'MOCK_EXAM' AND subject = 'chemistry' AND period = 2024 AND $1 = ANY(territory_path)",
    )
    .bind(region)
    .fetch_one(pool)
    .await
    .expect("mock exams");
    assert!(classes > 0, "some 11th grade of the region writes chemistry");
    let data = hub
        .gql(
            "query($id: ID!, $code: String!) { territory(id: $id) { rollup(indicator: $code, period: 2024, \
             subject: \"chemistry\") { value bySource { source numerator denominator value } } } }",
            json!({ "id": region, "code": code }),
        )
        .await
        .expect("rollup");
    let rollup = &data["territory"]["rollup"];
    let by_source = |source: &str| {
        rollup["bySource"]
            .as_array()
            .expect("bySource")
            .iter()
            .find(|s| s["source"] == source)
            .unwrap_or_else(|| panic!("a {source} rollup: {rollup}"))
    };
    let mock = by_source("MOCK_EXAM");
    let (below, wrote) = (below.expect("numerators"), wrote.expect("denominators"));
    assert_eq!(mock["numerator"].as_f64(), Some(below), "{mock}");
    assert_eq!(mock["denominator"].as_f64(), Some(wrote), "{mock}");
    let official = by_source("OFFICIAL");
    assert_eq!(
        rollup["value"], official["value"],
        "the rollup's value is the official one: {rollup}"
    );
    hub.finish().await.expect("finish");
}

/// Batches of the people subgraph's organisation lookup (`OrganisationNodeLoader`) so far in this
/// process.
async fn unit_lookups(hub: &TestHub) -> u64 {
    let running = hub.hub.as_ref().expect("hub");
    let url = format!("http://{}/metrics", running.addr(Target::PLANS).expect("addr"));
    let text = reqwest::get(&url).await.expect("metrics").text().await.expect("text");
    text.lines()
        .find_map(|l| l.strip_prefix("roadmap_dataloader_batch_size_count{loader=\"OrganisationNodeLoader\"} "))
        .map(|n| n.trim().parse().expect("a count"))
        .unwrap_or(0)
}

/// `coverageByUnit` of the measures of many schools' plans asks the people subgraph for the
/// schools' units in batches (one when the machine is idle), not once per measure, and each
/// measure gets its own school's units.
#[tokio::test]
async fn coverage_by_unit_of_many_measures_is_one_people_lookup() {
    let hub = TestHub::spawn_with_demo().await.expect("hub with the demo");
    let query = "{ plans(level: SCHOOL, first: 20) { edges { node { owner { id name } \
        measures { id coverageByUnit { unit { name kind parent { id } } covered } } } } } }";
    let before = unit_lookups(&hub).await;
    let data = hub.gql(query, json!({})).await.expect("coverage");
    let lookups = unit_lookups(&hub).await - before;
    let mut measures = 0;
    let mut schools = std::collections::HashSet::new();
    let mut classes = 0;
    for plan in data["plans"]["edges"].as_array().expect("edges") {
        let owner = &plan["node"]["owner"];
        for m in plan["node"]["measures"].as_array().expect("measures") {
            measures += 1;
            schools.insert(owner["id"].clone());
            for row in m["coverageByUnit"].as_array().expect("rows") {
                assert_eq!(
                    row["unit"]["parent"]["id"], owner["id"],
                    "a unit of the plan's own school: {row}"
                );
                if row["unit"]["kind"] == "CLASS" {
                    classes += 1;
                }
            }
        }
    }
    assert!(
        measures > 10 && schools.len() > 5,
        "{measures} measures of {} schools",
        schools.len()
    );
    assert!(classes > 0, "the generated schools have classes");
    // One batch when idle; on a busy machine the plans' own reads end in several batching
    // windows, each releasing its measures' lookups together: never one per measure.
    assert!(
        lookups >= 1 && lookups * 20 <= measures,
        "{lookups} lookups for {measures} measures of {} schools",
        schools.len()
    );
    hub.finish().await.expect("finish");
}
