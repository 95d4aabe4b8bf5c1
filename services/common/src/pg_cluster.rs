//! A local PostgreSQL cluster owned by this process: the hub's embedded database when no
//! `DATABASE_URL` is configured, and the throwaway servers of tests.
//!
//! Nothing is downloaded: the server binaries installed on the machine are used
//! ([`Binaries::find`]). [`Cluster::start`] creates the data directory with `initdb` the first
//! time, then starts `postgres` through `pg_ctl -w` on a loopback port with its Unix socket inside
//! the data directory, so it never collides with a system server; the same data directory keeps
//! its data across starts. The cluster stops (`pg_ctl stop -m fast`) on [`Cluster::stop`] or when
//! dropped.
//!
//! Decisions:
//! - **Synchronous.** A start is a few child processes and seconds of waiting, done once; async
//!   callers wrap it in `spawn_blocking`. Drop must stop the server, which only works
//!   synchronously. Every child process has a deadline, so nothing here can hang.
//! - **Root.** `initdb` and `postgres` refuse to run as root (containers, CI). As root the cluster
//!   runs as an unprivileged user (the owner of an existing data directory, else `postgres`, else
//!   `nobody`): the children get that uid/gid through `CommandExt::uid`/`gid` (which also drops
//!   supplementary groups), so no `runuser`/`su` and no shell quoting are involved.
//! - **Settings** (port, listen address, socket directory, connections) go into
//!   `roadmap-hub.conf` in the data directory, included at the end of `postgresql.conf` and
//!   rewritten at every start; nothing goes through `pg_ctl -o`, which passes its argument through
//!   a shell and breaks on paths with spaces. `ALTER SYSTEM` still wins (it is read after).
//! - **One owner.** A lock file next to the data directory (`.<name>.lock`) is held while a
//!   [`Cluster`] owns it; a second process gets [`ClusterError::InUse`] instead of two processes
//!   stopping each other's server. With the lock taken, a `postmaster.pid` naming a live
//!   PostgreSQL of this data directory is an orphan of a crashed owner: it is stopped and started
//!   again with this process's settings. One naming a dead process, or a process that is not
//!   PostgreSQL (pids are reused, in containers almost always), is stale and removed with the
//!   socket lock files. [`Cluster::start_or_attach`] instead uses the server of the process
//!   holding the lock (a command beside a running hub), without ever stopping it.
//! - **Versions.** A data directory only starts with binaries of its major version (`PG_VERSION`).
//!   When the binaries were found automatically and the right version is installed elsewhere
//!   (`/usr/lib/postgresql/<N>/bin`, Homebrew's `postgresql@<N>`), that one is used; else the
//!   start is refused naming the version needed.
//! - **Locale** `C.UTF-8` (code-point order, like the project's servers, but Unicode case rules, so
//!   `ILIKE` on Cyrillic names works), falling back to `C` where that locale does not exist.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write as _};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::os::unix::fs::{DirBuilderExt as _, MetadataExt as _, PermissionsExt as _};
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The superuser `initdb` creates; it connects without a password (`trust` on loopback).
pub const SUPERUSER: &str = "postgres";
/// Default data directory when running as root.
pub const SYSTEM_DATA_DIR: &str = "/var/lib/roadmap-hub/postgres";
/// The settings file this module rewrites at every start, inside the data directory.
pub const CONF_FILE: &str = "roadmap-hub.conf";
/// The server's log, inside the data directory.
pub const LOG_FILE: &str = "postgres.log";

const INCLUDE_LINE: &str = "include_if_exists = 'roadmap-hub.conf'";
/// Where Debian and Ubuntu keep each major version's binaries (off `PATH`).
const DEBIAN_ROOT: &str = "/usr/lib/postgresql";
/// Homebrew's keg-only `postgresql@<N>` formulae (Apple silicon, Intel).
const HOMEBREW_ROOTS: [&str; 2] = ["/opt/homebrew/opt", "/usr/local/opt"];
/// Longest Unix socket path (`sun_path` is 104 bytes on macOS, 108 on Linux, with the NUL).
const MAX_SOCKET_PATH: usize = 103;
/// What the server binaries directory must hold.
const SERVER_TOOLS: [&str; 3] = ["initdb", "pg_ctl", "postgres"];

#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    #[error(
        "no PostgreSQL server binaries (initdb, pg_ctl, postgres) found in ROADMAP_PG_BIN, `pg_config --bindir`, \
         PATH or {DEBIAN_ROOT}/<N>/bin: install PostgreSQL (`apt-get install postgresql`, `brew install postgresql`) \
         or set DATABASE_URL to an existing server"
    )]
    NoBinaries,
    #[error("ROADMAP_PG_BIN={dir} has no `{tool}`: point it at the directory holding initdb, pg_ctl and postgres")]
    BadBinDir { dir: PathBuf, tool: &'static str },
    #[error(
        "data directory {data_dir} was created by PostgreSQL {needs}, but the binaries in {bin_dir} are PostgreSQL \
         {found}: install PostgreSQL {needs} (`apt-get install postgresql-{needs}`, `brew install postgresql@{needs}`) \
         and, if it is not found, set ROADMAP_PG_BIN to its bin directory; or upgrade the data directory with pg_upgrade"
    )]
    VersionMismatch {
        data_dir: PathBuf,
        needs: String,
        found: String,
        bin_dir: PathBuf,
    },
    #[error("{0} is neither empty nor a PostgreSQL data directory (no PG_VERSION): choose an empty or new directory")]
    NotADataDir(PathBuf),
    #[error(
        "data directory {data_dir} is in use by another process ({holder}); stop it first or use another directory"
    )]
    InUse { data_dir: PathBuf, holder: String },
    #[error(
        "{pid_file} names process {pid}, which is running but is not PostgreSQL of this data directory as far as can \
         be told; stop that server, or remove the file once sure no server uses the directory"
    )]
    Foreign { pid_file: PathBuf, pid: i32 },
    #[error(
        "running as root, PostgreSQL needs an unprivileged user to run as, and neither `postgres` nor `nobody` exists: \
         create one (`useradd --system postgres`) or set DATABASE_URL"
    )]
    NoUser,
    #[error(
        "{dir} is not reachable by user {user}, whom PostgreSQL runs as: choose a data directory outside it \
         (e.g. {SYSTEM_DATA_DIR}) or allow it (`chmod o+x {dir}`)"
    )]
    NotReachable { dir: PathBuf, user: String },
    #[error("no home directory (HOME is unset): pass a data directory")]
    NoHome,
    #[error("{what} failed ({status}): {detail}")]
    Command {
        what: String,
        status: String,
        detail: String,
    },
    #[error("{what} did not finish within {} s", timeout.as_secs())]
    Timeout { what: String, timeout: Duration },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },
}

fn io_err(context: impl Into<String>) -> impl FnOnce(io::Error) -> ClusterError {
    let context = context.into();
    move |source| ClusterError::Io { context, source }
}

