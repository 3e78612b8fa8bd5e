//! The API's one error type and the single place that maps errors to HTTP.
//!
//! Every error leaves as RFC 9457 `application/problem+json` with a stable machine `code`.
//! Client mistakes are 4xx with a precise code; only our own faults are 500, logged with
//! their cause and answered without it.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use chrono::NaiveDateTime;

use crate::app;
use crate::domain::feedback::TicketRefusal;
use crate::domain::ids::IdError;
use crate::domain::ledger::{AdjustmentRefusal, LedgerRefusal};
use crate::domain::order::Refusal;
use crate::domain::registry::BindRefusal;
use crate::domain::reported_time::TimeRefusal;
use crate::domain::search::QueryRefusal;
use crate::store::StoreError;

/// `Retry-After` of a 503 `unavailable` answer, in seconds.
pub const RETRY_AFTER_SECS: &str = "5";

pub use crate::app::FieldError;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// extra members: the current state or version for conflicts
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub extra: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{detail}")]
    BadRequest { code: &'static str, detail: String },
    #[error("{detail}")]
    Unauthenticated { code: &'static str, detail: String },
    #[error("this role may not do that")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("{detail}")]
    Conflict {
        code: String,
        detail: String,
        extra: Option<serde_json::Map<String, serde_json::Value>>,
    },
    #[error("the object changed since it was read (current version {current})")]
    PreconditionFailed { current: i32 },
    #[error("updates need an If-Match header with the object's ETag")]
    PreconditionRequired,
    #[error(
        "this request needs an Idempotency-Key header (a fresh UUID per payment, the same one when retrying)"
    )]
    KeyRequired,
    /// the path exists, the method does not: 405 with `Allow`
    #[error("this path does not take {method}; it takes {}", allow.join(", "))]
    MethodNotAllowed {
        method: String,
        allow: Vec<&'static str>,
    },
    #[error("request body too large (limit {limit} bytes)")]
    PayloadTooLarge { limit: usize },
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("some fields are invalid")]
    Validation(Vec<FieldError>),
    #[error("{detail}")]
    Unprocessable { code: &'static str, detail: String },
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// printing is not possible (no CJK font installed); the detail says what to install
    #[error("{0}")]
    DocumentsUnavailable(String),
    /// a photo refused by its content (`media::photo`): 413 when too large, else 422
    #[error("{0}")]
    Photo(crate::media::photo::Refusal),
    /// the object store (photos) cannot be reached
    #[error("object store unavailable: {0}")]
    ObjectsUnavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn conflict(code: &str, detail: impl Into<String>) -> Self {
        ApiError::Conflict {
            code: code.to_string(),
            detail: detail.into(),
            extra: None,
        }
    }

    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        ApiError::Validation(vec![FieldError {
            field: field.to_string(),
            code: code.to_string(),
            message: message.into(),
        }])
    }

    pub fn bad_id(field: &str, e: &IdError) -> FieldError {
        FieldError::bad_id(field, e)
    }

    fn code(&self) -> String {
        match self {
            ApiError::BadRequest { code, .. } => (*code).into(),
            ApiError::Unauthenticated { code, .. } => (*code).into(),
            ApiError::Forbidden => "forbidden".into(),
            ApiError::NotFound => "not_found".into(),
            ApiError::Conflict { code, .. } => code.clone(),
            ApiError::PreconditionFailed { .. } => "version_mismatch".into(),
            ApiError::PreconditionRequired => "if_match_required".into(),
            ApiError::KeyRequired => "idempotency_key_required".into(),
            ApiError::MethodNotAllowed { .. } => "method_not_allowed".into(),
            ApiError::PayloadTooLarge { .. } => "body_too_large".into(),
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type".into(),
            ApiError::Validation(_) => "validation_failed".into(),
            ApiError::Unprocessable { code, .. } => (*code).into(),
            ApiError::Unavailable(_) => "unavailable".into(),
            ApiError::DocumentsUnavailable(_) => "documents_unavailable".into(),
            ApiError::Photo(r) => r.code().into(),
            ApiError::ObjectsUnavailable(_) => "objects_unavailable".into(),
            ApiError::Internal(_) => "internal".into(),
        }
    }

    fn title(&self) -> &'static str {
        match self.status_code() {
            StatusCode::BAD_REQUEST => "Bad Request",
            StatusCode::UNAUTHORIZED => "Unauthorized",
            StatusCode::FORBIDDEN => "Forbidden",
            StatusCode::NOT_FOUND => "Not Found",
            StatusCode::METHOD_NOT_ALLOWED => "Method Not Allowed",
            StatusCode::CONFLICT => "Conflict",
            StatusCode::PRECONDITION_FAILED => "Precondition Failed",
            StatusCode::PRECONDITION_REQUIRED => "Precondition Required",
            StatusCode::PAYLOAD_TOO_LARGE => "Content Too Large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "Unsupported Media Type",
            StatusCode::UNPROCESSABLE_ENTITY => "Unprocessable Content",
            StatusCode::SERVICE_UNAVAILABLE => "Service Unavailable",
            _ => "Internal Server Error",
        }
    }

    pub fn problem(&self) -> Problem {
        let code = self.code();
        let (errors, extra) = match self {
            ApiError::Validation(errors) => (errors.clone(), None),
            ApiError::Conflict { extra, .. } => (Vec::new(), extra.clone()),
            ApiError::PreconditionFailed { current } => {
                let mut m = serde_json::Map::new();
                m.insert("current_version".into(), (*current).into());
                (Vec::new(), Some(m))
            }
            ApiError::Photo(r) => {
                let mut m = serde_json::Map::new();
                m.insert("message_zh".into(), r.message_zh().into());
                (Vec::new(), Some(m))
            }
            _ => (Vec::new(), None),
        };
        let detail = match self {
            // never leak internals to the client; they are in the log
            ApiError::Internal(_) => Some("an internal error occurred".to_string()),
            ApiError::Unavailable(_) => Some("the database is unavailable".to_string()),
            ApiError::DocumentsUnavailable(d) => Some(d.clone()),
            ApiError::ObjectsUnavailable(_) => {
                Some("the photo store is unavailable; try again later".to_string())
            }
            other => Some(other.to_string()),
        };
        Problem {
            type_: format!("urn:dispatch:problem:{code}"),
            title: self.title().to_string(),
            status: self.status_code().as_u16(),
            code,
            detail,
            errors,
            extra,
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest { .. } => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            ApiError::PreconditionRequired | ApiError::KeyRequired => {
                StatusCode::PRECONDITION_REQUIRED
            }
            ApiError::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::PayloadTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation(_) | ApiError::Unprocessable { .. } => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ApiError::Photo(crate::media::photo::Refusal::TooLarge { .. }) => {
                StatusCode::PAYLOAD_TOO_LARGE
            }
            ApiError::Photo(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Unavailable(_)
            | ApiError::DocumentsUnavailable(_)
            | ApiError::ObjectsUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(cause) => tracing::error!(%cause, "internal error"),
            ApiError::Unavailable(cause) => tracing::warn!(%cause, "database unavailable"),
            ApiError::ObjectsUnavailable(cause) => {
                tracing::warn!(%cause, "object store unavailable")
            }
            _ => {}
        }
        let mut res = HttpResponse::build(self.status_code());
        res.insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        ));
        if let ApiError::Unauthenticated { .. } = self {
            res.insert_header((header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")));
        }
        if let ApiError::Unavailable(_) | ApiError::ObjectsUnavailable(_) = self {
            // the database is expected back soon; a client may try again after this long
            res.insert_header((
                header::RETRY_AFTER,
                HeaderValue::from_static(RETRY_AFTER_SECS),
            ));
        }
        if let ApiError::MethodNotAllowed { allow, .. } = self
            && let Ok(v) = HeaderValue::from_str(&allow.join(", "))
        {
            res.insert_header((header::ALLOW, v));
        }
        res.body(serde_json::to_vec(&self.problem()).unwrap_or_default())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Stale { current } => ApiError::PreconditionFailed { current },
            StoreError::Duplicate { field } => {
                let mut extra = serde_json::Map::new();
                extra.insert("field".into(), field.clone().into());
                ApiError::Conflict {
                    code: "duplicate".into(),
                    detail: format!("another object already has this {field}"),
                    extra: Some(extra),
                }
            }
            StoreError::Conflict { code, detail } => ApiError::conflict(code, detail),
            StoreError::InvalidText => ApiError::BadRequest {
                code: "invalid_characters",
                detail: "text must not contain NUL characters".into(),
            },
            StoreError::MissingReference => ApiError::Unprocessable {
                code: "unknown_reference",
                detail: "a referenced object does not exist".into(),
            },
            StoreError::Db(e) if crate::store::db::is_unavailable(&e) => {
                ApiError::Unavailable(e.to_string())
            }
            StoreError::Db(e) => ApiError::Internal(e.to_string()),
            corrupt @ StoreError::Corrupt { .. } => ApiError::Internal(corrupt.to_string()),
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        StoreError::from(e).into()
    }
}

