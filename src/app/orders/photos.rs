//! Photos from the site: who may add them and when, which the center requires before
//! completion (and a manager's waiver of those missing), and who may see them.
//!
//! The bytes are checked, stripped and stored by the caller (`media`, the object store)
//! before [`add`] records the photo in the order's transaction; [`may_add`] is asked first,
//! so nothing is stored for an order the caller may not touch.

use chrono::NaiveDateTime;

use super::{Order, OrderView, act, actor_for, load, record_act};
use crate::app::{Error, Principal, Result, stored};
use crate::domain::access::{Op, Resource, Role, may_approve};
use crate::domain::order::{Actor, LineStatus, OrderKind, OrderStatus};
use crate::domain::photos::{self, Missing, PhotoKind, Required};
use crate::store::orders as order_store;
use crate::store::photos::{self as store, Photo, ProofRules, Waiver};
use crate::store::{DbConn, centers, new_id, now};

/// Where a new photo goes: its kind and, for a per-line kind, the line.
#[derive(Debug, Clone)]
pub struct Target {
    pub kind: PhotoKind,
    pub line_id: Option<String>,
}

/// A photo checked and stored, to be recorded.
#[derive(Debug, Clone)]
pub struct NewPhoto {
    pub target: Target,
    pub content_type: &'static str,
    pub object_key: String,
    pub thumb_key: String,
    pub bytes: i64,
    pub width: u32,
    pub height: u32,
    pub sha256: String,
    pub taken_at: Option<NaiveDateTime>,
    pub position: Option<(f64, f64)>,
}

/// `Forbidden` unless the role may add photos at all (before anything is read).
pub fn may_add_any(p: &Principal) -> Result<()> {
    p.require(Resource::Photos, Op::Write)
}

/// Whether the principal may add a photo to the order now, and the target is on it:
/// the technicians on the order while it is on site or on hold; a manager of its center
/// or an admin until it is closed or cancelled. Answers the order's center (for the
/// object keys). `version`, when given, is compared too, so that a stale upload stores
/// nothing (the handler passes none with an Idempotency-Key: a retry of a stored upload
/// is answered its first answer, at whatever version it was).
pub fn may_add(
    c: &mut DbConn,
    p: &Principal,
    id: &str,
    version: Option<i32>,
    target: &Target,
) -> Result<String> {
    may_add_any(p)?;
    let order = load(c, p, id)?;
    if let Some(version) = version
        && !crate::store::version_matches(version, order.version)
    {
        return Err(Error::PreconditionFailed {
            current: order.version,
        });
    }
    check_add(c, p, &order, target)?;
    Ok(order.center_id.clone())
}

fn check_add(c: &mut DbConn, p: &Principal, order: &Order, target: &Target) -> Result<()> {
    let s = order.status;
    let open = match actor_for(p, order) {
        Actor::LeadTechnician | Actor::OtherTechnician => {
            matches!(s, OrderStatus::OnSite | OrderStatus::OnHold)
        }
        Actor::Manager | Actor::Admin => !matches!(s, OrderStatus::Closed | OrderStatus::Cancelled),
        _ => return Err(Error::Forbidden),
    };
    if !open {
        let mut extra = serde_json::Map::new();
        extra.insert("current_status".into(), s.as_str().into());
        return Err(Error::Conflict {
            code: "invalid_transition".into(),
            detail: format!("photos are taken on site; the order is {}", s.as_str()),
            extra: Some(extra),
        });
    }
    match (&target.line_id, target.kind.per_line()) {
        (Some(l), true) => {
            order_store::line(c, &order.id, l)
                .map_err(|_| Error::field("line_id", "unknown", "no such line on this order"))?;
        }
        (None, true) => {
            return Err(Error::field(
                "line_id",
                "required",
                "a photo of this kind belongs to a vehicle line",
            ));
        }
        (Some(_), false) => {
            return Err(Error::field(
                "line_id",
                "not_allowed",
                "a photo of this kind belongs to the order, not a line",
            ));
        }
        (None, false) => {}
    }
    Ok(())
}

