//! Positions a tracking platform pushes (Traccar's `forward.url`): taken into the checks
//! waiting for that terminal. The caller is the platform, authenticated by the shared
//! secret in the handler; it learns only how many checks the position went to.

use crate::app::Result;
use crate::domain::tracking::Report;
use crate::store::DbConn;
use crate::store::tracking as store;

/// Takes one report of the device known to the platform as `unique_id` (and `device_id`)
/// into the checks waiting for it; answers how many there were.
pub fn receive(
    c: &mut DbConn,
    unique_id: &str,
    device_id: Option<i64>,
    report: Report,
) -> Result<usize> {
    let checks = store::waiting_for_device(c, unique_id, device_id)?;
    let reports = [report];
    for ch in &checks {
        store::apply(c, &ch.line_id, ch.generation, &reports)?;
    }
    Ok(checks.len())
}
