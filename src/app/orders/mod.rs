//! Work orders: install work orders (安装任务派工单) and repair service orders (维修服务单).
//!
//! Every action on an existing order goes through [`act`]: the order row locked, the order
//! in the principal's scope (else `NotFound`), the caller's version compared, then one step
//! — a [`transition`] of the state machine (`domain::order`) or a [`record_act`] — that
//! bumps the version by exactly one and appends to the timeline, and the fresh [`OrderView`].

pub mod approvals;
pub mod candidates;
pub mod first_report;
pub mod intake;
pub mod lifecycle;
pub mod line_work;
pub mod parts;
pub mod photos;

use chrono::NaiveDateTime;
use serde::Serialize;

use super::{Error, Principal, Result, stored};
use crate::domain::access::{Op, Resource, Role};
use crate::domain::order::{self, Action, Actor, OrderKind, OrderStatus};
use crate::notify::{self, OrderNotice};
use crate::store::orders::{
    self as store, Assignment, Line, OrderEvent, OrderPatch, PartUsed, VerbalApproval, WorkOrder,
};
use crate::store::{DbConn, now, order_view};

/// A visit is taken to occupy this long around its scheduled time for double-booking.
const VISIT_HOURS: i64 = 2;

/// A stored order with its enums read once.
#[derive(Debug)]
pub struct Order {
    pub row: WorkOrder,
    pub status: OrderStatus,
    pub held_from: Option<OrderStatus>,
    pub kind: OrderKind,
}

impl Order {
    fn read(row: WorkOrder) -> Result<Self> {
        let status = stored("order status", &row.status, OrderStatus::parse)?;
        let held_from = match row.held_from.as_deref() {
            Some(h) => Some(stored("order held_from", h, OrderStatus::parse)?),
            None => None,
        };
        let kind = stored("order kind", &row.kind, OrderKind::parse)?;
        Ok(Self {
            row,
            status,
            held_from,
            kind,
        })
    }
}

impl std::ops::Deref for Order {
    type Target = WorkOrder;

