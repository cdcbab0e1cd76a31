//! Every public path of `tokio::sync` (tokio 1.54) exists in compio-sync
//! once `tokio::sync` is replaced by `compio_sync`, and in
//! `compio_sync::local` for the single-thread flavor: porting takes a change
//! of import and nothing else. The `use` lists are the check (they are
//! tokio's own export lists, item for item); the tests then name each item
//! and check it is this crate's.
#![cfg(not(loom))]

use std::any::type_name;

/// Whether `T` (with its default type parameters) is defined in
/// compio-sync.
fn ours<T: ?Sized>() -> bool {
    type_name::<T>().starts_with("compio_sync::")
}

/// `tokio::sync`'s root, `futures` and channel modules, as tokio exports
/// them, checked in one flavor: `$root` is `compio_sync` or
/// `compio_sync::local`.
macro_rules! tokio_paths {
    ($root:ident $(:: $sub:ident)*) => {{
        use $root$(::$sub)*::{
            AcquireError, Barrier, BarrierWaitResult, MappedMutexGuard, Mutex, MutexGuard, Notify,
            OnceCell, OwnedMappedMutexGuard, OwnedMutexGuard, OwnedRwLockMappedWriteGuard,
            OwnedRwLockReadGuard, OwnedRwLockWriteGuard, OwnedSemaphorePermit, RwLock,
            RwLockMappedWriteGuard, RwLockReadGuard, RwLockWriteGuard, Semaphore, SemaphorePermit,
            SetError, SetOnce, SetOnceError, TryAcquireError, TryLockError,
            futures::{Notified, OwnedNotified},
        };
        use $root$(::$sub)*::mpsc::{
            self, OwnedPermit, Permit, PermitIterator, Receiver, Sender, UnboundedReceiver,
            UnboundedSender, WeakSender, WeakUnboundedSender,
            error::{RecvError, SendError, SendTimeoutError, TryRecvError, TrySendError},
        };
        use $root$(::$sub)*::{broadcast, oneshot, watch};

        let _ = mpsc::channel::<u8>;
        let _ = mpsc::unbounded_channel::<u8>;
        let _ = broadcast::channel::<u8>;
        let _ = watch::channel::<u8>;
        let _ = oneshot::channel::<u8>;
        [
            ours::<AcquireError>(),
            ours::<Barrier>(),
            ours::<BarrierWaitResult>(),
            ours::<MappedMutexGuard<'static, u8>>(),
            ours::<Mutex<u8>>(),
            ours::<MutexGuard<'static, u8>>(),
            ours::<Notify>(),
            ours::<OnceCell<u8>>(),
            ours::<OwnedMappedMutexGuard<u8>>(),
            ours::<OwnedMutexGuard<u8>>(),
            ours::<OwnedRwLockMappedWriteGuard<u8>>(),
            ours::<OwnedRwLockReadGuard<u8>>(),
            ours::<OwnedRwLockWriteGuard<u8>>(),
            ours::<OwnedSemaphorePermit>(),
            ours::<RwLock<u8>>(),
            ours::<RwLockMappedWriteGuard<'static, u8>>(),
            ours::<RwLockReadGuard<'static, u8>>(),
            ours::<RwLockWriteGuard<'static, u8>>(),
            ours::<Semaphore>(),
            ours::<SemaphorePermit<'static>>(),
            ours::<SetError<u8>>(),
            ours::<SetOnce<u8>>(),
            ours::<SetOnceError<u8>>(),
            ours::<TryAcquireError>(),
            ours::<TryLockError>(),
            ours::<Notified<'static>>(),
            ours::<OwnedNotified>(),
            ours::<OwnedPermit<u8>>(),
            ours::<Permit<'static, u8>>(),
            ours::<PermitIterator<'static, u8>>(),
            ours::<Receiver<u8>>(),
            ours::<Sender<u8>>(),
            ours::<UnboundedReceiver<u8>>(),
            ours::<UnboundedSender<u8>>(),
            ours::<WeakSender<u8>>(),
            ours::<WeakUnboundedSender<u8>>(),
            ours::<RecvError>(),
            ours::<SendError<u8>>(),
            ours::<SendTimeoutError<u8>>(),
            ours::<TryRecvError>(),
            ours::<TrySendError<u8>>(),
            ours::<broadcast::Sender<u8>>(),
            ours::<broadcast::WeakSender<u8>>(),
            ours::<broadcast::Receiver<u8>>(),
            ours::<broadcast::error::SendError<u8>>(),
            ours::<broadcast::error::RecvError>(),
            ours::<broadcast::error::TryRecvError>(),
            ours::<watch::Sender<u8>>(),
            ours::<watch::Receiver<u8>>(),
            ours::<watch::Ref<'static, u8>>(),
            ours::<watch::error::SendError<u8>>(),
            ours::<watch::error::RecvError>(),
            ours::<oneshot::Sender<u8>>(),
            ours::<oneshot::Receiver<u8>>(),
            ours::<oneshot::error::RecvError>(),
            ours::<oneshot::error::TryRecvError>(),
        ]
    }};
}

