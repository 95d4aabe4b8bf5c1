//! The rollup indexes kept between requests ([`RollupCache`]), exact by construction.
//!
//! Building a unit's [`RollupIndex`] reads every observation under it (the country's: every
//! observation of the indicator), so the loader keeps the indexes it built, each with the
//! indicator's *generation* it read before reading the rows:
//!
//! - `rollup_generation.generation` counts the writes to an indicator's observations: statement
//!   triggers on `observation` (insert, update, delete, truncate; migration `indicators/0006`)
//!   bump it in the writing transaction, so it changes when the write commits.
//! - A request reads the generations of its indicators first (one statement), then uses a kept
//!   index only if it was built at the generation just read; otherwise it reads the rows and keeps
//!   the new index with that generation. A write that commits between the two reads leaves an
//!   index newer than its generation, which the next request, seeing the bumped generation,
//!   replaces: an index is never older than what its generation says.
//! - The cost: one cheap statement per batch, and writers of one indicator's observations take
//!   its generation row's lock until they commit (one observation per `recordObservation`, short
//!   transactions). The price of one generation per indicator: any write of it makes every kept
//!   index of it stale, so the next rollup of the country reads all its observations again
//!   (0.5–0.7 s on the generated national dataset, release, busy 2-core VM; a region's: 20 ms).
//!
//! The cache is per process (each replica keeps its own) and bounded by weight, observations
//! plus units ([`RollupIndex::weight`]): [`CAPACITY`], about 50 MB; the least recently used
//! indexes go first, and one heavier than the capacity is used once and not kept. Building an
//! index holds its rows meanwhile (a country's: some 60 MB more, for the build's duration).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::rollup::{RollupIndex, RollupKey};

/// The weight (observations plus units) of all kept indexes together, about 40 bytes each: the
/// country's index of the generated national dataset (177,360 observations, 135,886 units in its
/// three sources' trees) weighs 313,247, about 12 MB.
pub const CAPACITY: usize = 1_200_000;

/// Indexes by (indicator, unit), each with the generation it was built at.
pub struct RollupCache {
    capacity: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    entries: HashMap<RollupKey, Entry>,
    weight: usize,
    clock: u64,
}

struct Entry {
    generation: i64,
    index: Arc<RollupIndex>,
    used: u64,
}

impl Default for RollupCache {
    fn default() -> Self {
        RollupCache::new(CAPACITY)
    }
}

impl RollupCache {
    pub fn new(capacity: usize) -> Self {
        RollupCache {
            capacity,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // Nothing panics while holding it; a poisoned map is still consistent.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The index of `key` if it was built at `generation`.
    pub fn get(&self, key: &RollupKey, generation: i64) -> Option<Arc<RollupIndex>> {
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        let entry = inner.entries.get_mut(key).filter(|e| e.generation == generation)?;
        entry.used = now;
        Some(entry.index.clone())
    }

    /// Keeps `index`, built at `generation`, unless a newer one is kept; drops the least recently
    /// used indexes until the rest fits.
    pub fn put(&self, key: RollupKey, generation: i64, index: Arc<RollupIndex>) {
        let mut inner = self.lock();
        if inner.entries.get(&key).is_some_and(|e| e.generation > generation) {
            return;
        }
        if let Some(old) = inner.entries.remove(&key) {
            inner.weight -= old.index.weight();
        }
        let weight = index.weight();
        if weight > self.capacity {
            return;
        }
        while inner.weight + weight > self.capacity {
            let Some(oldest) = inner.entries.iter().min_by_key(|(_, e)| e.used).map(|(k, _)| *k) else {
                break;
            };
            if let Some(old) = inner.entries.remove(&oldest) {
                inner.weight -= old.index.weight();
            }
        }
        inner.clock += 1;
        let used = inner.clock;
        inner.weight += weight;
        inner.entries.insert(
            key,
            Entry {
                generation,
                index,
                used,
            },
        );
    }

    /// The weight of the kept indexes.
    pub fn weight(&self) -> usize {
        self.lock().weight
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rollup::{IndexBuilder, Reported, Unit};
    use uuid::Uuid;

    /// An index of `n` observations of the unit itself (weight `n + 1`: the root).
    fn index(n: usize) -> Arc<RollupIndex> {
        let mut b = IndexBuilder::default();
        for p in 0..n {
            let reported = Reported {
                value: 1.0,
                denominator: None,
                numerator: None,
            };
            b.add([], "OFFICIAL", (p as i32, ""), reported);
        }
        Arc::new(b.finish())
    }

    fn key(n: u128) -> RollupKey {
        (Uuid::nil(), Unit::Territory(Uuid::from_u128(n)))
    }

    #[test]
    fn an_index_serves_only_its_generation_and_newer_ones_win() {
        let cache = RollupCache::new(100);
        cache.put(key(1), 3, index(2));
        assert!(cache.get(&key(1), 3).is_some());
        assert!(cache.get(&key(1), 4).is_none(), "a write bumped the generation");
        assert!(cache.get(&key(2), 3).is_none());
        cache.put(key(1), 5, index(4));
        cache.put(key(1), 4, index(1));
        assert_eq!(
            cache.get(&key(1), 5).map(|i| i.facts()),
            Some(4),
            "an older build never replaces a newer"
        );
        assert!(cache.get(&key(1), 4).is_none());
        assert_eq!(cache.weight(), 5);
    }

    #[test]
    fn the_least_recently_used_go_first_and_the_too_heavy_are_not_kept() {
        let cache = RollupCache::new(10);
        cache.put(key(1), 0, index(3));
        cache.put(key(2), 0, index(3));
        assert!(cache.get(&key(1), 0).is_some());
        // 4 + 4 + 4 > 10: key 2, unused since, goes.
        cache.put(key(3), 0, index(3));
        assert!(cache.get(&key(2), 0).is_none());
        assert!(cache.get(&key(1), 0).is_some() && cache.get(&key(3), 0).is_some());
        assert_eq!(cache.weight(), 8);
        cache.put(key(4), 0, index(20));
        assert!(cache.get(&key(4), 0).is_none());
        assert_eq!(cache.weight(), 8, "nothing was dropped for it");
    }
}
