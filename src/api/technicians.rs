use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use serde::Deserialize;

use super::error::ApiError;
use super::json::Json;
use super::session::Caller;
use super::state::AppState;
use super::support::{
    Check, PageParams, created_etag, double_option, empty_page, if_match, in_tx, ok_etag,
    page_json, with_db,
};
use crate::domain::access::{Op, Resource, Role};
use crate::store::technicians::{
    self, Technician, TechnicianFilter, TechnicianPatch, TechnicianRow, models_json,
};
use crate::store::{DbConn, Page, equipment, now, users};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTechnician {
    /// an existing user with role technician
    pub user_id: String,
    pub can_install: bool,
    pub can_repair: bool,
    /// terminal model codes they know
    #[serde(default)]
    pub models: Vec<String>,
    pub home_lat: f64,
    pub home_lng: f64,
    /// 外协: an external contractor (needs contractor_company)
    #[serde(default)]
    pub external: bool,
    pub contractor_company: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TechnicianUpdate {
    pub can_install: Option<bool>,
    pub can_repair: Option<bool>,
    pub models: Option<Vec<String>>,
    pub home_lat: Option<f64>,
    pub home_lng: Option<f64>,
    pub active: Option<bool>,
    pub external: Option<bool>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub contractor_company: Option<Option<String>>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Position {
    pub lat: f64,
    pub lng: f64,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TechnicianQuery {
    pub center_id: Option<String>,
    pub active: Option<bool>,
    pub external: Option<bool>,
    pub can_install: Option<bool>,
    pub can_repair: Option<bool>,
    /// knows this terminal model
    pub model: Option<String>,
    /// name contains
    pub q: Option<String>,
}

fn check_models(c: &mut DbConn, models: &[String]) -> Result<(), ApiError> {
    let known: Vec<String> = equipment::models(c)?.into_iter().map(|m| m.code).collect();
    let mut check = Check::new();
    for (i, m) in models.iter().enumerate() {
        if !known.contains(m) {
            check.add(
                format!("models[{i}]"),
                "unknown",
                format!("no terminal model {m}"),
            );
        }
    }
    Ok(check.finish()?)
}

fn check_contractor(check: &mut Check, external: bool, company: Option<&str>) -> Option<String> {
    let company = check.opt_text("contractor_company", company, 100);
    if external && company.is_none() {
        check.add(
            "contractor_company",
            "required",
            "an external contractor needs the contractor's company",
        );
    }
    company
}

/// Technicians. Technicians themselves see only their own profile.
#[utoipa::path(operation_id = "list_technicians", tag = "technicians", params(TechnicianQuery, PageParams), responses((status = 200, body = inline(Page<Technician>))), security(("bearer" = [])))]
#[get("/technicians")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<TechnicianQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Technicians, Op::Read)?;
    let page = page.to_req()?;
    let q = q.into_inner();
    let Some(center) = caller.list_center(q.center_id.as_deref()) else {
        return empty_page::<Technician>(&state.pool, caller.session()).await;
    };
    let result = with_db(&state.pool, caller.session(), move |c| {
        let filter = TechnicianFilter {
            center: center.as_deref(),
            only_user: (caller.role == Role::Technician).then_some(caller.id.as_str()),
            active: q.active,
            external: q.external,
            can_install: q.can_install,
            can_repair: q.can_repair,
            model: q.model,
            q: q.q,
        };
        Ok(technicians::list(c, &filter, &page)?)
    })
    .await?;
    Ok(page_json(result))
}

fn visible(caller: &Caller, t: &Technician) -> Result<(), ApiError> {
    caller.see(&t.center_id)?;
    if caller.role == Role::Technician && caller.id != t.user_id {
        return Err(ApiError::NotFound);
    }
    Ok(())
}

#[utoipa::path(operation_id = "get_technician", tag = "technicians", responses((status = 200, body = Technician), (status = 404)), security(("bearer" = [])))]
#[get("/technicians/{user_id}")]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Technicians, Op::Read)?;
    let t = with_db(&state.pool, caller.session(), move |c| {
        Ok(technicians::get(c, &id)?)
    })
    .await?;
    visible(&caller, &t)?;
    Ok(ok_etag(t.version, &t))
}

/// Create the technician profile of a technician user (admin, manager of their center).
#[utoipa::path(operation_id = "create_technician", tag = "technicians", request_body = NewTechnician, responses((status = 201, body = Technician), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/technicians")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<NewTechnician>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Technicians, Op::Write)?;
    let b = body.parse()?;
    let mut check = Check::new();
    check.point("home", b.home_lat, b.home_lng);
    let company = check_contractor(&mut check, b.external, b.contractor_company.as_deref());
    check.finish()?;
    let t = in_tx(&state.pool, caller.session(), move |c| {
        let user = users::get(c, &b.user_id)
            .map_err(|_| ApiError::field("user_id", "unknown", "no such user"))?;
        if !caller.scope.covers(&user.center_id) {
            return Err(ApiError::field("user_id", "unknown", "no such user"));
        }
        if user.role != Role::Technician.as_str() {
            return Err(ApiError::field(
                "user_id",
                "not_technician",
                "the user's role is not technician",
            ));
        }
        check_models(c, &b.models)?;
        let t = now();
        technicians::insert(
            c,
            &TechnicianRow {
                user_id: user.id.clone(),
                center_id: user.center_id.clone(),
                can_install: b.can_install,
                can_repair: b.can_repair,
                models: models_json(&b.models),
                home_lat: b.home_lat,
                home_lng: b.home_lng,
                last_lat: None,
                last_lng: None,
                last_seen_at: None,
                active: true,
                external: b.external,
                contractor_company: company,
                version: 1,
                created_at: t,
                updated_at: t,
            },
        )?;
        Ok(technicians::get(c, &user.id)?)
    })
    .await?;
    Ok(created_etag(t.version, &t))
}

