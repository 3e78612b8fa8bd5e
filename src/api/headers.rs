//! The request headers each operation needs (If-Match, Idempotency-Key): one table read by
//! the OpenAPI document and by the `Caller` extractor.

/// What an operation needs in its request headers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Needs {
    /// `If-Match` with the object's ETag (or `*`); missing → 428 `if_match_required`
    pub if_match: bool,
    /// `Idempotency-Key`
    pub key: Key,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Key {
    No,
    /// accepted: a retry with the same key answers the first answer again
    Optional,
    /// missing → 428 `idempotency_key_required`
    Required,
}

pub const IF_MATCH: Needs = Needs {
    if_match: true,
    key: Key::No,
};
/// The order actions: If-Match, and an Idempotency-Key for safe retries from the phone.
pub const ORDER_ACTION: Needs = Needs {
    if_match: true,
    key: Key::Optional,
};
pub const KEY: Needs = Needs {
    if_match: false,
    key: Key::Required,
};
pub const OPTIONAL_KEY: Needs = Needs {
    if_match: false,
    key: Key::Optional,
};

/// The request headers of each operation: (method, path under `/api/v1`, needs). Drives
/// both the document (header parameters, 412/428 responses) and the server (the `Caller`
/// extractor answers 428 when a required header is missing). A new route that reads
/// If-Match or Idempotency-Key is one line here.
pub const HEADERS: &[(&str, &str, Needs)] = &[
    ("PATCH", "/centers/{id}", IF_MATCH),
    ("PATCH", "/users/{id}", IF_MATCH),
    ("PATCH", "/technicians/{user_id}", IF_MATCH),
    ("PATCH", "/customers/{id}", IF_MATCH),
    ("PATCH", "/vehicles/{id}", IF_MATCH),
    ("PATCH", "/work-orders/{id}", IF_MATCH),
    ("PATCH", "/drivers/{id}", IF_MATCH),
    ("PATCH", "/terminals/{id}", IF_MATCH),
    ("PATCH", "/sims/{id}", IF_MATCH),
    ("PATCH", "/parts/{id}", IF_MATCH),
    ("POST", "/work-orders/install", OPTIONAL_KEY),
    ("POST", "/work-orders/repair", OPTIONAL_KEY),
    ("POST", "/work-orders/{id}/submit", ORDER_ACTION),
    ("POST", "/work-orders/{id}/approve", ORDER_ACTION),
    ("POST", "/work-orders/{id}/reject", ORDER_ACTION),
    ("POST", "/work-orders/{id}/assign", ORDER_ACTION),
    ("POST", "/work-orders/{id}/reassign", ORDER_ACTION),
    ("POST", "/work-orders/{id}/accept", ORDER_ACTION),
    ("POST", "/work-orders/{id}/decline", ORDER_ACTION),
    ("POST", "/work-orders/{id}/readiness", ORDER_ACTION),
    ("POST", "/work-orders/{id}/depart", ORDER_ACTION),
    ("POST", "/work-orders/{id}/arrive", ORDER_ACTION),
    ("POST", "/work-orders/{id}/hold", ORDER_ACTION),
    ("POST", "/work-orders/{id}/resume", ORDER_ACTION),
    ("POST", "/work-orders/{id}/complete", ORDER_ACTION),
    ("POST", "/work-orders/{id}/close", ORDER_ACTION),
    ("POST", "/work-orders/{id}/cancel", ORDER_ACTION),
    (
        "POST",
        "/work-orders/{id}/lines/{line_id}/install",
        ORDER_ACTION,
    ),
    (
        "POST",
        "/work-orders/{id}/lines/{line_id}/terminal-swap",
        ORDER_ACTION,
    ),
    (
        "POST",
        "/work-orders/{id}/lines/{line_id}/sim-swap",
        ORDER_ACTION,
    ),
    (
        "POST",
        "/work-orders/{id}/lines/{line_id}/repair",
        ORDER_ACTION,
    ),
    (
        "POST",
        "/work-orders/{id}/lines/{line_id}/not-done",
        ORDER_ACTION,
    ),
    ("POST", "/work-orders/{id}/parts", ORDER_ACTION),
    ("POST", "/work-orders/{id}/photos", ORDER_ACTION),
    ("POST", "/work-orders/{id}/waive-photos", ORDER_ACTION),
    ("PATCH", "/work-orders/{id}/parts/{part_id}", ORDER_ACTION),
    ("DELETE", "/work-orders/{id}/parts/{part_id}", ORDER_ACTION),
    ("POST", "/work-orders/{id}/verbal-approvals", ORDER_ACTION),
    (
        "POST",
        "/work-orders/{id}/verbal-approvals/{approval_id}/confirm",
        ORDER_ACTION,
    ),
    ("POST", "/work-orders/{id}/sign-off", ORDER_ACTION),
    ("POST", "/work-orders/{id}/payments", KEY),
    ("POST", "/invoices/{id}/payments", KEY),
    ("POST", "/payments/{id}/reversal", OPTIONAL_KEY),
    ("POST", "/remittances", OPTIONAL_KEY),
    ("POST", "/remittances/{id}/confirm", IF_MATCH),
    ("POST", "/discrepancies/{id}/resolve", IF_MATCH),
    ("POST", "/tickets/{id}/reply", IF_MATCH),
    ("POST", "/tickets/{id}/resolve", IF_MATCH),
    ("POST", "/tickets/{id}/customer-notified", IF_MATCH),
    ("POST", "/tickets/{id}/close", IF_MATCH),
    ("POST", "/tickets/{id}/handover", IF_MATCH),
    ("POST", "/follow-ups/{id}/record", IF_MATCH),
    ("POST", "/follow-ups/{id}/unreachable", IF_MATCH),
    ("PUT", "/centers/{id}/feedback-settings", IF_MATCH),
];

/// What the operation `method pattern` needs; `pattern` is the matched route's pattern,
/// with or without the `/api/v1` prefix.
pub fn needs(method: &str, pattern: &str) -> Option<Needs> {
    let path = pattern.strip_prefix("/api/v1").unwrap_or(pattern);
    HEADERS
        .iter()
        .find(|(m, p, _)| m.eq_ignore_ascii_case(method) && *p == path)
        .map(|(_, _, n)| *n)
}
