//! Terminals, SIM cards, terminal models, CSV import, and binding.

use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, FieldError};
use super::json::{Json, Upload};
use super::session::Caller;
use super::state::AppState;
use super::support::{
    Check, PageParams, created_etag, double_option, empty_page, if_match, in_tx, ok_etag,
    page_json, with_db,
};
use crate::domain::access::{Op, Resource, Role};
use crate::domain::ids::{Carrier, Iccid, Imei, Msisdn};
use crate::domain::registry::{self, SimStatus, TerminalLocation, TerminalStatus};
use crate::store::equipment::{
    self, BindContext, BindingEvent, HistoryFilter, SimCard, SimFilter, SimPatch, Terminal,
    TerminalFilter, TerminalModel, TerminalPatch,
};
use crate::store::{DbConn, Page, centers, new_id, now, users, vehicles};

/// Largest CSV import, in rows.
pub const MAX_IMPORT_ROWS: usize = 5000;

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

fn ensure_center(c: &mut DbConn, id: &str) -> Result<(), ApiError> {
    centers::get(c, id)
        .map_err(|_| ApiError::field("center_id", "unknown", "no such service center"))?;
    Ok(())
}

fn check_warranty(check: &mut Check, field: &str, months: i32) {
    if !(0..=120).contains(&months) {
        check.add(field, "out_of_range", "between 0 and 120 months");
    }
}

fn check_purchase_date(check: &mut Check, field: &str, d: NaiveDate) {
    let today = chrono::Utc::now().date_naive();
    if d > today + chrono::Duration::days(1) || d < NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(d)
    {
        check.add(field, "out_of_range", "a date between 2000-01-01 and today");
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
    let models = with_db(&state.pool, caller.session(), |c| Ok(equipment::models(c)?)).await?;
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
        equipment::insert_model(c, &m)?;
        Ok(m)
    })
    .await?;
    Ok(HttpResponse::Created().json(m))
}

// ---------------------------------------------------------------- terminals

fn load_terminal(c: &mut DbConn, caller: &Caller, id: &str) -> Result<Terminal, ApiError> {
    let t = equipment::terminal(c, id)?;
    caller.see(&t.center_id)?;
    Ok(t)
}

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
        Ok(equipment::list_terminals(c, &filter, &page)?)
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
        load_terminal(c, &caller, &id)
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
    let imei = String::from(imei);
    let t = in_tx(&state.pool, caller.session(), move |c| {
        ensure_center(c, &center_id)?;
        let model = equipment::model(c, &b.model_code)?
            .ok_or_else(|| ApiError::field("model_code", "unknown", "no such terminal model"))?;
        let t = now();
        let row = Terminal {
            id: new_id(),
            center_id,
            imei,
            model_code: model.code,
            purchase_date: b.purchase_date,
            warranty_months: b.warranty_months.unwrap_or(model.warranty_months),
            status: TerminalStatus::InStock.as_str().into(),
            location: TerminalLocation::Warehouse.as_str().into(),
            technician_id: None,
            vehicle_id: None,
            notes,
            version: 1,
            created_at: t,
            updated_at: t,
            fault_tag: None,
            fault_order_id: None,
        };
        equipment::insert_terminal(c, &row)?;
        Ok(row)
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
    let id = id.into_inner();
    let t = in_tx(&state.pool, caller.session(), move |c| {
        let current = load_terminal(c, &caller, &id)?;
        let version = version?;
        let moves = b.status.is_some() || b.technician_id.is_some();
        if moves && current.vehicle_id.is_some() {
            return Err(ApiError::conflict(
                "terminal_already_bound",
                "the terminal is installed in a vehicle: unbind it first",
            ));
        }
        if matches!(
            b.status,
            Some(TerminalStatus::Scrapped | TerminalStatus::Returned)
        ) && equipment::sim_in_terminal(c, &id)?.is_some()
        {
            return Err(registry::BindRefusal::TerminalHasSim.into());
        }
        if let Some(code) = &b.model_code
            && equipment::model(c, code)?.is_none()
        {
            return Err(ApiError::field(
                "model_code",
                "unknown",
                "no such terminal model",
            ));
        }
        if let Some(Some(tech)) = &b.technician_id {
            let ok = users::get(c, tech).ok().is_some_and(|u| {
                u.active && u.role == Role::Technician.as_str() && u.center_id == current.center_id
            });
            if !ok {
                return Err(ApiError::field(
                    "technician_id",
                    "unknown",
                    "no such technician in this center",
                ));
            }
        }
        let location = b.technician_id.as_ref().map(|t| {
            if t.is_some() {
                TerminalLocation::Technician
            } else {
                TerminalLocation::Warehouse
            }
            .as_str()
            .to_string()
        });
        let patch = TerminalPatch {
            model_code: b.model_code,
            purchase_date: b.purchase_date,
            warranty_months: b.warranty_months,
            status: b.status.map(|s| s.as_str().into()),
            location,
            technician_id: b.technician_id,
            notes,
        };
        equipment::update_terminal(c, &id, version, &patch)?;
        Ok(equipment::terminal(c, &id)?)
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
        let t = load_terminal(c, &caller, &id)?;
        let vehicle = vehicles::get(c, &b.vehicle_id)
            .ok()
            .filter(|v| caller.scope.covers(&v.center_id))
            .ok_or_else(|| ApiError::field("vehicle_id", "unknown", "no such vehicle"))?;
        let status = TerminalStatus::parse(&t.status).unwrap_or(TerminalStatus::Scrapped);
        registry::check_terminal_bind(
            status,
            t.vehicle_id.is_some(),
            &t.center_id,
            &vehicle.center_id,
        )?;
        let ctx = BindContext {
            actor_id: &caller.id,
            reason: &reason,
            order_id: None,
        };
        equipment::bind_terminal(c, &t, &vehicle.id, &ctx)?;
        Ok(equipment::terminal(c, &id)?)
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
        let t = load_terminal(c, &caller, &id)?;
        let to = registry::check_terminal_unbind(t.vehicle_id.is_some(), b.status)?;
        if to == TerminalStatus::Returned && equipment::sim_in_terminal(c, &id)?.is_some() {
            return Err(registry::BindRefusal::TerminalHasSim.into());
        }
        let vehicle_id = t.vehicle_id.clone().unwrap_or_default();
        let ctx = BindContext {
            actor_id: &caller.id,
            reason: &reason,
            order_id: None,
        };
        equipment::unbind_terminal(c, &t, &vehicle_id, to.as_str(), &ctx)?;
        Ok(equipment::terminal(c, &id)?)
    })
    .await?;
    Ok(ok_etag(t.version, &t))
}

// ---------------------------------------------------------------- SIM cards

fn load_sim(c: &mut DbConn, caller: &Caller, id: &str) -> Result<SimCard, ApiError> {
    let s = equipment::sim(c, id)?;
    caller.see(&s.center_id)?;
    Ok(s)
}

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
        Ok(equipment::list_sims(c, &filter, &page)?)
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
        load_sim(c, &caller, &id)
    })
    .await?;
    Ok(ok_etag(s.version, &s))
}

