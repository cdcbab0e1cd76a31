//! tokio's cooperative scheduling budget, when the `tokio` feature is on.
//!
//! tokio gives each task a budget of operations per poll; its own sync
//! primitives spend one unit per completed operation and return `Pending`
//! (after waking the task) once the budget is spent, so a loop that never
//! waits still yields to the scheduler. With the `tokio` feature, this
//! crate's futures take part in the same way, so tokio code that relies on it
//! (a loop re-locking a mutex on a `current_thread` runtime) behaves the same
//! after porting. Without the feature, or outside a tokio runtime, the budget
//! is unlimited and these functions cost nothing.

use std::task::{Context, Poll};

#[cfg(all(feature = "tokio", not(loom)))]
pub(crate) use tokio::task::coop::poll_proceed;

/// Stand-in for `tokio::task::coop::RestoreOnPending` without the feature.
#[cfg(not(all(feature = "tokio", not(loom))))]
pub(crate) struct RestoreOnPending;

#[cfg(not(all(feature = "tokio", not(loom))))]
impl RestoreOnPending {
    /// Spends the unit of budget taken by `poll_proceed` (no-op here).
    #[inline(always)]
    pub(crate) fn made_progress(&self) {}
}

/// Takes one unit of tokio's task budget: `Pending` (the task already woken)
/// if it is spent. Call `made_progress` on the result when the operation
/// completes; dropping it without that gives the unit back.
#[cfg(not(all(feature = "tokio", not(loom))))]
#[inline(always)]
pub(crate) fn poll_proceed(_cx: &mut Context<'_>) -> Poll<RestoreOnPending> {
    Poll::Ready(RestoreOnPending)
}

/// Runs one poll of an operation under the budget: yields (returns
/// `Pending`, the task woken) when the budget is spent, and spends a unit
/// when `poll` completes.
#[inline(always)]
pub(crate) fn budgeted<T>(
    cx: &mut Context<'_>,
    poll: impl FnOnce(&mut Context<'_>) -> Poll<T>,
) -> Poll<T> {
    let coop = std::task::ready!(poll_proceed(cx));
    let result = poll(cx);
    if result.is_ready() {
        coop.made_progress();
    }
    result
}
