//! Work orders: install work orders (安装任务派工单) and repair service orders (维修服务单),
//! their lifecycle, and the small rules around them.
//!
//! The lifecycle follows 安装维修服务细则 (客户服务管理制度 篇三, 四):
//!
//! 1. the agent (客服专员) fills the order — `draft`, then `submitted`;
//! 2. "经GPS事业部经理审批…，安排合适的维修人员" — the manager approves (or rejects; a
//!    rejected order may be revised and resubmitted) and assigns a lead technician;
//! 3. the technician accepts (or declines, back to the manager), and "出发前须核对安装维修
//!    信息，准备好工具，备品配件及相关文件" — the readiness check makes the order `ready`;
//! 4. departs (`en_route`), arrives (`on_site`), may put the job `on_hold` waiting for
//!    parts (器件或配件的不足) and resume it, and completes it;
//! 5. the order is closed once follow-up (and, for a paid repair, the remittance) is done.
//!
//! ```text
//! main line:  draft → submitted → approved → assigned → accepted → ready → en_route
//!             → on_site → completed → closed
//! side ways:  submitted → rejected → submitted (revised and resubmitted)
//!             assigned → approved (declined by the technician)
//!             assigned | accepted | ready → assigned (reassigned to a new lead)
//!             accepted | ready | en_route | on_site → on_hold → back where it was
//!             → cancelled: by the agent from draft | submitted | rejected,
//!               by a manager from anything but completed | closed | cancelled
//! ```
//!
//! [`next`] is the whole transition table; every handler asks it and records who, when,
//! from and to.

use std::fmt;

str_enum!(
    /// install: 安装任务派工单; repair: 维修服务单.
    OrderKind { Install = "install", Repair = "repair" }
);

impl OrderKind {
    /// The order-number prefix: AZ (安装) or WX (维修).
    pub fn prefix(self) -> &'static str {
        match self {
            OrderKind::Install => "AZ",
            OrderKind::Repair => "WX",
        }
    }

    /// The document title.
    pub fn label_zh(self) -> &'static str {
        match self {
            OrderKind::Install => "安装任务派工单",
            OrderKind::Repair => "维修服务单",
        }
    }
}

str_enum!(
    /// Where a work order is in its lifecycle.
    OrderStatus {
        /// 草稿: being filled by the agent.
        Draft = "draft",
        /// 待审批: waiting for the manager.
        Submitted = "submitted",
        /// 已审批: approved, waiting for a technician to be assigned.
        Approved = "approved",
        /// 已驳回: sent back to the agent with a reason; may be resubmitted.
        Rejected = "rejected",
        /// 已派工: a lead technician is assigned and has not yet accepted.
        Assigned = "assigned",
        /// 已接单: the lead technician accepted.
        Accepted = "accepted",
        /// 已就绪: the readiness check (出发前核对) is done.
        Ready = "ready",
        /// 在途: on the way.
        EnRoute = "en_route",
        /// 到场: on site, working.
        OnSite = "on_site",
        /// 暂停: waiting (usually for parts); resumes where it stopped.
        OnHold = "on_hold",
        /// 已完工: the work is done and signed off by the customer.
        Completed = "completed",
        /// 已关闭: followed up (and paid, for paid services); final.
        Closed = "closed",
        /// 已取消: final.
        Cancelled = "cancelled",
    }
);

impl OrderStatus {
    /// No action leads anywhere from here: `closed` and `cancelled`. (`rejected` is not
    /// terminal: the agent revises and resubmits, or cancels.)
    pub fn is_terminal(self) -> bool {
        matches!(self, OrderStatus::Closed | OrderStatus::Cancelled)
    }

    /// The agent may still correct the order's site, contact, window, urgency and lines:
    /// a draft, or an order the manager rejected (then it is resubmitted).
    pub fn is_editable(self) -> bool {
        matches!(self, OrderStatus::Draft | OrderStatus::Rejected)
    }

    /// The order is on a technician's list of current jobs: assigned, accepted, ready,
    /// en route, on site, or on hold.
    pub fn is_active_for_technician(self) -> bool {
        use OrderStatus::*;
        matches!(
            self,
            Assigned | Accepted | Ready | EnRoute | OnSite | OnHold
        )
    }

