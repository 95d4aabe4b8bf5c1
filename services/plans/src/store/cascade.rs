//! Links between measures, traces along them, parent plans and link candidates.

use std::sync::Arc;

use sqlx::postgres::PgRow;
use sqlx::{FromRow, PgPool, Postgres, Row, Transaction};
use uuid::Uuid;

use roadmap_common::ServiceResult;

use super::measure::ROLLED_PROGRESS;
use super::{MEASURE_COLUMNS, MeasureRow, PLAN_COLUMNS, PlanRow, StatusRow};

#[derive(Clone, Debug, FromRow)]
pub struct LinkRow {
    pub id: Uuid,
    pub measure_id: Uuid,
    pub implements_id: Uuid,
    pub state: String,
    pub score: Option<f64>,
    pub created_by: String,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub decided_by: Option<String>,
    pub decided_at: Option<chrono::DateTime<chrono::Utc>>,
}

const LINK_COLUMNS: &str =
    "id, measure_id, implements_id, state, score, created_by, created_at, decided_by, decided_at";

/// One edge reached by a trace: `depth` 1 is a direct link of a root.
#[derive(Clone, Debug, FromRow)]
pub struct TraceRow {
    pub root: Uuid,
    pub depth: i32,
    pub link_id: Uuid,
    pub measure_id: Uuid,
    pub implements_id: Uuid,
}

impl TraceRow {
    /// Where the row comes in its trace: by root, depth, reached measure and link, so the same
    /// trace lists its nodes in the same order however its statement is planned. The rows are
    /// sorted here, not by the statement: sorting a trace of ~600 wide rows cost Postgres about
    /// 0.7 ms, a tenth of the statement (README "Side by side with PostGraphile"); uuids order
    /// alike in both (by their bytes).
    pub fn order(&self, direction: Direction) -> (Uuid, i32, Uuid, Uuid) {
        let reached = match direction {
            Direction::Down => self.measure_id,
            Direction::Up => self.implements_id,
        };
        (self.root, self.depth, reached, self.link_id)
    }
}

/// Which way a trace follows links.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// To the measures that implement the roots (lower levels).
    Down,
    /// To the measures the roots implement (higher levels), up to the top.
    Up,
}

/// What a trace statement reads besides the edges.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct NodeReads {
    /// The measure columns read, a bit per column of [`MEASURE_COLUMNS`] in its order (see
    /// [`NodeReads::with_columns`]; `id`, `plan_id` and `due_on` are always read); the others
    /// are left as [`MeasureRow::manual`] leaves them. The fields the
    /// look-ahead found asked decide (`crate::graphql::Measure`'s trace): the columns their
    /// resolvers read, every column for a field whose resolver is not checked.
    pub columns: u32,
    /// The depths whose reached plans are read whole: bit `d` for depth `d` (`plan { ... }` asked
    /// at that level). Every node's plan state and territory are read anyway (who may see it).
    pub plan_depths: u32,
    /// The rolled-up progress is read (`rolledProgress` asked at some level): a primary-key read
    /// of `measure_rollup` per node. Otherwise the statuses read carry none
    /// ([`StatusRow::rolled_read`] false).
    pub rolled: bool,
}

impl NodeReads {
    /// Every column of the reached measures, their rolled-up progress and plans at no depth.
    pub const WHOLE: NodeReads = NodeReads {
        columns: u32::MAX,
        plan_depths: 0,
        rolled: true,
    };

    /// What two readers need together.
    pub fn union(self, other: NodeReads) -> NodeReads {
        NodeReads {
            columns: self.columns | other.columns,
            plan_depths: self.plan_depths | other.plan_depths,
            rolled: self.rolled || other.rolled,
        }
    }

    /// These reads and the columns named (of [`MEASURE_COLUMNS`]); `None` when one is no
    /// column.
    pub fn with_columns(self, names: &[&str]) -> Option<NodeReads> {
        let mut columns = self.columns;
        for name in names {
            columns |= 1 << measure_columns().position(|c| c == *name)?;
        }
        Some(NodeReads { columns, ..self })
    }

    /// The measure columns read besides `id`, `plan_id` and `due_on` (always read: who may see
    /// the node, the tree, and OVERDUE, which the node's [`StatusRow`] derives from the due day),
    /// in the order of [`MEASURE_COLUMNS`].
    pub fn optional_columns(self) -> impl Iterator<Item = &'static str> {
        measure_columns()
            .enumerate()
            .filter(move |&(i, c)| self.columns & (1 << i) != 0 && !ALWAYS_READ.contains(&c))
            .map(|(_, c)| c)
    }

    /// Every column of the rows is read: they are whole [`MeasureRow`]s.
    pub fn whole_rows(self) -> bool {
        measure_columns().enumerate().all(|(i, _)| self.columns & (1 << i) != 0)
    }
}

