//! The permit protocol's private half: taking permits, waking or handing
//! over to waiters, counting waiters, the priority waiter. The public API in
//! `mod.rs`, the [`Acquire`](super::Acquire) future and the releases in
//! `release.rs` are written on these.

use super::{
    CLOSED, ONE_WAITER, PENDING, PERMIT_SHIFT, PRIORITY, Semaphore, TryAcquireError, WAKE_GRANTED,
    WAKE_RETRY, available,
    flavor::{Ordering::*, fence},
};
use crate::backend::{Select, WaitQueue};

impl<B: WaitQueue> Semaphore<B> {
    /// Takes `n` permits if the policy allows it now.
    ///
    /// `strict` closes the fast path while anyone waits (strict FIFO).
    #[inline]
    pub(super) fn try_take(&self, n: usize, strict: bool) -> Result<(), TryAcquireError> {
        // Acquire (here and on a failed CAS): an `Err(Closed)` happens-after
        // the `close` it saw (pairs with its AcqRel `fetch_or`), as in tokio,
        // so a caller may read what was written before the close (OnceCell
        // does).
        let mut cur = self.permits.load(Acquire);
        loop {
            if cur & CLOSED != 0 {
                return Err(TryAcquireError::Closed);
            }
            if n == 0 {
                // As tokio: zero permits are always available, whoever waits.
                return Ok(());
            }
            if cur & PRIORITY != 0 || available(cur) < n {
                return Err(TryAcquireError::NoPermits);
            }
            if strict && self.waiters.load(Relaxed) >= ONE_WAITER {
                // Strict order: queued waiters come first. (Permits a
                // release hands over never reach the word, so this only
                // matters in the instant a waiter is registering.)
                return Err(TryAcquireError::NoPermits);
            }
            // Acquire: the previous holders' writes happen-before ours (pairs
            // with the Release in `release`).
            match self.permits.compare_exchange_weak(
                cur,
                cur - (n << PERMIT_SHIFT),
                Acquire,
                Acquire,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => cur = actual,
            }
        }
    }

    /// Whether released permits go to the queue in order (strict FIFO, or a
    /// starving waiter holds `PRIORITY`) rather than to whoever takes them.
    pub(super) fn hands_over(&self, word: usize) -> bool {
        self.strict || word & PRIORITY != 0
    }

    /// Wakes whoever should take the available permits next: in hand-over
    /// mode, assigns them to the queue in order; otherwise wakes one waiter
    /// unless a wake is already in flight.
    ///
    /// Called after every change that can let a waiter proceed: a release, a
    /// waiter leaving with permits to spare, a cancelled waiter passing on its
    /// wake-up, `PRIORITY` cleared.
    pub(super) fn wake_next(&self) {
        self.wake_next_after(false);
    }

    /// [`wake_next`](Self::wake_next) for a caller whose change was a
    /// `SeqCst` read-modify-write of `permits` ([`add_to_word`]'s `fetch_add`): that
    /// RMW does the fence's job for the first look, which skips the fence
    /// (on x86 a second locked instruction per release).
    ///
    /// Why that suffices: the waiter side is (count itself in `waiters`;
    /// `SeqCst` fence F; load `permits`). If our RMW precedes F in the
    /// single total order of `SeqCst` operations, the waiter's load,
    /// sequenced after F, sees our permits (or later). Otherwise F precedes
    /// our RMW, hence our `SeqCst` load of `waiters` sequenced after it, and
    /// that load sees the waiter's count (or later). Either way one side
    /// acts. Under loom, which models `SeqCst` accesses as `AcqRel` only,
    /// the fence stays, and the models check the fence-based protocol that
    /// this is the cheaper equivalent of.
    ///
    /// [`add_to_word`]: Semaphore::add_to_word
    ///
    /// Inlined up to the look at `waiters`: an uncontended release ends
    /// there, and the rest (its loop, the hand-over) stays out of line.
    ///
    /// A wake-up already in flight (`PENDING`) ends it there too under
    /// barging: its waiter looks at the permits after it gives `PENDING` up
    /// (`requeue_waiter`, then the re-check), so it sees ours, which is
    /// what `wake_next_after` concludes from the same two words. This is
    /// the common case of a task that releases and takes again a permit
    /// that another waiter was woken for (a contended mutex), and it stays
    /// a few inlined loads.
    #[inline]
    pub(super) fn wake_next_after_add(&self) {
        if !cfg!(loom) {
            // SeqCst: this is the load the argument above needs (it only
            // moves ahead of the look at the word, which is an early exit
            // too).
            let waiters = self.waiters.load(SeqCst);
            if waiters < ONE_WAITER
                || (waiters & PENDING != 0 && !self.hands_over(self.permits.load(Relaxed)))
            {
                return;
            }
        }
        self.wake_next_after(!cfg!(loom));
    }

