//! The embedded PostgreSQL cluster with real processes: initdb in a temporary directory, a free
//! port, data surviving stops, kills and restarts, a stale `postmaster.pid`, an orphaned server, a
//! second owner refused, a data directory of another major version refused. Needs PostgreSQL's
//! server binaries (any version) installed; each test is bounded by the module's command limits.

use std::fs;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use roadmap_common::pg_cluster::{self, Cluster, ClusterError, Options};
use sqlx::{Connection, PgConnection};

/// A temporary parent directory (the cluster's owner lock lives beside the data directory),
/// removed at the end; the cluster inside must be dropped (stopped) first.
struct Scratch(PathBuf);

impl Scratch {
    fn new() -> Scratch {
        let dir = std::env::temp_dir().join(format!("roadmap-pg-{}", uuid::Uuid::new_v4().simple()));
        fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    fn data(&self) -> PathBuf {
        self.0.join("data")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // A test that failed midway may have left a server running: stop it before removing.
        if let Some(running) = Cluster::running(self.data()) {
            Command::new("kill")
                .args(["-KILL", &running.pid.to_string()])
                .status()
                .ok();
        }
        fs::remove_dir_all(&self.0).ok();
    }
}

fn fast() -> Options {
    Options {
        durable: false,
        timeout: Duration::from_secs(60),
        ..Options::default()
    }
}

async fn connect(url: &str) -> PgConnection {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match PgConnection::connect(url).await {
            Ok(conn) => return conn,
            Err(e) if Instant::now() > deadline => panic!("connect {url}: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

async fn count(url: &str) -> i64 {
    let mut conn = connect(url).await;
    let n: i64 = sqlx::query_scalar("SELECT count(*) FROM kept")
        .fetch_one(&mut conn)
        .await
        .expect("count");
    conn.close().await.ok();
    n
}

fn answers(port: u16) -> bool {
    pg_cluster::answers(
        SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        Duration::from_millis(500),
    )
}

#[tokio::test]
async fn data_survives_stop_restart_and_a_new_start() {
    let scratch = Scratch::new();
    let port = pg_cluster::free_port().expect("free port");
    let mut cluster = Cluster::start(
        scratch.data(),
        Options {
            port: Some(port),
            ..fast()
        },
    )
    .expect("start");
    assert_eq!(cluster.port(), port);
    assert_eq!(cluster.url(), format!("postgres://postgres@127.0.0.1:{port}"));
    assert!(
        cluster.psql_command().contains(&format!("-p {port} -U postgres")),
        "{}",
        cluster.psql_command()
    );
    assert!(scratch.data().join("PG_VERSION").is_file());
    // The socket is in the data directory, never in /var/run/postgresql of a system server.
    assert!(scratch.data().join(format!(".s.PGSQL.{port}")).exists());

    let url = cluster.url_for("postgres");
    let mut conn = connect(&url).await;
    sqlx::query("CREATE TABLE kept (id int PRIMARY KEY, name text NOT NULL)")
        .execute(&mut conn)
        .await
        .expect("create");
    sqlx::query("INSERT INTO kept VALUES (1, 'Забайкальский край')")
        .execute(&mut conn)
        .await
        .expect("insert");
    // C.UTF-8: Cyrillic case folding works for ILIKE (organisation search).
    let found: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM kept WHERE name ILIKE '%ЗАБАЙКАЛЬСКИЙ%')")
        .fetch_one(&mut conn)
        .await
        .expect("ilike");
    assert!(found);
    conn.close().await.ok();

    cluster.stop().expect("stop");
    assert!(!cluster.is_running());
    assert!(!answers(port));
    assert!(Cluster::running(scratch.data()).is_none());

    cluster.restart().expect("restart");
    assert_eq!(cluster.port(), port, "a restart keeps the port");
    assert_eq!(count(&url).await, 1);
    drop(cluster);
    assert!(!answers(port), "drop stops the server");

    // A new owner of the same directory: no initdb, same data, the previous port again.
    let cluster = Cluster::start(scratch.data(), fast()).expect("second start");
    assert_eq!(cluster.port(), port, "the previous port is reused when free");
    assert_eq!(count(&cluster.url_for("postgres")).await, 1);
}

#[tokio::test]
async fn a_killed_server_restarts_with_its_committed_data() {
    let scratch = Scratch::new();
    // Durable: a crash must not lose what was committed.
    let mut cluster = Cluster::start(scratch.data(), Options::default()).expect("start");
    let url = cluster.url_for("postgres");
    let mut conn = connect(&url).await;
    sqlx::query("CREATE TABLE kept (id int)")
        .execute(&mut conn)
        .await
        .expect("create");
    sqlx::query("INSERT INTO kept SELECT generate_series(1, 100)")
        .execute(&mut conn)
        .await
        .expect("insert");

    cluster.kill().expect("kill");
    assert!(!cluster.is_running());
    assert!(
        scratch.data().join("postmaster.pid").exists(),
        "a crash leaves the pid file"
    );
    // The open connection sees the server gone, cleanly.
    assert!(sqlx::query("SELECT 1").execute(&mut conn).await.is_err());

    cluster.restart().expect("restart after the crash");
    assert_eq!(count(&url).await, 100);
}

#[tokio::test]
async fn a_stale_pid_file_is_removed() {
    let scratch = Scratch::new();
    let cluster = Cluster::start(scratch.data(), fast()).expect("start");
    let url = cluster.url_for("postgres");
    let mut conn = connect(&url).await;
    sqlx::query("CREATE TABLE kept (id int)")
        .execute(&mut conn)
        .await
        .expect("create");
    sqlx::query("INSERT INTO kept VALUES (1)")
        .execute(&mut conn)
        .await
        .expect("insert");
    conn.close().await.ok();
    drop(cluster);

    let pid_file = scratch.data().join("postmaster.pid");
    // The pid of a crashed server now belongs to another program (usual in containers, where
    // pids are small and reused): PostgreSQL alone would refuse to start.
    let mut other = Command::new("sleep").arg("60").spawn().expect("sleep");
    let text = format!(
        "{}\n{}\n1700000000\n5432\n{}\n127.0.0.1\n  0  0\nready   \n",
        other.id(),
        scratch.data().display(),
        scratch.data().display()
    );
    fs::write(&pid_file, &text).expect("write pid file");
    let cluster = Cluster::start(scratch.data(), fast()).expect("start over a reused pid");
    assert_eq!(count(&cluster.url_for("postgres")).await, 1);
    assert!(
        other.try_wait().expect("sleep").is_none(),
        "the other program is left alone"
    );
    other.kill().ok();
    other.wait().ok();
    drop(cluster);

    // A dead pid, and a garbled file.
    for text in ["999999999\n/x\n".to_string(), "\0\0\0".to_string()] {
        fs::write(&pid_file, text).expect("write pid file");
        let cluster = Cluster::start(scratch.data(), fast()).expect("start over a stale pid file");
        assert_eq!(count(&cluster.url_for("postgres")).await, 1);
    }
}

#[tokio::test]
async fn an_orphaned_server_is_taken_over_and_a_second_owner_refused() {
    let scratch = Scratch::new();
    let cluster = Cluster::start(scratch.data(), fast()).expect("start");

    let second = Cluster::start(scratch.data(), fast()).expect_err("a second owner");
    assert!(matches!(second, ClusterError::InUse { .. }), "{second}");
    assert!(second.to_string().contains(&std::process::id().to_string()), "{second}");

    // A second command beside the owner (`import` beside `up`) uses the same server, and leaves
    // it running.
    let mut attached = Cluster::start_or_attach(scratch.data(), fast()).expect("attach");
    assert!(!attached.is_owner() && cluster.is_owner());
    assert_eq!(attached.url(), cluster.url());
    connect(&attached.url_for("postgres")).await.close().await.ok();
    assert!(attached.kill().is_err(), "not its server to kill");
    drop(attached);
    assert!(answers(cluster.port()), "the owner's server still runs");

    // The owner goes away without stopping it, as a crashed hub would.
    let first_pid = cluster.pid().expect("pid");
    let _url = cluster.leave_running();
    let running = Cluster::running(scratch.data()).expect("still running");
    assert_eq!(running.pid, first_pid);

    let cluster = Cluster::start(scratch.data(), fast()).expect("take over");
    let pid = cluster.pid().expect("pid");
    assert_ne!(pid, first_pid, "restarted with this owner's settings");
    connect(&cluster.url_for("postgres")).await.close().await.ok();
    let port = cluster.port();
    drop(cluster);
    assert!(!answers(port));
}

#[test]
fn another_major_version_is_refused_by_name() {
    let scratch = Scratch::new();
    drop(Cluster::start(scratch.data(), fast()).expect("start"));
    fs::write(scratch.data().join("PG_VERSION"), "99\n").expect("edit PG_VERSION");
    let err = Cluster::start(scratch.data(), fast()).expect_err("version 99");
    assert!(matches!(err, ClusterError::VersionMismatch { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("PostgreSQL 99"), "{message}");
    assert!(message.contains("postgresql-99"), "{message}");
    // Refused before anything ran: nothing left behind.
    assert!(!scratch.data().join("postmaster.pid").exists());
}

#[test]
fn a_foreign_directory_and_missing_binaries_are_refused() {
    let scratch = Scratch::new();
    fs::create_dir_all(scratch.data()).expect("dir");
    fs::write(scratch.data().join("notes.txt"), "mine").expect("file");
    let err = Cluster::start(scratch.data(), fast()).expect_err("not a data dir");
    assert!(matches!(err, ClusterError::NotADataDir(_)), "{err}");
    assert_eq!(
        fs::read_to_string(scratch.data().join("notes.txt")).expect("untouched"),
        "mine"
    );

    let err = pg_cluster::Binaries::in_dir(Path::new("/nonexistent/bin")).expect_err("no binaries");
    assert!(err.to_string().contains("initdb"), "{err}");
}

/// `ROADMAP_PG_BIN` and the no-binaries message, in a child process (environment variables are
/// process-wide, and the other tests here run in parallel threads).
#[test]
fn binaries_are_found_and_their_absence_explained() {
    if let Ok(mode) = std::env::var("PG_CLUSTER_TEST_CHILD") {
        let result = pg_cluster::Binaries::find();
        match mode.as_str() {
            // Nothing on PATH: Debian's versioned directories are the last resort; without them,
            // the one message.
            "none" => match result {
                Ok(found) => assert!(found.dir().starts_with("/usr/lib/postgresql"), "{found:?}"),
                Err(err) => {
                    let text = err.to_string();
                    assert!(
                        text.contains("apt-get install postgresql") && text.contains("DATABASE_URL"),
                        "{text}"
                    );
                }
            },
            "bad" => {
                let err = result.expect_err("a bad ROADMAP_PG_BIN");
                assert!(err.to_string().contains("ROADMAP_PG_BIN=/nonexistent"), "{err}");
            }
            _ => unreachable!(),
        }
        return;
    }
    let found = pg_cluster::Binaries::find().expect("PostgreSQL is installed where these tests run");
    assert!(found.dir().join("initdb").exists());
    assert!(found.major().parse::<u32>().is_ok(), "{}", found.major());

    let exe = std::env::current_exe().expect("test binary");
    let run = |mode: &str, envs: &[(&str, &str)]| {
        let output = Command::new(&exe)
            .args([
                "--exact",
                "binaries_are_found_and_their_absence_explained",
                "--nocapture",
            ])
            .env("PG_CLUSTER_TEST_CHILD", mode)
            .env_remove("ROADMAP_PG_BIN")
            .envs(envs.iter().copied())
            .output()
            .expect("child test");
        assert!(
            output.status.success(),
            "{mode}: {}",
            String::from_utf8_lossy(&output.stdout)
        );
    };
    run("bad", &[("ROADMAP_PG_BIN", "/nonexistent")]);
    let empty = std::env::temp_dir().join(format!("roadmap-empty-{}", uuid::Uuid::new_v4().simple()));
    fs::create_dir_all(&empty).expect("empty dir");
    run("none", &[("PATH", empty.to_str().expect("utf-8"))]);
    fs::remove_dir_all(&empty).ok();
}

/// `shared_cluster` from several processes at once (as nextest runs tests): one server, started
/// once, the same URL for all, still running after they exit.
#[test]
fn a_shared_cluster_is_started_once_across_processes() {
    if let Ok(dir) = std::env::var("PG_CLUSTER_SHARED_DIR") {
        let url = pg_cluster::shared_cluster(Path::new(&dir), fast()).expect("shared cluster");
        println!("URL={url}");
        return;
    }
    let scratch = Scratch::new();
    let exe = std::env::current_exe().expect("test binary");
    let children: Vec<_> = (0..3)
        .map(|_| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "a_shared_cluster_is_started_once_across_processes",
                    "--nocapture",
                ])
                .env("PG_CLUSTER_SHARED_DIR", &scratch.0)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("child")
        })
        .collect();
    let mut urls: Vec<String> = children
        .into_iter()
        .map(|child| {
            let output = child.wait_with_output().expect("child output");
            let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
            assert!(
                output.status.success(),
                "{stdout}{}",
                String::from_utf8_lossy(&output.stderr)
            );
            stdout
                .lines()
                .find_map(|l| l.strip_prefix("URL="))
                .expect("a URL line")
                .to_string()
        })
        .collect();
    urls.dedup();
    assert_eq!(urls.len(), 1, "one server for all: {urls:?}");
    let running = Cluster::running(scratch.data()).expect("left running");
    assert!(urls[0].ends_with(&format!(":{}", running.port)));
    assert!(answers(running.port));
    // A later caller finds it without starting anything.
    assert_eq!(pg_cluster::shared_cluster(&scratch.0, fast()).expect("again"), urls[0]);
    assert_eq!(Cluster::running(scratch.data()).map(|r| r.pid), Some(running.pid));

    // Taking it over and dropping it stops it (Scratch would kill it otherwise).
    drop(Cluster::start(scratch.data(), fast()).expect("take over"));
    assert!(Cluster::running(scratch.data()).is_none());
}

/// As root the server runs as an unprivileged user, who must be able to reach the data
/// directory: a private parent is named instead of a bare "Permission denied" from initdb.
#[test]
fn an_unreachable_data_directory_is_named() {
    use std::os::unix::fs::PermissionsExt as _;
    let scratch = Scratch::new();
    let private = scratch.0.join("private");
    fs::create_dir_all(&private).expect("dir");
    fs::set_permissions(&private, fs::Permissions::from_mode(0o700)).expect("chmod");
    let result = Cluster::start(private.join("data"), fast());
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if root {
        let err = result.expect_err("unreachable as the unprivileged user");
        assert!(matches!(err, ClusterError::NotReachable { .. }), "{err}");
        assert!(err.to_string().contains(&private.display().to_string()), "{err}");
    } else {
        // Our own directory: no other user involved.
        drop(result.expect("start"));
    }
}