/// The measure columns every trace statement reads.
const ALWAYS_READ: [&str; 3] = ["id", "plan_id", "due_on"];

fn measure_columns() -> impl Iterator<Item = &'static str> {
    MEASURE_COLUMNS.split(", ")
}

/// The SQL of a trace in `direction` (`$1` roots, `$2` depth): the edges only (`nodes` `None`),
/// or with the reached measures, statuses, plan states and, at the depths in `$3`
/// ([`NodeReads::plan_depths`]), plans ([`TraceNodeRow`]). Public so a test can `EXPLAIN` exactly
/// what the hub runs.
pub fn trace_statement(direction: Direction, nodes: Option<NodeReads>) -> String {
    // A link is followed from its `from` end to its `to` end.
    let (from, to) = match direction {
        Direction::Down => ("implements_id", "measure_id"),
        Direction::Up => ("measure_id", "implements_id"),
    };
    let traversal = format!(
        "WITH RECURSIVE t(root, depth, link_id, measure_id, implements_id, path) AS ( \
           SELECT l.{from}, 1, l.id, l.measure_id, l.implements_id, ARRAY[l.{from}, l.{to}] \
             FROM measure_link l WHERE l.{from} = ANY($1) AND l.state <> 'REJECTED' \
           UNION ALL \
           SELECT t.root, t.depth + 1, l.id, l.measure_id, l.implements_id, t.path || l.{to} \
             FROM measure_link l JOIN t ON l.{from} = t.{to} \
            WHERE t.depth < $2 AND l.state <> 'REJECTED' AND NOT l.{to} = ANY(t.path))"
    );
    let Some(reads) = nodes else {
        return format!("{traversal} SELECT root, depth, link_id, measure_id, implements_id FROM t");
    };
    let rolled = match reads.rolled {
        true => format!("{ROLLED_PROGRESS}, true AS rolled_read"),
        false => "NULL::float8 AS rolled_progress, false AS rolled_read".to_string(),
    };
    let columns: String = reads.optional_columns().map(|c| format!(", m.{c}")).collect();
    // Rows in no order: the caller sorts them ([`TraceRow::order`]). Measures (with their plan's
    // state, territory and zone) by primary key per edge (LATERAL: a nested loop whatever the recursive part's row
    // estimate); a plan's columns on the nodes of the depths asked (no window to send each plan
    // once: at the level that asks, plans are mostly distinct, and the sort cost more than the
    // repeats). The columns come in the order [`trace_nodes`] decodes them.
    format!(
        "{traversal} \
         SELECT t.root, t.depth, t.link_id, t.measure_id, t.implements_id, m.*, \
                CASE WHEN ($3::int4 >> t.depth) & 1 = 1 \
                     THEN (SELECT to_jsonb(p) FROM (SELECT {PLAN_COLUMNS} FROM plan WHERE id = m.plan_id) p) END AS plan \
         FROM t CROSS JOIN LATERAL ( \
             SELECT m.id, m.plan_id, m.due_on{columns}, m.status, m.progress::float8 AS progress, \
                    m.weight::float8 AS weight, {rolled}, p.time_zone, p.state AS plan_state, \
                    p.territory_id AS plan_territory_id \
             FROM measure m JOIN plan p ON p.id = m.plan_id WHERE m.id = t.{to}) m"
    )
}

/// A node reached by a trace with what its fields read: the edge, the reached measure's row
/// (the columns of [`NodeReads::columns`]; the others as [`MeasureRow::manual`] leaves them) and
/// status, who may see it (its plan's state and territory), and its plan (on the nodes of the
/// depths asked). The row and the plan are shared (`Arc`): a trace hands them to the request's
/// tree and loaders without a copy per node.
#[derive(Clone, Debug)]
pub struct TraceNodeRow {
    pub edge: TraceRow,
    pub measure: Arc<MeasureRow>,
    pub status: StatusRow,
    pub plan_state: String,
    pub plan_territory_id: Option<Uuid>,
    pub plan: Option<Arc<PlanRow>>,
}

/// Reads the next column of a row, in the order of the statement.
struct Columns<'r> {
    row: &'r PgRow,
    next: usize,
}

impl<'r> Columns<'r> {
    fn get<T: sqlx::Decode<'r, Postgres> + sqlx::Type<Postgres>>(&mut self) -> Result<T, sqlx::Error> {
        self.next += 1;
        self.row.try_get(self.next - 1)
    }
}

