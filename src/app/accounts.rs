//! Accounts: the rules of a new password, and hashing it.

use super::{Check, Error, Result};

/// Hashes a password (argon2; slow on purpose: call it off the async threads).
pub fn hash_password(password: &str) -> Result<String> {
    crate::password::hash(password).map_err(Error::Internal)
}

/// A new password's length rules, recorded on `field`.
pub fn check_new_password(check: &mut Check, field: &str, pw: &str) {
    let n = pw.chars().count();
    if n < 8 {
        check.add(field, "too_short", "at least 8 characters");
    } else if n > 128 {
        check.add(field, "too_long", "at most 128 characters");
    }
}
