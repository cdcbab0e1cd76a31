//! tokio 1.54's doc examples of `sync::watch` and `sync::broadcast`
//! (`src/sync/watch.rs`, `src/sync/broadcast.rs`), each a test, with only
//! the import changed (`tokio::sync::{watch, broadcast}` ->
//! `compio_sync::{watch, broadcast}`). They still run on tokio's runtime
//! (`#[tokio::main]`, `tokio::spawn`): the channels are runtime-agnostic.
//! Extracted from tokio's sources (hidden `# ` lines included, as rustdoc
//! runs them); examples marked `ignore`, `no_run` or `compile_fail` are left
//! out. (tokio's `async fn dox()` examples are compiled and not run, as
//! rustdoc does.)
#![cfg(not(loom))]
#![allow(unused_variables, unused_mut, unused_imports, dead_code, clippy::all)]

#[test]
fn watch_doc_1() {
    use compio_sync::watch;
    use tokio::time::{Duration, sleep};

    async fn dox() -> Result<(), Box<dyn std::error::Error>> {
        let (tx, mut rx) = watch::channel("hello");

        tokio::spawn(async move {
            // Use the equivalent of a "do-while" loop so the initial value is
            // processed before awaiting the `changed()` future.
            loop {
                println!("{}! ", *rx.borrow_and_update());
                if rx.changed().await.is_err() {
                    break;
                }
            }
        });

        sleep(Duration::from_millis(100)).await;
        tx.send("world")?;
        Ok(())
    }
}

#[test]
fn watch_doc_2() {
    use compio_sync::watch;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        let (tx, mut rx) = watch::channel("hello");
        tx.send("goodbye").unwrap();
        drop(tx);

        // `has_changed` does not mark the value as seen and errors
        // since the channel is closed.
        assert!(rx.has_changed().is_err());

        // `changed` returns Ok since the value is not already marked as seen
        // even if the channel is closed.
        assert!(rx.changed().await.is_ok());

        // The `changed` call above marks the value as seen.
        // The next `changed` call now returns an error as the channel is closed
        // AND the current value is seen.
        assert!(rx.changed().await.is_err());
    }
    main();
}

#[test]
fn watch_doc_3() {
    use compio_sync::watch;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        let (tx, mut rx) = watch::channel("hello");

        tx.send("goodbye").unwrap();
        // The sender does never consider the value as changed.
        assert!(!tx.borrow().has_changed());

        // Drop the sender immediately, just for testing purposes.
        drop(tx);

        // Even if the sender has already been dropped...
        assert!(rx.has_changed().is_err());
        // ...the modified value is still readable and detected as changed.
        assert_eq!(*rx.borrow(), "goodbye");
        assert!(rx.borrow().has_changed());

        // Read the changed value and mark it as seen.
        {
            let received = rx.borrow_and_update();
            assert_eq!(*received, "goodbye");
            assert!(received.has_changed());
            // Release the read lock when leaving this scope.
        }

        // Now the value has already been marked as seen and could
        // never be modified again (after the sender has been dropped).
        assert!(!rx.borrow().has_changed());
    }
    main();
}

#[test]
fn watch_doc_4() {
    use compio_sync::watch;
    use tokio::time::{Duration, sleep};

    async fn dox() -> Result<(), Box<dyn std::error::Error>> {
        let (tx, mut rx) = watch::channel("hello");

        tokio::spawn(async move {
            // Use the equivalent of a "do-while" loop so the initial value is
            // processed before awaiting the `changed()` future.
            loop {
                println!("{}! ", *rx.borrow_and_update());
                if rx.changed().await.is_err() {
                    break;
                }
            }
        });

        sleep(Duration::from_millis(100)).await;
        tx.send("world")?;
        Ok(())
    }
}

#[test]
fn watch_doc_5() {
    use compio_sync::watch;

    let (_, rx) = watch::channel("hello");
    assert_eq!(*rx.borrow(), "hello");
}

#[test]
fn watch_doc_6() {
    use compio_sync::watch;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        let (tx, mut rx) = watch::channel("hello");

        tx.send("goodbye").unwrap();

        assert!(rx.has_changed().unwrap());
        assert_eq!(*rx.borrow_and_update(), "goodbye");

        // The value has been marked as seen
        assert!(!rx.has_changed().unwrap());
    }
    main();
}

