pub mod hooks;
pub mod plugin_context;
pub mod plugin_trait;
