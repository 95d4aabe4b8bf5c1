//! A deterministic generator of a realistic cascade, built from the seed roadmaps' measures under
//! fictional territory names (generated plans never carry real names):
//! a federal plan → regional plans (measures of the regional seeds) → municipal plans
//! implementing a subset of their region's measures → school plans implementing a subset of
//! their municipality's → class plans (2–4 classes per school in grades 9 and 11, each with a
//! plan for its pupils at risk whose measures implement the school's), with organisations (the
//! classes as units under their school: grade, letter, school year, a count of pupils),
//! responsible links, statuses and progress; one
//! indicator (share below the minimum ЕГЭ score, three subjects) with each region's 2023 baseline
//! and 2024–2026 targets, and 2024 observations with participant counts for every municipality
//! and school.
//!
//! Plans are dated around the hub's clock: every generated plan covers the school year (1
//! September – 31 August) that holds `today`, due days are spread over that year, and a measure
//! due before `today` is mostly done ([`PAST_DUE`]: 8 % of them are left unfinished, hence
//! OVERDUE and a `DEADLINE_MISSED` each), one due later mostly planned or in progress
//! ([`NOT_YET_DUE`]). So a generated cascade loaded today has a realistic backlog of missed
//! deadlines (at most ~8 % of its measures, at the end of August), not every measure of a past
//! year.
//!
//! Same parameters, seed and `today`, same data (ids included). Rows are written with COPY, region by
//! region, straight into the `people` and `plans` schemas of one database: a bulk loader for
//! demos and benchmarks, not an API path. Every generated plan's source key starts with
//! `generated:`. Rolled-up progress (`plans.measure_rollup`) is not propagated link by
//! link during the COPY (`roadmap.rolled_progress = deferred` for the transaction) but rebuilt
//! set-based once before the commit (`plans.measure_rolled_rebuild()`, migration `plans/0014`).

use std::fmt::Write as _;

use anyhow::Context as _;
use chrono::{Datelike, NaiveDate};
use roadmap_import::{MeasureKind, ParsedDocument};
use sqlx::PgConnection;
use uuid::Uuid;

/// Sizes and seed of a generated cascade.
#[derive(Clone, Copy, Debug)]
pub struct Params {
    pub regions: usize,
    /// Municipalities per region.
    pub municipalities: usize,
    /// Schools per municipality.
    pub schools: usize,
    pub seed: u64,
}

/// SplitMix64: tiny, fast, and the same on every machine.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    pub fn uuid(&mut self) -> Uuid {
        let bytes = ((self.next_u64() as u128) << 64 | self.next_u64() as u128).to_be_bytes();
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
}

const ROOTS: &[&str] = &[
    "Озёр",
    "Бор",
    "Лесогор",
    "Камен",
    "Соснов",
    "Ключев",
    "Берёзов",
    "Ясногор",
    "Дубрав",
    "Светлояр",
    "Тихомир",
    "Белогор",
    "Краснобор",
    "Заречен",
    "Полян",
    "Холмогор",
    "Ивов",
    "Рябинов",
    "Кедров",
    "Снегирёв",
    "Ольхов",
    "Туман",
    "Горностаев",
    "Медвеж",
    "Ковыль",
    "Черёмухов",
    "Сиренев",
    "Вересков",
    "Ручьёв",
    "Липов",
];
const PREFIXES: &[&str] = &[
    "",
    "Северо-",
    "Южно-",
    "Верхне-",
    "Нижне-",
    "Ново-",
    "Старо-",
    "Западно-",
    "Восточно-",
];

/// A fictional name such as "Северо-озёрский район" or "Борская область", numbered when the
/// combinations run out; `noun` is "край", "область" or "район".
pub fn fictional_name(index: usize, noun: &str) -> String {
    let root = ROOTS[index % ROOTS.len()];
    let prefix = PREFIXES[(index / ROOTS.len()) % PREFIXES.len()];
    let round = index / (ROOTS.len() * PREFIXES.len());
    let root = if prefix.is_empty() {
        root.to_string()
    } else {
        let mut chars = root.chars();
        chars
            .next()
            .map(|c| c.to_lowercase().chain(chars).collect())
            .unwrap_or_default()
    };
    let ending = if noun == "область" {
        "ская"
    } else {
        "ский"
    };
    let base = format!("{prefix}{root}{ending} {noun}");
    if round == 0 {
        base
    } else {
        format!("{base} № {}", round + 1)
    }
}

/// A measure text taken from a seed document.
#[derive(Clone, Debug)]
pub struct Template {
    pub title: String,
    pub schedule: String,
    pub result: String,
}

fn templates(doc: &ParsedDocument) -> Vec<Template> {
    doc.measures()
        .chain(doc.milestones.iter())
        .filter(|m| m.kind == MeasureKind::Measure && !m.title.trim().is_empty())
        .map(|m| Template {
            title: m.title.clone(),
            schedule: m.schedule_raw.clone(),
            result: m.expected_result.clone(),
        })
        .collect()
}

/// Measure texts per level, from the seed documents.
pub struct Sources {
    pub regional: Vec<Vec<Template>>,
    pub municipal: Vec<Template>,
    pub school: Vec<Template>,
}

