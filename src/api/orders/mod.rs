//! Install work orders (安装任务派工单) and repair service orders (维修服务单): the HTTP
//! side of `app::orders`. Handlers check the role, the body's shape and times, then call
//! one use case.
//!
//! Every action on an existing order: role first (403), then the order in scope (404), the
//! version from `If-Match` (428/412), then the state machine of `domain::order` (409).
//! Each successful action bumps the order's version by exactly one and appends to its
//! timeline, in one transaction. Actions take an optional `Idempotency-Key`.

mod approvals;
mod first_report;
mod intake;
mod lifecycle;
mod line_work;
mod media;
mod parts;
mod photos;
mod ranking;
mod reading;

pub use approvals::*;
pub use first_report::*;
pub use intake::*;
pub use lifecycle::*;
pub use line_work::*;
pub use media::*;
pub use parts::*;
pub use photos::*;
pub use ranking::*;
pub use reading::*;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse};
use serde::Serialize;

use super::error::ApiError;
use super::idempotency::{Idempotency, answer};
use super::session::Caller;
use super::state::AppState;
use super::support::{if_match, in_tx, ok_etag};
use crate::app::orders::OrderView;
use crate::app::{self, Principal};
use crate::store::DbConn;

/// Runs an action on an existing order: the version from `If-Match`, the idempotent
/// replay (a double tap waits on the first one's claim of the key and replays its answer
/// instead of failing its version check), one transaction around the use case `f` (given
/// the expected version and `body`, which is also what the key is checked against).
/// Answers the order as it is afterwards, with its ETag.
async fn run<B, F>(
    state: &AppState,
    caller: Caller,
    req: &HttpRequest,
    body: B,
    f: F,
) -> Result<HttpResponse, ApiError>
where
    B: Serialize + Send + 'static,
    F: FnOnce(&mut DbConn, &Principal, i32, B) -> app::Result<OrderView> + Send + 'static,
{
    let version = if_match(req)?;
    let idem = Idempotency::of(req, &body)?;
    let outcome = in_tx(&state.pool, caller.session(), move |c| {
        idem.write(c, &caller.id, StatusCode::OK, |c| {
            Ok(Box::new(f(c, caller.principal(), version, body)?))
        })
    })
    .await?;
    Ok(answer(outcome, |v| ok_etag(v.order.version, &v)))
}