#[test]
fn watch_doc_7() {
    use compio_sync::watch;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        let (tx, rx) = watch::channel("hello");
        tx.send("goodbye").unwrap();

        drop(tx);

        // The channel is closed
        assert!(rx.has_changed().is_err());
    }
    main();
}

#[test]
fn watch_doc_8() {
    use compio_sync::watch;

    let (tx, rx) = watch::channel(());
    assert!(!rx.is_closed());

    drop(tx);
    assert!(rx.is_closed());
}

#[test]
fn watch_doc_9() {
    use compio_sync::watch;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        let (tx, mut rx) = watch::channel("hello");

        tokio::spawn(async move {
            tx.send("goodbye").unwrap();
        });

        assert!(rx.changed().await.is_ok());
        assert_eq!(*rx.borrow_and_update(), "goodbye");

        // The `tx` handle has been dropped
        assert!(rx.changed().await.is_err());
    }
    main();
}

#[test]
fn watch_doc_10() {
    use compio_sync::watch;
    use tokio::time::{Duration, sleep};

    #[tokio::main(flavor = "current_thread", start_paused = true)]
    async fn main() {
        let (tx, mut rx) = watch::channel("hello");

        tokio::spawn(async move {
            sleep(Duration::from_secs(1)).await;
            tx.send("goodbye").unwrap();
        });

        assert!(rx.wait_for(|val| *val == "goodbye").await.is_ok());
        assert_eq!(*rx.borrow(), "goodbye");
    }
    main();
}

#[test]
fn watch_doc_11() {
    let (tx, rx) = compio_sync::watch::channel(true);
    let rx2 = rx.clone();
    assert!(rx.same_channel(&rx2));

    let (tx3, rx3) = compio_sync::watch::channel(true);
    assert!(!rx3.same_channel(&rx2));
}

#[test]
fn watch_doc_12() {
    let sender = compio_sync::watch::Sender::new(0u8);
    assert!(sender.send(3).is_err());
    let _rec = sender.subscribe();
    assert!(sender.send(4).is_ok());
}

#[test]
fn watch_doc_13() {
    use compio_sync::watch;

    struct State {
        counter: usize,
    }
    let (state_tx, state_rx) = watch::channel(State { counter: 0 });
    state_tx.send_modify(|state| state.counter += 1);
    assert_eq!(state_rx.borrow().counter, 1);
}

#[test]
fn watch_doc_14() {
    use compio_sync::watch;

    struct State {
        counter: usize,
    }
    let (state_tx, mut state_rx) = watch::channel(State { counter: 1 });
    let inc_counter_if_odd = |state: &mut State| {
        if state.counter % 2 == 1 {
            state.counter += 1;
            return true;
        }
        false
    };

    assert_eq!(state_rx.borrow().counter, 1);

    assert!(!state_rx.has_changed().unwrap());
    assert!(state_tx.send_if_modified(inc_counter_if_odd));
    assert!(state_rx.has_changed().unwrap());
    assert_eq!(state_rx.borrow_and_update().counter, 2);

    assert!(!state_rx.has_changed().unwrap());
    assert!(!state_tx.send_if_modified(inc_counter_if_odd));
    assert!(!state_rx.has_changed().unwrap());
    assert_eq!(state_rx.borrow_and_update().counter, 2);
}

#[test]
fn watch_doc_15() {
    use compio_sync::watch;

    let (tx, _rx) = watch::channel(1);
    assert_eq!(tx.send_replace(2), 1);
    assert_eq!(tx.send_replace(3), 2);
}

#[test]
fn watch_doc_16() {
    use compio_sync::watch;

    let (tx, _) = watch::channel("hello");
    assert_eq!(*tx.borrow(), "hello");
}

#[test]
fn watch_doc_17() {
    let (tx, rx) = compio_sync::watch::channel(());
    assert!(!tx.is_closed());

    drop(rx);
    assert!(tx.is_closed());
}

#[test]
fn watch_doc_18() {
    use compio_sync::watch;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        let (tx, rx) = watch::channel("hello");

        tokio::spawn(async move {
            // use `rx`
            drop(rx);
        });

        // Waits for `rx` to drop
        tx.closed().await;
        println!("the `rx` handles dropped")
    }
    main();
}