impl Sources {
    pub fn from_seeds() -> anyhow::Result<Self> {
        let parse = |i: usize| -> anyhow::Result<ParsedDocument> {
            let seed = &crate::demo::SEEDS[i];
            roadmap_import::parse_document_bytes(seed.text).with_context(|| seed.file_name)
        };
        let mut municipal = templates(&parse(0)?);
        municipal.extend(templates(&parse(1)?));
        Ok(Self {
            regional: vec![templates(&parse(2)?), templates(&parse(3)?)],
            municipal,
            school: templates(&parse(4)?),
        })
    }
}

/// Rows of one table in COPY text format.
#[derive(Default)]
pub struct CopyBuffer {
    pub text: String,
    pub rows: u64,
}

impl CopyBuffer {
    /// Appends one row; `None` is NULL.
    pub fn row(&mut self, fields: &[Option<&str>]) {
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                self.text.push('\t');
            }
            match f {
                None => self.text.push_str("\\N"),
                Some(v) => {
                    for c in v.chars() {
                        match c {
                            '\\' => self.text.push_str("\\\\"),
                            '\t' => self.text.push_str("\\t"),
                            '\n' => self.text.push_str("\\n"),
                            '\r' => self.text.push_str("\\r"),
                            c => self.text.push(c),
                        }
                    }
                }
            }
        }
        self.text.push('\n');
        self.rows += 1;
    }
}

/// The COPY targets, in foreign-key order; [`Table`] names their positions.
pub const TABLES: [(&str, &str); 11] = [
    ("people.territory", "id, name, kind, parent_id"),
    (
        "people.organisation",
        "id, name, kind, territory_id, parent_id, grade, letter, school_year, pupils",
    ),
    (
        "plans.plan",
        "id, title, level, period_start, period_end, period_text, owner_organisation_id, territory_id, source_key",
    ),
    ("plans.section", "id, plan_id, position, number, title"),
    (
        "plans.measure",
        "id, plan_id, section_id, position, number, title, schedule_text, expected_result, responsible_text, key, \
         status, progress, weight, starts_on, due_on",
    ),
    ("plans.measure_responsible", "measure_id, organisation_id, position"),
    ("plans.plan_parent", "plan_id, parent_plan_id"),
    ("plans.measure_link", "id, measure_id, implements_id, state, created_by"),
    (
        "indicators.indicator",
        "id, code, name, unit, direction, aggregation, dimensions, exam, grade, period_from, period_to, min_value, max_value",
    ),
    (
        "indicators.indicator_target",
        "id, indicator_id, territory_id, period, subject, kind, comparator, value, value_raw, plan_id, position",
    ),
    (
        "indicators.observation",
        "id, indicator_id, territory_id, organisation_id, parent_territory_id, period, subject, value, value_raw, \
         denominator, source, observed_on, result_source, numerator, organisation_path, territory_path",
    ),
];

/// A COPY target by name: its position in [`TABLES`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Table {
    Territory,
    Organisation,
    Plan,
    Section,
    Measure,
    MeasureResponsible,
    PlanParent,
    MeasureLink,
    Indicator,
    IndicatorTarget,
    Observation,
}

/// What a generated class plan does (title start, schedule), first one or two of them; the
/// class and subject follow the title. No pupil is named: counts only.
const CLASS_MEASURES: [(&str, &str); 2] = [
    ("Консультации для обучающихся группы риска", "еженедельно"),
    (
        "Индивидуальные образовательные маршруты обучающихся",
        "сентябрь – октябрь",
    ),
];

/// Subjects of generated class plans, as the plans write them ("по математике").
const CLASS_SUBJECTS: [&str; 3] = ["математике", "русскому языку", "химии"];
/// The exam subject (of [`SUBJECTS`]) of each of [`CLASS_SUBJECTS`].
const CLASS_EXAM_SUBJECT: [usize; 3] = [1, 0, 2];

/// Subjects the generated indicator is broken down by (the seed's stable subject keys).
const SUBJECTS: [&str; 3] = ["russian", "math_profile", "chemistry"];

/// One batch of rows for every table.
pub struct Batch {
    pub tables: Vec<CopyBuffer>,
}

impl Batch {
    fn new() -> Self {
        Self {
            tables: (0..TABLES.len()).map(|_| CopyBuffer::default()).collect(),
        }
    }

    pub fn measures(&self) -> u64 {
        self.tables[Table::Measure as usize].rows
    }

    /// The buffer of one table.
    pub fn table(&mut self, table: Table) -> &mut CopyBuffer {
        &mut self.tables[table as usize]
    }
}

