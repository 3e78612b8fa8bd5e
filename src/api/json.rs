//! Request-body extractors: `Json<T>` for every JSON endpoint, `Upload` for file imports.
//!
//! Unlike actix's own, it tells a malformed document (400 `malformed_json`) from a
//! well-formed one of the wrong shape or types (422 `invalid_body`), whatever serde met
//! first, and answers 413 above `JSON_LIMIT` without reading further.

use std::marker::PhantomData;

use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, dev, web};
use chrono::{DateTime, NaiveDateTime, Timelike, Utc};
use futures_util::future::LocalBoxFuture;

use serde::de::{DeserializeOwned, IgnoredAny};

use super::error::ApiError;
use super::{JSON_LIMIT, UPLOAD_LIMIT};

/// A JSON body, read but not yet parsed: handlers authorize first and then call
/// `parse`, so a caller of the wrong role learns 403, not what the body lacks.
pub struct Json<T> {
    bytes: web::Bytes,
    _type: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Json<T> {
    pub fn parse(self) -> Result<T, ApiError> {
        parse(&self.bytes)
    }
}

/// The media type of the body, lowercased, without parameters.
fn media_type(req: &HttpRequest) -> Option<String> {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| m.trim().to_ascii_lowercase())
}

fn is_json(req: &HttpRequest) -> bool {
    media_type(req).is_some_and(|m| {
        m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
    })
}

/// Parses a body: syntax errors are 400, shape and type errors 422.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice::<T>(bytes).map_err(|e| {
        let syntax = matches!(
            e.classify(),
            serde_json::error::Category::Syntax
                | serde_json::error::Category::Eof
                | serde_json::error::Category::Io
        ) || serde_json::from_slice::<IgnoredAny>(bytes).is_err();
        if syntax {
            let detail = serde_json::from_slice::<IgnoredAny>(bytes)
                .err()
                .map_or_else(|| e.to_string(), |s| s.to_string());
            ApiError::BadRequest {
                code: "malformed_json",
                detail,
            }
        } else {
            ApiError::Unprocessable {
                code: "invalid_body",
                detail: e.to_string(),
            }
        }
    })
}

fn declared_length(req: &HttpRequest) -> Option<usize> {
    req.headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
}

/// Beyond the limit, how much of an oversize body is read and dropped so that the client
/// gets its 413 instead of a reset connection.
const DRAIN_CAP: usize = 16 * 1024 * 1024;

/// Reads the whole body, refusing more than `limit` bytes with a 413.
async fn read_limited(
    body: Result<web::Payload, actix_web::Error>,
    declared: Option<usize>,
    limit: usize,
) -> Result<web::Bytes, ApiError> {
    use futures_util::StreamExt;
    let mut body = body.map_err(|e| ApiError::BadRequest {
        code: "malformed_body",
        detail: e.to_string(),
    })?;
    let too_large = ApiError::PayloadTooLarge { limit };
    if declared.is_some_and(|n| n > DRAIN_CAP) {
        return Err(too_large);
    }
    let mut buf = web::BytesMut::with_capacity(declared.unwrap_or(0).min(limit));
    let mut seen = 0usize;
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| ApiError::BadRequest {
            code: "malformed_body",
            detail: e.to_string(),
        })?;
        seen += chunk.len();
        if seen > DRAIN_CAP {
            return Err(too_large);
        }
        if seen <= limit {
            buf.extend_from_slice(&chunk);
        }
    }
    if seen > limit {
        return Err(too_large);
    }
    Ok(buf.freeze())
}

/// A raw upload (CSV imports) of at most `UPLOAD_LIMIT` bytes.
/// Read but not yet accepted: handlers authorize first, then call `csv()`, so a caller of
/// the wrong role learns 403, not what the upload lacks.
pub struct Upload {
    bytes: web::Bytes,
    csv: bool,
}

impl Upload {
    /// The body, if it was sent as CSV (`text/csv`; Excel also says `text/plain` or
    /// `application/vnd.ms-excel`); 415 otherwise.
    pub fn csv(&self) -> Result<&[u8], ApiError> {
        if self.csv {
            Ok(&self.bytes)
        } else {
            Err(ApiError::UnsupportedMediaType(
                "expected Content-Type: text/csv".into(),
            ))
        }
    }
}

impl FromRequest for Upload {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut dev::Payload) -> Self::Future {
        let declared = declared_length(req);
        let csv = media_type(req).is_some_and(|m| {
            matches!(
                m.as_str(),
                "text/csv" | "text/plain" | "application/vnd.ms-excel"
            )
        });
        let body = web::Payload::from_request(req, payload).into_inner();
        Box::pin(async move {
            let bytes = read_limited(body, declared, UPLOAD_LIMIT).await?;
            Ok(Upload { bytes, csv })
        })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Json<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut dev::Payload) -> Self::Future {
        let json = is_json(req);
        let declared = declared_length(req);
        let body = web::Payload::from_request(req, payload).into_inner();
        Box::pin(async move {
            if !json {
                return Err(ApiError::UnsupportedMediaType(
                    "expected Content-Type: application/json".into(),
                ));
            }
            let bytes = read_limited(body, declared, JSON_LIMIT).await?;
            Ok(Json {
                bytes,
                _type: PhantomData,
            })
        })
    }
}

