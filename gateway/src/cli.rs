//! The command line: `up`, `serve`, `generate`, `migrate`, `import`, `token`, `compose`
//! (README "Commands" lists what each does).

use std::process::ExitCode;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use roadmap_common::pg_cluster::{self, Cluster};
use roadmap_common::telemetry::{self, LogFormat};

use roadmap_common::config::HubConfig;
use roadmap_common::people::PeopleClient;
use roadmap_plans::graphql::PlanLevel;
use roadmap_plans::import::{ImportOptions, ImportSummary, import_document};

use crate::targets::{Hub, Target};

#[derive(Parser, Debug)]
#[command(
    name = "roadmap-hub",
    version,
    about = "Roadmap Hub: education roadmaps traced from ministry to classroom"
)]
pub struct Cli {
    /// Log as JSON lines instead of text.
    #[arg(long, global = true, env = "ROADMAP_LOG_JSON")]
    pub log_json: bool,
    /// Config file (TOML; see README "Configuration"); environment variables override it.
    #[arg(long, global = true, env = "ROADMAP_CONFIG", value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// Data directory of the embedded PostgreSQL, used when no database URL is configured
    /// (default: ~/.local/share/roadmap-hub/postgres; /var/lib/roadmap-hub/postgres as root).
    #[arg(long, global = true, env = "ROADMAP_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<std::path::PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Start every target in one process: the four subgraphs and the gateway on :4000.
    Up {
        /// Also load the demo data (idempotent).
        #[arg(long)]
        demo: bool,
    },
    /// Start some targets: plans, indicators, people, events, gateway (comma-separated) or all.
    Serve {
        #[arg(long, value_name = "TARGETS")]
        target: String,
        /// Also load the demo data (needs the subgraph targets in this process).
        #[arg(long)]
        demo: bool,
    },
    /// Load a deterministic generated cascade (fictional territories) with COPY, with a progress bar;
    /// its plans cover the school year holding today by the hub's clock (`ROADMAP_CLOCK`).
    Generate {
        #[arg(long, default_value_t = 2)]
        regions: usize,
        /// Municipalities per region.
        #[arg(long, default_value_t = 3)]
        municipalities: usize,
        /// Schools per municipality.
        #[arg(long, default_value_t = 2)]
        schools: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Create the database if missing, apply every service's migrations, and exit (deployment job).
    Migrate,
    /// Import one roadmap document as a plan, all or nothing, and print a summary.
    Import {
        /// DOCX, ODT, ODS, XLSX, CSV/TSV, PDF with a text layer, plain text, or a plan export
        /// (the format is recognised from the content).
        file: std::path::PathBuf,
        /// federal, regional, municipal or school (default: what the document says).
        #[arg(long)]
        level: Option<String>,
        /// Territory path, e.g. "Хабаровский край/Николаевский муниципальный район".
        #[arg(long)]
        territory: Option<String>,
        /// Name of the owning organisation.
        #[arg(long)]
        owner: Option<String>,
        /// Identity of the document across re-imports (default: its approving act, else its title).
        #[arg(long)]
        key: Option<String>,
        /// Print the whole summary as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a development token signed with the dev key (trusted by the development router
    /// config only), e.g. `token --role editor --territory "Забайкальский край/Читинский район"`.
    Token {
        /// viewer, editor, coordinator, auditor or admin (repeat for several).
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Scope: a territory id or a path of names in the hub's database (default: the whole country).
        #[arg(long)]
        territory: Option<String>,
        /// Organisation id the user works for: narrows writes to that unit and the units under it
        /// (a class teacher's token reports only for its class).
        #[arg(long)]
        organisation: Option<uuid::Uuid>,
        /// Who the token is for (`sub`).
        #[arg(long, default_value = "dev-user")]
        subject: String,
        #[arg(long)]
        name: Option<String>,
        /// Lifetime in hours.
        #[arg(long, default_value_t = 8)]
        hours: i64,
    },
    /// Regenerate schema/<service>.graphql and schema/supergraph.graphql.
    Compose {
        /// Only report whether the committed files are stale (exit 1 if so).
        #[arg(long)]
        check: bool,
    },
}

/// The `--config` file of this run.
static CONFIG_FILE: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();

/// The `--data-dir` of this run.
static DATA_DIR: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();

/// The hub config of this run: defaults, the `--config` file, the environment.
fn hub_config() -> anyhow::Result<HubConfig> {
    crate::targets::load_config(CONFIG_FILE.get().and_then(Option::as_deref))
}

/// The database the embedded cluster serves the hub from.
const EMBEDDED_DATABASE: &str = "roadmap_hub";

/// The hub config and, when it names no database, the embedded PostgreSQL it now points at
/// (stopped by [`stop_embedded`] or when dropped; a server owned by another hub process is only
/// used, never stopped). `serve` never calls this: production targets need `DATABASE_URL`.
async fn hub_config_with_database() -> anyhow::Result<(HubConfig, Option<Cluster>)> {
    let mut config = hub_config()?;
    if !config.database_url.trim().is_empty() {
        return Ok((config, None));
    }
    let data_dir = match DATA_DIR.get().cloned().flatten() {
        Some(dir) => dir,
        None => pg_cluster::default_data_dir()?,
    };
    let dir = data_dir.clone();
    // initdb and pg_ctl are child processes waited for synchronously: off the runtime's threads.
    let cluster = tokio::task::spawn_blocking(move || Cluster::start_or_attach(&dir, pg_cluster::Options::default()))
        .await
        .context("starting the embedded PostgreSQL")?
        .with_context(|| {
            format!(
                "no DATABASE_URL is set, and the embedded PostgreSQL in {} did not start",
                data_dir.display()
            )
        })?;
    config.database_url = cluster.url_for(EMBEDDED_DATABASE);
    tracing::info!(
        data_dir = %cluster.data_dir().display(),
        version = cluster.binaries().version(),
        log = %cluster.log_file().display(),
        psql = %cluster.psql_command_for(EMBEDDED_DATABASE),
        shared_with_another_process = !cluster.is_owner(),
        "no DATABASE_URL: using the embedded PostgreSQL",
    );
    Ok((config, Some(cluster)))
}

async fn stop_embedded(cluster: Option<Cluster>) -> anyhow::Result<()> {
    if let Some(mut cluster) = cluster {
        tokio::task::spawn_blocking(move || cluster.stop())
            .await
            .context("stopping PostgreSQL")??;
    }
    Ok(())
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = CONFIG_FILE.set(cli.config.clone());
    let _ = DATA_DIR.set(cli.data_dir.clone().filter(|d| !d.as_os_str().is_empty()));
    let format = if cli.log_json { LogFormat::Json } else { LogFormat::Text };
    let mut tracing_shutdown = None;
    match cli.command {
        Command::Import { .. }
        | Command::Compose { .. }
        | Command::Token { .. }
        | Command::Migrate
        | Command::Generate { .. } => telemetry::init_with_default(format, "warn"),
        _ => {
            // Serving: OpenTelemetry export when OTEL_EXPORTER_OTLP_* says where to.
            let extra = match crate::router::otel_layer_from_env() {
                Ok(Some((layer, shutdown))) => {
                    tracing_shutdown = Some(shutdown);
                    Some(layer)
                }
                Ok(None) => None,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    return ExitCode::FAILURE;
                }
            };
            telemetry::init_with(format, telemetry::DEFAULT_FILTER, extra)
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli.command));
    if let Some(shutdown) = tracing_shutdown {
        shutdown();
    }
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Up { demo } => serve(Target::ALL.to_vec(), demo, true).await,
        Command::Serve { target, demo } => serve(Target::parse_list(&target)?, demo, false).await,
        Command::Generate {
            regions,
            municipalities,
            schools,
            seed,
        } => {
            let (config, cluster) = hub_config_with_database().await?;
            for target in Target::subgraphs() {
                crate::targets::connect(&config, target).await?.close().await;
            }
            let mut conn = roadmap_common::db::connect_one(&config.database_url).await?;
            if crate::generate::exists(&mut conn, seed).await? {
                anyhow::bail!("a cascade generated with seed {seed} is already loaded; pick another --seed");
            }
            let params = crate::generate::Params {
                regions,
                municipalities,
                schools,
                seed,
            };
            let started = std::time::Instant::now();
            let measures = crate::generate::load(&mut conn, params, config.clock.today(), true).await?;
            println!("loaded {measures} measures in {:.1} s", started.elapsed().as_secs_f64());
            drop(conn);
            stop_embedded(cluster).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate => {
            let (config, cluster) = hub_config_with_database().await?;
            for target in Target::ALL
                .iter()
                .copied()
                .filter(|t| t.descriptor().migrator.is_some())
            {
                let pool = crate::targets::connect(&config, target).await?;
                pool.close().await;
                println!("{}: migrated", target.name());
            }
            stop_embedded(cluster).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Import {
            file,
            level,
            territory,
            owner,
            key,
            json,
        } => import(file, level, territory, owner, key, json).await,
        Command::Token {
            roles,
            territory,
            organisation,
            subject,
            name,
            hours,
        } => {
            let roles = crate::token::parse_roles(&roles)?;
            let territory = match territory {
                Some(t) => {
                    let (config, cluster) = hub_config_with_database().await?;
                    let resolved = crate::token::resolve_territory(&config.database_url, &t).await;
                    stop_embedded(cluster).await?;
                    Some(resolved?)
                }
                None => None,
            };
            if hours <= 0 {
                anyhow::bail!("--hours must be positive");
            }
            let mut request = crate::token::TokenRequest::new(subject, &roles, territory);
            request.user.name = name;
            request.user.organisation = organisation;
            request.ttl = chrono::Duration::hours(hours);
            println!("{}", crate::token::sign_dev(&request)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Compose { check } => {
            let root = crate::workspace_root();
            if check {
                let stale = crate::compose::check(&root);
                for s in &stale {
                    eprintln!("stale: {s}");
                }
                return Ok(if stale.is_empty() {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::FAILURE
                });
            }
            crate::compose::write(&root)?;
            println!("wrote schema/*.graphql and schema/supergraph.graphql");
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// `embedded`: `up`, which starts the embedded PostgreSQL when no database is configured;
/// `serve` (production, one target per process) refuses instead, so a missing secret can never
/// give each process a throwaway database.
async fn serve(targets: Vec<Target>, demo: bool, embedded: bool) -> anyhow::Result<ExitCode> {
    let (config, cluster) = if embedded {
        hub_config_with_database().await?
    } else {
        let config = hub_config()?;
        let needs_db = targets.iter().any(|t| t.descriptor().migrator.is_some());
        if needs_db && config.database_url.trim().is_empty() {
            anyhow::bail!(
                "serve needs DATABASE_URL (or `database_url` in the config file): it never starts a \
                 database of its own. For a local run, `roadmap-hub up` starts an embedded PostgreSQL"
            );
        }
        (config, None)
    };
    // Redacted: no passwords, no gateway secret.
    tracing::info!(config = ?config, "configuration");
    let hub = Hub::start(&config, &targets).await?;
    if demo {
        crate::demo::load(&hub).await?;
    }
    for target in &targets {
        if let Some(url) = hub.home_url(*target) {
            println!("{:<10} {url}", target.name());
        }
    }
    if let Some(addr) = hub.addr(Target::PLANS) {
        let feed = roadmap_plans::calendar::feed_url(&format!("http://{addr}"), "<organisation id>");
        println!("{:<10} {feed}", "calendar");
    }
    if let Some(cluster) = &cluster {
        println!(
            "{:<10} {}  (data: {})",
            "postgres",
            cluster.psql_command_for(EMBEDDED_DATABASE),
            cluster.data_dir().display()
        );
    }
    println!("press Ctrl-C to stop");
    shutdown_signal().await;
    println!("shutting down");
    // The pools close first, then the embedded server stops.
    let result = hub.shutdown().await;
    stop_embedded(cluster).await?;
    result?;
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C or SIGTERM (what Kubernetes sends).
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
}

fn parse_level(text: &str) -> anyhow::Result<PlanLevel> {
    Ok(match text.to_lowercase().as_str() {
        "federal" => PlanLevel::Federal,
        "regional" => PlanLevel::Regional,
        "municipal" => PlanLevel::Municipal,
        "school" => PlanLevel::School,
        other => anyhow::bail!("--level `{other}`: expected federal, regional, municipal or school"),
    })
}

/// Runs the people and plans targets in-process (on free ports, against `DATABASE_URL`) and
/// imports through the same code as the `importRoadmap` mutation.
async fn import(
    file: std::path::PathBuf,
    level: Option<String>,
    territory: Option<String>,
    owner: Option<String>,
    key: Option<String>,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let level = level.as_deref().map(parse_level).transpose()?;
    let bytes = std::fs::read(&file).map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let (mut config, cluster) = hub_config_with_database().await?;
    // Free ports: the targets run only for this import, beside any running hub.
    for target in Target::ALL {
        config.ports.insert(target.name().to_string(), 0);
    }
    let hub = Hub::start(&config, &[Target::PEOPLE, Target::PLANS]).await?;
    let options = ImportOptions {
        level,
        territory,
        owner,
        key,
        file_name: Some(file.display().to_string()),
        state: None,
        actor: roadmap_common::auth::Actor::service("cli"),
    };
    let people = PeopleClient::new(
        roadmap_plans::NAME,
        hub.graphql_url(Target::PEOPLE).unwrap_or_default(),
        config.gateway_secret.clone(),
    );
    let pool = hub.pool(Target::PLANS).cloned();
    let result = match pool {
        Some(pool) => import_document(&pool, &people, &bytes, &options).await,
        None => Err(roadmap_common::ServiceError::invalid("plans", "not running")),
    };
    hub.shutdown().await?;
    stop_embedded(cluster).await?;
    match result {
        Ok(summary) => {
            if json {
                println!("{}", serde_json::to_string_pretty(&summary)?);
            } else {
                print_summary(&summary);
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            eprintln!("error: {}", e.message());
            Ok(ExitCode::FAILURE)
        }
    }
}

fn print_summary(s: &ImportSummary) {
    println!("{:?}: plan {} version {} ({})", s.status, s.plan_id, s.version, s.level);
    println!("title:       {}", s.title);
    if !s.format.is_empty() {
        println!("format:      {}", s.format);
    }
    println!(
        "structure:   {} sections, {} measures, {} child measures, {} milestones",
        s.sections, s.measures, s.child_measures, s.milestones
    );
    let kinds: Vec<String> = s.deadlines_by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
    println!("deadlines:   {}", kinds.join(", "));
    println!("organisations resolved: {}", s.organisations.len());
    for name in &s.unresolved_names {
        println!("unresolved:  {name}");
    }
    println!("indicator targets: {}", s.indicator_targets.len());
    if !s.extra_columns.is_empty() {
        println!("extra columns kept: {}", s.extra_columns.join("; "));
    }
    if !s.ignored_columns.is_empty() {
        println!("ignored (derived) columns: {}", s.ignored_columns.join("; "));
    }
    for f in &s.lint {
        println!("lint:        line {} [{}] {}", f.line, f.code, f.message);
    }
    let c = &s.changes;
    if !(c.added.is_empty() && c.removed.is_empty() && c.changed.is_empty()) {
        println!(
            "changes:     added {:?}, removed {:?}, changed {:?}",
            c.added, c.removed, c.changed
        );
    }
}