/// Which generated plan: its level, and the index and name its title and source key are made of
/// (a key names the same plan in every run of a seed; [`exists`] looks for the federal one).
#[derive(Clone, Copy)]
enum Which<'a> {
    Federal,
    Region(usize, &'a str),
    Municipality(usize, &'a str),
    School(usize, &'a str),
    /// A class plan: the class's index and "9А, <school>".
    Class(usize, &'a str),
}

impl<'a> Which<'a> {
    /// The plan of `owner` for `territory`.
    fn at(self, territory: Uuid, owner: Uuid) -> PlanSpec<'a> {
        PlanSpec {
            which: self,
            territory,
            owner,
            parent: None,
        }
    }

    /// Level, title and source key.
    fn names(self, seed: u64) -> (&'static str, String, String) {
        let (level, kind, title, index, name) = match self {
            Which::Federal => {
                let title = "Федеральный план повышения качества образования (сгенерировано)";
                return ("FEDERAL", title.into(), format!("generated:{seed}:federal"));
            }
            Which::Region(i, name) => (
                "REGIONAL",
                "region",
                "Дорожная карта повышения качества образования",
                i,
                name,
            ),
            Which::Municipality(i, name) => ("MUNICIPAL", "municipality", "Муниципальная дорожная карта", i, name),
            Which::School(i, name) => ("SCHOOL", "school", "Дорожная карта школы", i, name),
            Which::Class(i, name) => ("CLASSROOM", "class", "План работы с обучающимися группы риска", i, name),
        };
        (
            level,
            format!("{title}: {name} (сгенерировано)"),
            format!("generated:{seed}:{kind}:{index}"),
        )
    }
}

struct PlanSpec<'a> {
    which: Which<'a>,
    territory: Uuid,
    owner: Uuid,
    /// The plan this one implements (a `plan_parent` row).
    parent: Option<Uuid>,
}

impl PlanSpec<'_> {
    fn implementing(self, parent: Uuid) -> Self {
        Self {
            parent: Some(parent),
            ..self
        }
    }
}

/// Generation state shared across regions.
pub struct Generator {
    /// The generated "share below the minimum ЕГЭ score" indicator.
    indicator: Uuid,
    params: Params,
    sources: Sources,
    rng: Rng,
    country: Uuid,
    federal_measures: Vec<Uuid>,
    municipality_index: usize,
    school_index: usize,
    class_index: usize,
    /// The school year every generated plan covers: the one holding `today`.
    period: (NaiveDate, NaiveDate),
    today: NaiveDate,
}

/// Statuses (percent) of measures due before today: mostly done; the unfinished 8 % are overdue.
pub const PAST_DUE: [(&str, u64); 4] = [("DONE", 88), ("CANCELLED", 4), ("IN_PROGRESS", 6), ("PLANNED", 2)];
/// Statuses (percent) of measures due today or later.
pub const NOT_YET_DUE: [(&str, u64); 4] = [("PLANNED", 40), ("IN_PROGRESS", 50), ("DONE", 7), ("CANCELLED", 3)];

/// The school year (1 September – 31 August) that holds `today`.
pub fn school_year(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    let first = if today.month() >= 9 {
        today.year()
    } else {
        today.year() - 1
    };
    let start = NaiveDate::from_ymd_opt(first, 9, 1).unwrap_or(today);
    let end = NaiveDate::from_ymd_opt(first + 1, 8, 31).unwrap_or(today);
    (start, end)
}

impl Generator {
    /// A generator for `params`, dating plans around `today` (the hub's clock).
    pub fn new(params: Params, sources: Sources, today: NaiveDate) -> Self {
        let mut rng = Rng::new(params.seed);
        let country = rng.uuid();
        let indicator = rng.uuid();
        Self {
            indicator,
            params,
            sources,
            rng,
            country,
            federal_measures: Vec::new(),
            municipality_index: 0,
            school_index: 0,
            class_index: 0,
            period: school_year(today),
            today,
        }
    }

    /// A status drawn from [`PAST_DUE`] or [`NOT_YET_DUE`], with its progress.
    fn status(&mut self, due: NaiveDate) -> (&'static str, Option<String>) {
        let table = if due < self.today { PAST_DUE } else { NOT_YET_DUE };
        let roll = self.rng.below(100) as u64;
        let mut acc = 0;
        for (s, p) in table {
            acc += p;
            if roll < acc {
                let progress = match s {
                    "IN_PROGRESS" => Some(format!("{}", 5 + self.rng.below(90))),
                    "DONE" => Some("100".to_string()),
                    _ => None,
                };
                return (s, progress);
            }
        }
        ("PLANNED", None)
    }

