pub const ROUTER_VERSION: &str = env!("CARGO_PKG_VERSION");