fn sim_row(
    center_id: String,
    iccid: Iccid,
    msisdn: Msisdn,
    carrier: Option<Carrier>,
    notes: Option<String>,
) -> SimCard {
    let t = now();
    SimCard {
        id: new_id(),
        center_id,
        carrier: carrier.unwrap_or_else(|| iccid.carrier()).as_str().into(),
        iccid: iccid.into(),
        msisdn: msisdn.into(),
        status: SimStatus::InStock.as_str().into(),
        terminal_id: None,
        notes,
        version: 1,
        created_at: t,
        updated_at: t,
    }
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
    let row = sim_row(center_id, iccid, msisdn, b.carrier, notes);
    let s = in_tx(&state.pool, caller.session(), move |c| {
        ensure_center(c, &row.center_id)?;
        equipment::insert_sim(c, &row)?;
        Ok(row)
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
    let id = id.into_inner();
    let s = in_tx(&state.pool, caller.session(), move |c| {
        let current = load_sim(c, &caller, &id)?;
        let version = version?;
        if current.terminal_id.is_some()
            && matches!(b.status, Some(SimStatus::InStock | SimStatus::Cancelled))
        {
            return Err(ApiError::conflict(
                "sim_already_bound",
                "the SIM card is in a terminal: unbind it first",
            ));
        }
        let patch = SimPatch {
            msisdn: msisdn.map(String::from),
            carrier: b.carrier.map(|x| x.as_str().into()),
            status: b.status.map(|x| x.as_str().into()),
            notes,
        };
        equipment::update_sim(c, &id, version, &patch)?;
        Ok(equipment::sim(c, &id)?)
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
        let sim = load_sim(c, &caller, &id)?;
        let terminal = equipment::terminal(c, &b.terminal_id)
            .ok()
            .filter(|t| caller.scope.covers(&t.center_id))
            .ok_or_else(|| ApiError::field("terminal_id", "unknown", "no such terminal"))?;
        let occupied = equipment::sim_in_terminal(c, &terminal.id)?.is_some();
        registry::check_sim_bind(
            SimStatus::parse(&sim.status).unwrap_or(SimStatus::Cancelled),
            sim.terminal_id.is_some(),
            TerminalStatus::parse(&terminal.status).unwrap_or(TerminalStatus::Scrapped),
            occupied,
            sim.center_id == terminal.center_id,
        )?;
        let ctx = BindContext {
            actor_id: &caller.id,
            reason: &reason,
            order_id: None,
        };
        equipment::bind_sim(c, &sim, &terminal.id, &ctx)?;
        Ok(equipment::sim(c, &id)?)
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
        let sim = load_sim(c, &caller, &id)?;
        let Some(terminal_id) = sim.terminal_id.clone() else {
            return Err(registry::BindRefusal::SimNotBound.into());
        };
        let ctx = BindContext {
            actor_id: &caller.id,
            reason: &reason,
            order_id: None,
        };
        equipment::unbind_sim(c, &sim, &terminal_id, &ctx)?;
        Ok(equipment::sim(c, &id)?)
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
        Ok(equipment::history(c, &filter, &page)?)
    })
    .await?;
    Ok(page_json(result))
}

// ---------------------------------------------------------------- CSV import

/// Header names (lowercased) and the data rows with their line numbers.
type CsvRows = (Vec<String>, Vec<(usize, csv::StringRecord)>);

/// Reads a CSV upload: UTF-8 (a BOM, as Excel writes it, is fine), with a header row.
fn csv_rows(body: &[u8], required: &[&str]) -> Result<CsvRows, ApiError> {
    let text = std::str::from_utf8(body).map_err(|_| ApiError::Unprocessable {
        code: "csv_encoding",
        detail: "the file is not UTF-8: save it from Excel as \"CSV UTF-8\"".into(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| ApiError::Unprocessable {
            code: "csv_malformed",
            detail: e.to_string(),
        })?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|r| !headers.iter().any(|h| h == r))
        .collect();
    if !missing.is_empty() {
        return Err(ApiError::Unprocessable {
            code: "csv_header",
            detail: format!("missing columns: {}", missing.join(", ")),
        });
    }
    let mut rows = Vec::new();
    // file line numbers, counted incrementally
    let bytes = text.as_bytes();
    let (mut counted, mut line) = (0usize, 1usize);
    for rec in reader.records() {
        // the file's own line (blank lines and multi-line quoted fields count)
        let rec = rec.map_err(|e| ApiError::Unprocessable {
            code: "csv_malformed",
            detail: e.to_string(),
        })?;
        // the reader's position is where it started looking: skip the blank lines before
        let mut start = rec
            .position()
            .map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX))
            .min(bytes.len());
        while start < bytes.len() && matches!(bytes[start], b'\n' | b'\r') {
            start += 1;
        }
        line += bytes[counted..start.max(counted)]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        counted = start.max(counted);
        if rec.iter().all(str::is_empty) {
            continue;
        }
        rows.push((line, rec));
        if rows.len() > MAX_IMPORT_ROWS {
            return Err(ApiError::Unprocessable {
                code: "csv_too_many_rows",
                detail: format!("at most {MAX_IMPORT_ROWS} rows per file"),
            });
        }
    }
    if rows.is_empty() {
        return Err(ApiError::Unprocessable {
            code: "csv_empty",
            detail: "the file has no data rows".into(),
        });
    }
    Ok((headers, rows))
}

fn col<'a>(headers: &[String], rec: &'a csv::StringRecord, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .position(|h| h == name)
        .and_then(|i| rec.get(i))
        .filter(|v| !v.is_empty())
}

