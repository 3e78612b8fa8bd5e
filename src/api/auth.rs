//! Login, tokens, and the `Caller` extractor that every protected handler takes.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload, get, post, web};
use chrono::Duration;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::AppState;
use super::error::ApiError;
use super::json::Json;
use super::support::{Check, in_tx, with_db, with_db_anon};
use crate::domain::access::{Op, Resource, Role, Scope, allowed};
use crate::store::{self, users};

/// Failed logins in a row before the account is locked, and for how long.
pub const MAX_FAILURES: i32 = 5;
pub const LOCK_MINUTES: i64 = 15;

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// Tokens whose signature was already checked, with their claims: a token is immutable,
    /// so checking it once is enough; expiry is still checked on every use. Decoding
    /// (base64, HMAC, two JSON parses) was a tenth of a cached read's time.
    verified: Mutex<HashMap<String, Arc<Claims>>>,
}

/// Verified tokens kept at most; the map starts over when full.
const VERIFIED_TOKENS_MAX: usize = 10_000;
/// Seconds of clock skew allowed on `exp`, as in the first check.
const EXP_LEEWAY: i64 = 5;

impl JwtKeys {
    pub fn new(secret: &[u8]) -> Self {
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            verified: Mutex::new(HashMap::new()),
        }
    }

    /// The claims of a valid, unexpired token.
    fn claims(&self, token: &str) -> Result<Arc<Claims>, ApiError> {
        let cached = self
            .verified
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(token)
            .cloned();
        let claims = match cached {
            Some(c) => c,
            None => {
                let mut validation = Validation::new(Algorithm::HS256);
                validation.leeway = EXP_LEEWAY as u64;
                let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &validation)
                    .map_err(|e| match e.kind() {
                        jsonwebtoken::errors::ErrorKind::ExpiredSignature => expired(),
                        _ => unauthenticated("invalid token"),
                    })?
                    .claims;
                let claims = Arc::new(claims);
                let mut map = self.verified.lock().unwrap_or_else(|p| p.into_inner());
                if map.len() >= VERIFIED_TOKENS_MAX {
                    map.clear();
                }
                map.insert(token.to_string(), claims.clone());
                claims
            }
        };
        if claims.exp + EXP_LEEWAY < chrono::Utc::now().timestamp() {
            return Err(expired());
        }
        Ok(claims)
    }
}

fn expired() -> ApiError {
    ApiError::Unauthenticated {
        code: "token_expired",
        detail: "the token has expired; log in again".into(),
    }
}

/// Users whose session check passed, on SQLite, where this process makes every change to
/// users: the check is skipped while nothing that changes sign-in state has been written
/// since. A change bumps the epoch after its transaction ends, so an entry read from a
/// snapshot older than the change is never trusted again (readers note the epoch before
/// their snapshot starts). PostgreSQL, with other instances writing, checks every time.
#[derive(Default)]
pub struct SessionCache {
    epoch: AtomicU64,
    /// user id → (token version, epoch it was checked in)
    valid: Mutex<HashMap<String, (i32, u64)>>,
}

