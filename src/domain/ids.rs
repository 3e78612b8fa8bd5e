//! Validated identifier types used throughout dispatch.
//!
//! Each type is a newtype over `String` that can only be built through its
//! `parse` function, so holding a value means the identifier has already been
//! checked and normalised. All parsers trim surrounding whitespace, reject
//! empty input with [`IdError::Empty`] and never panic on arbitrary input.
//!
//! Rules and their sources:
//!
//! * **IMEI** (3GPP TS 23.003): 15 digits, the last one a Luhn check digit
//!   over the first 14.
//! * **ICCID** (ITU-T E.118): 19 or 20 digits starting with `89` (telecom
//!   industry identifier), the last one a Luhn check digit. Chinese cards
//!   continue with the country code `86` and a two-digit issuer code that
//!   maps to the carrier (`898600` China Mobile, `898601` China Unicom,
//!   `898603` China Telecom, ...).
//! * **MSISDN** (MIIT numbering plan): an 11-digit mobile number `1[3-9]`
//!   followed by 9 digits, or a 13-digit IoT (物联网) number starting with
//!   `1440`, `1441`, `1064`, `1065`, `1410` or `1400`. An optional `+86`
//!   prefix as well as spaces and hyphens are removed.
//! * **Contact phone**: a mobile number, a mainland landline
//!   (`AREA-NUMBER[-EXT]`; area codes `010` and `02x` have three digits, all
//!   others four; the local number has 7–8 digits) or a `400`/`800` service
//!   number with 10 digits.
//! * **Plate number** (GA 36-2018, 机动车号牌): province abbreviation, issuing
//!   authority letter, then an ordinary, new-energy or special serial.
//! * **VIN** (ISO 3779 / GB 16735): 17 characters without `I`, `O`, `Q`;
//!   the ninth character is the check digit, which GB 16735 makes mandatory
//!   for every vehicle sold in China, so it is always enforced.
//! * **Email**: a pragmatic check only (one `@`, dotted domain, no spaces,
//!   at most 254 characters); the domain is lowercased.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why an identifier was rejected.
///
/// The `&'static str` detail is a short English message that is also what
/// `Display` prints; [`IdError::code`] gives a stable machine-readable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("must not be empty")]
    Empty,
    #[error("{0}")]
    Length(&'static str),
    #[error("{0}")]
    NotDigits(&'static str),
    #[error("{0}")]
    Checksum(&'static str),
    #[error("{0}")]
    Prefix(&'static str),
    #[error("{0}")]
    Format(&'static str),
}

impl IdError {
    /// Stable machine code for API responses.
    pub fn code(&self) -> &'static str {
        match self {
            IdError::Empty => "empty",
            IdError::Length(_) => "length",
            IdError::NotDigits(_) => "not_digits",
            IdError::Checksum(_) => "checksum",
            IdError::Prefix(_) => "prefix",
            IdError::Format(_) => "format",
        }
    }
}

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// True when `s` is non-empty and consists of ASCII digits only.
fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Trims the input and rejects it if nothing is left.
fn non_empty(input: &str) -> Result<&str, IdError> {
    match input.trim() {
        "" => Err(IdError::Empty),
        s => Ok(s),
    }
}

/// Removes whitespace and ASCII hyphens anywhere in `s`.
fn strip_separators(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect()
}

/// Luhn sum over the digits of `s` (non-digits ignored), counted from the
/// right; `double_first` says whether the rightmost digit is doubled.
fn luhn_sum(s: &str, double_first: bool) -> u32 {
    s.bytes()
        .rev()
        .filter(u8::is_ascii_digit)
        .map(|b| u32::from(b - b'0'))
        .enumerate()
        .map(|(i, d)| {
            if (i % 2 == 0) == double_first {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum()
}

/// Whether `digits` (all ASCII digits, check digit last) passes the Luhn
/// check. Returns `false` for empty input or any non-digit character.
pub fn luhn_valid(digits: &str) -> bool {
    all_digits(digits) && luhn_sum(digits, false).is_multiple_of(10)
}

/// The Luhn check digit (0–9) to append to `payload`. Characters that are
/// not ASCII digits are ignored.
pub fn luhn_check_digit(payload: &str) -> u8 {
    // The result is always < 10, so the narrowing is lossless.
    ((10 - luhn_sum(payload, true) % 10) % 10) as u8
}

/// Validates a string of digits of the given lengths with a trailing Luhn
/// check digit.
fn luhn_number(s: &str, lengths: &[usize], length_msg: &'static str) -> Result<(), IdError> {
    if !all_digits(s) {
        return Err(IdError::NotDigits("must contain digits only"));
    }
    if !lengths.contains(&s.len()) {
        return Err(IdError::Length(length_msg));
    }
    if !luhn_valid(s) {
        return Err(IdError::Checksum("Luhn check digit does not match"));
    }
    Ok(())
}

/// Checks an 11-digit mainland mobile number `1[3-9]\d{9}` (already stripped
/// of separators).
fn check_mobile(digits: &str) -> Result<(), IdError> {
    if !all_digits(digits) {
        return Err(IdError::NotDigits("must contain digits only"));
    }
    if digits.len() != 11 {
        return Err(IdError::Length("mobile number must be 11 digits"));
    }
    match digits.as_bytes() {
        [b'1', b'3'..=b'9', ..] => Ok(()),
        _ => Err(IdError::Prefix("mobile number must start with 13–19")),
    }
}

/// Implements the shared accessors and conversions for an identifier newtype
/// that has a `parse(&str) -> Result<Self, IdError>` constructor.
macro_rules! id_newtype {
    ($name:ident) => {
        impl $name {
            /// The normalised identifier.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = IdError;

            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;

            fn try_from(s: String) -> Result<Self, IdError> {
                Self::parse(&s)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}

// ---------------------------------------------------------------------------
// IMEI
// ---------------------------------------------------------------------------

/// A 15-digit IMEI with a valid Luhn check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Imei(String);

impl Imei {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = non_empty(input)?;
        luhn_number(s, &[15], "must be 15 digits")?;
        Ok(Imei(s.to_owned()))
    }
}

id_newtype!(Imei);

// ---------------------------------------------------------------------------
// ICCID
// ---------------------------------------------------------------------------

/// Mobile network operator, as derived from an ICCID issuer code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Carrier {
    ChinaMobile,
    ChinaUnicom,
    ChinaTelecom,
    Other,
}

impl Carrier {
    pub fn as_str(&self) -> &'static str {
        match self {
            Carrier::ChinaMobile => "china_mobile",
            Carrier::ChinaUnicom => "china_unicom",
            Carrier::ChinaTelecom => "china_telecom",
            Carrier::Other => "other",
        }
    }

    /// The carrier's name as printed (运营商).
    pub fn label_zh(&self) -> &'static str {
        match self {
            Carrier::ChinaMobile => "中国移动",
            Carrier::ChinaUnicom => "中国联通",
            Carrier::ChinaTelecom => "中国电信",
            Carrier::Other => "其他",
        }
    }

    /// Parses the snake_case name (ASCII case-insensitive, trimmed).
    pub fn parse(s: &str) -> Option<Carrier> {
        [
            Carrier::ChinaMobile,
            Carrier::ChinaUnicom,
            Carrier::ChinaTelecom,
            Carrier::Other,
        ]
        .into_iter()
        .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

impl fmt::Display for Carrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A 19- or 20-digit SIM card ICCID starting with `89`, Luhn-checked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Iccid(String);

impl Iccid {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = non_empty(input)?;
        if !all_digits(s) {
            return Err(IdError::NotDigits("must contain digits only"));
        }
        if !s.starts_with("89") {
            return Err(IdError::Prefix("must start with 89"));
        }
        luhn_number(s, &[19, 20], "must be 19 or 20 digits")?;
        Ok(Iccid(s.to_owned()))
    }

    /// The carrier that issued the card, from the `8986xx` issuer prefix.
    pub fn carrier(&self) -> Carrier {
        match self.0.get(..6) {
            Some("898600" | "898602" | "898604" | "898607") => Carrier::ChinaMobile,
            Some("898601" | "898606" | "898609") => Carrier::ChinaUnicom,
            Some("898603" | "898611") => Carrier::ChinaTelecom,
            _ => Carrier::Other,
        }
    }
}

id_newtype!(Iccid);

// ---------------------------------------------------------------------------
// MSISDN
// ---------------------------------------------------------------------------

/// Prefixes of 13-digit IoT (物联网) numbers.
const IOT_PREFIXES: [&str; 6] = ["1440", "1441", "1064", "1065", "1410", "1400"];

/// A SIM card number: an 11-digit mobile or a 13-digit IoT number, stored
/// as digits only without the `+86` prefix.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Msisdn(String);

impl Msisdn {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let compact = strip_separators(non_empty(input)?);
        if compact.is_empty() {
            return Err(IdError::Empty);
        }
        let digits = compact.strip_prefix("+86").unwrap_or(&compact);
        if digits.is_empty() {
            return Err(IdError::Length("must be 11 or 13 digits"));
        }
        if !all_digits(digits) {
            return Err(IdError::NotDigits("must contain digits only"));
        }
        match digits.len() {
            11 => check_mobile(digits)?,
            13 => {
                if !IOT_PREFIXES.iter().any(|p| digits.starts_with(p)) {
                    return Err(IdError::Prefix(
                        "IoT number must start with 1440, 1441, 1064, 1065, 1410 or 1400",
                    ));
                }
            }
            _ => return Err(IdError::Length("must be 11 or 13 digits")),
        }
        Ok(Msisdn(digits.to_owned()))
    }

    /// Whether this is a 13-digit IoT number rather than a regular mobile.
    pub fn is_iot(&self) -> bool {
        self.0.len() == 13
    }
}

id_newtype!(Msisdn);

// ---------------------------------------------------------------------------
// Contact phone
// ---------------------------------------------------------------------------

/// A contact phone number in canonical form: a mobile as 11 digits, a
/// landline as `AREA-NUMBER[-EXT]`, a 400/800 service number as 10 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let compact: String = non_empty(input)?
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        if let Some(rest) = compact.strip_prefix("+86") {
            let digits = strip_separators(rest);
            check_mobile(&digits)?;
            return Ok(Phone(digits));
        }
        if !compact.bytes().all(|b| b.is_ascii_digit() || b == b'-') {
            return Err(IdError::NotDigits("may contain only digits and hyphens"));
        }
        match compact.as_bytes().first() {
            Some(b'1') => {
                let digits = strip_separators(&compact);
                check_mobile(&digits)?;
                Ok(Phone(digits))
            }
            Some(b'4' | b'8') => {
                let digits = strip_separators(&compact);
                if digits.len() != 10 {
                    return Err(IdError::Length("service number must be 10 digits"));
                }
                if !(digits.starts_with("400") || digits.starts_with("800")) {
                    return Err(IdError::Prefix("service number must start with 400 or 800"));
                }
                Ok(Phone(digits))
            }
            Some(b'0') => landline(&compact).map(Phone),
            _ => Err(IdError::Format("not a mobile, landline or service number")),
        }
    }
}

id_newtype!(Phone);

/// Length of the area code a landline starting with `s` must have: `010`
/// and `02x` are three digits, every other code four.
fn area_code_len(s: &str) -> usize {
    if s.starts_with("01") || s.starts_with("02") {
        3
    } else {
        4
    }
}

/// Splits a landline written without a hyphen after the area code.
fn split_area(full: &str) -> Result<(&str, &str), IdError> {
    full.split_at_checked(area_code_len(full))
        .ok_or(IdError::Length("landline number too short"))
}

/// Parses a landline made of digits and hyphens (starting with `0`) into
/// `AREA-NUMBER[-EXT]`.
fn landline(s: &str) -> Result<String, IdError> {
    let parts: Vec<&str> = s.split('-').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(IdError::Format("misplaced hyphen"));
    }
    let (area, number, ext) = match parts.as_slice() {
        [full] => {
            let (area, number) = split_area(full)?;
            (area, number, None)
        }
        [area, number] if area.len() <= 4 => (*area, *number, None),
        [full, ext] => {
            let (area, number) = split_area(full)?;
            (area, number, Some(*ext))
        }
        [area, number, ext] => (*area, *number, Some(*ext)),
        _ => return Err(IdError::Format("too many hyphens")),
    };
    if area.len() != area_code_len(area) || area.starts_with("00") {
        return Err(IdError::Format("invalid area code"));
    }
    if !(7..=8).contains(&number.len()) {
        return Err(IdError::Length("local number must be 7 or 8 digits"));
    }
    if number.starts_with('0') {
        return Err(IdError::Format("local number must not start with 0"));
    }
    let mut out = format!("{area}-{number}");
    if let Some(ext) = ext {
        if ext.len() > 6 {
            return Err(IdError::Length("extension must be 1 to 6 digits"));
        }
        out.push('-');
        out.push_str(ext);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------
// Plate number
// ---------------------------------------------------------------------------

/// Province abbreviations that may start a plate.
pub(crate) const PROVINCES: &str = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼";

/// Suffix characters of special-purpose plates (trailer, driving school,
/// police, Hong Kong, Macau).
const SPECIAL_SUFFIXES: [char; 5] = ['挂', '学', '警', '港', '澳'];

/// Separators people type inside plates; removed during normalisation.
const PLATE_SEPARATORS: [char; 5] = ['·', '•', '・', '.', '-'];

/// The category of a plate, determined by its serial format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlateKind {
    /// Blue/yellow plate: 5 letters or digits.
    Ordinary,
    /// Small new-energy vehicle: `D`/`F`, a letter or digit, 4 digits.
    NewEnergySmall,
    /// Large new-energy vehicle: 5 digits, then `D`/`F`.
    NewEnergyLarge,
    /// 4 letters or digits followed by 挂, 学, 警, 港 or 澳.
    Special,
}

/// A Chinese vehicle plate number, normalised (no separators, uppercase).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PlateNo(String);

/// A serial character: ASCII digit or uppercase letter other than I and O.
fn plate_alnum(c: char) -> bool {
    c.is_ascii_digit() || (c.is_ascii_uppercase() && c != 'I' && c != 'O')
}

fn is_new_energy_mark(c: char) -> bool {
    c == 'D' || c == 'F'
}

impl PlateNo {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s: String = non_empty(input)?
            .chars()
            .filter(|c| !c.is_whitespace() && !PLATE_SEPARATORS.contains(c))
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let chars: Vec<char> = s.chars().collect();
        let Some(&first) = chars.first() else {
            return Err(IdError::Empty);
        };
        if !PROVINCES.contains(first) {
            return Err(IdError::Prefix("must start with a province abbreviation"));
        }
        if !(7..=8).contains(&chars.len()) {
            return Err(IdError::Length("must be 7 or 8 characters"));
        }
        if !chars[1].is_ascii_uppercase() {
            return Err(IdError::Format("second character must be a letter A–Z"));
        }
        let serial = &chars[2..];
        let valid = match serial {
            [a, b, rest @ ..] if serial.len() == 6 && is_new_energy_mark(*a) => {
                plate_alnum(*b) && rest.iter().all(char::is_ascii_digit)
            }
            [digits @ .., last] if serial.len() == 6 => {
                is_new_energy_mark(*last) && digits.iter().all(char::is_ascii_digit)
            }
            [body @ .., last] if SPECIAL_SUFFIXES.contains(last) => {
                body.iter().all(|c| plate_alnum(*c))
            }
            _ => serial.iter().all(|c| plate_alnum(*c)),
        };
        if !valid {
            return Err(IdError::Format("invalid plate serial"));
        }
        Ok(PlateNo(s))
    }

    /// The plate category. Derived from the already validated serial: an
    /// 8-character plate ending in `D`/`F` is large new-energy, any other
    /// 8-character plate small new-energy.
    pub fn kind(&self) -> PlateKind {
        let last = self.0.chars().next_back().unwrap_or_default();
        match self.0.chars().count() {
            8 if is_new_energy_mark(last) => PlateKind::NewEnergyLarge,
            8 => PlateKind::NewEnergySmall,
            _ if SPECIAL_SUFFIXES.contains(&last) => PlateKind::Special,
            _ => PlateKind::Ordinary,
        }
    }
}

id_newtype!(PlateNo);

// ---------------------------------------------------------------------------
// VIN
// ---------------------------------------------------------------------------

/// Position weights for the VIN check digit (ISO 3779 / GB 16735).
const VIN_WEIGHTS: [u32; 17] = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2];

/// Transliterated value of a VIN character, `None` if it is not allowed
/// (anything but digits and uppercase letters other than I, O, Q).
fn vin_value(b: u8) -> Option<u32> {
    let v = match b {
        b'0'..=b'9' => b - b'0',
        b'A' | b'J' => 1,
        b'B' | b'K' | b'S' => 2,
        b'C' | b'L' | b'T' => 3,
        b'D' | b'M' | b'U' => 4,
        b'E' | b'N' | b'V' => 5,
        b'F' | b'W' => 6,
        b'G' | b'P' | b'X' => 7,
        b'H' | b'Y' => 8,
        b'R' | b'Z' => 9,
        _ => return None,
    };
    Some(u32::from(v))
}

/// A 17-character vehicle identification number with a valid check digit.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Vin(String);

impl Vin {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = non_empty(input)?.to_ascii_uppercase();
        let values: Option<Vec<u32>> = s.bytes().map(vin_value).collect();
        let Some(values) = values else {
            return Err(IdError::Format(
                "may contain only digits and letters other than I, O and Q",
            ));
        };
        if values.len() != 17 {
            return Err(IdError::Length("must be 17 characters"));
        }
        let sum: u32 = values.iter().zip(VIN_WEIGHTS).map(|(v, w)| v * w).sum();
        let expected = match sum % 11 {
            10 => b'X',
            // The remainder is < 10 here, so the narrowing is lossless.
            r => b'0' + r as u8,
        };
        if s.as_bytes()[8] != expected {
            return Err(IdError::Checksum(
                "check digit (9th character) does not match",
            ));
        }
        Ok(Vin(s))
    }
}