    /// The parts recorded on the order may no longer be corrected or removed: from
    /// completion on the fee is computed from them (and owed), so a mistake after that is
    /// an adjustment of the charge, not of the parts.
    pub fn parts_locked(self) -> bool {
        use OrderStatus::*;
        matches!(self, Completed | Closed | Cancelled)
    }

    /// The states an order may be put on hold from, and so resumed to.
    pub fn is_holdable(self) -> bool {
        use OrderStatus::*;
        matches!(self, Accepted | Ready | EnRoute | OnSite)
    }

    pub fn label_zh(self) -> &'static str {
        use OrderStatus::*;
        match self {
            Draft => "草稿",
            Submitted => "待审批",
            Approved => "已审批",
            Rejected => "已驳回",
            Assigned => "已派工",
            Accepted => "已接单",
            Ready => "已就绪",
            EnRoute => "在途",
            OnSite => "到场",
            OnHold => "暂停",
            Completed => "已完工",
            Closed => "已关闭",
            Cancelled => "已取消",
        }
    }
}

str_enum!(
    /// What someone does to an order.
    Action {
        Submit = "submit",
        Approve = "approve",
        Reject = "reject",
        Assign = "assign",
        Reassign = "reassign",
        Accept = "accept",
        Decline = "decline",
        CheckReady = "check_ready",
        Depart = "depart",
        Arrive = "arrive",
        Hold = "hold",
        Resume = "resume",
        Complete = "complete",
        Close = "close",
        Cancel = "cancel",
    }
);

impl Action {
    /// The action's name as the API says it: the endpoint `POST /work-orders/{id}/<name>`,
    /// the timeline's `action`, the order's `allowed_actions`.
    pub fn endpoint(self) -> &'static str {
        match self {
            Action::CheckReady => "readiness",
            other => other.as_str(),
        }
    }
}

str_enum!(
    /// The caller's relation to the order, worked out by the HTTP layer from the role
    /// and the assignment: an admin is `Admin` (acting like a manager); a technician is
    /// `LeadTechnician` only on orders where they are the lead, otherwise (helpers
    /// included) `OtherTechnician`.
    Actor {
        Agent = "agent",
        Manager = "manager",
        Admin = "admin",
        LeadTechnician = "lead_technician",
        OtherTechnician = "other_technician",
        Finance = "finance",
    }
);

/// Why [`next`] refused an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The action does not apply to an order in this state (409).
    WrongState {
        current: OrderStatus,
        action: Action,
    },
    /// This actor may never take this action (403).
    NotPermitted { action: Action },
}

impl Refusal {
    /// Stable machine code: `invalid_transition` or `forbidden`.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::WrongState { .. } => "invalid_transition",
            Refusal::NotPermitted { .. } => "forbidden",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::WrongState { current, action } => write!(
                f,
                "cannot {} an order that is {}",
                action.as_str(),
                current.as_str()
            ),
            Refusal::NotPermitted { action } => {
                write!(f, "not permitted to {} this order", action.as_str())
            }
        }
    }
}

impl std::error::Error for Refusal {}

/// Whether `actor` may take `action` at all (in some state).
pub fn permitted(action: Action, actor: Actor) -> bool {
    use Action::*;
    use Actor::*;
    match action {
        Submit | Cancel => matches!(actor, Agent | Manager | Admin),
        Approve | Reject | Assign | Reassign => matches!(actor, Manager | Admin),
        Accept | Decline | CheckReady | Depart | Arrive | Complete => actor == LeadTechnician,
        Hold | Resume => matches!(actor, LeadTechnician | Manager | Admin),
        Close => matches!(actor, Manager | Admin | Agent),
    }
}