impl From<crate::media::photo::Refusal> for ApiError {
    fn from(r: crate::media::photo::Refusal) -> Self {
        ApiError::Photo(r)
    }
}

impl From<crate::media::objects::ObjectError> for ApiError {
    fn from(e: crate::media::objects::ObjectError) -> Self {
        match e {
            crate::media::objects::ObjectError::NotFound => {
                ApiError::Internal("a recorded photo is missing from the object store".into())
            }
            crate::media::objects::ObjectError::Unavailable(cause) => {
                ApiError::ObjectsUnavailable(cause)
            }
        }
    }
}

impl From<BindRefusal> for ApiError {
    fn from(r: BindRefusal) -> Self {
        ApiError::conflict(r.code(), r.to_string())
    }
}

/// The use cases' errors: the one place they become HTTP.
impl From<app::Error> for ApiError {
    fn from(e: app::Error) -> Self {
        use app::Error as E;
        match e {
            E::NotFound => ApiError::NotFound,
            E::Forbidden => ApiError::Forbidden,
            E::Conflict {
                code,
                detail,
                extra,
            } => ApiError::Conflict {
                code,
                detail,
                extra,
            },
            E::PreconditionFailed { current } => ApiError::PreconditionFailed { current },
            E::Validation(errors) => ApiError::Validation(errors),
            E::Unprocessable { code, detail } => ApiError::Unprocessable { code, detail },
            E::Order(r) => order_refused(r),
            E::Ticket(r) => ticket_refused(r),
            E::Ledger(r) => ledger_refused(r),
            E::Adjustment(r) => adjustment_refused(r),
            E::Bind(r) => r.into(),
            E::ReportedTime { refusal, previous } => time_refused(refusal, previous),
            E::DocumentsUnavailable(d) => ApiError::DocumentsUnavailable(d),
            E::Store(e) => e.into(),
            E::Internal(cause) => ApiError::Internal(cause),
        }
    }
}