    /// Writes a plan with one section holding `measures`; returns the measure ids.
    fn plan(&mut self, b: &mut Batch, spec: PlanSpec<'_>, measures: &[(Template, Option<Uuid>)]) -> (Uuid, Vec<Uuid>) {
        let plan = self.rng.uuid();
        let section = self.rng.uuid();
        let (level, title, key) = spec.which.names(self.params.seed);
        let (start, end) = self.period;
        let (p, s, e, o, t) = (
            plan.to_string(),
            start.to_string(),
            end.to_string(),
            spec.owner.to_string(),
            spec.territory.to_string(),
        );
        let period = format!("{}/{} учебный год", start.year(), end.year());
        b.table(Table::Plan).row(&[
            Some(&p),
            Some(&title),
            Some(level),
            Some(&s),
            Some(&e),
            Some(&period),
            Some(&o),
            Some(&t),
            Some(&key),
        ]);
        if let Some(parent) = spec.parent {
            b.table(Table::PlanParent).row(&[Some(&p), Some(&parent.to_string())]);
        }
        b.table(Table::Section).row(&[
            Some(&section.to_string()),
            Some(&p),
            Some("0"),
            Some("1"),
            Some("Мероприятия"),
        ]);
        let mut ids = Vec::with_capacity(measures.len());
        for (i, (tpl, implements)) in measures.iter().enumerate() {
            let id = self.rng.uuid();
            // Due days spread evenly over the plan's year.
            let days = (end - start).num_days().max(0) as usize;
            let due = start + chrono::Days::new(self.rng.below(days + 1) as u64);
            let (status, progress) = self.status(due);
            let starts = start;
            let number = format!("1.{}", i + 1);
            let weight = format!("{}", 1 + self.rng.below(3));
            b.table(Table::Measure).row(&[
                Some(&id.to_string()),
                Some(&p),
                Some(&section.to_string()),
                Some(&i.to_string()),
                Some(&number),
                Some(&tpl.title),
                Some(&tpl.schedule),
                Some(&tpl.result),
                None,
                Some(&number),
                Some(status),
                progress.as_deref(),
                Some(&weight),
                Some(&starts.to_string()),
                Some(&due.to_string()),
            ]);
            b.table(Table::MeasureResponsible)
                .row(&[Some(&id.to_string()), Some(&o), Some("0")]);
            if let Some(up) = implements {
                let link = self.rng.uuid();
                b.table(Table::MeasureLink).row(&[
                    Some(&link.to_string()),
                    Some(&id.to_string()),
                    Some(&up.to_string()),
                    Some("CONFIRMED"),
                    Some("generator"),
                ]);
            }
            ids.push(id);
        }
        (plan, ids)
    }

    fn organisation(&mut self, b: &mut Batch, name: &str, kind: &str, territory: Uuid) -> Uuid {
        let id = self.rng.uuid();
        b.table(Table::Organisation).row(&[
            Some(&id.to_string()),
            Some(name),
            Some(kind),
            Some(&territory.to_string()),
            None,
            None,
            None,
            None,
            None,
        ]);
        id
    }

    /// The classes of a school (2–4, in grades 9 and 11: 9А, 11А, 9Б, 11Б), each with a plan for
    /// its pupils at risk whose one or two measures implement measures of the school's plan.
    /// An 11th grade's class also reports the mock exam ("пробный ЕГЭ", `MOCK_EXAM`) in its plan's
    /// subject: how many of those who wrote were below the minimum score, a count of pupils.
    fn classes(
        &mut self,
        b: &mut Batch,
        school: (Uuid, &str, Uuid),
        territories: &[Uuid],
        school_measures: &[Uuid],
        baselines: &[f64],
    ) {
        let territory = territories[0];
        const LETTERS: [&str; 2] = ["А", "Б"];
        let (school, school_name, school_plan) = school;
        let (start, end) = self.period;
        let year = format!("{}/{:02}", start.year(), end.year() % 100);
        for k in 0..2 + self.rng.below(3) {
            let grade = if k % 2 == 0 { 9 } else { 11 };
            let letter = LETTERS[k / 2];
            let name = format!("{grade}{letter}");
            let pupils = 18 + self.rng.below(13);
            let class = self.rng.uuid();
            b.table(Table::Organisation).row(&[
                Some(&class.to_string()),
                Some(&name),
                Some("CLASS"),
                Some(&territory.to_string()),
                Some(&school.to_string()),
                Some(&grade.to_string()),
                Some(letter),
                Some(&year),
                Some(&pupils.to_string()),
            ]);
            let subject_index = self.rng.below(CLASS_SUBJECTS.len());
            let subject = CLASS_SUBJECTS[subject_index];
            if grade == 11 {
                let exam = CLASS_EXAM_SUBJECT[subject_index];
                let wrote = pupils - self.rng.below(4);
                let below = ((baselines[exam] * 1.1 + self.rng.below(10) as f64 - 5.0).clamp(0.0, 100.0) / 100.0
                    * wrote as f64)
                    .round() as usize;
                let (value, raw) = percent_of(below, wrote);
                self.observation_row(
                    b,
                    (None, Some(class)),
                    (territories, &[school]),
                    SUBJECTS[exam],
                    (&value, &raw, "MOCK_EXAM"),
                    (Some(below), wrote),
                );
            }
            let measures: Vec<(Template, Option<Uuid>)> = CLASS_MEASURES
                .iter()
                .take(1 + self.rng.below(2))
                .map(|(title, schedule)| {
                    let up =
                        (!school_measures.is_empty()).then(|| school_measures[self.rng.below(school_measures.len())]);
                    let tpl = Template {
                        title: format!("{title} {name} по {subject}"),
                        schedule: schedule.to_string(),
                        result: "Снижение числа обучающихся, не достигших базового уровня".to_string(),
                    };
                    (tpl, up)
                })
                .collect();
            let c = self.class_index;
            self.class_index += 1;
            let label = format!("{name}, {school_name}");
            let spec = Which::Class(c, &label).at(territory, class).implementing(school_plan);
            self.plan(b, spec, &measures);
        }
    }

