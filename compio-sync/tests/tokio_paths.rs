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
