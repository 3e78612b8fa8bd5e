//! CSV import of terminals and SIM cards: all rows valid and imported, or none, with
//! every bad row reported as `line N: column`.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::{check_purchase_date, check_warranty, ensure_center, stock_sim, stock_terminal};
use crate::app::{Check, Error, Result};
use crate::domain::ids::{Carrier, Iccid, Imei, Msisdn};
use crate::store::DbConn;
use crate::store::equipment as store;

/// Largest CSV import, in rows.
pub const MAX_IMPORT_ROWS: usize = 5000;

/// An uploaded CSV file: header names (lowercased) and the data rows with their lines.
pub struct CsvRows {
    headers: Vec<String>,
    rows: Vec<(usize, csv::StringRecord)>,
}

impl CsvRows {
    fn col<'a>(&self, rec: &'a csv::StringRecord, name: &str) -> Option<&'a str> {
        self.headers
            .iter()
            .position(|h| h == name)
            .and_then(|i| rec.get(i))
            .filter(|v| !v.is_empty())
    }
}

fn unprocessable(code: &'static str, detail: impl Into<String>) -> Error {
    Error::Unprocessable {
        code,
        detail: detail.into(),
    }
}

/// Reads a CSV upload: UTF-8 (a BOM, as Excel writes it, is fine), with a header row
/// naming at least the `required` columns.
pub fn read(body: &[u8], required: &[&str]) -> Result<CsvRows> {
    let text = std::str::from_utf8(body).map_err(|_| {
        unprocessable(
            "csv_encoding",
            "the file is not UTF-8: save it from Excel as \"CSV UTF-8\"",
        )
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(text.as_bytes());
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| unprocessable("csv_malformed", e.to_string()))?
        .iter()
        .map(|h| h.to_ascii_lowercase())
        .collect();
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|r| !headers.iter().any(|h| h == r))
        .collect();
    if !missing.is_empty() {
        return Err(unprocessable(
            "csv_header",
            format!("missing columns: {}", missing.join(", ")),
        ));
    }
    let mut rows = Vec::new();
    // file line numbers, counted incrementally
    let bytes = text.as_bytes();
    let (mut counted, mut line) = (0usize, 1usize);
    for rec in reader.records() {
        // the file's own line (blank lines and multi-line quoted fields count)
        let rec = rec.map_err(|e| unprocessable("csv_malformed", e.to_string()))?;
        // the reader's position is where it started looking: skip the blank lines before
        let mut start = rec
            .position()
            .map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX))
            .min(bytes.len());
        while start < bytes.len() && matches!(bytes[start], b'\n' | b'\r') {
            start += 1;
        }
        line += bytes[counted..start.max(counted)]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        counted = start.max(counted);
        if rec.iter().all(str::is_empty) {
            continue;
        }
        rows.push((line, rec));
        if rows.len() > MAX_IMPORT_ROWS {
            return Err(unprocessable(
                "csv_too_many_rows",
                format!("at most {MAX_IMPORT_ROWS} rows per file"),
            ));
        }
    }
    if rows.is_empty() {
        return Err(unprocessable("csv_empty", "the file has no data rows"));
    }
    Ok(CsvRows { headers, rows })
}

