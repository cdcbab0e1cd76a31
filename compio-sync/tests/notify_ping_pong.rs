//! Notify ping-pong between two threads, each on its own compio runtime, on
//! every backend: A notifies B, B notifies A, for many rounds. A lost wake-up
//! leaves both sides asleep (the watchdog fails the test).
#![cfg(not(loom))]

mod common;

use std::{sync::Arc, thread};

use common::*;
use compio_sync::{
    Notify,
    backend::{Intrusive, MutexVecDeque, ParkingLotHybrid, SegQueue, ThreadSafe},
};

fn ping_pong<B: ThreadSafe>() {
    const REPEATS: usize = 20;
    const ROUNDS: usize = 2_000;
    with_watchdog(SHORT_HANG, || {
        for _ in 0..REPEATS {
            let pair = Arc::new((Notify::<B>::with_backend(), Notify::<B>::with_backend()));
            let sides: Vec<_> = [false, true]
                .into_iter()
                .map(|echo| {
                    let pair = pair.clone();
                    thread::spawn(move || {
                        // A spawned task, not the root future: its waker goes
                        // through the runtime's task queue.
                        Compio::block_on(async move {
                            compio::runtime::spawn(async move {
                                for _ in 0..ROUNDS {
                                    if echo {
                                        pair.0.notified().await;
                                        pair.1.notify_one();
                                    } else {
                                        pair.0.notify_one();
                                        pair.1.notified().await;
                                    }
                                }
                            })
                            .await
                        })
                        .unwrap()
                    })
                })
                .collect();
            for side in sides {
                side.join().unwrap();
            }
        }
    });
}

#[test]
fn ping_pong_intrusive() {
    ping_pong::<Intrusive>();
}
#[test]
fn ping_pong_mutex_vecdeque() {
    ping_pong::<MutexVecDeque>();
}
#[test]
fn ping_pong_parking_lot_hybrid() {
    ping_pong::<ParkingLotHybrid>();
}
#[test]
fn ping_pong_seg_queue() {
    ping_pong::<SegQueue>();
}
#[cfg(all(target_os = "linux", feature = "io-uring-futex"))]
#[test]
fn ping_pong_io_uring_futex() {
    ping_pong::<compio_sync::backend::IoUringFutex>();
}
