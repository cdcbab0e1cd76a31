//! What one run of one implementation measured.

use std::time::Duration;

/// A distribution of durations, in nanoseconds: how long single operations
/// waited, or how long single round trips took.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Dist {
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// 99.9th percentile.
    pub p999: u64,
    /// Longest.
    pub max: u64,
}

impl Dist {
    /// The distribution of `samples` (sorted here), which must not be empty.
    pub fn of(samples: &mut [u64]) -> Self {
        assert!(!samples.is_empty(), "a distribution of no samples");
        samples.sort_unstable();
        let n = samples.len();
        let at = |q: f64| samples[((n - 1) as f64 * q).round() as usize];
        Self {
            p50: at(0.50),
            p99: at(0.99),
            p999: at(0.999),
            max: samples[n - 1],
        }
    }
}

/// What one run measured.
#[derive(Clone, Debug, Default)]
pub struct Sample {
    /// Wall time per operation, in nanoseconds.
    pub ns_per_op: f64,
    /// The distribution of single operations (what it measures, the
    /// scenario's columns say).
    pub dist: Option<Dist>,
    /// Heap allocations per operation.
    pub allocs_per_op: Option<f64>,
    /// The share of operations that had to wait (returned `Pending` at
    /// least once).
    pub waited_fraction: Option<f64>,
    /// Further named figures, reported in the JSON (medians over repeats).
    pub extras: Vec<(&'static str, f64)>,
}

impl Sample {
    /// `ops` operations in `elapsed`.
    pub fn timed(elapsed: Duration, ops: usize) -> Self {
        Self {
            ns_per_op: per_op(elapsed, ops),
            ..Self::default()
        }
    }

    /// With the distribution of `samples` (which must not be empty).
    pub fn with_dist(self, samples: &mut [u64]) -> Self {
        Self {
            dist: Some(Dist::of(samples)),
            ..self
        }
    }
}

/// Nanoseconds per operation.
pub fn per_op(elapsed: Duration, ops: usize) -> f64 {
    elapsed.as_nanos() as f64 / ops as f64
}