fn import_failed(errors: Vec<FieldError>) -> ApiError {
    ApiError::Validation(errors)
}

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
    let (headers, rows) = csv_rows(body.csv()?, &["imei", "model_code", "purchase_date"])?;
    let n = in_tx(&state.pool, caller.session(), move |c| {
        ensure_center(c, &center_id)?;
        let models = equipment::models(c)?;
        let mut check = Check::new();
        let mut parsed = Vec::with_capacity(rows.len());
        let mut seen = std::collections::HashMap::new();
        for (line, rec) in &rows {
            let f = |name: &str| format!("line {line}: {name}");
            let imei = check.id(
                f("imei"),
                Imei::parse(col(&headers, rec, "imei").unwrap_or("")),
            );
            if let Some(i) = &imei
                && let Some(first) = seen.insert(i.as_str().to_string(), *line)
            {
                check.add(f("imei"), "duplicate", format!("same IMEI as line {first}"));
            }
            let model_code = col(&headers, rec, "model_code").unwrap_or("");
            let model = models.iter().find(|m| m.code == model_code);
            if model.is_none() {
                check.add(
                    f("model_code"),
                    "unknown",
                    format!("no terminal model '{model_code}'"),
                );
            }
            let date = match NaiveDate::parse_from_str(
                col(&headers, rec, "purchase_date").unwrap_or(""),
                "%Y-%m-%d",
            ) {
                Ok(d) => {
                    check_purchase_date(&mut check, &f("purchase_date"), d);
                    Some(d)
                }
                Err(_) => {
                    check.add(f("purchase_date"), "format", "a date as YYYY-MM-DD");
                    None
                }
            };
            let warranty = match col(&headers, rec, "warranty_months").map(str::parse::<i32>) {
                None => model.map(|m| m.warranty_months),
                Some(Ok(w)) => {
                    check_warranty(&mut check, &f("warranty_months"), w);
                    Some(w)
                }
                Some(Err(_)) => {
                    check.add(f("warranty_months"), "format", "a whole number of months");
                    None
                }
            };
            let notes = check.opt_text(f("notes"), col(&headers, rec, "notes"), 2000);
            if let (Some(imei), Some(model), Some(date), Some(w)) = (imei, model, date, warranty) {
                parsed.push((imei, model.code.clone(), date, w, notes));
            }
        }
        let imeis: Vec<String> = parsed.iter().map(|p| p.0.as_str().to_string()).collect();
        for dup in equipment::existing_imeis(c, &imeis)? {
            let line = seen.get(&dup).copied().unwrap_or(0);
            check.add(
                format!("line {line}: imei"),
                "duplicate",
                "already registered",
            );
        }
        if !check.is_ok() {
            return Err(import_failed(check.into_errors()));
        }
        let t = now();
        for (imei, model_code, purchase_date, warranty_months, notes) in &parsed {
            equipment::insert_terminal(
                c,
                &Terminal {
                    id: new_id(),
                    center_id: center_id.clone(),
                    imei: imei.as_str().to_string(),
                    model_code: model_code.clone(),
                    purchase_date: *purchase_date,
                    warranty_months: *warranty_months,
                    status: TerminalStatus::InStock.as_str().into(),
                    location: TerminalLocation::Warehouse.as_str().into(),
                    technician_id: None,
                    vehicle_id: None,
                    notes: notes.clone(),
                    version: 1,
                    created_at: t,
                    updated_at: t,
                    fault_tag: None,
                    fault_order_id: None,
                },
            )?;
        }
        Ok(parsed.len())
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
    let (headers, rows) = csv_rows(body.csv()?, &["iccid", "msisdn"])?;
    let n = in_tx(&state.pool, caller.session(), move |c| {
        ensure_center(c, &center_id)?;
        let mut check = Check::new();
        let mut parsed = Vec::with_capacity(rows.len());
        let mut seen_iccid = std::collections::HashMap::new();
        let mut seen_msisdn = std::collections::HashMap::new();
        for (line, rec) in &rows {
            let f = |name: &str| format!("line {line}: {name}");
            let iccid = check.id(
                f("iccid"),
                Iccid::parse(col(&headers, rec, "iccid").unwrap_or("")),
            );
            let msisdn = check.id(
                f("msisdn"),
                Msisdn::parse(col(&headers, rec, "msisdn").unwrap_or("")),
            );
            if let Some(i) = &iccid
                && let Some(first) = seen_iccid.insert(i.as_str().to_string(), *line)
            {
                check.add(
                    f("iccid"),
                    "duplicate",
                    format!("same ICCID as line {first}"),
                );
            }
            if let Some(m) = &msisdn
                && let Some(first) = seen_msisdn.insert(m.as_str().to_string(), *line)
            {
                check.add(
                    f("msisdn"),
                    "duplicate",
                    format!("same MSISDN as line {first}"),
                );
            }
            let carrier = col(&headers, rec, "carrier").and_then(|v| {
                check.one_of(
                    f("carrier"),
                    v,
                    Carrier::parse,
                    "china_mobile, china_unicom, china_telecom, other",
                )
            });
            let notes = check.opt_text(f("notes"), col(&headers, rec, "notes"), 2000);
            if let (Some(i), Some(m)) = (iccid, msisdn) {
                parsed.push(sim_row(center_id.clone(), i, m, carrier, notes));
            }
        }
        let iccids: Vec<String> = parsed.iter().map(|s| s.iccid.clone()).collect();
        let msisdns: Vec<String> = parsed.iter().map(|s| s.msisdn.clone()).collect();
        let (dup_iccid, dup_msisdn) = equipment::existing_sim_numbers(c, &iccids, &msisdns)?;
        for d in dup_iccid {
            let line = seen_iccid.get(&d).copied().unwrap_or(0);
            check.add(
                format!("line {line}: iccid"),
                "duplicate",
                "already registered",
            );
        }
        for d in dup_msisdn {
            let line = seen_msisdn.get(&d).copied().unwrap_or(0);
            check.add(
                format!("line {line}: msisdn"),
                "duplicate",
                "already registered",
            );
        }
        if !check.is_ok() {
            return Err(import_failed(check.into_errors()));
        }
        for row in &parsed {
            equipment::insert_sim(c, row)?;
        }
        Ok(parsed.len())
    })
    .await?;
    Ok(HttpResponse::Created().json(ImportResult { imported: n }))
}
