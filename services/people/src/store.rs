//! SQL of the people subgraph.

use sqlx::{FromRow, PgExecutor, PgPool};
use uuid::Uuid;

use roadmap_common::ServiceResult;
use roadmap_common::db::RowWrite;

#[derive(Clone, Debug, FromRow)]
pub struct TerritoryRow {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub parent_id: Option<Uuid>,
    /// The territory's own time zone (IANA name), when set; see `crate::time_zones`.
    pub time_zone: Option<String>,
}

#[derive(Clone, Debug, FromRow)]
pub struct OrganisationRow {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub territory_id: Option<Uuid>,
    pub abbreviations: Vec<String>,
    /// The unit this one belongs to (a class's school, a staff role's class); `None` at the top.
    pub parent_id: Option<Uuid>,
    pub grade: Option<i16>,
    pub letter: Option<String>,
    pub school_year: Option<String>,
    pub pupils: Option<i32>,
    pub subject: Option<String>,
}

impl OrganisationRow {
    /// An organisation at the top (no parent, no class fields).
    pub fn top(id: Uuid, name: String, kind: String, territory_id: Option<Uuid>, abbreviations: Vec<String>) -> Self {
        Self {
            id,
            name,
            kind,
            territory_id,
            abbreviations,
            parent_id: None,
            grade: None,
            letter: None,
            school_year: None,
            pupils: None,
            subject: None,
        }
    }
}

const ORGANISATION_SELECT: &str = "SELECT o.id, o.name, o.kind, o.territory_id, \
     o.parent_id, o.grade, o.letter, o.school_year, o.pupils, o.subject, \
     COALESCE(array_agg(a.abbreviation ORDER BY a.abbreviation) FILTER (WHERE a.abbreviation IS NOT NULL), '{}') AS abbreviations \
     FROM organisation o LEFT JOIN organisation_abbreviation a ON a.organisation_id = o.id";

pub async fn territories_by_ids(pool: &PgPool, ids: &[Uuid]) -> ServiceResult<Vec<TerritoryRow>> {
    sqlx::query_as("SELECT id, name, kind, parent_id, time_zone FROM territory WHERE id = ANY($1)")
        .bind(ids)
        .fetch_all(pool)
        .await
        .map_err(Into::into)
}

/// The ancestors of each territory, nearest first, as `(territory, ancestor row)`.
pub async fn territory_ancestors(pool: &PgPool, ids: &[Uuid]) -> ServiceResult<Vec<(Uuid, TerritoryRow)>> {
    #[derive(FromRow)]
    struct Row {
        start_id: Uuid,
        #[sqlx(flatten)]
        territory: TerritoryRow,
    }
    let rows: Vec<Row> = sqlx::query_as(
        "WITH RECURSIVE up (start_id, id, depth) AS ( \
             SELECT t.id, t.parent_id, 1 FROM territory t WHERE t.id = ANY($1) AND t.parent_id IS NOT NULL \
             UNION ALL \
             SELECT up.start_id, p.parent_id, up.depth + 1 FROM up JOIN territory p ON p.id = up.id \
             WHERE p.parent_id IS NOT NULL AND up.depth < 32) \
         SELECT up.start_id, t.id, t.name, t.kind, t.parent_id, t.time_zone FROM up JOIN territory t ON t.id = up.id \
         ORDER BY up.start_id, up.depth",
    )
    .bind(ids)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.start_id, r.territory)).collect())
}

pub async fn territory_children(pool: &PgPool, parent_ids: &[Uuid]) -> ServiceResult<Vec<TerritoryRow>> {
    sqlx::query_as("SELECT id, name, kind, parent_id, time_zone FROM territory WHERE parent_id = ANY($1) ORDER BY name")
        .bind(parent_ids)
        .fetch_all(pool)
        .await
        .map_err(Into::into)
}

