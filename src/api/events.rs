//! `GET /events`: the live event stream (server-sent events) of order, ticket and
//! remittance changes, scoped like the lists. The changes are written by the store in the
//! transaction that makes them (`store::live_events`) and handed to the open streams by
//! `live::Hub`.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Deserialize;
use tokio::sync::broadcast::{self, error::RecvError};

use super::error::ApiError;
use super::session::Caller;
use super::state::AppState;
use super::support::with_db;
use crate::live::Viewer;
use crate::store::StoreError;
use crate::store::live_events::{self, LiveEvent};

/// A stream ends after this long; the client reconnects (with `Last-Event-ID`), which
/// checks its token and session again.
const LIFETIME: Duration = Duration::from_secs(10 * 60);
/// A comment line this often keeps proxies from closing an idle stream.
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Events replayed to a reconnecting client at most; a longer gap answers `reset`.
const REPLAY_MAX: i64 = 1000;
/// What an `EventSource` waits before reconnecting by itself (ms).
const RETRY_MS: u32 = 2000;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// the bearer token, for clients that cannot send `Authorization` (`EventSource`);
    /// the header wins when both are given. Never logged.
    pub access_token: Option<String>,
    /// like the `Last-Event-ID` header (which wins): resume after this event
    pub last_event_id: Option<String>,
    /// admins: only this center's events
    pub center_id: Option<String>,
}

/// Lets `Caller` find a token given as `?access_token=` (`EventSource` cannot send
/// headers): it becomes the `Authorization` header of this request only.
pub async fn token_in_query(
    mut req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if !req.headers().contains_key(header::AUTHORIZATION)
        && let Ok(q) = web::Query::<EventsQuery>::from_query(req.query_string())
        && let Some(token) = q.into_inner().access_token
        && let Ok(value) = HeaderValue::from_str(&format!("Bearer {}", token.trim()))
    {
        req.headers_mut().insert(header::AUTHORIZATION, value);
    }
    next.call(req).await
}

/// The live event stream: `text/event-stream`, one event per changed order, ticket or
/// remittance the caller may see (`event: order|ticket|remittance`, `id:` growing in
/// commit order, `data:` `{kind, id, center_id, status, version, action, at}`). A
/// technician sees the orders they are on (or were taken off) and their own remittances;
/// others their center's (admins all, or `center_id`); tickets only roles that read
/// feedback. `Last-Event-ID` (or `?last_event_id=`) replays what came after it; a gap too
/// long to replay, or already pruned, answers one `event: reset` (reload everything). A
/// comment every 15 s keeps the stream open; a stream ends after 10 minutes, or when the
/// client falls far behind, and the client reconnects.
#[utoipa::path(
    tag = "events",
    params(EventsQuery, ("Last-Event-ID" = Option<String>, Header, description = "the last event id received")),
    responses(
        (status = 200, description = "the event stream", content_type = "text/event-stream", body = LiveEvent),
        (status = 401, description = "no valid token"),
    ),
    security(("bearer" = []))
)]
#[get("/events", wrap = "actix_web::middleware::from_fn(token_in_query)")]
pub async fn stream(
    state: web::Data<AppState>,
    caller: Caller,
    req: HttpRequest,
    q: web::Query<EventsQuery>,
) -> Result<HttpResponse, ApiError> {
    let q = q.into_inner();
    let resume = req
        .headers()
        .get("Last-Event-ID")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or(q.last_event_id);
    // an id that is not ours (empty, or from something else) resumes nothing
    let resume = resume.and_then(|v| v.trim().parse::<i64>().ok());
    let center = caller.list_center(q.center_id.as_deref());
    let viewer = Viewer {
        user_id: caller.id.clone(),
        role: caller.role,
        center: center.clone().flatten(),
    };
    // subscribe before reading where the stream starts: nothing after it is missed
    let hub = state.live.clone();
    let rx = hub.subscribe();
    let only = center.clone().flatten();
    let (start, replay) = with_db(&state.pool, caller.session(), move |c| {
        let start = live_events::last_id(c).map_err(StoreError::from)?;
        let Some(after) = resume.filter(|&a| a < start) else {
            return Ok((start, Replay::Nothing));
        };
        if live_events::first_id(c)
            .map_err(StoreError::from)?
            .is_some_and(|first| after + 1 < first)
        {
            return Ok((start, Replay::Reset));
        }
        let rows = live_events::since(c, after, only.as_deref(), REPLAY_MAX + 1)
            .map_err(StoreError::from)?;
        if rows.len() as i64 > REPLAY_MAX {
            return Ok((start, Replay::Reset));
        }
        Ok((
            start,
            Replay::Events(rows.into_iter().filter(|e| e.id <= start).collect()),
        ))
    })
    .await?;
    hub.follow_from(start);
    let mut queue = VecDeque::new();
    queue.push_back(web::Bytes::from(format!("retry: {RETRY_MS}\n: ok\n\n")));
    match replay {
        Replay::Nothing => {}
        Replay::Reset => queue.push_back(web::Bytes::from(format!(
            "event: reset\nid: {start}\ndata: {{}}\n\n"
        ))),
        Replay::Events(rows) => queue.extend(
            rows.iter()
                .filter(|e| center.is_some() && viewer.sees(e))
                .map(frame),
        ),
    }
    let state = Stream {
        queue,
        rx,
        viewer: center.is_some().then_some(viewer),
        start,
        keep_alive: tokio::time::interval_at(tokio::time::Instant::now() + KEEP_ALIVE, KEEP_ALIVE),
        ends: tokio::time::Instant::now() + LIFETIME,
    };
    let body = futures_util::stream::unfold(state, |mut s| async move {
        let next = s.next().await?;
        Some((Ok::<_, actix_web::Error>(next), s))
    });
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        // neither compressed here (it would sit in the encoder's buffer) nor buffered by
        // a proxy in front
        .insert_header((header::CONTENT_ENCODING, "identity"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}

enum Replay {
    Nothing,
    Reset,
    Events(Vec<LiveEvent>),
}

/// One event as sent.
fn frame(e: &LiveEvent) -> web::Bytes {
    let data = serde_json::to_string(e).unwrap_or_else(|_| "{}".into());
    web::Bytes::from(format!("event: {}\nid: {}\ndata: {data}\n\n", e.kind, e.id))
}

struct Stream {
    /// frames to send before waiting for more
    queue: VecDeque<web::Bytes>,
    rx: broadcast::Receiver<Arc<LiveEvent>>,
    /// `None`: asked for a center they may not see; only keep-alives
    viewer: Option<Viewer>,
    /// the newest event when the stream began: later ones come from `rx`
    start: i64,
    keep_alive: tokio::time::Interval,
    ends: tokio::time::Instant,
}

impl Stream {
    /// The next frame, or `None` to end the stream.
    async fn next(&mut self) -> Option<web::Bytes> {
        if let Some(f) = self.queue.pop_front() {
            return Some(f);
        }
        loop {
            tokio::select! {
                got = self.rx.recv() => match got {
                    Ok(e) => {
                        if e.id > self.start && self.viewer.as_ref().is_some_and(|v| v.sees(&e)) {
                            return Some(frame(&e));
                        }
                    }
                    // fell behind: end; the client reconnects and is replayed from the table
                    Err(RecvError::Lagged(_)) | Err(RecvError::Closed) => return None,
                },
                _ = self.keep_alive.tick() => return Some(web::Bytes::from_static(b": keep-alive\n\n")),
                _ = tokio::time::sleep_until(self.ends) => return None,
            }
        }
    }
}
