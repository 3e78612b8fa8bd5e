//! Use cases: what the product does, one function per thing a user does.
//!
//! A use case takes a connection (inside the transaction the API opened), the acting
//! [`Principal`], and typed input; it asks the domain's rules, reads and writes through
//! the store, and answers a typed result or an [`Error`]. The reactions between aggregates
//! live here too (a completed order opens a charge and a follow-up; a settled charge lets
//! the order close), so no HTTP handler ever calls another handler's module.
//!
//! Layers: `api` → `app` → (`store`, `notify`, `documents`) → `domain`. Nothing here knows
//! HTTP; `api/error.rs` maps [`Error`] to status codes.

pub mod accounts;
pub mod charges;
pub mod check;
pub mod equipment;
pub mod error;
pub mod feedback;
pub mod install_ledger;
pub mod invoices;
pub mod orders;
pub mod payments;
pub mod remittances;
pub mod search;
pub mod tracking;

pub use check::Check;
pub use error::{Error, FieldError, Result};

use crate::domain::access::{self, CenterFilter, Op, Resource, Role, Scope};
use crate::store::DbConn;

/// Who is acting: an authenticated user, their role and the centers they reach.
#[derive(Debug, Clone)]
pub struct Principal {
    pub id: String,
    pub role: Role,
    pub center_id: String,
    pub scope: Scope,
}

impl Principal {
    pub fn new(id: String, role: Role, center_id: String) -> Self {
        let scope = Scope::for_user(role, &center_id);
        Self {
            id,
            role,
            center_id,
            scope,
        }
    }

    /// `Forbidden` unless the role may do `op` on `resource` (`access::allowed`).
    pub fn require(&self, resource: Resource, op: Op) -> Result<()> {
        if access::allowed(self.role, resource, op) {
            Ok(())
        } else {
            Err(Error::Forbidden)
        }
    }

    /// The center filter of a list, given the `center_id` asked for: `None` when the
    /// caller can see nothing of it (another center), `Some(None)` for all centers.
    pub fn list_center(&self, requested: Option<&str>) -> Option<Option<String>> {
        match self.scope.center_filter(requested) {
            CenterFilter::Nothing => None,
            CenterFilter::All => Some(None),
            CenterFilter::Only(c) => Some(Some(c.to_string())),
        }
    }

    /// `Forbidden` unless the caller approves things of `center_id` (`access::may_approve`).
    pub fn approves(&self, center_id: &str) -> Result<()> {
        if access::may_approve(self.role, true, &self.center_id, center_id) {
            Ok(())
        } else {
            Err(Error::Forbidden)
        }
    }

    /// `NotFound` unless the object's center is in the caller's scope.
    pub fn see(&self, center_id: &str) -> Result<()> {
        if self.scope.covers(center_id) {
            Ok(())
        } else {
            Err(Error::NotFound)
        }
    }

    pub fn is(&self, role: Role) -> bool {
        self.role == role
    }
}

/// The user a caller names as the approver of something of `center_id` (`field` of the
/// body): 422 `not_an_approver` unless they exist and `access::may_approve`.
pub fn named_approver(
    c: &mut DbConn,
    field: &str,
    user_id: &str,
    center_id: &str,
) -> Result<crate::store::users::User> {
    let refused = || {
        Error::field(
            field,
            "not_an_approver",
            "must be an active admin, or an active manager of this center",
        )
    };
    let user = match crate::store::users::get(c, user_id) {
        Ok(u) => u,
        Err(crate::store::StoreError::NotFound) => return Err(refused()),
        Err(e) => return Err(e.into()),
    };
    let role = Role::parse(&user.role).ok_or_else(|| Error::corrupt("user role", &user.role))?;
    if access::may_approve(role, user.active, &user.center_id, center_id) {
        Ok(user)
    } else {
        Err(refused())
    }
}

/// A stored enum's value read back as the domain enum (`OrderStatus::parse`, …). An unknown
/// value is data this code never wrote: an internal error (logged, 500), never a default.
pub fn stored<T>(what: &'static str, value: &str, parse: impl Fn(&str) -> Option<T>) -> Result<T> {
    Ok(crate::store::stored(what, value, parse)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, center: &str) -> Principal {
        Principal::new("u1".into(), role, center.into())
    }

    #[test]
    fn another_centers_object_does_not_exist_for_the_caller() {
        let m = principal(Role::Manager, "zz");
        assert!(m.see("zz").is_ok());
        assert!(matches!(m.see("bj"), Err(Error::NotFound)));
        assert!(principal(Role::Admin, "zz").see("bj").is_ok());
    }

    #[test]
    fn approving_is_the_access_tables_rule() {
        assert!(principal(Role::Manager, "zz").approves("zz").is_ok());
        assert!(matches!(
            principal(Role::Manager, "zz").approves("bj"),
            Err(Error::Forbidden)
        ));
        assert!(principal(Role::Admin, "zz").approves("bj").is_ok());
        for role in [Role::Agent, Role::Technician, Role::Finance] {
            assert!(matches!(
                principal(role, "zz").approves("zz"),
                Err(Error::Forbidden)
            ));
        }
    }

    #[test]
    fn a_role_outside_the_table_is_forbidden() {
        assert!(
            principal(Role::Agent, "zz")
                .require(Resource::Orders, Op::Write)
                .is_ok()
        );
        assert!(matches!(
            principal(Role::Finance, "zz").require(Resource::Orders, Op::Write),
            Err(Error::Forbidden)
        ));
    }

    #[test]
    fn an_unknown_stored_value_is_an_error_never_a_default() {
        use crate::domain::order::OrderStatus;
        assert_eq!(
            stored("order status", "approved", OrderStatus::parse).ok(),
            Some(OrderStatus::Approved)
        );
        let err = stored("order status", "aproved", OrderStatus::parse).unwrap_err();
        assert!(matches!(
            err,
            Error::Store(crate::store::StoreError::Corrupt {
                what: "order status",
                ..
            })
        ));
        assert_eq!(
            err.to_string(),
            "stored order status has an unknown value \"aproved\""
        );
    }
}
