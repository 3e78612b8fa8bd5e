//! Verbal emergency approvals (口头请示) recorded on site and confirmed by a manager later,
//! and the customer's sign-off (验收签字).

use chrono::NaiveDateTime;

use super::{OrderView, act, on_site, record_act};
use crate::app::{Error, Principal, Result, named_approver};
use crate::store::orders::{self as store, OrderPatch, VerbalApproval};
use crate::store::{DbConn, new_id, now};

/// Record a verbal approval given by `approver_id` (a manager of the order's center, or
/// an admin) at `approved_at` (default now).
pub fn add_verbal(
    c: &mut DbConn,
    p: &Principal,
    id: &str,
    version: i32,
    approver_id: &str,
    content: String,
    approved_at: Option<NaiveDateTime>,
) -> Result<OrderView> {
    act(c, p, id, version, |c, order| {
        on_site(p, order, true)?;
        let approver = named_approver(c, "approver_id", approver_id, &order.center_id)?;
        let t = now();
        store::insert_verbal_approval(
            c,
            &VerbalApproval {
                id: new_id(),
                order_id: order.id.clone(),
                approver_id: approver.id.clone(),
                approved_at: approved_at.unwrap_or(t),
                content: content.clone(),
                recorded_by: p.id.clone(),
                recorded_at: t,
                confirmed_by: None,
                confirmed_at: None,
            },
        )?;
        let comment = format!("{}: {content}", approver.display_name);
        record_act(c, p, order, "verbal_approval", Some(&comment), t)
    })
}

/// A manager confirms a verbal approval recorded on the order (once).
pub fn confirm_verbal(
    c: &mut DbConn,
    p: &Principal,
    id: &str,
    version: i32,
    approval_id: &str,
) -> Result<OrderView> {
    act(c, p, id, version, |c, order| {
        let known = store::verbal_approvals(c, &order.id)?
            .into_iter()
            .find(|a| a.id == approval_id)
            .ok_or(Error::NotFound)?;
        if !store::confirm_verbal_approval(c, &order.id, &known.id, &p.id)? {
            return Err(Error::conflict(
                "already_confirmed",
                "the verbal approval is already confirmed",
            ));
        }
        record_act(
            c,
            p,
            order,
            "verbal_approval_confirmed",
            Some(&known.content),
            now(),
        )
    })
}

/// The customer's sign-off: who signed, when (default now; not before the arrival), and
/// the signature image (checked by the handler).
pub fn sign_off(
    c: &mut DbConn,
    p: &Principal,
    id: &str,
    version: i32,
    signer_name: String,
    signed_at: Option<NaiveDateTime>,
    image: Option<String>,
) -> Result<OrderView> {
    act(c, p, id, version, |c, order| {
        on_site(p, order, false)?;
        let at = signed_at.unwrap_or_else(now);
        if let Some(a) = order.arrived_at
            && at < a
        {
            return Err(Error::field(
                "signed_at",
                "out_of_range",
                "before the arrival",
            ));
        }
        let patch = OrderPatch {
            signoff_name: Some(Some(signer_name.clone())),
            signoff_at: Some(Some(at)),
            signoff_image: Some(image),
            ..Default::default()
        };
        store::update(c, &order.id, order.version, &patch)?;
        store::add_event(c, &order.id, &p.id, "sign_off", None, Some(&signer_name))?;
        Ok(())
    })
}
