pub mod coprocessor;
pub mod execution;
pub mod execution_context;
pub mod executors;
pub mod extensions;
pub mod headers;
pub mod introspection;
pub mod json_writer;
pub mod operation_filter;
pub mod plugins;
pub mod projection;
pub mod request_context;
pub mod response;
pub mod utils;
pub mod variables;

pub use executors::map::SubgraphExecutorMap;
pub use plugins::*;
