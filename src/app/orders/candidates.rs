//! The technicians ranked for an order (`domain::ranking`), with the reasons.

use chrono::{Duration, NaiveDateTime};

use super::{VISIT_HOURS, load};
use crate::app::{Error, Principal, Result};
use crate::domain::access::Role;
use crate::domain::ranking::{Candidate, CandidateIndex, OrderNeeds, TechnicianInfo};
use crate::domain::registry::GeoPoint;
use crate::store::orders as store;
use crate::store::technicians::{self, Technician, TechnicianFilter};
use crate::store::{DbConn, PageReq, now};

/// `Forbidden` unless the principal assigns work (managers, admins, agents).
pub fn may_rank(p: &Principal) -> Result<()> {
    p.require(
        crate::domain::access::Resource::Orders,
        crate::domain::access::Op::Read,
    )?;
    if matches!(p.role, Role::Manager | Role::Admin | Role::Agent) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// The best `limit` technicians of the order's center for the visit at `scheduled_at`
/// (default the order's, or now): skill, model, distance from their last known position
/// (or home base), today's jobs, bookings at the visit time.
pub fn rank(
    c: &mut DbConn,
    p: &Principal,
    id: &str,
    scheduled_at: Option<NaiveDateTime>,
    limit: usize,
) -> Result<Vec<Candidate>> {
    let order = load(c, p, id)?;
    let at = scheduled_at.or(order.scheduled_at).unwrap_or_else(now);
    let day = crate::domain::china_day(at);
    let day_start = day.and_hms_opt(0, 0, 0).unwrap_or_default() - Duration::hours(8);
    let day_end = day_start + Duration::days(1);
    let today = store::bookings(c, &order.center_id, day_start, day_end)?;
    let window = Duration::hours(VISIT_HOURS);
    let infos: Vec<TechnicianInfo> = active_technicians(c, &order.center_id)?
        .into_iter()
        .map(|t| {
            let mine = |o: &&(String, String, NaiveDateTime)| o.0 == t.user_id && o.1 != order.id;
            let jobs_today = u32::try_from(today.iter().filter(mine).count()).unwrap_or(u32::MAX);
            let busy = today.iter().filter(mine).any(|o| (o.2 - at).abs() < window);
            let (position, position_is_live) = match (t.last_lat, t.last_lng) {
                (Some(lat), Some(lng)) => (GeoPoint { lat, lng }, true),
                _ => (
                    GeoPoint {
                        lat: t.home_lat,
                        lng: t.home_lng,
                    },
                    false,
                ),
            };
            TechnicianInfo {
                id: t.user_id,
                name: t.display_name,
                active: t.active,
                external: t.external,
                can_install: t.can_install,
                can_repair: t.can_repair,
                models: t.models,
                position,
                position_is_live,
                jobs_today,
                busy_at_scheduled_time: busy,
            }
        })
        .collect();
    let needs = OrderNeeds {
        kind: order.kind,
        model: order.product_model.clone(),
        site: GeoPoint {
            lat: order.site_lat,
            lng: order.site_lng,
        },
    };
    Ok(CandidateIndex::new(infos).rank(&needs, limit))
}

/// Every active technician of the center, page by page.
fn active_technicians(c: &mut DbConn, center_id: &str) -> Result<Vec<Technician>> {
    let mut techs = Vec::new();
    let mut page = PageReq {
        after: None,
        limit: 200,
    };
    loop {
        let filter = TechnicianFilter {
            center: Some(center_id),
            active: Some(true),
            ..Default::default()
        };
        let p = technicians::list(c, &filter, &page)?;
        techs.extend(p.items);
        match p.next_cursor {
            Some(n) => page.after = Some(n),
            None => break,
        }
    }
    Ok(techs)
}
