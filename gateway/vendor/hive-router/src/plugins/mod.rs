pub mod plugins_service;
pub mod registry;
pub use crate::executor::plugins::*;