/// Sets one optional measure column from the next column of a row.
type SetColumn = for<'r> fn(&mut MeasureRow, &mut Columns<'r>) -> Result<(), sqlx::Error>;

/// How each optional column ([`NodeReads::optional_columns`]) is set, found once per statement
/// rather than per row and column.
fn column_setters(reads: NodeReads) -> Result<Vec<SetColumn>, sqlx::Error> {
    reads
        .optional_columns()
        .map(|column| {
            // The columns are the row's fields of the same names.
            macro_rules! setters {
                ($($field:ident),+) => {
                    match column {
                        $(stringify!($field) => |m, c| {
                            m.$field = c.get()?;
                            Ok(())
                        },)+
                        other => return Err(sqlx::Error::ColumnNotFound(other.to_string())),
                    }
                };
            }
            let set: SetColumn = setters!(
                section_id,
                parent_measure_id,
                position,
                number,
                title,
                schedule_text,
                expected_result,
                responsible_text,
                key,
                kind,
                schedule,
                schedule_kind,
                starts_on,
                reporting_forms,
                notes,
                indicator_text,
                targets,
                parties,
                source_line,
                extra
            );
            Ok(set)
        })
        .collect()
}

impl TraceNodeRow {
    /// A row of [`trace_statement`] whose optional columns are set by `columns`
    /// ([`column_setters`] of its reads), its columns by position (the statement's order; no
    /// lookup by name per column and row).
    fn decode(row: &PgRow, columns: &[SetColumn]) -> Result<TraceNodeRow, sqlx::Error> {
        let mut c = Columns { row, next: 0 };
        let edge = TraceRow {
            root: c.get()?,
            depth: c.get()?,
            link_id: c.get()?,
            measure_id: c.get()?,
            implements_id: c.get()?,
        };
        let (id, plan_id) = (c.get()?, c.get()?);
        let mut m = MeasureRow::manual(id, plan_id, 0, String::new(), String::new());
        m.due_on = c.get()?;
        for set in columns {
            set(&mut m, &mut c)?;
        }
        let status = StatusRow {
            id,
            status: c.get()?,
            progress: c.get()?,
            weight: c.get()?,
            rolled_progress: c.get()?,
            rolled_read: c.get()?,
            due_on: m.due_on,
            time_zone: c.get()?,
        };
        Ok(TraceNodeRow {
            edge,
            measure: Arc::new(m),
            status,
            plan_state: c.get()?,
            plan_territory_id: c.get()?,
            plan: c.get::<Option<sqlx::types::Json<PlanRow>>>()?.map(|p| Arc::new(p.0)),
        })
    }
}

/// Every non-rejected link from the roots in `direction`, down to `max_depth`, in one statement
/// whatever the size of the tree. Paths never revisit a measure.
pub async fn trace(
    pool: &PgPool,
    direction: Direction,
    roots: &[Uuid],
    max_depth: i32,
) -> ServiceResult<Vec<TraceRow>> {
    let mut rows: Vec<TraceRow> = sqlx::query_as(&trace_statement(direction, None))
        .bind(roots)
        .bind(max_depth)
        .fetch_all(pool)
        .await?;
    rows.sort_unstable_by_key(|r| r.order(direction));
    Ok(rows)
}

/// [`trace`] with every reached node read as `reads` says, in the same one statement.
pub async fn trace_nodes(
    pool: &PgPool,
    direction: Direction,
    roots: &[Uuid],
    max_depth: i32,
    reads: NodeReads,
) -> ServiceResult<Vec<TraceNodeRow>> {
    let rows = sqlx::query(&trace_statement(direction, Some(reads)))
        .bind(roots)
        .bind(max_depth)
        .bind(reads.plan_depths as i32)
        .fetch_all(pool)
        .await?;
    let columns = column_setters(reads)?;
    let mut nodes = Vec::with_capacity(rows.len());
    for row in &rows {
        nodes.push(TraceNodeRow::decode(row, &columns)?);
    }
    nodes.sort_unstable_by_key(|n| n.edge.order(direction));
    Ok(nodes)
}

pub async fn links_by_ids(pool: &PgPool, ids: &[Uuid]) -> ServiceResult<Vec<LinkRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {LINK_COLUMNS} FROM measure_link WHERE id = ANY($1)"))
            .bind(ids)
            .fetch_all(pool)
            .await?,
    )
}