/// The order state machine's refusal: 403 for the role, 409 with the current status.
fn order_refused(r: Refusal) -> ApiError {
    match r {
        Refusal::NotPermitted { .. } => ApiError::Forbidden,
        Refusal::WrongState { current, action } => {
            let mut extra = serde_json::Map::new();
            extra.insert("current_status".into(), current.as_str().into());
            ApiError::Conflict {
                code: r.code().to_string(),
                detail: format!(
                    "cannot {} an order that is {}",
                    action.endpoint(),
                    current.as_str()
                ),
                extra: Some(extra),
            }
        }
    }
}

fn ticket_refused(r: TicketRefusal) -> ApiError {
    let mut extra = serde_json::Map::new();
    if let TicketRefusal::WrongState { current } = &r {
        extra.insert("current_status".into(), current.as_str().into());
    }
    ApiError::Conflict {
        code: r.code().to_string(),
        detail: match r {
            TicketRefusal::WrongState { current } => {
                format!("not possible on a {} ticket", current.as_str())
            }
            TicketRefusal::CustomerNotTold => {
                "record how the customer was told the result first".into()
            }
        },
        extra: Some(extra),
    }
}

/// A ledger refusal: an invalid amount is the field's error (422), the rest 409.
fn ledger_refused(r: LedgerRefusal) -> ApiError {
    if r.is_invalid_input() {
        return ApiError::field("amount_fen", r.code(), r.to_string());
    }
    let mut extra = serde_json::Map::new();
    if let LedgerRefusal::Overpayment { due } = r {
        extra.insert("due_fen".into(), due.as_i64().into());
    }
    ApiError::Conflict {
        code: r.code().to_string(),
        detail: r.to_string(),
        extra: (!extra.is_empty()).then_some(extra),
    }
}

fn adjustment_refused(r: AdjustmentRefusal) -> ApiError {
    match r {
        AdjustmentRefusal::NotPositive | AdjustmentRefusal::MoreThanDue { .. } => {
            ApiError::field("amount_fen", r.code(), r.to_string())
        }
        _ => ApiError::conflict(r.code(), r.to_string()),
    }
}

/// An offline action's `at` out of bounds (`domain::reported_time`): 422 with its code.
fn time_refused(r: TimeRefusal, previous: Option<NaiveDateTime>) -> ApiError {
    ApiError::Unprocessable {
        code: r.code(),
        detail: match r {
            TimeRefusal::TooOld => "at: more than 72 hours ago".to_string(),
            TimeRefusal::InFuture => "at: in the future".to_string(),
            TimeRefusal::BeforePreviousStep => format!(
                "at: before the order's previous step ({})",
                previous.map(|p| p.to_string()).unwrap_or_default()
            ),
        },
    }
}

/// A search text (or another search parameter) that cannot be searched for: 400.
impl From<QueryRefusal> for ApiError {
    fn from(r: QueryRefusal) -> Self {
        ApiError::BadRequest {
            code: r.code(),
            detail: r.to_string(),
        }
    }
}