/// A directory holding `initdb`, `pg_ctl` and `postgres`, and their version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binaries {
    dir: PathBuf,
    /// Major version as written in `PG_VERSION`: `15`, or `9.6` before PostgreSQL 10.
    major: String,
    /// Full version, e.g. `15.20`.
    version: String,
    /// Named by the user (`ROADMAP_PG_BIN`, [`Binaries::in_dir`]): never swapped for another
    /// version.
    explicit: bool,
}

impl Binaries {
    /// Finds the server binaries: `ROADMAP_PG_BIN`, then `pg_config --bindir`, then `PATH`, then
    /// the newest versioned installation (`/usr/lib/postgresql/<N>/bin`, Homebrew's
    /// `postgresql@<N>`).
    pub fn find() -> Result<Binaries, ClusterError> {
        if let Some(dir) = std::env::var_os("ROADMAP_PG_BIN").filter(|d| !d.is_empty()) {
            let dir = PathBuf::from(dir);
            // A wrong explicit setting is an error, not a reason to silently use something else.
            if let Some(tool) = SERVER_TOOLS.iter().find(|t| !is_executable(&dir.join(t))) {
                return Err(ClusterError::BadBinDir { dir, tool });
            }
            return Ok(Binaries {
                explicit: true,
                ..Binaries::probe(&dir)?
            });
        }
        if let Some(dir) = pg_config_bindir().filter(|d| has_server_tools(d)) {
            return Binaries::probe(&dir);
        }
        if let Some(dir) = on_path() {
            return Binaries::probe(&dir);
        }
        if let Some(dir) = versioned_installations().into_iter().next_back().map(|(_, dir)| dir) {
            return Binaries::probe(&dir);
        }
        Err(ClusterError::NoBinaries)
    }

    /// The binaries in `dir`, used whatever the data directory's version (refused on a mismatch).
    pub fn in_dir(dir: impl Into<PathBuf>) -> Result<Binaries, ClusterError> {
        let dir = dir.into();
        if let Some(tool) = SERVER_TOOLS.iter().find(|t| !is_executable(&dir.join(t))) {
            return Err(ClusterError::Command {
                what: format!("looking for PostgreSQL in {}", dir.display()),
                status: "missing".into(),
                detail: format!("no `{tool}` there"),
            });
        }
        Ok(Binaries {
            explicit: true,
            ..Binaries::probe(&dir)?
        })
    }

    fn probe(dir: &Path) -> Result<Binaries, ClusterError> {
        let output = run(
            Command::new(dir.join("pg_ctl")).arg("--version"),
            "pg_ctl --version",
            Duration::from_secs(20),
        )?;
        let text = String::from_utf8_lossy(&output.stdout);
        let version = parse_version(&text).ok_or_else(|| ClusterError::Command {
            what: format!("{} --version", dir.join("pg_ctl").display()),
            status: "unexpected output".into(),
            detail: text.trim().to_string(),
        })?;
        Ok(Binaries {
            dir: dir.to_path_buf(),
            major: major_of(&version),
            version,
            explicit: false,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Major version, as `PG_VERSION` writes it (`15`).
    pub fn major(&self) -> &str {
        &self.major
    }

    /// Full version (`15.20`).
    pub fn version(&self) -> &str {
        &self.version
    }

    fn tool(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

/// `15.20` from `pg_ctl (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)`; `17devel`, `16beta2` too.
fn parse_version(text: &str) -> Option<String> {
    let rest = text.split("(PostgreSQL)").nth(1)?.trim_start();
    let version: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '.')
        .collect();
    version.starts_with(|c: char| c.is_ascii_digit()).then_some(version)
}

/// The major version as `PG_VERSION` has it: `15` from `15.20` or `15beta1`, `9.6` from `9.6.24`.
fn major_of(version: &str) -> String {
    let numbers: Vec<&str> = version
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .collect();
    match numbers.as_slice() {
        [first, second, ..] if first.parse::<u32>().is_ok_and(|n| n < 10) => format!("{first}.{second}"),
        [first, ..] => first.to_string(),
        [] => version.to_string(),
    }
}

/// Sort key of a major version (`9.6` → (9, 6), `15` → (15, 0)).
fn version_key(major: &str) -> (u32, u32) {
    let mut parts = major.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn has_server_tools(dir: &Path) -> bool {
    SERVER_TOOLS.iter().all(|t| is_executable(&dir.join(t)))
}

fn pg_config_bindir() -> Option<PathBuf> {
    let output = run(
        Command::new("pg_config").arg("--bindir"),
        "pg_config --bindir",
        Duration::from_secs(20),
    )
    .ok()?;
    let dir = String::from_utf8_lossy(&output.stdout).trim().to_string();
    (!dir.is_empty()).then(|| PathBuf::from(dir))
}

/// The directory of the `initdb` found on `PATH`, following a symlink to the real installation
/// (Debian's `/usr/bin` has wrappers for client tools only; a symlinked `initdb` leads to the rest).
fn on_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        let initdb = dir.join("initdb");
        if !is_executable(&initdb) {
            continue;
        }
        if let Some(real) = fs::canonicalize(&initdb)
            .ok()
            .and_then(|p| p.parent().map(Path::to_path_buf))
            && has_server_tools(&real)
        {
            return Some(real);
        }
        if has_server_tools(&dir) {
            return Some(dir);
        }
    }
    None
}

/// Versioned installations found on the machine, oldest first: (major, bin directory).
fn versioned_installations() -> Vec<(String, PathBuf)> {
    let mut found = versioned_under(Path::new(DEBIAN_ROOT), "");
    for root in HOMEBREW_ROOTS {
        found.extend(versioned_under(Path::new(root), "postgresql@"));
    }
    found.sort_by_key(|(major, _)| version_key(major));
    found
}

/// `<root>/<prefix><N>/bin` directories holding the server tools.
fn versioned_under(root: &Path, prefix: &str) -> Vec<(String, PathBuf)> {
    let Ok(entries) = fs::read_dir(root) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let major = name.strip_prefix(prefix)?;
            if major.is_empty() || !major.chars().all(|c| c.is_ascii_digit() || c == '.') {
                return None;
            }
            let bin = entry.path().join("bin");
            has_server_tools(&bin).then(|| (major.to_string(), bin))
        })
        .collect()
}

/// The default data directory: [`SYSTEM_DATA_DIR`] as root (a system service's place, owned by
/// the unprivileged user the server runs as), else `$XDG_DATA_HOME/roadmap-hub/postgres` or
/// `~/.local/share/roadmap-hub/postgres`.
pub fn default_data_dir() -> Result<PathBuf, ClusterError> {
    if is_root() {
        return Ok(PathBuf::from(SYSTEM_DATA_DIR));
    }
    // The XDG spec says relative values are invalid and must be ignored.
    let xdg = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    let home = std::env::var_os("HOME").map(PathBuf::from).filter(|p| p.is_absolute());
    let base = match (xdg, home) {
        (Some(xdg), _) => xdg,
        (None, Some(home)) => home.join(".local/share"),
        (None, None) => return Err(ClusterError::NoHome),
    };
    Ok(base.join("roadmap-hub").join("postgres"))
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// How [`Cluster::start`] runs the server.
#[derive(Debug, Clone)]
pub struct Options {
    /// Port on 127.0.0.1; `None`: the port of the previous start if it is free, else any free one.
    pub port: Option<u16>,
    /// Binaries to use; `None`: [`Binaries::find`], switching to the data directory's version if
    /// it is installed.
    pub binaries: Option<Binaries>,
    /// When running as root: the user to run the server as (default: the data directory's owner,
    /// else `postgres`, else `nobody`).
    pub run_as: Option<String>,
    /// `max_connections`. Every subgraph pool holds up to 16 connections, four subgraphs and an
    /// `import` beside `up` come close to PostgreSQL's default of 100.
    pub max_connections: u32,
    /// `false` trades crash safety for speed (no fsync in initdb and the server): tests.
    pub durable: bool,
    /// Further `postgresql.conf` settings (name, value), written as given.
    pub settings: Vec<(String, String)>,
    /// Limit of `initdb`, of a start and of a stop.
    pub timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            port: None,
            binaries: None,
            run_as: None,
            max_connections: 200,
            durable: true,
            settings: Vec::new(),
            timeout: Duration::from_secs(60),
        }
    }
}

