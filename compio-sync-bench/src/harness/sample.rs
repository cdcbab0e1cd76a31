//! What one run of one implementation measured.

use std::time::Duration;

use hdrhistogram::Histogram;

/// A distribution of durations, in nanoseconds: how long single operations
/// waited, or how long single round trips took.
///
/// The percentiles follow one convention: the `q` quantile of `n` samples
/// is the sample of 0-based rank `round((n - 1) * q)` in ascending order
/// (nearest rank on the `n - 1` scale, halves rounded up; no
/// interpolation), so the p50 of an even count is the upper middle sample.
/// They are read from an [HDR histogram](hdrhistogram) of three significant
/// figures, which gives that sample to within 0.1% (one part in 1024, the
/// width of its bucket, rounded up to the bucket's top, never past the
/// max); values under 2048 ns are exact. The max is exact.
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

/// The histogram's precision: three significant figures.
const SIGNIFICANT_FIGURES: u8 = 3;

impl Dist {
    /// The distribution of `samples`, which must not be empty.
    pub fn of(samples: &[u64]) -> Self {
        assert!(!samples.is_empty(), "a distribution of no samples");
        let mut histogram = Histogram::<u64>::new(SIGNIFICANT_FIGURES)
            .expect("three significant figures are in range");
        for &ns in samples {
            histogram
                .record(ns)
                .expect("an auto-resizing histogram takes any value");
        }
        let n = samples.len() as u64;
        // hdrhistogram's own rank for quantile `q'` is `ceil(q' * n)`
        // (1-based); asking for half a sample below our 1-based rank
        // `round((n - 1) * q) + 1` lands on it with no floating-point edge.
        let at = |q: f64| {
            let rank = ((n - 1) as f64 * q).round() as u64 + 1;
            histogram.value_at_quantile((rank as f64 - 0.5) / n as f64)
        };
        let max = samples.iter().copied().max().unwrap_or(0);
        // A bucket's top can lie past the largest sample in it.
        Self {
            p50: at(0.50).min(max),
            p99: at(0.99).min(max),
            p999: at(0.999).min(max),
            max,
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
    pub fn with_dist(self, samples: &[u64]) -> Self {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The percentiles as they were computed before the histogram: sort,
    /// then index `round((n - 1) * q)`. The oracle of the tests below.
    fn sorted(samples: &[u64]) -> Dist {
        let mut samples = samples.to_vec();
        samples.sort_unstable();
        let n = samples.len();
        let at = |q: f64| samples[((n - 1) as f64 * q).round() as usize];
        Dist {
            p50: at(0.50),
            p99: at(0.99),
            p999: at(0.999),
            max: samples[n - 1],
        }
    }

    /// Every figure of the histogram's `Dist` within 0.1% of the sorted one
    /// (and not below it: the histogram reports its bucket's top), the max
    /// exact.
    fn assert_close(samples: &[u64]) {
        let (got, want) = (Dist::of(samples), sorted(samples));
        assert_eq!(got.max, want.max);
        for (q, got, want) in [
            ("p50", got.p50, want.p50),
            ("p99", got.p99, want.p99),
            ("p999", got.p999, want.p999),
        ] {
            assert!(got >= want, "{q}: {got} < {want}");
            let error = (got - want) as f64 / want.max(1) as f64;
            assert!(error <= 0.001, "{q}: {got} vs {want}: {error:e}");
        }
    }

    /// A deterministic pseudo-random sequence (xorshift64*).
    fn random(seed: u64) -> impl FnMut() -> u64 {
        let mut x = seed;
        move || {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            x.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
    }

    #[test]
    fn percentiles_of_a_known_uniform_distribution_follow_the_documented_rank() {
        // 1..=100_000 ns in a shuffled order: the sample of 0-based rank r
        // is r + 1, so the exact figures are known without sorting.
        let mut next = random(7);
        let mut samples: Vec<u64> = (1..=100_000).collect();
        for i in (1..samples.len()).rev() {
            samples.swap(i, (next() % (i as u64 + 1)) as usize);
        }
        let exact = |q: f64| (99_999.0 * q).round() as u64 + 1;
        assert_eq!(
            sorted(&samples),
            Dist {
                p50: exact(0.5),
                p99: exact(0.99),
                p999: exact(0.999),
                max: 100_000
            }
        );
        assert_close(&samples);
    }

    #[test]
    fn values_under_2048_ns_are_exact_and_an_even_count_takes_the_upper_middle() {
        assert_eq!(Dist::of(&[4, 1, 3, 2]), sorted(&[4, 1, 3, 2]));
        assert_eq!(Dist::of(&[4, 1, 3, 2]).p50, 3);
        assert_eq!(
            Dist::of(&[1]),
            Dist {
                p50: 1,
                p99: 1,
                p999: 1,
                max: 1
            }
        );
        assert_eq!(Dist::of(&[0, 0, 5]).p50, 0);
        let small: Vec<u64> = (0..5_000).map(|i| (i * 7919) % 2_048).collect();
        assert_eq!(Dist::of(&small), sorted(&small));
    }

    #[test]
    fn percentiles_of_wide_and_heavy_tailed_distributions_are_within_a_tenth_of_a_percent() {
        let mut next = random(42);
        // Log-uniform over 1 ns .. about 17 s, as waits across threads are.
        let wide: Vec<u64> = (0..50_000)
            .map(|_| (1u64 << (next() % 34)) | (next() % 1_024))
            .collect();
        assert_close(&wide);
        // Mostly fast with a slow tail (1% at 50-60 µs, 0.05% at ms).
        let tailed: Vec<u64> = (0..32_000)
            .map(|i| match i % 2_000 {
                0 => 3_000_000 + next() % 1_000_000,
                1..=20 => 50_000 + next() % 10_000,
                _ => 300 + next() % 200,
            })
            .collect();
        assert_close(&tailed);
        // Every size from 1 to 300 samples (the rank edge cases).
        for n in 1..=300 {
            let samples: Vec<u64> = (0..n).map(|_| 1_000 + next() % 1_000_000).collect();
            assert_close(&samples);
        }
    }
}
