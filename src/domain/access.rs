//! Who may do what, and over which service centers. One table, read by every handler.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Manager,
    Agent,
    Technician,
    Finance,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Manager,
        Role::Agent,
        Role::Technician,
        Role::Finance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Manager => "manager",
            Role::Agent => "agent",
            Role::Technician => "technician",
            Role::Finance => "finance",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// The registry's resources, as far as permissions go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource {
    Centers,
    Users,
    Technicians,
    /// customers with their contacts, vehicles and drivers
    Customers,
    /// terminals, SIM cards, bulk import, binding
    Equipment,
    /// reference data: terminal models
    Catalog,
    /// the price list of parts (technicians pick from it on site)
    Parts,
    /// install and repair work orders; technicians' reads are narrowed to their own
    Orders,
    /// the e-mail outbox: its messages, failures and retries
    Outbox,
    /// inquiries, complaints, suggestions and follow-up calls
    Feedback,
    /// the service KPIs of a center (managers) or all centers (admins)
    Kpis,
    /// photos from the site: taken by the technicians on the order (and managers, for
    /// paperwork brought back), seen by whoever sees the order
    Photos,
    /// what a center requires before an order may be completed (photo kinds)
    ProofRules,
    /// the install ledger (安装台账): every vehicle fitted, with its terminal, SIM,
    /// installer and proof, as audited for 两客一危 fleets; read-only
    InstallLedger,
    /// charges, payments, remittances and invoices; one part at a time, since who may
    /// read and write differs between them
    Money(Money),
}

/// The parts of money whose rights differ. Agents handle no money. Approving (adjustments,
/// reversals, discrepancies) is not here: it is [`may_approve`], which also needs the center.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Money {
    /// charges with their adjustments, payments and receipts, remittances, cash in hand:
    /// technicians read (and ask adjustments on) their own only, which handlers narrow to
    Ledger,
    /// a center's money as a whole: charge, invoice and discrepancy lists, reports;
    /// writing is reversing a payment (the approver is checked on top)
    Books,
    /// collecting on site and handing the money over: the technician's own act
    Collections,
    /// invoices to credit customers, their payments, fapiao numbers
    Billing,
    /// counting a handed-over remittance
    Counting,
    /// a center's money settings (the adjustment threshold)
    Settings,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Read,
    Write,
}

/// The role × resource × operation table. Scope (which center) is checked separately.
pub fn allowed(role: Role, resource: Resource, op: Op) -> bool {
    use Op::*;
    use Resource::*;
    use Role::*;
    match (resource, op) {
        (Centers, Read) => true,
        (Centers, Write) => role == Admin,
        (Users, Read) => matches!(role, Admin | Manager),
        (Users, Write) => role == Admin,
        // a technician reads only their own profile; handlers narrow the scope to self
        (Technicians, Read) => matches!(role, Admin | Manager | Agent | Technician),
        (Technicians, Write) => matches!(role, Admin | Manager),
        (Customers, Read) => matches!(role, Admin | Manager | Agent | Finance),
        (Customers, Write) => matches!(role, Admin | Manager | Agent),
        (Equipment, Read) => matches!(role, Admin | Manager | Agent),
        (Equipment, Write) => matches!(role, Admin | Manager),
        (Catalog, Read) => matches!(role, Admin | Manager | Agent),
        (Catalog, Write) => role == Admin,
        (Parts, Read) => true,
        (Parts, Write) => role == Admin,
        (Orders, Read) => true,
        (Orders, Write) => matches!(role, Admin | Manager | Agent),
        (Outbox, _) => role == Admin,
        (Feedback, _) => matches!(role, Admin | Manager | Agent),
        (Kpis, Read) => matches!(role, Admin | Manager),
        (Kpis, Write) => false,
        (Photos, Read) => true,
        (Photos, Write) => matches!(role, Admin | Manager | Technician),
        (ProofRules, Read) => true,
        (ProofRules, Write) => matches!(role, Admin | Manager),
        (InstallLedger, Read) => matches!(role, Admin | Manager | Agent),
        (InstallLedger, Write) => false,
        (Money(part), op) => money_allowed(role, part, op),
    }
}

fn money_allowed(role: Role, part: Money, op: Op) -> bool {
    use Money::*;
    use Op::*;
    use Role::*;
    match (part, op) {
        (Ledger, _) => matches!(role, Admin | Manager | Finance | Technician),
        (Books, _) => matches!(role, Admin | Manager | Finance),
        (Collections, _) => role == Technician,
        (Billing, Read) => matches!(role, Admin | Manager | Finance),
        (Billing, Write) => matches!(role, Admin | Finance),
        (Counting, _) => role == Finance,
        (Settings, Read) => true,
        (Settings, Write) => role == Admin,
    }
}

/// The handbook's approver (adjustments and waivers, reversals, verbal approvals,
/// discrepancies): an active admin, or an active manager of the object's center. The one
/// place this rule is written; handlers ask it about the caller and about a named approver.
pub fn may_approve(role: Role, active: bool, user_center: &str, center: &str) -> bool {
    active && (role == Role::Admin || (role == Role::Manager && user_center == center))
}

/// Which service centers a user's requests reach.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    AllCenters,
    Center(String),
}

impl Scope {
    pub fn for_user(role: Role, center_id: &str) -> Scope {
        match role {
            Role::Admin => Scope::AllCenters,
            _ => Scope::Center(center_id.to_string()),
        }
    }

