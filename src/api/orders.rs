//! Install work orders (安装任务派工单) and repair service orders (维修服务单): intake,
//! the lifecycle actions, the technician's work on site, and the candidates ranking.
//!
//! Every action on an existing order: role first (403), then the order in scope (404), the
//! version from `If-Match` (428/412), then the state machine of `domain::order` (409).
//! Each successful action bumps the order's version by exactly one and appends to its
//! timeline, in one transaction. Actions take an optional `Idempotency-Key`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, delete, get, patch, post, web};
use chrono::{Duration, NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use super::documents;
use super::error::ApiError;
use super::idempotency::{Idempotency, answer};
use super::json::{ClientTime, Json, JsonOrEmpty, opt_when, when};
use super::session::Caller;
use super::state::AppState;
use super::support::{
    Check, PageParams, created_etag, if_match, in_tx, ok_etag, page_json, with_db,
};
use crate::domain::access::{Op, Resource, Role};
use crate::domain::fees::{self, PartUse};
use crate::domain::ids::{Iccid, Imei, Phone, PlateNo, Vin};
use crate::domain::money::Fen;
use crate::domain::order::{
    self, Action, Actor, CompletionCheck, LineStatus, OrderKind, OrderStatus, ReadinessItem,
    Refusal,
};
use crate::domain::ranking::{CandidateIndex, OrderNeeds, TechnicianInfo};
use crate::domain::registry::{self, GeoPoint, SimStatus, TerminalStatus};
use crate::domain::warranty;
use crate::notify::{self, OrderNotice};
use crate::store::equipment::{self, BindContext};
use crate::store::orders::{
    self as store, Assignment, Line, OrderEvent, OrderFilter, OrderPatch, Part, PartPatch,
    PartUseRow, PartUsed, VerbalApproval, WorkOrder,
};
use crate::store::technicians::{self, TechnicianFilter};
use crate::store::vehicles::{self, Driver, Vehicle};
use crate::store::{DbConn, PageReq, centers, customers, new_id, now};

/// A visit is taken to occupy this long around its scheduled time for double-booking.
const VISIT_HOURS: i64 = 2;

// ---------------------------------------------------------------- views

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LineView {
    #[serde(flatten)]
    pub line: Line,
    pub plate_no: String,
    /// what was done: install, terminal_swap, sim_swap, repair
    pub work: Vec<String>,
    /// what is in the vehicle now (its installed terminal and SIM card), null when nothing
    pub fitted: Option<crate::store::equipment::Fitted>,
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
    /// the actions the caller may take now, by endpoint name (`POST …/{id}/<action>`)
    pub allowed_actions: Vec<&'static str>,
}

fn actor_for(caller: &Caller, order: &WorkOrder) -> Actor {
    match caller.role {
        Role::Admin => Actor::Admin,
        Role::Manager => Actor::Manager,
        Role::Agent => Actor::Agent,
        Role::Finance => Actor::Finance,
        Role::Technician if order.lead_technician_id.as_deref() == Some(caller.id.as_str()) => {
            Actor::LeadTechnician
        }
        Role::Technician => Actor::OtherTechnician,
    }
}

/// The action's name as the API says it: the endpoint `POST /work-orders/{id}/<name>`,
/// the timeline's `action`, the order's `allowed_actions`.
pub fn endpoint(action: Action) -> &'static str {
    match action {
        Action::CheckReady => "readiness",
        other => other.as_str(),
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

fn status_of(order: &WorkOrder) -> OrderStatus {
    OrderStatus::parse(&order.status).unwrap_or(OrderStatus::Cancelled)
}

fn held_from(order: &WorkOrder) -> Option<OrderStatus> {
    order.held_from.as_deref().and_then(OrderStatus::parse)
}

fn view(c: &mut DbConn, caller: &Caller, order: WorkOrder) -> Result<OrderView, ApiError> {
    let lines = store::lines(c, &order.id)?;
    let ids: Vec<&str> = lines.iter().map(|l| l.vehicle_id.as_str()).collect();
    let mut plates = vehicles::plates(c, &ids)?;
    let fitted = crate::store::equipment::fitted(c, &ids)?;
    let lines = lines
        .into_iter()
        .map(|line| LineView {
            work: line.work_list(),
            fitted: fitted.get(&line.vehicle_id).cloned(),
            plate_no: plates.remove(&line.vehicle_id).unwrap_or_default(),
            line,
        })
        .collect();
    let technicians = store::assignments(c, &order.id)?;
    let parts = store::parts_used(c, &order.id)?;
    let verbal_approvals = store::verbal_approvals(c, &order.id)?;
    let charge = crate::store::money::charge_of_order(c, &order.id)?;
    let customer_name = crate::store::names::customer_names(c, &[order.customer_id.as_str()])?
        .remove(&order.customer_id)
        .unwrap_or_default();
    let allowed_actions = order::allowed_actions(
        status_of(&order),
        held_from(&order),
        actor_for(caller, &order),
    )
    .into_iter()
    .map(endpoint)
    .collect();
    Ok(OrderView {
        customer_name,
        readiness: order
            .readiness
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok())
            .unwrap_or_default(),
        has_signature: order.signoff_image.is_some(),
        lines,
        technicians,
        parts,
        verbal_approvals,
        charge,
        allowed_actions,
        order,
    })
}

/// The order if the caller may see it: their center's (admins: any), and for a
/// technician only the orders they are on. Anything else does not exist (404).
fn load(c: &mut DbConn, caller: &Caller, id: &str) -> Result<WorkOrder, ApiError> {
    let order = store::get(c, id)?;
    caller.see(&order.center_id)?;
    if caller.role == Role::Technician && !store::is_on_order(c, id, &caller.id)? {
        return Err(ApiError::NotFound);
    }
    Ok(order)
}

fn refusal(r: Refusal) -> ApiError {
    match r {
        Refusal::NotPermitted { .. } => ApiError::Forbidden,
        Refusal::WrongState { current, action } => {
            let mut extra = serde_json::Map::new();
            extra.insert("current_status".into(), current.as_str().into());
            ApiError::Conflict {
                code: r.code().to_string(),
                detail: format!(
                    "cannot {} an order that is {}",
                    endpoint(action),
                    current.as_str()
                ),
                extra: Some(extra),
            }
        }
    }
}

/// The state `action` leads to from the order's state, for this caller.
fn next_state(caller: &Caller, order: &WorkOrder, action: Action) -> Result<OrderStatus, ApiError> {
    order::next(
        status_of(order),
        held_from(order),
        action,
        actor_for(caller, order),
    )
    .map_err(refusal)
}

/// Moves the order to its next state with `patch`, and records it on the timeline.
fn transition(
    c: &mut DbConn,
    caller: &Caller,
    order: &WorkOrder,
    action: Action,
    patch: OrderPatch,
    comment: Option<&str>,
) -> Result<OrderStatus, ApiError> {
    transition_at(c, caller, order, action, patch, comment, now())
}

/// [`transition`] for an action done at `at` (a phone's offline action; see
/// [`reported_at`]): the timeline shows `at`, and when it was received.
fn transition_at(
    c: &mut DbConn,
    caller: &Caller,
    order: &WorkOrder,
    action: Action,
    mut patch: OrderPatch,
    comment: Option<&str>,
    at: NaiveDateTime,
) -> Result<OrderStatus, ApiError> {
    let from = status_of(order);
    let to = next_state(caller, order, action)?;
    patch.status = Some(to.as_str().to_string());
    if to == OrderStatus::OnHold {
        patch.held_from = Some(Some(from.as_str().to_string()));
    } else if from == OrderStatus::OnHold {
        patch.held_from = Some(None);
    }
    store::update(c, &order.id, order.version, &patch)?;
    store::add_event_at(
        c,
        &order.id,
        &caller.id,
        endpoint(action),
        Some((from.as_str(), to.as_str())),
        comment,
        at,
    )?;
    if let Some(notice) = OrderNotice::of(action) {
        notify::on_order(c, &order.id, notice)?;
    }
    if action == Action::Complete {
        crate::app::feedback::on_completed(c, order)?;
    }
    Ok(to)
}

/// Records an act on the order that does not change its state (line work, parts, …).
fn record_act(
    c: &mut DbConn,
    caller: &Caller,
    order: &WorkOrder,
    act: &str,
    comment: Option<&str>,
) -> Result<(), ApiError> {
    record_act_at(c, caller, order, act, comment, now())
}

/// [`record_act`] for an act done at `at` (see [`reported_at`]).
fn record_act_at(
    c: &mut DbConn,
    caller: &Caller,
    order: &WorkOrder,
    act: &str,
    comment: Option<&str>,
    at: NaiveDateTime,
) -> Result<(), ApiError> {
    store::touch(c, &order.id, order.version)?;
    store::add_event_at(c, &order.id, &caller.id, act, None, comment, at)?;
    Ok(())
}

/// When a technician's action was done: the phone's `at` (sent late after being offline)
/// within the bounds of `domain::reported_time`, else now. 422 `too_old`, `in_future` or
/// `before_previous_step`.
fn reported_at(
    at: Option<NaiveDateTime>,
    previous: Option<NaiveDateTime>,
) -> Result<NaiveDateTime, ApiError> {
    crate::domain::reported_time(at, now(), previous).map_err(|r| ApiError::Unprocessable {
        code: r.code(),
        detail: match r {
            crate::domain::reported_time::TimeRefusal::TooOld => {
                "at: more than 72 hours ago".to_string()
            }
            crate::domain::reported_time::TimeRefusal::InFuture => "at: in the future".to_string(),
            crate::domain::reported_time::TimeRefusal::BeforePreviousStep => format!(
                "at: before the order's previous step ({})",
                previous.map(|p| p.to_string()).unwrap_or_default()
            ),
        },
    })
}

/// The latest time a line of the order was resolved.
fn last_line_done(c: &mut DbConn, order: &WorkOrder) -> Result<Option<NaiveDateTime>, ApiError> {
    Ok(store::lines(c, &order.id)?
        .iter()
        .filter_map(|l| l.done_at)
        .max())
}

// ---------------------------------------------------------------- running an action

/// Runs an action on an existing order: the idempotent replay, the order in scope, the
/// version check, then `f`, which must change the order through `transition` or
/// `record_act` (one version step). Answers the order as it is afterwards.
async fn run<B, F>(
    state: &AppState,
    caller: Caller,
    req: &HttpRequest,
    id: String,
    body: B,
    f: F,
) -> Result<HttpResponse, ApiError>
where
    B: Serialize + Send + 'static,
    F: FnOnce(&mut DbConn, &Caller, &WorkOrder, B) -> Result<(), ApiError> + Send + 'static,
{
    let version = if_match(req)?;
    let idem = Idempotency::of(req, &body)?;
    let outcome = in_tx(&state.pool, caller.session(), move |c| {
        // a double tap waits on the first one's claim of the key and replays its answer
        // instead of failing its version check
        idem.write(c, &caller.id, StatusCode::OK, |c| {
            // concurrent actions on one order queue here (PostgreSQL row lock; SQLite
            // writers are serialized anyway)
            store::lock(c, &id)?;
            let order = load(c, &caller, &id)?;
            if !crate::store::version_matches(version, order.version) {
                return Err(ApiError::PreconditionFailed {
                    current: order.version,
                });
            }
            f(c, &caller, &order, body)?;
            let fresh = store::get(c, &id)?;
            Ok(Box::new(view(c, &caller, fresh)?))
        })
    })
    .await?;
    Ok(answer(outcome, |v| ok_etag(v.order.version, &v)))
}

/// 403 unless the caller's role could ever take `action` (checked before the body).
fn may(caller: &Caller, action: Action) -> Result<(), ApiError> {
    caller.require(Resource::Orders, Op::Read)?;
    if order::permitted(action, best_actor(caller.role)) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

// ---------------------------------------------------------------- intake

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DriverIn {
    pub name: String,
    pub phone: String,
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VehicleIn {
    /// a registered vehicle of the customer…
    pub vehicle_id: Option<String>,
    /// …or its plate; an unknown plate is registered to the customer
    pub plate_no: Option<String>,
    pub vin: Option<String>,
    pub model: Option<String>,
    pub driver: Option<DriverIn>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInstallOrder {
    pub customer_id: String,
    pub site_address: String,
    pub site_lat: f64,
    pub site_lng: f64,
    pub contact_name: String,
    pub contact_phone: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub window_start: Option<ClientTime>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub window_end: Option<ClientTime>,
    /// when the request came in; default now
    #[schema(value_type = Option<String>, format = DateTime)]
    pub requested_at: Option<ClientTime>,
    /// normal (default) or urgent
    pub urgency: Option<String>,
    /// phone (default), letter, walk_in, online
    pub channel: Option<String>,
    pub notes: Option<String>,
    /// submit for approval at once (default: a draft)
    #[serde(default)]
    pub submit: bool,
    /// 安装车辆明细: one line per vehicle
    pub vehicles: Vec<VehicleIn>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRepairOrder {
    pub customer_id: String,
    pub site_address: String,
    pub site_lat: f64,
    pub site_lng: f64,
    pub contact_name: String,
    pub contact_phone: String,
    pub channel: Option<String>,
    pub urgency: Option<String>,
    /// 故障现象
    pub fault_symptoms: String,
    pub vehicle_id: Option<String>,
    pub plate_no: Option<String>,
    /// default: the terminal installed in the vehicle
    pub terminal_imei: Option<String>,
    pub product_model: Option<String>,
    /// as the customer reports it, when the terminal is not known
    pub purchase_date: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub requested_at: Option<ClientTime>,
    pub notes: Option<String>,
    #[serde(default)]
    pub submit: bool,
}

const URGENCIES: &[&str] = &["normal", "urgent"];
const CHANNELS: &[&str] = &["phone", "letter", "walk_in", "online"];

struct Common {
    site_address: String,
    contact_name: String,
    contact_phone: String,
    urgency: String,
    channel: String,
    notes: Option<String>,
}

#[allow(clippy::too_many_arguments)]
fn check_common(
    check: &mut Check,
    site_address: &str,
    lat: f64,
    lng: f64,
    contact_name: &str,
    contact_phone: &str,
    urgency: Option<&str>,
    channel: Option<&str>,
    notes: Option<&str>,
) -> Common {
    let site_address = check.text("site_address", site_address, 200);
    check.point("site", lat, lng);
    let contact_name = check.text("contact_name", contact_name, 50);
    let contact_phone = check
        .id("contact_phone", Phone::parse(contact_phone))
        .map(String::from)
        .unwrap_or_default();
    let urgency = urgency.unwrap_or("normal");
    if !URGENCIES.contains(&urgency) {
        check.add(
            "urgency",
            "invalid_choice",
            "must be one of: normal, urgent",
        );
    }
    let channel = channel.unwrap_or("phone");
    if !CHANNELS.contains(&channel) {
        check.add(
            "channel",
            "invalid_choice",
            "must be one of: phone, letter, walk_in, online",
        );
    }
    let notes = check.opt_text("notes", notes, 2000);
    Common {
        site_address,
        contact_name,
        contact_phone,
        urgency: urgency.to_string(),
        channel: channel.to_string(),
        notes,
    }
}

#[allow(clippy::too_many_arguments)]
fn new_order(
    c: &mut DbConn,
    kind: OrderKind,
    center_id: &str,
    customer_id: &str,
    common: Common,
    lat: f64,
    lng: f64,
    requested_at: NaiveDateTime,
    created_by: &str,
) -> Result<WorkOrder, ApiError> {
    let center = centers::get(c, center_id)?;
    let year = chrono::Datelike::year(&crate::domain::china_day(now()));
    let seq = crate::store::numbers::next_number(c, center_id, kind.as_str(), year)?;
    let t = now();
    Ok(WorkOrder {
        id: new_id(),
        number: order::order_number(kind, &center.code, year, seq),
        kind: kind.as_str().to_string(),
        center_id: center_id.to_string(),
        customer_id: customer_id.to_string(),
        status: OrderStatus::Draft.as_str().to_string(),
        held_from: None,
        urgency: common.urgency,
        channel: common.channel,
        site_address: common.site_address,
        site_lat: lat,
        site_lng: lng,
        contact_name: common.contact_name,
        contact_phone: common.contact_phone,
        window_start: None,
        window_end: None,
        requested_at,
        product_model: None,
        purchase_date: None,
        fault_symptoms: None,
        terminal_id: None,
        warranty_in: None,
        warranty_ends_on: None,
        notes: common.notes,
        created_by: created_by.to_string(),
        approved_by: None,
        approved_at: None,
        reject_reason: None,
        lead_technician_id: None,
        scheduled_at: None,
        outsourcing_reason: None,
        outsourcing_approved_by: None,
        readiness: None,
        ready_at: None,
        departed_at: None,
        arrived_at: None,
        arrived_lat: None,
        arrived_lng: None,
        completed_at: None,
        closed_at: None,
        cancel_reason: None,
        signoff_name: None,
        signoff_at: None,
        signoff_image: None,
        parts_total_fen: None,
        fee_fen: None,
        wait_seconds: None,
        repair_seconds: None,
        version: 1,
        created_at: t,
        updated_at: t,
    })
}

/// Inserts an order's lines, one per vehicle, all pending.
fn insert_lines(
    c: &mut DbConn,
    order_id: &str,
    lines: Vec<(String, Option<String>)>,
) -> Result<(), ApiError> {
    for (i, (vehicle_id, driver_id)) in lines.into_iter().enumerate() {
        store::insert_line(
            c,
            &Line {
                id: new_id(),
                order_id: order_id.to_string(),
                position: i32::try_from(i + 1).unwrap_or(i32::MAX),
                vehicle_id,
                driver_id,
                status: LineStatus::Pending.as_str().to_string(),
                work: "[]".into(),
                terminal_id: None,
                sim_id: None,
                old_terminal_id: None,
                old_sim_id: None,
                fault_tag: None,
                not_done_reason: None,
                notes: None,
                done_by: None,
                done_at: None,
            },
        )?;
    }
    Ok(())
}

/// Inserts the order, its creation (and submission) on the timeline.
fn save_new(
    c: &mut DbConn,
    caller: &Caller,
    mut order: WorkOrder,
    lines: Vec<(String, Option<String>)>,
    submit_now: bool,
) -> Result<OrderView, ApiError> {
    if submit_now {
        order.status = OrderStatus::Submitted.as_str().to_string();
    }
    store::insert(c, &order)?;
    insert_lines(c, &order.id, lines)?;
    store::add_event(
        c,
        &order.id,
        &caller.id,
        "create",
        None,
        Some(&order.number),
    )?;
    if submit_now {
        store::add_event(
            c,
            &order.id,
            &caller.id,
            Action::Submit.as_str(),
            Some(("draft", "submitted")),
            None,
        )?;
        notify::on_order(c, &order.id, OrderNotice::Submitted)?;
    }
    let fresh = store::get(c, &order.id)?;
    view(c, caller, fresh)
}

fn customer_in_scope(
    c: &mut DbConn,
    caller: &Caller,
    id: &str,
) -> Result<customers::CustomerRow, ApiError> {
    customers::get_row(c, id)
        .ok()
        .filter(|cu| caller.scope.covers(&cu.center_id))
        .ok_or_else(|| ApiError::field("customer_id", "unknown", "no such customer"))
}

/// Checks the vehicles of an install order (create, edit): their plates as given.
fn check_vehicles(check: &mut Check, vehicles: &[VehicleIn]) -> Vec<Option<String>> {
    if vehicles.is_empty() || vehicles.len() > 200 {
        check.add("vehicles", "out_of_range", "between 1 and 200 vehicles");
    }
    let mut plates = Vec::new();
    for (i, v) in vehicles.iter().enumerate() {
        match (&v.vehicle_id, &v.plate_no) {
            (Some(_), None) => plates.push(None),
            (None, Some(p)) => {
                let plate = check.id(format!("vehicles[{i}].plate_no"), PlateNo::parse(p));
                if let Some(vin) = v.vin.as_deref().filter(|s| !s.trim().is_empty()) {
                    check.id(format!("vehicles[{i}].vin"), Vin::parse(vin));
                }
                plates.push(plate.map(String::from));
            }
            _ => {
                check.add(
                    format!("vehicles[{i}]"),
                    "required",
                    "give either vehicle_id or plate_no",
                );
                plates.push(None);
            }
        }
        if let Some(d) = &v.driver {
            check.text(format!("vehicles[{i}].driver.name"), &d.name, 50);
            check.id(
                format!("vehicles[{i}].driver.phone"),
                Phone::parse(&d.phone),
            );
        }
    }
    let mut seen = std::collections::HashSet::new();
    for (i, p) in plates.iter().enumerate() {
        if let Some(p) = p
            && !seen.insert(p.clone())
        {
            check.add(
                format!("vehicles[{i}].plate_no"),
                "duplicate",
                "plate listed twice",
            );
        }
    }
    plates
}

/// The lines of an install order: each vehicle found (or registered by its plate) among
/// the customer's, and its driver recorded.
fn resolve_vehicles(
    c: &mut DbConn,
    customer: &customers::CustomerRow,
    vehicles: &[VehicleIn],
    plates: Vec<Option<String>>,
) -> Result<Vec<(String, Option<String>)>, ApiError> {
    let mut lines = Vec::new();
    let mut vehicle_ids = std::collections::HashSet::new();
    for (i, (v, plate)) in vehicles.iter().zip(plates).enumerate() {
        let vehicle = match (&v.vehicle_id, plate) {
            (Some(id), _) => vehicles::get(c, id)
                .ok()
                .filter(|x| x.customer_id == customer.id)
                .ok_or_else(|| {
                    ApiError::field(
                        &format!("vehicles[{i}].vehicle_id"),
                        "unknown",
                        "no such vehicle of this customer",
                    )
                })?,
            (None, Some(plate)) => match vehicles::by_plate(c, &plate)? {
                Some(x) if x.customer_id == customer.id => x,
                Some(_) => {
                    return Err(ApiError::conflict(
                        "duplicate_plate_no",
                        format!("{plate} is registered to another customer"),
                    ));
                }
                None => {
                    let t = now();
                    let x = Vehicle {
                        id: new_id(),
                        center_id: customer.center_id.clone(),
                        customer_id: customer.id.clone(),
                        plate_no: plate,
                        vin: v.vin.clone().filter(|s| !s.trim().is_empty()),
                        model: v.model.clone().filter(|s| !s.trim().is_empty()),
                        notes: None,
                        version: 1,
                        created_at: t,
                        updated_at: t,
                    };
                    vehicles::insert(c, &x)?;
                    x
                }
            },
            _ => return Err(ApiError::Internal("unchecked vehicle".into())),
        };
        if !vehicle_ids.insert(vehicle.id.clone()) {
            return Err(ApiError::field(
                &format!("vehicles[{i}]"),
                "duplicate",
                "vehicle listed twice",
            ));
        }
        let driver_id = match &v.driver {
            Some(d) => {
                let t = now();
                let driver = Driver {
                    id: new_id(),
                    center_id: customer.center_id.clone(),
                    vehicle_id: vehicle.id.clone(),
                    name: d.name.trim().to_string(),
                    phone: d.phone.trim().to_string(),
                    version: 1,
                    created_at: t,
                    updated_at: t,
                };
                vehicles::insert_driver(c, &driver)?;
                Some(driver.id)
            }
            None => None,
        };
        lines.push((vehicle.id, driver_id));
    }
    Ok(lines)
}

/// Create an install work order (安装任务派工单) from an install request with its vehicles.
#[utoipa::path(tag = "work orders", request_body = NewInstallOrder, responses((status = 201, body = OrderView), (status = 422)), security(("bearer" = [])))]
#[post("/work-orders/install")]
pub async fn create_install(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<NewInstallOrder>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Orders, Op::Write)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let common = check_common(
        &mut check,
        &b.site_address,
        b.site_lat,
        b.site_lng,
        &b.contact_name,
        &b.contact_phone,
        b.urgency.as_deref(),
        b.channel.as_deref(),
        b.notes.as_deref(),
    );
    if let (Some(s), Some(e)) = (b.window_start, b.window_end)
        && e <= s
    {
        check.add("window_end", "out_of_range", "must be after window_start");
    }
    let plates = check_vehicles(&mut check, &b.vehicles);
    check.finish()?;
    let requested_at = opt_when("requested_at", b.requested_at)?.unwrap_or_else(now);
    let window_start = opt_when("window_start", b.window_start)?;
    let window_end = opt_when("window_end", b.window_end)?;
    let view = in_tx(&state.pool, caller.session(), move |c| {
        let customer = customer_in_scope(c, &caller, &b.customer_id)?;
        let mut order = new_order(
            c,
            OrderKind::Install,
            &customer.center_id,
            &customer.id,
            common,
            b.site_lat,
            b.site_lng,
            requested_at,
            &caller.id,
        )?;
        order.window_start = window_start;
        order.window_end = window_end;
        let lines = resolve_vehicles(c, &customer, &b.vehicles, plates)?;
        save_new(c, &caller, order, lines, b.submit)
    })
    .await?;
    Ok(created_etag(view.order.version, &view))
}

/// Create a repair service order (维修服务单) from a call; the warranty verdict is computed
/// from the terminal's purchase date and warranty months.
#[utoipa::path(tag = "work orders", request_body = NewRepairOrder, responses((status = 201, body = OrderView), (status = 422)), security(("bearer" = [])))]
#[post("/work-orders/repair")]
pub async fn create_repair(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<NewRepairOrder>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Orders, Op::Write)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let common = check_common(
        &mut check,
        &b.site_address,
        b.site_lat,
        b.site_lng,
        &b.contact_name,
        &b.contact_phone,
        b.urgency.as_deref(),
        b.channel.as_deref(),
        b.notes.as_deref(),
    );
    let symptoms = check.text("fault_symptoms", &b.fault_symptoms, 1000);
    let plate = match (&b.vehicle_id, &b.plate_no) {
        (Some(_), None) => None,
        (None, Some(p)) => check.id("plate_no", PlateNo::parse(p)).map(String::from),
        _ => {
            check.add(
                "vehicle_id",
                "required",
                "give either vehicle_id or plate_no",
            );
            None
        }
    };
    let imei = check.opt_id("terminal_imei", b.terminal_imei.as_deref(), Imei::parse);
    let model = check.opt_text("product_model", b.product_model.as_deref(), 50);
    if let Some(d) = b.purchase_date
        && !(1990..2100).contains(&chrono::Datelike::year(&d))
    {
        check.add(
            "purchase_date",
            "out_of_range",
            "a date between 1990 and 2099",
        );
    }
    check.finish()?;
    let requested_at = opt_when("requested_at", b.requested_at)?.unwrap_or_else(now);
    let view = in_tx(&state.pool, caller.session(), move |c| {
        let customer = customer_in_scope(c, &caller, &b.customer_id)?;
        let vehicle = match (&b.vehicle_id, plate) {
            (Some(id), _) => vehicles::get(c, id).ok(),
            (None, Some(p)) => vehicles::by_plate(c, &p)?,
            _ => None,
        }
        .filter(|v| v.customer_id == customer.id)
        .ok_or_else(|| {
            ApiError::field("vehicle_id", "unknown", "no such vehicle of this customer")
        })?;
        let terminal = match imei {
            Some(imei) => Some(
                equipment::terminal_by_imei(c, imei.as_str())?
                    .filter(|t| t.vehicle_id.as_deref() == Some(vehicle.id.as_str()))
                    .ok_or_else(|| {
                        ApiError::field(
                            "terminal_imei",
                            "not_in_vehicle",
                            "no such terminal installed in this vehicle",
                        )
                    })?,
            ),
            None => equipment::terminals_in_vehicles(c, &[vehicle.id.as_str()])?
                .into_iter()
                .next(),
        };
        let mut order = new_order(
            c,
            OrderKind::Repair,
            &customer.center_id,
            &customer.id,
            common,
            b.site_lat,
            b.site_lng,
            requested_at,
            &caller.id,
        )?;
        order.fault_symptoms = Some(symptoms);
        let on = crate::domain::china_day(requested_at);
        match &terminal {
            Some(t) => {
                let v = warranty::verdict(t.purchase_date, t.warranty_months, on);
                order.terminal_id = Some(t.id.clone());
                order.product_model = Some(t.model_code.clone());
                order.purchase_date = Some(t.purchase_date);
                order.warranty_in = Some(v.in_warranty);
                order.warranty_ends_on = Some(v.ends_on);
            }
            None => {
                order.product_model = model.clone();
                order.purchase_date = b.purchase_date;
                let months = match &model {
                    Some(m) => equipment::model(c, m)?.map(|m| m.warranty_months),
                    None => None,
                };
                if let (Some(d), Some(m)) = (b.purchase_date, months) {
                    let v = warranty::verdict(d, m, on);
                    order.warranty_in = Some(v.in_warranty);
                    order.warranty_ends_on = Some(v.ends_on);
                }
            }
        }
        save_new(c, &caller, order, vec![(vehicle.id, None)], b.submit)
    })
    .await?;
    Ok(created_etag(view.order.version, &view))
}

// ---------------------------------------------------------------- reading

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrderQuery {
    pub center_id: Option<String>,
    /// install | repair
    pub kind: Option<String>,
    /// one or more states, comma-separated
    pub status: Option<String>,
    pub customer_id: Option<String>,
    pub technician_id: Option<String>,
    #[param(value_type = Option<String>, format = DateTime)]
    pub scheduled_from: Option<ClientTime>,
    #[param(value_type = Option<String>, format = DateTime)]
    pub scheduled_to: Option<ClientTime>,
}

/// An order in a list: the order and its customer's name (a technician's job list shows it
/// without reading customers, and without one request per job).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OrderListItem {
    #[serde(flatten)]
    pub order: WorkOrder,
    pub customer_name: String,
}

/// Orders of the caller's center; a technician's own orders only.
#[utoipa::path(operation_id = "list_work_orders", tag = "work orders", params(OrderQuery, PageParams), responses((status = 200, body = inline(crate::store::Page<OrderListItem>))), security(("bearer" = [])))]
#[get("/work-orders")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<OrderQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Orders, Op::Read)?;
    let page = page.to_req()?;
    let q = q.into_inner();
    let mut check = Check::new();
    if let Some(k) = &q.kind
        && OrderKind::parse(k).is_none()
    {
        check.add("kind", "invalid_choice", "must be one of: install, repair");
    }
    let statuses = q.status.as_deref().map(|s| {
        s.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect::<Vec<_>>()
    });
    if let Some(list) = &statuses
        && list.iter().any(|s| OrderStatus::parse(s).is_none())
    {
        check.add(
            "status",
            "invalid_choice",
            format!("must be among: {}", OrderStatus::names()),
        );
    }
    check.finish()?;
    let Some(center) = caller.list_center(q.center_id.as_deref()) else {
        return super::support::empty_page::<WorkOrder>(&state.pool, caller.session()).await;
    };
    let technician = if caller.role == Role::Technician {
        Some(caller.id.clone())
    } else {
        q.technician_id.clone()
    };
    let scheduled_from = opt_when("scheduled_from", q.scheduled_from)?;
    let scheduled_to = opt_when("scheduled_to", q.scheduled_to)?;
    let result = with_db(&state.pool, caller.session(), move |c| {
        let f = OrderFilter {
            center: center.as_deref(),
            technician: technician.as_deref(),
            kind: q.kind,
            status: statuses,
            customer_id: q.customer_id,
            scheduled_from,
            scheduled_to,
        };
        let orders = store::list(c, &f, &page)?;
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
    })
    .await?;
    Ok(page_json(result))
}

#[utoipa::path(operation_id = "get_work_order", tag = "work orders", responses((status = 200, body = OrderView), (status = 404)), security(("bearer" = [])))]
#[get("/work-orders/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Orders, Op::Read)?;
    let v = with_db(&state.pool, caller.session(), move |c| {
        let order = load(c, &caller, &id)?;
        view(c, &caller, order)
    })
    .await?;
    Ok(ok_etag(v.order.version, &v))
}