    fn deref(&self) -> &WorkOrder {
        &self.row
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LineView {
    #[serde(flatten)]
    pub line: Line,
    pub plate_no: String,
    /// what was done: install, terminal_swap, sim_swap, repair
    pub work: Vec<String>,
    /// what is in the vehicle now (its installed terminal and SIM card), null when nothing
    pub fitted: Option<crate::store::equipment::Fitted>,
    /// the terminal's first report (上线检测), once work on the line fitted a terminal or
    /// a SIM card and the deployment watches a tracking platform
    pub first_report: Option<FirstReport>,
}

/// A line's 上线检测: waiting until the terminal's first valid, current fix (with the
/// line's SIM reported and ACC seen on and off where the center asks), then passed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FirstReport {
    /// waiting, passed
    pub status: &'static str,
    /// reports count from here (the arrival on site)
    #[serde(with = "crate::store::utc")]
    #[schema(value_type = String, format = DateTime)]
    pub started_at: chrono::NaiveDateTime,
    /// the platform's device identifier (the 808 terminal number)
    pub unique_id: String,
    #[serde(with = "crate::store::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub first_fix_at: Option<chrono::NaiveDateTime>,
    pub fix_lat: Option<f64>,
    pub fix_lng: Option<f64>,
    /// the ICCID the terminal reported last
    pub reported_iccid: Option<String>,
    #[serde(with = "crate::store::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub acc_on_at: Option<chrono::NaiveDateTime>,
    #[serde(with = "crate::store::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub acc_off_at: Option<chrono::NaiveDateTime>,
    #[serde(with = "crate::store::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub passed_at: Option<chrono::NaiveDateTime>,
    /// what it still lacks, each with what to do (`message`)
    pub missing: Vec<FirstReportMissing>,
    /// the last look at the platform, and what went wrong with it (in Chinese) when it
    /// did not answer or refused
    #[serde(with = "crate::store::utc::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub checked_at: Option<chrono::NaiveDateTime>,
    pub platform_error: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FirstReportMissing {
    #[serde(flatten)]
    pub missing: crate::domain::tracking::Missing,
    pub message: String,
}

/// What the people reading the order are told of the platform's last failure (its text,
/// with the platform's address, stays in the logs and the database).
fn platform_trouble(error: &str) -> String {
    if crate::tracking::traccar::PlatformError::was_refusal(error) {
        "定位平台拒绝了请求：请管理员检查平台账号和设置；检测会自动重试".into()
    } else {
        "定位平台暂时连不上：恢复后自动检测，不影响其他操作".into()
    }
}

impl FirstReport {
    fn of(ch: crate::store::tracking::TerminalCheck) -> FirstReport {
        let missing = first_report::missing_of(&ch)
            .into_iter()
            .map(|(missing, message)| FirstReportMissing { missing, message })
            .collect();
        FirstReport {
            status: if ch.passed_at.is_some() {
                "passed"
            } else {
                "waiting"
            },
            started_at: ch.started_at,
            unique_id: ch.unique_id,
            first_fix_at: ch.first_fix_at,
            fix_lat: ch.fix_lat,
            fix_lng: ch.fix_lng,
            reported_iccid: ch.seen_iccid,
            acc_on_at: ch.acc_on_at,
            acc_off_at: ch.acc_off_at,
            passed_at: ch.passed_at,
            missing,
            checked_at: ch.checked_at,
            platform_error: ch.last_error.as_deref().map(platform_trouble),
        }
    }
}

/// An order with everything on it, as every action answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrderView {
    #[serde(flatten)]
    pub order: WorkOrder,
    /// the customer's name (technicians may not read customers, yet their job list needs it)
    pub customer_name: String,
    /// the readiness items ticked
    pub readiness: Vec<String>,
    pub has_signature: bool,
    pub lines: Vec<LineView>,
    pub technicians: Vec<Assignment>,
    pub parts: Vec<PartUsed>,
    pub verbal_approvals: Vec<VerbalApproval>,
    /// what the customer owes, once the order is completed
    pub charge: Option<crate::store::money::Charge>,
    /// the photos from the site, oldest first
    pub photos: Vec<order_view::PhotoBrief>,
    /// the photos the center requires that are not there yet (empty once waived)
    pub photos_missing: Vec<crate::domain::photos::Missing>,
    /// a manager's waiver of missing photos
    pub photo_waiver: Option<crate::store::photos::Waiver>,
    /// a manager's override of terminals not reporting
    pub first_report_waiver: Option<crate::store::tracking::ReportWaiver>,
    /// the actions the caller may take now, by endpoint name (`POST …/{id}/<action>`)
    pub allowed_actions: Vec<&'static str>,
}

/// The principal's relation to the order: a technician is its lead or another technician.
pub fn actor_for(p: &Principal, order: &WorkOrder) -> Actor {
    match p.role {
        Role::Technician if order.lead_technician_id.as_deref() == Some(p.id.as_str()) => {
            Actor::LeadTechnician
        }
        Role::Technician => Actor::OtherTechnician,
        role => best_actor(role),
    }
}

/// The actor a role could at best be, before the order is read (403 before anything else).
fn best_actor(role: Role) -> Actor {
    match role {
        Role::Admin => Actor::Admin,
        Role::Manager => Actor::Manager,
        Role::Agent => Actor::Agent,
        Role::Finance => Actor::Finance,
        Role::Technician => Actor::LeadTechnician,
    }
}

/// `Forbidden` unless the principal's role could ever take `action` (checked first).
pub fn may(p: &Principal, action: Action) -> Result<()> {
    p.require(Resource::Orders, Op::Read)?;
    if order::permitted(action, best_actor(p.role)) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// `Forbidden` unless the principal is a technician (the acts on site).
pub fn technician_only(p: &Principal) -> Result<()> {
    p.require(Resource::Orders, Op::Read)?;
    if p.is(Role::Technician) {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

/// The order if the principal may see it: their center's (admins: any), and for a
/// technician only the orders they are on. Anything else does not exist.
pub fn load(c: &mut DbConn, p: &Principal, id: &str) -> Result<Order> {
    let row = store::get(c, id)?;
    p.see(&row.center_id)?;
    if p.is(Role::Technician) && !store::is_on_order(c, id, &p.id)? {
        return Err(Error::NotFound);
    }
    Order::read(row)
}

/// The order with everything on it, as the principal sees it: the view's three
/// statements, the scope checked on what they read (as [`load`] does).
pub fn get(c: &mut DbConn, p: &Principal, id: &str) -> Result<OrderView> {
    let rows = order_view::load(c, id)?;
    p.see(&rows.order.center_id)?;
    if p.is(Role::Technician) && !rows.technicians.iter().any(|a| a.technician_id == p.id) {
        return Err(Error::NotFound);
    }
    view_of(p, rows)
}

/// The order's timeline, oldest first.
pub fn timeline(c: &mut DbConn, p: &Principal, id: &str) -> Result<Vec<OrderEvent>> {
    load(c, p, id)?;
    Ok(store::events(c, id)?)
}

/// The read model of an order, as it is now (the one loader of it,
/// `store::order_view`: three statements).
pub fn view(c: &mut DbConn, p: &Principal, id: &str) -> Result<OrderView> {
    view_of(p, order_view::load(c, id)?)
}

fn view_of(p: &Principal, rows: order_view::OrderViewRows) -> Result<OrderView> {
    let order = Order::read(rows.order)?;
    let photos_missing = {
        let line_refs: Vec<(&str, &str)> = rows
            .lines
            .iter()
            .map(|l| (l.line.id.as_str(), l.line.status.as_str()))
            .collect();
        let have: Vec<(Option<&str>, &str)> = rows
            .photos
            .iter()
            .map(|p| (p.line_id.as_deref(), p.kind.as_str()))
            .collect();
        photos::missing_of(
            order.kind,
            &rows.rules,
            rows.waiver.is_some(),
            &line_refs,
            &have,
        )?
    };
    let lines = rows
        .lines
        .into_iter()
        .map(|l| LineView {
            work: l.line.work_list(),
            fitted: l.fitted,
            first_report: l.check.map(FirstReport::of),
            plate_no: l.plate_no,
            line: l.line,
        })
        .collect();
    let allowed_actions =
        order::allowed_actions(order.status, order.held_from, actor_for(p, &order))
            .into_iter()
            .map(Action::endpoint)
            .collect();
    Ok(OrderView {
        customer_name: rows.customer_name,
        readiness: order
            .readiness
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok())
            .unwrap_or_default(),
        has_signature: order.signoff_image.is_some(),
        lines,
        technicians: rows.technicians,
        parts: rows.parts,
        verbal_approvals: rows.verbal_approvals,
        charge: rows.charge,
        photos: rows.photos,
        photos_missing,
        photo_waiver: rows.waiver,
        first_report_waiver: rows.report_waiver,
        allowed_actions,
        order: order.row,
    })
}

/// Runs one step on an existing order: the row locked (concurrent actions on one order
/// queue here on PostgreSQL; SQLite writers are serialized anyway), the order in scope,
/// `expected_version` compared, then `step`, which must change the order through
/// [`transition`] or [`record_act`]. Answers the order as it is afterwards.
pub fn act(
    c: &mut DbConn,
    p: &Principal,
    id: &str,
    expected_version: i32,
    step: impl FnOnce(&mut DbConn, &Order) -> Result<()>,
) -> Result<OrderView> {
    store::lock(c, id)?;
    let order = load(c, p, id)?;
    if !crate::store::version_matches(expected_version, order.version) {
        return Err(Error::PreconditionFailed {
            current: order.version,
        });
    }
    step(c, &order)?;
    view(c, p, id)
}

/// A move of the state machine the principal may make now: the action, from, to.
#[derive(Debug, Clone, Copy)]
pub struct Move {
    action: Action,
    from: OrderStatus,
    to: OrderStatus,
}

/// The state `action` leads to from the order's state, for this principal.
pub fn next(p: &Principal, order: &Order, action: Action) -> Result<Move> {
    let to = order::next(order.status, order.held_from, action, actor_for(p, order))?;
    Ok(Move {
        action,
        from: order.status,
        to,
    })
}

/// [`next`] and [`transition`] now: the common action with nothing to check in between.
pub fn step(
    c: &mut DbConn,
    p: &Principal,
    order: &Order,
    action: Action,
    patch: OrderPatch,
    comment: Option<&str>,
) -> Result<()> {
    let m = next(p, order, action)?;
    transition(c, p, order, m, patch, comment, now())
}

/// Makes the move with `patch`, done at `at` (a phone's offline action, see
/// [`reported_at`]; else now), records it on the timeline, sends its notices, and on
/// completion opens the follow-up call.
pub fn transition(
    c: &mut DbConn,
    p: &Principal,
    order: &Order,
    m: Move,
    mut patch: OrderPatch,
    comment: Option<&str>,
    at: NaiveDateTime,
) -> Result<()> {
    patch.status = Some(m.to.as_str().to_string());
    if m.to == OrderStatus::OnHold {
        patch.held_from = Some(Some(m.from.as_str().to_string()));
    } else if m.from == OrderStatus::OnHold {
        patch.held_from = Some(None);
    }
    store::update(c, &order.id, order.version, &patch)?;
    store::add_event_at(
        c,
        &order.id,
        &p.id,
        m.action.endpoint(),
        Some((m.from.as_str(), m.to.as_str())),
        comment,
        at,
    )?;
    if let Some(notice) = OrderNotice::of(m.action) {
        notify::on_order(c, &order.id, notice)?;
    }
    if m.action == Action::Complete {
        crate::app::feedback::on_completed(c, order)?;
    }
    Ok(())
}

/// Records an act on the order that does not change its state (line work, parts, …),
/// done at `at`: one version step and a timeline entry.
pub fn record_act(
    c: &mut DbConn,
    p: &Principal,
    order: &Order,
    act: &str,
    comment: Option<&str>,
    at: NaiveDateTime,
) -> Result<()> {
    store::touch(c, &order.id, order.version)?;
    store::add_event_at(c, &order.id, &p.id, act, None, comment, at)?;
    Ok(())
}

/// When a technician's action was done: the phone's `at` (sent late after being offline)
/// within the bounds of `domain::reported_time`, else now.
pub fn reported_at(
    at: Option<NaiveDateTime>,
    previous: Option<NaiveDateTime>,
) -> Result<NaiveDateTime> {
    crate::domain::reported_time(at, now(), previous)
        .map_err(|refusal| Error::ReportedTime { refusal, previous })
}

/// The lead technician's acts on site: the order must be on_site (parts and verbal
/// approvals also on_hold).
pub fn on_site(p: &Principal, order: &Order, also_on_hold: bool) -> Result<()> {
    if actor_for(p, order) != Actor::LeadTechnician {
        return Err(Error::Forbidden);
    }
    let s = order.status;
    if s == OrderStatus::OnSite || (also_on_hold && s == OrderStatus::OnHold) {
        Ok(())
    } else {
        let mut extra = serde_json::Map::new();
        extra.insert("current_status".into(), s.as_str().into());
        Err(Error::Conflict {
            code: "invalid_transition".into(),
            detail: format!("only on site; the order is {}", s.as_str()),
            extra: Some(extra),
        })
    }
}

/// An order in a list: the order and its customer's name (a technician's job list shows it
/// without reading customers, and without one request per job).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrderListItem {
    #[serde(flatten)]
    pub order: WorkOrder,
    pub customer_name: String,
}

/// A page of orders matching `f`; a technician's own orders only.
pub fn list<'a>(
    c: &mut DbConn,
    p: &'a Principal,
    mut f: store::OrderFilter<'a>,
    page: &crate::store::PageReq,
) -> Result<crate::store::Page<OrderListItem>> {
    if p.is(Role::Technician) {
        f.technician = Some(&p.id);
    }
    let orders = store::list(c, &f, page)?;
    let ids: Vec<&str> = orders
        .items
        .iter()
        .map(|o| o.customer_id.as_str())
        .collect();
    let names = crate::store::names::customer_names(c, &ids)?;
    Ok(orders.map(|order| OrderListItem {
        customer_name: names.get(&order.customer_id).cloned().unwrap_or_default(),
        order,
    }))
}
