//! The command line: `up`, `serve`, `compose`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use roadmap_common::telemetry::{self, LogFormat};

use crate::targets::{Hub, HubConfig, Target};

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
    /// Regenerate schema/<service>.graphql and schema/supergraph.graphql.
    Compose {
        /// Only report whether the committed files are stale (exit 1 if so).
        #[arg(long)]
        check: bool,
    },
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(if cli.log_json { LogFormat::Json } else { LogFormat::Text });
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Up { demo } => serve(Target::ALL.to_vec(), demo).await,
        Command::Serve { target, demo } => serve(Target::parse_list(&target)?, demo).await,
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

async fn serve(targets: Vec<Target>, demo: bool) -> anyhow::Result<ExitCode> {
    let config = HubConfig::from_env()?;
    let hub = Hub::start(&config, &targets).await?;
    if demo {
        crate::demo::load(&hub).await?;
    }
    for target in &targets {
        if let Some(url) = hub.graphql_url(*target) {
            println!("{:<10} {url}", target.name());
        }
    }
    println!("press Ctrl-C to stop");
    shutdown_signal().await;
    println!("shutting down");
    hub.shutdown().await?;
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