/// The state after `actor` takes `action` on an order in state `current`.
///
/// `held_from` is the state the order was in when put on hold (kept beside the status);
/// it matters only for `resume`.
///
/// The actor is checked first ([`permitted`]: `NotPermitted`), then the state
/// (`WrongState`). The table:
///
/// | action | who | from | to |
/// |---|---|---|---|
/// | submit | agent, manager, admin | draft, rejected | submitted |
/// | approve / reject | manager, admin | submitted | approved / rejected |
/// | assign | manager, admin | approved | assigned |
/// | reassign | manager, admin | assigned, accepted, ready | assigned (a new lead) |
/// | accept | lead technician | assigned | accepted |
/// | decline | lead technician | assigned | approved (back to the manager) |
/// | check_ready | lead technician | accepted | ready |
/// | depart | lead technician | ready | en_route |
/// | arrive | lead technician | en_route | on_site |
/// | hold | lead technician, manager, admin | accepted, ready, en_route, on_site | on_hold |
/// | resume | lead technician, manager, admin | on_hold | `held_from` (one of the four above) |
/// | complete | lead technician | on_site | completed |
/// | close | manager, admin, agent | completed | closed |
/// | cancel | agent | draft, submitted, rejected | cancelled |
/// | cancel | manager, admin | any but completed, closed, cancelled | cancelled |
///
/// Finance and other technicians (helpers) take none of these actions. An agent
/// cancelling an order past `rejected` is `WrongState` (the agent may cancel, just not
/// in that state); the HTTP layer adds its own checks (reasons, sign-off, fees).
pub fn next(
    current: OrderStatus,
    held_from: Option<OrderStatus>,
    action: Action,
    actor: Actor,
) -> Result<OrderStatus, Refusal> {
    use Action as A;
    use OrderStatus as S;
    if !permitted(action, actor) {
        return Err(Refusal::NotPermitted { action });
    }
    let to = match (action, current) {
        (A::Submit, S::Draft | S::Rejected) => Some(S::Submitted),
        (A::Approve, S::Submitted) => Some(S::Approved),
        (A::Reject, S::Submitted) => Some(S::Rejected),
        (A::Assign, S::Approved) => Some(S::Assigned),
        (A::Reassign, S::Assigned | S::Accepted | S::Ready) => Some(S::Assigned),
        (A::Accept, S::Assigned) => Some(S::Accepted),
        (A::Decline, S::Assigned) => Some(S::Approved),
        (A::CheckReady, S::Accepted) => Some(S::Ready),
        (A::Depart, S::Ready) => Some(S::EnRoute),
        (A::Arrive, S::EnRoute) => Some(S::OnSite),
        (A::Hold, s) if s.is_holdable() => Some(S::OnHold),
        (A::Resume, S::OnHold) => held_from.filter(|h| h.is_holdable()),
        (A::Complete, S::OnSite) => Some(S::Completed),
        (A::Close, S::Completed) => Some(S::Closed),
        (A::Cancel, s) => {
            let cancellable = if actor == Actor::Agent {
                matches!(s, S::Draft | S::Submitted | S::Rejected)
            } else {
                !matches!(s, S::Completed | S::Closed | S::Cancelled)
            };
            cancellable.then_some(S::Cancelled)
        }
        _ => None,
    };
    to.ok_or(Refusal::WrongState { current, action })
}

/// The actions `actor` may take now, in [`Action::ALL`] order (for the UI's buttons).
pub fn allowed_actions(
    current: OrderStatus,
    held_from: Option<OrderStatus>,
    actor: Actor,
) -> Vec<Action> {
    Action::ALL
        .iter()
        .copied()
        .filter(|&a| next(current, held_from, a, actor).is_ok())
        .collect()
}

/// What the completion handler knows about an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CompletionCheck {
    /// Vehicle lines on the order.
    pub lines_total: usize,
    /// Lines still `pending` (neither done nor recorded as not done).
    pub lines_unresolved: usize,
    /// The customer signed off (客户签字确认).
    pub signed_off: bool,
}

/// Why an order on site cannot be completed yet; empty when it can. Codes, in order:
/// `no_lines` (an order without a single vehicle line), `lines_unresolved` (some line is
/// still pending), `not_signed_off` (no customer sign-off). The fee is checked by the
/// caller with [`crate::domain::fees::compute`].
pub fn completion_blockers(c: &CompletionCheck) -> Vec<&'static str> {
    let mut out = Vec::new();
    if c.lines_total == 0 {
        out.push("no_lines");
    }
    if c.lines_unresolved > 0 {
        out.push("lines_unresolved");
    }
    if !c.signed_off {
        out.push("not_signed_off");
    }
    out
}