/// The account the server runs as when this process is root.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Account {
    name: String,
    uid: u32,
    gid: u32,
}

/// A running `postgres` of a data directory, read from its `postmaster.pid`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Running {
    pub pid: i32,
    pub port: u16,
}

/// A PostgreSQL cluster (data directory and server) owned by this process.
#[derive(Debug)]
pub struct Cluster {
    data_dir: PathBuf,
    port: u16,
    binaries: Binaries,
    account: Option<Account>,
    options: Options,
    running: bool,
    /// Held while this value owns the data directory (see the module docs).
    lock: Option<File>,
}

impl Cluster {
    /// [`Binaries::find`].
    pub fn find_binaries() -> Result<Binaries, ClusterError> {
        Binaries::find()
    }

    /// Creates the data directory if it is missing or empty, and starts the server.
    pub fn start(data_dir: impl AsRef<Path>, options: Options) -> Result<Cluster, ClusterError> {
        let data_dir = std::path::absolute(data_dir.as_ref())
            .map_err(io_err(format!("data directory {}", data_dir.as_ref().display())))?;
        let parent = data_dir
            .parent()
            .ok_or_else(|| ClusterError::NotADataDir(data_dir.clone()))?;
        fs::create_dir_all(parent).map_err(io_err(format!("creating {}", parent.display())))?;
        let lock = lock_owner(&data_dir)?;

        let initialised = data_dir.join("PG_VERSION").is_file();
        if !initialised && fs::read_dir(&data_dir).is_ok_and(|mut d| d.next().is_some()) {
            return Err(ClusterError::NotADataDir(data_dir));
        }
        let binaries = match initialised {
            true => binaries_for(&data_dir, options.binaries.clone())?,
            false => match options.binaries.clone() {
                Some(b) => b,
                None => Binaries::find()?,
            },
        };
        let account = if is_root() {
            Some(account_for(&data_dir, options.run_as.as_deref())?)
        } else {
            None
        };
        let mut cluster = Cluster {
            data_dir,
            port: 0,
            binaries,
            account,
            options,
            running: false,
            lock: Some(lock),
        };
        if let Some(account) = &cluster.account {
            check_reachable(&cluster.data_dir, account)?;
        }
        if !initialised {
            cluster.initdb()?;
        } else if let Some(account) = &cluster.account {
            // A data directory left owned by root (copied, restored) cannot be started as the
            // unprivileged user; an owner other than root is the user already chosen.
            let meta = fs::metadata(&cluster.data_dir).map_err(io_err(cluster.data_dir.display().to_string()))?;
            if meta.uid() != account.uid {
                chown_tree(&cluster.data_dir, account)?;
            }
        }
        cluster.handle_pid_file()?;
        cluster.start_server()?;
        Ok(cluster)
    }

