//! The tracking worker: every `poll`, for each waiting check (oldest look first), brings
//! the platform's device in line with the line (registers it, or updates it after a SIM
//! swap) and reads the terminal's positions since the work started into the check. Every
//! instance runs one; two asking about one check ask twice, harmlessly (registration
//! looks the device up first; reports fold idempotently).

use std::sync::Arc;

use serde_json::Value;

use super::TrackingSettings;
use super::traccar::{Device, PlatformError, Traccar};
use crate::store::tracking::{self as store, TerminalCheck};
use crate::store::{DbConn, Pool, StoreError, now};

/// How many checks one round looks at.
const BATCH: i64 = 50;

/// Starts the worker on the current runtime (nothing to do without a platform to ask).
pub fn spawn(pool: Pool, settings: TrackingSettings) {
    let Some(platform) = settings.platform.clone() else {
        return;
    };
    tracing::info!(platform = %platform.describe(), "tracking worker started");
    let w = Arc::new(Worker {
        pool,
        platform,
        settings,
    });
    tokio::spawn(async move {
        loop {
            // each round its own task: a panic in one is logged, the next round runs
            let round = w.clone();
            if let Err(e) = tokio::spawn(async move { round.round().await }).await {
                tracing::error!(error = %e, "a round of the tracking worker failed");
            }
            tokio::time::sleep(w.settings.poll).await;
        }
    });
}

/// How far back a poll reads before the last look (a terminal uploads what it stored in
/// a blind spot late): positions before it were taken in already.
const OVERLAP: chrono::Duration = chrono::Duration::hours(1);

struct Worker {
    pool: Pool,
    platform: Traccar,
    settings: TrackingSettings,
}

impl Worker {
    async fn db<T, F>(self: &Arc<Self>, f: F) -> Result<T, String>
    where
        F: FnOnce(&mut DbConn) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            f(&mut conn).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| e.to_string())?
    }

    /// One look at every waiting check (up to `BATCH`, never looked at first). A platform
    /// that does not answer ends the round: the others would wait on it too.
    async fn round(self: Arc<Self>) {
        let since = now() - self.settings.window;
        let checks = match self.db(move |c| store::waiting(c, since, BATCH)).await {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the waiting terminal checks");
                return;
            }
        };
        for check in checks {
            if !self.look(check).await {
                break;
            }
        }
    }

    /// Answers whether the platform answered.
    async fn look(self: &Arc<Self>, check: TerminalCheck) -> bool {
        let (line, generation) = (check.line_id.clone(), check.generation);
        let from = check
            .checked_at
            .filter(|_| check.synced)
            .map_or(check.started_at, |t| (t - OVERLAP).max(check.started_at));
        let result = async {
            let device_id = match check.device_id.filter(|_| check.synced) {
                Some(id) => id,
                None => sync(&self.platform, &check).await?,
            };
            let positions = self
                .platform
                .positions(device_id, from, now() + chrono::Duration::minutes(5))
                .await?;
            Ok::<_, PlatformError>((device_id, positions))
        }
        .await;
        let (outcome, answered) = match result {
            Ok((device_id, positions)) => {
                let received = now();
                let reports: Vec<_> = positions.iter().map(|p| p.report(received)).collect();
                let (l, g) = (line.clone(), generation);
                let saved = self
                    .db(move |c| {
                        store::record_look(c, &l, g, Some(device_id), None, false)?;
                        store::apply(c, &l, g, &reports)
                    })
                    .await
                    .map(|_| ());
                (saved, true)
            }
            Err(e) => {
                let answered = matches!(e, PlatformError::Refused(_));
                if answered {
                    tracing::warn!(line = %line, error = %e, "the tracking platform refused a request");
                } else {
                    tracing::info!(line = %line, error = %e, "terminal checks wait: platform not answering");
                }
                let text = e.to_string();
                let (l, g) = (line.clone(), generation);
                let saved = self
                    .db(move |c| store::record_look(c, &l, g, None, Some(&text), answered))
                    .await;
                (saved, answered)
            }
        };
        if let Err(e) = outcome {
            tracing::warn!(line = %line, error = %e, "cannot record a terminal check");
        }
        answered
    }
}

/// The device as the line has it: name (the plate), 808 number as uniqueId and phone,
/// model, and the attributes plate, IMEI and ICCID.
fn wanted(check: &TerminalCheck, mut device: Device) -> Device {
    device.unique_id = check.unique_id.clone();
    device.name = check.plate_no.clone();
    device.phone = Some(check.msisdn.clone());
    device.model = Some(check.model.clone());
    for (k, v) in [
        ("plate", &check.plate_no),
        ("imei", &check.imei),
        ("iccid", &check.iccid),
    ] {
        device.attributes.insert(k.into(), Value::String(v.clone()));
    }
    device
}

/// Registers the line's terminal on the platform, or updates the device it has (found by
/// its identifier, or after a SIM swap by the one it had): answers the device's id.
pub async fn sync(platform: &Traccar, check: &TerminalCheck) -> Result<i64, PlatformError> {
    let mut found = platform.device(&check.unique_id).await?;
    if found.is_none()
        && let Some(prev) = &check.prev_unique_id
    {
        found = platform.device(prev).await?;
    }
    match found {
        Some(d) => {
            let w = wanted(check, d.clone());
            if w == d {
                Ok(d.id)
            } else {
                Ok(platform.update(&w).await?.id)
            }
        }
        None => {
            let blank = Device {
                id: 0,
                name: String::new(),
                unique_id: String::new(),
                phone: None,
                model: None,
                attributes: Default::default(),
                rest: Default::default(),
            };
            match platform.create(&wanted(check, blank)).await {
                Ok(d) => Ok(d.id),
                // another instance registered it meanwhile
                Err(PlatformError::Refused(e)) => match platform.device(&check.unique_id).await? {
                    Some(d) => Ok(d.id),
                    None => Err(PlatformError::Refused(e)),
                },
                Err(e) => Err(e),
            }
        }
    }
}