    /// The country, its ministry and the federal plan every regional plan implements.
    pub fn federal(&mut self) -> Batch {
        let mut b = Batch::new();
        let country = self.country.to_string();
        let name = format!("Условная Федерация (сгенерировано, seed {})", self.params.seed);
        b.table(Table::Territory)
            .row(&[Some(&country), Some(&name), Some("COUNTRY"), None]);
        let ministry = self.organisation(&mut b, "Министерство просвещения (условное)", "MINISTRY", self.country);
        let templates: Vec<(Template, Option<Uuid>)> = self.sources.regional[0]
            .iter()
            .take(8)
            .cloned()
            .map(|t| (t, None))
            .collect();
        let spec = Which::Federal.at(self.country, ministry);
        let (_, ids) = self.plan(&mut b, spec, &templates);
        self.federal_measures = ids;
        let code = format!("generated:{}:ege_below_min", self.params.seed);
        b.table(Table::Indicator).row(&[
            Some(&self.indicator.to_string()),
            Some(&code),
            Some("Доля обучающихся, не преодолевших минимальный порог баллов на ЕГЭ (сгенерировано)"),
            Some("%"),
            Some("LOWER_IS_BETTER"),
            Some("WEIGHTED_MEAN"),
            Some("{subject}"),
            Some("ЕГЭ"),
            Some("11"),
            Some("2020"),
            Some("2030"),
            Some("0"),
            Some("100"),
        ]);
        b
    }

    /// A share in percent with one decimal, written with a decimal comma as documents do.
    fn share(&mut self, around: f64) -> (String, String) {
        one_decimal((around + (self.rng.below(200) as f64 - 100.0) / 20.0).clamp(0.0, 100.0))
    }

    /// The 2024 official observation of each subject about `about` (a territory or an
    /// organisation), around 0.9 of the region's baseline; `territories`: the territories above
    /// the unit, nearest first.
    fn observations(
        &mut self,
        b: &mut Batch,
        about: (Option<Uuid>, Option<Uuid>),
        territories: &[Uuid],
        baselines: &[f64],
    ) {
        for (subject, base) in SUBJECTS.iter().zip(baselines) {
            let (value, raw) = self.share(base * 0.9);
            let denominator = 20 + self.rng.below(400);
            self.observation_row(
                b,
                about,
                (territories, &[]),
                subject,
                (&value, &raw, "OFFICIAL"),
                (None, denominator),
            );
        }
    }

    /// One observation row: about a territory or an organisation, with the territories and
    /// organisations above it (nearest first), its value as written and its source, and how many
    /// of `denominator` it counts when known.
    fn observation_row(
        &mut self,
        b: &mut Batch,
        (territory, org): (Option<Uuid>, Option<Uuid>),
        (territories, organisations): (&[Uuid], &[Uuid]),
        subject: &str,
        (value, raw, source): (&str, &str, &str),
        (numerator, denominator): (Option<usize>, usize),
    ) {
        let id = self.rng.uuid();
        b.table(Table::Observation).row(&[
            Some(&id.to_string()),
            Some(&self.indicator.to_string()),
            territory.map(|t| t.to_string()).as_deref(),
            org.map(|o| o.to_string()).as_deref(),
            Some(&territories[0].to_string()),
            Some("2024"),
            Some(subject),
            Some(value),
            Some(raw),
            Some(&denominator.to_string()),
            Some("generated"),
            Some("2024-07-15"),
            Some(source),
            numerator.map(|n| n.to_string()).as_deref(),
            Some(&uuid_array(organisations)),
            Some(&uuid_array(territories)),
        ]);
    }

