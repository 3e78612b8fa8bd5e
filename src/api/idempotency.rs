//! `Idempotency-Key`: a client that lost the answer to a write (a phone in an underground
//! garage) sends the same request again with the same key and gets the first answer, and
//! the write happens once. The same key with a different request answers 422.
//!
//! Every idempotent write goes through one mechanism, [`Idempotency::write`]: first thing in
//! the write's transaction it claims the key (a row on the table's primary key), then writes,
//! then stores its answer in the claimed row, all in the same transaction. So a write that
//! rolled back leaves no claim and no answer behind, and a same-key request sent while the
//! first is still running waits on the claim (PostgreSQL; SQLite's writers are serialized
//! anyway) and then replays the first answer instead of acting again or being refused.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::error::ApiError;
use crate::store::DbConn;
use crate::store::idempotency as store;

/// A request's key (if it sent one) and what makes two requests "the same".
pub struct Idempotency {
    key: Option<String>,
    hash: String,
}

/// A stored first answer.
pub struct Replay {
    status: i32,
    body: String,
}

impl Idempotency {
    /// The key of `req`, and the fingerprint of method, path and `body`. Not the If-Match:
    /// a client that lost the answer may re-read the object and retry with the newer ETag,
    /// and must still get the first answer.
    pub fn of(req: &HttpRequest, body: &impl Serialize) -> Result<Self, ApiError> {
        let key = match req.headers().get("Idempotency-Key") {
            None => None,
            Some(v) => {
                let key = v.to_str().unwrap_or("").trim();
                if key.is_empty() || key.len() > 200 || key.chars().any(|c| c.is_control()) {
                    return Err(ApiError::BadRequest {
                        code: "invalid_idempotency_key",
                        detail: "Idempotency-Key must be 1–200 printable characters".into(),
                    });
                }
                Some(key.to_string())
            }
        };
        let mut h = Sha256::new();
        h.update(req.method().as_str());
        h.update(b" ");
        h.update(req.path());
        h.update(b"\n");
        h.update(serde_json::to_vec(body).unwrap_or_default());
        Ok(Idempotency {
            key,
            hash: hex::encode(h.finalize()),
        })
    }

    /// Like `of`, for writes that must carry a key (payments; `openapi::HEADERS`, which
    /// the `Caller` extractor enforces first): 428 without one.
    pub fn required(req: &HttpRequest, body: &impl Serialize) -> Result<Self, ApiError> {
        let me = Self::of(req, body)?;
        if me.key.is_none() {
            return Err(ApiError::KeyRequired);
        }
        Ok(me)
    }

    /// Runs the write `f` once per key: claims the key in the caller's transaction before
    /// anything else, runs `f`, and keeps its answer (sent with `status`) for retries. A
    /// retry, even one sent while the first is still running, gets `Err(replay)` with the
    /// first answer; a key used for a different request answers 422. Without a key, just
    /// `f`.
    pub fn write<T: Serialize>(
        &self,
        c: &mut DbConn,
        user_id: &str,
        status: StatusCode,
        f: impl FnOnce(&mut DbConn) -> Result<T, ApiError>,
    ) -> Result<Result<T, Replay>, ApiError> {
        if let Some(replay) = self.claim(c, user_id)? {
            return Ok(Err(replay));
        }
        let answer = f(c)?;
        if let Some(k) = &self.key {
            let text =
                serde_json::to_string(&answer).map_err(|e| ApiError::Internal(e.to_string()))?;
            store::remember_response(c, user_id, k, i32::from(status.as_u16()), &text)?;
        }
        Ok(Ok(answer))
    }

    /// Claims the key (None: go ahead and write), or the first answer to it.
    fn claim(&self, c: &mut DbConn, user_id: &str) -> Result<Option<Replay>, ApiError> {
        let Some(k) = &self.key else { return Ok(None) };
        if store::claim_key(c, user_id, k, &self.hash)? {
            return Ok(None);
        }
        match store::idempotent_response(c, user_id, k)? {
            // the claim's transaction rolled back between our insert and this read: the
            // client retries and finds the key free
            None => Err(in_use()),
            Some((hash, _, _)) if hash != self.hash => Err(ApiError::Unprocessable {
                code: "idempotency_key_reused",
                detail: "this Idempotency-Key was used for a different request".into(),
            }),
            // claimed but not answered: only a write still running in this very transaction
            Some((_, 0, _)) => Err(in_use()),
            Some((_, status, body)) => Ok(Some(Replay { status, body })),
        }
    }
}

fn in_use() -> ApiError {
    ApiError::conflict(
        "idempotency_key_in_use",
        "a request with this Idempotency-Key is being processed; retry",
    )
}

impl Replay {
    /// The stored answer again, marked `Idempotent-Replayed: true`, with the ETag of the
    /// object's version when the body has one.
    pub fn response(self) -> HttpResponse {
        let version = serde_json::from_str::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|v| v.get("version").and_then(serde_json::Value::as_i64));
        let mut res = HttpResponse::build(
            StatusCode::from_u16(u16::try_from(self.status).unwrap_or(200))
                .unwrap_or(StatusCode::OK),
        )
        .content_type("application/json")
        .body(self.body);
        if let Some(version) = version
            && let Ok(v) = HeaderValue::from_str(&format!("\"{version}\""))
        {
            res.headers_mut().insert(header::ETAG, v);
        }
        res.headers_mut().insert(
            header::HeaderName::from_static("idempotent-replayed"),
            HeaderValue::from_static("true"),
        );
        res
    }
}

/// The fresh answer of a write, or the replayed first answer to its Idempotency-Key: what
/// every retried write's handler returns.
pub fn answer<T>(
    outcome: Result<T, Replay>,
    fresh: impl FnOnce(T) -> HttpResponse,
) -> HttpResponse {
    match outcome {
        Ok(v) => fresh(v),
        Err(replay) => replay.response(),
    }
}
