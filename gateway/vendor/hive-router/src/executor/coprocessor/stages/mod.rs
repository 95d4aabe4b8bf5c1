pub mod graphql;
pub mod router;