    /// Whether an object of `center_id` is visible. Invisible objects answer 404.
    pub fn covers(&self, center_id: &str) -> bool {
        match self {
            Scope::AllCenters => true,
            Scope::Center(c) => c == center_id,
        }
    }

    /// The center filter a list must apply, given the `center_id` the caller asked for.
    pub fn center_filter<'a>(&'a self, requested: Option<&'a str>) -> CenterFilter<'a> {
        match (self, requested) {
            (Scope::AllCenters, None) => CenterFilter::All,
            (Scope::AllCenters, Some(r)) => CenterFilter::Only(r),
            (Scope::Center(c), None) => CenterFilter::Only(c),
            (Scope::Center(c), Some(r)) if r == c => CenterFilter::Only(c),
            // another center's data does not exist for this caller
            (Scope::Center(_), Some(_)) => CenterFilter::Nothing,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CenterFilter<'a> {
    All,
    Only(&'a str),
    Nothing,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn technicians_and_finance_cannot_touch_equipment() {
        for op in [Op::Read, Op::Write] {
            assert!(!allowed(Role::Technician, Resource::Equipment, op));
            assert!(!allowed(Role::Finance, Resource::Equipment, op));
        }
        assert!(allowed(Role::Manager, Resource::Equipment, Op::Write));
        assert!(!allowed(Role::Agent, Resource::Equipment, Op::Write));
    }

    #[test]
    fn only_admin_manages_users_and_centers() {
        for r in Role::ALL {
            assert_eq!(allowed(r, Resource::Users, Op::Write), r == Role::Admin);
            assert_eq!(allowed(r, Resource::Centers, Op::Write), r == Role::Admin);
            assert!(allowed(r, Resource::Centers, Op::Read));
        }
    }

    #[test]
    fn customers_are_for_office_roles() {
        assert!(allowed(Role::Finance, Resource::Customers, Op::Read));
        assert!(!allowed(Role::Finance, Resource::Customers, Op::Write));
        assert!(!allowed(Role::Technician, Resource::Customers, Op::Read));
        assert!(allowed(Role::Agent, Resource::Customers, Op::Write));
    }

    #[test]
    fn the_install_ledger_is_read_by_the_office_but_finance_and_technicians() {
        for r in Role::ALL {
            assert_eq!(
                allowed(r, Resource::InstallLedger, Op::Read),
                matches!(r, Role::Admin | Role::Manager | Role::Agent),
                "{r:?}"
            );
            assert!(!allowed(r, Resource::InstallLedger, Op::Write), "{r:?}");
        }
    }

    #[test]
    fn agents_handle_no_money() {
        use Money::*;
        for part in [Ledger, Books, Collections, Billing, Counting] {
            for op in [Op::Read, Op::Write] {
                assert!(!allowed(Role::Agent, Resource::Money(part), op));
            }
        }
    }

    #[test]
    fn money_rights_by_role() {
        use Money::*;
        let may = |r, part, op| allowed(r, Resource::Money(part), op);
        // technicians: their own ledger, collecting and handing over; not a center's books
        assert!(may(Role::Technician, Ledger, Op::Read));
        assert!(may(Role::Technician, Collections, Op::Write));
        assert!(!may(Role::Technician, Books, Op::Read));
        assert!(!may(Role::Technician, Billing, Op::Read));
        // only technicians collect and hand over
        for r in [Role::Admin, Role::Manager, Role::Finance] {
            assert!(!may(r, Collections, Op::Write));
            assert!(may(r, Books, Op::Read));
            assert!(may(r, Books, Op::Write));
        }
        // billing is finance's (and admins'); managers read it
        assert!(may(Role::Finance, Billing, Op::Write));
        assert!(may(Role::Admin, Billing, Op::Write));
        assert!(!may(Role::Manager, Billing, Op::Write));
        assert!(may(Role::Manager, Billing, Op::Read));
        // finance alone counts remittances, not even admins
        for r in Role::ALL {
            assert_eq!(may(r, Counting, Op::Write), r == Role::Finance);
            assert_eq!(may(r, Settings, Op::Write), r == Role::Admin);
            assert!(may(r, Settings, Op::Read));
        }
    }

    #[test]
    fn approvers_are_active_admins_or_managers_of_the_center() {
        assert!(may_approve(Role::Admin, true, "bj", "zz"));
        assert!(may_approve(Role::Manager, true, "zz", "zz"));
        assert!(!may_approve(Role::Manager, true, "bj", "zz"));
        assert!(!may_approve(Role::Manager, false, "zz", "zz"));
        assert!(!may_approve(Role::Admin, false, "zz", "zz"));
        for r in [Role::Agent, Role::Technician, Role::Finance] {
            assert!(!may_approve(r, true, "zz", "zz"));
        }
    }

    #[test]
    fn scope_limits_non_admins_to_their_center() {
        let s = Scope::for_user(Role::Manager, "zz");
        assert!(s.covers("zz"));
        assert!(!s.covers("bj"));
        assert_eq!(s.center_filter(None), CenterFilter::Only("zz"));
        assert_eq!(s.center_filter(Some("bj")), CenterFilter::Nothing);
        let a = Scope::for_user(Role::Admin, "zz");
        assert!(a.covers("bj"));
        assert_eq!(a.center_filter(None), CenterFilter::All);
        assert_eq!(a.center_filter(Some("bj")), CenterFilter::Only("bj"));
    }
}