    /// One region with its municipalities and schools.
    pub fn region(&mut self, r: usize) -> Batch {
        let mut b = Batch::new();
        let region = self.rng.uuid();
        let region_name = fictional_name(
            r,
            if r.is_multiple_of(2) {
                "край"
            } else {
                "область"
            },
        );
        b.table(Table::Territory).row(&[
            Some(&region.to_string()),
            Some(&region_name),
            Some("REGION"),
            Some(&self.country.to_string()),
        ]);
        let ministry = self.organisation(
            &mut b,
            &format!("Министерство образования ({region_name})"),
            "MINISTRY",
            region,
        );
        let source = self.sources.regional[r % self.sources.regional.len()].clone();
        let regional: Vec<(Template, Option<Uuid>)> = source
            .into_iter()
            .map(|t| {
                let up = (!self.federal_measures.is_empty() && self.rng.chance(30))
                    .then(|| self.federal_measures[self.rng.below(self.federal_measures.len())]);
                (t, up)
            })
            .collect();
        let spec = Which::Region(r, &region_name).at(region, ministry);
        let (regional_plan, regional_ids) = self.plan(&mut b, spec, &regional);
        // Baseline 2023 and targets 2024–2026 per subject, falling year by year.
        let mut baselines = Vec::new();
        for (si, subject) in SUBJECTS.iter().enumerate() {
            let base = 5.0 + self.rng.below(250) as f64 / 10.0;
            baselines.push(base);
            for (k, year) in (2023..=2026).enumerate() {
                let value = ((base * (1.0 - 0.1 * k as f64)) * 10.0).round() / 10.0;
                let kind = if year == 2023 { "BASELINE" } else { "TARGET" };
                let comparator = if year == 2023 { "EQ" } else { "LE" };
                let id = self.rng.uuid();
                b.table(Table::IndicatorTarget).row(&[
                    Some(&id.to_string()),
                    Some(&self.indicator.to_string()),
                    Some(&region.to_string()),
                    Some(&year.to_string()),
                    Some(subject),
                    Some(kind),
                    Some(comparator),
                    Some(&format!("{value}")),
                    Some(&format!("{value}").replace('.', ",")),
                    Some(&regional_plan.to_string()),
                    Some(&(si * 4 + k).to_string()),
                ]);
            }
        }
        for _ in 0..self.params.municipalities {
            let m = self.municipality_index;
            self.municipality_index += 1;
            let municipality = self.rng.uuid();
            let name = fictional_name(m + 7, "район");
            b.table(Table::Territory).row(&[
                Some(&municipality.to_string()),
                Some(&name),
                Some("MUNICIPALITY"),
                Some(&region.to_string()),
            ]);
            let authority = self.organisation(
                &mut b,
                &format!("Управление образования ({name})"),
                "MUNICIPAL_AUTHORITY",
                municipality,
            );
            // A municipality implements most, never all, of its region's measures.
            let mut picked = Vec::new();
            for (i, id) in regional_ids.iter().enumerate() {
                if self.rng.chance(70) {
                    let tpl = if self.rng.chance(50) {
                        regional[i].0.clone()
                    } else {
                        self.sources.municipal[self.rng.below(self.sources.municipal.len())].clone()
                    };
                    picked.push((tpl, Some(*id)));
                }
            }
            let spec = Which::Municipality(m, &name)
                .at(municipality, authority)
                .implementing(regional_plan);
            let (municipal_plan, municipal_ids) = self.plan(&mut b, spec, &picked);
            self.observations(&mut b, (Some(municipality), None), &[region, self.country], &baselines);
            for _ in 0..self.params.schools {
                let s = self.school_index;
                self.school_index += 1;
                let school_name = format!("МБОУ СОШ № {} ({name})", s + 1);
                let school = self.organisation(&mut b, &school_name, "SCHOOL", municipality);
                // A school carries out most of its municipality's measures, often in several
                // steps of its own (one to three school measures each).
                let mut picked = Vec::new();
                for id in &municipal_ids {
                    if self.rng.chance(90) {
                        for _ in 0..1 + self.rng.below(3) {
                            let tpl = self.sources.school[self.rng.below(self.sources.school.len())].clone();
                            picked.push((tpl, Some(*id)));
                        }
                    }
                }
                let spec = Which::School(s, &school_name)
                    .at(municipality, school)
                    .implementing(municipal_plan);
                let (school_plan, school_ids) = self.plan(&mut b, spec, &picked);
                let above = [municipality, region, self.country];
                self.classes(
                    &mut b,
                    (school, &school_name, school_plan),
                    &above,
                    &school_ids,
                    &baselines,
                );
                self.observations(&mut b, (None, Some(school)), &above, &baselines);
            }
        }
        b
    }
}

/// `part` of `whole` in percent (see [`one_decimal`]).
fn percent_of(part: usize, whole: usize) -> (String, String) {
    one_decimal(100.0 * part as f64 / whole as f64)
}

/// `v` rounded to one decimal: as a number and as documents write it (a decimal comma).
fn one_decimal(v: f64) -> (String, String) {
    let v = (v * 10.0).round() / 10.0;
    (format!("{v}"), format!("{v}").replace('.', ","))
}

/// A Postgres array literal of uuids, as COPY's text format takes it (`{a,b}`).
fn uuid_array(ids: &[Uuid]) -> String {
    let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    format!("{{{}}}", ids.join(","))
}

/// Writes one batch with COPY, table by table.
pub async fn copy(conn: &mut PgConnection, batch: &Batch) -> anyhow::Result<()> {
    for ((table, columns), buffer) in TABLES.iter().zip(&batch.tables) {
        if buffer.rows == 0 {
            continue;
        }
        let mut copy = conn
            .copy_in_raw(&format!("COPY {table} ({columns}) FROM STDIN"))
            .await?;
        copy.send(buffer.text.as_bytes()).await?;
        copy.finish().await.with_context(|| format!("COPY into {table}"))?;
    }
    Ok(())
}

/// Whether this seed's cascade is already in the database.
pub async fn exists(conn: &mut PgConnection, seed: u64) -> anyhow::Result<bool> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM plans.plan WHERE source_key = $1)")
            .bind(format!("generated:{seed}:federal"))
            .fetch_one(conn)
            .await?,
    )
}

