//! `[TraceNode!]!` as a trace answers it: the nodes, and what the trace's statement read of them.
//!
//! A trace of a regional measure reaches ~600 nodes; resolved field by field, each node costs a
//! future, a pass through the schema's extensions, a loader lookup for its status and a copy of
//! its row per object (about 3,000 field resolutions per trace). When the selection asks only
//! plain fields of what the statement already read (a trace node's `depth`, `measure` and
//! `next`; a measure's id, number, title, key, kind, dates, status and progress; its plan's id,
//! title and level; `__typename` anywhere), the answer is written in one pass over the tree
//! instead, as the field resolvers would write it. Any other field, an argument, a directive or a
//! fragment anywhere in the selection, or a node the statement did not read, sends the whole
//! trace through the ordinary resolvers: the fast way is never the only way to an answer, and
//! both give the same one (e2e test `cascade::a_trace_answers_the_same_however_it_is_resolved`).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::indexmap::IndexMap;
use async_graphql::parser::types::{Field, Selection, SelectionSet};
use async_graphql::registry::Registry;
use async_graphql::{ContextSelectionSet, InputType, Name, OutputType, Positioned, ScalarType, ServerResult, Value};
use uuid::Uuid;

use roadmap_common::clock::Clock;

use crate::cascade::{self, Reached, TraceNode};
use crate::graphql::{PlanLevel, PlanState};
use crate::loaders::Loaders;
use crate::store::{MeasureRow, PlanRow, StatusRow, TraceNodeRow};

/// What a trace's statement read of its nodes: their rows (statuses among them), the plans of
/// the levels that asked for them, and the request's clock (OVERDUE is judged by it).
pub struct Known {
    pub rows: Arc<Vec<TraceNodeRow>>,
    /// The row of each reached measure (an index into `rows`).
    pub row_of: HashMap<Uuid, usize>,
    pub plans: HashMap<Uuid, Arc<PlanRow>>,
    /// The rows are whole (every column read).
    pub whole_rows: bool,
    pub clock: Clock,
}

impl Known {
    /// Hands the resolvers what the trace read, through the request's loaders: statuses and
    /// plans (whole rows), and the measure rows when whole. Only the resolvers' way needs it:
    /// the one-pass answer reads `Known` itself.
    async fn feed(&self, loaders: &Loaders) {
        let measures: Vec<MeasureRow> = match self.whole_rows {
            true => self.rows.iter().map(|n| MeasureRow::clone(&n.measure)).collect(),
            false => Vec::new(),
        };
        let statuses: Vec<StatusRow> = self.row_of.values().map(|&i| self.rows[i].status.clone()).collect();
        let plans: Vec<PlanRow> = self.plans.values().map(|p| PlanRow::clone(p)).collect();
        loaders.feed(measures, statuses, plans).await;
    }

    fn status(&self, measure: Uuid) -> Option<&StatusRow> {
        self.row_of.get(&measure).map(|&i| &self.rows[i].status)
    }
}

/// A trace's answer: its tree, and what is known of its nodes when the trace read them.
pub struct Trace {
    pub nodes: Vec<TraceNode>,
    pub known: Option<Known>,
}

impl OutputType for Trace {
    fn type_name() -> Cow<'static, str> {
        <Vec<TraceNode> as OutputType>::type_name()
    }

    fn qualified_type_name() -> String {
        <Vec<TraceNode> as OutputType>::qualified_type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <Vec<TraceNode> as OutputType>::create_type_info(registry)
    }

    async fn resolve(&self, ctx: &ContextSelectionSet<'_>, field: &Positioned<Field>) -> ServerResult<Value> {
        if let Some(known) = &self.known {
            if let Some(selection) = NodeSelection::of(&ctx.item.node)
                && let Some(value) = render_nodes(&self.nodes, &selection, known)
            {
                return Ok(value);
            }
            known
                .feed(ctx.data::<Loaders>().map_err(|e| e.into_server_error(field.pos))?)
                .await;
        }
        self.nodes.resolve(ctx, field).await
    }
}

/// A field asked, with the key its value goes under (its alias, else its name).
type Asked<F> = Vec<(Name, F)>;

enum NodeField {
    Typename,
    Depth,
    Measure(Asked<MeasureField>),
    Next(NodeSelection),
}

enum MeasureField {
    Typename,
    Id,
    Number,
    Title,
    Key,
    Kind,
    StartsOn,
    DueOn,
    Status,
    Progress,
    Plan(Asked<PlanField>),
}

enum PlanField {
    Typename,
    Id,
    Title,
    Level,
    State,
}

struct NodeSelection(Asked<NodeField>);

