//! Login, the signed-in user, and changing one's password. Tokens and the `Caller`
//! extractor are `session`'s.

use actix_web::{HttpResponse, get, post, web};
use chrono::Duration;
use jsonwebtoken::{Algorithm, Header};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::json::Json;
use super::session::{Caller, Claims};
use super::state::AppState;
use super::support::{Check, in_tx, with_db, with_db_anon};
use crate::app::accounts::{check_new_password, hash_password};
use crate::store::{self, users};

/// Failed logins in a row before the account is locked, and for how long.
pub const MAX_FAILURES: i32 = 5;
pub const LOCK_MINUTES: i64 = 15;

fn verify_password(password: &str, hash: &str) -> bool {
    crate::password::verify(password, hash)
}

/// Verifies against a fixed hash so an unknown username costs as long as a known one.
fn burn_time(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = DUMMY.get_or_init(|| hash_password("not-a-password").unwrap_or_default());
    let _ = verify_password(password, hash);
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub access_token: String,
    /// always `Bearer`
    pub token_type: &'static str,
    /// seconds until the token expires
    pub expires_in: i64,
}

fn bad_credentials() -> ApiError {
    ApiError::Unauthenticated {
        code: "invalid_credentials",
        detail: "wrong username or password, or too many failed attempts: try again later".into(),
    }
}

/// Log in with username and password; returns a bearer token (JWT, HS256).
///
/// Wrong credentials, an unknown user, a deactivated user and a locked account all answer
/// the same 401. Five failures in a row lock the account for 15 minutes.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, body = TokenResponse),
        (status = 401, body = super::error::Problem, content_type = "application/problem+json"),
    ),
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    body: Json<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let LoginRequest { username, password } = body.parse()?;
    let ttl = state.token_ttl;
    let st = state.clone();
    // 1. find the user and count the attempt (short: no hashing while holding a connection)
    let name = username.trim().to_string();
    let attempt = with_db_anon(&state.pool, move |c| {
        let plausible = !name.is_empty() && !name.chars().any(char::is_control);
        let Some(user) = (if plausible {
            users::find_by_username(c, &name)?
        } else {
            None
        }) else {
            return Ok(None);
        };
        let count = users::reserve_login_attempt(c, &user.id, store::now())?;
        Ok(Some((user, count)))
    })
    .await?;
    // 2. check the password off the database (a locked or unknown account costs the same)
    let verdict = web::block(move || match attempt {
        Some((user, Some(count))) if count <= MAX_FAILURES => {
            let ok = verify_password(&password, &user.password_hash);
            (Some((user, count)), ok)
        }
        other => {
            burn_time(&password);
            (other.map(|(u, c)| (u, c.unwrap_or(0))), false)
        }
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    // 3. record the outcome
    let user = with_db_anon(&state.pool, move |c| match verdict {
        (Some((user, _)), true) => {
            users::record_login_success(c, &user.id)?;
            Ok(user.active.then_some(user))
        }
        (Some((user, count)), false) => {
            if (MAX_FAILURES..=MAX_FAILURES + 1).contains(&count) {
                users::lock_login(c, &user.id, store::now() + Duration::minutes(LOCK_MINUTES))?;
            }
            Ok(None)
        }
        (None, _) => Ok(None),
    })
    .await?
    .ok_or_else(bad_credentials)?;
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: user.id,
        role: user.role,
        center: user.center_id,
        tv: user.token_version,
        iat: now,
        exp: now + ttl,
    };
    let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &st.jwt.encoding)
        .map_err(|e| ApiError::Internal(format!("token encoding failed: {e}")))?;
    Ok(HttpResponse::Ok().json(TokenResponse {
        access_token: token,
        token_type: "Bearer",
        expires_in: ttl,
    }))
}

/// The logged-in user.
#[utoipa::path(tag = "auth", responses((status = 200, body = users::User)), security(("bearer" = [])))]
#[get("/auth/me")]
pub async fn me(state: web::Data<AppState>, caller: Caller) -> Result<HttpResponse, ApiError> {
    let user = with_db(&state.pool, caller.session(), move |c| {
        Ok(users::get(c, &caller.id)?)
    })
    .await?;
    Ok(super::support::ok_etag(user.version, &user))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePassword {
    pub current_password: String,
    pub new_password: String,
}

/// Change one's own password. All tokens issued before stop working.
#[utoipa::path(tag = "auth", request_body = ChangePassword, responses((status = 204)), security(("bearer" = [])))]
#[post("/auth/password")]
pub async fn change_password(
    state: web::Data<AppState>,
    caller: Caller,
    body: Json<ChangePassword>,
) -> Result<HttpResponse, ApiError> {
    let body = body.parse()?;
    let mut check = Check::new();
    check_new_password(&mut check, "new_password", &body.new_password);
    check.finish()?;
    // the guess is counted before the hash is checked, with login's counter: a stolen
    // token cannot be used to guess the password online (five wrong ones lock the account)
    let id = caller.id.clone();
    let (current, attempt) = in_tx(&state.pool, caller.session(), move |c| {
        let current = users::get(c, &id)?.password_hash;
        Ok((current, users::reserve_login_attempt(c, &id, store::now())?))
    })
    .await?;
    let Some(count) = attempt.filter(|n| *n <= MAX_FAILURES) else {
        return Err(ApiError::field(
            "current_password",
            "too_many_attempts",
            format!("too many wrong passwords: try again in {LOCK_MINUTES} minutes"),
        ));
    };
    // hashing happens off the database: no connection or write lock is held meanwhile
    let hash = web::block(move || {
        if !verify_password(&body.current_password, &current) {
            return Ok(None);
        }
        hash_password(&body.new_password).map(Some)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    // the session check inside the transaction refuses a token revoked meanwhile
    let changed = hash.is_some();
    in_tx(&state.pool, caller.session(), move |c| {
        match &hash {
            Some(hash) => {
                users::set_password(c, &caller.id, hash)?;
                users::record_login_success(c, &caller.id)?;
            }
            None if count >= MAX_FAILURES => {
                users::lock_login(
                    c,
                    &caller.id,
                    store::now() + Duration::minutes(LOCK_MINUTES),
                )?;
            }
            None => {}
        }
        Ok(())
    })
    .await?;
    if !changed {
        return Err(ApiError::field(
            "current_password",
            "wrong_password",
            "the current password is wrong",
        ));
    }
    Ok(HttpResponse::NoContent().finish())
}
