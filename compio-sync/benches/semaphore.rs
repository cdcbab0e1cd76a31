//! Criterion micro-benchmarks of the Semaphore on each backend and policy,
//! beside tokio's. The comparison binary (`compio-sync-bench`) runs the full
//! scenario set; these are for profiling one path at a time.
//!
//! Each iteration checks its result (a permit was obtained, the count of
//! completed critical sections is exact), so a broken path cannot look fast.

use std::{hint::black_box, sync::Arc};

use compio_sync::{
    Semaphore,
    backend::{Intrusive, MutexVecDeque, ParkingLotHybrid, SegQueue, WaitQueue},
};
use criterion::{Criterion, criterion_group, criterion_main};

fn uncontended<B: WaitQueue>(c: &mut Criterion, name: &str, strict: bool) {
    let s = Semaphore::<B>::with_backend(1);
    let s = if strict { s.strict_fifo() } else { s };
    c.bench_function(&format!("S1 try_acquire+drop/{name}"), |b| {
        b.iter(|| {
            let p = black_box(&s).try_acquire().expect("uncontended");
            drop(p);
        })
    });
    let rt = compio::runtime::Runtime::new().unwrap();
    c.bench_function(&format!("S2 acquire.await+drop/{name}"), |b| {
        b.iter(|| {
            rt.block_on(async {
                let p = black_box(&s).acquire().await.expect("open");
                drop(p);
            })
        })
    });
}

/// 64 tasks on one runtime looping {acquire, yield, release} on 1 permit.
fn contended_one_runtime<B: WaitQueue>(c: &mut Criterion, name: &str, strict: bool) {
    const TASKS: usize = 64;
    const ITERS: usize = 20;
    let rt = compio::runtime::Runtime::new().unwrap();
    c.bench_function(&format!("S3 64 tasks x {ITERS} on 1 permit/{name}"), |b| {
        b.iter(|| {
            let s = Semaphore::<B>::with_backend(1);
            let s = Arc::new(if strict { s.strict_fifo() } else { s });
            let done = rt.block_on(async {
                let tasks: Vec<_> = (0..TASKS)
                    .map(|_| {
                        let s = s.clone();
                        compio::runtime::spawn(async move {
                            for _ in 0..ITERS {
                                let _p = s.acquire().await.unwrap();
                                yield_now().await;
                            }
                            ITERS
                        })
                    })
                    .collect();
                let mut done = 0;
                for t in tasks {
                    done += t.await.unwrap();
                }
                done
            });
            assert_eq!(done, TASKS * ITERS);
        })
    });
}

async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}

fn tokio_peer(c: &mut Criterion) {
    let s = tokio::sync::Semaphore::new(1);
    c.bench_function("S1 try_acquire+drop/tokio", |b| {
        b.iter(|| drop(black_box(&s).try_acquire().expect("uncontended")))
    });
}

fn benches(c: &mut Criterion) {
    uncontended::<Intrusive>(c, "intrusive", false);
    uncontended::<Intrusive>(c, "intrusive-fifo", true);
    uncontended::<MutexVecDeque>(c, "mutex-vecdeque", false);
    uncontended::<MutexVecDeque>(c, "mutex-vecdeque-fifo", true);
    uncontended::<ParkingLotHybrid>(c, "parking-lot-hybrid", false);
    uncontended::<SegQueue>(c, "seg-queue", false);
    tokio_peer(c);
    contended_one_runtime::<Intrusive>(c, "intrusive", false);
    contended_one_runtime::<Intrusive>(c, "intrusive-fifo", true);
    contended_one_runtime::<MutexVecDeque>(c, "mutex-vecdeque", false);
    contended_one_runtime::<MutexVecDeque>(c, "mutex-vecdeque-fifo", true);
    contended_one_runtime::<ParkingLotHybrid>(c, "parking-lot-hybrid", false);
    contended_one_runtime::<ParkingLotHybrid>(c, "parking-lot-hybrid-fifo", true);
    contended_one_runtime::<SegQueue>(c, "seg-queue", false);
    contended_one_runtime::<SegQueue>(c, "seg-queue-fifo", true);
}

criterion_group!(semaphore, benches);
criterion_main!(semaphore);
