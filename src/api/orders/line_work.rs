//! The technician's work on a vehicle line, on site.

use actix_web::{HttpRequest, HttpResponse, post, web};
use serde::{Deserialize, Serialize};

use super::run;
use crate::api::error::ApiError;
use crate::api::json::{ClientTime, Json, opt_when};
use crate::api::session::Caller;
use crate::api::state::AppState;
use crate::app::Check;
use crate::app::orders::line_work::{self as uc, LineAct};
use crate::app::orders::{OrderView, technician_only};
use crate::domain::ids::{Iccid, Imei};
use crate::domain::registry::SimStatus;

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
    let at = opt_when("at", b.at)?;
    let (id, line_id) = path.into_inner();
    let input = (
        line_id,
        imei.unwrap_or_default(),
        iccid.unwrap_or_default(),
        notes,
        at,
    );
    let watch = state.first_report;
    run(
        &state,
        caller,
        &req,
        input,
        move |c, p, version, (line_id, imei, iccid, notes, at)| {
            let a = LineAct {
                order_id: &id,
                version,
                line_id: &line_id,
                at,
                first_report: watch,
            };
            uc::install(c, p, a, &imei, &iccid, notes)
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
    let at = opt_when("at", b.at)?;
    let (id, line_id) = path.into_inner();
    let input = (
        line_id,
        imei.unwrap_or_default(),
        fault,
        b.move_sim.unwrap_or(true),
        at,
    );
    let watch = state.first_report;
    run(
        &state,
        caller,
        &req,
        input,
        move |c, p, version, (line_id, imei, fault, move_sim, at)| {
            let a = LineAct {
                order_id: &id,
                version,
                line_id: &line_id,
                at,
                first_report: watch,
            };
            uc::terminal_swap(c, p, a, &imei, &fault, move_sim)
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
    let old_status = match b.old_sim_status.as_deref() {
        None => Some(SimStatus::Suspended),
        Some(s) => SimStatus::parse(s).filter(|s| {
            matches!(
                s,
                SimStatus::Suspended | SimStatus::InStock | SimStatus::Cancelled
            )
        }),
    };
    if old_status.is_none() {
        check.add(
            "old_sim_status",
            "invalid_choice",
            "must be one of: suspended, in_stock, cancelled",
        );
    }
    check.finish()?;
    let at = opt_when("at", b.at)?;
    let (id, line_id) = path.into_inner();
    let old_status = old_status.unwrap_or(SimStatus::Suspended);
    let input = (line_id, iccid.unwrap_or_default(), old_status.as_str(), at);
    let watch = state.first_report;
    run(
        &state,
        caller,
        &req,
        input,
        move |c, p, version, (line_id, iccid, _, at)| {
            let a = LineAct {
                order_id: &id,
                version,
                line_id: &line_id,
                at,
                first_report: watch,
            };
            uc::sim_swap(c, p, a, &iccid, old_status)
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
    let at = opt_when("at", b.at)?;
    let (id, line_id) = path.into_inner();
    let watch = state.first_report;
    run(
        &state,
        caller,
        &req,
        (line_id, notes, at),
        move |c, p, version, (line_id, notes, at)| {
            let a = LineAct {
                order_id: &id,
                version,
                line_id: &line_id,
                at,
                first_report: watch,
            };
            uc::repair(c, p, a, notes)
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
    let reason = check.text("reason", &b.reason, 500);
    check.finish()?;
    let at = opt_when("at", b.at)?;
    let (id, line_id) = path.into_inner();
    let watch = state.first_report;
    run(
        &state,
        caller,
        &req,
        (line_id, reason, at),
        move |c, p, version, (line_id, reason, at)| {
            let a = LineAct {
                order_id: &id,
                version,
                line_id: &line_id,
                at,
                first_report: watch,
            };
            uc::not_done(c, p, a, reason)
        },
    )
    .await
}