/// The order printed: 安装任务派工单 or 维修服务单 (A4, Simplified Chinese, with a QR code of
/// the number). `X-Missing-Glyphs` names characters no configured font has (printed as □);
/// 503 when no CJK font is installed.
#[utoipa::path(tag = "work orders", responses((status = 200, content_type = "application/pdf"), (status = 404), (status = 503)), security(("bearer" = [])))]
#[get("/work-orders/{id}/pdf")]
pub async fn pdf(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Orders, Op::Read)?;
    documents::ready(&state.documents)?;
    let docs = state.documents.clone();
    let doc = with_db(&state.pool, caller.session(), move |c| {
        let order = load(c, &caller, &id)?;
        Ok(docs.work_order(c, &order)?)
    })
    .await?;
    documents::respond(state.documents.clone(), doc).await
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Timeline {
    pub items: Vec<OrderEvent>,
}

/// The order's timeline: every transition and recorded act, oldest first.
#[utoipa::path(tag = "work orders", responses((status = 200, body = Timeline), (status = 404)), security(("bearer" = [])))]
#[get("/work-orders/{id}/timeline")]
pub async fn timeline(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Orders, Op::Read)?;
    let items = with_db(&state.pool, caller.session(), move |c| {
        load(c, &caller, &id)?;
        Ok(store::events(c, &id)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(Timeline { items }))
}

// ---------------------------------------------------------------- transitions

#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentIn {
    pub comment: Option<String>,
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonIn {
    pub reason: String,
}

#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PositionIn {
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    /// when it was done, if the phone sends it late (offline): at most 72 hours back,
    /// not in the future, not before the previous step; default now
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<ClientTime>,
}