/// Records a stored photo on the order: one version step and a timeline entry.
pub fn add(
    c: &mut DbConn,
    p: &Principal,
    id: &str,
    version: i32,
    new: NewPhoto,
) -> Result<OrderView> {
    act(c, p, id, version, |c, order| {
        check_add(c, p, order, &new.target)?;
        let t = now();
        store::insert(
            c,
            &Photo {
                id: new_id(),
                order_id: order.id.clone(),
                line_id: new.target.line_id.clone(),
                kind: new.target.kind.as_str().into(),
                content_type: new.content_type.into(),
                object_key: new.object_key.clone(),
                thumb_key: new.thumb_key.clone(),
                bytes: new.bytes,
                width: new.width as i32,
                height: new.height as i32,
                sha256: new.sha256.clone(),
                taken_at: new.taken_at,
                lat: new.position.map(|p| p.0),
                lng: new.position.map(|p| p.1),
                uploaded_by: p.id.clone(),
                uploaded_at: t,
            },
        )?;
        record_act(
            c,
            p,
            order,
            "photo_added",
            Some(new.target.kind.label_zh()),
            t,
        )
    })
}

/// The order's photos (whoever may see the order).
pub fn list(c: &mut DbConn, p: &Principal, id: &str) -> Result<Vec<Photo>> {
    p.require(Resource::Photos, Op::Read)?;
    let order = load(c, p, id)?;
    Ok(store::of_order(c, &order.id)?)
}

/// One photo of the order, if the principal may see the order (else `NotFound`, as if
/// there were no such photo).
pub fn get(c: &mut DbConn, p: &Principal, id: &str, photo_id: &str) -> Result<Photo> {
    p.require(Resource::Photos, Op::Read)?;
    let order = load(c, p, id)?;
    let photo = store::get(c, photo_id)?;
    if photo.order_id != order.id {
        return Err(Error::NotFound);
    }
    Ok(photo)
}

/// The photos the order still lacks under its center's rules (none once waived).
pub fn missing_of(
    kind: OrderKind,
    rules: &ProofRules,
    waived: bool,
    lines: &[(&str, &str)],
    have: &[(Option<&str>, &str)],
) -> Result<Vec<Missing>> {
    if waived {
        return Ok(Vec::new());
    }
    let required = required_of(kind, rules)?;
    let mut worked = Vec::with_capacity(lines.len());
    for &(id, status) in lines {
        if stored("line status", status, LineStatus::parse)? != LineStatus::NotDone {
            worked.push(id);
        }
    }
    let mut taken = Vec::with_capacity(have.len());
    for &(line, k) in have {
        taken.push((line, stored("photo kind", k, PhotoKind::parse)?));
    }
    Ok(photos::missing(&required, &worked, &taken))
}

fn required_of(kind: OrderKind, rules: &ProofRules) -> Result<Required> {
    let text = match kind {
        OrderKind::Install => &rules.install_photos,
        OrderKind::Repair => &rules.repair_photos,
    };
    Required::parse(text).map_err(|bad| {
        tracing::error!(bad, "unknown photo kind in proof_rules");
        Error::Internal(format!("unknown photo kind {bad:?} in proof_rules"))
    })
}

/// For `complete`: 409 `photos_missing` with the list (each with its line's plate) unless
/// every required photo is there or a manager waived them.
/// `lines` are the order's lines, as `complete` has already read them.
pub fn require_complete(
    c: &mut DbConn,
    order: &Order,
    lines: &[crate::store::orders::Line],
    rules: &ProofRules,
) -> Result<()> {
    if required_of(order.kind, rules)?.0.is_empty() {
        return Ok(());
    }
    let waived = store::waiver(c, &order.id)?.is_some();
    let photos = store::of_order(c, &order.id)?;
    let line_refs: Vec<(&str, &str)> = lines
        .iter()
        .map(|l| (l.id.as_str(), l.status.as_str()))
        .collect();
    let have: Vec<(Option<&str>, &str)> = photos
        .iter()
        .map(|p| (p.line_id.as_deref(), p.kind.as_str()))
        .collect();
    let missing = missing_of(order.kind, rules, waived, &line_refs, &have)?;
    if missing.is_empty() {
        return Ok(());
    }
    let plates = crate::store::orders::plates_of_lines(c, &order.id)?;
    let list: Vec<serde_json::Value> = missing
        .iter()
        .map(|m| {
            serde_json::json!({
                "line_id": m.line_id,
                "plate_no": m.line_id.as_ref().and_then(|l| plates.get(l)),
                "kind": m.kind.as_str(),
                "label": m.kind.label_zh(),
            })
        })
        .collect();
    let mut extra = serde_json::Map::new();
    extra.insert("missing".into(), list.into());
    Err(Error::Conflict {
        code: "photos_missing".into(),
        detail: format!("{} required photo(s) missing", missing.len()),
        extra: Some(extra),
    })
}

