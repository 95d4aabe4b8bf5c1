//! Database access: every service owns one Postgres schema (named like the service) and keeps its
//! own migrations table inside it, so services can be deployed and migrated independently while
//! sharing one database on a laptop.

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, Executor, PgConnection};

/// Default database of a local installation.
pub const DEFAULT_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/roadmap_hub";

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("invalid DATABASE_URL: {0}")]
    Url(#[source] sqlx::Error),
    #[error("cannot connect to PostgreSQL at {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("cannot create database {name}: {source}")]
    Create {
        name: String,
        #[source]
        source: sqlx::Error,
    },
    #[error("migrations of schema {schema} failed: {source}")]
    Migrate {
        schema: String,
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

/// The URL with its password hidden, for logs and errors.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme + 3], &creds[..colon], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// Creates the database named in `url` if it does not exist yet (connecting to the `postgres`
/// maintenance database to do so).
pub async fn ensure_database(url: &str) -> Result<(), DbError> {
    let options = PgConnectOptions::from_str(url).map_err(DbError::Url)?;
    let name = options.get_database().unwrap_or("postgres").to_string();
    // Try the database itself first: managed PostgreSQL often refuses connections to the
    // maintenance database, and an existing database needs nothing else.
    match options.connect().await {
        Ok(conn) => {
            conn.close().await.ok();
            return Ok(());
        }
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("3D000") => {}
        Err(source) => {
            return Err(DbError::Connect {
                url: redact_url(url),
                source,
            });
        }
    }
    let maintenance = options.clone().database("postgres");
    let mut conn = maintenance.connect().await.map_err(|source| DbError::Connect {
        url: redact_url(url),
        source,
    })?;
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(&name)
        .fetch_one(&mut conn)
        .await?;
    if !exists {
        let quoted = name.replace('"', "\"\"");
        match conn.execute(format!("CREATE DATABASE \"{quoted}\"").as_str()).await {
            Ok(_) => tracing::info!(database = %name, "created database"),
            // Two targets starting at once may race to create it; losing that race is fine.
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42P04") => {}
            Err(source) => return Err(DbError::Create { name, source }),
        }
    }
    conn.close().await.ok();
    Ok(())
}

/// Drops a database (used by tests that create one per test).
pub async fn drop_database(url: &str) -> Result<(), DbError> {
    let options = PgConnectOptions::from_str(url).map_err(DbError::Url)?;
    let name = options.get_database().unwrap_or("postgres").to_string();
    let mut conn = options
        .database("postgres")
        .connect()
        .await
        .map_err(|source| DbError::Connect {
            url: redact_url(url),
            source,
        })?;
    let quoted = name.replace('"', "\"\"");
    conn.execute(format!("DROP DATABASE IF EXISTS \"{quoted}\" WITH (FORCE)").as_str())
        .await?;
    Ok(())
}

/// A pool whose connections see the service's schema first, then `public`.
pub async fn connect_schema(url: &str, schema: &str, max_connections: u32) -> Result<PgPool, DbError> {
    let options =
        service_options(url, schema)?.log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_millis(500));
    pool(url, options, max_connections).await
}

/// Like [`connect_schema`], with statement logging off: for background tasks (the outbox relay,
/// the event consumer), whose polling must not show in logs or in the SQL statement counter.
pub async fn connect_schema_quiet(url: &str, schema: &str, max_connections: u32) -> Result<PgPool, DbError> {
    let options = service_options(url, schema)?.disable_statement_logging();
    pool(url, options, max_connections).await
}

/// The session settings of every service connection: the service's schema first, and no JIT.
/// The hub's statements are short OLTP reads whose row estimates (recursive traces) can pass
/// `jit_above_cost`; compiling them costs ~10 ms per call for no gain.
fn service_options(url: &str, schema: &str) -> Result<PgConnectOptions, DbError> {
    Ok(PgConnectOptions::from_str(url)
        .map_err(DbError::Url)?
        .options([("search_path", schema), ("jit", "off")]))
}

async fn pool(url: &str, options: PgConnectOptions, max_connections: u32) -> Result<PgPool, DbError> {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        .connect_with(options)
        .await
        .map_err(|source| DbError::Connect {
            url: redact_url(url),
            source,
        })
}

/// Creates the service's schema and applies its migrations; the migrations table lives inside the
/// schema, so each service has its own.
pub async fn migrate(pool: &PgPool, schema: &str, migrator: &Migrator) -> Result<(), DbError> {
    let mut conn: sqlx::pool::PoolConnection<sqlx::Postgres> = pool.acquire().await?;
    let quoted = schema.replace('"', "\"\"");
    // Several services migrating at once would race on CREATE SCHEMA.
    conn.execute("SELECT pg_advisory_lock(7412309)").await?;
    let result = async {
        conn.execute(format!("CREATE SCHEMA IF NOT EXISTS \"{quoted}\"").as_str())
            .await?;
        migrator.run(&mut *conn).await.map_err(|source| DbError::Migrate {
            schema: schema.to_string(),
            source,
        })
    }
    .await;
    conn.execute("SELECT pg_advisory_unlock(7412309)").await?;
    result
}

/// Connects, creates the database if needed, migrates: what every service does at start.
pub async fn prepare(url: &str, schema: &str, migrator: &Migrator, max_connections: u32) -> Result<PgPool, DbError> {
    ensure_database(url).await?;
    let pool = connect_schema(url, schema, max_connections).await?;
    migrate(&pool, schema, migrator).await?;
    Ok(pool)
}

/// A direct connection (for tools that need exactly one, like COPY or the SQL floor benchmark).
pub async fn connect_one(url: &str) -> Result<PgConnection, DbError> {
    PgConnectOptions::from_str(url)
        .map_err(DbError::Url)?
        .connect()
        .await
        .map_err(|source| DbError::Connect {
            url: redact_url(url),
            source,
        })
}

/// One row written from its serde form: the statement takes the whole row as one `jsonb`
/// parameter ([`RowWrite::row_json`]) and `jsonb_populate_record` turns it into the table's row type, so a
/// write names its columns once instead of binding them one by one. Field names are column names
/// (`#[serde(rename)]` where they differ).
pub struct RowWrite<'a> {
    pub table: &'a str,
    pub columns: &'a [&'a str],
}

