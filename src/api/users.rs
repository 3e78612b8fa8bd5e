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
use crate::app::accounts::{check_new_password, hash_password};
use crate::app::stored;
use crate::domain::access::{Op, Resource, Role};
use crate::domain::ids::{Email, Phone};
use crate::store::users::{self, User, UserFilter, UserPatch};
use crate::store::{Page, centers, equipment, new_id, now, technicians};

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    /// 3–32 characters: letters, digits, `.`, `_`, `-`
    pub username: String,
    pub display_name: String,
    pub password: String,
    pub role: Role,
    pub center_id: String,
    pub phone: Option<String>,
    pub email: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub center_id: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    /// false deactivates the user: their tokens stop working at once
    pub active: Option<bool>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPassword {
    pub new_password: String,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserQuery {
    pub center_id: Option<String>,
    pub role: Option<Role>,
    pub active: Option<bool>,
    /// username or display name contains
    pub q: Option<String>,
}

pub fn check_username(check: &mut Check, u: &str) {
    let ok = (3..=32).contains(&u.len())
        && u.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !ok {
        check.add(
            "username",
            "format",
            "3–32 characters: letters, digits, '.', '_', '-'",
        );
    }
}

fn contact_fields(
    check: &mut Check,
    phone: Option<&str>,
    email: Option<&str>,
) -> (Option<String>, Option<String>) {
    let phone = check.opt_id(
        "phone",
        phone.filter(|p| !p.trim().is_empty()),
        Phone::parse,
    );
    let email = check.opt_id(
        "email",
        email.filter(|e| !e.trim().is_empty()),
        Email::parse,
    );
    (phone.map(Into::into), email.map(Into::into))
}

/// Users (admin: all; manager: their center's, read-only).
#[utoipa::path(operation_id = "list_users", tag = "users", params(UserQuery, PageParams), responses((status = 200, body = inline(Page<User>))), security(("bearer" = [])))]
#[get("/users")]
pub async fn list(
    state: web::Data<AppState>,
    caller: Caller,
    q: web::Query<UserQuery>,
    page: web::Query<PageParams>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Users, Op::Read)?;
    let page = page.to_req()?;
    let q = q.into_inner();
    let Some(center) = caller.list_center(q.center_id.as_deref()) else {
        return empty_page::<User>(&state.pool, caller.session()).await;
    };
    let result = with_db(&state.pool, caller.session(), move |c| {
        let filter = UserFilter {
            center: center.as_deref(),
            role: q.role.map(|r| r.as_str().to_string()),
            active: q.active,
            q: q.q.clone(),
        };
        Ok(users::list(c, &filter, &page)?)
    })
    .await?;
    Ok(page_json(result))
}

#[utoipa::path(operation_id = "get_user", tag = "users", responses((status = 200, body = User), (status = 404)), security(("bearer" = [])))]
#[get("/users/{id}")]
pub async fn get(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Users, Op::Read)?;
    let user = with_db(&state.pool, caller.session(), move |c| {
        Ok(users::get(c, &id)?)
    })
    .await?;
    caller.see(&user.center_id)?;
    Ok(ok_etag(user.version, &user))
}

