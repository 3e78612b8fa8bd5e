//! The tracking platform the company runs (its monitoring of every fitted terminal): the
//! adapter that registers a newly fitted terminal there and watches for its first report
//! (上线检测). First and only platform: Traccar, by its REST API (`traccar`); platforms
//! that forward positions push them to `POST /tracking/traccar/positions` instead or too.
//!
//! What is to be done lives in the database (`terminal_checks`, written in the order's
//! transaction with the work that fitted the terminal); the worker here brings the
//! platform in line with it and reads the reports back. A platform that is down leaves
//! the checks waiting: nothing else fails.
//!
//! Layers: `api`, `app` → `tracking` → `store`, `domain`.

pub mod traccar;
pub mod worker;

use std::time::Duration;

pub use traccar::Traccar;

/// The deployment's tracking settings. Off by default (no `Settings::tracking`).
#[derive(Clone)]
pub struct TrackingSettings {
    /// the platform's REST API, if it is to be asked (else only pushes arrive)
    pub platform: Option<Traccar>,
    /// the shared secret of the push endpoint (`Authorization: Bearer <secret>`); `None`:
    /// the endpoint answers 404
    pub push_secret: Option<String>,
    /// how often the worker looks at the waiting checks
    pub poll: Duration,
    /// checks older than this are no longer asked about (they stay waiting)
    pub window: chrono::Duration,
}

impl TrackingSettings {
    pub fn new(platform: Option<Traccar>, push_secret: Option<String>) -> Self {
        TrackingSettings {
            platform,
            push_secret,
            poll: Duration::from_secs(30),
            window: chrono::Duration::days(7),
        }
    }

    pub fn describe(&self) -> String {
        match (&self.platform, &self.push_secret) {
            (Some(p), Some(_)) => format!("Traccar at {} and pushed positions", p.describe()),
            (Some(p), None) => format!("Traccar at {}", p.describe()),
            (None, Some(_)) => "pushed positions only".into(),
            (None, None) => "off".into(),
        }
    }
}