/// Generates and loads a cascade dated around `today` (databases must be migrated). Returns the
/// number of measures.
pub async fn load(conn: &mut PgConnection, params: Params, today: NaiveDate, progress: bool) -> anyhow::Result<u64> {
    let mut generator = Generator::new(params, Sources::from_seeds()?, today);
    let bar = if progress {
        let bar = indicatif::ProgressBar::new(params.regions as u64);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} regions, {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let mut measures = 0;
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    // Rolled-up progress: nothing propagates per link during the COPY; one rebuild at the end.
    sqlx::query("SELECT set_config('roadmap.rolled_progress', 'deferred', true)")
        .execute(&mut *tx)
        .await?;
    let federal = generator.federal();
    measures += federal.measures();
    copy(&mut tx, &federal).await?;
    for r in 0..params.regions {
        let batch = generator.region(r);
        measures += batch.measures();
        copy(&mut tx, &batch).await?;
        bar.inc(1);
        bar.set_message(format!("{measures} measures"));
    }
    bar.set_message(format!("{measures} measures, rolling up progress"));
    sqlx::query("SELECT plans.measure_rolled_rebuild()")
        .execute(&mut *tx)
        .await
        .context("rebuilding rolled-up progress")?;
    tx.commit().await?;
    bar.finish();
    let mut summary = String::new();
    let _ = write!(summary, "{measures} measures");
    tracing::info!(regions = params.regions, %summary, "generated cascade loaded");
    Ok(measures)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Table::MeasureLink` is `plans.measure_link`: the names and the positions agree.
    #[test]
    fn table_names_are_their_positions() {
        let all = [
            Table::Territory,
            Table::Organisation,
            Table::Plan,
            Table::Section,
            Table::Measure,
            Table::MeasureResponsible,
            Table::PlanParent,
            Table::MeasureLink,
            Table::Indicator,
            Table::IndicatorTarget,
            Table::Observation,
        ];
        assert_eq!(all.len(), TABLES.len());
        for table in all {
            let mut snake = String::new();
            for (i, c) in format!("{table:?}").chars().enumerate() {
                if c.is_uppercase() && i > 0 {
                    snake.push('_');
                }
                snake.push(c.to_ascii_lowercase());
            }
            let (name, _) = TABLES[table as usize];
            assert!(name.ends_with(&format!(".{snake}")), "{table:?} is {name}");
        }
    }

    /// `regions` regions of `municipalities` municipalities of `schools` schools each.
    fn params(regions: usize, municipalities: usize, schools: usize, seed: u64) -> Params {
        Params {
            regions,
            municipalities,
            schools,
            seed,
        }
    }

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
    }

    fn digest(params: Params, today: NaiveDate) -> (String, u64) {
        let mut g = Generator::new(params, Sources::from_seeds().expect("seeds"), today);
        let mut all = String::new();
        let mut measures = 0;
        let f = g.federal();
        measures += f.measures();
        for t in &f.tables {
            all.push_str(&t.text);
        }
        for r in 0..params.regions {
            let b = g.region(r);
            measures += b.measures();
            for t in &b.tables {
                all.push_str(&t.text);
            }
        }
        (all, measures)
    }

    #[test]
    fn same_seed_same_data_other_seed_other_data() {
        let p = params(2, 3, 2, 7);
        let today = day("2025-02-14");
        let (a, n) = digest(p, today);
        let (b, _) = digest(p, today);
        assert_eq!(a, b, "deterministic, ids included");
        assert!(n > 20, "{n} measures");
        let (c, _) = digest(Params { seed: 8, ..p }, today);
        assert_ne!(a, c);
        let (d, _) = digest(p, day("2026-02-14"));
        assert_ne!(a, d, "dated around today");
    }

    /// Plans cover the school year holding today; due days fall in it, on both sides of today;
    /// a realistic share of the measures is overdue, and none is due outside its plan.
    #[test]
    fn plans_are_dated_around_today() {
        let p = params(3, 4, 3, 11);
        for (today, year) in [
            ("2026-11-29", "2026/2027"),
            ("2025-06-15", "2024/2025"),
            ("2025-09-01", "2025/2026"),
        ] {
            let today = day(today);
            let (start, end) = school_year(today);
            assert!(start <= today && today <= end);
            let mut g = Generator::new(p, Sources::from_seeds().expect("seeds"), today);
            let mut batches = vec![g.federal()];
            batches.extend((0..p.regions).map(|r| g.region(r)));
            let (mut measures, mut past, mut overdue) = (0usize, 0usize, 0usize);
            for b in &mut batches {
                for row in b.table(Table::Plan).text.lines() {
                    let cols: Vec<&str> = row.split('\t').collect();
                    assert_eq!((day(cols[3]), day(cols[4])), (start, end), "{row}");
                    assert!(cols[5].starts_with(year), "{row}");
                }
                for row in b.table(Table::Measure).text.lines() {
                    let cols: Vec<&str> = row.split('\t').collect();
                    let (status, due) = (cols[10], day(cols[14]));
                    assert!(start <= due && due <= end, "{row}");
                    measures += 1;
                    if due < today {
                        past += 1;
                        if status != "DONE" && status != "CANCELLED" {
                            overdue += 1;
                        }
                    }
                }
            }
            let elapsed = (today - start).num_days() as f64 / (end - start).num_days() as f64;
            let past_share = past as f64 / measures as f64;
            assert!(
                (past_share - elapsed).abs() < 0.1,
                "{past} of {measures} due before {today}"
            );
            if past > 200 {
                let share = overdue as f64 / past as f64;
                assert!(
                    (0.04..0.13).contains(&share),
                    "{overdue} of {past} past due are overdue"
                );
            }
            assert!(
                overdue as f64 <= 0.13 * measures as f64,
                "{overdue} of {measures} overdue"
            );
        }
    }

    /// Every school has 2–4 classes in grades 9 and 11 of the plans' school year, each owning one
    /// class plan whose measures implement measures of its school's plan; no pupil is named.
    #[test]
    fn schools_have_classes_whose_plans_implement_the_schools_measures() {
        let p = params(2, 2, 3, 5);
        let today = day("2026-11-29");
        let mut g = Generator::new(p, Sources::from_seeds().expect("seeds"), today);
        let mut batches = vec![g.federal()];
        batches.extend((0..p.regions).map(|r| g.region(r)));
        let rows = |table: Table| -> Vec<Vec<String>> {
            batches
                .iter()
                .flat_map(|b| {
                    b.tables[table as usize]
                        .text
                        .lines()
                        .map(|l| l.split('\t').map(str::to_string).collect())
                })
                .collect()
        };
        let organisations = rows(Table::Organisation);
        let schools: Vec<&Vec<String>> = organisations.iter().filter(|o| o[2] == "SCHOOL").collect();
        let classes: Vec<&Vec<String>> = organisations.iter().filter(|o| o[2] == "CLASS").collect();
        assert_eq!(schools.len(), 12);
        for school in &schools {
            let mine: Vec<&&Vec<String>> = classes.iter().filter(|c| c[4] == school[0]).collect();
            assert!((2..=4).contains(&mine.len()), "{} classes", mine.len());
            for c in mine {
                assert!(c[5] == "9" || c[5] == "11", "{c:?}");
                assert_eq!(c[1], format!("{}{}", c[5], c[6]));
                assert_eq!(c[7], "2026/27");
                assert_eq!(c[3], school[3], "in the school's territory");
                let pupils: i32 = c[8].parse().expect("a count");
                assert!((18..=30).contains(&pupils));
            }
        }
        let plans = rows(Table::Plan);
        let level_of: std::collections::HashMap<&str, &str> =
            plans.iter().map(|p| (p[0].as_str(), p[2].as_str())).collect();
        let class_plans: Vec<&Vec<String>> = plans.iter().filter(|p| p[2] == "CLASSROOM").collect();
        assert_eq!(class_plans.len(), classes.len(), "one plan per class");
        assert!(
            class_plans.iter().all(|p| classes.iter().any(|c| c[0] == p[6])),
            "owned by a class"
        );
        let measures = rows(Table::Measure);
        let plan_of: std::collections::HashMap<&str, &str> =
            measures.iter().map(|m| (m[0].as_str(), m[1].as_str())).collect();
        let mut class_links = 0;
        for link in rows(Table::MeasureLink) {
            if level_of[plan_of[link[1].as_str()]] == "CLASSROOM" {
                assert_eq!(level_of[plan_of[link[2].as_str()]], "SCHOOL");
                class_links += 1;
            }
        }
        assert!(
            class_links >= classes.len(),
            "{class_links} links for {} classes",
            classes.len()
        );
        for m in measures.iter().filter(|m| level_of[m[1].as_str()] == "CLASSROOM") {
            assert!(
                roadmap_common::personal_data::personal_names(&m[5]).is_empty(),
                "{}",
                m[5]
            );
        }
        // Every 11th grade reports its mock exam: a count of those below the minimum out of
        // those who wrote (at most its pupils), the value that share, under its school and the
        // school's territories; nothing else is a mock exam.
        let observations = rows(Table::Observation);
        let eleventh: Vec<&&Vec<String>> = classes.iter().filter(|c| c[5] == "11").collect();
        let mocks: Vec<&Vec<String>> = observations.iter().filter(|o| o[12] == "MOCK_EXAM").collect();
        assert!(!eleventh.is_empty());
        assert_eq!(mocks.len(), eleventh.len(), "one mock exam per 11th grade");
        for class in eleventh {
            let o = mocks.iter().find(|o| o[3] == class[0]).expect("the class's mock exam");
            let (below, wrote): (f64, f64) = (o[13].parse().expect("numerator"), o[9].parse().expect("denominator"));
            let pupils: f64 = class[8].parse().expect("pupils");
            assert!(below <= wrote && wrote <= pupils && wrote >= pupils - 3.0, "{o:?}");
            let value: f64 = o[7].parse().expect("value");
            assert!((value - 100.0 * below / wrote).abs() <= 0.05, "{o:?}");
            assert_eq!(o[8], o[7].replace('.', ","));
            assert_eq!(o[14], format!("{{{}}}", class[4]), "under its school");
            let school = schools.iter().find(|s| s[0] == class[4]).expect("school");
            assert!(
                o[15].starts_with(&format!("{{{},", school[3])),
                "from the school's territory up: {o:?}"
            );
            assert_eq!(o[15].matches(',').count(), 2, "municipality, region, country: {o:?}");
        }
    }

    #[test]
    fn names_are_fictional_and_distinct() {
        let names: std::collections::HashSet<String> = (0..600).map(|i| fictional_name(i, "район")).collect();
        assert_eq!(names.len(), 600);
        for real in [
            "Забайкальский",
            "Николаевский",
            "Казачинский",
            "Хабаровский",
            "Красноярский",
            "Сахалинск",
        ] {
            assert!(names.iter().all(|n| !n.contains(real)), "{real}");
        }
    }

    #[test]
    fn copy_text_escapes_what_copy_needs() {
        let mut b = CopyBuffer::default();
        b.row(&[Some("a\tb\\c\nd"), None]);
        assert_eq!(b.text, "a\\tb\\\\c\\nd\t\\N\n");
    }
}
