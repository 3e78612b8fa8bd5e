//! PDF answers: the printed document with its file name, page count and any characters
//! no font could draw (`X-Missing-Glyphs: U+XXXX,…`).

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use super::error::ApiError;
use crate::documents::{Doc, DocError, Documents, codepoints};

impl From<DocError> for ApiError {
    fn from(e: DocError) -> Self {
        match e {
            DocError::NoFont(detail) => {
                ApiError::DocumentsUnavailable(format!("PDF documents are unavailable: {detail}"))
            }
            DocError::Store(s) => s.into(),
            DocError::Unavailable(s) => ApiError::Unavailable(s),
        }
    }
}

/// RFC 5987 encoding of a UTF-8 file name for `filename*=`.
fn rfc5987(name: &str) -> String {
    let mut out = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// 503 at once when no font is loaded, before any database work.
pub fn ready(docs: &Documents) -> Result<(), ApiError> {
    docs.fonts().map(|_| ()).map_err(ApiError::from)
}

/// Prints `doc` on the blocking pool and answers it as `application/pdf`.
pub async fn respond(docs: std::sync::Arc<Documents>, doc: Doc) -> Result<HttpResponse, ApiError> {
    let name = doc.file_name();
    let pdf = web::block(move || docs.print(&doc))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))??;
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut res = HttpResponse::Ok();
    res.content_type("application/pdf")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!(
                "inline; filename=\"{ascii}\"; filename*=UTF-8''{}",
                rfc5987(&name)
            ),
        ))
        .insert_header(("X-Page-Count", pdf.pages.to_string()))
        .insert_header((header::CACHE_CONTROL, "private, no-store"));
    if !pdf.missing.is_empty() {
        res.insert_header(("X-Missing-Glyphs", codepoints(&pdf.missing)));
    }
    Ok(res.body(pdf.bytes))
}

#[cfg(test)]
mod tests {
    #[test]
    fn file_names_are_percent_encoded() {
        assert_eq!(
            super::rfc5987("收据-SJ 1.pdf"),
            "%E6%94%B6%E6%8D%AE-SJ%201.pdf"
        );
    }
}