    /// Like [`Cluster::start`]; but when another process owns the data directory (`roadmap-hub
    /// import` beside a running `up`), a handle to its server, waiting up to
    /// [`Options::timeout`] for a start under way. The handle never stops, kills or restarts
    /// that server: it is not this process's.
    pub fn start_or_attach(data_dir: impl AsRef<Path>, options: Options) -> Result<Cluster, ClusterError> {
        let data_dir = std::path::absolute(data_dir.as_ref())
            .map_err(io_err(format!("data directory {}", data_dir.as_ref().display())))?;
        let deadline = Instant::now() + options.timeout;
        loop {
            let in_use = match Cluster::start(&data_dir, options.clone()) {
                Err(e @ ClusterError::InUse { .. }) => e,
                other => return other,
            };
            if let Some(running) = Cluster::running(&data_dir)
                && answers(
                    SocketAddr::from((Ipv4Addr::LOCALHOST, running.port)),
                    Duration::from_secs(1),
                )
            {
                let binaries = match options.binaries.clone() {
                    Some(b) => b,
                    None => Binaries::find()?,
                };
                return Ok(Cluster {
                    data_dir,
                    port: running.port,
                    binaries,
                    account: None,
                    options,
                    running: false,
                    lock: None,
                });
            }
            if Instant::now() > deadline {
                return Err(in_use);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Whether this value owns the data directory (from [`Cluster::start`]), rather than being
    /// attached to another process's server.
    pub fn is_owner(&self) -> bool {
        self.lock.is_some()
    }

    /// A running server of `data_dir` (whoever started it), from its `postmaster.pid`; `None` when
    /// there is none or the file is stale.
    pub fn running(data_dir: impl AsRef<Path>) -> Option<Running> {
        let data_dir = std::path::absolute(data_dir.as_ref()).ok()?;
        let pid_file = read_pid_file(&data_dir)?;
        match process_state(pid_file.pid, &data_dir) {
            ProcessState::Postgres => Some(Running {
                pid: pid_file.pid,
                port: pid_file.port?,
            }),
            _ => None,
        }
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn binaries(&self) -> &Binaries {
        &self.binaries
    }

    /// The server's log file.
    pub fn log_file(&self) -> PathBuf {
        self.data_dir.join(LOG_FILE)
    }

    /// The unprivileged user the server runs as when this process is root.
    pub fn run_as(&self) -> Option<&str> {
        self.account.as_ref().map(|a| a.name.as_str())
    }

    /// `postgres://postgres@127.0.0.1:<port>` (no database: append `/<name>`).
    pub fn url(&self) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}", self.port)
    }

    /// The URL of database `name` on this server.
    pub fn url_for(&self, database: &str) -> String {
        format!("{}/{database}", self.url())
    }

    /// A `psql` command line connecting to this server, for the log.
    pub fn psql_command(&self) -> String {
        // Homebrew's versioned formulae and Debian's directories are off PATH: name the binary.
        let psql = self.binaries.tool("psql");
        let program = if on_path_named("psql") || !is_executable(&psql) {
            "psql".to_string()
        } else {
            shell_quote(&psql.to_string_lossy())
        };
        format!("{program} -h 127.0.0.1 -p {} -U {SUPERUSER}", self.port)
    }

    /// Like [`Cluster::psql_command`], connecting to database `name`.
    pub fn psql_command_for(&self, database: &str) -> String {
        format!("{} {}", self.psql_command(), shell_quote(database))
    }

    /// Whether this value started the server and has not stopped it.
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// The postmaster's pid, while running.
    pub fn pid(&self) -> Option<i32> {
        read_pid_file(&self.data_dir).map(|p| p.pid)
    }

    /// Stops the server (`pg_ctl stop -m fast`: open sessions are ended, committed data kept);
    /// nothing for a handle attached to another process's server.
    pub fn stop(&mut self) -> Result<(), ClusterError> {
        if !self.running {
            return Ok(());
        }
        let timeout = self.options.timeout;
        self.pg_ctl_stop(timeout)?;
        self.running = false;
        Ok(())
    }

    /// Kills the postmaster and its backends with SIGKILL, as a crash would, and waits until they
    /// are gone; `postmaster.pid` stays behind. For fault tests.
    pub fn kill(&mut self) -> Result<(), ClusterError> {
        self.check_owner("kill")?;
        let Some(pid_file) = read_pid_file(&self.data_dir) else {
            self.running = false;
            return Ok(());
        };
        let pid = pid_file.pid;
        if process_state(pid, &self.data_dir) == ProcessState::Postgres {
            // SAFETY: plain syscalls on a pid read from the cluster's own pid file and checked to
            // be a PostgreSQL process just above.
            unsafe {
                // pg_ctl starts the postmaster in its own session, so its group is the postmaster
                // and every backend: one signal for all, none left holding shared memory.
                if libc::getpgid(pid) == pid {
                    libc::kill(-pid, libc::SIGKILL);
                } else {
                    libc::kill(pid, libc::SIGKILL);
                }
            }
            let deadline = Instant::now() + Duration::from_secs(10);
            while process_state(pid, &self.data_dir) != ProcessState::Dead {
                if Instant::now() > deadline {
                    return Err(ClusterError::Timeout {
                        what: format!("killing PostgreSQL (pid {pid})"),
                        timeout: Duration::from_secs(10),
                    });
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            // Backends still exiting would hold the shared memory and fail the next start; a
            // moment is enough (zombies awaiting their reaper count as alive here, and hold
            // nothing: hence best effort).
            let deadline = Instant::now() + Duration::from_secs(2);
            while group_alive(pid) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        self.running = false;
        Ok(())
    }

    /// Starts the server again on the same port (stopping it first if it runs): after
    /// [`Cluster::stop`] or [`Cluster::kill`], URLs given out stay valid.
    pub fn restart(&mut self) -> Result<(), ClusterError> {
        self.check_owner("restart")?;
        self.stop()?;
        self.handle_pid_file()?;
        self.options.port = Some(self.port);
        self.start_server()
    }

    /// Leaves the server running when this value goes away (shared test servers) and releases
    /// ownership of the data directory; returns the server's URL.
    pub fn leave_running(mut self) -> String {
        self.running = false;
        self.url()
    }

    fn check_owner(&self, what: &str) -> Result<(), ClusterError> {
        match self.is_owner() {
            true => Ok(()),
            false => Err(ClusterError::InUse {
                data_dir: self.data_dir.clone(),
                holder: format!("another process owns it; this one may not {what} its server"),
            }),
        }
    }

    /// A command running as the server's user (as root: the unprivileged account).
    fn command(&self, program: impl AsRef<OsStr>) -> Command {
        let mut command = Command::new(program);
        // The unprivileged user may not be allowed into this process's working directory.
        command.current_dir("/");
        // A PGDATA or PGPORT of the caller must not redirect pg_ctl to another server.
        for var in ["PGDATA", "PGPORT", "PGHOST", "PGUSER", "PGDATABASE", "PGOPTIONS"] {
            command.env_remove(var);
        }
        if let Some(account) = &self.account {
            command.uid(account.uid).gid(account.gid);
            command
                .env("HOME", "/")
                .env("USER", &account.name)
                .env("LOGNAME", &account.name);
        }
        command
    }

    fn initdb(&mut self) -> Result<(), ClusterError> {
        // Each locale is tried in turn: C.UTF-8 does not exist everywhere (older macOS).
        let mut last = None;
        for locale in ["C.UTF-8", "C"] {
            self.prepare_empty_dir()?;
            let mut command = self.command(self.binaries.tool("initdb"));
            command
                .arg("-D")
                .arg(&self.data_dir)
                .args(["--auth=trust", "--username", SUPERUSER, "--encoding=UTF8"])
                .arg(format!("--locale={locale}"));
            if !self.options.durable {
                command.arg("--no-sync");
            }
            match run(&mut command, "initdb", self.options.timeout) {
                Ok(_) => {
                    let conf = self.data_dir.join("postgresql.conf");
                    let mut file = OpenOptions::new()
                        .append(true)
                        .open(&conf)
                        .map_err(io_err(format!("opening {}", conf.display())))?;
                    writeln!(
                        file,
                        "\n# Port, addresses and socket: see {CONF_FILE} (rewritten at every start).\n{INCLUDE_LINE}"
                    )
                    .map_err(io_err(format!("writing {}", conf.display())))?;
                    return Ok(());
                }
                Err(e @ ClusterError::Command { .. }) if e.to_string().contains("locale") => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or(ClusterError::NoBinaries))
    }

    /// Creates the (empty) data directory, private to the server's user as PostgreSQL requires.
    fn prepare_empty_dir(&self) -> Result<(), ClusterError> {
        if !self.data_dir.exists() {
            fs::DirBuilder::new()
                .mode(0o700)
                .create(&self.data_dir)
                .map_err(io_err(format!("creating {}", self.data_dir.display())))?;
        }
        if let Some(account) = &self.account {
            std::os::unix::fs::chown(&self.data_dir, Some(account.uid), Some(account.gid)).map_err(io_err(format!(
                "giving {} to {}",
                self.data_dir.display(),
                account.name
            )))?;
        }
        Ok(())
    }

    /// Deals with a `postmaster.pid` left by a previous run (see the module docs).
    fn handle_pid_file(&mut self) -> Result<(), ClusterError> {
        let pid_path = self.data_dir.join("postmaster.pid");
        if !pid_path.exists() {
            return Ok(());
        }
        let Some(pid_file) = read_pid_file(&self.data_dir) else {
            // Empty or garbled (a crash while writing it): nothing can be running from it.
            return self.remove_stale(&pid_path);
        };
        match process_state(pid_file.pid, &self.data_dir) {
            ProcessState::Dead | ProcessState::Other => self.remove_stale(&pid_path),
            ProcessState::Postgres => {
                // An orphan: its owner died without stopping it (we hold the owner lock).
                tracing::info!(pid = pid_file.pid, data_dir = %self.data_dir.display(),
                    "stopping a PostgreSQL left running by a previous run");
                self.pg_ctl_stop(self.options.timeout)
            }
            ProcessState::Unknown => Err(ClusterError::Foreign {
                pid_file: pid_path,
                pid: pid_file.pid,
            }),
        }
    }

    fn remove_stale(&self, pid_path: &Path) -> Result<(), ClusterError> {
        tracing::info!(file = %pid_path.display(), "removing a stale postmaster.pid (the previous server did not stop cleanly)");
        fs::remove_file(pid_path).map_err(io_err(format!("removing stale {}", pid_path.display())))?;
        // The socket lock files carry the same pid and would stop the start the same way.
        if let Ok(entries) = fs::read_dir(&self.data_dir) {
            for entry in entries.flatten() {
                if entry.file_name().to_string_lossy().starts_with(".s.PGSQL.") {
                    fs::remove_file(entry.path()).ok();
                }
            }
        }
        Ok(())
    }

    fn start_server(&mut self) -> Result<(), ClusterError> {
        let fixed = self.options.port;
        let mut attempts = 0;
        loop {
            attempts += 1;
            self.port = match fixed {
                Some(port) => port,
                None => self.choose_port(attempts == 1)?,
            };
            self.write_conf()?;
            let log = self.log_file();
            let mut command = self.command(self.binaries.tool("pg_ctl"));
            command.arg("-D").arg(&self.data_dir).arg("-l").arg(&log).args([
                "-w",
                "-t",
                &self.options.timeout.as_secs().max(1).to_string(),
                "start",
            ]);
            match run(
                &mut command,
                "pg_ctl start",
                self.options.timeout + Duration::from_secs(10),
            ) {
                Ok(_) => {
                    self.running = true;
                    return Ok(());
                }
                Err(ClusterError::Command { what, status, detail }) => {
                    let tail = log_tail(&log, 15);
                    // Another process took the free port between our check and the server's bind.
                    if fixed.is_none() && attempts < 4 && tail.contains("Address already in use") {
                        continue;
                    }
                    return Err(ClusterError::Command {
                        what: format!(
                            "{what} (data directory {}, port {})",
                            self.data_dir.display(),
                            self.port
                        ),
                        status,
                        detail: format!("{detail}\nlast lines of {}:\n{tail}", log.display()),
                    });
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The previous start's port when it is still free (stable `psql` commands and URLs across
    /// restarts), else any free one.
    fn choose_port(&self, first: bool) -> Result<u16, ClusterError> {
        if first
            && let Some(port) = previous_port(&self.data_dir)
            && port_is_free(port)
        {
            return Ok(port);
        }
        free_port()
    }

    fn write_conf(&self) -> Result<(), ClusterError> {
        let mut conf = String::from(
            "# Written by roadmap-hub at every start of this cluster: changes here are lost.\n\
             # Put your own settings in postgresql.conf (this file is included at its end).\n",
        );
        let socket = self.data_dir.join(format!(".s.PGSQL.{}", self.port));
        // Too long a path for a Unix socket: TCP only (pg_ctl -w does not need the socket).
        let socket_dir = match socket.as_os_str().len() <= MAX_SOCKET_PATH {
            true => self.data_dir.to_string_lossy().into_owned(),
            false => String::new(),
        };
        let mut settings: Vec<(String, String)> = vec![
            ("listen_addresses".into(), quote_conf("127.0.0.1")),
            ("port".into(), self.port.to_string()),
            ("unix_socket_directories".into(), quote_conf(&socket_dir)),
            ("max_connections".into(), self.options.max_connections.to_string()),
        ];
        if !self.options.durable {
            for (name, value) in [
                ("fsync", "off"),
                ("synchronous_commit", "off"),
                ("full_page_writes", "off"),
            ] {
                settings.push((name.into(), value.into()));
            }
        }
        settings.extend(self.options.settings.iter().cloned());
        for (name, value) in settings {
            conf.push_str(&format!("{name} = {value}\n"));
        }
        let path = self.data_dir.join(CONF_FILE);
        fs::write(&path, conf).map_err(io_err(format!("writing {}", path.display())))?;
        if let Some(account) = &self.account {
            std::os::unix::fs::chown(&path, Some(account.uid), Some(account.gid)).map_err(io_err(format!(
                "giving {} to {}",
                path.display(),
                account.name
            )))?;
        }
        // Data directories made before the include existed, or by another tool.
        let main = self.data_dir.join("postgresql.conf");
        let text = fs::read_to_string(&main).map_err(io_err(format!("reading {}", main.display())))?;
        if !text.lines().any(|l| l.trim() == INCLUDE_LINE) {
            let mut file = OpenOptions::new()
                .append(true)
                .open(&main)
                .map_err(io_err(format!("opening {}", main.display())))?;
            writeln!(file, "\n{INCLUDE_LINE}").map_err(io_err(format!("writing {}", main.display())))?;
        }
        Ok(())
    }

    fn pg_ctl_stop(&self, timeout: Duration) -> Result<(), ClusterError> {
        let mut command = self.command(self.binaries.tool("pg_ctl"));
        command.arg("-D").arg(&self.data_dir).args([
            "-m",
            "fast",
            "-w",
            "-t",
            &timeout.as_secs().max(1).to_string(),
            "stop",
        ]);
        match run(&mut command, "pg_ctl stop", timeout + Duration::from_secs(10)) {
            Ok(_) => Ok(()),
            // Already gone (killed, or stopped by someone else): the goal is reached.
            Err(ClusterError::Command { .. }) if Cluster::running(&self.data_dir).is_none() => Ok(()),
            Err(e) => Err(e),
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if self.running
            && let Err(e) = self.pg_ctl_stop(Duration::from_secs(30))
        {
            tracing::warn!(data_dir = %self.data_dir.display(), error = %e, "could not stop PostgreSQL");
        }
        self.lock.take();
    }
}

/// Takes the owner lock of `data_dir` (a file beside it), without waiting.
fn lock_owner(data_dir: &Path) -> Result<File, ClusterError> {
    let name = data_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let path = data_dir.with_file_name(format!(".{name}.lock"));
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(io_err(format!("opening {}", path.display())))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            file.read_to_string(&mut holder).ok();
            let holder = match holder.trim() {
                "" => format!("lock {}", path.display()),
                pid => format!("pid {pid}, lock {}", path.display()),
            };
            return Err(ClusterError::InUse {
                data_dir: data_dir.to_path_buf(),
                holder,
            });
        }
        Err(fs::TryLockError::Error(e)) => return Err(io_err(format!("locking {}", path.display()))(e)),
    }
    // The pid is only for the message above, in whoever finds the lock taken.
    file.set_len(0).ok();
    write!(file, "{}", std::process::id()).ok();
    Ok(file)
}

/// The binaries to start an existing data directory with (see [`Options::binaries`]).
fn binaries_for(data_dir: &Path, chosen: Option<Binaries>) -> Result<Binaries, ClusterError> {
    let path = data_dir.join("PG_VERSION");
    let needs = fs::read_to_string(&path)
        .map_err(io_err(format!("reading {}", path.display())))?
        .trim()
        .to_string();
    let binaries = match chosen {
        Some(b) => b,
        None => match Binaries::find() {
            Ok(b) => b,
            // Nothing on the usual paths, but maybe the exact version is installed.
            Err(ClusterError::NoBinaries) => match matching_installation(&needs) {
                Some(b) => return Ok(b),
                None => return Err(ClusterError::NoBinaries),
            },
            Err(e) => return Err(e),
        },
    };
    if binaries.major == needs {
        return Ok(binaries);
    }
    if !binaries.explicit
        && let Some(other) = matching_installation(&needs)
    {
        tracing::info!(version = %needs, bin = %other.dir.display(), "using the data directory's PostgreSQL version");
        return Ok(other);
    }
    Err(ClusterError::VersionMismatch {
        data_dir: data_dir.to_path_buf(),
        needs,
        found: binaries.major,
        bin_dir: binaries.dir,
    })
}

fn matching_installation(major: &str) -> Option<Binaries> {
    versioned_installations()
        .into_iter()
        .filter(|(m, _)| m == major)
        .find_map(|(_, dir)| Binaries::probe(&dir).ok().filter(|b| b.major == major))
}

/// The unprivileged account of a root process (see [`Options::run_as`]).
fn account_for(data_dir: &Path, run_as: Option<&str>) -> Result<Account, ClusterError> {
    if let Some(name) = run_as {
        return lookup_user(name).ok_or_else(|| ClusterError::Command {
            what: format!("looking up user {name}"),
            status: "unknown user".into(),
            detail: "no such user on this machine".into(),
        });
    }
    if let Ok(meta) = fs::metadata(data_dir)
        && data_dir.join("PG_VERSION").is_file()
        && meta.uid() != 0
    {
        let name = user_name(meta.uid()).unwrap_or_else(|| meta.uid().to_string());
        return Ok(Account {
            name,
            uid: meta.uid(),
            gid: meta.gid(),
        });
    }
    ["postgres", "nobody"]
        .into_iter()
        .find_map(lookup_user)
        .ok_or(ClusterError::NoUser)
}

/// uid and primary gid of `name` (`id`, so NSS users count too).
fn lookup_user(name: &str) -> Option<Account> {
    let id = |flag: &str| -> Option<u32> {
        let output = run(Command::new("id").args([flag, name]), "id", Duration::from_secs(10)).ok()?;
        String::from_utf8_lossy(&output.stdout).trim().parse().ok()
    };
    let uid = id("-u")?;
    // Never root: that is the one user PostgreSQL refuses.
    (uid != 0).then_some(())?;
    Some(Account {
        name: name.to_string(),
        uid,
        gid: id("-g")?,
    })
}

fn user_name(uid: u32) -> Option<String> {
    let output = run(
        Command::new("id").args(["-nu", &uid.to_string()]),
        "id",
        Duration::from_secs(10),
    )
    .ok()?;
    let name = String::from_utf8_lossy(&output.stdout).trim().to_string();
    (!name.is_empty()).then_some(name)
}

/// Every ancestor of `data_dir` must let `account` through, or initdb and postgres fail with a
/// bare "Permission denied" (a data directory under `/root` is the usual case).
fn check_reachable(data_dir: &Path, account: &Account) -> Result<(), ClusterError> {
    for dir in data_dir.ancestors().skip(1) {
        let Ok(meta) = fs::metadata(dir) else { continue };
        let mode = meta.permissions().mode();
        let passes = mode & 0o001 != 0
            || (meta.uid() == account.uid && mode & 0o100 != 0)
            || (meta.gid() == account.gid && mode & 0o010 != 0);
        if !passes {
            return Err(ClusterError::NotReachable {
                dir: dir.to_path_buf(),
                user: account.name.clone(),
            });
        }
    }
    Ok(())
}

fn chown_tree(path: &Path, account: &Account) -> Result<(), ClusterError> {
    std::os::unix::fs::lchown(path, Some(account.uid), Some(account.gid)).map_err(io_err(format!(
        "giving {} to {}",
        path.display(),
        account.name
    )))?;
    let meta = fs::symlink_metadata(path).map_err(io_err(path.display().to_string()))?;
    if meta.is_dir() {
        for entry in fs::read_dir(path).map_err(io_err(format!("reading {}", path.display())))? {
            let entry = entry.map_err(io_err(format!("reading {}", path.display())))?;
            chown_tree(&entry.path(), account)?;
        }
    }
    Ok(())
}

/// The fields of `postmaster.pid` this module uses.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PidFile {
    pid: i32,
    port: Option<u16>,
}

/// Line 1: pid, line 4: port (see PostgreSQL's `pidfile.h`).
fn parse_pid_file(text: &str) -> Option<PidFile> {
    let mut lines = text.lines();
    let pid: i32 = lines.next()?.trim().parse().ok()?;
    // A negative pid marks a single-user backend; 0 or less would signal process groups.
    let pid = pid.checked_abs().filter(|p| *p > 0)?;
    let port = lines.nth(2).and_then(|l| l.trim().parse().ok());
    Some(PidFile { pid, port })
}

fn read_pid_file(data_dir: &Path) -> Option<PidFile> {
    parse_pid_file(&fs::read_to_string(data_dir.join("postmaster.pid")).ok()?)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ProcessState {
    Dead,
    /// PostgreSQL, of the data directory asked about as far as can be told.
    Postgres,
    /// Alive, but another program, or another cluster's PostgreSQL: the pid was reused.
    Other,
    /// Alive, program unknown.
    Unknown,
}

/// What process `pid` of `data_dir`'s `postmaster.pid` is now.
fn process_state(pid: i32, data_dir: &Path) -> ProcessState {
    if pid <= 0 || pid as u32 == std::process::id() {
        return ProcessState::Dead;
    }
    // SAFETY: signal 0 only checks that the process exists and may be signalled.
    let alive = unsafe { libc::kill(pid, 0) } == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    if !alive {
        return ProcessState::Dead;
    }
    let proc = PathBuf::from(format!("/proc/{pid}"));
    if let Ok(stat) = fs::read_to_string(proc.join("stat")) {
        // A zombie (killed, not yet reaped) is as good as dead; the state follows the `(comm)`.
        if let Some(state) = stat.rsplit(')').next().and_then(|s| s.split_whitespace().next())
            && (state == "Z" || state == "X")
        {
            return ProcessState::Dead;
        }
        return match fs::read_to_string(proc.join("comm")) {
            // PostgreSQL works in its data directory: the pid may have gone to a backend of the
            // system's server. A working directory we may not read is another user's process,
            // which a server of ours (same user, or root) is not.
            Ok(comm) if is_postgres_name(comm.trim()) => match fs::read_link(proc.join("cwd")) {
                Ok(cwd) if same_dir(&cwd, data_dir) => ProcessState::Postgres,
                _ => ProcessState::Other,
            },
            Ok(_) => ProcessState::Other,
            Err(_) => ProcessState::Unknown,
        };
    }
    // No /proc (macOS): ask ps.
    match run(
        Command::new("ps").args(["-o", "comm=", "-p", &pid.to_string()]),
        "ps",
        Duration::from_secs(10),
    ) {
        Ok(output) => {
            let comm = String::from_utf8_lossy(&output.stdout);
            let name = comm.trim().rsplit('/').next().unwrap_or_default();
            if is_postgres_name(name) {
                ProcessState::Postgres
            } else {
                ProcessState::Other
            }
        }
        Err(_) => ProcessState::Unknown,
    }
}

fn is_postgres_name(name: &str) -> bool {
    name == "postgres" || name == "postmaster"
}

/// Whether any process of group `pgid` is still alive (killed backends may outlive the
/// postmaster for a moment, holding its shared memory).
fn group_alive(pgid: i32) -> bool {
    // SAFETY: signal 0 only checks existence.
    unsafe { libc::kill(-pgid, 0) == 0 }
}

fn same_dir(a: &Path, b: &Path) -> bool {
    a == b || matches!((fs::canonicalize(a), fs::canonicalize(b)), (Ok(x), Ok(y)) if x == y)
}

fn previous_port(data_dir: &Path) -> Option<u16> {
    let text = fs::read_to_string(data_dir.join(CONF_FILE)).ok()?;
    text.lines()
        .filter_map(|l| l.split_once('='))
        .find(|(k, _)| k.trim() == "port")
        .and_then(|(_, v)| v.trim().parse().ok())
}

fn port_is_free(port: u16) -> bool {
    TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_ok()
}

/// A free port on 127.0.0.1 (free now; the start retries if it is taken before the server binds).
pub fn free_port() -> Result<u16, ClusterError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(io_err("finding a free port"))?;
    Ok(listener.local_addr().map_err(io_err("finding a free port"))?.port())
}

/// Whether something accepts TCP connections at `addr` within `timeout`.
pub fn answers(addr: SocketAddr, timeout: Duration) -> bool {
    TcpStream::connect_timeout(&addr, timeout).is_ok()
}

fn quote_conf(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

fn shell_quote(value: &str) -> String {
    if !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:@=,".contains(c))
    {
        value.to_string()
    } else {
        format!("'{}'", value.replace('\'', r"'\''"))
    }
}

fn on_path_named(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| std::env::split_paths(&path).any(|d| is_executable(&d.join(program))))
}

fn log_tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}

#[derive(Debug)]
struct Output {
    stdout: Vec<u8>,
}

/// Runs `command` to completion within `timeout` (killed after it), capturing its output; a
/// non-zero exit is an error carrying stderr and stdout.
fn run(command: &mut Command, what: &str, timeout: Duration) -> Result<Output, ClusterError> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().map_err(io_err(format!("running {what}")))?;
    // Readers on threads, so a chatty child cannot fill a pipe and block; channels, so a
    // grandchild keeping a pipe open cannot block us after the child exits.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        let (tx, rx) = mpsc::channel();
        if let Some(mut pipe) = pipe {
            std::thread::spawn(move || {
                let mut buf = Vec::new();
                pipe.read_to_end(&mut buf).ok();
                tx.send(buf).ok();
            });
        }
        rx
    };
    let stdout = drain(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr = drain(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let deadline = Instant::now() + timeout;
    let status: ExitStatus = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                child.kill().ok();
                child.wait().ok();
                return Err(ClusterError::Timeout {
                    what: what.to_string(),
                    timeout,
                });
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(io_err(format!("waiting for {what}"))(e)),
        }
    };
    let collect = |rx: mpsc::Receiver<Vec<u8>>| rx.recv_timeout(Duration::from_secs(2)).unwrap_or_default();
    let stdout = collect(stdout);
    let stderr = collect(stderr);
    if status.success() {
        return Ok(Output { stdout });
    }
    let detail = [
        String::from_utf8_lossy(&stderr).trim(),
        String::from_utf8_lossy(&stdout).trim(),
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect::<Vec<_>>()
    .join("\n");
    Err(ClusterError::Command {
        what: what.to_string(),
        status: status.to_string(),
        detail,
    })
}

/// The server tests create their databases on, for every test binary of the workspace:
/// `TEST_DATABASE_SERVER` when set; else `postgres://postgres@127.0.0.1:5432` when something
/// answers there; else a cluster shared by every test process of this target directory
/// (`<target>/test-pg/data`, fsync off), started by the first test that needs it and left
/// running, so later tests and later runs reuse it (`cargo clean` removes it; stop it with
/// `pg_ctl -D target/test-pg/data stop`, as the data directory's owner).
///
/// nextest runs every test as its own process, so the start is serialised across processes by a
/// lock file (`<target>/test-pg/lock`) rather than in memory.
pub fn test_server_url() -> Result<String, ClusterError> {
    static URL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    if let Some(url) = URL.get() {
        return Ok(url.clone());
    }
    let url = find_test_server()?;
    Ok(URL.get_or_init(|| url).clone())
}

fn find_test_server() -> Result<String, ClusterError> {
    if let Some(url) = std::env::var("TEST_DATABASE_SERVER")
        .ok()
        .filter(|u| !u.trim().is_empty())
    {
        return Ok(url);
    }
    if answers(SocketAddr::from((Ipv4Addr::LOCALHOST, 5432)), Duration::from_secs(1)) {
        return Ok(format!("postgres://{SUPERUSER}@127.0.0.1:5432"));
    }
    let options = Options {
        durable: false,
        // Two test processes per core, each hub with four pools of up to 16 connections.
        max_connections: 400,
        ..Options::default()
    };
    shared_cluster(&test_dir(), options)
}

/// The URL of a cluster in `<dir>/data` shared by every process calling this with the same `dir`:
/// the first starts it (under the lock `<dir>/lock`, waited for up to three minutes) and leaves
/// it running; the others, and later runs, find it running and use it.
pub fn shared_cluster(dir: &Path, options: Options) -> Result<String, ClusterError> {
    fs::create_dir_all(dir).map_err(io_err(format!("creating {}", dir.display())))?;
    let lock_path = dir.join("lock");
    let lock = File::create(&lock_path).map_err(io_err(format!("opening {}", lock_path.display())))?;
    // Another process may be running initdb: wait for it, within a bound.
    let timeout = Duration::from_secs(180);
    let deadline = Instant::now() + timeout;
    loop {
        match lock.try_lock() {
            Ok(()) => break,
            Err(fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50))
            }
            Err(fs::TryLockError::WouldBlock) => {
                return Err(ClusterError::Timeout {
                    what: format!(
                        "waiting for {} (another process starting PostgreSQL)",
                        lock_path.display()
                    ),
                    timeout,
                });
            }
            Err(fs::TryLockError::Error(e)) => return Err(io_err(format!("locking {}", lock_path.display()))(e)),
        }
    }
    let data_dir = dir.join("data");
    if let Some(running) = Cluster::running(&data_dir)
        && answers(
            SocketAddr::from((Ipv4Addr::LOCALHOST, running.port)),
            Duration::from_secs(1),
        )
    {
        return Ok(format!("postgres://{SUPERUSER}@127.0.0.1:{}", running.port));
    }
    let cluster = Cluster::start(&data_dir, options)?;
    tracing::info!(data_dir = %data_dir.display(), psql = %cluster.psql_command(), "started a shared PostgreSQL");
    Ok(cluster.leave_running())
}

/// `<target>/test-pg`: the target directory is the ancestor of the test executable that holds
/// cargo's `CACHEDIR.TAG`; failing that, a directory per user under the temporary directory.
fn test_dir() -> PathBuf {
    let target = std::env::current_exe().ok().and_then(|exe| {
        exe.ancestors()
            .skip(1)
            .find(|dir| dir.join("CACHEDIR.TAG").is_file())
            .map(Path::to_path_buf)
    });
    match target {
        Some(target) => target.join("test-pg"),
        // SAFETY: geteuid has no preconditions.
        None => std::env::temp_dir().join(format!("roadmap-hub-test-pg-{}", unsafe { libc::geteuid() })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        assert_eq!(
            parse_version("pg_ctl (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)\n").as_deref(),
            Some("15.20")
        );
        assert_eq!(parse_version("pg_ctl (PostgreSQL) 17devel").as_deref(), Some("17devel"));
        assert_eq!(parse_version("pg_ctl (PostgreSQL) 9.6.24").as_deref(), Some("9.6.24"));
        assert_eq!(parse_version("something else 15.2"), None);
        assert_eq!(parse_version("pg_ctl (PostgreSQL) "), None);
        assert_eq!(major_of("15.20"), "15");
        assert_eq!(major_of("17devel"), "17");
        assert_eq!(major_of("16beta2"), "16");
        assert_eq!(major_of("9.6.24"), "9.6");
        assert!(version_key("9.6") < version_key("10"));
        assert!(version_key("15") < version_key("16"));
    }

    #[test]
    fn pid_files_parse() {
        let text = "4242\n/var/lib/x\n1700000000\n5433\n/var/lib/x\n127.0.0.1\n  1234  5678\nready   \n";
        assert_eq!(
            parse_pid_file(text),
            Some(PidFile {
                pid: 4242,
                port: Some(5433)
            })
        );
        // Half-written by a crash: the pid alone is enough to tell stale from running.
        assert_eq!(parse_pid_file("4242\n").map(|p| (p.pid, p.port)), Some((4242, None)));
        for garbage in ["", "\n", "abc\n/x\n", "0\n/x\n", "-0\n"] {
            assert_eq!(parse_pid_file(garbage), None, "{garbage:?}");
        }
        assert_eq!(parse_pid_file("-77\n/x\n").map(|p| p.pid), Some(77));
    }

    #[test]
    fn processes_are_told_apart() {
        assert_eq!(
            process_state(std::process::id() as i32, Path::new("/")),
            ProcessState::Dead
        );
        assert_eq!(process_state(0, Path::new("/")), ProcessState::Dead);
        assert_eq!(process_state(-1, Path::new("/")), ProcessState::Dead);
        let mut child = Command::new("sleep").arg("30").spawn().expect("sleep");
        assert_eq!(process_state(child.id() as i32, Path::new("/")), ProcessState::Other);
        child.kill().ok();
        child.wait().ok();
        assert_eq!(process_state(child.id() as i32, Path::new("/")), ProcessState::Dead);
    }

    /// A stale pid now used by another cluster's PostgreSQL (the system server's, here) is not
    /// taken for ours: stopping it would stop someone else's database.
    #[test]
    fn another_clusters_postgres_is_not_ours() {
        let system = Path::new("/var/lib/postgresql/15/main");
        let Some(pid_file) = read_pid_file(system) else {
            return; // no readable system server on this machine
        };
        assert_eq!(process_state(pid_file.pid, system), ProcessState::Postgres);
        let ours = std::env::temp_dir().join("roadmap-not-the-system-cluster");
        assert_eq!(process_state(pid_file.pid, &ours), ProcessState::Other);
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_conf("/a/it's"), "'/a/it''s'");
        assert_eq!(quote_conf(""), "''");
        assert_eq!(
            shell_quote("/usr/lib/postgresql/15/bin/psql"),
            "/usr/lib/postgresql/15/bin/psql"
        );
        assert_eq!(shell_quote("/Users/a b/psql"), "'/Users/a b/psql'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn versioned_directories_are_found_newest_last() {
        let root = std::env::temp_dir().join(format!("roadmap-pg-versions-{}", uuid::Uuid::new_v4().simple()));
        for (name, complete) in [
            ("13", true),
            ("16", true),
            ("9.6", true),
            ("17", false),
            ("common", true),
        ] {
            let bin = root.join(name).join("bin");
            fs::create_dir_all(&bin).unwrap();
            let tools: &[&str] = if complete { &SERVER_TOOLS } else { &["psql"] };
            for tool in tools {
                let path = bin.join(tool);
                fs::write(&path, "#!/bin/sh\n").unwrap();
                fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
            }
        }
        let mut found = versioned_under(&root, "");
        found.sort_by_key(|(major, _)| version_key(major));
        let majors: Vec<&str> = found.iter().map(|(m, _)| m.as_str()).collect();
        assert_eq!(majors, ["9.6", "13", "16"]);
        fs::remove_dir_all(&root).ok();
    }

    #[test]
    fn settings_file_port_is_read_back() {
        let dir = std::env::temp_dir().join(format!("roadmap-pg-conf-{}", uuid::Uuid::new_v4().simple()));
        fs::create_dir_all(&dir).unwrap();
        assert_eq!(previous_port(&dir), None);
        fs::write(
            dir.join(CONF_FILE),
            "# x\nlisten_addresses = '127.0.0.1'\nport = 54321\n",
        )
        .unwrap();
        assert_eq!(previous_port(&dir), Some(54321));
        fs::write(dir.join(CONF_FILE), "port = many\n").unwrap();
        assert_eq!(previous_port(&dir), None);
        fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn the_default_data_dir_is_absolute() {
        let dir = default_data_dir().expect("HOME or root");
        assert!(dir.is_absolute());
        assert!(dir.ends_with("roadmap-hub/postgres"));
        if is_root() {
            assert_eq!(dir, Path::new(SYSTEM_DATA_DIR));
        }
    }

    #[test]
    fn the_tests_cluster_lives_in_the_target_directory() {
        // This test binary is target/<profile>/deps/roadmap_common-<hash>.
        let dir = test_dir();
        assert!(dir.ends_with("test-pg"), "{}", dir.display());
        assert!(
            dir.parent().is_some_and(|t| t.join("CACHEDIR.TAG").is_file()),
            "{}",
            dir.display()
        );
    }

    #[test]
    fn commands_are_bounded() {
        let started = Instant::now();
        let err = run(Command::new("sleep").arg("30"), "sleep", Duration::from_millis(300)).unwrap_err();
        assert!(matches!(err, ClusterError::Timeout { .. }), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
        let err = run(
            Command::new("sh").args(["-c", "echo oops >&2; exit 3"]),
            "sh",
            Duration::from_secs(10),
        )
        .unwrap_err();
        assert!(err.to_string().contains("oops"), "{err}");
        let err = run(
            &mut Command::new("/nonexistent/program"),
            "nothing",
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(err.to_string().contains("running nothing"), "{err}");
    }
}
