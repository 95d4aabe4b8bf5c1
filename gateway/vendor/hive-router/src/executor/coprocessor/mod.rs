pub mod client;
pub mod error;
pub mod protocol;
pub mod runtime;
pub mod stage;
pub mod stages;

// TODO: Allow adding jwt claims via coprocessor.

pub use error::CoprocessorError;
pub use runtime::CoprocessorRuntime;
