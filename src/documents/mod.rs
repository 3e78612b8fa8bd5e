//! Printed documents: 安装任务派工单 / 维修服务单, 收据, 账单 and 车辆终端安装档案 (one
//! vehicle of the install ledger) as PDF (printpdf).
//!
//! `render` lays out plain models, `sources` fills the models from the store, `layout`
//! is the page machinery, `fonts` the font chain. The fonts are loaded once at start; a
//! missing font is a startup warning and a 503 on every PDF request, never a broken PDF.
//!
//! Layers: `api` and `notify` → `documents` → `store`, `domain`.

pub mod fonts;
pub mod layout;
pub mod render;
pub mod sources;

use std::sync::Arc;

pub use layout::Rendered;
pub use render::BankDetails;

use chrono::NaiveDateTime;

use crate::store::install_ledger::InstallRow;
use crate::store::orders::WorkOrder;
use crate::store::{DbConn, StoreError, money, now};
use fonts::FontSet;

#[derive(Debug, thiserror::Error)]
pub enum DocError {
    /// no usable font: the service runs, documents cannot be printed
    #[error("PDF documents are unavailable: {0}")]
    NoFont(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database unavailable: {0}")]
    Unavailable(String),
}

/// What prints documents: the font chain and the company's details.
pub struct Documents {
    fonts: Result<Arc<FontSet>, String>,
    pub bank: BankDetails,
}

impl Documents {
    /// Loads the fonts (`configured`: DISPATCH_PDF_FONTS, or the system's usual places).
    /// A failure is kept and logged, not fatal: everything but PDFs works without fonts.
    pub fn new(configured: Option<&str>, bank: BankDetails) -> Self {
        let fonts = FontSet::load(configured);
        match &fonts {
            Ok(set) => tracing::info!(
                fonts = %set.faces.iter().map(|f| f.source.as_str()).collect::<Vec<_>>().join(", "),
                "PDF fonts loaded"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "PDF documents are unavailable until a CJK font is installed")
            }
        }
        Documents { fonts, bank }
    }

    pub fn fonts(&self) -> Result<&FontSet, DocError> {
        self.fonts
            .as_deref()
            .map_err(|e| DocError::NoFont(e.clone()))
    }

    /// Lays out `doc` (CPU work: run it off the async threads).
    pub fn print(&self, doc: &Doc) -> Result<Rendered, DocError> {
        let fonts = self.fonts()?;
        let r = match doc {
            Doc::WorkOrder(d) => render::work_order(fonts, d),
            Doc::Receipt(d) => render::receipt(fonts, d),
            Doc::Invoice(d) => render::invoice(fonts, d),
            Doc::InstallSheet(d) => render::install_sheet(fonts, d),
        };
        Ok(report(r, doc.number()))
    }

    /// Gathers an order's document from the store.
    pub fn work_order(&self, c: &mut DbConn, order: &WorkOrder) -> Result<Doc, DocError> {
        Ok(Doc::WorkOrder(Box::new(sources::work_order(c, order)?)))
    }

    pub fn receipt(&self, c: &mut DbConn, p: &money::Payment) -> Result<Doc, DocError> {
        Ok(Doc::Receipt(sources::receipt(c, p, &self.bank.company)?))
    }

    /// A document kept as of `as_of` (a message's cause), to be printed now.
    pub fn from_snapshot(&self, snapshot: DocSnapshot, as_of: NaiveDateTime) -> Doc {
        match snapshot {
            DocSnapshot::WorkOrder(mut d) => {
                d.as_of = Some(as_of);
                d.printed_at = now();
                Doc::WorkOrder(d)
            }
            DocSnapshot::Receipt(mut d) => {
                d.company = self.bank.company.clone();
                d.as_of = Some(as_of);
                d.printed_at = now();
                Doc::Receipt(*d)
            }
        }
    }

    pub fn invoice(&self, c: &mut DbConn, inv: &money::Invoice) -> Result<Doc, DocError> {
        Ok(Doc::Invoice(sources::invoice(c, inv, &self.bank)?))
    }
}

/// An attachment's content as of the change that caused its message, kept in the
/// outbox row (JSON) and printed when the message is sent, however late.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(tag = "doc", rename_all = "snake_case")]
pub enum DocSnapshot {
    WorkOrder(Box<render::WorkOrderDoc>),
    Receipt(Box<render::ReceiptDoc>),
}

impl DocSnapshot {
    /// An order's document as it is now (inside the caller's transaction).
    pub fn work_order(c: &mut DbConn, order: &WorkOrder) -> Result<Self, StoreError> {
        Ok(DocSnapshot::WorkOrder(Box::new(sources::work_order(
            c, order,
        )?)))
    }

    /// A payment's receipt as it is now; the company is filled in when printed.
    pub fn receipt(c: &mut DbConn, p: &money::Payment) -> Result<Self, StoreError> {
        Ok(DocSnapshot::Receipt(Box::new(sources::receipt(c, p, "")?)))
    }
}

/// A document ready to be laid out.
pub enum Doc {
    WorkOrder(Box<render::WorkOrderDoc>),
    Receipt(render::ReceiptDoc),
    Invoice(render::InvoiceDoc),
    /// one vehicle of the install ledger (车辆终端安装档案)
    InstallSheet(Box<render::InstallSheetDoc>),
}

impl Doc {
    /// A vehicle's install sheet (车辆终端安装档案) from its ledger row (the caller has
    /// checked that the reader may see it); photos' thumbnails are left to the printer.
    pub fn install_sheet(c: &mut DbConn, row: &InstallRow) -> Result<Doc, StoreError> {
        Ok(Doc::InstallSheet(Box::new(sources::install_sheet(c, row)?)))
    }

    /// The number printed on it (and in its QR code).
    pub fn number(&self) -> &str {
        match self {
            Doc::WorkOrder(d) => &d.number,
            Doc::Receipt(d) => &d.receipt_no,
            Doc::Invoice(d) => &d.number,
            Doc::InstallSheet(d) => &d.order_number,
        }
    }

    /// The attachment's or download's file name, e.g. `收据-SJ-ZZ-2026-000001.pdf`; a
    /// vehicle's install sheet by its plate, `车辆终端安装档案-豫A12345.pdf`.
    pub fn file_name(&self) -> String {
        let kind = match self {
            Doc::InstallSheet(d) => return format!("车辆终端安装档案-{}.pdf", d.plate_no),
            Doc::WorkOrder(d) if d.install => "安装任务派工单",
            Doc::WorkOrder(_) => "维修服务单",
            Doc::Receipt(_) => "收据",
            Doc::Invoice(_) => "账单",
        };
        format!("{kind}-{}.pdf", self.number())
    }
}

/// Logs characters no font could draw (they print as □).
fn report(r: Rendered, number: &str) -> Rendered {
    if !r.missing.is_empty() {
        tracing::warn!(
            document = number,
            missing = %codepoints(&r.missing),
            "characters no configured font has were printed as □"
        );
    }
    r
}

/// `U+73DE 珞, U+5586 喆`: how missing characters are named in logs and headers (the
/// header carries only the code points, which are ASCII).
pub fn codepoints(chars: &[char]) -> String {
    chars
        .iter()
        .map(|c| format!("U+{:04X}", *c as u32))
        .collect::<Vec<_>>()
        .join(",")
}
