//! Terminals, SIM cards, terminal models, CSV import, and binding.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::json::{Json, Upload};
use super::session::Caller;
use super::state::AppState;
use super::support::{
    Check, PageParams, created_etag, double_option, empty_page, if_match, in_tx, ok_etag,
    page_json, with_db,
};
use crate::app::equipment::{
    self as app, NewTerminal as TerminalIn, SimChange, TerminalChange, binding,
    check_purchase_date, check_warranty, import,
};
use crate::domain::access::{Op, Resource};
use crate::domain::ids::{Carrier, Iccid, Imei, Msisdn};
use crate::domain::registry::{SimStatus, TerminalLocation, TerminalStatus};
use crate::store::equipment::{
    BindingEvent, HistoryFilter, SimCard, SimFilter, Terminal, TerminalFilter, TerminalModel,
};
use crate::store::{Page, now};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTerminalModel {
    pub code: String,
    pub name: String,
    pub warranty_months: i32,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTerminal {
    /// 15 digits, Luhn check digit last
    pub imei: String,
    pub model_code: String,
    /// YYYY-MM-DD
    #[schema(value_type = String, format = Date)]
    pub purchase_date: NaiveDate,
    /// defaults to the model's warranty
    pub warranty_months: Option<i32>,
    /// admins: which center's stock (default: the caller's)
    pub center_id: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TerminalUpdate {
    pub model_code: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub purchase_date: Option<NaiveDate>,
    pub warranty_months: Option<i32>,
    /// in_stock, in_repair, returned, scrapped (installed only through binding)
    pub status: Option<TerminalStatus>,
    /// the technician whose van holds it; null = back to the warehouse
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub technician_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSim {
    /// 19–20 digits starting 89, Luhn check digit last
    pub iccid: String,
    /// 11-digit mobile or 13-digit IoT number
    pub msisdn: String,
    /// derived from the ICCID's issuer prefix when omitted
    pub carrier: Option<Carrier>,
    pub center_id: Option<String>,
    pub notes: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimUpdate {
    pub msisdn: Option<String>,
    pub carrier: Option<Carrier>,
    /// in_stock, active, suspended, cancelled
    pub status: Option<SimStatus>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BindTerminal {
    pub vehicle_id: String,
    pub reason: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnbindTerminal {
    pub reason: String,
    /// where it goes: in_stock (default), in_repair or returned
    pub status: Option<TerminalStatus>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BindSim {
    pub terminal_id: String,
    pub reason: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UnbindSim {
    pub reason: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportResult {
    pub imported: usize,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TerminalQuery {
    pub center_id: Option<String>,
    pub status: Option<TerminalStatus>,
    pub model_code: Option<String>,
    pub location: Option<TerminalLocation>,
    pub vehicle_id: Option<String>,
    pub technician_id: Option<String>,
    /// IMEI starts with
    pub imei: Option<String>,
    /// true: only terminals a repair took out, with its fault tag; false: only untagged
    pub fault_tagged: Option<bool>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SimQuery {
    pub center_id: Option<String>,
    pub status: Option<SimStatus>,
    pub carrier: Option<Carrier>,
    pub terminal_id: Option<String>,
    /// in a terminal or not
    pub bound: Option<bool>,
    /// ICCID starts with
    pub iccid: Option<String>,
    /// MSISDN starts with
    pub msisdn: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// admins: which center receives the stock (default: the caller's)
    pub center_id: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    pub terminal_id: Option<String>,
    pub vehicle_id: Option<String>,
    pub sim_id: Option<String>,
}

fn digits_prefix(field: &str, p: Option<String>) -> Result<Option<String>, ApiError> {
    match p {
        Some(p) if !p.bytes().all(|b| b.is_ascii_digit()) => {
            Err(ApiError::field(field, "not_digits", "a prefix of digits"))
        }
        other => Ok(other.filter(|p| !p.is_empty())),
    }
}

/// The center that receives new stock: the caller's own unless an admin names another.
fn target_center(caller: &Caller, requested: Option<String>) -> Result<String, ApiError> {
    let center = requested.unwrap_or_else(|| caller.center_id.clone());
    if caller.scope.covers(&center) {
        Ok(center)
    } else {
        Err(ApiError::field(
            "center_id",
            "unknown",
            "no such service center",
        ))
    }
}

// ---------------------------------------------------------------- terminal models

#[utoipa::path(tag = "equipment", responses((status = 200, body = Vec<TerminalModel>)), security(("bearer" = [])))]
#[get("/terminal-models")]
pub async fn list_models(
    state: web::Data<AppState>,
    caller: Caller,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Catalog, Op::Read)?;
    let models = with_db(&state.pool, caller.session(), |c| Ok(app::models(c)?)).await?;
    Ok(HttpResponse::Ok().json(models))
}

#[utoipa::path(tag = "equipment", request_body = NewTerminalModel, responses((status = 201, body = TerminalModel), (status = 409)), security(("bearer" = [])))]
#[post("/terminal-models")]
pub async fn create_model(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<NewTerminalModel>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Catalog, Op::Write)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let code = check.text("code", &b.code, 32);
    let name = check.text("name", &b.name, 100);
    check_warranty(&mut check, "warranty_months", b.warranty_months);
    check.finish()?;
    let m = TerminalModel {
        code,
        name,
        warranty_months: b.warranty_months,
        created_at: now(),
    };
    let m = in_tx(&state.pool, caller.session(), move |c| {
        Ok(app::create_model(c, m)?)
    })
    .await?;
    Ok(HttpResponse::Created().json(m))
}

// ---------------------------------------------------------------- terminals

#[utoipa::path(tag = "equipment", params(TerminalQuery, PageParams), responses((status = 200, body = inline(Page<Terminal>))), security(("bearer" = [])))]
#[get("/terminals")]
pub async fn list_terminals(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<TerminalQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Equipment, Op::Read)?;
    let page = page.to_req()?;
    let q = q.into_inner();
    let imei = digits_prefix("imei", q.imei)?;
    let Some(center) = caller.list_center(q.center_id.as_deref()) else {
        return empty_page::<Terminal>(&state.pool, caller.session()).await;
    };
    let result = with_db(&state.pool, caller.session(), move |c| {
        let filter = TerminalFilter {
            center: center.as_deref(),
            status: q.status.map(|s| s.as_str().into()),
            model_code: q.model_code,
            location: q.location.map(|s| s.as_str().into()),
            vehicle_id: q.vehicle_id,
            technician_id: q.technician_id,
            imei_prefix: imei,
            fault_tagged: q.fault_tagged,
        };
        Ok(app::terminals(c, &filter, &page)?)
    })
    .await?;
    Ok(page_json(result))
}

#[utoipa::path(tag = "equipment", responses((status = 200, body = Terminal), (status = 404)), security(("bearer" = [])))]
#[get("/terminals/{id}")]
pub async fn get_terminal(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Equipment, Op::Read)?;
    let t = with_db(&state.pool, caller.session(), move |c| {
        Ok(app::terminal(c, caller.principal(), &id)?)
    })
    .await?;
    Ok(ok_etag(t.version, &t))
}

/// Register one terminal into a center's warehouse stock.
#[utoipa::path(tag = "equipment", request_body = NewTerminal, responses((status = 201, body = Terminal), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/terminals")]
pub async fn create_terminal(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<NewTerminal>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Equipment, Op::Write)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let imei = check.id("imei", Imei::parse(&b.imei));
    check_purchase_date(&mut check, "purchase_date", b.purchase_date);
    if let Some(w) = b.warranty_months {
        check_warranty(&mut check, "warranty_months", w);
    }
    let notes = check.opt_text("notes", b.notes.as_deref(), 2000);
    let center_id = match target_center(&caller, b.center_id) {
        Ok(c) => Some(c),
        Err(_) => {
            check.add("center_id", "unknown", "no such service center");
            None
        }
    };
    check.finish()?;
    let (Some(imei), Some(center_id)) = (imei, center_id) else {
        return Err(ApiError::Internal("validated fields missing".into()));
    };
    let new = TerminalIn {
        center_id,
        imei,
        model_code: b.model_code,
        purchase_date: b.purchase_date,
        warranty_months: b.warranty_months,
        notes,
    };
    let t = in_tx(&state.pool, caller.session(), move |c| {
        Ok(app::create_terminal(c, new)?)
    })
    .await?;
    Ok(created_etag(t.version, &t))
}

/// Update a terminal's data, stock status, or which technician's van holds it; needs
/// If-Match. A terminal in a vehicle changes only through unbinding.
#[utoipa::path(tag = "equipment", request_body = TerminalUpdate, responses((status = 200, body = Terminal), (status = 409), (status = 412), (status = 428)), security(("bearer" = [])))]
#[patch("/terminals/{id}")]
pub async fn update_terminal(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<TerminalUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Equipment, Op::Write)?;
    let b = body.parse()?;
    let mut check = Check::new();
    if let Some(d) = b.purchase_date {
        check_purchase_date(&mut check, "purchase_date", d);
    }
    if let Some(w) = b.warranty_months {
        check_warranty(&mut check, "warranty_months", w);
    }
    if b.status == Some(TerminalStatus::Installed) {
        check.add(
            "status",
            "not_allowed",
            "a terminal is installed by binding it to a vehicle",
        );
    }
    let notes = b.notes.map(|n| check.opt_text("notes", n.as_deref(), 2000));
    check.finish()?;
    let version = if_match(&req);
    let change = TerminalChange {
        model_code: b.model_code,
        purchase_date: b.purchase_date,
        warranty_months: b.warranty_months,
        status: b.status,
        technician_id: b.technician_id,
        notes,
    };
    let t = in_tx(&state.pool, caller.session(), move |c| {
        // out of scope (404) before a missing or stale If-Match
        let current = app::terminal(c, caller.principal(), &id)?;
        Ok(app::update_terminal(c, &current, version?, change)?)
    })
    .await?;
    Ok(ok_etag(t.version, &t))
}

/// Install a terminal in a vehicle (terminal ↔ vehicle binding), recorded in the history.
#[utoipa::path(tag = "equipment", request_body = BindTerminal, responses((status = 200, body = Terminal), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/terminals/{id}/bind")]
pub async fn bind_terminal(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<BindTerminal>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Equipment, Op::Write)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let reason = check.text("reason", &b.reason, 500);
    check.finish()?;
    let t = in_tx(&state.pool, caller.session(), move |c| {
        let p = caller.principal();
        Ok(binding::install(c, p, &id, &b.vehicle_id, &reason)?)
    })
    .await?;
    Ok(ok_etag(t.version, &t))
}

/// Take a terminal out of its vehicle, back to the warehouse (in stock, in repair or returned).
#[utoipa::path(tag = "equipment", request_body = UnbindTerminal, responses((status = 200, body = Terminal), (status = 404), (status = 409)), security(("bearer" = [])))]
#[post("/terminals/{id}/unbind")]
pub async fn unbind_terminal(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<UnbindTerminal>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Equipment, Op::Write)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let reason = check.text("reason", &b.reason, 500);
    check.finish()?;
    let t = in_tx(&state.pool, caller.session(), move |c| {
        let p = caller.principal();
        Ok(binding::uninstall(c, p, &id, b.status, &reason)?)
    })
    .await?;
    Ok(ok_etag(t.version, &t))
}

// ---------------------------------------------------------------- SIM cards

#[utoipa::path(tag = "equipment", params(SimQuery, PageParams), responses((status = 200, body = inline(Page<SimCard>))), security(("bearer" = [])))]
#[get("/sims")]
pub async fn list_sims(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<SimQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Equipment, Op::Read)?;
    let page = page.to_req()?;
    let q = q.into_inner();
    let iccid = digits_prefix("iccid", q.iccid)?;
    let msisdn = digits_prefix("msisdn", q.msisdn)?;
    let Some(center) = caller.list_center(q.center_id.as_deref()) else {
        return empty_page::<SimCard>(&state.pool, caller.session()).await;
    };
    let result = with_db(&state.pool, caller.session(), move |c| {
        let filter = SimFilter {
            center: center.as_deref(),
            status: q.status.map(|s| s.as_str().into()),
            carrier: q.carrier.map(|s| s.as_str().into()),
            terminal_id: q.terminal_id,
            bound: q.bound,
            iccid_prefix: iccid,
            msisdn_prefix: msisdn,
        };
        Ok(app::sims(c, &filter, &page)?)
    })
    .await?;
    Ok(page_json(result))
}

#[utoipa::path(tag = "equipment", responses((status = 200, body = SimCard), (status = 404)), security(("bearer" = [])))]
#[get("/sims/{id}")]
pub async fn get_sim(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Equipment, Op::Read)?;
    let s = with_db(&state.pool, caller.session(), move |c| {
        Ok(app::sim(c, caller.principal(), &id)?)
    })
    .await?;
    Ok(ok_etag(s.version, &s))
}

#[utoipa::path(tag = "equipment", request_body = NewSim, responses((status = 201, body = SimCard), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/sims")]
pub async fn create_sim(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<NewSim>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Equipment, Op::Write)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let iccid = check.id("iccid", Iccid::parse(&b.iccid));
    let msisdn = check.id("msisdn", Msisdn::parse(&b.msisdn));
    let notes = check.opt_text("notes", b.notes.as_deref(), 2000);
    let center_id = target_center(&caller, b.center_id);
    if center_id.is_err() {
        check.add("center_id", "unknown", "no such service center");
    }
    check.finish()?;
    let (Some(iccid), Some(msisdn), Ok(center_id)) = (iccid, msisdn, center_id) else {
        return Err(ApiError::Internal("validated fields missing".into()));
    };
    let row = app::stock_sim(center_id, iccid, msisdn, b.carrier, notes);
    let s = in_tx(&state.pool, caller.session(), move |c| {
        Ok(app::create_sim(c, row)?)
    })
    .await?;
    Ok(created_etag(s.version, &s))
}

