//! What every service's DataLoaders share: how they are built (measured, traced, batched) and
//! how batch rows are grouped by their parent key.
//!
//! **When a batch is sent.** A request's resolvers run in one task: the sibling fields of a level
//! (the items of a list, the representations of `_entities`) are polled together, and each
//! asks its loader for its key in that same poll. Inside [`batched`] (every subgraph's
//! `/graphql` runs its requests in it, `server::graphql_router`), a batch opened during a poll of
//! the request is sent as soon as that poll ends, with every key asked in it: the end of the
//! tick, as Facebook's DataLoader batches. No timer runs, so a request whose loads follow one
//! another (a measure, then its trace) does not wait a window per load: async-graphql's own
//! window is a timer of at least [`BATCH_DELAY`], and two of them were most of what the hub's
//! core trace spent beyond PostGraphile (README "Side by side with PostGraphile"). Outside
//! [`batched`] (subscriptions, background tasks) a batch is sent [`BATCH_DELAY`] after its first
//! key, as before.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::Hash;
use std::pin::pin;
use std::time::Duration;

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use futures::FutureExt as _;
use futures::future::BoxFuture;
use tracing::Instrument as _;

use crate::metrics::Measured;

/// How long a loader outside [`batched`] waits for more keys before querying: sibling fields
/// are resolved in the same poll, so a short wait is enough to batch them (async-graphql's
/// default is 1 ms).
pub const BATCH_DELAY: Duration = Duration::from_micros(500);

thread_local! {
    /// The batches opened during the current poll of a [`batched`] future on this thread.
    static OPENED: RefCell<Option<Vec<BoxFuture<'static, ()>>>> = const { RefCell::new(None) };
}

/// Restores the batches list of an enclosing [`batched`] poll (none, mostly) when a poll ends,
/// even by a panic: a list left behind would hold later batches forever.
struct Opened(Option<Vec<BoxFuture<'static, ()>>>);

impl Drop for Opened {
    fn drop(&mut self) {
        let opened = OPENED.replace(self.0.take());
        for batch in opened.into_iter().flatten() {
            tokio::spawn(batch);
        }
    }
}

/// Runs `request` (a GraphQL execution) so that the batches its loaders open during a poll are
/// sent when that poll ends, without a timer (see the module's documentation).
pub async fn batched<F: Future>(request: F) -> F::Output {
    let mut request = pin!(request);
    std::future::poll_fn(|cx| {
        let _opened = Opened(OPENED.replace(Some(Vec::new())));
        request.as_mut().poll(cx)
    })
    .await
}

/// The spawner of every DataLoader. The batch runs in the span of the resolver that opened it,
/// so its `dataloader` span and SQL belong to the request's trace; it is sent when the
/// [`batched`] poll that opened it ends, or after [`BATCH_DELAY`] outside one.
fn open_batch(batch: BoxFuture<'static, ()>) {
    let batch = batch.in_current_span().boxed();
    let outside = OPENED.with_borrow_mut(|opened| match opened {
        Some(opened) => {
            opened.push(batch);
            None
        }
        None => Some(batch),
    });
    if let Some(batch) = outside {
        tokio::spawn(async move {
            tokio::time::sleep(BATCH_DELAY).await;
            batch.await
        });
    }
}

/// A DataLoader shared by all requests, without a cache (batching without stale reads), whose
/// batches are measured and traced.
pub fn loader<K, L>(inner: L) -> DataLoader<Measured<L>>
where
    K: Send + Sync + Hash + Eq + Clone + 'static,
    L: Loader<K>,
{
    DataLoader::new(Measured::new(inner), open_batch).delay(Duration::ZERO)
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
    DataLoader::with_cache(Measured::new(inner), open_batch, HashMapCache::default()).delay(Duration::ZERO)
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
    use std::collections::HashMap;
    use std::sync::Mutex;
    use std::time::Instant;

    use async_graphql::dataloader::Loader;

    use super::{BATCH_DELAY, batched, group_by, group_pairs, loader, request_loader};

    /// Answers each key with itself and remembers the batches it was asked.
    #[derive(Default)]
    struct Batches(std::sync::Arc<Mutex<Vec<Vec<u32>>>>);

    impl Loader<u32> for Batches {
        type Value = u32;
        type Error = std::sync::Arc<std::io::Error>;

        async fn load(&self, keys: &[u32]) -> Result<HashMap<u32, u32>, Self::Error> {
            let mut keys = keys.to_vec();
            keys.sort();
            self.0.lock().unwrap().push(keys.clone());
            Ok(keys.into_iter().map(|k| (k, k)).collect())
        }
    }

    #[tokio::test]
    async fn inside_a_request_a_batch_holds_the_keys_of_one_poll_and_waits_for_no_timer() {
        let batches = Batches::default();
        let seen = batches.0.clone();
        let loader = loader(batches);
        let request = batched(async {
            let level = futures::future::join_all((1..=5).map(|k| loader.load_one(k))).await;
            // A load after another (a trace after its root measure) is a batch of its own.
            let then = loader.load_one(9).await;
            (level, then)
        });
        // One thread: the timer can fire only when no task is ready, and the request's batches
        // are tasks made ready by the request itself, so it wins unless it waits on a timer.
        let (level, then) = tokio::select! {
            biased;
            answer = request => answer,
            _ = tokio::time::sleep(BATCH_DELAY) => panic!("a load inside a request waited for a timer"),
        };
        let level: Vec<_> = level.into_iter().map(|v| v.unwrap()).collect();
        assert_eq!(level, vec![Some(1), Some(2), Some(3), Some(4), Some(5)]);
        assert_eq!(then.unwrap(), Some(9));
        assert_eq!(*seen.lock().unwrap(), vec![vec![1, 2, 3, 4, 5], vec![9]]);
    }

    #[tokio::test]
    async fn outside_a_request_a_batch_waits_its_window() {
        let batches = Batches::default();
        let seen = batches.0.clone();
        let loader = request_loader(batches);
        let start = Instant::now();
        let level = futures::future::join_all((1..=3).map(|k| loader.load_one(k))).await;
        assert!(level.iter().all(|v| v.is_ok()));
        assert_eq!(*seen.lock().unwrap(), vec![vec![1, 2, 3]]);
        assert!(start.elapsed() >= BATCH_DELAY, "waited {:?}", start.elapsed());
    }

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
