//! A collector of per-field validation errors: a request learns all its invalid fields at
//! once. Handlers check the shape of a body with it, use cases what needs the database.

use super::error::{Error, FieldError, Result};
use crate::domain::ids::IdError;

/// Collects every invalid field of a request, so the client learns them all at once.
#[derive(Default)]
pub struct Check {
    errors: Vec<FieldError>,
}

impl Check {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: impl Into<String>, code: &str, message: impl Into<String>) {
        self.errors.push(FieldError {
            field: field.into(),
            code: code.to_string(),
            message: message.into(),
        });
    }

    /// A parsed identifier, or the field's error recorded.
    pub fn id<T>(&mut self, field: impl Into<String>, r: Result<T, IdError>) -> Option<T> {
        match r {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(FieldError::bad_id(&field.into(), &e));
                None
            }
        }
    }

    pub fn opt_id<T>(
        &mut self,
        field: impl Into<String>,
        value: Option<&str>,
        parse: impl Fn(&str) -> Result<T, IdError>,
    ) -> Option<T> {
        value.and_then(|v| self.id(field, parse(v)))
    }

    /// Trimmed, non-empty text of at most `max` characters.
    pub fn text(&mut self, field: impl Into<String>, value: &str, max: usize) -> String {
        let v = value.trim();
        let field = field.into();
        if v.is_empty() {
            self.add(field, "required", "must not be empty");
        } else if v.chars().count() > max {
            self.add(field, "too_long", format!("at most {max} characters"));
        } else if v.chars().any(|c| c.is_control()) {
            self.add(
                field,
                "invalid_characters",
                "control characters are not allowed",
            );
        }
        v.to_string()
    }

    /// Optional text: empty becomes `None`.
    pub fn opt_text(
        &mut self,
        field: impl Into<String>,
        value: Option<&str>,
        max: usize,
    ) -> Option<String> {
        let v = value.map(str::trim).filter(|v| !v.is_empty())?;
        Some(self.text(field, v, max))
    }

    pub fn one_of<T: Copy>(
        &mut self,
        field: impl Into<String>,
        value: &str,
        parse: impl Fn(&str) -> Option<T>,
        names: &str,
    ) -> Option<T> {
        let r = parse(value);
        if r.is_none() {
            self.add(field, "invalid_choice", format!("must be one of: {names}"));
        }
        r
    }

    pub fn point(&mut self, prefix: &str, lat: f64, lng: f64) {
        if let Err(msg) = crate::domain::registry::GeoPoint::new(lat, lng) {
            let field = if msg.starts_with("lat") { "lat" } else { "lng" };
            let name = if prefix.is_empty() {
                field.to_string()
            } else {
                format!("{prefix}_{field}")
            };
            self.add(name, "out_of_range", msg);
        }
    }

    /// An optional position: both coordinates or neither; the pair when both are valid.
    pub fn opt_point(&mut self, lat: Option<f64>, lng: Option<f64>) -> Option<(f64, f64)> {
        match (lat, lng) {
            (Some(lat), Some(lng)) => {
                let before = self.errors.len();
                self.point("", lat, lng);
                (self.errors.len() == before).then_some((lat, lng))
            }
            (None, None) => None,
            _ => {
                self.add("lat", "incomplete", "give both lat and lng, or neither");
                None
            }
        }
    }

    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn finish(self) -> Result<()> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Validation(self.errors))
        }
    }

    pub fn into_errors(self) -> Vec<FieldError> {
        self.errors
    }
}
