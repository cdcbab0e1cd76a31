//! tokio 1.54.1's `tests/sync_barrier.rs`, with only the imports changed: `tokio::sync::X`
//! is `compio_sync::X`, and `tokio_test` (not a dependency here) is the small
//! stand-in module at the end of this file. The tests still run on tokio's runtime where
//! tokio's did: the point is that code written against tokio's types
//! passes unchanged.
#![cfg(not(loom))]
#![allow(clippy::unnecessary_operation)]
#![warn(rust_2018_idioms)]

#[cfg(all(target_family = "wasm", target_os = "unknown"))]
use wasm_bindgen_test::wasm_bindgen_test as test;

use compio_sync::Barrier;

use tokio_test::task::spawn;
use tokio_test::{assert_pending, assert_ready};

struct IsSend<T: Send>(T);
#[test]
fn barrier_future_is_send() {
    let b = Barrier::new(0);
    IsSend(b.wait());
}

#[test]
fn zero_does_not_block() {
    let b = Barrier::new(0);

    {
        let mut w = spawn(b.wait());
        let wr = assert_ready!(w.poll());
        assert!(wr.is_leader());
    }
    {
        let mut w = spawn(b.wait());
        let wr = assert_ready!(w.poll());
        assert!(wr.is_leader());
    }
}

#[test]
fn single() {
    let b = Barrier::new(1);

    {
        let mut w = spawn(b.wait());
        let wr = assert_ready!(w.poll());
        assert!(wr.is_leader());
    }
    {
        let mut w = spawn(b.wait());
        let wr = assert_ready!(w.poll());
        assert!(wr.is_leader());
    }
    {
        let mut w = spawn(b.wait());
        let wr = assert_ready!(w.poll());
        assert!(wr.is_leader());
    }
}

#[test]
fn tango() {
    let b = Barrier::new(2);

    let mut w1 = spawn(b.wait());
    assert_pending!(w1.poll());

    let mut w2 = spawn(b.wait());
    let wr2 = assert_ready!(w2.poll());
    let wr1 = assert_ready!(w1.poll());

    assert!(wr1.is_leader() || wr2.is_leader());
    assert!(!(wr1.is_leader() && wr2.is_leader()));
}

#[test]
fn lots() {
    let b = Barrier::new(100);

    for _ in 0..10 {
        let mut wait = Vec::new();
        for _ in 0..99 {
            let mut w = spawn(b.wait());
            assert_pending!(w.poll());
            wait.push(w);
        }
        for w in &mut wait {
            assert_pending!(w.poll());
        }

        // pass the barrier
        let mut w = spawn(b.wait());
        let mut found_leader = assert_ready!(w.poll()).is_leader();
        for mut w in wait {
            let wr = assert_ready!(w.poll());
            if wr.is_leader() {
                assert!(!found_leader);
                found_leader = true;
            }
        }
        assert!(found_leader);
    }
}

/// The part of `tokio_test` these tests use: `task::spawn` (a future polled
/// in place with a no-op waker) and the `assert_ready!`/`assert_pending!`
/// macros.
mod tokio_test {
    pub mod task {
        use std::{
            future::Future,
            pin::Pin,
            task::{Context, Poll, Waker},
        };

        pub struct Spawn<F>(Pin<Box<F>>);

        pub fn spawn<F: Future>(future: F) -> Spawn<F> {
            Spawn(Box::pin(future))
        }

        impl<F: Future> Spawn<F> {
            pub fn poll(&mut self) -> Poll<F::Output> {
                self.0
                    .as_mut()
                    .poll(&mut Context::from_waker(Waker::noop()))
            }
        }
    }

    macro_rules! assert_ready {
        ($e:expr) => {
            match $e {
                std::task::Poll::Ready(v) => v,
                std::task::Poll::Pending => panic!("pending"),
            }
        };
    }
    macro_rules! assert_pending {
        ($e:expr) => {
            assert!($e.is_pending(), "ready")
        };
    }
    pub(crate) use {assert_pending, assert_ready};
}

/// tokio's doc example of `Barrier`, with only the import changed.
mod doc_examples {
    #[tokio::test(flavor = "current_thread")]
    async fn barrier() {
        use compio_sync::Barrier;
        use std::sync::Arc;

        let mut handles = Vec::with_capacity(10);
        let barrier = Arc::new(Barrier::new(10));
        for _ in 0..10 {
            let c = barrier.clone();
            // The same messages will be printed together.
            // You will NOT see any interleaving.
            handles.push(tokio::spawn(async move {
                println!("before wait");
                let wait_result = c.wait().await;
                println!("after wait");
                wait_result
            }));
        }

        // Will not resolve until all "after wait" messages have been printed
        let mut num_leaders = 0;
        for handle in handles {
            let wait_result = handle.await.unwrap();
            if wait_result.is_leader() {
                num_leaders += 1;
            }
        }

        // Exactly one barrier will resolve as the "leader"
        assert_eq!(num_leaders, 1);
    }
}