    #[inline(never)]
    fn wake_next_after(&self, mut caller_was_seqcst_rmw: bool) {
        loop {
            if !caller_was_seqcst_rmw {
                // SeqCst: orders the caller's change to `permits` (or
                // `waiters`) before the loads below, against a waiter's
                // (register; count; fence; re-check). Either we see it
                // counted, or it sees our change (and takes the permits, or
                // in hand-over mode moves them itself).
                fence(SeqCst);
            }
            caller_was_seqcst_rmw = false;
            let word = self.permits.load(Relaxed);
            if word & CLOSED != 0 || available(word) == 0 {
                // Closing wakes every waiter itself.
                return;
            }
            // SeqCst (these two loads): without the fence above, they are
            // the `SeqCst` load the argument in `wake_next_after_add` needs
            // (a plain load on x86 and an `ldar` on Arm, like Relaxed and
            // Acquire).
            if self.hands_over(word) {
                if self.waiters.load(SeqCst) >= ONE_WAITER {
                    self.hand_over();
                }
                return;
            }
            let mut w = self.waiters.load(SeqCst);
            loop {
                if w < ONE_WAITER || w & PENDING != 0 {
                    return;
                }
                // Acquire: the registrations counted in `w` happen-before our
                // `notify_one` (pairs with the AcqRel increment in
                // `count_waiter`).
                match self
                    .waiters
                    .compare_exchange_weak(w, w | PENDING, Acquire, Relaxed)
                {
                    Ok(_) => break,
                    Err(actual) => w = actual,
                }
            }
            // Read before `notify_one_near`: a waiter it cannot find links
            // itself after it, and counts its registration after that.
            let seen = self.registrations.load(Relaxed);
            // Any waiter may answer a `RETRY` wake-up (it only gets to try
            // for the permits), so one of this thread goes first, within the
            // queue's bound (see `WaitQueue::notify_one_near`), or for up to
            // half the starvation bound (`set_local_phases`).
            let woke = if self.keeps_local_phase() {
                let patience = self.starvation_bound / 2;
                self.queue.notify_one_near_within(WAKE_RETRY, patience)
            } else {
                self.queue.notify_one_near(WAKE_RETRY)
            };
            if woke {
                return;
            }
            // Nobody was queued to wake (the waiters we counted are leaving):
            // drop PENDING. But a waiter may have registered since our look,
            // re-checked before a release, and that release may have seen
            // our PENDING and left its wake-up to us. So if anyone registered
            // meanwhile, look again. (AcqRel: a registration counted before
            // this RMW is seen by the load below; see `count_waiter`.) This
            // loops only while new waiters arrive.
            self.waiters.fetch_and(!PENDING, AcqRel);
            if self.registrations.load(Relaxed) == seen {
                return;
            }
        }
    }

    /// Hand-over: assigns available permits to queued waiters, oldest first,
    /// each up to what it still needs, and wakes each one that has all it
    /// needs. Stops at the first waiter it cannot complete (which keeps what
    /// it was given: strict order, as tokio's).
    pub(super) fn hand_over(&self) {
        self.queue.notify_while(|need| {
            let got = self.take_for_hand_over(*need);
            *need -= got;
            self.select_if_served(*need)
        });
    }