pub async fn list_territories(
    pool: &PgPool,
    kind: Option<&str>,
    parent: Option<Uuid>,
) -> ServiceResult<Vec<TerritoryRow>> {
    sqlx::query_as(
        "SELECT id, name, kind, parent_id, time_zone FROM territory \
         WHERE ($1::text IS NULL OR kind = $1) AND ($2::uuid IS NULL OR parent_id = $2) ORDER BY name",
    )
    .bind(kind)
    .bind(parent)
    .fetch_all(pool)
    .await
    .map_err(Into::into)
}

/// The territories of a path of names from the root down, as far as they exist (exact names,
/// each under the one before it, as `ensure_territory` matches them): `["Забайкальский край",
/// "Город Чита"]` gives the region alone when the city is not known yet.
pub async fn territory_path(pool: &PgPool, names: &[String]) -> ServiceResult<Vec<TerritoryRow>> {
    let mut found: Vec<TerritoryRow> = Vec::with_capacity(names.len());
    for name in names {
        let parent = found.last().map(|t| t.id);
        let row: Option<TerritoryRow> = sqlx::query_as(
            "SELECT id, name, kind, parent_id, time_zone FROM territory WHERE name = $1 AND parent_id IS NOT DISTINCT FROM $2",
        )
        .bind(name)
        .bind(parent)
        .fetch_optional(pool)
        .await?;
        match row {
            Some(row) => found.push(row),
            None => break,
        }
    }
    Ok(found)
}

pub async fn organisations_by_ids(pool: &PgPool, ids: &[Uuid]) -> ServiceResult<Vec<OrganisationRow>> {
    sqlx::query_as(&format!("{ORGANISATION_SELECT} WHERE o.id = ANY($1) GROUP BY o.id"))
        .bind(ids)
        .fetch_all(pool)
        .await
        .map_err(Into::into)
}

pub async fn organisations_by_territories(
    pool: &PgPool,
    territory_ids: &[Uuid],
) -> ServiceResult<Vec<OrganisationRow>> {
    sqlx::query_as(&format!(
        "{ORGANISATION_SELECT} WHERE o.territory_id = ANY($1) AND o.parent_id IS NULL GROUP BY o.id ORDER BY o.name"
    ))
    .bind(territory_ids)
    .fetch_all(pool)
    .await
    .map_err(Into::into)
}

/// Organisations whose name or abbreviation contains `search` (case-insensitive).
pub async fn search_organisations(
    pool: &PgPool,
    search: Option<&str>,
    territory: Option<Uuid>,
    limit: i64,
) -> ServiceResult<Vec<OrganisationRow>> {
    sqlx::query_as(&format!(
        "{ORGANISATION_SELECT} WHERE ($1::uuid IS NULL OR o.territory_id = $1) \
         AND ($2::text IS NULL OR o.name ILIKE '%' || $2 || '%' OR EXISTS ( \
             SELECT 1 FROM organisation_abbreviation s WHERE s.organisation_id = o.id AND s.abbreviation ILIKE $2)) \
         GROUP BY o.id ORDER BY o.name LIMIT $3"
    ))
    .bind(territory)
    .bind(search)
    .bind(limit)
    .fetch_all(pool)
    .await
    .map_err(Into::into)
}

/// The two tables of the tree's named rows, alike in their columns (id, name, kind, and where:
/// a territory's parent, an organisation's territory).
#[derive(Clone, Copy, Debug)]
pub enum Table {
    Territory,
    Organisation,
}

/// Inserts a territory under `place` (its parent) or an organisation in `place` (its territory).
pub async fn insert(
    db: impl PgExecutor<'_>,
    table: Table,
    id: Uuid,
    name: &str,
    kind: &str,
    place: Option<Uuid>,
) -> ServiceResult<()> {
    let sql = match table {
        Table::Territory => "INSERT INTO territory (id, name, kind, parent_id) VALUES ($1, $2, $3, $4)",
        Table::Organisation => "INSERT INTO organisation (id, name, kind, territory_id) VALUES ($1, $2, $3, $4)",
    };
    sqlx::query(sql)
        .bind(id)
        .bind(name)
        .bind(kind)
        .bind(place)
        .execute(db)
        .await
        .map(|_| ())
        .map_err(Into::into)
}