// `mpsc::error::RecvError` is deprecated, as in tokio (nothing returns it).
#[test]
#[allow(deprecated)]
fn every_tokio_sync_path_exists_in_the_thread_safe_flavor() {
    let found = tokio_paths!(compio_sync);
    assert!(found.iter().all(|&ours| ours), "{found:?}");
}

#[test]
#[allow(deprecated)]
fn every_tokio_sync_path_exists_in_the_local_flavor() {
    let found = tokio_paths!(compio_sync::local);
    assert!(found.iter().all(|&ours| ours), "{found:?}");
}

/// `futures::Notified` is the crate root's `Notified`, not a look-alike: a
/// future named by one path is usable as the other.
#[test]
fn the_futures_module_names_the_root_types() {
    let notify = compio_sync::Notify::new();
    let named: compio_sync::futures::Notified<'_> = notify.notified();
    let root: compio_sync::Notified<'_> = named;
    drop(root);
    let notify = std::sync::Arc::new(notify);
    let owned: compio_sync::OwnedNotified = notify.notified_owned();
    let named: compio_sync::futures::OwnedNotified = owned;
    drop(named);
}

/// The trait impls of tokio's types that ported code leans on (`Debug` in
/// `#[derive(Debug)]` structs, `Display` of guards, `Default`, `From<T>`,
/// `Clone`/`PartialEq` of the cells), in one flavor. A compile-time check:
/// the calls only type-check if the impls exist; each also checks that the
/// type is this crate's.
macro_rules! tokio_impls {
    ($root:ident $(:: $sub:ident)*) => {{
        use std::fmt::{Debug, Display};

        use $root$(::$sub)*::{
            MappedMutexGuard, Mutex, MutexGuard, Notify, OnceCell, OwnedMappedMutexGuard,
            OwnedMutexGuard, OwnedRwLockMappedWriteGuard, OwnedRwLockReadGuard,
            OwnedRwLockWriteGuard, RwLock, RwLockMappedWriteGuard, RwLockReadGuard,
            RwLockWriteGuard, Semaphore, SetOnce,
        };

        fn debug<T: Debug + ?Sized>() -> bool {
            ours::<T>()
        }
        fn display<T: Display + ?Sized>() -> bool {
            ours::<T>()
        }
        fn default<T: Default>() -> bool {
            ours::<T>()
        }
        fn from_value<T: From<u8>>() -> bool {
            ours::<T>()
        }
        fn cell<T: Clone + PartialEq + Eq>() -> bool {
            ours::<T>()
        }

        [
            debug::<Mutex<u8>>(),
            debug::<RwLock<u8>>(),
            debug::<Semaphore>(),
            debug::<Notify>(),
            debug::<OnceCell<u8>>(),
            debug::<SetOnce<u8>>(),
            display::<MutexGuard<'static, u8>>(),
            display::<OwnedMutexGuard<u8>>(),
            display::<MappedMutexGuard<'static, u8>>(),
            display::<OwnedMappedMutexGuard<u8>>(),
            display::<RwLockReadGuard<'static, u8>>(),
            display::<RwLockWriteGuard<'static, u8>>(),
            display::<RwLockMappedWriteGuard<'static, u8>>(),
            display::<OwnedRwLockReadGuard<u8>>(),
            display::<OwnedRwLockWriteGuard<u8>>(),
            display::<OwnedRwLockMappedWriteGuard<u8>>(),
            default::<Mutex<u8>>(),
            default::<RwLock<u8>>(),
            default::<Semaphore>(),
            default::<Notify>(),
            default::<OnceCell<u8>>(),
            default::<SetOnce<u8>>(),
            default::<$root$(::$sub)*::watch::Sender<u8>>(),
            from_value::<Mutex<u8>>(),
            from_value::<RwLock<u8>>(),
            from_value::<OnceCell<u8>>(),
            from_value::<SetOnce<u8>>(),
            cell::<OnceCell<u8>>(),
            cell::<SetOnce<u8>>(),
        ]
    }};
}

