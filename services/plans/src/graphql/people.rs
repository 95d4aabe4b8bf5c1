//! `Organisation` and `Territory`: entities of the people subgraph, referenced here by id and
//! resolved there through the gateway.

use async_graphql::{ID, SimpleObject};

/// An organisation of the people subgraph, referenced by id.
#[derive(SimpleObject)]
#[graphql(unresolvable)]
pub struct Organisation {
    pub id: ID,
}

/// A territory of the people subgraph, referenced by id; this subgraph adds the auditor's
/// fields (`crate::graphql::audit`).
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct Territory {
    pub id: ID,
}
