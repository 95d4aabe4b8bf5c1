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
    Ok(out)
}

/// The small generated cascade `up --demo` adds next to the seeds, so ministry → region →
/// municipality → school can be traced at once.
pub const DEMO_CASCADE: crate::generate::Params = crate::generate::Params {
    regions: 2,
    municipalities: 3,
    schools: 2,
    seed: 1,
};
