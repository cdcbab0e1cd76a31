//! TEMPORARY stand-in for `compio_sync::Semaphore` until it lands on main.
#![allow(missing_docs, dead_code)]

use std::marker::PhantomData;

use compio_sync::backend::{DefaultBackend, WaitQueue};

pub struct Semaphore<B: WaitQueue = DefaultBackend>(tokio::sync::Semaphore, PhantomData<B>);
pub type AcquireError = tokio::sync::AcquireError;
pub type TryAcquireError = tokio::sync::TryAcquireError;

impl<B: WaitQueue> Semaphore<B> {
    pub fn with_backend(permits: usize) -> Self {
        Self(tokio::sync::Semaphore::new(permits), PhantomData)
    }
    pub fn strict_fifo(self) -> Self {
        self
    }
    pub async fn acquire(&self) -> Result<tokio::sync::SemaphorePermit<'_>, AcquireError> {
        self.0.acquire().await
    }
    pub fn try_acquire(&self) -> Result<tokio::sync::SemaphorePermit<'_>, TryAcquireError> {
        self.0.try_acquire()
    }
}