/// Imports terminals (columns `imei, model_code, purchase_date`, optional
/// `warranty_months, notes`) into `center_id`'s stock. Answers how many.
pub fn terminals(c: &mut DbConn, center_id: &str, csv: &CsvRows) -> Result<usize> {
    ensure_center(c, center_id)?;
    let models = store::models(c)?;
    let mut check = Check::new();
    let mut parsed = Vec::with_capacity(csv.rows.len());
    let mut seen = HashMap::new();
    for (line, rec) in &csv.rows {
        let f = |name: &str| format!("line {line}: {name}");
        let imei = check.id(f("imei"), Imei::parse(csv.col(rec, "imei").unwrap_or("")));
        if let Some(i) = &imei
            && let Some(first) = seen.insert(i.as_str().to_string(), *line)
        {
            check.add(f("imei"), "duplicate", format!("same IMEI as line {first}"));
        }
        let model_code = csv.col(rec, "model_code").unwrap_or("");
        let model = models.iter().find(|m| m.code == model_code);
        if model.is_none() {
            check.add(
                f("model_code"),
                "unknown",
                format!("no terminal model '{model_code}'"),
            );
        }
        let date = match NaiveDate::parse_from_str(
            csv.col(rec, "purchase_date").unwrap_or(""),
            "%Y-%m-%d",
        ) {
            Ok(d) => {
                check_purchase_date(&mut check, &f("purchase_date"), d);
                Some(d)
            }
            Err(_) => {
                check.add(f("purchase_date"), "format", "a date as YYYY-MM-DD");
                None
            }
        };
        let warranty = match csv.col(rec, "warranty_months").map(str::parse::<i32>) {
            None => model.map(|m| m.warranty_months),
            Some(Ok(w)) => {
                check_warranty(&mut check, &f("warranty_months"), w);
                Some(w)
            }
            Some(Err(_)) => {
                check.add(f("warranty_months"), "format", "a whole number of months");
                None
            }
        };
        let notes = check.opt_text(f("notes"), csv.col(rec, "notes"), 2000);
        if let (Some(imei), Some(model), Some(date), Some(w)) = (imei, model, date, warranty) {
            parsed.push(stock_terminal(
                center_id.to_string(),
                &imei,
                model,
                date,
                Some(w),
                notes,
            ));
        }
    }
    let imeis: Vec<String> = parsed.iter().map(|t| t.imei.clone()).collect();
    for dup in store::existing_imeis(c, &imeis)? {
        let line = seen.get(&dup).copied().unwrap_or(0);
        check.add(
            format!("line {line}: imei"),
            "duplicate",
            "already registered",
        );
    }
    check.finish()?;
    for row in &parsed {
        store::insert_terminal(c, row)?;
    }
    Ok(parsed.len())
}

/// Imports SIM cards (columns `iccid, msisdn`, optional `carrier, notes`) into
/// `center_id`'s stock. Answers how many.
pub fn sims(c: &mut DbConn, center_id: &str, csv: &CsvRows) -> Result<usize> {
    ensure_center(c, center_id)?;
    let mut check = Check::new();
    let mut parsed = Vec::with_capacity(csv.rows.len());
    let mut seen_iccid = HashMap::new();
    let mut seen_msisdn = HashMap::new();
    for (line, rec) in &csv.rows {
        let f = |name: &str| format!("line {line}: {name}");
        let iccid = check.id(
            f("iccid"),
            Iccid::parse(csv.col(rec, "iccid").unwrap_or("")),
        );
        let msisdn = check.id(
            f("msisdn"),
            Msisdn::parse(csv.col(rec, "msisdn").unwrap_or("")),
        );
        if let Some(i) = &iccid
            && let Some(first) = seen_iccid.insert(i.as_str().to_string(), *line)
        {
            check.add(
                f("iccid"),
                "duplicate",
                format!("same ICCID as line {first}"),
            );
        }
        if let Some(m) = &msisdn
            && let Some(first) = seen_msisdn.insert(m.as_str().to_string(), *line)
        {
            check.add(
                f("msisdn"),
                "duplicate",
                format!("same MSISDN as line {first}"),
            );
        }
        let carrier = csv.col(rec, "carrier").and_then(|v| {
            check.one_of(
                f("carrier"),
                v,
                Carrier::parse,
                "china_mobile, china_unicom, china_telecom, other",
            )
        });
        let notes = check.opt_text(f("notes"), csv.col(rec, "notes"), 2000);
        if let (Some(i), Some(m)) = (iccid, msisdn) {
            parsed.push(stock_sim(center_id.to_string(), i, m, carrier, notes));
        }
    }
    let iccids: Vec<String> = parsed.iter().map(|s| s.iccid.clone()).collect();
    let msisdns: Vec<String> = parsed.iter().map(|s| s.msisdn.clone()).collect();
    let (dup_iccid, dup_msisdn) = store::existing_sim_numbers(c, &iccids, &msisdns)?;
    for d in dup_iccid {
        let line = seen_iccid.get(&d).copied().unwrap_or(0);
        check.add(
            format!("line {line}: iccid"),
            "duplicate",
            "already registered",
        );
    }
    for d in dup_msisdn {
        let line = seen_msisdn.get(&d).copied().unwrap_or(0);
        check.add(
            format!("line {line}: msisdn"),
            "duplicate",
            "already registered",
        );
    }
    check.finish()?;
    for row in &parsed {
        store::insert_sim(c, row)?;
    }
    Ok(parsed.len())
}
