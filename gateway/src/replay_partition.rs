//! Router plugin: subscriptions that replay from a cursor never share another subscriber's stream.
//!
//! With `traffic_shaping.router.dedupe` the router lets identical subscriptions (same operation,
//! variables, extensions and headers) share one in-flight upstream subscription, fanned out to
//! every subscriber. That is right for live-only subscribers (`statusChanged` without `after`:
//! they all want the same events from now on, and the fan-out to thousands relies on it), and
//! wrong for a replay: `statusChanged(after: "<cursor>")` first sends the log after the cursor,
//! then live events, and a subscriber that joined an identical stream opened earlier would get
//! only the events from its joining on, missing the replay it asked for.
//!
//! **The rule.** A subscription operation any of whose root fields (fragments on the root
//! included) has an argument `after` that is a non-null literal, or a variable whose value (the
//! one sent, else the variable's default) is non-null, gets a partition of its own in the
//! router's dedupe fingerprint: it opens its own upstream subscription and gets the whole
//! replay. Every other operation gets the common partition 0, so live-only subscriptions keep
//! sharing among themselves (and queries keep their dedupe). The decision is taken when the
//! document is parsed and the partition set on validation, on the HTTP paths (SSE, multipart)
//! and on graphql-transport-ws alike (the router runs both hooks on each); on a WebSocket
//! connection the router keeps one plugin context for the whole connection, which is why every
//! operation sets its partition rather than only the replaying ones. Should two subscribe
//! messages of one connection be prepared at the same moment, one may read the other's
//! partition: a live-only subscription then gets a stream of its own (one upstream more), a
//! replaying one the shared partition, where it can only meet another replay that hit the same
//! race with the same cursor.
//!
//! The plugin is always on: [`crate::router::load`] enables it whatever the config file says.

use std::sync::atomic::{AtomicU64, Ordering};

use hive_router::graphql_tools::static_graphql::query::{
    Definition, Document, OperationDefinition, Selection, SelectionSet, Value,
};
use hive_router::plugins::hooks::on_graphql_params::GraphQLParams;
use hive_router::plugins::hooks::on_graphql_parse::{OnGraphQLParseHookResult, OnGraphQLParseStartHookPayload};
use hive_router::plugins::hooks::on_graphql_validation::{
    OnGraphQLValidationStartHookPayload, OnGraphQLValidationStartHookResult,
};
use hive_router::plugins::hooks::on_plugin_init::{OnPluginInitPayload, OnPluginInitResult};
use hive_router::plugins::plugin_trait::{EndHookPayload as _, RouterPlugin, StartHookPayload as _};
use hive_router::sonic_rs::JsonValueTrait as _;

/// The plugin's name in the router config's `plugins` section.
pub const NAME: &str = "roadmap_replay_partition";

/// The argument that carries a replay cursor.
const CURSOR_ARGUMENT: &str = "after";

/// The dedupe partition of everything that may share: live-only subscriptions and queries.
const SHARED: u64 = 0;

/// Gives each subscription that replays from a cursor a dedupe partition of its own.
#[derive(Default)]
pub struct ReplayPartition {
    next: AtomicU64,
}

impl ReplayPartition {
    /// A partition no other request has had (1, 2, …; 0 is [`SHARED`]).
    fn unique(&self) -> u64 {
        self.next.fetch_add(1, Ordering::Relaxed) + 1
    }
}

#[hive_router::async_trait]
impl RouterPlugin for ReplayPartition {
    fn plugin_name() -> &'static str {
        NAME
    }

    type Config = serde_json::Value;

    fn on_plugin_init(payload: OnPluginInitPayload<Self>) -> OnPluginInitResult<Self> {
        payload.initialize_plugin_with_defaults()
    }

    // Parsing sees the parameters and, at its end, the document: decide there. The partition
    // is set on validation, the hook that may set it and runs last before the router reads it.
    async fn on_graphql_parse<'exec>(
        &'exec self,
        payload: OnGraphQLParseStartHookPayload<'exec>,
    ) -> OnGraphQLParseHookResult<'exec> {
        let (context, params) = (payload.context, payload.graphql_params);
        payload.on_end(move |end| {
            let partition = if replays(&end.document, params) {
                self.unique()
            } else {
                SHARED
            };
            context.insert(Partition(partition));
            end.proceed()
        })
    }

    async fn on_graphql_validation<'exec>(
        &'exec self,
        payload: OnGraphQLValidationStartHookPayload<'exec>,
    ) -> OnGraphQLValidationStartHookResult<'exec> {
        let partition = payload.context.get_ref::<Partition>().map_or(SHARED, |p| p.0);
        payload.add_inbound_dedupe_partition(partition);
        payload.proceed()
    }
}

/// The partition decided for the operation being prepared.
struct Partition(u64);

