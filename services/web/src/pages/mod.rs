//! One module per page family: a pure `render` from the answer's model to HTML (what the
//! rendering tests call) and nothing else; the handlers in `crate::routes` fetch and call them.

pub mod indicator;
pub mod layout;
pub mod measure;
pub mod missing;
pub mod overview;
pub mod plan;
pub mod signin;
pub mod upload;
pub mod versions;
