//! What the harness is given to run: a [`Bench`] is one scenario as the
//! harness sees it (an id, a title, which columns it fills) with the
//! [`Candidate`]s to run in it. The scenario families build these; the
//! harness never looks inside a run.

use std::sync::Arc;

use super::sample::Sample;

/// One run of one candidate in one scenario: does the work, checks it was
/// done (panicking otherwise) and returns what it measured.
pub type RunFn = Arc<dyn Fn() -> Sample + Send + Sync>;

/// What a row stands for. It decides the colour in the chart and whether the
/// row counts as a peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// compio-sync, default fairness policy.
    Ours,
    /// compio-sync, strict FIFO policy.
    OursStrictFifo,
    /// Another crate's primitive.
    Peer,
    /// The scenario's loop with no synchronization at all: what the loop
    /// itself costs. Not a peer: never a "best peer", never a baseline.
    Floor,
}

impl Role {
    /// Whether this row is compio-sync's (either policy).
    pub fn is_ours(self) -> bool {
        matches!(self, Self::Ours | Self::OursStrictFifo)
    }

    /// The name used in the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ours => "ours",
            Self::OursStrictFifo => "ours-strict-fifo",
            Self::Peer => "peer",
            Self::Floor => "floor",
        }
    }
}

/// One implementation (or the floor) to run in a [`Bench`].
#[derive(Clone)]
pub struct Candidate {
    /// Display name, unique within its bench.
    pub name: &'static str,
    /// What the row stands for.
    pub role: Role,
    /// One run.
    pub run: RunFn,
}

/// What the single-operation distribution of a scenario measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DistKind {
    /// How long single operations waited (e.g. for a permit or the lock).
    Wait,
    /// How long single round trips took.
    RoundTrip,
}

impl DistKind {
    /// Short column prefix in the text table.
    pub fn short(self) -> &'static str {
        match self {
            Self::Wait => "wait",
            Self::RoundTrip => "rt",
        }
    }

    /// Key prefix in the JSON.
    pub fn key(self) -> &'static str {
        match self {
            Self::Wait => "wait",
            Self::RoundTrip => "round_trip",
        }
    }

    /// Words for the chart and the Markdown tables.
    pub fn words(self) -> &'static str {
        match self {
            Self::Wait => "wait",
            Self::RoundTrip => "round trip",
        }
    }
}

/// Which figures a scenario reports, and so which columns its table has.
#[derive(Clone, Copy, Debug)]
pub struct Columns {
    /// Label of the time column ("ns/op", "ns/item", "mean rt").
    pub time: &'static str,
    /// What the time is, in words, for the chart ("ns per operation").
    pub time_words: &'static str,
    /// The distribution the runs report, if any.
    pub dist: Option<DistKind>,
    /// The chart shows allocations per operation instead of the time.
    pub chart_allocs: bool,
}

impl Columns {
    /// Nanoseconds per operation, nothing else.
    pub const NS_PER_OP: Self = Self {
        time: "ns/op",
        time_words: "ns per operation",
        dist: None,
        chart_allocs: false,
    };
}

/// One scenario as the harness sees it.
#[derive(Clone, Debug)]
pub struct Case {
    /// Short stable id (JSON key, `--scenario` filter).
    pub id: String,
    /// One-line description.
    pub title: String,
    /// The figures it reports.
    pub columns: Columns,
    /// One discarded warm-up pass first (for the cheap single-runtime
    /// scenarios).
    pub warmup: bool,
    /// At most this many repeats (e.g. allocation counts need few).
    pub max_repeats: Option<usize>,
}

/// One scenario with its candidates.
#[derive(Clone)]
pub struct Bench {
    /// The scenario.
    pub case: Case,
    /// Name of the candidate every ratio is taken against.
    pub baseline: &'static str,
    /// Label of the ratio column ("x tokio").
    pub ratio_label: &'static str,
    /// What runs, in registry order.
    pub candidates: Vec<Candidate>,
}