/// A manager of the order's center (or an admin) waives the photos it lacks, with the
/// reason; once per order, until it is completed.
/// `Forbidden` unless the role could ever waive photos (managers, admins): asked first.
pub fn may_waive_any(p: &Principal) -> Result<()> {
    if matches!(p.role, Role::Manager | Role::Admin) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// A release a manager gives an order from one of the center's completion rules (photos,
/// the terminals' first report), as recorded.
pub struct Release {
    pub order_id: String,
    pub reason: String,
    pub by: String,
    pub at: chrono::NaiveDateTime,
}

/// A manager of the order's center (or an admin) releases the order from a completion
/// rule, with the reason: once per order (`given` tells whether it was), before
/// completion; `record` writes it, then the act `act_name` goes on the timeline.
// the order, its version, the reason and what to record: one act, spelled out
#[allow(clippy::too_many_arguments)]
pub(super) fn release(
    c: &mut DbConn,
    p: &Principal,
    id: &str,
    version: i32,
    reason: String,
    act_name: &str,
    given: impl FnOnce(&mut DbConn, &str) -> Result<bool>,
    record: impl FnOnce(&mut DbConn, Release) -> Result<()>,
) -> Result<OrderView> {
    may_waive_any(p)?;
    act(c, p, id, version, |c, order| {
        if !may_approve(p.role, true, &p.center_id, &order.center_id) {
            return Err(Error::Forbidden);
        }
        if matches!(
            order.status,
            OrderStatus::Completed | OrderStatus::Closed | OrderStatus::Cancelled
        ) {
            return Err(Error::conflict(
                "invalid_transition",
                format!(
                    "the order is {}: nothing left to waive",
                    order.status.as_str()
                ),
            ));
        }
        if given(c, &order.id)? {
            return Err(Error::conflict(
                "already_waived",
                format!("{act_name}: already given"),
            ));
        }
        let at = now();
        record(
            c,
            Release {
                order_id: order.id.clone(),
                reason: reason.clone(),
                by: p.id.clone(),
                at,
            },
        )?;
        record_act(c, p, order, act_name, Some(&reason), at)
    })
}

/// The photos the order lacks, waived (see [`release`]).
pub fn waive(
    c: &mut DbConn,
    p: &Principal,
    id: &str,
    version: i32,
    reason: String,
) -> Result<OrderView> {
    release(
        c,
        p,
        id,
        version,
        reason,
        "photos_waived",
        |c, order| Ok(store::waiver(c, order)?.is_some()),
        |c, r| {
            store::insert_waiver(
                c,
                &Waiver {
                    order_id: r.order_id,
                    reason: r.reason,
                    waived_by: r.by,
                    waived_at: r.at,
                },
            )?;
            Ok(())
        },
    )
}

/// A center's proof rules, as lists of kinds.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    pub install_photos: Vec<PhotoKind>,
    pub repair_photos: Vec<PhotoKind>,
    /// complete requires every fitted terminal's first report (上线检测 passed; a
    /// manager may override with a reason). Default false.
    #[serde(default)]
    pub report_required: bool,
    /// the first report needs ACC seen on and off. Default false.
    #[serde(default)]
    pub report_acc: bool,
    /// the first report needs the terminal to report the line's SIM (ICCID). Default true.
    #[serde(default = "yes")]
    pub report_iccid: bool,
}

fn yes() -> bool {
    true
}

pub fn rules(c: &mut DbConn, p: &Principal, center_id: &str) -> Result<Rules> {
    p.require(Resource::ProofRules, Op::Read)?;
    p.see(center_id)?;
    let center = centers::get(c, center_id)?;
    let r = store::rules(c, &center.id)?;
    Ok(Rules {
        install_photos: required_of(OrderKind::Install, &r)?.0,
        repair_photos: required_of(OrderKind::Repair, &r)?.0,
        report_required: r.report_required,
        report_acc: r.report_acc,
        report_iccid: r.report_iccid,
    })
}

/// Sets a center's rules (its managers, admins).
pub fn set_rules(c: &mut DbConn, p: &Principal, center_id: &str, rules: Rules) -> Result<Rules> {
    p.require(Resource::ProofRules, Op::Write)?;
    p.see(center_id)?;
    let center = centers::get(c, center_id)?;
    store::set_rules(
        c,
        &center.id,
        &ProofRules {
            install_photos: Required(rules.install_photos).stored(),
            repair_photos: Required(rules.repair_photos).stored(),
            report_required: rules.report_required,
            report_acc: rules.report_acc,
            report_iccid: rules.report_iccid,
        },
    )?;
    self::rules(c, p, center_id)
}