/// The plain fields of `set` (no fragment, directive or argument), each with its key and what
/// `known` makes of it; `None` when some selection is not plain or some field is not known.
fn plain_fields<F>(set: &SelectionSet, known: impl Fn(&str, &SelectionSet) -> Option<F>) -> Option<Asked<F>> {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(f) if f.node.directives.is_empty() && f.node.arguments.is_empty() => {
                let field = &f.node;
                let key = field.alias.as_ref().unwrap_or(&field.name).node.clone();
                Some((key, known(field.name.node.as_str(), &field.selection_set.node)?))
            }
            _ => None,
        })
        .collect()
}

impl NodeSelection {
    fn of(set: &SelectionSet) -> Option<NodeSelection> {
        plain_fields(set, |name, inner| match name {
            "__typename" => Some(NodeField::Typename),
            "depth" => Some(NodeField::Depth),
            "measure" => plain_fields(inner, measure_field).map(NodeField::Measure),
            "next" => NodeSelection::of(inner).map(NodeField::Next),
            _ => None,
        })
        .map(NodeSelection)
    }
}

fn measure_field(name: &str, inner: &SelectionSet) -> Option<MeasureField> {
    Some(match name {
        "__typename" => MeasureField::Typename,
        "id" => MeasureField::Id,
        "number" => MeasureField::Number,
        "title" => MeasureField::Title,
        "key" => MeasureField::Key,
        "kind" => MeasureField::Kind,
        "startsOn" => MeasureField::StartsOn,
        "dueOn" => MeasureField::DueOn,
        "status" => MeasureField::Status,
        "progress" => MeasureField::Progress,
        "plan" => MeasureField::Plan(plain_fields(inner, |name, _| {
            Some(match name {
                "__typename" => PlanField::Typename,
                "id" => PlanField::Id,
                "title" => PlanField::Title,
                "level" => PlanField::Level,
                "state" => PlanField::State,
                _ => return None,
            })
        })?),
        _ => return None,
    })
}

fn text(s: &str) -> Value {
    Value::String(s.to_string())
}

fn optional<T>(value: Option<T>, to_value: impl FnOnce(T) -> Value) -> Value {
    value.map(to_value).unwrap_or(Value::Null)
}

fn render_nodes(nodes: &[TraceNode], selection: &NodeSelection, known: &Known) -> Option<Value> {
    let mut out = Vec::with_capacity(nodes.len());
    for node in nodes {
        let mut object = IndexMap::with_capacity(selection.0.len());
        for (key, field) in &selection.0 {
            let value = match field {
                NodeField::Typename => text("TraceNode"),
                NodeField::Depth => Value::from(node.depth),
                NodeField::Next(next) => render_nodes(&node.next, next, known)?,
                NodeField::Measure(fields) => match &node.reached {
                    // Null when the measure belongs to a draft the caller may not see.
                    Reached::Hidden => Value::Null,
                    Reached::Row(row) => {
                        let status = known.status(row.id)?;
                        let mut measure = IndexMap::with_capacity(fields.len());
                        for (key, field) in fields {
                            let value = match field {
                                MeasureField::Typename => text("Measure"),
                                MeasureField::Id => Value::String(row.id.to_string()),
                                MeasureField::Number => text(&row.number),
                                MeasureField::Title => text(&row.title),
                                MeasureField::Key => optional(row.key.as_deref(), text),
                                MeasureField::Kind => text(&row.kind),
                                MeasureField::StartsOn => optional(row.starts_on, |d| ScalarType::to_value(&d)),
                                MeasureField::DueOn => optional(row.due_on, |d| ScalarType::to_value(&d)),
                                MeasureField::Status => {
                                    InputType::to_value(&cascade::effective_status_now(status, &known.clock))
                                }
                                MeasureField::Progress => optional(status.progress, |p| ScalarType::to_value(&p)),
                                MeasureField::Plan(fields) => {
                                    let plan = known.plans.get(&row.plan_id)?;
                                    Value::Object(
                                        fields
                                            .iter()
                                            .map(|(key, field)| {
                                                let value = match field {
                                                    PlanField::Typename => text("Plan"),
                                                    PlanField::Id => Value::String(plan.id.to_string()),
                                                    PlanField::Title => text(&plan.title),
                                                    PlanField::Level => {
                                                        optional(PlanLevel::from_db(&plan.level), |l| {
                                                            InputType::to_value(&l)
                                                        })
                                                    }
                                                    PlanField::State => InputType::to_value(
                                                        &PlanState::from_db(&plan.state).unwrap_or(PlanState::Draft),
                                                    ),
                                                };
                                                (key.clone(), value)
                                            })
                                            .collect(),
                                    )
                                }
                            };
                            measure.insert(key.clone(), value);
                        }
                        Value::Object(measure)
                    }
                    // Not read with the trace: the ordinary resolvers read it.
                    Reached::Unknown => return None,
                },
            };
            object.insert(key.clone(), value);
        }
        out.push(Value::Object(object));
    }
    Some(Value::List(out))
}