#[test]
fn watch_doc_19() {
    use compio_sync::watch;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        let (tx, _rx) = watch::channel(0u64);

        tx.send(5).unwrap();

        let rx = tx.subscribe();
        assert_eq!(5, *rx.borrow());

        tx.send(10).unwrap();
        assert_eq!(10, *rx.borrow());
    }
    main();
}

#[test]
fn watch_doc_20() {
    use compio_sync::watch;
    use tokio::time::Duration;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        let (tx, _rx) = watch::channel(0u64);
        tx.send(5).unwrap();
        let mut rx = tx.subscribe();

        tokio::spawn(async move {
            // by spawning and sleeping, the message is sent after `main`
            // hits the call to `changed`.
            if false {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            tx.send(100).unwrap();
        });

        rx.changed().await.unwrap();
        assert_eq!(100, *rx.borrow());
    }
    main();
}

#[test]
fn watch_doc_21() {
    use compio_sync::watch;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        let (tx, rx1) = watch::channel("hello");

        assert_eq!(1, tx.receiver_count());

        let mut _rx2 = rx1.clone();

        assert_eq!(2, tx.receiver_count());
    }
    main();
}

#[test]
fn watch_doc_22() {
    use compio_sync::watch;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        let (tx1, rx) = watch::channel("hello");

        assert_eq!(1, tx1.sender_count());

        let tx2 = tx1.clone();

        assert_eq!(2, tx1.sender_count());
        assert_eq!(2, tx2.sender_count());
    }
    main();
}

#[test]
fn watch_doc_23() {
    let (tx, rx) = compio_sync::watch::channel(true);
    let tx2 = tx.clone();
    assert!(tx.same_channel(&tx2));

    let (tx3, rx3) = compio_sync::watch::channel(true);
    assert!(!tx3.same_channel(&tx2));
}

#[test]
fn broadcast_doc_1() {
    use compio_sync::broadcast;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        let (tx, mut rx1) = broadcast::channel(16);
        let mut rx2 = tx.subscribe();

        tokio::spawn(async move {
            assert_eq!(rx1.recv().await.unwrap(), 10);
            assert_eq!(rx1.recv().await.unwrap(), 20);
        });

        tokio::spawn(async move {
            assert_eq!(rx2.recv().await.unwrap(), 10);
            assert_eq!(rx2.recv().await.unwrap(), 20);
        });

        tx.send(10).unwrap();
        tx.send(20).unwrap();
    }
    main();
}

#[test]
fn broadcast_doc_2() {
    use compio_sync::broadcast;
    use compio_sync::broadcast::error::RecvError;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        // Capacity 2 → ring buffer of length 2.
        let (tx, mut rx) = broadcast::channel(2);

        tx.send(10).unwrap();
        tx.send(20).unwrap();
        // Overwrites 10; receiver has not read it yet.
        tx.send(30).unwrap();

        // One message (10) was dropped; cursor moves to the oldest retained value (20).
        assert!(matches!(rx.recv().await, Err(RecvError::Lagged(1))));

        // At this point, we can abort or continue with lost messages.
        // Continuing resumes from the oldest retained message.
        assert_eq!(20, rx.recv().await.unwrap());
        assert_eq!(30, rx.recv().await.unwrap());
    }
    main();
}

#[test]
fn broadcast_doc_3() {
    use compio_sync::broadcast;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        let (tx, mut rx1) = broadcast::channel(16);
        let mut rx2 = tx.subscribe();

        tokio::spawn(async move {
            assert_eq!(rx1.recv().await.unwrap(), 10);
            assert_eq!(rx1.recv().await.unwrap(), 20);
        });

        tokio::spawn(async move {
            assert_eq!(rx2.recv().await.unwrap(), 10);
            assert_eq!(rx2.recv().await.unwrap(), 20);
        });

        tx.send(10).unwrap();
        tx.send(20).unwrap();
    }
    main();
}

#[test]
fn broadcast_doc_4() {
    use compio_sync::broadcast::channel;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        let (tx, _rx) = channel::<i32>(15);
        let tx_weak = tx.downgrade();

        // Upgrading will succeed because `tx` still exists.
        assert!(tx_weak.upgrade().is_some());

        // If we drop `tx`, then it will fail.
        drop(tx);
        assert!(tx_weak.clone().upgrade().is_none());
    }
    main();
}