/// A JSON body that may be left out (an action whose fields are all optional): an empty
/// body, with or without a Content-Type, is `T::default()`; anything else is read and
/// parsed exactly as `Json<T>` does (415, 413, 400, 422).
pub struct JsonOrEmpty<T> {
    body: Option<Json<T>>,
}

impl<T: DeserializeOwned + Default> JsonOrEmpty<T> {
    pub fn parse(self) -> Result<T, ApiError> {
        match self.body {
            Some(json) if !json.bytes.iter().all(u8::is_ascii_whitespace) => json.parse(),
            _ => Ok(T::default()),
        }
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for JsonOrEmpty<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut dev::Payload) -> Self::Future {
        let empty = declared_length(req) == Some(0)
            || (media_type(req).is_none() && declared_length(req).is_none());
        if empty {
            return Box::pin(async { Ok(JsonOrEmpty { body: None }) });
        }
        let json = Json::<T>::from_request(req, payload);
        Box::pin(async move {
            Ok(JsonOrEmpty {
                body: Some(json.await?),
            })
        })
    }
}

/// A time a client sends (RFC 3339), as every request body and query takes it.
///
/// A leap second (`…T23:59:60Z`, which chrono accepts and keeps as nanoseconds ≥ 10⁹) is
/// read as the last millisecond of that minute, `…T23:59:59.999Z`: it stays on the day
/// and minute the client meant (the KPI rollup's `date()` and every report bucket it
/// falls in), it sorts before the next second, and it is a time every database and
/// JavaScript's `Date` can read. Anything else parses exactly as `DateTime<Utc>` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ClientTime(DateTime<Utc>);

impl ClientTime {
    /// Normalises a parsed time (see the type's documentation).
    pub fn new(t: DateTime<Utc>) -> ClientTime {
        if t.nanosecond() >= 1_000_000_000 {
            let base = t.with_nanosecond(0).unwrap_or(t);
            ClientTime(base + chrono::Duration::milliseconds(999))
        } else {
            ClientTime(t)
        }
    }

    pub fn utc(self) -> DateTime<Utc> {
        self.0
    }
}

impl From<ClientTime> for DateTime<Utc> {
    fn from(t: ClientTime) -> DateTime<Utc> {
        t.0
    }
}

impl<'de> serde::Deserialize<'de> for ClientTime {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<ClientTime, D::Error> {
        DateTime::<Utc>::deserialize(d).map(ClientTime::new)
    }
}

impl serde::Serialize for ClientTime {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

/// Times a client may send: 2000 to 2099. Beyond that chrono's arithmetic can overflow,
/// PostgreSQL's timestamps end, and SQLite's text timestamps stop sorting by time.
pub fn when(field: &str, t: ClientTime) -> Result<NaiveDateTime, ApiError> {
    let t = t.utc();
    let year = chrono::Datelike::year(&t);
    if (2000..2100).contains(&year) {
        Ok(naive(t))
    } else {
        Err(ApiError::field(
            field,
            "out_of_range",
            "a time between 2000 and 2099",
        ))
    }
}

pub fn opt_when(field: &str, t: Option<ClientTime>) -> Result<Option<NaiveDateTime>, ApiError> {
    t.map(|t| when(field, t)).transpose()
}

fn naive(t: DateTime<Utc>) -> NaiveDateTime {
    crate::store::micros(t.naive_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct S {
        name: String,
    }

    fn code(r: Result<S, ApiError>) -> &'static str {
        match r {
            Err(ApiError::BadRequest { code, .. }) | Err(ApiError::Unprocessable { code, .. }) => {
                code
            }
            _ => "ok",
        }
    }

    #[test]
    fn syntax_beats_shape() {
        assert_eq!(code(parse(b"[1,2")), "malformed_json");
        assert_eq!(code(parse(b"{\"name\": }")), "malformed_json");
        assert_eq!(code(parse(b"{\"name\": \"x\"} x")), "malformed_json");
        assert_eq!(code(parse(b"{\"name\": 1}")), "invalid_body");
        assert_eq!(code(parse(b"[1]")), "invalid_body");
        assert_eq!(code(parse(b"{\"name\": \"x\"}")), "ok");
    }

    #[derive(serde::Deserialize)]
    struct T {
        at: ClientTime,
    }

    fn t(s: &str) -> String {
        let v: T = serde_json::from_str(&format!("{{\"at\":\"{s}\"}}")).unwrap();
        v.at.utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    }

    #[test]
    fn a_leap_second_is_the_last_millisecond_of_its_minute() {
        assert_eq!(t("2016-12-31T23:59:60Z"), "2016-12-31T23:59:59.999Z");
        assert_eq!(t("2016-12-31T23:59:60.5Z"), "2016-12-31T23:59:59.999Z");
        // in another offset: 2017-01-01T07:59:60+08:00 is the same leap second
        assert_eq!(t("2017-01-01T07:59:60+08:00"), "2016-12-31T23:59:59.999Z");
        assert_eq!(t("2016-12-31T23:59:59Z"), "2016-12-31T23:59:59.000Z");
        assert_eq!(
            t("2026-12-05T08:00:00.25+08:00"),
            "2026-12-05T00:00:00.250Z"
        );
        assert!(serde_json::from_str::<T>(r#"{"at":"2016-12-31T23:59:61Z"}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"at":"yesterday"}"#).is_err());
    }
}