/// Update a SIM card's number, carrier or status; needs If-Match.
#[utoipa::path(tag = "equipment", request_body = SimUpdate, responses((status = 200, body = SimCard), (status = 409), (status = 412), (status = 428)), security(("bearer" = [])))]
#[patch("/sims/{id}")]
pub async fn update_sim(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<SimUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Equipment, Op::Write)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let msisdn = b
        .msisdn
        .as_deref()
        .and_then(|m| check.id("msisdn", Msisdn::parse(m)));
    let notes = b.notes.map(|n| check.opt_text("notes", n.as_deref(), 2000));
    check.finish()?;
    let version = if_match(&req);
    let change = SimChange {
        msisdn,
        carrier: b.carrier,
        status: b.status,
        notes,
    };
    let s = in_tx(&state.pool, caller.session(), move |c| {
        // out of scope (404) before a missing or stale If-Match
        let current = app::sim(c, caller.principal(), &id)?;
        Ok(app::update_sim(c, &current, version?, change)?)
    })
    .await?;
    Ok(ok_etag(s.version, &s))
}

/// Put a SIM card into a terminal (SIM ↔ terminal binding), recorded in the history.
#[utoipa::path(tag = "equipment", request_body = BindSim, responses((status = 200, body = SimCard), (status = 404), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/sims/{id}/bind")]
pub async fn bind_sim(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<BindSim>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Equipment, Op::Write)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let reason = check.text("reason", &b.reason, 500);
    check.finish()?;
    let s = in_tx(&state.pool, caller.session(), move |c| {
        let p = caller.principal();
        Ok(binding::insert_sim(c, p, &id, &b.terminal_id, &reason)?)
    })
    .await?;
    Ok(ok_etag(s.version, &s))
}