/// An action whose only field is when it was done (see `PositionIn::at`).
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AtIn {
    /// when it was done, if the phone sends it late (offline): at most 72 hours back,
    /// not in the future, not before the previous step; default now
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<ClientTime>,
}

fn reason(check: &mut Check, r: &ReasonIn) -> String {
    check.text("reason", &r.reason, 500)
}

macro_rules! simple_action {
    ($fn_name:ident, $path:literal, $action:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(tag = "work orders", request_body = CommentIn, responses((status = 200, body = OrderView), (status = 409), (status = 412)), security(("bearer" = [])))]
        #[post($path)]
        pub async fn $fn_name(
            state: web::Data<AppState>,
            caller: Caller,
            req: HttpRequest,
            id: web::Path<String>,
            body: JsonOrEmpty<CommentIn>,
        ) -> Result<HttpResponse, ApiError> {
            may(&caller, $action)?;
            let b = body.parse()?;
            let mut check = Check::new();
            let comment = check.opt_text("comment", b.comment.as_deref(), 500);
            check.finish()?;
            run(&state, caller, &req, id.into_inner(), comment, |c, caller, order, comment| {
                transition(c, caller, order, $action, OrderPatch::default(), comment.as_deref())?;
                Ok(())
            })
            .await
        }
    };
}