pub async fn insert_abbreviations(
    db: impl PgExecutor<'_>,
    organisation_id: Uuid,
    abbreviations: &[String],
) -> ServiceResult<()> {
    sqlx::query(
        "INSERT INTO organisation_abbreviation (organisation_id, abbreviation) \
         SELECT $1, unnest($2::text[]) ON CONFLICT DO NOTHING",
    )
    .bind(organisation_id)
    .bind(abbreviations)
    .execute(db)
    .await
    .map(|_| ())
    .map_err(Into::into)
}

/// Finds or creates a territory (name, parent) atomically.
pub async fn ensure_territory(
    conn: &mut sqlx::PgConnection,
    name: &str,
    kind: &str,
    parent_id: Option<Uuid>,
) -> ServiceResult<TerritoryRow> {
    sqlx::query(
        "INSERT INTO territory (id, name, kind, parent_id) VALUES ($1, $2, $3, $4) \
         ON CONFLICT ON CONSTRAINT territory_name_unique DO NOTHING",
    )
    .bind(Uuid::new_v4())
    .bind(name)
    .bind(kind)
    .bind(parent_id)
    .execute(&mut *conn)
    .await?;
    Ok(sqlx::query_as(
        "SELECT id, name, kind, parent_id, time_zone FROM territory WHERE name = $1 AND parent_id IS NOT DISTINCT FROM $2",
    )
    .bind(name)
    .bind(parent_id)
    .fetch_one(&mut *conn)
    .await?)
}

/// Sets a territory's own time zone (an IANA name already checked; `None`: inherit).
pub async fn set_territory_time_zone(db: impl PgExecutor<'_>, id: Uuid, zone: Option<&str>) -> ServiceResult<()> {
    sqlx::query("UPDATE territory SET time_zone = $2 WHERE id = $1")
        .bind(id)
        .bind(zone)
        .execute(db)
        .await
        .map(|_| ())
        .map_err(Into::into)
}

/// An organisation an import needs, before it is known whether it exists.
#[derive(Clone, Debug)]
pub struct WantedOrganisation {
    pub name: String,
    pub kind: &'static str,
    pub territory: Option<Uuid>,
    pub abbreviations: Vec<String>,
}

/// Resolves every wanted organisation to an id (see `ensureOrganisations`), in the caller's transaction.
/// Locks the territory's organisations so two imports cannot create the same one twice.
pub async fn ensure_organisations(
    tx: &mut sqlx::PgConnection,
    wanted: &[WantedOrganisation],
) -> ServiceResult<Vec<Uuid>> {
    sqlx::query("LOCK TABLE organisation IN SHARE ROW EXCLUSIVE MODE")
        .execute(&mut *tx)
        .await?;
    let mut territories: Vec<Option<Uuid>> = wanted.iter().map(|w| w.territory).collect();
    territories.sort();
    territories.dedup();
    let existing: Vec<OrganisationRow> = sqlx::query_as(&format!(
        "{ORGANISATION_SELECT} WHERE (o.territory_id = ANY($1) OR ($2 AND o.territory_id IS NULL)) \
         AND o.parent_id IS NULL GROUP BY o.id"
    ))
    .bind(territories.iter().flatten().copied().collect::<Vec<_>>())
    .bind(territories.contains(&None))
    .fetch_all(&mut *tx)
    .await?;
    let mut known: Vec<OrganisationRow> = existing;
    let mut ids = Vec::with_capacity(wanted.len());
    for w in wanted {
        let name = w.name.to_lowercase();
        let found = known.iter_mut().find(|o| {
            o.territory_id == w.territory
                && (o.name.to_lowercase() == name || w.abbreviations.iter().any(|a| o.abbreviations.contains(a)))
        });
        let id = match found {
            Some(o) => {
                let new: Vec<String> = w
                    .abbreviations
                    .iter()
                    .filter(|a| !o.abbreviations.contains(a))
                    .cloned()
                    .collect();
                if !new.is_empty() {
                    insert_abbreviations(&mut *tx, o.id, &new).await?;
                    o.abbreviations.extend(new);
                }
                o.id
            }
            None => {
                let id = Uuid::new_v4();
                insert(&mut *tx, Table::Organisation, id, &w.name, w.kind, w.territory).await?;
                insert_abbreviations(&mut *tx, id, &w.abbreviations).await?;
                known.push(OrganisationRow::top(
                    id,
                    w.name.clone(),
                    w.kind.to_string(),
                    w.territory,
                    w.abbreviations.clone(),
                ));
                id
            }
        };
        ids.push(id);
    }
    Ok(ids)
}