#[test]
fn broadcast_doc_5() {
    use compio_sync::broadcast;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        let (tx, mut rx1) = broadcast::channel(16);
        let mut rx2 = tx.subscribe();

        tokio::spawn(async move {
            assert_eq!(rx1.recv().await.unwrap(), 10);
            assert_eq!(rx1.recv().await.unwrap(), 20);
        });

        tokio::spawn(async move {
            assert_eq!(rx2.recv().await.unwrap(), 10);
            assert_eq!(rx2.recv().await.unwrap(), 20);
        });

        tx.send(10).unwrap();
        tx.send(20).unwrap();
    }
    main();
}

#[test]
fn broadcast_doc_6() {
    use compio_sync::broadcast;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        let (tx, mut rx1) = broadcast::channel(16);
        let mut rx2 = tx.subscribe();

        tokio::spawn(async move {
            assert_eq!(rx1.recv().await.unwrap(), 10);
            assert_eq!(rx1.recv().await.unwrap(), 20);
        });

        tokio::spawn(async move {
            assert_eq!(rx2.recv().await.unwrap(), 10);
            assert_eq!(rx2.recv().await.unwrap(), 20);
        });

        tx.send(10).unwrap();
        tx.send(20).unwrap();
    }
    main();
}

#[test]
fn broadcast_doc_7() {
    use compio_sync::broadcast;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        let (tx, mut rx1) = broadcast::channel(16);
        let mut rx2 = tx.subscribe();

        tokio::spawn(async move {
            assert_eq!(rx1.recv().await.unwrap(), 10);
            assert_eq!(rx1.recv().await.unwrap(), 20);
        });

        tokio::spawn(async move {
            assert_eq!(rx2.recv().await.unwrap(), 10);
            assert_eq!(rx2.recv().await.unwrap(), 20);
        });

        tx.send(10).unwrap();
        tx.send(20).unwrap();
    }
    main();
}

#[test]
fn broadcast_doc_8() {
    use compio_sync::broadcast;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        let (tx, _rx) = broadcast::channel(16);

        // Will not be seen
        tx.send(10).unwrap();

        let mut rx = tx.subscribe();

        tx.send(20).unwrap();

        let value = rx.recv().await.unwrap();
        assert_eq!(20, value);
    }
    main();
}

#[test]
fn broadcast_doc_9() {
    use compio_sync::broadcast;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        let (tx, mut rx1) = broadcast::channel(16);
        let mut rx2 = tx.subscribe();

        tx.send(10).unwrap();
        tx.send(20).unwrap();
        tx.send(30).unwrap();

        assert_eq!(tx.len(), 3);

        rx1.recv().await.unwrap();

        // The len is still 3 since rx2 hasn't seen the first value yet.
        assert_eq!(tx.len(), 3);

        rx2.recv().await.unwrap();

        assert_eq!(tx.len(), 2);
    }
    main();
}

#[test]
fn broadcast_doc_10() {
    use compio_sync::broadcast;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        let (tx, mut rx1) = broadcast::channel(16);
        let mut rx2 = tx.subscribe();

        assert!(tx.is_empty());

        tx.send(10).unwrap();

        assert!(!tx.is_empty());

        rx1.recv().await.unwrap();

        // The queue is still not empty since rx2 hasn't seen the value.
        assert!(!tx.is_empty());

        rx2.recv().await.unwrap();

        assert!(tx.is_empty());
    }
    main();
}

#[test]
fn broadcast_doc_11() {
    use compio_sync::broadcast;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        let (tx, _rx1) = broadcast::channel(16);

        assert_eq!(1, tx.receiver_count());

        let mut _rx2 = tx.subscribe();

        assert_eq!(2, tx.receiver_count());

        tx.send(10).unwrap();
    }
    main();
}

#[test]
fn broadcast_doc_12() {
    use compio_sync::broadcast;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        let (tx, _rx) = broadcast::channel::<()>(16);
        let tx2 = tx.clone();

        assert!(tx.same_channel(&tx2));

        let (tx3, _rx3) = broadcast::channel::<()>(16);

        assert!(!tx3.same_channel(&tx2));
    }
    main();
}

#[test]
fn broadcast_doc_13() {
    use compio_sync::broadcast;
    use futures::FutureExt;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        let (tx, mut rx1) = broadcast::channel::<u32>(16);
        let mut rx2 = tx.subscribe();

        let _ = tx.send(10);

        assert_eq!(rx1.recv().await.unwrap(), 10);
        drop(rx1);
        assert!(tx.closed().now_or_never().is_none());

        assert_eq!(rx2.recv().await.unwrap(), 10);
        drop(rx2);
        assert!(tx.closed().now_or_never().is_some());
    }
    main();
}