/// The corrections to a draft or rejected order; absent fields stay as they are.
#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderEdit {
    pub site_address: Option<String>,
    pub site_lat: Option<f64>,
    pub site_lng: Option<f64>,
    pub contact_name: Option<String>,
    pub contact_phone: Option<String>,
    /// normal or urgent
    pub urgency: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub window_start: Option<ClientTime>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub window_end: Option<ClientTime>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub requested_at: Option<ClientTime>,
    /// install orders: the vehicle lines, replacing the order's lines
    pub vehicles: Option<Vec<VehicleIn>>,
}

/// Correct a draft or a rejected order (site, contact, window, urgency, vehicle lines),
/// then submit it again. Other states: 409 `order_not_editable`.
#[utoipa::path(operation_id = "update_work_order", tag = "work orders", request_body = OrderEdit, responses((status = 200, body = OrderView), (status = 404), (status = 409), (status = 412), (status = 422), (status = 428)), security(("bearer" = [])))]
#[patch("/work-orders/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<OrderEdit>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Orders, Op::Write)?;
    may(&caller, Action::Submit)?;
    let b = body.parse()?;
    run(
        &state,
        caller,
        &req,
        id.into_inner(),
        b,
        |c, caller, order, b| {
            if !status_of(order).is_editable() {
                return Err(ApiError::conflict(
                    "order_not_editable",
                    format!("cannot edit an order that is {}", order.status),
                ));
            }
            let install = order.kind == OrderKind::Install.as_str();
            let mut check = Check::new();
            let lat = b.site_lat.unwrap_or(order.site_lat);
            let lng = b.site_lng.unwrap_or(order.site_lng);
            let common = check_common(
                &mut check,
                b.site_address.as_deref().unwrap_or(&order.site_address),
                lat,
                lng,
                b.contact_name.as_deref().unwrap_or(&order.contact_name),
                b.contact_phone.as_deref().unwrap_or(&order.contact_phone),
                Some(b.urgency.as_deref().unwrap_or(&order.urgency)),
                Some(&order.channel),
                None,
            );
            let plates = match &b.vehicles {
                Some(v) if install => Some(check_vehicles(&mut check, v)),
                Some(_) => {
                    check.add(
                        "vehicles",
                        "not_applicable",
                        "a repair order has one vehicle; create a new order for another",
                    );
                    None
                }
                None => None,
            };
            let window_start = match b.window_start {
                Some(t) => Some(when("window_start", t)?),
                None => order.window_start,
            };
            let window_end = match b.window_end {
                Some(t) => Some(when("window_end", t)?),
                None => order.window_end,
            };
            if (b.window_start.is_some() || b.window_end.is_some()) && !install {
                check.add(
                    "window_start",
                    "not_applicable",
                    "repair orders have no window",
                );
            }
            if let (Some(s), Some(e)) = (window_start, window_end)
                && e <= s
            {
                check.add("window_end", "out_of_range", "must be after window_start");
            }
            check.finish()?;
            let requested_at = opt_when("requested_at", b.requested_at)?;
            let mut changed = Vec::new();
            let mut note = |yes: bool, what: &'static str| {
                if yes {
                    changed.push(what);
                }
            };
            note(common.site_address != order.site_address, "地址");
            note(lat != order.site_lat || lng != order.site_lng, "位置");
            note(common.contact_name != order.contact_name, "联系人");
            note(common.contact_phone != order.contact_phone, "联系电话");
            note(common.urgency != order.urgency, "紧急程度");
            note(
                window_start != order.window_start || window_end != order.window_end,
                "预约时段",
            );
            note(
                requested_at.is_some_and(|t| t != order.requested_at),
                "报修时间",
            );
            note(plates.is_some(), "车辆明细");
            let patch = OrderPatch {
                site_address: Some(common.site_address),
                site_lat: Some(lat),
                site_lng: Some(lng),
                contact_name: Some(common.contact_name),
                contact_phone: Some(common.contact_phone),
                urgency: Some(common.urgency),
                window_start: Some(window_start),
                window_end: Some(window_end),
                requested_at,
                ..OrderPatch::default()
            };
            if let (Some(vehicles), Some(plates)) = (&b.vehicles, plates) {
                let customer = customers::get_row(c, &order.customer_id)?;
                let lines = resolve_vehicles(c, &customer, vehicles, plates)?;
                store::delete_lines(c, &order.id)?;
                insert_lines(c, &order.id, lines)?;
            }
            store::update(c, &order.id, order.version, &patch)?;
            let comment = if changed.is_empty() {
                "未改动".to_string()
            } else {
                format!("修改了：{}", changed.join("、"))
            };
            store::add_event(c, &order.id, &caller.id, "edited", None, Some(&comment))?;
            Ok(())
        },
    )
    .await
}

simple_action!(
    submit,
    "/work-orders/{id}/submit",
    Action::Submit,
    "Submit a draft (or a rejected order, revised) for approval."
);
simple_action!(
    accept,
    "/work-orders/{id}/accept",
    Action::Accept,
    "The lead technician accepts the job."
);
simple_action!(
    resume,
    "/work-orders/{id}/resume",
    Action::Resume,
    "Resume an order on hold, to the state it was held in."
);

/// A manager approves an order of their center.
#[utoipa::path(tag = "work orders", request_body = CommentIn, responses((status = 200, body = OrderView), (status = 403), (status = 409), (status = 412)), security(("bearer" = [])))]
#[post("/work-orders/{id}/approve")]
pub async fn approve(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: JsonOrEmpty<CommentIn>,
) -> Result<HttpResponse, ApiError> {
    may(&caller, Action::Approve)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let comment = check.opt_text("comment", b.comment.as_deref(), 500);
    check.finish()?;
    run(
        &state,
        caller,
        &req,
        id.into_inner(),
        comment,
        |c, caller, order, comment| {
            let patch = OrderPatch {
                approved_by: Some(Some(caller.id.clone())),
                approved_at: Some(Some(now())),
                reject_reason: Some(None),
                ..Default::default()
            };
            transition(c, caller, order, Action::Approve, patch, comment.as_deref())?;
            Ok(())
        },
    )
    .await
}

macro_rules! reason_action {
    ($fn_name:ident, $path:literal, $action:expr, $doc:literal, |$c:ident, $order:ident, $reason:ident| $patch:expr) => {
        #[doc = $doc]
        #[utoipa::path(tag = "work orders", request_body = ReasonIn, responses((status = 200, body = OrderView), (status = 409), (status = 412), (status = 422)), security(("bearer" = [])))]
        #[post($path)]
        pub async fn $fn_name(
            state: web::Data<AppState>,
            caller: Caller,
            req: HttpRequest,
            id: web::Path<String>,
            body: Json<ReasonIn>,
        ) -> Result<HttpResponse, ApiError> {
            may(&caller, $action)?;
            let b = body.parse()?;
            let mut check = Check::new();
            let r = reason(&mut check, &b);
            check.finish()?;
            run(&state, caller, &req, id.into_inner(), r, |$c, caller, $order, $reason| {
                let patch: OrderPatch = $patch;
                transition($c, caller, $order, $action, patch, Some(&$reason))?;
                Ok(())
            })
            .await
        }
    };
}

reason_action!(
    reject,
    "/work-orders/{id}/reject",
    Action::Reject,
    "A manager rejects an order; the reason is required.",
    |_c, _order, r| OrderPatch {
        reject_reason: Some(Some(r.clone())),
        ..Default::default()
    }
);
reason_action!(
    decline,
    "/work-orders/{id}/decline",
    Action::Decline,
    "The lead technician declines the job; it goes back to the manager to assign again.",
    |c, order, r| {
        store::clear_assignments(c, &order.id)?;
        OrderPatch {
            lead_technician_id: Some(None),
            scheduled_at: Some(None),
            ..Default::default()
        }
    }
);
reason_action!(
    hold,
    "/work-orders/{id}/hold",
    Action::Hold,
    "Put the order on hold (e.g. waiting for parts).",
    |_c, _order, r| OrderPatch::default()
);
reason_action!(
    cancel,
    "/work-orders/{id}/cancel",
    Action::Cancel,
    "Cancel the order with a reason.",
    |_c, _order, r| OrderPatch {
        cancel_reason: Some(Some(r.clone())),
        ..Default::default()
    }
);

