//! dispatch: install and repair dispatch for GPS vehicle terminals.
//!
//! Layers (arrows point at what a layer may use):
//! `api` → `notify`, `documents`, `domain`, `store`;  `notify` → `documents`, `store`;
//! `documents` → `store`, `domain`;  `store` → `domain`;  `domain` → nothing of ours.
//! See docs/architecture.md.

pub mod api;
pub mod app;
pub mod config;
pub mod demo;
pub mod demo_day;
pub mod documents;
pub mod domain;
pub mod live;
pub mod media;
pub mod notify;
pub mod password;
pub mod startup;
pub mod store;
pub mod tracking;