    /// How many of `available` permits a hand-over gives a waiter that still
    /// needs `need`. Strict FIFO assigns part of what the head needs, as
    /// tokio does (the head is the only waiter that can hold a part: nobody
    /// overtakes it). Under the default policy a waiter gets all it needs or
    /// nothing: woken waiters queue again at the head, so a waiter holding a
    /// part could be overtaken by another, and parts held by two waiters
    /// could add up to every permit, with neither served. Meanwhile the
    /// permits wait in the word, where `PRIORITY` keeps barging tasks off
    /// them.
    pub(super) fn hand_over_share(&self, available: usize, need: usize) -> usize {
        if self.strict || available >= need {
            available.min(need)
        } else {
            0
        }
    }

    /// Hand-over straight from a release of `n` permits: as
    /// [`hand_over`](Self::hand_over), but from `n` rather than from the
    /// word. Returns what no waiter needed.
    ///
    /// If a woken waiter's waker panics, the queue finishes the hand-over
    /// and then resumes the panic: what no waiter needed goes to the word
    /// first, so that no permit is lost.
    #[track_caller]
    #[inline(never)]
    pub(super) fn hand_over_from(&self, n: usize) -> usize {
        let mut rest = n;
        let handed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.queue.notify_while(|need| {
                if rest == 0 {
                    return Select::Keep;
                }
                let give = self.hand_over_share(rest, *need);
                if give == 0 {
                    return Select::Keep;
                }
                rest -= give;
                *need -= give;
                self.select_if_served(*need)
            })
        }));
        if let Err(panic) = handed {
            if rest > 0 {
                self.add_to_word(rest);
            }
            std::panic::resume_unwind(panic);
        }
        rest
    }

    /// A hand-over selector's verdict once the offered waiter still needs
    /// `need`: complete (uncounted here, under the selection lock, before it
    /// is unlinked: a counted waiter is always queued or leaving) or keep.
    pub(super) fn select_if_served(&self, need: usize) -> Select {
        if need == 0 {
            self.uncount_waiter();
            Select::Notify(WAKE_GRANTED)
        } else {
            Select::Keep
        }
    }

    /// Takes up to `need` available permits for a hand-over (under the
    /// queue's selection lock); none once closed.
    pub(super) fn take_for_hand_over(&self, need: usize) -> usize {
        let mut cur = self.permits.load(Relaxed);
        loop {
            let take = if cur & CLOSED != 0 {
                0
            } else {
                self.hand_over_share(available(cur), need)
            };
            if take == 0 {
                return 0;
            }
            // Acquire: the releasers' writes happen-before the waiter's use
            // of the permits (the queue's Release/Acquire on the waiter's
            // state carries them on to it).
            match self.permits.compare_exchange_weak(
                cur,
                cur - (take << PERMIT_SHIFT),
                Acquire,
                Relaxed,
            ) {
                Ok(_) => return take,
                Err(actual) => cur = actual,
            }
        }
    }

    pub(super) fn clear_pending(&self) {
        self.waiters.fetch_and(!PENDING, AcqRel);
    }

    /// Counts a freshly registered waiter.
    pub(super) fn count_waiter(&self) {
        self.registrations.fetch_add(1, Relaxed);
        // AcqRel: publishes the registration (and the increment above) to
        // `wake_next`'s Acquire CAS and its AcqRel clearing of PENDING.
        // SeqCst: on a queue that registers under its selection lock, this
        // RMW stands in for the waiter's fence before its re-check (see
        // `Acquire`'s `start`); it costs no more than AcqRel on x86.
        self.waiters.fetch_add(ONE_WAITER, SeqCst);
    }

    /// Publishes the registration of a waiter that queues again after a
    /// `RETRY` wake-up found the permits taken, and clears the `PENDING` it
    /// held. It stayed counted meanwhile, and it does not bump
    /// `registrations`: that count is for a releaser that found nobody
    /// queued while it held `PENDING`, and no releaser holds `PENDING` while
    /// this waiter does, so none looked at the queue since this waiter left
    /// it. A releaser that sets `PENDING` after this clear reads it (its
    /// Acquire CAS) and so finds the waiter linked.
    pub(super) fn requeue_waiter(&self) {
        // AcqRel: publishes the registration, as `count_waiter`'s increment
        // does, to `wake_next`'s Acquire CAS; and orders our clearing of
        // PENDING before our fence and re-check. SeqCst: stands in for that
        // fence where `start` leaves it out, as in `count_waiter`.
        self.waiters.fetch_and(!PENDING, SeqCst);
    }

    /// A waiter woken with `RETRY` leaves without queueing again (served,
    /// closed, or dropped): uncounts it and clears the `PENDING` it held, in
    /// one read-modify-write.
    pub(super) fn leave_retrying(&self) {
        // PENDING is set: only the `RETRY` waiter clears it once a wake-up
        // reached it. AcqRel, as `uncount_waiter` and `clear_pending`. (The
        // count may read zero here: it can be one low for an instant, see
        // the `waiters` field; the subtraction wraps and comes right.)
        let before = self.waiters.fetch_sub(ONE_WAITER | PENDING, AcqRel);
        debug_assert!(
            before & PENDING != 0,
            "leave_retrying: not the wake-up in flight: {before:#x}"
        );
    }

    /// Uncounts a waiter that left the queue: by the waiter itself when it
    /// cancels or runs after a `RETRY` or `CLOSED` wake-up, by the hand-over
    /// that grants it.
    pub(super) fn uncount_waiter(&self) {
        self.waiters.fetch_sub(ONE_WAITER, AcqRel);
    }

    /// Sets `PRIORITY` for a starving waiter. Returns whether this call set
    /// it (the caller then owns it and must clear it when it leaves); `false`
    /// if another waiter holds it or the semaphore is closed.
    pub(super) fn claim_priority(&self) -> bool {
        let mut cur = self.permits.load(Relaxed);
        loop {
            if cur & (CLOSED | PRIORITY) != 0 {
                return false;
            }
            match self
                .permits
                .compare_exchange_weak(cur, cur | PRIORITY, AcqRel, Relaxed)
            {
                Ok(_) => return true,
                Err(actual) => cur = actual,
            }
        }
    }

    /// The waiter that set `PRIORITY` leaves: barging resumes, and permits
    /// that were waiting for a hand-over go to whoever is next.
    pub(super) fn release_priority(&self) {
        self.permits.fetch_and(!PRIORITY, AcqRel);
        self.wake_next();
    }
}