#[utoipa::path(tag = "equipment", request_body = UnbindSim, responses((status = 200, body = SimCard), (status = 404), (status = 409)), security(("bearer" = [])))]
#[post("/sims/{id}/unbind")]
pub async fn unbind_sim(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<UnbindSim>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Equipment, Op::Write)?;
    let mut check = Check::new();
    let body = body.parse()?;
    let reason = check.text("reason", &body.reason, 500);
    check.finish()?;
    let s = in_tx(&state.pool, caller.session(), move |c| {
        Ok(binding::remove_sim(c, caller.principal(), &id, &reason)?)
    })
    .await?;
    Ok(ok_etag(s.version, &s))
}

/// Bind and unbind history of a terminal, vehicle or SIM card (one filter required).
#[utoipa::path(tag = "equipment", params(HistoryQuery, PageParams), responses((status = 200, body = inline(Page<BindingEvent>))), security(("bearer" = [])))]
#[get("/binding-events")]
pub async fn history(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<HistoryQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Equipment, Op::Read)?;
    let page = page.to_req()?;
    let q = q.into_inner();
    if q.terminal_id.is_none() && q.vehicle_id.is_none() && q.sim_id.is_none() {
        return Err(ApiError::field(
            "terminal_id",
            "required",
            "give terminal_id, vehicle_id or sim_id",
        ));
    }
    let Some(center) = caller.list_center(None) else {
        return empty_page::<BindingEvent>(&state.pool, caller.session()).await;
    };
    let result = with_db(&state.pool, caller.session(), move |c| {
        let filter = HistoryFilter {
            center: center.as_deref(),
            terminal_id: q.terminal_id,
            vehicle_id: q.vehicle_id,
            sim_id: q.sim_id,
        };
        Ok(app::history(c, &filter, &page)?)
    })
    .await?;
    Ok(page_json(result))
}