id_newtype!(Vin);

// ---------------------------------------------------------------------------
// Email
// ---------------------------------------------------------------------------

/// An email address that passed a pragmatic syntax check; the domain is
/// stored lowercased.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = non_empty(input)?;
        if s.chars().count() > 254 {
            return Err(IdError::Length("must be at most 254 characters"));
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(IdError::Format("must not contain spaces"));
        }
        let Some((local, domain)) = s.split_once('@') else {
            return Err(IdError::Format("must contain an @"));
        };
        if domain.contains('@') {
            return Err(IdError::Format("must contain exactly one @"));
        }
        if local.is_empty() {
            return Err(IdError::Format("local part must not be empty"));
        }
        if !domain.contains('.') || domain.split('.').any(str::is_empty) {
            return Err(IdError::Format("domain must be a dotted name"));
        }
        Ok(Email(format!("{local}@{}", domain.to_lowercase())))
    }
}

id_newtype!(Email);

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    /// Asserts that `result` failed with the given error code.
    #[track_caller]
    fn assert_code<T: fmt::Debug>(result: Result<T, IdError>, code: &str) {
        match result {
            Ok(v) => panic!("expected error `{code}`, got Ok({v:?})"),
            Err(e) => assert_eq!(e.code(), code, "wrong error: {e:?}"),
        }
    }

    /// Builds a Luhn-valid number from a payload.
    fn with_luhn(payload: &str) -> String {
        format!("{payload}{}", luhn_check_digit(payload))
    }

    /// Replaces the digit at `idx` by the next digit (mod 10).
    fn bump_digit(s: &str, idx: usize) -> String {
        let mut bytes = s.as_bytes().to_vec();
        bytes[idx] = b'0' + (bytes[idx] - b'0' + 1) % 10;
        String::from_utf8(bytes).unwrap()
    }

    // --- errors ---------------------------------------------------------

    #[test]
    fn error_codes_and_messages() {
        assert_eq!(IdError::Empty.code(), "empty");
        assert_eq!(IdError::Length("x").code(), "length");
        assert_eq!(IdError::NotDigits("x").code(), "not_digits");
        assert_eq!(IdError::Checksum("x").code(), "checksum");
        assert_eq!(IdError::Prefix("x").code(), "prefix");
        assert_eq!(IdError::Format("x").code(), "format");
        assert_eq!(IdError::Empty.to_string(), "must not be empty");
        assert_eq!(
            Imei::parse("123").unwrap_err().to_string(),
            "must be 15 digits"
        );
        assert_eq!(
            Imei::parse("490154203237519").unwrap_err().to_string(),
            "Luhn check digit does not match"
        );
    }

    // --- Luhn -----------------------------------------------------------

    #[test]
    fn luhn() {
        assert!(luhn_valid("79927398713"));
        assert!(!luhn_valid("79927398710"));
        assert_eq!(luhn_check_digit("7992739871"), 3);
        assert_eq!(luhn_check_digit("49015420323751"), 8);
        assert_eq!(luhn_check_digit(""), 0);
        assert!(!luhn_valid(""));
        assert!(!luhn_valid("4901542032375a"));
        for payload in ["0", "1", "12345", "89860012345678901", "999999999999999999"] {
            assert!(luhn_valid(&with_luhn(payload)), "{payload}");
        }
    }

    // --- IMEI -----------------------------------------------------------

    #[test]
    fn imei_valid() {
        for s in ["490154203237518", "356938035643809", " 352099001761481 "] {
            let imei = Imei::parse(s).unwrap();
            assert_eq!(imei.as_str(), s.trim());
        }
        let built = with_luhn("86123456789012");
        assert_eq!(Imei::parse(&built).unwrap().to_string(), built);
    }

    #[test]
    fn imei_invalid() {
        assert_code(Imei::parse(""), "empty");
        assert_code(Imei::parse("   "), "empty");
        assert_code(Imei::parse("49015420323751"), "length");
        assert_code(Imei::parse("4901542032375180"), "length");
        assert_code(Imei::parse("49015420323751A"), "not_digits");
        assert_code(Imei::parse("4901-5420323751"), "not_digits");
        assert_code(Imei::parse("４９０１５４２０３２３７５１８"), "not_digits");
        assert_code(Imei::parse("490154203237519"), "checksum");
        assert_code(Imei::parse("356938035643808"), "checksum");
    }

    // --- ICCID ----------------------------------------------------------

    #[test]
    fn iccid_valid_and_carrier() {
        let cases = [
            ("898600123456789012", Carrier::ChinaMobile),
            ("898602987654321098", Carrier::ChinaMobile),
            ("898601112233445566", Carrier::ChinaUnicom),
            ("898606000000000001", Carrier::ChinaUnicom),
            ("898603555555555555", Carrier::ChinaTelecom),
            ("8986111234567890123", Carrier::ChinaTelecom),
            ("891004234814455936", Carrier::Other),
        ];
        for (payload, carrier) in cases {
            let s = with_luhn(payload);
            assert!(s.len() == 19 || s.len() == 20);
            let iccid = Iccid::parse(&s).unwrap();
            assert_eq!(iccid.as_str(), s);
            assert_eq!(iccid.carrier(), carrier, "{s}");
        }
    }

    #[test]
    fn iccid_single_digit_change_breaks_checksum() {
        for payload in ["898600123456789012", "8986031234567890123"] {
            let s = with_luhn(payload);
            assert!(Iccid::parse(&s).is_ok());
            for idx in 2..s.len() {
                assert_code(Iccid::parse(&bump_digit(&s, idx)), "checksum");
            }
        }
    }

    #[test]
    fn iccid_invalid() {
        assert_code(Iccid::parse(""), "empty");
        assert_code(Iccid::parse(&with_luhn("79860012345678901")), "prefix");
        assert_code(Iccid::parse(&with_luhn("8986001234567890")), "length");
        assert_code(Iccid::parse(&with_luhn("89860012345678901234")), "length");
        assert_code(Iccid::parse("8986001234567890123F"), "not_digits");
        assert_code(Iccid::parse("89 86001234567890123"), "not_digits");
    }

    #[test]
    fn carrier_names() {
        for c in [
            Carrier::ChinaMobile,
            Carrier::ChinaUnicom,
            Carrier::ChinaTelecom,
            Carrier::Other,
        ] {
            assert_eq!(Carrier::parse(c.as_str()), Some(c));
            let json = serde_json::to_string(&c).unwrap();
            assert_eq!(json, format!("\"{}\"", c.as_str()));
            assert_eq!(serde_json::from_str::<Carrier>(&json).unwrap(), c);
        }
        assert_eq!(Carrier::parse(" China_Mobile "), Some(Carrier::ChinaMobile));
        assert_eq!(Carrier::parse("cmcc"), None);
        assert_eq!(Carrier::parse(""), None);
    }

    // --- MSISDN ---------------------------------------------------------

    #[test]
    fn msisdn_valid() {
        let cases = [
            ("13800138000", "13800138000", false),
            ("+86 138 0013 8000", "13800138000", false),
            ("199-1234-5678", "19912345678", false),
            ("1440123456789", "1440123456789", true),
            ("1064 8123 45678", "1064812345678", true),
            ("+861410123456789", "1410123456789", true),
            ("1400000000000", "1400000000000", true),
        ];
        for (input, stored, iot) in cases {
            let m = Msisdn::parse(input).unwrap();
            assert_eq!(m.as_str(), stored);
            assert_eq!(m.is_iot(), iot, "{input}");
        }
    }

    #[test]
    fn msisdn_invalid() {
        assert_code(Msisdn::parse(""), "empty");
        assert_code(Msisdn::parse(" - "), "empty");
        assert_code(Msisdn::parse("+86"), "length");
        assert_code(Msisdn::parse("1380013800"), "length");
        assert_code(Msisdn::parse("138001380001"), "length");
        assert_code(Msisdn::parse("12800138000"), "prefix");
        assert_code(Msisdn::parse("23800138000"), "prefix");
        // "86" without "+" is not a country prefix.
        assert_code(Msisdn::parse("8613800138000"), "prefix");
        assert_code(Msisdn::parse("1066123456789"), "prefix");
        assert_code(Msisdn::parse("1380013800a"), "not_digits");
        assert_code(Msisdn::parse("+1 3800138000"), "not_digits");
    }

    // --- Phone ----------------------------------------------------------

    #[test]
    fn phone_valid() {
        let cases = [
            ("13800138000", "13800138000"),
            ("+86 138-0013-8000", "13800138000"),
            ("0371-67891234", "0371-67891234"),
            ("037167891234", "0371-67891234"),
            ("0371 6789123", "0371-6789123"),
            ("010-12345678", "010-12345678"),
            ("010-12345678-801", "010-12345678-801"),
            ("01012345678-801", "010-12345678-801"),
            ("021 2345 6789", "021-23456789"),
            ("400-123-4567", "4001234567"),
            ("4001234567", "4001234567"),
            ("800 820 8820", "8008208820"),
        ];
        for (input, stored) in cases {
            assert_eq!(Phone::parse(input).unwrap().as_str(), stored, "{input}");
        }
    }

    #[test]
    fn phone_invalid() {
        assert_code(Phone::parse(""), "empty");
        assert_code(Phone::parse("1380013800"), "length");
        assert_code(Phone::parse("12800138000"), "prefix");
        assert_code(Phone::parse("+86 0371 67891234"), "length");
        assert_code(Phone::parse("+86 138-0013-800x"), "not_digits");
        assert_code(Phone::parse("0371-678912"), "length");
        assert_code(Phone::parse("0371-678912345"), "length");
        assert_code(Phone::parse("010-12345678-1234567"), "length");
        assert_code(Phone::parse("037-16789123"), "format");
        assert_code(Phone::parse("0101-2345678"), "format");
        assert_code(Phone::parse("0086-12345678"), "format");
        assert_code(Phone::parse("0371-07891234"), "format");
        assert_code(Phone::parse("0371--67891234"), "format");
        assert_code(Phone::parse("0371-6789-1234-5"), "format");
        assert_code(Phone::parse("67891234"), "format");
        assert_code(Phone::parse("400-123-456"), "length");
        assert_code(Phone::parse("401-123-4567"), "prefix");
        assert_code(Phone::parse("(0371)67891234"), "not_digits");
        assert_code(Phone::parse("0371-6789123x"), "not_digits");
    }

    // --- Plate ----------------------------------------------------------

    #[test]
    fn plate_valid() {
        let cases = [
            ("京A12345", "京A12345", PlateKind::Ordinary),
            ("豫AB123C", "豫AB123C", PlateKind::Ordinary),
            ("沪A8K9F2", "沪A8K9F2", PlateKind::Ordinary),
            ("京AD1234", "京AD1234", PlateKind::Ordinary),
            (" 京a·12345 ", "京A12345", PlateKind::Ordinary),
            ("粤BD12345", "粤BD12345", PlateKind::NewEnergySmall),
            ("粤B-F1234 5", "粤BF12345", PlateKind::NewEnergySmall),
            ("沪AFA1234", "沪AFA1234", PlateKind::NewEnergySmall),
            ("粤B12345D", "粤B12345D", PlateKind::NewEnergyLarge),
            ("川a•12345f", "川A12345F", PlateKind::NewEnergyLarge),
            ("豫A1234挂", "豫A1234挂", PlateKind::Special),
            ("粤Z1234港", "粤Z1234港", PlateKind::Special),
            ("粤Z.A123澳", "粤ZA123澳", PlateKind::Special),
            ("京A1234警", "京A1234警", PlateKind::Special),
            ("鲁B1234学", "鲁B1234学", PlateKind::Special),
        ];
        for (input, stored, kind) in cases {
            let p = PlateNo::parse(input).unwrap();
            assert_eq!(p.as_str(), stored, "{input}");
            assert_eq!(p.kind(), kind, "{input}");
        }
    }

    #[test]
    fn plate_invalid() {
        assert_code(PlateNo::parse(""), "empty");
        assert_code(PlateNo::parse(" · "), "empty");
        assert_code(PlateNo::parse("A12345"), "prefix");
        assert_code(PlateNo::parse("港A12345"), "prefix");
        assert_code(PlateNo::parse("京A1234"), "length");
        assert_code(PlateNo::parse("京A1234567"), "length");
        assert_code(PlateNo::parse("京"), "length");
        assert_code(PlateNo::parse("京112345"), "format");
        assert_code(PlateNo::parse("京AI2345"), "format");
        assert_code(PlateNo::parse("京A1O345"), "format");
        assert_code(PlateNo::parse("京AF0A123"), "format");
        assert_code(PlateNo::parse("京AD12345挂"), "length");
        assert_code(PlateNo::parse("京AX12345"), "format");
        assert_code(PlateNo::parse("京A12345X"), "format");
        assert_code(PlateNo::parse("京AI12345"), "format");
        assert_code(PlateNo::parse("京A123挂5"), "format");
        assert_code(PlateNo::parse("京A12挂45"), "format");
        assert_code(PlateNo::parse("京A123I挂"), "format");
        assert_code(PlateNo::parse("京A1234使"), "format");
    }

    // --- VIN ------------------------------------------------------------

    #[test]
    fn vin_valid() {
        for (input, stored) in [
            ("1M8GDM9AXKP042788", "1M8GDM9AXKP042788"),
            ("1m8gdm9axkp042788", "1M8GDM9AXKP042788"),
            ("LSVAU218XN2183294", "LSVAU218XN2183294"),
            ("11111111111111111", "11111111111111111"),
            ("LFV2A21K157004325", "LFV2A21K157004325"),
        ] {
            assert_eq!(Vin::parse(input).unwrap().as_str(), stored, "{input}");
        }
    }

    #[test]
    fn vin_invalid() {
        assert_code(Vin::parse(""), "empty");
        assert_code(Vin::parse("1M8GDM9AXKP04278"), "length");
        assert_code(Vin::parse("1M8GDM9AXKP0427888"), "length");
        assert_code(Vin::parse("1M8GDM9AXKP04278I"), "format");
        assert_code(Vin::parse("1M8GDM9AXKP04278O"), "format");
        assert_code(Vin::parse("1M8GDM9AXKP04278Q"), "format");
        assert_code(Vin::parse("1M8GDM9AXKP 42788"), "format");
        assert_code(Vin::parse("LSVAU2180N218329京"), "format");
        assert_code(Vin::parse("1M8GDM9A1KP042788"), "checksum");
        assert_code(Vin::parse("1M8GDM9AXKP042789"), "checksum");
        assert_code(Vin::parse("LFV2A21K557004325"), "checksum");
        // Often quoted as an example, but its check digit should be X.
        assert_code(Vin::parse("LSVAU2180N2183294"), "checksum");
    }

    // --- Email ----------------------------------------------------------

    #[test]
    fn email_valid() {
        for (input, stored) in [
            ("ops@example.com", "ops@example.com"),
            (" Zhang.San@Example.COM.cn ", "Zhang.San@example.com.cn"),
            ("a+tag@sub.domain.org", "a+tag@sub.domain.org"),
        ] {
            assert_eq!(Email::parse(input).unwrap().as_str(), stored, "{input}");
        }
    }

    #[test]
    fn email_invalid() {
        assert_code(Email::parse(""), "empty");
        assert_code(Email::parse("example.com"), "format");
        assert_code(Email::parse("@example.com"), "format");
        assert_code(Email::parse("a@b@example.com"), "format");
        assert_code(Email::parse("a@localhost"), "format");
        assert_code(Email::parse("a@.example.com"), "format");
        assert_code(Email::parse("a@example..com"), "format");
        assert_code(Email::parse("a@example.com."), "format");
        assert_code(Email::parse("a b@example.com"), "format");
        assert_code(Email::parse("ab@exa\u{0}mple.com"), "format");
        let long = format!("{}@example.com", "a".repeat(243));
        assert_eq!(long.len(), 255);
        assert_code(Email::parse(&long), "length");
        assert!(Email::parse(&long[1..]).is_ok());
    }

    // --- shared behaviour -----------------------------------------------

    #[test]
    fn nasty_inputs_never_panic() {
        let long_digits = "8".repeat(100_000);
        let long_mixed = "京A1·".repeat(10_000);
        let nasty = [
            "",
            "\0",
            "\u{0}\u{1}\u{7f}",
            "😀",
            "京😀A12345",
            "😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀",
            "京A1234😀",
            "京A\u{301}12345",
            "+86",
            "+86😀",
            "-",
            "0-",
            "0",
            "01",
            "0😀",
            "@",
            "@.",
            "\u{202e}13800138000",
            "ＡＢＣ",
            "ǅǅǅǅǅǅǅǅǅǅǅǅǅǅǅǅǅ",
            "\u{feff}490154203237518",
            long_digits.as_str(),
            long_mixed.as_str(),
        ];
        for s in nasty {
            let _ = Imei::parse(s);
            let _ = Iccid::parse(s);
            let _ = Msisdn::parse(s);
            let _ = Phone::parse(s);
            let _ = PlateNo::parse(s);
            let _ = Vin::parse(s);
            let _ = Email::parse(s);
            let _ = Carrier::parse(s);
            let _ = luhn_valid(s);
            let _ = luhn_check_digit(s);
            if let Ok(p) = PlateNo::parse(s) {
                let _ = p.kind();
            }
        }
    }

    #[test]
    fn conversions() {
        let imei = Imei::try_from("490154203237518".to_owned()).unwrap();
        assert_eq!(imei.as_ref(), "490154203237518");
        assert_eq!(format!("{imei}"), "490154203237518");
        assert_eq!(String::from(imei.clone()), "490154203237518");
        assert_eq!("490154203237518".parse::<Imei>().unwrap(), imei);
        assert_code(Vin::try_from("nope".to_owned()), "format");
        let plate: String = PlateNo::parse("京a 12345").unwrap().into();
        assert_eq!(plate, "京A12345");
    }

    #[test]
    fn serde_round_trip() {
        #[derive(Debug, PartialEq, Serialize, Deserialize)]
        struct Terminal {
            imei: Imei,
            iccid: Iccid,
            carrier: Carrier,
            msisdn: Msisdn,
            contact: Phone,
            plate: PlateNo,
            kind: PlateKind,
            vin: Vin,
            email: Email,
        }
        let iccid = Iccid::parse(&with_luhn("898600123456789012")).unwrap();
        let plate = PlateNo::parse("粤B12345D").unwrap();
        let t = Terminal {
            imei: Imei::parse("356938035643809").unwrap(),
            carrier: iccid.carrier(),
            iccid: iccid.clone(),
            msisdn: Msisdn::parse("1440123456789").unwrap(),
            contact: Phone::parse("0371 67891234").unwrap(),
            kind: plate.kind(),
            plate,
            vin: Vin::parse("LSVAU218XN2183294").unwrap(),
            email: Email::parse("ops@Example.com").unwrap(),
        };
        let json = serde_json::to_value(&t).unwrap();
        assert_eq!(json["imei"], "356938035643809");
        assert_eq!(json["iccid"], iccid.as_str());
        assert_eq!(json["carrier"], "china_mobile");
        assert_eq!(json["contact"], "0371-67891234");
        assert_eq!(json["plate"], "粤B12345D");
        assert_eq!(json["kind"], "new_energy_large");
        assert_eq!(json["email"], "ops@example.com");
        let back: Terminal = serde_json::from_value(json).unwrap();
        assert_eq!(back, t);

        // Deserialising normalises too.
        let vin: Vin = serde_json::from_str("\"1m8gdm9axkp042788\"").unwrap();
        assert_eq!(vin.as_str(), "1M8GDM9AXKP042788");
    }

    #[test]
    fn serde_rejects_invalid() {
        let err = serde_json::from_str::<Imei>("\"490154203237519\"").unwrap_err();
        assert!(
            err.to_string().contains("Luhn check digit does not match"),
            "{err}"
        );
        assert!(serde_json::from_str::<Vin>("\"1M8GDM9A1KP042788\"").is_err());
        assert!(serde_json::from_str::<PlateNo>("\"XA12345\"").is_err());
        assert!(serde_json::from_str::<Email>("\"nope\"").is_err());
        assert!(serde_json::from_str::<Msisdn>("12345").is_err());
        assert!(serde_json::from_str::<Phone>("\"\"").is_err());
        assert!(serde_json::from_str::<Iccid>("null").is_err());
        assert!(serde_json::from_str::<Carrier>("\"cmcc\"").is_err());
    }
}
