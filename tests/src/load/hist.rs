//! A small log-linear latency histogram in microseconds: 64 linear sub-buckets per power of
//! two (about 1.5% precision), lock-free to record, sparse to ship between processes.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

const SUB: u32 = 64;
const BUCKETS: usize = 40 * SUB as usize;

pub struct Hist {
    counts: Vec<AtomicU64>,
}

impl Default for Hist {
    fn default() -> Self {
        Hist {
            counts: (0..BUCKETS).map(|_| AtomicU64::new(0)).collect(),
        }
    }
}

fn index(micros: u64) -> usize {
    if micros < u64::from(SUB) {
        return micros as usize;
    }
    let exp = 63 - micros.leading_zeros();
    let shift = exp - SUB.trailing_zeros();
    let sub = (micros >> shift) & u64::from(SUB - 1);
    (((exp - SUB.trailing_zeros() + 1) * SUB) as usize + sub as usize).min(BUCKETS - 1)
}

/// The smallest value that falls in bucket `i`, and the bucket's width.
fn bounds(i: usize) -> (u64, u64) {
    let sub = u64::from(SUB);
    if (i as u64) < sub {
        return (i as u64, 1);
    }
    let group = i as u64 / sub;
    let shift = group - 1;
    let low = (sub + i as u64 % sub) << shift;
    (low, 1 << shift)
}

impl Hist {
    pub fn record(&self, micros: u64) {
        self.counts[index(micros)].fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Sparse {
        Sparse {
            buckets: self
                .counts
                .iter()
                .enumerate()
                .filter_map(|(i, c)| {
                    let n = c.load(Ordering::Relaxed);
                    (n > 0).then_some((i as u32, n))
                })
                .collect(),
        }
    }
}

/// A histogram as sent between processes: (bucket, count) pairs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Sparse {
    pub buckets: Vec<(u32, u64)>,
}

impl Sparse {
    pub fn merge(&mut self, other: &Sparse) {
        let mut all = std::collections::BTreeMap::new();
        for (i, n) in self.buckets.iter().chain(other.buckets.iter()) {
            *all.entry(*i).or_insert(0u64) += n;
        }
        self.buckets = all.into_iter().collect();
    }

    pub fn count(&self) -> u64 {
        self.buckets.iter().map(|(_, n)| n).sum()
    }

    /// The q-quantile (0..=1) in milliseconds, None when empty.
    pub fn quantile_ms(&self, q: f64) -> Option<f64> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = ((q * total as f64).ceil() as u64).clamp(1, total);
        let mut seen = 0;
        for (i, n) in &self.buckets {
            seen += n;
            if seen >= rank {
                let (low, width) = bounds(*i as usize);
                return Some((low as f64 + (width as f64 - 1.0) / 2.0) / 1000.0);
            }
        }
        None
    }

    pub fn summary(&self) -> Latency {
        Latency {
            count: self.count(),
            p50_ms: self.quantile_ms(0.5),
            p90_ms: self.quantile_ms(0.9),
            p99_ms: self.quantile_ms(0.99),
            max_ms: self.quantile_ms(1.0),
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Latency {
    pub count: u64,
    pub p50_ms: Option<f64>,
    pub p90_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_contain_their_values() {
        for v in [
            0u64, 1, 63, 64, 65, 127, 128, 1000, 12_345, 999_999, 10_000_000,
        ] {
            let (low, width) = bounds(index(v));
            assert!(
                low <= v && v < low + width,
                "{v} in [{low}, {})",
                low + width
            );
        }
    }

    #[test]
    fn quantiles_are_within_two_percent() {
        let h = Hist::default();
        for v in 1..=10_000u64 {
            h.record(v * 10);
        }
        let s = h.snapshot();
        let p50 = s.quantile_ms(0.5).expect("p50");
        let p99 = s.quantile_ms(0.99).expect("p99");
        assert!((p50 - 50.0).abs() / 50.0 < 0.02, "{p50}");
        assert!((p99 - 99.0).abs() / 99.0 < 0.02, "{p99}");
        let mut merged = Sparse::default();
        merged.merge(&s);
        merged.merge(&s);
        assert_eq!(merged.count(), 20_000);
    }
}
