//! Bounded heavy hitters for keys without a bound: object names, selectors,
//! the users behind a kubelet's user agent, user agents themselves.
//!
//! Exact until a table holds twice its capacity; then it keeps the
//! `capacity` heaviest entries (ties by key, so the choice does not depend on
//! arrival order) and remembers the heaviest weight it dropped. A key that
//! comes back after being dropped may be undercounted by at most that
//! `floor`, and a key dropped for good weighed at most `floor`, so every entry
//! heavier than the floor is certainly a heavy hitter (the "frequent items"
//! summary of Misra and Gries, batch-pruned so the cost per event stays
//! O(log capacity)). Two summaries merge by adding weights and pruning.
//!
//! Written here rather than taken from a crate because the entries carry
//! payloads that merge (first and last seen, latency sums, histograms), which
//! the sketch crates found (count-only Space-Saving or Count-Min tables) do
//! not support. Keys are one `String` with parts joined by [`SEP`], so a
//! lookup composes the key in a reused buffer and allocates only for a new key.

use hashbrown::HashMap;
use hashbrown::hash_map::EntryRef;

/// Separates the parts of a composite key.
pub const SEP: char = '\u{1f}';

/// A payload with a weight for ranking, mergeable across threads.
pub trait Tally: Default {
    /// The weight used to rank entries (usually a count).
    fn weight(&self) -> u64;
    /// Adds another payload of the same key.
    fn merge(&mut self, other: &Self);
}

impl Tally for u64 {
    fn weight(&self) -> u64 {
        *self
    }
    fn merge(&mut self, other: &Self) {
        *self += other;
    }
}

/// A bounded table of the heaviest keys.
#[derive(Debug, Clone)]
pub struct TopK<V> {
    map: HashMap<Box<str>, V>,
    capacity: usize,
    floor: u64,
    dropped: u64,
}

impl<V: Tally> TopK<V> {
    /// A table that keeps at least `capacity` keys (at most twice that).
    pub fn new(capacity: usize) -> Self {
        Self {
            map: HashMap::new(),
            capacity: capacity.max(1),
            floor: 0,
            dropped: 0,
        }
    }

    /// The payload of `key`, created when new.
    pub fn entry(&mut self, key: &str) -> &mut V {
        // One lookup (`entry_ref` hashes once, allocates only for a new key);
        // the second, to know whether a full table must be pruned first, only
        // once it is full.
        if self.map.len() >= self.capacity * 2 && !self.map.contains_key(key) {
            self.prune();
        }
        match self.map.entry_ref(key) {
            EntryRef::Occupied(e) => e.into_mut(),
            EntryRef::Vacant(e) => e.insert_with_key(key.into(), V::default()),
        }
    }

    /// Adds another table.
    pub fn merge(&mut self, other: &Self) {
        for (key, value) in &other.map {
            match self.map.get_mut(key) {
                Some(mine) => mine.merge(value),
                None => {
                    let mut fresh = V::default();
                    fresh.merge(value);
                    self.map.insert(key.clone(), fresh);
                }
            }
        }
        self.floor = self.floor.max(other.floor);
        self.dropped += other.dropped;
        if self.map.len() > self.capacity * 2 {
            self.prune();
        }
    }

    fn prune(&mut self) {
        let mut entries: Vec<(Box<str>, V)> = self.map.drain().collect();
        entries.sort_by(|a, b| b.1.weight().cmp(&a.1.weight()).then_with(|| a.0.cmp(&b.0)));
        for (_, v) in entries.drain(self.capacity.min(entries.len())..) {
            self.floor = self.floor.max(v.weight());
            self.dropped += 1;
        }
        self.map.extend(entries);
    }

    /// Entries heaviest first (ties by key).
    pub fn ranked(&self) -> Vec<(&str, &V)> {
        let mut entries: Vec<(&str, &V)> = self.map.iter().map(|(k, v)| (&**k, v)).collect();
        entries.sort_by(|a, b| b.1.weight().cmp(&a.1.weight()).then_with(|| a.0.cmp(b.0)));
        entries
    }

    /// The payload of `key`, if kept.
    #[cfg(test)]
    pub fn get(&self, key: &str) -> Option<&V> {
        self.map.get(key)
    }

    /// Number of keys kept.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// The heaviest weight ever dropped: 0 while the table is exact.
    pub fn floor(&self) -> u64 {
        self.floor
    }

    /// How many keys were dropped.
    #[cfg(test)]
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// Splits a composite key into its parts.
pub fn parts(key: &str) -> Vec<&str> {
    key.split(SEP).collect()
}

/// Writes a composite key into `buf` (cleared first).
pub fn compose<'b>(buf: &'b mut String, parts: &[&str]) -> &'b str {
    buf.clear();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            buf.push(SEP);
        }
        buf.push_str(part);
    }
    // Counted once over the key, not searched in each part: this runs several
    // times per event. A separator inside a part would shift the others;
    // audit text never has one, so this is the rare path.
    let seps = memchr::memchr_iter(SEP as u8, buf.as_bytes()).count();
    if seps + 1 != parts.len().max(1) {
        buf.clear();
        for (i, part) in parts.iter().enumerate() {
            if i > 0 {
                buf.push(SEP);
            }
            buf.extend(part.chars().map(|c| if c == SEP { ' ' } else { c }));
        }
    }
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_while_small() {
        let mut t: TopK<u64> = TopK::new(10);
        for k in ["a", "b", "a", "c", "a", "b"] {
            *t.entry(k) += 1;
        }
        let ranked: Vec<_> = t.ranked().into_iter().map(|(k, v)| (k, *v)).collect();
        assert_eq!(ranked, [("a", 3), ("b", 2), ("c", 1)]);
        assert_eq!(t.floor(), 0);
    }

    #[test]
    fn heavy_hitters_survive_a_flood_of_singletons() {
        let mut t: TopK<u64> = TopK::new(4);
        for i in 0..10_000 {
            *t.entry(&format!("one-off-{i}")) += 1;
            if i % 10 == 0 {
                *t.entry("heavy") += 1;
            }
        }
        assert!(t.len() <= 8);
        let (key, weight) = t.ranked()[0];
        assert_eq!(key, "heavy");
        assert!(*weight + t.floor() >= 1000 && *weight <= 1000);
        assert!(t.floor() > 0 && t.dropped() > 0);
    }

    #[test]
    fn merge_is_order_independent_while_exact() {
        let mut a: TopK<u64> = TopK::new(100);
        let mut b: TopK<u64> = TopK::new(100);
        *a.entry("x") += 2;
        *b.entry("x") += 3;
        *b.entry("y") += 1;
        let mut ab = a.clone();
        ab.merge(&b);
        let mut ba = b.clone();
        ba.merge(&a);
        assert_eq!(ab.ranked(), ba.ranked());
        assert_eq!(ab.get("x"), Some(&5));
    }

    #[test]
    fn composite_keys() {
        let mut buf = String::new();
        let key = compose(&mut buf, &["agent", "", "pods"]).to_owned();
        assert_eq!(parts(&key), ["agent", "", "pods"]);
        let odd = compose(&mut buf, &["a\u{1f}b"]).to_owned();
        assert_eq!(parts(&odd), ["a b"]);
    }
}