/// Would linking `measure` → `implements` close a cycle (is `measure` already above `implements`)?
pub async fn creates_cycle(tx: &mut Transaction<'_, Postgres>, measure: Uuid, implements: Uuid) -> ServiceResult<bool> {
    Ok(sqlx::query_scalar(
        "WITH RECURSIVE up(id) AS ( \
           SELECT implements_id FROM measure_link WHERE measure_id = $1 AND state <> 'REJECTED' \
           UNION SELECT l.implements_id FROM measure_link l JOIN up ON l.measure_id = up.id WHERE l.state <> 'REJECTED') \
         SELECT $1 = $2 OR EXISTS (SELECT 1 FROM up WHERE id = $2)",
    )
    .bind(implements)
    .bind(measure)
    .fetch_one(&mut **tx)
    .await?)
}

pub async fn is_parent_plan(tx: &mut Transaction<'_, Postgres>, plan: Uuid, parent: Uuid) -> ServiceResult<bool> {
    Ok(
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM plan_parent WHERE plan_id = $1 AND parent_plan_id = $2)")
            .bind(plan)
            .bind(parent)
            .fetch_one(&mut **tx)
            .await?,
    )
}

pub async fn upsert_link(tx: &mut Transaction<'_, Postgres>, link: &LinkRow) -> ServiceResult<LinkRow> {
    Ok(sqlx::query_as(&format!(
        "INSERT INTO measure_link ({LINK_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT ON CONSTRAINT measure_link_unique DO UPDATE SET state = EXCLUDED.state, \
            score = COALESCE(EXCLUDED.score, measure_link.score), decided_by = EXCLUDED.decided_by, \
            decided_at = EXCLUDED.decided_at \
         RETURNING {LINK_COLUMNS}"
    ))
    .bind(link.id)
    .bind(link.measure_id)
    .bind(link.implements_id)
    .bind(&link.state)
    .bind(link.score)
    .bind(&link.created_by)
    .bind(link.created_at)
    .bind(&link.decided_by)
    .bind(link.decided_at)
    .fetch_one(&mut **tx)
    .await?)
}

pub async fn set_link_state(
    tx: &mut Transaction<'_, Postgres>,
    id: Uuid,
    state: &str,
    by: &str,
) -> ServiceResult<Option<LinkRow>> {
    Ok(sqlx::query_as(&format!(
        "UPDATE measure_link SET state = $2, decided_by = $3, decided_at = now() WHERE id = $1 RETURNING {LINK_COLUMNS}"
    ))
    .bind(id)
    .bind(state)
    .bind(by)
    .fetch_optional(&mut **tx)
    .await?)
}

pub async fn add_plan_parent(tx: &mut Transaction<'_, Postgres>, plan: Uuid, parent: Uuid) -> ServiceResult<()> {
    sqlx::query("INSERT INTO plan_parent (plan_id, parent_plan_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(plan)
        .bind(parent)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn plan_parents(pool: &PgPool, plan_ids: &[Uuid]) -> ServiceResult<Vec<(Uuid, Uuid)>> {
    Ok(
        sqlx::query_as("SELECT plan_id, parent_plan_id FROM plan_parent WHERE plan_id = ANY($1)")
            .bind(plan_ids)
            .fetch_all(pool)
            .await?,
    )
}

/// (id, title) of the measures a measure of `plan_id` could be linked to: of its declared parent
/// plans (`scope` = "PARENTS"), of plans of a higher level ("HIGHER"), or of any other plan.
pub async fn link_candidates(pool: &PgPool, plan_id: Uuid, scope: &str) -> ServiceResult<Vec<(Uuid, String)>> {
    Ok(sqlx::query_as(
        "WITH me AS (SELECT level FROM plan WHERE id = $1), \
              rank(level, r) AS (VALUES ('FEDERAL', 4), ('REGIONAL', 3), ('MUNICIPAL', 2), ('SCHOOL', 1), ('CLASSROOM', 0)) \
         SELECT m.id, m.title FROM measure m JOIN plan p ON p.id = m.plan_id \
         WHERE m.plan_id <> $1 AND m.kind = 'MEASURE' AND btrim(m.title) <> '' AND CASE $2 \
             WHEN 'PARENTS' THEN EXISTS (SELECT 1 FROM plan_parent pp WHERE pp.plan_id = $1 AND pp.parent_plan_id = p.id) \
             WHEN 'HIGHER' THEN (SELECT r FROM rank WHERE level = p.level) > \
                                (SELECT r FROM rank, me WHERE rank.level = me.level) \
             ELSE true END",
    )
    .bind(plan_id)
    .bind(scope)
    .fetch_all(pool)
    .await?)
}