/// Close a completed order: 409 until its charge is settled (`charge_unsettled`), the cash
/// collected on site is handed over (`cash_not_remitted`) in a remittance finance confirmed
/// (`remittance_unconfirmed`), and its follow-up call is recorded or given up as
/// unreachable (`follow_up_pending`). The problem's `blockers` lists all that is missing.
#[utoipa::path(operation_id = "close_work_order", tag = "work orders", request_body = CommentIn, responses((status = 200, body = OrderView), (status = 409)), security(("bearer" = [])))]
#[post("/work-orders/{id}/close")]
pub async fn close(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: JsonOrEmpty<CommentIn>,
) -> Result<HttpResponse, ApiError> {
    may(&caller, Action::Close)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let comment = check.opt_text("comment", b.comment.as_deref(), 500);
    check.finish()?;
    run(
        &state,
        caller,
        &req,
        id.into_inner(),
        comment,
        |c, caller, order, comment| {
            next_state(caller, order, Action::Close)?;
            // 篇三: completed → money remitted → finance confirms → follow-up → closed
            crate::app::charges::require_closable(c, &order.id)?;
            let patch = OrderPatch {
                closed_at: Some(Some(now())),
                ..Default::default()
            };
            transition(c, caller, order, Action::Close, patch, comment.as_deref())?;
            Ok(())
        },
    )
    .await
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignIn {
    pub lead_id: String,
    #[serde(default)]
    pub helper_ids: Vec<String>,
    #[schema(value_type = String, format = DateTime)]
    pub scheduled_at: ClientTime,
    /// 外协: required when any assigned technician is an external contractor; the
    /// assigning manager's approval of it
    pub outsourcing_reason: Option<String>,
    /// assign even though the lead is booked around that time
    #[serde(default)]
    pub allow_double_booking: bool,
}

fn assign_action(
    action: Action,
) -> impl Fn(&mut DbConn, &Caller, &WorkOrder, AssignIn) -> Result<(), ApiError> {
    move |c, caller, order, b| {
        // the state first: assigning an unapproved order is a 409 whoever is named
        next_state(caller, order, action)?;
        let kind = OrderKind::parse(&order.kind).unwrap_or(OrderKind::Repair);
        let mut check = Check::new();
        let mut external = false;
        let mut ids = vec![b.lead_id.clone()];
        ids.extend(b.helper_ids.iter().cloned());
        for (i, tid) in ids.iter().enumerate() {
            let field = if i == 0 {
                "lead_id".to_string()
            } else {
                format!("helper_ids[{}]", i - 1)
            };
            if ids[..i].contains(tid) {
                check.add(field, "duplicate", "named twice");
                continue;
            }
            match technicians::get(c, tid)
                .ok()
                .filter(|t| t.center_id == order.center_id)
            {
                None => check.add(field, "unknown", "no such technician in this center"),
                Some(t) if !t.active => check.add(field, "inactive", "technician is not active"),
                Some(t) => {
                    let skilled = match kind {
                        OrderKind::Install => t.can_install,
                        OrderKind::Repair => t.can_repair,
                    };
                    if !skilled {
                        check.add(
                            field,
                            "lacks_skill",
                            format!("cannot do {} work", kind.as_str()),
                        );
                    }
                    external |= t.external;
                }
            }
        }
        let outsourcing = b
            .outsourcing_reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string);
        if external && outsourcing.is_none() {
            check.add(
                "outsourcing_reason",
                "outsourcing_approval_required",
                "assigning an external contractor (外协) needs the outsourcing approval's reason",
            );
        }
        check.finish()?;
        let at = when("scheduled_at", b.scheduled_at)?;
        let window = Duration::hours(VISIT_HOURS);
        // two managers booking the same technician at once queue here (PostgreSQL)
        crate::store::technicians::lock_technician(c, &b.lead_id)?;
        let clashes: Vec<String> = store::bookings(c, &order.center_id, at - window, at + window)?
            .into_iter()
            .filter(|(t, oid, _)| t == &b.lead_id && oid != &order.id)
            .map(|(_, oid, _)| oid)
            .collect();
        if !clashes.is_empty() && !b.allow_double_booking {
            let mut extra = serde_json::Map::new();
            extra.insert("orders".into(), clashes.into());
            return Err(ApiError::Conflict {
                code: "technician_busy".into(),
                detail: "the lead technician is booked around that time; pass allow_double_booking to assign anyway".into(),
                extra: Some(extra),
            });
        }
        let patch = OrderPatch {
            lead_technician_id: Some(Some(b.lead_id.clone())),
            scheduled_at: Some(Some(at)),
            outsourcing_reason: Some(outsourcing.clone()),
            outsourcing_approved_by: Some(outsourcing.as_ref().map(|_| caller.id.clone())),
            readiness: Some(None),
            ready_at: Some(None),
            ..Default::default()
        };
        store::set_assignments(c, &order.id, &b.lead_id, &b.helper_ids)?;
        let mut comment = format!("主修 {}", b.lead_id);
        if !b.helper_ids.is_empty() {
            comment.push_str(&format!("，协助 {}", b.helper_ids.join("、")));
        }
        if let Some(r) = &outsourcing {
            comment.push_str(&format!("；外协：{r}"));
        }
        if b.allow_double_booking && !clashes.is_empty() {
            comment.push_str("；时段冲突，确认仍派此技师");
        }
        transition(c, caller, order, action, patch, Some(&comment))?;
        Ok(())
    }
}

/// Assign a lead technician (and helpers) and schedule the visit.
#[utoipa::path(tag = "work orders", request_body = AssignIn, responses((status = 200, body = OrderView), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/work-orders/{id}/assign")]
pub async fn assign(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<AssignIn>,
) -> Result<HttpResponse, ApiError> {
    may(&caller, Action::Assign)?;
    let b = body.parse()?;
    run(
        &state,
        caller,
        &req,
        id.into_inner(),
        b,
        assign_action(Action::Assign),
    )
    .await
}