impl<B: WaitQueue> Semaphore<B> {
    /// The first poll of an [`Acquire`](super::Acquire) of `n` permits
    /// without building one: `true` with the permits taken (to be tracked
    /// by the caller, as after [`forget`](super::SemaphorePermit::forget)),
    /// `false` if the caller must wait (and then builds the `Acquire`). For
    /// a primitive whose uncontended path should not initialise a wait
    /// future and its queue node (a mutex's `lock`). Takes the same share of
    /// tokio's coop budget as the `Acquire` (with the `tokio` feature), and
    /// gives it back if it must wait.
    pub(crate) async fn acquire_now(&self, n: usize) -> bool {
        std::future::poll_fn(|cx| {
            let coop = std::task::ready!(crate::coop::poll_proceed(cx));
            let taken = self.try_take(n, self.strict).is_ok();
            if taken {
                coop.made_progress();
            }
            std::task::Poll::Ready(taken)
        })
        .await
    }

    /// [`try_acquire_many`](Self::try_acquire_many) followed by
    /// [`forget`](super::SemaphorePermit::forget), without building the permit: for
    /// a primitive that tracks the permits it holds itself (the bounded
    /// mpsc channel's slots, given back with `release`). Inlined: it is
    /// such a primitive's fast path.
    #[inline]
    pub(crate) fn try_acquire_forget(&self, n: usize) -> Result<(), TryAcquireError> {
        self.try_take(n, self.strict)
    }