#[test]
fn broadcast_doc_14() {
    use compio_sync::broadcast;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        let (tx, mut rx1) = broadcast::channel(16);

        tx.send(10).unwrap();
        tx.send(20).unwrap();

        assert_eq!(rx1.len(), 2);
        assert_eq!(rx1.recv().await.unwrap(), 10);
        assert_eq!(rx1.len(), 1);
        assert_eq!(rx1.recv().await.unwrap(), 20);
        assert_eq!(rx1.len(), 0);
    }
    main();
}

#[test]
fn broadcast_doc_15() {
    use compio_sync::broadcast;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        let (tx, mut rx1) = broadcast::channel(16);

        assert!(rx1.is_empty());

        tx.send(10).unwrap();
        tx.send(20).unwrap();

        assert!(!rx1.is_empty());
        assert_eq!(rx1.recv().await.unwrap(), 10);
        assert_eq!(rx1.recv().await.unwrap(), 20);
        assert!(rx1.is_empty());
    }
    main();
}

#[test]
fn broadcast_doc_16() {
    use compio_sync::broadcast;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        let (tx, rx) = broadcast::channel::<()>(16);
        let rx2 = tx.subscribe();

        assert!(rx.same_channel(&rx2));

        let (_tx3, rx3) = broadcast::channel::<()>(16);

        assert!(!rx3.same_channel(&rx2));
    }
    main();
}

#[test]
fn broadcast_doc_17() {
    use compio_sync::broadcast;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        let (tx, rx) = broadcast::channel::<()>(10);
        assert!(!rx.is_closed());

        drop(tx);

        assert!(rx.is_closed());
    }
    main();
}

#[test]
fn broadcast_doc_18() {
    use compio_sync::broadcast;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        let (tx, mut rx) = broadcast::channel(2);

        tx.send(1).unwrap();
        let mut rx2 = rx.resubscribe();
        tx.send(2).unwrap();

        assert_eq!(rx2.recv().await.unwrap(), 2);
        assert_eq!(rx.recv().await.unwrap(), 1);
    }
    main();
}

#[test]
fn broadcast_doc_19() {
    use compio_sync::broadcast;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        let (tx, mut rx1) = broadcast::channel(16);
        let mut rx2 = tx.subscribe();

        tokio::spawn(async move {
            assert_eq!(rx1.recv().await.unwrap(), 10);
            assert_eq!(rx1.recv().await.unwrap(), 20);
        });

        tokio::spawn(async move {
            assert_eq!(rx2.recv().await.unwrap(), 10);
            assert_eq!(rx2.recv().await.unwrap(), 20);
        });

        tx.send(10).unwrap();
        tx.send(20).unwrap();
    }
    main();
}

#[test]
fn broadcast_doc_20() {
    use compio_sync::broadcast;
    use compio_sync::broadcast::error::RecvError;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        let (tx, mut rx) = broadcast::channel(2);

        tx.send(10).unwrap();
        tx.send(20).unwrap();
        tx.send(30).unwrap();

        // One message was overwritten before this receiver could read it.
        assert!(matches!(rx.recv().await, Err(RecvError::Lagged(1))));

        // Resume from the oldest retained message, or abort the task instead.
        assert_eq!(20, rx.recv().await.unwrap());
        assert_eq!(30, rx.recv().await.unwrap());
    }
    main();
}

#[test]
fn broadcast_doc_21() {
    use compio_sync::broadcast;

    #[tokio::main(flavor = "current_thread")]
    async fn main() {
        let (tx, mut rx) = broadcast::channel(16);

        assert!(rx.try_recv().is_err());

        tx.send(10).unwrap();

        let value = rx.try_recv().unwrap();
        assert_eq!(10, value);
    }
    main();
}

#[test]
fn broadcast_doc_22() {
    #[cfg(not(target_family = "wasm"))]
    {
        use compio_sync::broadcast;
        use std::thread;

        #[tokio::main]
        async fn main() {
            let (tx, mut rx) = broadcast::channel(16);

            let sync_code = thread::spawn(move || {
                assert_eq!(rx.blocking_recv(), Ok(10));
            });

            let _ = tx.send(10);
            sync_code.join().unwrap();
        }
        main();
    }
}
