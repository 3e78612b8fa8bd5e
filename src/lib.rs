//! dispatch: install and repair dispatch for GPS vehicle terminals.
//!
//! Layers (arrows point at what a layer may use):
//! `api` → `domain`, `store`;  `store` → `domain`;  `domain` → nothing of ours.
//! See docs/architecture.md.

pub mod api;
pub mod config;
pub mod demo;
pub mod domain;
pub mod password;
pub mod startup;
pub mod store;