str_enum!(
    /// The state of one vehicle line on an order.
    LineStatus {
        /// 待处理
        Pending = "pending",
        /// 已完成
        Done = "done",
        /// 未完成: recorded as not done, with a reason (vehicle absent, customer refused…).
        NotDone = "not_done",
    }
);

impl LineStatus {
    /// Done or recorded as not done: the line no longer blocks completion.
    pub fn is_resolved(self) -> bool {
        self != LineStatus::Pending
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            LineStatus::Pending => "待处理",
            LineStatus::Done => "已完成",
            LineStatus::NotDone => "未完成",
        }
    }
}

str_enum!(
    /// What was done on a vehicle line.
    LineWork {
        /// 安装: fitted a terminal and SIM, bound terminal ↔ SIM ↔ vehicle.
        Install = "install",
        /// 更换终端: old and new terminal numbers recorded, the old one fault-tagged.
        TerminalSwap = "terminal_swap",
        /// 更换SIM卡: old and new SIM numbers recorded.
        SimSwap = "sim_swap",
        /// 维修: fixed in place.
        Repair = "repair",
        /// 检测: inspected, nothing changed.
        Inspect = "inspect",
    }
);

impl LineWork {
    pub fn label_zh(self) -> &'static str {
        match self {
            LineWork::Install => "安装",
            LineWork::TerminalSwap => "更换终端",
            LineWork::SimSwap => "更换SIM卡",
            LineWork::Repair => "维修",
            LineWork::Inspect => "检测",
        }
    }
}

/// The order number printed on the documents (see `document_number`): prefix AZ (安装) or
/// WX (维修), e.g. `AZ-ZZ-2026-000123`.
pub fn order_number(kind: OrderKind, center_code: &str, year: i32, seq: i64) -> String {
    super::document_number(kind.prefix(), center_code, year, seq)
}

/// The 返修标签 text for a terminal removed for repair: "维护人员须将车牌号，故障现象写在
/// 纸胶带上粘贴在终端上" — the plate number and the fault symptom, `"{plate} / {fault}"`,
/// e.g. `豫A12345 / 不定位`. Both parts are trimmed and runs of whitespace (line breaks
/// included) become one space, so the tag fits on one strip of tape.
pub fn fault_tag(plate: &str, fault: &str) -> String {
    let squash = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    format!("{} / {}", squash(plate), squash(fault))
}

str_enum!(
    /// The readiness check before leaving: "出发前须核对安装维修信息，准备好工具，备品配件及
    /// 相关文件".
    ReadinessItem {
        InfoVerified = "info_verified",
        Tools = "tools",
        SpareParts = "spare_parts",
        Documents = "documents",
    }
);

impl ReadinessItem {
    pub fn label_zh(self) -> &'static str {
        match self {
            ReadinessItem::InfoVerified => "信息核实",
            ReadinessItem::Tools => "工具",
            ReadinessItem::SpareParts => "备件",
            ReadinessItem::Documents => "资料",
        }
    }
}