impl RowWrite<'_> {
    /// `INSERT INTO table (columns) SELECT columns FROM jsonb_populate_record(NULL::table, $1)`;
    /// `returning` is appended as written (e.g. `RETURNING id`), or empty.
    pub fn insert(&self, returning: &str) -> String {
        let (table, columns) = (self.table, self.columns.join(", "));
        format!(
            "INSERT INTO {table} ({columns}) SELECT {columns} FROM jsonb_populate_record(NULL::{table}, $1) {returning}"
        )
    }

    /// `UPDATE table SET (columns but key) = (...) FROM jsonb_populate_record(NULL::table, $1) r
    /// WHERE table.key = r.key`.
    pub fn update(&self, key: &str) -> String {
        let table = self.table;
        let set: Vec<&str> = self.columns.iter().copied().filter(|c| *c != key).collect();
        let values: Vec<String> = set.iter().map(|c| format!("r.{c}")).collect();
        format!(
            "UPDATE {table} SET ({}) = ROW({}) FROM jsonb_populate_record(NULL::{table}, $1) r WHERE {table}.{key} = r.{key}",
            set.join(", "),
            values.join(", ")
        )
    }

    /// The row as the statement's parameter. A listed column the row does not serialize is an
    /// error (a renamed field must never turn into a silent NULL).
    pub fn row_json(&self, row: &impl serde::Serialize) -> crate::ServiceResult<sqlx::types::Json<serde_json::Value>> {
        let value = serde_json::to_value(row).map_err(crate::ServiceError::internal)?;
        let object = value.as_object();
        if let Some(missing) = self
            .columns
            .iter()
            .find(|c| !object.is_some_and(|o| o.contains_key(**c)))
        {
            return Err(crate::ServiceError::internal_msg(format!(
                "row for {} lacks column {missing}",
                self.table
            )));
        }
        Ok(sqlx::types::Json(value))
    }
}

#[cfg(test)]
mod tests {
    use super::redact_url;

    #[test]
    fn a_row_lacking_a_listed_column_is_refused() {
        #[derive(serde::Serialize)]
        struct Row {
            id: i32,
        }
        let write = super::RowWrite {
            table: "t",
            columns: &["id", "name"],
        };
        let err = write.row_json(&Row { id: 1 }).err().map(|e| e.message());
        assert!(err.is_some(), "a row without `name` must not be written");
        let write = super::RowWrite {
            table: "t",
            columns: &["id"],
        };
        assert_eq!(
            write.row_json(&Row { id: 1 }).ok().map(|j| j.0),
            Some(serde_json::json!({"id": 1}))
        );
        assert_eq!(
            super::RowWrite {
                table: "t",
                columns: &["id", "a", "b"]
            }
            .update("id"),
            "UPDATE t SET (a, b) = ROW(r.a, r.b) FROM jsonb_populate_record(NULL::t, $1) r WHERE t.id = r.id"
        );
    }

    #[test]
    fn hides_password_only() {
        assert_eq!(
            redact_url("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("not a url"), "not a url");
    }
}