// ---------------------------------------------------------------- CSV import

/// Bulk-import terminals from CSV (columns `imei, model_code, purchase_date`, optional
/// `warranty_months, notes`). All rows are valid and imported, or none is: the 422 lists
/// every bad row as `line N: column`.
#[utoipa::path(tag = "equipment", params(ImportQuery), request_body(content = String, content_type = "text/csv"), responses((status = 201, body = ImportResult), (status = 422)), security(("bearer" = [])))]
#[post("/terminals/import")]
pub async fn import_terminals(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ImportQuery>,
    body: Upload,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Equipment, Op::Write)?;
    let center_id = target_center(&caller, q.into_inner().center_id)?;
    let rows = import::read(body.csv()?, &["imei", "model_code", "purchase_date"])?;
    let n = in_tx(&state.pool, caller.session(), move |c| {
        Ok(import::terminals(c, &center_id, &rows)?)
    })
    .await?;
    Ok(HttpResponse::Created().json(ImportResult { imported: n }))
}

/// Bulk-import SIM cards from CSV (columns `iccid, msisdn`, optional `carrier, notes`).
/// All or nothing, with every bad row reported.
#[utoipa::path(tag = "equipment", params(ImportQuery), request_body(content = String, content_type = "text/csv"), responses((status = 201, body = ImportResult), (status = 422)), security(("bearer" = [])))]
#[post("/sims/import")]
pub async fn import_sims(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<ImportQuery>,
    body: Upload,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Equipment, Op::Write)?;
    let center_id = target_center(&caller, q.into_inner().center_id)?;
    let rows = import::read(body.csv()?, &["iccid", "msisdn"])?;
    let n = in_tx(&state.pool, caller.session(), move |c| {
        Ok(import::sims(c, &center_id, &rows)?)
    })
    .await?;
    Ok(HttpResponse::Created().json(ImportResult { imported: n }))
}
