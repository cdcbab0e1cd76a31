//! Async synchronization primitives for compio (crate docs: see README).
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod backend;
pub(crate) mod loom;
