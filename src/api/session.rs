//! Who is calling: tokens, the session re-checked on every request, and the `Caller`
//! extractor that every protected handler takes (the acting `app::Principal` plus the
//! session of its token).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::{FromRequest, HttpRequest, dev::Payload, web};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Validation};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use crate::app::Principal;
use crate::domain::access::Role;
use crate::store::users;

pub struct JwtKeys {
    pub(super) encoding: EncodingKey,
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
pub(super) struct Claims {
    pub(super) sub: String,
    pub(super) role: String,
    pub(super) center: String,
    /// token version: tokens from before a deactivation or password change stop working
    pub(super) tv: i32,
    pub(super) iat: i64,
    pub(super) exp: i64,
}

/// The authenticated user behind a request, from a valid token. Role and center come
/// from the token: changing either bumps the user's token version, so they are current
/// whenever the `Session` check passes.
#[derive(Debug, Clone)]
pub struct Caller {
    principal: Principal,
    token_version: i32,
}

impl std::ops::Deref for Caller {
    type Target = Principal;

    fn deref(&self) -> &Principal {
        &self.principal
    }
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
            user_id: self.principal.id.clone(),
            token_version: self.token_version,
        }
    }

    pub fn principal(&self) -> &Principal {
        &self.principal
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
    let needs = super::headers::needs(req.method().as_str(), &pattern)?;
    let headers = req.headers();
    if needs.if_match && !headers.contains_key(actix_web::http::header::IF_MATCH) {
        return Some(ApiError::PreconditionRequired);
    }
    if needs.key == super::headers::Key::Required && !headers.contains_key("Idempotency-Key") {
        return Some(ApiError::KeyRequired);
    }
    None
}

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Caller, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let keys = req.app_data::<web::Data<JwtKeys>>().cloned();
        let token = req
            .headers()
            .get(actix_web::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(|t| t.trim().to_string());
        let missing = missing_header(req);
        Box::pin(async move {
            let keys = keys.ok_or_else(|| ApiError::Internal("no token keys".into()))?;
            let token = token.ok_or_else(|| unauthenticated("missing bearer token"))?;
            let claims = keys.claims(&token)?;
            let role = Role::parse(&claims.role).ok_or_else(|| unauthenticated("invalid token"))?;
            if let Some(e) = missing {
                return Err(e);
            }
            Ok(Caller {
                principal: Principal::new(claims.sub.clone(), role, claims.center.clone()),
                token_version: claims.tv,
            })
        })
    }
}
