//! What a target is: one [`Descriptor`] per target (each subgraph crate, the gateway, the web
//! front-end), and what the hub hands it when it starts ([`Deps`]) and gets back ([`Started`]).
//!
//! The hub (`roadmap_hub::targets`) keeps the registry, binds every listener first (so targets
//! that call each other know the addresses), prepares each target's database schema, starts the
//! targets in dependency order and stops them in reverse. Everything a target does beyond that
//! (its routes, its background tasks) is in its `start`; adding a target is one descriptor.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures::future::BoxFuture;
use sqlx::PgPool;
use tokio::sync::{mpsc, watch};

use crate::auth::GatewaySecret;
use crate::config::HubConfig;
use crate::outbox::InProcessBatch;

/// A target of the `roadmap-hub` binary.
pub struct Descriptor {
    /// Target name (`serve --target <name>`), also its Postgres schema and its key in the
    /// supergraph and in `[ports]` / `[urls]`.
    pub name: &'static str,
    pub default_port: u16,
    /// One line for `--help` and the README.
    pub about: &'static str,
    /// The service's migrations (its own Postgres schema); `None`: no database.
    pub migrator: Option<&'static sqlx::migrate::Migrator>,
    /// The subgraph's SDL; `None`: not a subgraph of the supergraph.
    pub sdl: Option<fn() -> String>,
    /// Writes events to an outbox: the hub runs its relay.
    pub produces_events: bool,
    /// Reads the event stream (gets the in-process channel, or Redis).
    pub consumes_events: bool,
    /// Targets that must be started (and ready) before this one when they run in the same
    /// process: the gateway after the subgraphs, the web front-end after the gateway.
    pub depends_on: &'static [&'static str],
    /// Targets whose URL this one calls (local or `urls.<name>`); no start order implied.
    pub calls: &'static [&'static str],
    /// Serves `/graphql`, `/health`, `/ready`, `/metrics` with the common ops layer (subgraphs).
    pub ops: bool,
    /// The path `up` prints and other targets call (`/graphql` for the API, `/` for pages).
    pub home: &'static str,
    pub start: fn(Deps) -> BoxFuture<'static, anyhow::Result<Started>>,
}

impl Descriptor {
    pub fn is_subgraph(&self) -> bool {
        self.sdl.is_some()
    }
}

impl std::fmt::Debug for Descriptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// What a starting target gets from the hub.
pub struct Deps {
    pub config: Arc<HubConfig>,
    /// The target's pool (its schema migrated) when it has a migrator.
    pub pool: Option<PgPool>,
    /// The listener bound for it: targets that serve an axum router leave it to the hub
    /// ([`Started::router`]), others (the gateway) take it ([`Deps::take_listener`]).
    listener: Arc<Mutex<Option<tokio::net::TcpListener>>>,
    /// URL of every target by name (`http://host:port/graphql` for subgraphs and the gateway):
    /// the local address when this process runs it, else `urls.<name>`, else the default port.
    pub urls: HashMap<String, String>,
    pub shutdown: watch::Receiver<bool>,
    pub(crate) events: EventChannel,
}

impl Deps {
    pub fn new(
        config: Arc<HubConfig>,
        pool: Option<PgPool>,
        listener: Arc<Mutex<Option<tokio::net::TcpListener>>>,
        urls: HashMap<String, String>,
        shutdown: watch::Receiver<bool>,
        events: EventChannel,
    ) -> Self {
        Self {
            config,
            pool,
            listener,
            urls,
            shutdown,
            events,
        }
    }

    /// The target's pool; an error for a descriptor without a migrator.
    pub fn pool(&self) -> anyhow::Result<PgPool> {
        self.pool
            .clone()
            .ok_or_else(|| anyhow::anyhow!("this target has no database"))
    }

    /// The listener the hub bound for this target, once (for targets that serve it themselves).
    pub fn take_listener(&self) -> Option<tokio::net::TcpListener> {
        self.listener.lock().ok().and_then(|mut l| l.take())
    }

    /// The URL of another target (see [`Deps::urls`]); empty when unknown.
    pub fn url(&self, target: &str) -> String {
        self.urls.get(target).cloned().unwrap_or_default()
    }

    pub fn secret(&self) -> GatewaySecret {
        self.config.gateway_secret.clone()
    }

    /// The receiving end of the in-process event channel (no Redis), once: the events target
    /// takes it.
    pub fn take_in_process_receiver(&self) -> Option<mpsc::UnboundedReceiver<InProcessBatch>> {
        self.events.receiver.lock().ok().and_then(|mut r| r.take())
    }

    /// A future that resolves when the hub stops this target.
    pub fn stopped(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.shutdown.clone();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
        }
    }
}

/// The in-process event channel of one hub: relays send, the events target receives.
#[derive(Clone)]
pub struct EventChannel {
    pub sender: mpsc::UnboundedSender<InProcessBatch>,
    receiver: Arc<Mutex<Option<mpsc::UnboundedReceiver<InProcessBatch>>>>,
}

impl EventChannel {
    pub fn new() -> Self {
        let (sender, receiver) = crate::outbox::in_process_channel();
        Self {
            sender,
            receiver: Arc::new(Mutex::new(Some(receiver))),
        }
    }
}

impl Default for EventChannel {
    fn default() -> Self {
        Self::new()
    }
}

/// A background task of a target; it must return when the target's shutdown signal fires.
pub type Task = BoxFuture<'static, ()>;

/// How the hub stops what a target runs itself (the gateway's router thread).
pub type Stop = Box<dyn FnOnce() -> BoxFuture<'static, anyhow::Result<()>> + Send>;

/// What a started target hands back.
#[derive(Default)]
pub struct Started {
    /// Served by the hub on the target's listener until shutdown (with the ops layer when
    /// [`Descriptor::ops`]).
    pub router: Option<axum::Router>,
    /// Background tasks (`(what, task)`), awaited at shutdown.
    pub tasks: Vec<(&'static str, Task)>,
    /// How to stop what the target runs itself (the gateway's router thread); called before
    /// its shutdown signal.
    pub stop: Option<Stop>,
    /// The address it serves on when it bound its own listener.
    pub addr: Option<std::net::SocketAddr>,
}

impl Started {
    pub fn router(router: axum::Router) -> Self {
        Self {
            router: Some(router),
            ..Self::default()
        }
    }

    pub fn with_task(
        mut self,
        what: &'static str,
        task: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Self {
        self.tasks.push((what, Box::pin(task)));
        self
    }
}
