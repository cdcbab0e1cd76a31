//! S5b's loop (Notify ping-pong between two tasks on one compio runtime),
//! stripped of the harness, for counting what one round trip costs under a
//! deterministic tool: run it twice under `valgrind --tool=callgrind` with
//! two round counts and divide the difference in instructions by the
//! difference in rounds (the runtime's setup cancels out).
//!
//! ```text
//! cargo build --release -p compio-sync-bench --example s5b_count
//! valgrind --tool=callgrind target/release/examples/s5b_count intrusive 10000
//! ```
//!
//! Implementations: `intrusive` (compio-sync's default), `local`
//! (`compio_sync::local::Notify`), `tokio`, `maitake` (`WaitQueue`, as S5b
//! wraps it) and `floor` (a flag and one waker slot, no synchronization).

use std::{
    cell::Cell,
    future::{Future, poll_fn},
    rc::Rc,
    task::{Poll, Waker},
};

trait Ping: 'static {
    fn create() -> Self;
    fn notify(&self);
    fn wait(&self) -> impl Future<Output = ()> + '_;
}

impl Ping for compio_sync::Notify {
    fn create() -> Self {
        Self::new()
    }
    fn notify(&self) {
        self.notify_one();
    }
    fn wait(&self) -> impl Future<Output = ()> + '_ {
        self.notified()
    }
}

impl Ping for compio_sync::local::Notify {
    fn create() -> Self {
        Self::new()
    }
    fn notify(&self) {
        self.notify_one();
    }
    fn wait(&self) -> impl Future<Output = ()> + '_ {
        self.notified()
    }
}

impl Ping for tokio::sync::Notify {
    fn create() -> Self {
        Self::new()
    }
    fn notify(&self) {
        self.notify_one();
    }
    fn wait(&self) -> impl Future<Output = ()> + '_ {
        self.notified()
    }
}

impl Ping for maitake_sync::WaitQueue {
    fn create() -> Self {
        Self::new()
    }
    fn notify(&self) {
        self.wake();
    }
    async fn wait(&self) {
        maitake_sync::WaitQueue::wait(self)
            .await
            .expect("never closed");
    }
}

struct Floor {
    notified: Cell<bool>,
    waker: Cell<Option<Waker>>,
}

impl Ping for Floor {
    fn create() -> Self {
        Self {
            notified: Cell::new(false),
            waker: Cell::new(None),
        }
    }
    fn notify(&self) {
        self.notified.set(true);
        if let Some(waker) = self.waker.take() {
            waker.wake();
        }
    }
    fn wait(&self) -> impl Future<Output = ()> + '_ {
        poll_fn(|cx| {
            if self.notified.replace(false) {
                Poll::Ready(())
            } else {
                self.waker.set(Some(cx.waker().clone()));
                Poll::Pending
            }
        })
    }
}

fn ping_pong<N: Ping>(rounds: u64) {
    let pair = Rc::new((N::create(), N::create(), Cell::new(0u64)));
    compio::runtime::Runtime::new()
        .expect("a compio runtime")
        .block_on(async {
            let echo = compio::runtime::spawn({
                let pair = pair.clone();
                async move {
                    for _ in 0..rounds {
                        pair.0.wait().await;
                        pair.2.set(pair.2.get() + 1);
                        pair.1.notify();
                    }
                }
            });
            for round in 1..=rounds {
                pair.0.notify();
                pair.1.wait().await;
                assert_eq!(
                    pair.2.get(),
                    round,
                    "a wait returned without its notification"
                );
            }
            echo.await.expect("echo task");
        });
}

fn main() {
    let mut args = std::env::args().skip(1);
    let which = args.next().unwrap_or_default();
    let rounds = args
        .next()
        .map_or(10_000, |n| n.parse().expect("a round count"));
    match which.as_str() {
        "intrusive" => ping_pong::<compio_sync::Notify>(rounds),
        "local" => ping_pong::<compio_sync::local::Notify>(rounds),
        "tokio" => ping_pong::<tokio::sync::Notify>(rounds),
        "maitake" => ping_pong::<maitake_sync::WaitQueue>(rounds),
        "floor" => ping_pong::<Floor>(rounds),
        _ => panic!("usage: s5b_count intrusive|local|tokio|maitake|floor [rounds]"),
    }
}
