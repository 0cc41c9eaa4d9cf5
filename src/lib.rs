//! sigillum: a signing and evidence appliance.
//!
//! The crate is layered as described in `DESIGN.md`: `api` (HTTP) calls `service` (use cases),
//! which composes `ca`, `tsa` and `store`; below them sit the mechanisms `cms`, `keys` and
//! `clock`, which know formats and maths but nothing about HTTP or RocksDB.

#![forbid(unsafe_code)]

pub mod api;
pub mod ca;
pub mod client;
pub mod clock;
pub mod cms;
pub mod config;
#[doc(hidden)]
pub mod fuzzing;
pub mod identity;
pub mod keys;
pub mod pades;
pub mod pdf;
pub mod request_signing;
pub mod service;
pub mod store;
pub mod tlog;
pub mod tsa;