/// Whether the operation `params` selects in `document` is a subscription with a non-null
/// cursor argument on a root field (see the module docs).
pub fn replays(document: &Document, params: &GraphQLParams) -> bool {
    let mut operations = document.definitions.iter().filter_map(|d| match d {
        Definition::Operation(op) => Some(op),
        Definition::Fragment(_) => None,
    });
    let operation = match params.operation_name.as_deref() {
        Some(wanted) => operations.find(|op| match op {
            OperationDefinition::Subscription(s) => s.name.as_deref() == Some(wanted),
            OperationDefinition::Query(q) => q.name.as_deref() == Some(wanted),
            OperationDefinition::Mutation(m) => m.name.as_deref() == Some(wanted),
            OperationDefinition::SelectionSet(_) => false,
        }),
        // Without a name the document must hold one operation (the router refuses it otherwise).
        None => operations.next().filter(|_| operations.next().is_none()),
    };
    let Some(OperationDefinition::Subscription(subscription)) = operation else {
        return false;
    };
    let non_null = |value: &Value| match value {
        Value::Null => false,
        Value::Variable(name) => match params.variables.get(name.as_str()) {
            Some(sent) => !sent.is_null(),
            None => subscription
                .variable_definitions
                .iter()
                .find(|v| &v.name == name)
                .and_then(|v| v.default_value.as_ref())
                .is_some_and(|default| !matches!(default, Value::Null)),
        },
        _ => true,
    };
    let mut visited = Vec::new();
    root_cursor(document, &subscription.selection_set, &non_null, &mut visited)
}

/// Whether a field of `selection` (through inline fragments and fragment spreads, each fragment
/// once) has a cursor argument that `non_null` accepts.
fn root_cursor<'d>(
    document: &'d Document,
    selection: &'d SelectionSet,
    non_null: &impl Fn(&Value) -> bool,
    visited: &mut Vec<&'d str>,
) -> bool {
    selection.items.iter().any(|item| match item {
        Selection::Field(field) => field
            .arguments
            .iter()
            .any(|(name, value)| name == CURSOR_ARGUMENT && non_null(value)),
        Selection::InlineFragment(inline) => root_cursor(document, &inline.selection_set, non_null, visited),
        Selection::FragmentSpread(spread) => {
            if visited.contains(&spread.fragment_name.as_str()) {
                return false;
            }
            visited.push(&spread.fragment_name);
            document.definitions.iter().any(|d| match d {
                Definition::Fragment(f) if f.name == spread.fragment_name => {
                    root_cursor(document, &f.selection_set, non_null, visited)
                }
                _ => false,
            })
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: &str, variables: serde_json::Value, operation: Option<&str>) -> bool {
        let document = hive_router::graphql_tools::parser::parse_query::<String>(query)
            .unwrap()
            .into_static();
        let params = GraphQLParams {
            query: Some(query.to_string()),
            operation_name: operation.map(str::to_string),
            variables: hive_router::sonic_rs::from_str(&variables.to_string()).unwrap(),
            extensions: None,
        };
        replays(&document, &params)
    }

    const BY_VARIABLE: &str =
        "subscription S($after: String, $f: EventFilter) { statusChanged(after: $after, filter: $f) { cursor } }";

    #[test]
    fn a_cursor_literal_or_non_null_variable_replays() {
        assert!(check(
            r#"subscription { statusChanged(after: "0") { cursor } }"#,
            serde_json::json!({}),
            None
        ));
        assert!(check(BY_VARIABLE, serde_json::json!({ "after": "17" }), None));
        assert!(check(
            r#"subscription($a: String = "5") { statusChanged(after: $a) { cursor } }"#,
            serde_json::json!({}),
            None
        ));
        assert!(check(
            r#"subscription { ...F } fragment F on Subscription { ... on Subscription { statusChanged(after: "3") { cursor } } }"#,
            serde_json::json!({}),
            None
        ));
    }

    #[test]
    fn live_only_subscriptions_and_other_operations_do_not() {
        assert!(!check(
            "subscription { statusChanged { cursor } }",
            serde_json::json!({}),
            None
        ));
        assert!(!check(
            r#"subscription { statusChanged(after: null) { cursor } }"#,
            serde_json::json!({}),
            None
        ));
        assert!(!check(BY_VARIABLE, serde_json::json!({ "after": null }), None));
        assert!(!check(BY_VARIABLE, serde_json::json!({}), None));
        assert!(!check(
            r#"subscription($a: String = "5") { statusChanged(after: $a) { cursor } }"#,
            serde_json::json!({ "a": null }),
            None
        ));
        // `after` below the root is pagination, not a replay.
        assert!(!check(
            r#"subscription { statusChanged { measure { events(after: "1") { cursor } } } }"#,
            serde_json::json!({}),
            None
        ));
        assert!(!check(
            r#"query { events(after: "1") { cursor } }"#,
            serde_json::json!({}),
            None
        ));
        // The operation sent is the one that counts.
        let two =
            r#"query Q { events(after: "1") { cursor } } subscription S { statusChanged(after: "1") { cursor } }"#;
        assert!(!check(two, serde_json::json!({}), Some("Q")));
        assert!(check(two, serde_json::json!({}), Some("S")));
        assert!(
            !check(two, serde_json::json!({}), None),
            "ambiguous: the router refuses it"
        );
    }
}