/// The units directly under each organisation, classes first (by grade and letter), then by name.
pub async fn organisations_by_parents(pool: &PgPool, parent_ids: &[Uuid]) -> ServiceResult<Vec<OrganisationRow>> {
    sqlx::query_as(&format!(
        "{ORGANISATION_SELECT} WHERE o.parent_id = ANY($1) GROUP BY o.id \
         ORDER BY o.grade NULLS LAST, o.letter, o.school_year, o.name"
    ))
    .bind(parent_ids)
    .fetch_all(pool)
    .await
    .map_err(Into::into)
}

/// The units above each organisation, nearest first, as `(organisation, ancestor row)`.
pub async fn organisation_ancestors(pool: &PgPool, ids: &[Uuid]) -> ServiceResult<Vec<(Uuid, OrganisationRow)>> {
    #[derive(FromRow)]
    struct Row {
        start_id: Uuid,
        #[sqlx(flatten)]
        organisation: OrganisationRow,
    }
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "WITH RECURSIVE up (start_id, id, depth) AS ( \
             SELECT o.id, o.parent_id, 1 FROM organisation o WHERE o.id = ANY($1) AND o.parent_id IS NOT NULL \
             UNION ALL \
             SELECT up.start_id, p.parent_id, up.depth + 1 FROM up JOIN organisation p ON p.id = up.id \
             WHERE p.parent_id IS NOT NULL AND up.depth < 16) \
         SELECT up.start_id, x.* FROM up \
         JOIN ({ORGANISATION_SELECT} WHERE o.id IN (SELECT id FROM up) GROUP BY o.id) x ON x.id = up.id \
         ORDER BY up.start_id, up.depth"
    ))
    .bind(ids)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.start_id, r.organisation)).collect())
}

/// A unit to write: a class, subject team or staff role under `parent`, in `territory` (its
/// school's). Field names are the columns' (`roadmap_common::db::RowWrite`).
#[derive(Clone, Debug, serde::Serialize)]
pub struct UnitRow {
    pub id: Uuid,
    pub name: String,
    pub kind: &'static str,
    #[serde(rename = "territory_id")]
    pub territory: Option<Uuid>,
    #[serde(rename = "parent_id")]
    pub parent: Uuid,
    pub grade: Option<i16>,
    pub letter: Option<String>,
    pub school_year: Option<String>,
    pub pupils: Option<i32>,
    pub subject: Option<String>,
}

const UNIT: RowWrite = RowWrite {
    table: "organisation",
    columns: &[
        "id",
        "name",
        "kind",
        "territory_id",
        "parent_id",
        "grade",
        "letter",
        "school_year",
        "pupils",
        "subject",
    ],
};

/// Inserts a unit, or (when `update`) changes the unit with its id.
pub async fn write_unit(conn: &mut sqlx::PgConnection, unit: &UnitRow, update: bool) -> ServiceResult<()> {
    let sql = if update { UNIT.update("id") } else { UNIT.insert("") };
    sqlx::query(&sql).bind(UNIT.row_json(unit)?).execute(&mut *conn).await?;
    Ok(())
}