/// Update a technician's profile (admin, manager of their center); needs If-Match.
#[utoipa::path(operation_id = "update_technician", tag = "technicians", request_body = TechnicianUpdate, responses((status = 200, body = Technician), (status = 412), (status = 428)), security(("bearer" = [])))]
#[patch("/technicians/{user_id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<TechnicianUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Technicians, Op::Write)?;
    let b = body.parse()?;
    let mut check = Check::new();
    if b.home_lat.is_some() || b.home_lng.is_some() {
        check.point("home", b.home_lat.unwrap_or(0.0), b.home_lng.unwrap_or(0.0));
    }
    let company = b
        .contractor_company
        .map(|c| check.opt_text("contractor_company", c.as_deref(), 100));
    check.finish()?;
    let version = if_match(&req);
    let id = id.into_inner();
    let t = in_tx(&state.pool, caller.session(), move |c| {
        let current = technicians::get(c, &id)?;
        visible(&caller, &current)?;
        let version = version?;
        if let Some(models) = &b.models {
            check_models(c, models)?;
        }
        let external = b.external.unwrap_or(current.external);
        let company_after = company
            .clone()
            .unwrap_or(current.contractor_company.clone());
        if external && company_after.is_none() {
            return Err(ApiError::field(
                "contractor_company",
                "required",
                "an external contractor needs the contractor's company",
            ));
        }
        let patch = TechnicianPatch {
            can_install: b.can_install,
            can_repair: b.can_repair,
            models: b.models.as_deref().map(models_json),
            home_lat: b.home_lat,
            home_lng: b.home_lng,
            active: b.active,
            external: b.external,
            contractor_company: company,
        };
        technicians::update(c, &id, version, &patch)?;
        Ok(technicians::get(c, &id)?)
    })
    .await?;
    Ok(ok_etag(t.version, &t))
}

/// A technician reports their phone's position while on duty.
#[utoipa::path(tag = "technicians", request_body = Position, responses((status = 204), (status = 403)), security(("bearer" = [])))]
#[post("/technicians/me/position")]
pub async fn report_position(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<Position>,
) -> Result<HttpResponse, ApiError> {
    if caller.role != Role::Technician {
        return Err(ApiError::Forbidden);
    }
    let p = body.parse()?;
    let mut check = Check::new();
    check.point("", p.lat, p.lng);
    check.finish()?;
    in_tx(&state.pool, caller.session(), move |c| {
        Ok(technicians::report_position(c, &caller.id, p.lat, p.lng)?)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