/// Create a user (admin).
#[utoipa::path(operation_id = "create_user", tag = "users", request_body = NewUser, responses((status = 201, body = User), (status = 409), (status = 422)), security(("bearer" = [])))]
#[post("/users")]
pub async fn create(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<NewUser>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Users, Op::Write)?;
    let b = body.parse()?;
    let mut check = Check::new();
    check_username(&mut check, &b.username);
    let display_name = check.text("display_name", &b.display_name, 50);
    check_new_password(&mut check, "password", &b.password);
    let (phone, email) = contact_fields(&mut check, b.phone.as_deref(), b.email.as_deref());
    check.finish()?;
    let hash = web::block(move || hash_password(&b.password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    let t = now();
    let user = User {
        id: new_id(),
        username: b.username,
        display_name,
        role: b.role.as_str().to_string(),
        center_id: b.center_id,
        phone,
        email,
        password_hash: hash,
        active: true,
        token_version: 0,
        failed_logins: 0,
        locked_until: None,
        version: 1,
        created_at: t,
        updated_at: t,
    };
    let user = in_tx(&state.pool, caller.session(), move |c| {
        if centers::get(c, &user.center_id).is_err() {
            return Err(ApiError::field(
                "center_id",
                "unknown",
                "no such service center",
            ));
        }
        users::insert(c, &user)?;
        Ok(user)
    })
    .await?;
    Ok(created_etag(user.version, &user))
}

/// Update a user (admin); needs If-Match. Deactivating, or changing role or center, ends
/// the user's sessions.
#[utoipa::path(operation_id = "update_user", tag = "users", request_body = UserUpdate, responses((status = 200, body = User), (status = 412), (status = 428)), security(("bearer" = [])))]
#[patch("/users/{id}")]
pub async fn update(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    id: web::Path<String>,
    body: Json<UserUpdate>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Users, Op::Write)?;
    let b = body.parse()?;
    let mut check = Check::new();
    let display_name = b
        .display_name
        .as_deref()
        .map(|v| check.text("display_name", v, 50));
    let phone = b
        .phone
        .map(|p| contact_fields(&mut check, p.as_deref(), None).0);
    let email = b
        .email
        .map(|e| contact_fields(&mut check, None, e.as_deref()).1);
    check.finish()?;
    let version = if_match(&req);
    let new_role = b.role;
    let patch = UserPatch {
        display_name,
        role: b.role.map(|r| r.as_str().to_string()),
        center_id: b.center_id,
        phone,
        email,
        active: b.active,
    };
    let id = id.into_inner();
    let user = in_tx(&state.pool, caller.session(), move |c| {
        let current = users::get(c, &id)?;
        let version = version?;
        if let Some(center) = &patch.center_id
            && centers::get(c, center).is_err()
        {
            return Err(ApiError::field(
                "center_id",
                "unknown",
                "no such service center",
            ));
        }
        let moves = patch
            .center_id
            .as_ref()
            .is_some_and(|c| *c != current.center_id);
        let was_technician = stored("user role", &current.role, Role::parse)? == Role::Technician;
        let stops_being_technician = was_technician
            && (patch.active == Some(false) || new_role.is_some_and(|r| r != Role::Technician));
        if (moves || stops_being_technician) && equipment::held_by(c, &id)? > 0 {
            return Err(ApiError::conflict(
                "technician_holds_terminals",
                "terminals are still in this technician's van: return them to the warehouse first",
            ));
        }
        users::update(c, &id, version, &patch)?;
        if moves {
            technicians::move_center(c, &id, patch.center_id.as_deref().unwrap_or_default())?;
        }
        if stops_being_technician {
            technicians::set_active(c, &id, false)?;
        }
        Ok(users::get(c, &id)?)
    })
    .await?;
    Ok(ok_etag(user.version, &user))
}

/// Set a new password for a user (admin). Their tokens stop working.
#[utoipa::path(tag = "users", request_body = ResetPassword, responses((status = 204), (status = 404)), security(("bearer" = [])))]
#[post("/users/{id}/password")]
pub async fn reset_password(
    state: web::Data<AppState>,
    caller: Caller,
    id: web::Path<String>,
    body: Json<ResetPassword>,
) -> Result<HttpResponse, ApiError> {
    caller.require(Resource::Users, Op::Write)?;
    let b = body.parse()?;
    let mut check = Check::new();
    check_new_password(&mut check, "new_password", &b.new_password);
    check.finish()?;
    let hash = web::block(move || hash_password(&b.new_password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    let id = id.into_inner();
    in_tx(&state.pool, caller.session(), move |c| {
        users::get(c, &id)?;
        Ok(users::set_password(c, &id, &hash)?)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
