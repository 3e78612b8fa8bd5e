//! The use cases' one error type. It says what went wrong in the workflow's terms (not
//! found, not allowed, in the wrong state, invalid fields, a domain rule's refusal); the
//! API maps each to HTTP in `api/error.rs`, and nowhere else.

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::domain::feedback::TicketRefusal;
use crate::domain::ids::IdError;
use crate::domain::ledger::{AdjustmentRefusal, LedgerRefusal};
use crate::domain::order::Refusal;
use crate::domain::registry::BindRefusal;
use crate::domain::reported_time::TimeRefusal;
use crate::store::StoreError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One invalid field of a request.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct FieldError {
    /// JSON path of the field, e.g. `contacts[0].phone`, or `row 12: imei` for imports
    pub field: String,
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code: code.to_string(),
            message: message.into(),
        }
    }

    /// A field whose identifier did not parse.
    pub fn bad_id(field: &str, e: &IdError) -> Self {
        Self::new(field, e.code(), e.to_string())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// missing, or outside the caller's scope (the same answer)
    #[error("not found")]
    NotFound,
    /// the caller's role may not do this
    #[error("this role may not do that")]
    Forbidden,
    /// the object is in a state where this cannot happen
    #[error("{detail}")]
    Conflict {
        code: String,
        detail: String,
        extra: Option<serde_json::Map<String, serde_json::Value>>,
    },
    /// the object changed since the caller read it
    #[error("the object changed since it was read (current version {current})")]
    PreconditionFailed { current: i32 },
    #[error("some fields are invalid")]
    Validation(Vec<FieldError>),
    /// well-formed, but a rule of the request as a whole refuses it
    #[error("{detail}")]
    Unprocessable { code: &'static str, detail: String },
    /// the state machine of `domain::order`
    #[error("order action refused: {0:?}")]
    Order(Refusal),
    /// the lifecycle of `domain::feedback`
    #[error("ticket action refused: {0:?}")]
    Ticket(TicketRefusal),
    #[error(transparent)]
    Ledger(LedgerRefusal),
    #[error(transparent)]
    Adjustment(AdjustmentRefusal),
    #[error(transparent)]
    Bind(BindRefusal),
    /// a reported time (`at` of an offline action) out of bounds; `previous` is the
    /// order's previous step, for the message
    #[error("reported time refused: {refusal:?}")]
    ReportedTime {
        refusal: TimeRefusal,
        previous: Option<NaiveDateTime>,
    },
    /// printing is not possible (no CJK font installed)
    #[error("{0}")]
    DocumentsUnavailable(String),
    #[error(transparent)]
    Store(StoreError),
    /// our own fault: logged, answered 500
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    pub fn conflict(code: &str, detail: impl Into<String>) -> Self {
        Error::Conflict {
            code: code.to_string(),
            detail: detail.into(),
            extra: None,
        }
    }

    pub fn field(field: &str, code: &str, message: impl Into<String>) -> Self {
        Error::Validation(vec![FieldError::new(field, code, message)])
    }

    /// A stored value that is not one of its enum's values: the database holds something
    /// this code never wrote. Logged where it is answered (500), never read as a default.
    pub fn corrupt(what: &'static str, value: &str) -> Self {
        Error::Store(StoreError::Corrupt {
            what,
            value: value.to_string(),
        })
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Error::NotFound,
            StoreError::Stale { current } => Error::PreconditionFailed { current },
            other => Error::Store(other),
        }
    }
}

impl From<diesel::result::Error> for Error {
    fn from(e: diesel::result::Error) -> Self {
        StoreError::from(e).into()
    }
}

impl From<Refusal> for Error {
    fn from(r: Refusal) -> Self {
        Error::Order(r)
    }
}

impl From<TicketRefusal> for Error {
    fn from(r: TicketRefusal) -> Self {
        Error::Ticket(r)
    }
}

impl From<LedgerRefusal> for Error {
    fn from(r: LedgerRefusal) -> Self {
        Error::Ledger(r)
    }
}

impl From<AdjustmentRefusal> for Error {
    fn from(r: AdjustmentRefusal) -> Self {
        Error::Adjustment(r)
    }
}

impl From<BindRefusal> for Error {
    fn from(r: BindRefusal) -> Self {
        Error::Bind(r)
    }
}
