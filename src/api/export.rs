//! Tables for people with spreadsheets: CSV in UTF-8 with a byte-order mark (so Excel
//! opens Chinese correctly) and XLSX with real numbers and dates (amounts in yuan with a
//! ¥ format, so sums work), both from one `Table`.

use actix_web::HttpResponse;
use actix_web::http::header;
use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};

use super::error::ApiError;
use crate::domain::money::Fen;

/// The most rows one export holds (Excel's sheet ends at 1,048,576).
pub const EXPORT_MAX_ROWS: i64 = 1_000_000;

/// 422 `export_too_large` when a report read more rows than an export holds (it reads
/// `EXPORT_MAX_ROWS + 1` to know).
pub fn check_size(rows: usize) -> Result<(), ApiError> {
    if rows as i64 > EXPORT_MAX_ROWS {
        return Err(ApiError::Unprocessable {
            code: "export_too_large",
            detail: format!("more than {EXPORT_MAX_ROWS} rows: narrow the period"),
        });
    }
    Ok(())
}

/// One cell of an exported table.
#[derive(Debug, Clone)]
pub enum Cell {
    Text(String),
    /// an amount in fen, exported in yuan
    Money(i64),
    Date(NaiveDate),
    /// a time already in the reader's zone (China)
    DateTime(NaiveDateTime),
    Empty,
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}

impl From<Option<String>> for Cell {
    fn from(s: Option<String>) -> Self {
        s.map(Cell::Text).unwrap_or(Cell::Empty)
    }
}

pub struct Table {
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

/// Which file a client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Json,
    Csv,
    Xlsx,
}

/// `?format=` of a report: json (default where there is one), csv or xlsx.
pub fn parse_format(v: Option<&str>, json_allowed: bool) -> Result<ExportFormat, ApiError> {
    match v {
        None if json_allowed => Ok(ExportFormat::Json),
        Some("json") if json_allowed => Ok(ExportFormat::Json),
        Some("csv") => Ok(ExportFormat::Csv),
        Some("xlsx") => Ok(ExportFormat::Xlsx),
        _ => Err(ApiError::field(
            "format",
            "invalid_choice",
            if json_allowed {
                "must be one of: json, csv, xlsx"
            } else {
                "must be one of: csv, xlsx"
            },
        )),
    }
}

/// Text as a CSV cell that a spreadsheet shows as text: a leading `= + - @` (or tab, CR)
/// would make Excel evaluate a typed-in name as a formula, so such text gets a `'`.
fn csv_text(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

pub fn to_csv(t: &Table) -> Result<Vec<u8>, ApiError> {
    let mut out = Vec::with_capacity(64 + t.rows.len() * 96);
    out.extend_from_slice("\u{feff}".as_bytes());
    let mut w = csv::Writer::from_writer(out);
    let internal = |e: csv::Error| ApiError::Internal(e.to_string());
    w.write_record(&t.headers).map_err(internal)?;
    let mut record: Vec<String> = Vec::with_capacity(t.headers.len());
    for row in &t.rows {
        record.clear();
        for cell in row {
            record.push(match cell {
                Cell::Text(s) => csv_text(s),
                Cell::Money(f) => Fen(*f).yuan_string(),
                Cell::Date(d) => d.format("%Y-%m-%d").to_string(),
                Cell::DateTime(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
                Cell::Empty => String::new(),
            });
        }
        w.write_record(&record).map_err(internal)?;
    }
    w.into_inner()
        .map_err(|e| ApiError::Internal(e.to_string()))
}

fn excel_date(y: i32, m: u32, d: u32) -> Option<ExcelDateTime> {
    if !(1900..=9999).contains(&y) {
        return None;
    }
    ExcelDateTime::from_ymd(y as u16, m as u8, d as u8).ok()
}

pub fn to_xlsx(t: &Table, sheet: &str) -> Result<Vec<u8>, ApiError> {
    let internal = |e: rust_xlsxwriter::XlsxError| ApiError::Internal(e.to_string());
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).map_err(internal)?;
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("¥#,##0.00;-¥#,##0.00");
    let date = Format::new().set_num_format("yyyy-mm-dd");
    let datetime = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    for (c, h) in t.headers.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, *h, &bold)
            .map_err(internal)?;
        ws.set_column_width(c as u16, 14).map_err(internal)?;
    }
    for (r, row) in t.rows.iter().enumerate() {
        let r = (r + 1) as u32;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(s) => {
                    ws.write_string(r, c, s).map_err(internal)?;
                }
                Cell::Money(f) => {
                    // exact for every amount below 2^53 fen
                    ws.write_number_with_format(r, c, *f as f64 / 100.0, &money)
                        .map_err(internal)?;
                }
                // Excel's dates run from 1900 to 9999; anything else is written as text
                Cell::Date(d) => match excel_date(d.year(), d.month(), d.day()) {
                    Some(x) => {
                        ws.write_datetime_with_format(r, c, &x, &date)
                            .map_err(internal)?;
                    }
                    None => {
                        ws.write_string(r, c, d.to_string()).map_err(internal)?;
                    }
                },
                Cell::DateTime(t) => match excel_date(t.year(), t.month(), t.day()).and_then(|x| {
                    x.and_hms(t.hour() as u16, t.minute() as u8, t.second() as f64)
                        .ok()
                }) {
                    Some(x) => {
                        ws.write_datetime_with_format(r, c, &x, &datetime)
                            .map_err(internal)?;
                    }
                    None => {
                        ws.write_string(r, c, t.format("%Y-%m-%d %H:%M:%S").to_string())
                            .map_err(internal)?;
                    }
                },
                Cell::Empty => {}
            }
        }
    }
    ws.set_freeze_panes(1, 0).map_err(internal)?;
    wb.save_to_buffer().map_err(internal)
}

/// The file as a download named `name.csv` / `name.xlsx`.
pub fn download(
    t: &Table,
    format: ExportFormat,
    name: &str,
    sheet: &str,
) -> Result<HttpResponse, ApiError> {
    let (bytes, ctype, ext) = match format {
        ExportFormat::Csv => (to_csv(t)?, "text/csv; charset=utf-8", "csv"),
        _ => (
            to_xlsx(t, sheet)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    };
    Ok(HttpResponse::Ok()
        .content_type(ctype)
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{name}.{ext}\""),
        ))
        .body(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_has_a_bom_yuan_amounts_and_no_formulas() {
        let t = Table {
            headers: vec!["付款人", "金额", "日期"],
            rows: vec![
                vec![
                    "=HYPERLINK(\"x\")".into(),
                    Cell::Money(-12345),
                    Cell::Date(NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()),
                ],
                vec!["王喆".into(), Cell::Money(5), Cell::Empty],
            ],
        };
        let bytes = to_csv(&t).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(
            text,
            "\u{feff}付款人,金额,日期\n\"'=HYPERLINK(\"\"x\"\")\",-123.45,2026-11-26\n王喆,0.05,\n"
        );
    }

    #[test]
    fn xlsx_takes_dates_excel_cannot_hold_as_text() {
        let t = Table {
            headers: vec!["日期"],
            rows: vec![vec![Cell::Date(
                NaiveDate::from_ymd_opt(1800, 1, 1).unwrap(),
            )]],
        };
        assert!(to_xlsx(&t, "x").is_ok());
        assert!(excel_date(1899, 12, 31).is_none());
        assert!(excel_date(2026, 11, 26).is_some());
    }
}
