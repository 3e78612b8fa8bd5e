use actix_web::{HttpRequest, HttpResponse, get, patch, post, web};
use serde::Deserialize;

use super::error::ApiError;
use super::json::Json;
use super::session::Caller;
use super::state::AppState;
use super::support::{
    Check, PageParams, created_etag, if_match, in_tx, ok_etag, page_json, with_db,
};
use crate::domain::access::{Op, Resource, Scope};
use crate::store::centers::{self, Center, CenterFilter, CenterPatch};
use crate::store::{Page, new_id, now};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCenter {
    /// 2–6 uppercase letters, used in document numbers
    pub code: String,
    pub name: String,
    pub region: String,
    pub lat: f64,
    pub lng: f64,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CenterUpdate {
    pub name: Option<String>,
    pub region: Option<String>,
    pub lat: Option<f64>,
    pub lng: Option<f64>,
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CenterQuery {
    /// name contains
    pub q: Option<String>,
    pub region: Option<String>,
    pub active: Option<bool>,
}

fn check_code(check: &mut Check, code: &str) {
    let ok = (2..=6).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_uppercase());
    if !ok {
        check.add("code", "format", "2–6 uppercase letters A–Z");
    }
}

/// Service centers. Everyone may list them; non-admins see only their own.
#[utoipa::path(operation_id = "list_centers", tag = "centers", params(CenterQuery, PageParams), responses((status = 200, body = inline(Page<Center>))), security(("bearer" = [])))]
#[get("/centers")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<CenterQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Centers, Op::Read)?;
    let page = page.to_req()?;
    let q = q.into_inner();
    let filter = CenterFilter {
        only: match &caller.scope {
            Scope::AllCenters => None,
            Scope::Center(c) => Some(c.clone()),
        },
        q: q.q,
        region: q.region,
        active: q.active,
    };
    let result = with_db(&state.pool, caller.session(), move |c| {
        Ok(centers::list(c, &filter, &page)?)
    })
    .await?;
    Ok(page_json(result))
}

#[utoipa::path(operation_id = "get_center", tag = "centers", responses((status = 200, body = Center), (status = 404)), security(("bearer" = [])))]
#[get("/centers/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Centers, Op::Read)?;
    let center = with_db(&state.pool, caller.session(), move |c| {
        Ok(centers::get(c, &id)?)
    })
    .await?;
    caller.see(&center.id)?;
    Ok(ok_etag(center.version, &center))
}

/// Create a service center (admin).
#[utoipa::path(operation_id = "create_center", tag = "centers", request_body = NewCenter, responses((status = 201, body = Center), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/centers")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<NewCenter>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Centers, Op::Write)?;
    let b = body.parse()?;
    let mut check = Check::new();
    check_code(&mut check, &b.code);
    let name = check.text("name", &b.name, 100);
    let region = check.text("region", &b.region, 50);
    check.point("", b.lat, b.lng);
    check.finish()?;
    let t = now();
    let center = Center {
        id: new_id(),
        code: b.code,
        name,
        region,
        lat: b.lat,
        lng: b.lng,
        active: true,
        version: 1,
        created_at: t,
        updated_at: t,
    };
    let center = in_tx(&state.pool, caller.session(), move |c| {
        centers::insert(c, &center)?;
        Ok(center)
    })
    .await?;
    Ok(created_etag(center.version, &center))
}

/// Update a service center (admin); needs If-Match.
#[utoipa::path(operation_id = "update_center", tag = "centers", request_body = CenterUpdate, responses((status = 200, body = Center), (status = 412), (status = 428)), security(("bearer" = [])))]
#[patch("/centers/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<CenterUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Centers, Op::Write)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let name = b.name.as_deref().map(|v| check.text("name", v, 100));
    let region = b.region.as_deref().map(|v| check.text("region", v, 50));
    if b.lat.is_some() || b.lng.is_some() {
        check.point("", b.lat.unwrap_or(0.0), b.lng.unwrap_or(0.0));
    }
    check.finish()?;
    let version = if_match(&req);
    let patch = CenterPatch {
        name,
        region,
        lat: b.lat,
        lng: b.lng,
        active: b.active,
    };
    let id = id.into_inner();
    let center = in_tx(&state.pool, caller.session(), move |c| {
        centers::get(c, &id)?;
        centers::update(c, &id, version?, &patch)?;
        Ok(centers::get(c, &id)?)
    })
    .await?;
    Ok(ok_etag(center.version, &center))
}
