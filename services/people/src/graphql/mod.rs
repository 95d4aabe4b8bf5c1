//! The GraphQL schema of the people subgraph, one file per type family:
//! - [`territory`]: `Territory`, `TerritoryKind`, `CreateTerritoryInput`;
//! - [`organisation`]: `Organisation`, `OrganisationKind`, `CreateOrganisationInput`,
//!   `EnsureOrganisationInput`, and the units under a school (`CreateUnitInput`,
//!   `UpdateUnitInput`);
//! - [`query`]: `Query.*`, with the entity resolvers `find_<type>_by_id`;
//! - [`mutation`]: `Mutation.*`, every change audited in its transaction.

pub mod mutation;
pub mod organisation;
pub mod query;
pub mod territory;

pub use mutation::MutationRoot;
pub use organisation::{
    CreateOrganisationInput, CreateUnitInput, EnsureOrganisationInput, Organisation, OrganisationKind, UpdateUnitInput,
};
pub use query::QueryRoot;
pub use territory::{CreateTerritoryInput, Territory, TerritoryKind};