/// Assign another lead (before the visit starts).
#[utoipa::path(tag = "work orders", request_body = AssignIn, responses((status = 200, body = OrderView), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/work-orders/{id}/reassign")]
pub async fn reassign(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<AssignIn>,
) -> Result<HttpResponse, ApiError> {
    may(&caller, Action::Reassign)?;
    let b = body.parse()?;
    run(
        &state,
        caller,
        &req,
        id.into_inner(),
        b,
        assign_action(Action::Reassign),
    )
    .await
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadinessIn {
    /// info_verified, tools, spare_parts, documents: all four before departure
    pub items: Vec<String>,
}

/// The readiness check before departure (出发前核对): every item ticked.
#[utoipa::path(tag = "work orders", request_body = ReadinessIn, responses((status = 200, body = OrderView), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/work-orders/{id}/readiness")]
pub async fn readiness(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<ReadinessIn>,
) -> Result<HttpResponse, ApiError> {
    may(&caller, Action::CheckReady)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let mut ticked = Vec::new();
    for (i, item) in b.items.iter().enumerate() {
        match ReadinessItem::parse(item) {
            Some(x) if !ticked.contains(&x) => ticked.push(x),
            Some(_) => {}
            None => check.add(
                format!("items[{i}]"),
                "invalid_choice",
                format!("must be one of: {}", ReadinessItem::names()),
            ),
        }
    }
    check.finish()?;
    let missing = order::readiness_missing(&ticked);
    if !missing.is_empty() {
        return Err(ApiError::Unprocessable {
            code: "readiness_incomplete",
            detail: format!(
                "not ticked: {}",
                missing
                    .iter()
                    .map(|m| format!("{} ({})", m.as_str(), m.label_zh()))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        });
    }
    let names: Vec<&str> = ticked.iter().map(|t| t.as_str()).collect();
    let json = serde_json::to_string(&names).unwrap_or_default();
    run(
        &state,
        caller,
        &req,
        id.into_inner(),
        json,
        |c, caller, order, json| {
            let patch = OrderPatch {
                readiness: Some(Some(json)),
                ready_at: Some(Some(now())),
                ..Default::default()
            };
            transition(c, caller, order, Action::CheckReady, patch, None)?;
            Ok(())
        },
    )
    .await
}

/// A move of the technician's (depart, arrive): the transition with what it records,
/// and the phone's position, when given, as their last known one.
async fn travel(
    state: &AppState,
    caller: Caller,
    req: &HttpRequest,
    id: String,
    body: JsonOrEmpty<PositionIn>,
    action: Action,
) -> Result<HttpResponse, ApiError> {
    may(&caller, action)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let pos = check.opt_point(b.lat, b.lng);
    check.finish()?;
    let reported = opt_when("at", b.at)?;
    let input = (pos, reported);
    run(
        state,
        caller,
        req,
        id,
        input,
        move |c, caller, order, (pos, reported)| {
            let previous = if action == Action::Arrive {
                order.departed_at
            } else {
                order.ready_at
            };
            let at = reported_at(reported, previous)?;
            let patch = if action == Action::Arrive {
                OrderPatch {
                    arrived_at: Some(Some(at)),
                    arrived_lat: Some(pos.map(|p| p.0)),
                    arrived_lng: Some(pos.map(|p| p.1)),
                    wait_seconds: Some(Some((at - order.requested_at).num_seconds().max(0))),
                    ..Default::default()
                }
            } else {
                OrderPatch {
                    departed_at: Some(Some(at)),
                    ..Default::default()
                }
            };
            transition_at(c, caller, order, action, patch, None, at)?;
            if let Some((lat, lng)) = pos {
                technicians::report_position(c, &caller.id, lat, lng)?;
            }
            Ok(())
        },
    )
    .await
}

/// The technician leaves for the site.
#[utoipa::path(tag = "work orders", request_body = PositionIn, responses((status = 200, body = OrderView), (status = 409)), security(("bearer" = [])))]
#[post("/work-orders/{id}/depart")]
pub async fn depart(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: JsonOrEmpty<PositionIn>,
) -> Result<HttpResponse, ApiError> {
    travel(&state, caller, &req, id.into_inner(), body, Action::Depart).await
}

/// The technician is on site: the wait (request → arrival) is recorded.
#[utoipa::path(tag = "work orders", request_body = PositionIn, responses((status = 200, body = OrderView), (status = 409)), security(("bearer" = [])))]
#[post("/work-orders/{id}/arrive")]
pub async fn arrive(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: JsonOrEmpty<PositionIn>,
) -> Result<HttpResponse, ApiError> {
    travel(&state, caller, &req, id.into_inner(), body, Action::Arrive).await
}

/// Complete the order: every line resolved, the customer signed off; the fee is computed
/// (in warranty free; out of warranty parts only, no labour — 保修期外维修只收零部件费用).
#[utoipa::path(tag = "work orders", request_body = AtIn, responses((status = 200, body = OrderView), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/work-orders/{id}/complete")]
pub async fn complete(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: JsonOrEmpty<AtIn>,
) -> Result<HttpResponse, ApiError> {
    may(&caller, Action::Complete)?;
    let reported = opt_when("at", body.parse()?.at)?;
    run(
        &state,
        caller,
        &req,
        id.into_inner(),
        reported,
        |c, caller, order, reported| {
            next_state(caller, order, Action::Complete)?;
            let lines = store::lines(c, &order.id)?;
            let blockers = order::completion_blockers(&CompletionCheck {
                lines_total: lines.len(),
                lines_unresolved: lines
                    .iter()
                    .filter(|l| l.status == LineStatus::Pending.as_str())
                    .count(),
                signed_off: order.signoff_at.is_some(),
            });
            if !blockers.is_empty() {
                let mut extra = serde_json::Map::new();
                extra.insert("blockers".into(), blockers.clone().into());
                return Err(ApiError::Conflict {
                    code: "completion_blocked".into(),
                    detail: format!("cannot complete yet: {}", blockers.join(", ")),
                    extra: Some(extra),
                });
            }
            let parts: Vec<PartUse> = store::parts_used(c, &order.id)?
                .iter()
                .map(|p| PartUse {
                    unit_price: Fen(p.unit_price_fen),
                    quantity: p.quantity,
                })
                .collect();
            // an install is charged its parts; a repair by its warranty verdict (unknown:
            // out of warranty)
            let in_warranty =
                order.kind == OrderKind::Repair.as_str() && order.warranty_in == Some(true);
            let fee = fees::compute(in_warranty, &parts).map_err(|e| ApiError::Unprocessable {
                code: e.code(),
                detail: "the fee cannot be computed".into(),
            })?;
            let previous = [
                order.arrived_at,
                order.signoff_at,
                last_line_done(c, order)?,
            ]
            .into_iter()
            .flatten()
            .max();
            let at = reported_at(reported, previous)?;
            let patch = OrderPatch {
                completed_at: Some(Some(at)),
                parts_total_fen: Some(Some(fee.parts_total.as_i64())),
                fee_fen: Some(Some(fee.total.as_i64())),
                repair_seconds: Some(order.arrived_at.map(|a| (at - a).num_seconds().max(0))),
                ..Default::default()
            };
            let comment = format!("应收费用 {}", fee.total);
            transition_at(
                c,
                caller,
                order,
                Action::Complete,
                patch,
                Some(&comment),
                at,
            )?;
            // the fee becomes what the customer owes, in the same transaction
            crate::app::charges::open(c, order, fee.total)?;
            Ok(())
        },
    )
    .await
}

// ---------------------------------------------------------------- on site

/// The lead technician's acts on site: the order must be on_site (parts and verbal
/// approvals also on_hold).
fn on_site(caller: &Caller, order: &WorkOrder, also_on_hold: bool) -> Result<(), ApiError> {
    if actor_for(caller, order) != Actor::LeadTechnician {
        return Err(ApiError::Forbidden);
    }
    let s = status_of(order);
    if s == OrderStatus::OnSite || (also_on_hold && s == OrderStatus::OnHold) {
        Ok(())
    } else {
        let mut extra = serde_json::Map::new();
        extra.insert("current_status".into(), s.as_str().into());
        Err(ApiError::Conflict {
            code: "invalid_transition".into(),
            detail: format!("only on site; the order is {}", s.as_str()),
            extra: Some(extra),
        })
    }
}

fn technician_only(caller: &Caller) -> Result<(), ApiError> {
    caller.require(Resource::Orders, Op::Read)?;
    if caller.role == Role::Technician {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

fn pending_line(
    c: &mut DbConn,
    order: &WorkOrder,
    line_id: &str,
    kind: OrderKind,
) -> Result<Line, ApiError> {
    if order.kind != kind.as_str() {
        return Err(ApiError::conflict(
            "wrong_order_kind",
            format!("only on {} orders", kind.as_str()),
        ));
    }
    let line = store::line(c, &order.id, line_id)?;
    if line.status == LineStatus::NotDone.as_str() {
        return Err(ApiError::conflict(
            "line_not_done",
            "the line was marked not done",
        ));
    }
    Ok(line)
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstallIn {
    pub imei: String,
    pub iccid: String,
    pub notes: Option<String>,
    /// when it was done, if sent late (offline); see `PositionIn::at`
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<ClientTime>,
}

fn terminal_for(
    c: &mut DbConn,
    order: &WorkOrder,
    imei: &str,
    field: &str,
) -> Result<equipment::Terminal, ApiError> {
    equipment::terminal_by_imei(c, imei)?
        .filter(|t| t.center_id == order.center_id)
        .ok_or_else(|| ApiError::field(field, "unknown", "no such terminal in this center"))
}

fn sim_for(
    c: &mut DbConn,
    order: &WorkOrder,
    iccid: &str,
    field: &str,
) -> Result<equipment::SimCard, ApiError> {
    equipment::sim_by_iccid(c, iccid)?
        .filter(|s| s.center_id == order.center_id)
        .ok_or_else(|| ApiError::field(field, "unknown", "no such SIM card in this center"))
}

fn bind_sim_checked(
    c: &mut DbConn,
    sim: &equipment::SimCard,
    terminal: &equipment::Terminal,
    ctx: &BindContext,
) -> Result<(), ApiError> {
    let has_sim = equipment::sim_in_terminal(c, &terminal.id)?.is_some();
    registry::check_sim_bind(
        SimStatus::parse(&sim.status).unwrap_or(SimStatus::Cancelled),
        sim.terminal_id.is_some(),
        TerminalStatus::parse(&terminal.status).unwrap_or(TerminalStatus::Scrapped),
        has_sim,
        sim.center_id == terminal.center_id,
    )?;
    equipment::bind_sim(c, sim, &terminal.id, ctx)?;
    Ok(())
}

/// Install: fit a terminal and a SIM in the line's vehicle (terminal ↔ vehicle, SIM ↔
/// terminal), one transaction, recorded in the binding history with the order.
#[utoipa::path(tag = "work orders", request_body = InstallIn, responses((status = 200, body = OrderView), (status = 409)), security(("bearer" = [])))]
#[post("/work-orders/{id}/lines/{line_id}/install")]
pub async fn line_install(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: Json<InstallIn>,
) -> Result<HttpResponse, ApiError> {
    technician_only(&caller)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let imei = check.id("imei", Imei::parse(&b.imei)).map(String::from);
    let iccid = check.id("iccid", Iccid::parse(&b.iccid)).map(String::from);
    let notes = check.opt_text("notes", b.notes.as_deref(), 500);
    check.finish()?;
    let reported = opt_when("at", b.at)?;
    let (id, line_id) = path.into_inner();
    let input = (
        line_id,
        imei.unwrap_or_default(),
        iccid.unwrap_or_default(),
        notes,
        reported,
    );
    run(
        &state,
        caller,
        &req,
        id,
        input,
        |c, caller, order, (line_id, imei, iccid, notes, reported)| {
            on_site(caller, order, false)?;
            let at = reported_at(reported, order.arrived_at)?;
            let mut line = pending_line(c, order, &line_id, OrderKind::Install)?;
            if line.status == LineStatus::Done.as_str() {
                return Err(ApiError::conflict(
                    "line_done",
                    "this vehicle is already installed",
                ));
            }
            let terminal = terminal_for(c, order, &imei, "imei")?;
            let sim = sim_for(c, order, &iccid, "iccid")?;
            let vehicle = vehicles::get(c, &line.vehicle_id)?;
            registry::check_terminal_bind(
                TerminalStatus::parse(&terminal.status).unwrap_or(TerminalStatus::Scrapped),
                terminal.vehicle_id.is_some(),
                &terminal.center_id,
                &vehicle.center_id,
            )?;
            let reason = format!("安装 {}", order.number);
            let ctx = BindContext {
                actor_id: &caller.id,
                reason: &reason,
                order_id: Some(&order.id),
            };
            equipment::bind_terminal(c, &terminal, &vehicle.id, &ctx)?;
            let terminal = equipment::terminal(c, &terminal.id)?;
            bind_sim_checked(c, &sim, &terminal, &ctx)?;
            line.status = LineStatus::Done.as_str().to_string();
            line.add_work("install");
            line.terminal_id = Some(terminal.id.clone());
            line.sim_id = Some(sim.id.clone());
            line.notes = notes;
            line.done_by = Some(caller.id.clone());
            line.done_at = Some(at);
            store::save_line(c, &line)?;
            let comment = format!(
                "{} IMEI {} ICCID {}",
                vehicle.plate_no, terminal.imei, sim.iccid
            );
            record_act_at(c, caller, order, "install", Some(&comment), at)
        },
    )
    .await
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TerminalSwapIn {
    pub new_imei: String,
    /// the fault, for the tag on the removed unit (返修标签)
    pub fault: String,
    /// move the SIM from the removed terminal into the new one (default true)
    pub move_sim: Option<bool>,
    /// when it was done, if sent late (offline); see `PositionIn::at`
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<ClientTime>,
}

/// The terminal in the line's vehicle that the work is on: the order's terminal when it
/// is still in that vehicle, else the vehicle's (first) terminal.
fn current_terminal(
    c: &mut DbConn,
    order: &WorkOrder,
    line: &Line,
) -> Result<Option<equipment::Terminal>, ApiError> {
    let mut in_vehicle = equipment::terminals_in_vehicles(c, &[line.vehicle_id.as_str()])?;
    if let Some(tid) = &order.terminal_id
        && let Some(i) = in_vehicle.iter().position(|t| &t.id == tid)
    {
        return Ok(Some(in_vehicle.swap_remove(i)));
    }
    Ok(in_vehicle.into_iter().next())
}

/// Terminal swap (更换终端): the old unit out of the vehicle to repair with its fault tag,
/// the new one in; the SIM moves across. One transaction.
#[utoipa::path(tag = "work orders", request_body = TerminalSwapIn, responses((status = 200, body = OrderView), (status = 409)), security(("bearer" = [])))]
#[post("/work-orders/{id}/lines/{line_id}/terminal-swap")]
pub async fn line_terminal_swap(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: Json<TerminalSwapIn>,
) -> Result<HttpResponse, ApiError> {
    technician_only(&caller)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let imei = check
        .id("new_imei", Imei::parse(&b.new_imei))
        .map(String::from);
    let fault = check.text("fault", &b.fault, 200);
    check.finish()?;
    let reported = opt_when("at", b.at)?;
    let (id, line_id) = path.into_inner();
    let input = (
        line_id,
        imei.unwrap_or_default(),
        fault,
        b.move_sim.unwrap_or(true),
        reported,
    );
    run(
        &state,
        caller,
        &req,
        id,
        input,
        |c, caller, order, (line_id, imei, fault, move_sim, reported)| {
            on_site(caller, order, false)?;
            let at = reported_at(reported, order.arrived_at)?;
            let mut line = pending_line(c, order, &line_id, OrderKind::Repair)?;
            let old = current_terminal(c, order, &line)?.ok_or_else(|| {
                ApiError::conflict(
                    "no_terminal_installed",
                    "the vehicle has no terminal to swap",
                )
            })?;
            let new = terminal_for(c, order, &imei, "new_imei")?;
            let vehicle = vehicles::get(c, &line.vehicle_id)?;
            registry::check_terminal_bind(
                TerminalStatus::parse(&new.status).unwrap_or(TerminalStatus::Scrapped),
                new.vehicle_id.is_some(),
                &new.center_id,
                &vehicle.center_id,
            )?;
            let tag = order::fault_tag(&vehicle.plate_no, &fault);
            let reason = format!("更换终端 {} ({})", order.number, tag);
            let ctx = BindContext {
                actor_id: &caller.id,
                reason: &reason,
                order_id: Some(&order.id),
            };
            let sim = equipment::sim_in_terminal(c, &old.id)?;
            if let (Some(sim), true) = (&sim, move_sim) {
                equipment::unbind_sim_to(c, sim, &old.id, &sim.status, &ctx)?;
            }
            let old_fresh = equipment::terminal(c, &old.id)?;
            equipment::unbind_terminal(
                c,
                &old_fresh,
                &vehicle.id,
                TerminalStatus::InRepair.as_str(),
                &ctx,
            )?;
            // the unit in repair carries the tag too (故障标签 on the removed terminal)
            equipment::tag_fault(c, &old.id, &tag, &order.id)?;
            equipment::bind_terminal(c, &new, &vehicle.id, &ctx)?;
            if let (Some(sim), true) = (sim, move_sim) {
                let sim = equipment::sim(c, &sim.id)?;
                let new = equipment::terminal(c, &new.id)?;
                bind_sim_checked(c, &sim, &new, &ctx)?;
                line.sim_id = Some(sim.id);
            }
            line.status = LineStatus::Done.as_str().to_string();
            line.add_work("terminal_swap");
            line.old_terminal_id = Some(old.id.clone());
            line.terminal_id = Some(new.id.clone());
            line.fault_tag = Some(tag.clone());
            line.done_by = Some(caller.id.clone());
            line.done_at = Some(at);
            store::save_line(c, &line)?;
            let comment = format!("{} → {}; {}", old.imei, new.imei, tag);
            record_act_at(c, caller, order, "terminal_swap", Some(&comment), at)
        },
    )
    .await
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimSwapIn {
    pub new_iccid: String,
    /// what becomes of the removed card: suspended (default), in_stock or cancelled
    pub old_sim_status: Option<String>,
    /// when it was done, if sent late (offline); see `PositionIn::at`
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<ClientTime>,
}

/// SIM swap (更换SIM卡): the old card out of the vehicle's terminal, the new one in.
#[utoipa::path(tag = "work orders", request_body = SimSwapIn, responses((status = 200, body = OrderView), (status = 409)), security(("bearer" = [])))]
#[post("/work-orders/{id}/lines/{line_id}/sim-swap")]
pub async fn line_sim_swap(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: Json<SimSwapIn>,
) -> Result<HttpResponse, ApiError> {
    technician_only(&caller)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let iccid = check
        .id("new_iccid", Iccid::parse(&b.new_iccid))
        .map(String::from);
    let old_status = b
        .old_sim_status
        .clone()
        .unwrap_or_else(|| "suspended".into());
    if !["suspended", "in_stock", "cancelled"].contains(&old_status.as_str()) {
        check.add(
            "old_sim_status",
            "invalid_choice",
            "must be one of: suspended, in_stock, cancelled",
        );
    }
    check.finish()?;
    let reported = opt_when("at", b.at)?;
    let (id, line_id) = path.into_inner();
    let input = (line_id, iccid.unwrap_or_default(), old_status, reported);
    run(
        &state,
        caller,
        &req,
        id,
        input,
        |c, caller, order, (line_id, iccid, old_status, reported)| {
            on_site(caller, order, false)?;
            let at = reported_at(reported, order.arrived_at)?;
            let mut line = pending_line(c, order, &line_id, OrderKind::Repair)?;
            let terminal = current_terminal(c, order, &line)?.ok_or_else(|| {
                ApiError::conflict("no_terminal_installed", "the vehicle has no terminal")
            })?;
            let new = sim_for(c, order, &iccid, "new_iccid")?;
            if new.terminal_id.is_some() {
                return Err(registry::BindRefusal::SimAlreadyBound.into());
            }
            let reason = format!("更换SIM卡 {}", order.number);
            let ctx = BindContext {
                actor_id: &caller.id,
                reason: &reason,
                order_id: Some(&order.id),
            };
            let old = equipment::sim_in_terminal(c, &terminal.id)?;
            if let Some(old) = &old {
                equipment::unbind_sim_to(c, old, &terminal.id, &old_status, &ctx)?;
            }
            bind_sim_checked(c, &new, &terminal, &ctx)?;
            line.status = LineStatus::Done.as_str().to_string();
            line.add_work("sim_swap");
            line.old_sim_id = old.as_ref().map(|s| s.id.clone());
            line.sim_id = Some(new.id.clone());
            line.terminal_id.get_or_insert(terminal.id.clone());
            line.done_by = Some(caller.id.clone());
            line.done_at = Some(at);
            store::save_line(c, &line)?;
            let comment = format!(
                "{} → {}",
                old.map(|s| s.iccid).unwrap_or_else(|| "—".into()),
                new.iccid
            );
            record_act_at(c, caller, order, "sim_swap", Some(&comment), at)
        },
    )
    .await
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotesIn {
    pub notes: String,
    /// when it was done, if sent late (offline); see `PositionIn::at`
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<ClientTime>,
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotDoneIn {
    pub reason: String,
    /// when it was done, if sent late (offline); see `PositionIn::at`
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<ClientTime>,
}

/// Fixed on the spot without swapping anything.
#[utoipa::path(tag = "work orders", request_body = NotesIn, responses((status = 200, body = OrderView), (status = 409)), security(("bearer" = [])))]
#[post("/work-orders/{id}/lines/{line_id}/repair")]
pub async fn line_repair(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: Json<NotesIn>,
) -> Result<HttpResponse, ApiError> {
    technician_only(&caller)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let notes = check.text("notes", &b.notes, 500);
    check.finish()?;
    let reported = opt_when("at", b.at)?;
    let (id, line_id) = path.into_inner();
    run(
        &state,
        caller,
        &req,
        id,
        (line_id, notes, reported),
        |c, caller, order, (line_id, notes, reported)| {
            on_site(caller, order, false)?;
            let at = reported_at(reported, order.arrived_at)?;
            let mut line = pending_line(c, order, &line_id, OrderKind::Repair)?;
            line.status = LineStatus::Done.as_str().to_string();
            line.add_work("repair");
            line.notes = Some(notes.clone());
            line.done_by = Some(caller.id.clone());
            line.done_at = Some(at);
            store::save_line(c, &line)?;
            record_act_at(c, caller, order, "repair", Some(&notes), at)
        },
    )
    .await
}

/// The work on this vehicle is not done, with the reason (the line is resolved).
#[utoipa::path(tag = "work orders", request_body = NotDoneIn, responses((status = 200, body = OrderView), (status = 409)), security(("bearer" = [])))]
#[post("/work-orders/{id}/lines/{line_id}/not-done")]
pub async fn line_not_done(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: Json<NotDoneIn>,
) -> Result<HttpResponse, ApiError> {
    technician_only(&caller)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let r = check.text("reason", &b.reason, 500);
    check.finish()?;
    let reported = opt_when("at", b.at)?;
    let (id, line_id) = path.into_inner();
    run(
        &state,
        caller,
        &req,
        id,
        (line_id, r, reported),
        |c, caller, order, (line_id, r, reported)| {
            on_site(caller, order, false)?;
            let at = reported_at(reported, order.arrived_at)?;
            let mut line = store::line(c, &order.id, &line_id)?;
            if line.status != LineStatus::Pending.as_str() {
                return Err(ApiError::conflict(
                    "line_resolved",
                    "the line is already resolved",
                ));
            }
            line.status = LineStatus::NotDone.as_str().to_string();
            line.not_done_reason = Some(r.clone());
            line.done_by = Some(caller.id.clone());
            line.done_at = Some(at);
            store::save_line(c, &line)?;
            let vehicle = vehicles::get(c, &line.vehicle_id)?;
            let comment = format!("{}: {r}", vehicle.plate_no);
            record_act_at(c, caller, order, "not_done", Some(&comment), at)
        },
    )
    .await
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartIn {
    pub part_code: String,
    pub quantity: i32,
    pub line_id: Option<String>,
    /// the verbal approval it was taken under, when parts ran short
    pub verbal_approval_id: Option<String>,
}

/// Record a part used, at today's price-list price.
#[utoipa::path(tag = "work orders", request_body = PartIn, responses((status = 200, body = OrderView), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/work-orders/{id}/parts")]
pub async fn add_part(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<PartIn>,
) -> Result<HttpResponse, ApiError> {
    technician_only(&caller)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let code = check.text("part_code", &b.part_code, 50);
    if !(1..=1000).contains(&b.quantity) {
        check.add("quantity", "out_of_range", "between 1 and 1000");
    }
    check.finish()?;
    run(
        &state,
        caller,
        &req,
        id.into_inner(),
        (code, b),
        |c, caller, order, (code, b)| {
            on_site(caller, order, true)?;
            let part = store::part_by_code(c, &code)?
                .filter(|p| p.active)
                .ok_or_else(|| {
                    ApiError::field("part_code", "unknown", "no such part in the price list")
                })?;
            if let Some(l) = &b.line_id {
                store::line(c, &order.id, l).map_err(|_| {
                    ApiError::field("line_id", "unknown", "no such line on this order")
                })?;
            }
            if let Some(v) = &b.verbal_approval_id
                && !store::verbal_approvals(c, &order.id)?
                    .iter()
                    .any(|a| &a.id == v)
            {
                return Err(ApiError::field(
                    "verbal_approval_id",
                    "unknown",
                    "no such verbal approval on this order",
                ));
            }
            store::insert_part_use(
                c,
                &PartUseRow {
                    id: new_id(),
                    order_id: order.id.clone(),
                    line_id: b.line_id.clone(),
                    part_id: part.id.clone(),
                    quantity: b.quantity,
                    unit_price_fen: part.unit_price_fen,
                    verbal_approval_id: b.verbal_approval_id.clone(),
                    recorded_by: caller.id.clone(),
                    recorded_at: now(),
                },
            )?;
            let comment = format!("{} {} × {}", part.code, part.name, b.quantity);
            record_act(c, caller, order, "part_used", Some(&comment))
        },
    )
    .await
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartCorrectionIn {
    /// the right quantity, 1–1000 (to take a part off, DELETE it)
    pub quantity: i32,
}

/// The recorded part, if the parts may still change: 409 `parts_locked` from completion
/// on, else the lead technician on site or on hold, as for adding one.
fn correctable_part(
    c: &mut DbConn,
    caller: &Caller,
    order: &WorkOrder,
    part_use_id: &str,
) -> Result<(PartUsed, PartUseRow), ApiError> {
    let row = store::part_use(c, &order.id, part_use_id)?;
    if status_of(order).parts_locked() {
        return Err(ApiError::conflict(
            "parts_locked",
            format!(
                "the order is {}: its parts make the fee and can no longer change",
                status_of(order).as_str()
            ),
        ));
    }
    on_site(caller, order, true)?;
    let used = store::parts_used(c, &order.id)?
        .into_iter()
        .find(|p| p.id == row.id)
        .ok_or(ApiError::NotFound)?;
    Ok((used, row))
}

/// Correct the quantity of a part recorded on the order (until it is completed; the fee
/// follows). Recorded on the timeline as `part_corrected`.
#[utoipa::path(tag = "work orders", operation_id = "correct_work_order_part", request_body = PartCorrectionIn, responses((status = 200, body = OrderView), (status = 404), (status = 409), (status = 412), (status = 422), (status = 428)), security(("bearer" = [])))]
#[patch("/work-orders/{id}/parts/{part_id}")]
pub async fn correct_part(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    body: Json<PartCorrectionIn>,
) -> Result<HttpResponse, ApiError> {
    technician_only(&caller)?;
    let b = body.parse()?;
    let mut check = Check::new();
    if !(1..=1000).contains(&b.quantity) {
        check.add("quantity", "out_of_range", "between 1 and 1000");
    }
    check.finish()?;
    let (id, part_id) = path.into_inner();
    run(
        &state,
        caller,
        &req,
        id,
        (part_id, b.quantity),
        |c, caller, order, (part_id, quantity)| {
            let (used, row) = correctable_part(c, caller, order, &part_id)?;
            store::set_part_use_quantity(c, &row.id, quantity)?;
            let comment = format!(
                "{} {} × {} → {}",
                used.part_code, used.part_name, used.quantity, quantity
            );
            record_act(c, caller, order, "part_corrected", Some(&comment))
        },
    )
    .await
}

/// Remove a part recorded on the order by mistake (until it is completed; the fee
/// follows). Recorded on the timeline as `part_removed`.
#[utoipa::path(tag = "work orders", operation_id = "remove_work_order_part", responses((status = 200, body = OrderView), (status = 404), (status = 409), (status = 412), (status = 428)), security(("bearer" = [])))]
#[delete("/work-orders/{id}/parts/{part_id}")]
pub async fn remove_part(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    technician_only(&caller)?;
    let (id, part_id) = path.into_inner();
    run(
        &state,
        caller,
        &req,
        id,
        part_id,
        |c, caller, order, part_id| {
            let (used, row) = correctable_part(c, caller, order, &part_id)?;
            store::delete_part_use(c, &row.id)?;
            let comment = format!("{} {} × {}", used.part_code, used.part_name, used.quantity);
            record_act(c, caller, order, "part_removed", Some(&comment))
        },
    )
    .await
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerbalApprovalIn {
    /// the manager who approved on the phone
    pub approver_id: String,
    /// what was approved
    pub content: String,
    /// when they said yes; default now
    #[schema(value_type = Option<String>, format = DateTime)]
    pub approved_at: Option<ClientTime>,
}

/// Record a verbal emergency approval (口头请示) given by a manager, to be confirmed later.
#[utoipa::path(tag = "work orders", request_body = VerbalApprovalIn, responses((status = 200, body = OrderView), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/work-orders/{id}/verbal-approvals")]
pub async fn add_verbal_approval(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<VerbalApprovalIn>,
) -> Result<HttpResponse, ApiError> {
    technician_only(&caller)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let content = check.text("content", &b.content, 500);
    check.finish()?;
    run(
        &state,
        caller,
        &req,
        id.into_inner(),
        (content, b),
        |c, caller, order, (content, b)| {
            on_site(caller, order, true)?;
            let approver =
                crate::app::named_approver(c, "approver_id", &b.approver_id, &order.center_id)?;
            let t = now();
            store::insert_verbal_approval(
                c,
                &VerbalApproval {
                    id: new_id(),
                    order_id: order.id.clone(),
                    approver_id: approver.id.clone(),
                    approved_at: opt_when("approved_at", b.approved_at)?.unwrap_or(t),
                    content: content.clone(),
                    recorded_by: caller.id.clone(),
                    recorded_at: t,
                    confirmed_by: None,
                    confirmed_at: None,
                },
            )?;
            let comment = format!("{}: {content}", approver.display_name);
            record_act(c, caller, order, "verbal_approval", Some(&comment))
        },
    )
    .await
}

/// A manager confirms a verbal approval recorded on the order.
#[utoipa::path(tag = "work orders", responses((status = 200, body = OrderView), (status = 404), (status = 409)), security(("bearer" = [])))]
#[post("/work-orders/{id}/verbal-approvals/{approval_id}/confirm")]
pub async fn confirm_verbal_approval(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Orders, Op::Read)?;
    caller.approves(&caller.center_id)?;
    let (id, approval_id) = path.into_inner();
    run(
        &state,
        caller,
        &req,
        id,
        approval_id,
        |c, caller, order, approval_id| {
            let known = store::verbal_approvals(c, &order.id)?
                .into_iter()
                .find(|a| a.id == approval_id)
                .ok_or(ApiError::NotFound)?;
            if !store::confirm_verbal_approval(c, &order.id, &known.id, &caller.id)? {
                return Err(ApiError::conflict(
                    "already_confirmed",
                    "the verbal approval is already confirmed",
                ));
            }
            record_act(
                c,
                caller,
                order,
                "verbal_approval_confirmed",
                Some(&known.content),
            )
        },
    )
    .await
}

#[derive(Debug, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignOffIn {
    pub signer_name: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub signed_at: Option<ClientTime>,
    /// the signature as a data URL (data:image/png;base64,…), at most 48 KB
    pub signature_image: Option<String>,
}

const SIGNATURE_MAX: usize = 48 * 1024;

/// The customer's sign-off (验收签字).
#[utoipa::path(tag = "work orders", request_body = SignOffIn, responses((status = 200, body = OrderView), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/work-orders/{id}/sign-off")]
pub async fn sign_off(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<SignOffIn>,
) -> Result<HttpResponse, ApiError> {
    technician_only(&caller)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let name = check.text("signer_name", &b.signer_name, 50);
    if let Some(img) = &b.signature_image {
        let ok_prefix = img.starts_with("data:image/png;base64,")
            || img.starts_with("data:image/jpeg;base64,")
            || img.starts_with("data:image/svg+xml;base64,");
        if !ok_prefix {
            check.add(
                "signature_image",
                "invalid_format",
                "a data:image/png;base64,… URL",
            );
        } else if img.len() > SIGNATURE_MAX {
            check.add("signature_image", "too_long", "at most 48 KB");
        }
    }
    check.finish()?;
    let input = (name, opt_when("signed_at", b.signed_at)?, b.signature_image);
    run(
        &state,
        caller,
        &req,
        id.into_inner(),
        input,
        |c, caller, order, (name, at, img)| {
            on_site(caller, order, false)?;
            let at = at.unwrap_or_else(now);
            if let Some(a) = order.arrived_at
                && at < a
            {
                return Err(ApiError::field(
                    "signed_at",
                    "out_of_range",
                    "before the arrival",
                ));
            }
            let patch = OrderPatch {
                signoff_name: Some(Some(name.clone())),
                signoff_at: Some(Some(at)),
                signoff_image: Some(img),
                ..Default::default()
            };
            store::update(c, &order.id, order.version, &patch)?;
            store::add_event(c, &order.id, &caller.id, "sign_off", None, Some(&name))?;
            Ok(())
        },
    )
    .await
}

// ---------------------------------------------------------------- candidates

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CandidateQuery {
    /// 1–50, default 10
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<usize>,
    /// the visit time to check bookings against; default the order's, or now
    #[param(value_type = Option<String>, format = DateTime)]
    pub scheduled_at: Option<ClientTime>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Candidates {
    pub items: Vec<crate::domain::ranking::Candidate>,
}

/// Technicians ranked for the order, with the reasons: skill, model, distance from their
/// last known position (or home base), today's jobs, bookings at the visit time.
#[utoipa::path(tag = "work orders", params(CandidateQuery), responses((status = 200, body = Candidates), (status = 404)), security(("bearer" = [])))]
#[get("/work-orders/{id}/candidates")]
pub async fn candidates(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    q: web::Query<CandidateQuery>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Orders, Op::Read)?;
    if !matches!(caller.role, Role::Manager | Role::Admin | Role::Agent) {
        return Err(ApiError::Forbidden);
    }
    let limit = q.limit.unwrap_or(10);
    if !(1..=50).contains(&limit) {
        return Err(ApiError::field("limit", "out_of_range", "between 1 and 50"));
    }
    let asked = opt_when("scheduled_at", q.scheduled_at)?;
    let items = with_db(&state.pool, caller.session(), move |c| {
        let order = load(c, &caller, &id)?;
        let at = asked.or(order.scheduled_at).unwrap_or_else(now);
        let day = crate::domain::china_day(at);
        let day_start = day.and_hms_opt(0, 0, 0).unwrap_or_default() - Duration::hours(8);
        let day_end = day_start + Duration::days(1);
        let today = store::bookings(c, &order.center_id, day_start, day_end)?;
        let window = Duration::hours(VISIT_HOURS);
        let mut techs = Vec::new();
        let mut page = PageReq {
            after: None,
            limit: 200,
        };
        loop {
            let filter = TechnicianFilter {
                center: Some(&order.center_id),
                active: Some(true),
                ..Default::default()
            };
            let p = technicians::list(c, &filter, &page)?;
            let next = p.next_cursor.clone();
            techs.extend(p.items);
            match next {
                Some(n) => page.after = Some(n),
                None => break,
            }
        }
        let infos: Vec<TechnicianInfo> = techs
            .into_iter()
            .map(|t| {
                let mine =
                    |o: &&(String, String, NaiveDateTime)| o.0 == t.user_id && o.1 != order.id;
                let jobs_today =
                    u32::try_from(today.iter().filter(mine).count()).unwrap_or(u32::MAX);
                let busy = today.iter().filter(mine).any(|o| (o.2 - at).abs() < window);
                let (pos, live) = match (t.last_lat, t.last_lng) {
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
                    position: pos,
                    position_is_live: live,
                    jobs_today,
                    busy_at_scheduled_time: busy,
                }
            })
            .collect();
        let needs = OrderNeeds {
            kind: OrderKind::parse(&order.kind).unwrap_or(OrderKind::Repair),
            model: order.product_model.clone(),
            site: GeoPoint {
                lat: order.site_lat,
                lng: order.site_lng,
            },
        };
        Ok(CandidateIndex::new(infos).rank(&needs, limit))
    })
    .await?;
    Ok(HttpResponse::Ok().json(Candidates { items }))
}

// ---------------------------------------------------------------- price list

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPart {
    pub code: String,
    pub name: String,
    pub unit_price_fen: i64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PartUpdate {
    pub name: Option<String>,
    pub unit_price_fen: Option<i64>,
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PartQuery {
    pub active: Option<bool>,
}

const PRICE_MAX: i64 = 100_000_000; // ¥1,000,000.00

#[utoipa::path(tag = "parts", params(PartQuery, PageParams), responses((status = 200, body = inline(crate::store::Page<Part>))), security(("bearer" = [])))]
#[get("/parts")]
pub async fn list_parts(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<PartQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Parts, Op::Read)?;
    let page = page.to_req()?;
    let active = q.active;
    let result = with_db(&state.pool, caller.session(), move |c| {
        Ok(store::list_parts(c, active, &page)?)
    })
    .await?;
    Ok(page_json(result))
}

/// Add a part to the price list (admin).
#[utoipa::path(tag = "parts", request_body = NewPart, responses((status = 201, body = Part), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/parts")]
pub async fn create_part(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<NewPart>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Parts, Op::Write)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let code = check.text("code", &b.code, 50);
    let name = check.text("name", &b.name, 100);
    if !(0..=PRICE_MAX).contains(&b.unit_price_fen) {
        check.add(
            "unit_price_fen",
            "out_of_range",
            "between 0 and 100000000 fen",
        );
    }
    check.finish()?;
    let part = in_tx(&state.pool, caller.session(), move |c| {
        let t = now();
        let part = Part {
            id: new_id(),
            code,
            name,
            unit_price_fen: b.unit_price_fen,
            active: true,
            version: 1,
            created_at: t,
            updated_at: t,
        };
        store::insert_part(c, &part)?;
        Ok(part)
    })
    .await?;
    Ok(created_etag(part.version, &part))
}

/// Change a part's name, price or whether it is offered (admin). Orders keep the price
/// they were recorded at.
#[utoipa::path(tag = "parts", request_body = PartUpdate, responses((status = 200, body = Part), (status = 412)), security(("bearer" = [])))]
#[patch("/parts/{id}")]
pub async fn update_part(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<PartUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Parts, Op::Write)?;
    let version = if_match(&req)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let name = b.name.as_deref().map(|n| check.text("name", n, 100));
    if let Some(p) = b.unit_price_fen
        && !(0..=PRICE_MAX).contains(&p)
    {
        check.add(
            "unit_price_fen",
            "out_of_range",
            "between 0 and 100000000 fen",
        );
    }
    check.finish()?;
    let part = in_tx(&state.pool, caller.session(), move |c| {
        let patch = PartPatch {
            name,
            unit_price_fen: b.unit_price_fen,
            active: b.active,
        };
        store::update_part(c, &id, version, &patch)?;
        Ok(store::part(c, &id)?)
    })
    .await?;
    Ok(ok_etag(part.version, &part))
}