/// The readiness items not yet ticked, in [`ReadinessItem::ALL`] order; `check_ready`
/// is allowed when this is empty. Duplicates in `ticked` are harmless.
pub fn readiness_missing(ticked: &[ReadinessItem]) -> Vec<ReadinessItem> {
    ReadinessItem::ALL
        .iter()
        .copied()
        .filter(|i| !ticked.contains(i))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action as A;
    use Actor as R;
    use OrderStatus as S;

    /// The transition table written out again, independently of `next`: (from, action,
    /// who, to). Resume is tested separately because its target depends on `held_from`.
    fn expected_table() -> Vec<(S, A, &'static [R], S)> {
        const OFFICE: &[R] = &[R::Agent, R::Manager, R::Admin];
        const MGR: &[R] = &[R::Manager, R::Admin];
        const LEAD: &[R] = &[R::LeadTechnician];
        const HOLDERS: &[R] = &[R::LeadTechnician, R::Manager, R::Admin];
        const CLOSERS: &[R] = &[R::Manager, R::Admin, R::Agent];
        let mut t = vec![
            (S::Draft, A::Submit, OFFICE, S::Submitted),
            (S::Rejected, A::Submit, OFFICE, S::Submitted),
            (S::Submitted, A::Approve, MGR, S::Approved),
            (S::Submitted, A::Reject, MGR, S::Rejected),
            (S::Approved, A::Assign, MGR, S::Assigned),
            (S::Assigned, A::Reassign, MGR, S::Assigned),
            (S::Accepted, A::Reassign, MGR, S::Assigned),
            (S::Ready, A::Reassign, MGR, S::Assigned),
            (S::Assigned, A::Accept, LEAD, S::Accepted),
            (S::Assigned, A::Decline, LEAD, S::Approved),
            (S::Accepted, A::CheckReady, LEAD, S::Ready),
            (S::Ready, A::Depart, LEAD, S::EnRoute),
            (S::EnRoute, A::Arrive, LEAD, S::OnSite),
            (S::Accepted, A::Hold, HOLDERS, S::OnHold),
            (S::Ready, A::Hold, HOLDERS, S::OnHold),
            (S::EnRoute, A::Hold, HOLDERS, S::OnHold),
            (S::OnSite, A::Hold, HOLDERS, S::OnHold),
            (S::OnSite, A::Complete, LEAD, S::Completed),
            (S::Completed, A::Close, CLOSERS, S::Closed),
        ];
        for s in [S::Draft, S::Submitted, S::Rejected] {
            t.push((
                s,
                A::Cancel,
                &[R::Agent, R::Manager, R::Admin],
                S::Cancelled,
            ));
        }
        for s in [
            S::Approved,
            S::Assigned,
            S::Accepted,
            S::Ready,
            S::EnRoute,
            S::OnSite,
            S::OnHold,
        ] {
            t.push((s, A::Cancel, MGR, S::Cancelled));
        }
        t
    }

    /// Who may take an action in some state, written out independently of `permitted`.
    fn expected_actors(a: A) -> &'static [R] {
        match a {
            A::Submit | A::Cancel => &[R::Agent, R::Manager, R::Admin],
            A::Approve | A::Reject | A::Assign | A::Reassign => &[R::Manager, R::Admin],
            A::Accept | A::Decline | A::CheckReady | A::Depart | A::Arrive | A::Complete => {
                &[R::LeadTechnician]
            }
            A::Hold | A::Resume => &[R::LeadTechnician, R::Manager, R::Admin],
            A::Close => &[R::Manager, R::Admin, R::Agent],
        }
    }

    fn all_held_from() -> Vec<Option<S>> {
        std::iter::once(None)
            .chain(S::ALL.iter().copied().map(Some))
            .collect()
    }

    #[test]
    fn every_state_action_actor_triple() {
        let table = expected_table();
        let mut allowed_seen = 0;
        for held_from in all_held_from() {
            for &s in S::ALL {
                for &a in A::ALL {
                    for &r in R::ALL {
                        let got = next(s, held_from, a, r);
                        let expected = if a == A::Resume {
                            let ok = s == S::OnHold
                                && matches!(
                                    held_from,
                                    Some(S::Accepted | S::Ready | S::EnRoute | S::OnSite)
                                );
                            if !expected_actors(a).contains(&r) {
                                Err(Refusal::NotPermitted { action: a })
                            } else if ok {
                                Ok(held_from.unwrap())
                            } else {
                                Err(Refusal::WrongState {
                                    current: s,
                                    action: a,
                                })
                            }
                        } else if !expected_actors(a).contains(&r) {
                            Err(Refusal::NotPermitted { action: a })
                        } else {
                            match table
                                .iter()
                                .find(|(f, ta, who, _)| *f == s && *ta == a && who.contains(&r))
                            {
                                Some(&(_, _, _, to)) => Ok(to),
                                None => Err(Refusal::WrongState {
                                    current: s,
                                    action: a,
                                }),
                            }
                        };
                        assert_eq!(got, expected, "{s:?} {a:?} {r:?} held_from={held_from:?}");
                        if got.is_ok() {
                            allowed_seen += 1;
                        }
                    }
                }
            }
        }
        // sanity: every allowed triple was met once per held_from value, and resume once
        // for each of its 4 held_from states × 3 actors
        let per_held: usize = table.iter().map(|(_, _, who, _)| who.len()).sum();
        assert_eq!(allowed_seen, per_held * all_held_from().len() + 4 * 3);
    }

    #[test]
    fn resume_returns_to_where_it_was_held() {
        for h in [S::Accepted, S::Ready, S::EnRoute, S::OnSite] {
            for r in [R::LeadTechnician, R::Manager, R::Admin] {
                assert_eq!(next(S::OnHold, Some(h), A::Resume, r), Ok(h));
                // and hold from there round-trips
                assert_eq!(next(h, None, A::Hold, r), Ok(S::OnHold));
            }
        }
        for h in [
            None,
            Some(S::OnHold),
            Some(S::Draft),
            Some(S::Assigned),
            Some(S::Completed),
            Some(S::Closed),
        ] {
            assert_eq!(
                next(S::OnHold, h, A::Resume, R::Manager),
                Err(Refusal::WrongState {
                    current: S::OnHold,
                    action: A::Resume
                })
            );
        }
        // resume outside on_hold is refused even with a good held_from
        assert_eq!(
            next(S::OnSite, Some(S::OnSite), A::Resume, R::LeadTechnician),
            Err(Refusal::WrongState {
                current: S::OnSite,
                action: A::Resume
            })
        );
    }

    #[test]
    fn actor_is_checked_before_state() {
        // finance asking to approve a closed order is told "forbidden", not "wrong state"
        assert_eq!(
            next(S::Closed, None, A::Approve, R::Finance),
            Err(Refusal::NotPermitted { action: A::Approve })
        );
        assert_eq!(
            next(S::Closed, None, A::Approve, R::Manager),
            Err(Refusal::WrongState {
                current: S::Closed,
                action: A::Approve
            })
        );
        // a helper cannot act for the lead
        assert_eq!(
            next(S::Assigned, None, A::Accept, R::OtherTechnician),
            Err(Refusal::NotPermitted { action: A::Accept })
        );
        // an agent may cancel, but not once the order is approved
        assert_eq!(
            next(S::Approved, None, A::Cancel, R::Agent),
            Err(Refusal::WrongState {
                current: S::Approved,
                action: A::Cancel
            })
        );
        assert_eq!(
            next(S::Approved, None, A::Cancel, R::Manager),
            Ok(S::Cancelled)
        );
    }

    #[test]
    fn finance_and_helpers_do_nothing() {
        for held_from in all_held_from() {
            for &s in S::ALL {
                assert!(allowed_actions(s, held_from, R::Finance).is_empty());
                assert!(allowed_actions(s, held_from, R::OtherTechnician).is_empty());
            }
        }
    }

    #[test]
    fn refusal_codes_and_text() {
        let w = Refusal::WrongState {
            current: S::EnRoute,
            action: A::CheckReady,
        };
        assert_eq!(w.code(), "invalid_transition");
        assert_eq!(
            w.to_string(),
            "cannot check_ready an order that is en_route"
        );
        let n = Refusal::NotPermitted { action: A::Close };
        assert_eq!(n.code(), "forbidden");
        assert_eq!(n.to_string(), "not permitted to close this order");
    }

    #[test]
    fn allowed_actions_for_the_ui() {
        assert_eq!(
            allowed_actions(S::Draft, None, R::Agent),
            vec![A::Submit, A::Cancel]
        );
        assert_eq!(
            allowed_actions(S::Submitted, None, R::Manager),
            vec![A::Approve, A::Reject, A::Cancel]
        );
        assert_eq!(
            allowed_actions(S::Assigned, None, R::LeadTechnician),
            vec![A::Accept, A::Decline]
        );
        assert_eq!(
            allowed_actions(S::OnSite, None, R::LeadTechnician),
            vec![A::Hold, A::Complete]
        );
        assert_eq!(
            allowed_actions(S::OnHold, Some(S::EnRoute), R::LeadTechnician),
            vec![A::Resume]
        );
        assert_eq!(
            allowed_actions(S::OnHold, Some(S::EnRoute), R::Admin),
            vec![A::Resume, A::Cancel]
        );
        assert_eq!(
            allowed_actions(S::Completed, None, R::Agent),
            vec![A::Close]
        );
        assert!(allowed_actions(S::Closed, None, R::Admin).is_empty());
        assert!(allowed_actions(S::Cancelled, None, R::Admin).is_empty());
    }

    #[test]
    fn a_whole_install_order_walks_through() {
        let steps = [
            (A::Submit, R::Agent, S::Submitted),
            (A::Reject, R::Manager, S::Rejected),
            (A::Submit, R::Agent, S::Submitted),
            (A::Approve, R::Manager, S::Approved),
            (A::Assign, R::Manager, S::Assigned),
            (A::Decline, R::LeadTechnician, S::Approved),
            (A::Assign, R::Admin, S::Assigned),
            (A::Accept, R::LeadTechnician, S::Accepted),
            (A::CheckReady, R::LeadTechnician, S::Ready),
            (A::Depart, R::LeadTechnician, S::EnRoute),
            (A::Arrive, R::LeadTechnician, S::OnSite),
            (A::Hold, R::LeadTechnician, S::OnHold),
            (A::Resume, R::Manager, S::OnSite),
            (A::Complete, R::LeadTechnician, S::Completed),
            (A::Close, R::Agent, S::Closed),
        ];
        let mut state = S::Draft;
        let mut held_from = None;
        for (a, r, to) in steps {
            if a == A::Hold {
                held_from = Some(state);
            }
            state = next(state, held_from, a, r).unwrap();
            assert_eq!(state, to, "{a:?}");
        }
        assert!(state.is_terminal());
    }

    #[test]
    fn terminal_and_technician_states() {
        let terminal: Vec<S> = S::ALL.iter().copied().filter(|s| s.is_terminal()).collect();
        assert_eq!(terminal, vec![S::Closed, S::Cancelled]);
        assert!(!S::Rejected.is_terminal());
        let active: Vec<S> = S::ALL
            .iter()
            .copied()
            .filter(|s| s.is_active_for_technician())
            .collect();
        assert_eq!(
            active,
            vec![
                S::Assigned,
                S::Accepted,
                S::Ready,
                S::EnRoute,
                S::OnSite,
                S::OnHold
            ]
        );
        // nothing leaves a terminal state
        for &s in S::ALL.iter().filter(|s| s.is_terminal()) {
            for &r in R::ALL {
                for h in all_held_from() {
                    assert!(allowed_actions(s, h, r).is_empty());
                }
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for &s in S::ALL {
            assert_eq!(S::parse(s.as_str()), Some(s));
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::Value::from(s.as_str())
            );
        }
        for &a in A::ALL {
            assert_eq!(A::parse(a.as_str()), Some(a));
            assert_eq!(
                serde_json::to_value(a).unwrap(),
                serde_json::Value::from(a.as_str())
            );
        }
        for &r in R::ALL {
            assert_eq!(R::parse(r.as_str()), Some(r));
        }
        for &k in OrderKind::ALL {
            assert_eq!(OrderKind::parse(k.as_str()), Some(k));
        }
        for &l in LineStatus::ALL {
            assert_eq!(LineStatus::parse(l.as_str()), Some(l));
        }
        for &w in LineWork::ALL {
            assert_eq!(LineWork::parse(w.as_str()), Some(w));
        }
        for &i in ReadinessItem::ALL {
            assert_eq!(ReadinessItem::parse(i.as_str()), Some(i));
        }
        assert_eq!(S::parse("en_route"), Some(S::EnRoute));
        assert_eq!(S::parse("on_site"), Some(S::OnSite));
        assert_eq!(S::parse("on_hold"), Some(S::OnHold));
        assert_eq!(S::parse("EnRoute"), None);
        assert_eq!(A::parse("check_ready"), Some(A::CheckReady));
        assert_eq!(A::parse("checkready"), None);
        assert_eq!(LineStatus::parse("not_done"), Some(LineStatus::NotDone));
        assert_eq!(
            LineWork::parse("terminal_swap"),
            Some(LineWork::TerminalSwap)
        );
        assert_eq!(LineWork::parse("sim_swap"), Some(LineWork::SimSwap));
        assert_eq!(OrderKind::parse("install"), Some(OrderKind::Install));
        assert_eq!(OrderKind::parse("Install"), None);
        assert_eq!(OrderKind::Install.prefix(), "AZ");
        assert_eq!(OrderKind::Repair.prefix(), "WX");
        assert_eq!(S::ALL.len(), 13);
        assert_eq!(A::ALL.len(), 15);
    }

    #[test]
    fn completion_blockers_are_listed() {
        let ok = CompletionCheck {
            lines_total: 3,
            lines_unresolved: 0,
            signed_off: true,
        };
        assert!(completion_blockers(&ok).is_empty());
        assert_eq!(
            completion_blockers(&CompletionCheck {
                lines_unresolved: 1,
                ..ok
            }),
            vec!["lines_unresolved"]
        );
        assert_eq!(
            completion_blockers(&CompletionCheck {
                signed_off: false,
                ..ok
            }),
            vec!["not_signed_off"]
        );
        assert_eq!(
            completion_blockers(&CompletionCheck {
                lines_total: 0,
                lines_unresolved: 0,
                signed_off: false
            }),
            vec!["no_lines", "not_signed_off"]
        );
        assert_eq!(
            completion_blockers(&CompletionCheck {
                lines_total: 2,
                lines_unresolved: 2,
                signed_off: false
            }),
            vec!["lines_unresolved", "not_signed_off"]
        );
    }

    #[test]
    fn line_status_resolution() {
        assert!(!LineStatus::Pending.is_resolved());
        assert!(LineStatus::Done.is_resolved());
        assert!(LineStatus::NotDone.is_resolved());
    }

    #[test]
    fn order_numbers() {
        assert_eq!(
            order_number(OrderKind::Install, "ZZ", 2026, 123),
            "AZ-ZZ-2026-000123"
        );
        assert_eq!(
            order_number(OrderKind::Repair, " bj ", 2025, 1),
            "WX-BJ-2025-000001"
        );
        assert_eq!(
            order_number(OrderKind::Repair, "ZZ", 2026, 999_999),
            "WX-ZZ-2026-999999"
        );
        assert_eq!(
            order_number(OrderKind::Install, "ZZ", 2026, 1_234_567),
            "AZ-ZZ-2026-1234567"
        );
    }

    #[test]
    fn fault_tags() {
        assert_eq!(fault_tag("豫A12345", "不定位"), "豫A12345 / 不定位");
        assert_eq!(fault_tag("  豫A12345 ", "  不定位 \n"), "豫A12345 / 不定位");
        assert_eq!(
            fault_tag("粤BD12345", "不上线\n时有时无"),
            "粤BD12345 / 不上线 时有时无"
        );
    }

    #[test]
    fn readiness() {
        use ReadinessItem::*;
        assert_eq!(
            readiness_missing(&[]),
            vec![InfoVerified, Tools, SpareParts, Documents]
        );
        assert_eq!(
            readiness_missing(&[Tools, Tools]),
            vec![InfoVerified, SpareParts, Documents]
        );
        assert!(readiness_missing(&[Documents, SpareParts, Tools, InfoVerified]).is_empty());
        let labels: Vec<&str> = ReadinessItem::ALL.iter().map(|i| i.label_zh()).collect();
        assert_eq!(labels, ["信息核实", "工具", "备件", "资料"]);
        assert_eq!(ReadinessItem::parse("spare_parts"), Some(SpareParts));
        assert_eq!(ReadinessItem::parse("info_verified"), Some(InfoVerified));
    }

    #[test]
    fn parts_are_locked_from_completion_on() {
        for s in OrderStatus::ALL {
            let locked = matches!(
                s,
                OrderStatus::Completed | OrderStatus::Closed | OrderStatus::Cancelled
            );
            assert_eq!(s.parts_locked(), locked, "{s:?}");
        }
        assert!(!OrderStatus::OnSite.parts_locked());
        assert!(!OrderStatus::OnHold.parts_locked());
    }

    #[test]
    fn only_drafts_and_rejected_orders_are_editable() {
        let editable: Vec<S> = S::ALL.iter().copied().filter(|s| s.is_editable()).collect();
        assert_eq!(editable, vec![S::Draft, S::Rejected]);
    }
}
