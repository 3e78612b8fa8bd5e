//! The domain: plain types and rules. No actix, no diesel, no I/O: every rule here is
//! unit-tested in microseconds.

pub mod access;
pub mod ids;
pub mod registry;