    /// [`release`](Self::release) of `n` permits that the caller took from
    /// this semaphore (with [`try_acquire_forget`](Self::try_acquire_forget)
    /// or a forgotten permit), so the total cannot exceed what it held:
    /// no overflow check, and one `fetch_add` instead of a CAS loop when no
    /// waiter is to be handed the permits. The same protocol as `release`
    /// otherwise. Inlined up to that add: it is once per message in the
    /// bounded mpsc channel. Returns whether waiters were there to be
    /// handed the permits (a hint: one of them is likely woken now).
    #[inline]
    pub(crate) fn release_taken(&self, n: usize) -> bool {
        if n == 0 {
            return false;
        }
        if self.hands_over(self.permits.load(Relaxed)) && self.waiters.load(Relaxed) >= ONE_WAITER {
            // Waiters to hand the permits to (or a priority waiter): the
            // general path.
            self.release(n);
            return true;
        }
        // SeqCst, as `add_to_word`'s `fetch_add` (Release: the permits' previous
        // users happen-before whoever takes them; SeqCst: stands in for
        // `wake_next`'s fence, see `wake_next_after_add`). Cannot pass
        // `MAX_PERMITS`: these permits were taken from this word.
        self.permits.fetch_add(n << PERMIT_SHIFT, SeqCst);
        self.wake_next_after_add();
        false
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use std::{
        pin::Pin,
        task::{Context, Poll, Waker},
        time::Duration,
    };

    use crate::backend::Intrusive;

    type Waiting<'a> = Option<Pin<Box<crate::semaphore::Acquire<'a, Intrusive>>>>;

    /// Polls a waiting acquire (with a waker that does nothing: a waiter
    /// that was not woken stays `Pending`, so the one served shows which
    /// was woken); `true` once served, the permit forgotten.
    fn served(acquire: &mut Waiting<'_>) -> bool {
        let Some(future) = acquire.as_mut() else {
            return false;
        };
        let cx = &mut Context::from_waker(Waker::noop());
        match std::future::Future::poll(future.as_mut(), cx) {
            Poll::Pending => false,
            Poll::Ready(permit) => {
                permit.expect("never closed").forget();
                *acquire = None;
                true
            }
        }
    }

    /// A semaphore with local phases and no permits: a waiter of another
    /// thread at the head of its queue, six of this thread behind it; if
    /// `paused_shard`, local phases are paused for that wait shard. Releases
    /// one permit at a time and serves the waiter woken. Returns at which
    /// release the head was served (1-based).
    fn head_served_at(paused_shard: Option<usize>) -> usize {
        // The thread-safe semaphore (this file is built for both flavors).
        let mut sem = crate::Semaphore::<Intrusive>::with_backend(0);
        sem.set_local_phases();
        sem.set_starvation_bound(Duration::from_secs(3600));
        let mut acquires: Vec<Waiting<'_>> =
            (0..7).map(|_| Some(Box::pin(sem.acquire()))).collect();
        std::thread::scope(|s| {
            s.spawn(|| assert!(!served(&mut acquires[0])));
        });
        for acquire in &mut acquires[1..] {
            assert!(!served(acquire));
        }
        if let Some(shard) = paused_shard {
            sem.pause_local_phases(shard);
        }
        for release in 1..=7 {
            sem.release(1);
            let woken: Vec<usize> = (0..7).filter(|&n| served(&mut acquires[n])).collect();
            assert_eq!(woken.len(), 1, "release {release}: served {woken:?}");
            if woken[0] == 0 {
                return release;
            }
        }
        unreachable!("the head was served by the 7th release at the latest")
    }

    /// Local phases keep to this thread's waiters past the 4 wake-ups in a
    /// row of `notify_one_near`, unless a writer of another wait shard
    /// waits for the writers' turn (`pause_local_phases`); one of this
    /// thread's own shard does not pause them.
    #[test]
    fn local_phases_pause_for_another_shard_only() {
        if !super::super::flavor::WRITER_COHORTS {
            // This file's `local` build: the same test, already run.
            return;
        }
        let mine = crate::flavor::wait_shard();
        let other = (mine + 1) % crate::flavor::WAIT_SHARDS;
        assert_eq!(head_served_at(None), 7, "all six of ours first");
        assert_eq!(head_served_at(Some(mine)), 7, "our own shard's writer");
        assert_eq!(head_served_at(Some(other)), 5, "as notify_one_near");
    }
}