#[test]
fn tokio_trait_impls_exist_in_both_flavors() {
    let found = tokio_impls!(compio_sync);
    assert!(found.iter().all(|&ours| ours), "{found:?}");
    let found = tokio_impls!(compio_sync::local);
    assert!(found.iter().all(|&ours| ours), "{found:?}");
}

/// tokio's `Send`/`Sync` for what crosses threads: the handles, permits and
/// guards are `Send + Sync`, and the futures of the waiting calls are `Send`
/// (a `tokio::spawn` of ported code needs it), for `T: Send + Sync`; and a
/// `Notify` or `Semaphore` may be used across `catch_unwind`, as tokio's.
#[test]
fn tokio_thread_safety_holds_for_handles_permits_and_futures() {
    fn send_sync<T: Send + Sync>(_: &T) {}
    fn send<T: Send>(_: &T) {}
    fn unwind_safe<T: std::panic::UnwindSafe + std::panic::RefUnwindSafe>(_: &T) {}
    unwind_safe(&compio_sync::Notify::new());
    unwind_safe(&compio_sync::Semaphore::new(1));
    let semaphore = std::sync::Arc::new(compio_sync::Semaphore::new(1));
    send(&semaphore.acquire());
    send(&semaphore.clone().acquire_owned());
    send_sync(&semaphore.try_acquire().unwrap());
    let notify = compio_sync::Notify::new();
    send_sync(&notify.notified());
    let (tx, mut rx) = compio_sync::mpsc::channel::<u8>(1);
    send_sync(&tx);
    send_sync(&rx);
    send(&tx.send(1));
    send(&tx.reserve());
    send(&tx.clone().reserve_owned());
    send(&rx.recv());
    let (utx, mut urx) = compio_sync::mpsc::unbounded_channel::<u8>();
    send_sync(&utx);
    send(&urx.recv());
    let (otx, orx) = compio_sync::oneshot::channel::<u8>();
    send_sync(&otx);
    send_sync(&orx);
    let (btx, mut brx) = compio_sync::broadcast::channel::<u8>(1);
    send_sync(&btx);
    send(&brx.recv());
    let (wtx, mut wrx) = compio_sync::watch::channel::<u8>(1);
    send_sync(&wtx);
    send(&wrx.changed());
    let lock = compio_sync::RwLock::new(1u8);
    send(&lock.read());
    send(&lock.write());
    send(&lock.upgradable_read());
    send(&compio_sync::Barrier::new(1).wait());
    let cell = compio_sync::OnceCell::<u8>::new();
    send(&cell.get_or_init(|| async { 1 }));
    send(&compio_sync::SetOnce::<u8>::new().wait());
}
