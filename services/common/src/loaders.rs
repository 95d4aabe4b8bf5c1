//! What every service's DataLoaders share: how they are built (measured, traced, batched with a
//! short window) and how batch rows are grouped by their parent key.

use std::collections::HashMap;
use std::hash::Hash;
use std::time::Duration;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};

use crate::metrics::{Measured, spawn_in_current_span};

/// How long a loader waits for more keys before querying: sibling fields are resolved in the
/// same poll, so a short wait is enough to batch them (async-graphql's default is 1 ms).
pub const BATCH_DELAY: Duration = Duration::from_micros(500);

/// A DataLoader shared by all requests, without a cache (batching without stale reads), whose
/// batches are measured and traced.
pub fn loader<K, L>(inner: L) -> DataLoader<Measured<L>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    L: Loader<K>,
{
    DataLoader::new(Measured::new(inner), spawn_in_current_span).delay(BATCH_DELAY)
}

/// A DataLoader for one request that keeps what it loaded or was fed
/// ([`DataLoader::feed_many`]) for the rest of the request: a row read once per request, and a
/// statement that already read rows (a trace with its nodes) can hand them over. Measured and
/// traced like [`loader`]. Build one set per request, never share it: it would serve stale rows.
pub fn request_loader<K, L>(inner: L) -> DataLoader<Measured<L>, HashMapCache>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    L: Loader<K>,
{
    DataLoader::with_cache(Measured::new(inner), spawn_in_current_span, HashMapCache::default()).delay(BATCH_DELAY)
}

/// Groups rows by a key they may lack (rows without one are dropped), keeping their order.
pub fn group_by<T, K: Hash + Eq>(rows: Vec<T>, key: impl Fn(&T) -> Option<K>) -> HashMap<K, Vec<T>> {
    let mut map: HashMap<K, Vec<T>> = HashMap::new();
    for row in rows {
        if let Some(k) = key(&row) {
            map.entry(k).or_default().push(row);
        }
    }
    map
}

/// Groups `(key, value)` pairs by key, keeping their order.
pub fn group_pairs<K: Hash + Eq, V>(pairs: Vec<(K, V)>) -> HashMap<K, Vec<V>> {
    let mut map: HashMap<K, Vec<V>> = HashMap::new();
    for (k, v) in pairs {
        map.entry(k).or_default().push(v);
    }
    map
}

#[cfg(test)]
mod tests {
    use super::{group_by, group_pairs};

    #[test]
    fn pairs_group_in_order() {
        let map = group_pairs(vec![(1, "a"), (2, "b"), (1, "c")]);
        assert_eq!(map[&1], vec!["a", "c"]);
        assert_eq!(map[&2], vec!["b"]);
    }

    #[test]
    fn groups_in_order_and_drops_keyless_rows() {
        let rows = vec![(Some(1), "a"), (None, "b"), (Some(2), "c"), (Some(1), "d")];
        let map = group_by(rows, |r| r.0);
        assert_eq!(map[&1], vec![(Some(1), "a"), (Some(1), "d")]);
        assert_eq!(map[&2].len(), 1);
        assert_eq!(map.len(), 2);
    }
}