impl SessionCache {
    /// Call before the snapshot that checks the session starts.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    pub fn knows(&self, session: &Session) -> bool {
        let epoch = self.epoch();
        self.valid
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&session.user_id)
            .is_some_and(|&(tv, e)| tv == session.token_version && e == epoch)
    }

    pub fn remember(&self, session: &Session, epoch: u64) {
        let mut map = self.valid.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= VERIFIED_TOKENS_MAX {
            map.clear();
        }
        map.insert(session.user_id.clone(), (session.token_version, epoch));
    }

    /// After a transaction that changed a user's sign-in state has ended.
    pub fn invalidate(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.valid.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Claims {
    sub: String,
    role: String,
    center: String,
    /// token version: tokens from before a deactivation or password change stop working
    tv: i32,
    iat: i64,
    exp: i64,
}

pub fn hash_password(password: &str) -> Result<String, ApiError> {
    crate::password::hash(password).map_err(ApiError::Internal)
}

fn verify_password(password: &str, hash: &str) -> bool {
    crate::password::verify(password, hash)
}

/// Verifies against a fixed hash so an unknown username costs as long as a known one.
fn burn_time(password: &str) {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let hash = DUMMY.get_or_init(|| hash_password("not-a-password").unwrap_or_default());
    let _ = verify_password(password, hash);
}

pub fn check_new_password(check: &mut Check, field: &str, pw: &str) {
    let n = pw.chars().count();
    if n < 8 {
        check.add(field, "too_short", "at least 8 characters");
    } else if n > 128 {
        check.add(field, "too_long", "at most 128 characters");
    }
}

/// The authenticated user behind a request, from a valid token. Role and center come
/// from the token: changing either bumps the user's token version, so they are current
/// whenever the `Session` check passes.
#[derive(Debug, Clone)]
pub struct Caller {
    pub id: String,
    pub role: Role,
    pub center_id: String,
    pub scope: Scope,
    token_version: i32,
}

/// What is re-checked against the database on every request, on the connection that does
/// the request's work: a deactivation or password change takes effect at once.
#[derive(Debug, Clone)]
pub struct Session {
    user_id: String,
    token_version: i32,
}

impl Session {
    pub fn verify(&self, conn: &mut crate::store::DbConn) -> Result<(), ApiError> {
        match users::principal(conn, &self.user_id)? {
            Some(p) if p.active && p.token_version == self.token_version => Ok(()),
            _ => Err(unauthenticated("the token is no longer valid")),
        }
    }
}

impl Caller {
    pub fn session(&self) -> Session {
        Session {
            user_id: self.id.clone(),
            token_version: self.token_version,
        }
    }

    /// 403 unless the role may do `op` on `resource`.
    pub fn require(&self, resource: Resource, op: Op) -> Result<(), ApiError> {
        if allowed(self.role, resource, op) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// The center filter of a list, given the `center_id` asked for: `None` when the
    /// caller can see nothing of it (another center), `Some(None)` for all centers.
    pub fn list_center(&self, requested: Option<&str>) -> Option<Option<String>> {
        use crate::domain::access::CenterFilter;
        match self.scope.center_filter(requested) {
            CenterFilter::Nothing => None,
            CenterFilter::All => Some(None),
            CenterFilter::Only(c) => Some(Some(c.to_string())),
        }
    }

    /// 403 unless the caller approves things of `center_id` (`access::may_approve`).
    pub fn approves(&self, center_id: &str) -> Result<(), ApiError> {
        if crate::domain::access::may_approve(self.role, true, &self.center_id, center_id) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// 404 unless the object's center is in the caller's scope.
    pub fn see(&self, center_id: &str) -> Result<(), ApiError> {
        if self.scope.covers(center_id) {
            Ok(())
        } else {
            Err(ApiError::NotFound)
        }
    }
}

fn unauthenticated(detail: &str) -> ApiError {
    ApiError::Unauthenticated {
        code: "unauthenticated",
        detail: detail.to_string(),
    }
}

/// 428 when the operation needs a header (`openapi::HEADERS`) the request lacks.
fn missing_header(req: &HttpRequest) -> Option<ApiError> {
    let pattern = req.match_pattern()?;
    let needs = super::openapi::needs(req.method().as_str(), &pattern)?;
    let headers = req.headers();
    if needs.if_match && !headers.contains_key(actix_web::http::header::IF_MATCH) {
        return Some(ApiError::PreconditionRequired);
    }
    if needs.key == super::openapi::Key::Required && !headers.contains_key("Idempotency-Key") {
        return Some(ApiError::KeyRequired);
    }
    None
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_string());
        let missing = missing_header(req);
        Box::pin(async move {
            let state = state.ok_or_else(|| ApiError::Internal("no app state".into()))?;
            let token = token.ok_or_else(|| unauthenticated("missing bearer token"))?;
            let claims = state.jwt.claims(&token)?;
            let role = Role::parse(&claims.role).ok_or_else(|| unauthenticated("invalid token"))?;
            if let Some(e) = missing {
                return Err(e);
            }
            Ok(Caller {
                scope: Scope::for_user(role, &claims.center),
                id: claims.sub.clone(),
                role,
                center_id: claims.center.clone(),
                token_version: claims.tv,
            })
        })
    }
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
