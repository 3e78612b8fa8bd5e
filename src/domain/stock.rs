//! Stock (issue 18, foundation): where every terminal, SIM card and counted part is, and
//! the rules of the movements between places. Plain Rust: the store keeps the current
//! place per serial and the insert-only ledger (`stock_movements`); this module decides
//! which movement is allowed.
//!
//! Decisions:
//! - A serial is always in exactly one [`Place`]; a counted part has a quantity per place.
//! - Issuing (领用) moves the unit into the van at once; the technician's confirmation on
//!   the phone is a separate `confirm_receipt` ledger row from the van to the same van (it
//!   moves nothing). A pending state between warehouse and van would be a sixth place that
//!   nobody physically holds; an issue not yet confirmed is simply an `issue` without a
//!   later `confirm_receipt`.
//! - New stock comes from the maker/supplier: `receive` is the one movement whose item is
//!   not yet on the books (`ItemState::place == None`); for a serial it is written in the
//!   transaction that registers the serial.
//! - `rma_back_replaced` writes the sent unit off (maker → scrapped: the maker kept it); the
//!   replacement serial comes in with a `receive` in the same transaction.
//! - A unit is faulty from a `remove` with a fault tag until it comes back repaired
//!   (`rma_back_repaired`); only faulty units go to the maker, and a faulty unit is never
//!   issued or fitted.

use std::fmt;

str_enum!(
    /// The stored `kind` of a place.
    PlaceKind {
        Warehouse = "warehouse",
        Van = "van",
        Vehicle = "vehicle",
        Maker = "maker",
        Scrapped = "scrapped",
    }
);

/// Where an item is. The id is the center (warehouse, maker on behalf of a center,
/// scrapped in a center's books), the technician (their van) or the vehicle.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Place {
    /// 仓库: a service center's warehouse.
    Warehouse(String),
    /// 车辆库存: a technician's van (user id).
    Van(String),
    /// fitted in a vehicle.
    Vehicle(String),
    /// at the maker/supplier (返修/RMA, or not yet received), for this center.
    Maker(String),
    /// 报废: written off in this center's books.
    Scrapped(String),
}

impl Place {
    pub fn kind(&self) -> PlaceKind {
        match self {
            Place::Warehouse(_) => PlaceKind::Warehouse,
            Place::Van(_) => PlaceKind::Van,
            Place::Vehicle(_) => PlaceKind::Vehicle,
            Place::Maker(_) => PlaceKind::Maker,
            Place::Scrapped(_) => PlaceKind::Scrapped,
        }
    }

    pub fn id(&self) -> &str {
        match self {
            Place::Warehouse(id)
            | Place::Van(id)
            | Place::Vehicle(id)
            | Place::Maker(id)
            | Place::Scrapped(id) => id,
        }
    }

    /// The stored form: `(kind, ref id)`.
    pub fn stored(&self) -> (&'static str, &str) {
        (self.kind().as_str(), self.id())
    }

    /// A place from its stored form (`None` for an unknown kind or an empty id).
    pub fn from_stored(kind: &str, id: &str) -> Option<Place> {
        if id.is_empty() {
            return None;
        }
        let id = id.to_string();
        Some(match PlaceKind::parse(kind)? {
            PlaceKind::Warehouse => Place::Warehouse(id),
            PlaceKind::Van => Place::Van(id),
            PlaceKind::Vehicle => Place::Vehicle(id),
            PlaceKind::Maker => Place::Maker(id),
            PlaceKind::Scrapped => Place::Scrapped(id),
        })
    }

    /// Whether the place holds stock a count (盘点) looks at: the warehouse and the vans.
    pub fn is_stock(&self) -> bool {
        matches!(self, Place::Warehouse(_) | Place::Van(_))
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind().as_str(), self.id())
    }
}

str_enum!(
    /// What a ledger row records.
    MovementKind {
        /// 入库: from the maker/supplier into a warehouse
        Receive = "receive",
        /// 领用: warehouse → technician's van
        Issue = "issue",
        /// the technician confirms on the phone what was issued (van → same van)
        ConfirmReceipt = "confirm_receipt",
        /// 退库: van → warehouse
        Return = "return",
        /// 调拨: warehouse → another center's warehouse
        Transfer = "transfer",
        /// 安装/用料: van → vehicle, on an order
        Fit = "fit",
        /// 拆回: vehicle → van, on an order (with a fault tag: faulty)
        Remove = "remove",
        /// 返修寄出: warehouse → maker, in an RMA batch
        RmaSend = "rma_send",
        /// 返修回库 (repaired): maker → warehouse
        RmaBackRepaired = "rma_back_repaired",
        /// 返修换新: the sent unit is written off (maker → scrapped); the new serial is received
        RmaBackReplaced = "rma_back_replaced",
        /// 厂家报废: maker → scrapped
        RmaBackScrapped = "rma_back_scrapped",
        /// 报废: warehouse → scrapped
        Scrap = "scrap",
        /// 盘点调整: a manager's correction, any place to any place, with a note
        Adjust = "adjust",
    }
);

/// Who moves: the user, and whether they may override the van rule (a manager's one-off
/// permission to fit a unit from another technician's van, and corrections).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: String,
    pub manager: bool,
}

/// A movement as asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movement {
    pub kind: MovementKind,
    pub from: Place,
    pub to: Place,
    pub actor: Actor,
    pub order_id: Option<String>,
    pub rma_batch_id: Option<String>,
    pub fault_tag: Option<String>,
    pub note: Option<String>,
    /// a manager allowed this fit from a van that is not the fitter's (one-off)
    pub allow_other_van: bool,
}

/// A serial's state as the store read it inside the write transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemState {
    /// `None`: not yet on the books (only `receive` applies)
    pub place: Option<Place>,
    pub faulty: bool,
}

/// Why a movement is refused. `code()` is stable (the API's problem code).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StockRefusal {
    #[error("the item is at {current}, not at {from}")]
    WrongPlace { current: String, from: String },
    #[error("a {kind} movement cannot go from {from} to {to}")]
    InvalidRoute {
        kind: &'static str,
        from: &'static str,
        to: &'static str,
    },
    #[error("the movement does not change the place")]
    SamePlace,
    #[error("the unit is not in the fitting technician's van")]
    NotInYourStock,
    #[error("only the van's technician confirms what was issued to it")]
    NotYourVan,
    #[error("only {available} left at the place")]
    InsufficientQuantity { available: i64 },
    #[error("a quantity must be positive")]
    InvalidQuantity,
    #[error("the unit is not faulty")]
    NotFaulty,
    #[error("the unit is faulty")]
    Faulty,
    #[error("the movement needs its work order")]
    OrderRequired,
    #[error("the movement needs an RMA batch")]
    RmaBatchRequired,
    #[error("a removal from a vehicle needs the fault tag or none, not an empty one")]
    EmptyFaultTag,
    #[error("the correction needs a note")]
    NoteRequired,
    #[error("only a manager corrects stock")]
    ManagerOnly,
    #[error("the item is not on the books yet")]
    NotOnBooks,
    #[error("the item is already on the books")]
    AlreadyOnBooks,
    #[error("counted parts are not sent to the maker or removed from vehicles")]
    NotForParts,
    #[error("the terminal still holds a SIM card")]
    TerminalHasSim,
}

impl StockRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            StockRefusal::WrongPlace { .. } => "wrong_place",
            StockRefusal::InvalidRoute { .. } => "invalid_route",
            StockRefusal::SamePlace => "same_place",
            StockRefusal::NotInYourStock => "not_in_your_stock",
            StockRefusal::NotYourVan => "not_your_van",
            StockRefusal::InsufficientQuantity { .. } => "insufficient_quantity",
            StockRefusal::InvalidQuantity => "invalid_quantity",
            StockRefusal::NotFaulty => "not_faulty",
            StockRefusal::Faulty => "unit_faulty",
            StockRefusal::OrderRequired => "order_required",
            StockRefusal::RmaBatchRequired => "rma_batch_required",
            StockRefusal::EmptyFaultTag => "empty_fault_tag",
            StockRefusal::NoteRequired => "note_required",
            StockRefusal::ManagerOnly => "manager_only",
            StockRefusal::NotOnBooks => "not_on_books",
            StockRefusal::AlreadyOnBooks => "already_on_books",
            StockRefusal::NotForParts => "not_for_parts",
            StockRefusal::TerminalHasSim => "terminal_has_sim",
        }
    }

    /// What the person sees, in Chinese, with what to do next.
    pub fn message_zh(&self) -> String {
        match self {
            StockRefusal::WrongPlace { .. } => {
                "该设备当前不在所选位置，库存已变化。请刷新后按设备实际所在位置重新操作。".into()
            }
            StockRefusal::InvalidRoute { .. } => {
                "此类出入库不能在这两个位置之间进行。请检查操作类型和来源、去向。".into()
            }
            StockRefusal::SamePlace => "来源和去向相同，无需移动。请选择另一个去向。".into(),
            StockRefusal::NotInYourStock => {
                "该设备不在您的车辆库存中。请使用您已领用的设备，或请经理批准本次例外。".into()
            }
            StockRefusal::NotYourVan => {
                "只能确认领用到自己名下的设备。请由领用的技术员本人确认。".into()
            }
            StockRefusal::InsufficientQuantity { available } => {
                format!("库存不足：当前仅剩 {available} 件。请先领用或调拨补足后再操作。")
            }
            StockRefusal::InvalidQuantity => "数量必须大于零。请填写正确的数量。".into(),
            StockRefusal::NotFaulty => {
                "该设备未标记故障，不能寄厂返修。请先在拆回时登记故障标签。".into()
            }
            StockRefusal::Faulty => "该设备已标记故障，不能领用或安装。请退库后寄厂返修。".into(),
            StockRefusal::OrderRequired => "安装和拆回必须关联工单。请从工单中操作。".into(),
            StockRefusal::RmaBatchRequired => {
                "寄厂返修必须关联返修批次（含运单号）。请先建立返修批次。".into()
            }
            StockRefusal::EmptyFaultTag => "故障标签不能为空。请填写车牌号和故障现象。".into(),
            StockRefusal::NoteRequired => "库存调整必须填写原因。请补充说明。".into(),
            StockRefusal::ManagerOnly => "只有经理可以调整库存。请联系经理处理。".into(),
            StockRefusal::NotOnBooks => "该设备尚未入库。请先办理入库。".into(),
            StockRefusal::AlreadyOnBooks => "该设备已经入库，不能重复入库。".into(),
            StockRefusal::NotForParts => {
                "配件和耗材不寄厂返修，也不从车辆拆回入账。如需核减，请做库存调整或报废。".into()
            }
            StockRefusal::TerminalHasSim => {
                "该终端内还有SIM卡。请先取出SIM卡，再寄厂返修或报废。".into()
            }
        }
    }
}

/// The places a movement kind goes between (`None`: any place but the other end).
fn route_ok(kind: MovementKind, from: &Place, to: &Place) -> bool {
    use MovementKind as K;
    use Place as P;
    match (kind, from, to) {
        (K::Receive, P::Maker(a), P::Warehouse(b)) => a == b,
        (K::Issue, P::Warehouse(_), P::Van(_)) => true,
        (K::ConfirmReceipt, P::Van(a), P::Van(b)) => a == b,
        (K::Return, P::Van(_), P::Warehouse(_)) => true,
        (K::Transfer, P::Warehouse(a), P::Warehouse(b)) => a != b,
        (K::Fit, P::Van(_), P::Vehicle(_)) => true,
        (K::Remove, P::Vehicle(_), P::Van(_)) => true,
        (K::RmaSend, P::Warehouse(a), P::Maker(b)) => a == b,
        (K::RmaBackRepaired, P::Maker(a), P::Warehouse(b)) => a == b,
        (K::RmaBackReplaced | K::RmaBackScrapped, P::Maker(a), P::Scrapped(b)) => a == b,
        (K::Scrap, P::Warehouse(a), P::Scrapped(b)) => a == b,
        (K::Adjust, _, _) => true,
        _ => false,
    }
}

/// The checks that do not depend on the item: route, actor, order, batch, note.
fn check_movement(m: &Movement) -> Result<(), StockRefusal> {
    use MovementKind as K;
    if m.from == m.to && m.kind != K::ConfirmReceipt {
        return Err(StockRefusal::SamePlace);
    }
    if !route_ok(m.kind, &m.from, &m.to) {
        if m.kind == K::Transfer && m.from == m.to {
            return Err(StockRefusal::SamePlace);
        }
        return Err(StockRefusal::InvalidRoute {
            kind: m.kind.as_str(),
            from: m.from.kind().as_str(),
            to: m.to.kind().as_str(),
        });
    }
    match m.kind {
        K::ConfirmReceipt if m.from.id() != m.actor.user_id => {
            return Err(StockRefusal::NotYourVan);
        }
        K::Fit | K::Remove if m.order_id.is_none() => return Err(StockRefusal::OrderRequired),
        K::Fit if m.from.id() != m.actor.user_id && !(m.allow_other_van && m.actor.manager) => {
            return Err(StockRefusal::NotInYourStock);
        }
        K::RmaSend if m.rma_batch_id.is_none() => return Err(StockRefusal::RmaBatchRequired),
        K::Adjust if !m.actor.manager => return Err(StockRefusal::ManagerOnly),
        K::Adjust if m.note.as_deref().is_none_or(|n| n.trim().is_empty()) => {
            return Err(StockRefusal::NoteRequired);
        }
        _ => {}
    }
    if m.fault_tag.as_deref().is_some_and(|t| t.trim().is_empty()) {
        return Err(StockRefusal::EmptyFaultTag);
    }
    Ok(())
}

/// May this serial (terminal or SIM card) make this movement?
pub fn check(m: &Movement, item: &ItemState) -> Result<(), StockRefusal> {
    use MovementKind as K;
    check_movement(m)?;
    match (&item.place, m.kind) {
        (None, K::Receive) => {}
        (None, _) => return Err(StockRefusal::NotOnBooks),
        (Some(_), K::Receive) => return Err(StockRefusal::AlreadyOnBooks),
        (Some(current), _) if *current != m.from => {
            return Err(StockRefusal::WrongPlace {
                current: current.to_string(),
                from: m.from.to_string(),
            });
        }
        _ => {}
    }
    match m.kind {
        K::RmaSend if !item.faulty => Err(StockRefusal::NotFaulty),
        K::Issue | K::Fit if item.faulty => Err(StockRefusal::Faulty),
        _ => Ok(()),
    }
}

/// A terminal that still holds a SIM card is not sent to the maker or scrapped (the SIM
/// would leave with it unrecorded).
pub fn check_terminal_empty(m: &Movement, holds_sim: bool) -> Result<(), StockRefusal> {
    if holds_sim && matches!(m.to, Place::Maker(_) | Place::Scrapped(_)) {
        return Err(StockRefusal::TerminalHasSim);
    }
    Ok(())
}

/// Whether the serial is faulty after the movement.
pub fn faulty_after(m: &Movement, faulty_before: bool) -> bool {
    match m.kind {
        MovementKind::Remove => m.fault_tag.is_some(),
        MovementKind::RmaBackRepaired | MovementKind::Receive => false,
        _ => faulty_before,
    }
}

/// May `quantity` of a counted part (cable, relay, fuse…) make this movement, with
/// `available` at the source? Answers the source's quantity afterwards (`None` for a
/// receipt, which takes from no counted place).
pub fn check_parts(
    m: &Movement,
    quantity: i64,
    available: i64,
) -> Result<Option<i64>, StockRefusal> {
    use MovementKind as K;
    if quantity <= 0 {
        return Err(StockRefusal::InvalidQuantity);
    }
    if matches!(
        m.kind,
        K::RmaSend | K::RmaBackRepaired | K::RmaBackReplaced | K::RmaBackScrapped | K::Remove
    ) {
        return Err(StockRefusal::NotForParts);
    }
    check_movement(m)?;
    if m.kind == K::Receive {
        return Ok(None);
    }
    take(available, quantity).map(Some)
}

/// `available - n`, never below zero.
pub fn take(available: i64, n: i64) -> Result<i64, StockRefusal> {
    if n <= 0 {
        return Err(StockRefusal::InvalidQuantity);
    }
    match available.checked_sub(n) {
        Some(left) if left >= 0 => Ok(left),
        _ => Err(StockRefusal::InsufficientQuantity {
            available: available.max(0),
        }),
    }
}

/// `have + n` (an overflow is refused as an invalid quantity).
pub fn put(have: i64, n: i64) -> Result<i64, StockRefusal> {
    if n <= 0 {
        return Err(StockRefusal::InvalidQuantity);
    }
    have.checked_add(n).ok_or(StockRefusal::InvalidQuantity)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeMap, HashMap};

    const ZZ: &str = "zz";
    const BJ: &str = "bj";
    const TECH: &str = "t1";
    const OTHER: &str = "t2";
    const MANAGER: &str = "m1";

    fn wh(c: &str) -> Place {
        Place::Warehouse(c.into())
    }
    fn van(t: &str) -> Place {
        Place::Van(t.into())
    }
    fn car(v: &str) -> Place {
        Place::Vehicle(v.into())
    }
    fn maker(c: &str) -> Place {
        Place::Maker(c.into())
    }
    fn scrapped(c: &str) -> Place {
        Place::Scrapped(c.into())
    }

    fn mv(kind: MovementKind, from: Place, to: Place, actor: &str) -> Movement {
        Movement {
            kind,
            from,
            to,
            actor: Actor {
                user_id: actor.into(),
                manager: actor == MANAGER,
            },
            order_id: matches!(kind, MovementKind::Fit | MovementKind::Remove).then(|| "o1".into()),
            rma_batch_id: (kind == MovementKind::RmaSend).then(|| "b1".into()),
            fault_tag: None,
            note: (kind == MovementKind::Adjust).then(|| "盘点差异".into()),
            allow_other_van: false,
        }
    }

    fn at(p: Place) -> ItemState {
        ItemState {
            place: Some(p),
            faulty: false,
        }
    }

    #[test]
    fn places_round_trip_through_their_stored_form() {
        for p in [wh(ZZ), van(TECH), car("v1"), maker(ZZ), scrapped(BJ)] {
            let (k, id) = p.stored();
            assert_eq!(Place::from_stored(k, id), Some(p.clone()));
        }
        assert_eq!(Place::from_stored("garage", "x"), None);
        assert_eq!(Place::from_stored("van", ""), None);
        for k in MovementKind::ALL {
            assert_eq!(MovementKind::parse(k.as_str()), Some(*k));
        }
        assert!(wh(ZZ).is_stock() && van(TECH).is_stock() && !car("v").is_stock());
    }

    #[test]
    fn the_everyday_path_of_a_terminal() {
        use MovementKind::*;
        assert_eq!(
            check(
                &mv(Receive, maker(ZZ), wh(ZZ), MANAGER),
                &ItemState {
                    place: None,
                    faulty: false
                }
            ),
            Ok(())
        );
        assert_eq!(
            check(&mv(Issue, wh(ZZ), van(TECH), MANAGER), &at(wh(ZZ))),
            Ok(())
        );
        assert_eq!(
            check(
                &mv(ConfirmReceipt, van(TECH), van(TECH), TECH),
                &at(van(TECH))
            ),
            Ok(())
        );
        assert_eq!(
            check(&mv(Fit, van(TECH), car("v1"), TECH), &at(van(TECH))),
            Ok(())
        );
        let mut remove = mv(Remove, car("v1"), van(TECH), TECH);
        remove.fault_tag = Some("豫A12345 / 不定位".into());
        assert_eq!(check(&remove, &at(car("v1"))), Ok(()));
        assert!(faulty_after(&remove, false));
        let faulty = |p| ItemState {
            place: Some(p),
            faulty: true,
        };
        assert_eq!(
            check(&mv(Return, van(TECH), wh(ZZ), TECH), &faulty(van(TECH))),
            Ok(())
        );
        assert_eq!(
            check(&mv(RmaSend, wh(ZZ), maker(ZZ), MANAGER), &faulty(wh(ZZ))),
            Ok(())
        );
        let back = mv(RmaBackRepaired, maker(ZZ), wh(ZZ), MANAGER);
        assert_eq!(check(&back, &faulty(maker(ZZ))), Ok(()));
        assert!(!faulty_after(&back, true));
        assert_eq!(
            check(
                &mv(RmaBackReplaced, maker(ZZ), scrapped(ZZ), MANAGER),
                &faulty(maker(ZZ))
            ),
            Ok(())
        );
        assert_eq!(
            check(&mv(Scrap, wh(ZZ), scrapped(ZZ), MANAGER), &at(wh(ZZ))),
            Ok(())
        );
        assert_eq!(
            check(&mv(Transfer, wh(ZZ), wh(BJ), MANAGER), &at(wh(ZZ))),
            Ok(())
        );
    }

    #[test]
    fn refusals_have_stable_codes_and_say_what_to_do() {
        use MovementKind::*;
        let r = check(&mv(Fit, van(OTHER), car("v1"), TECH), &at(van(OTHER)));
        assert_eq!(r.as_ref().map_err(|e| e.code()), Err("not_in_your_stock"));
        assert!(r.unwrap_err().message_zh().contains("经理"));
        // a manager may allow the one-off
        let mut allowed = mv(Fit, van(OTHER), car("v1"), MANAGER);
        allowed.allow_other_van = true;
        assert_eq!(check(&allowed, &at(van(OTHER))), Ok(()));
        // but a technician cannot allow it to themselves
        let mut self_allowed = mv(Fit, van(OTHER), car("v1"), TECH);
        self_allowed.allow_other_van = true;
        assert_eq!(
            check(&self_allowed, &at(van(OTHER))),
            Err(StockRefusal::NotInYourStock)
        );
        assert_eq!(
            check(&mv(Issue, wh(ZZ), van(TECH), MANAGER), &at(van(OTHER))).map_err(|e| e.code()),
            Err("wrong_place")
        );
        assert_eq!(
            check(&mv(RmaSend, wh(ZZ), maker(ZZ), MANAGER), &at(wh(ZZ))),
            Err(StockRefusal::NotFaulty)
        );
        let faulty = ItemState {
            place: Some(wh(ZZ)),
            faulty: true,
        };
        assert_eq!(
            check(&mv(Issue, wh(ZZ), van(TECH), MANAGER), &faulty),
            Err(StockRefusal::Faulty)
        );
        assert_eq!(
            check(&mv(Fit, wh(ZZ), car("v1"), TECH), &at(wh(ZZ))).map_err(|e| e.code()),
            Err("invalid_route")
        );
        assert_eq!(
            check(&mv(Transfer, wh(ZZ), wh(ZZ), MANAGER), &at(wh(ZZ))),
            Err(StockRefusal::SamePlace)
        );
        let mut no_order = mv(Fit, van(TECH), car("v1"), TECH);
        no_order.order_id = None;
        assert_eq!(
            check(&no_order, &at(van(TECH))),
            Err(StockRefusal::OrderRequired)
        );
        let mut no_batch = mv(RmaSend, wh(ZZ), maker(ZZ), MANAGER);
        no_batch.rma_batch_id = None;
        assert_eq!(
            check(&no_batch, &faulty),
            Err(StockRefusal::RmaBatchRequired)
        );
        assert_eq!(
            check(
                &mv(ConfirmReceipt, van(TECH), van(TECH), OTHER),
                &at(van(TECH))
            ),
            Err(StockRefusal::NotYourVan)
        );
        assert_eq!(
            check(&mv(Adjust, wh(ZZ), van(TECH), TECH), &at(wh(ZZ))),
            Err(StockRefusal::ManagerOnly)
        );
        let mut silent = mv(Adjust, wh(ZZ), van(TECH), MANAGER);
        silent.note = Some("  ".into());
        assert_eq!(check(&silent, &at(wh(ZZ))), Err(StockRefusal::NoteRequired));
        assert_eq!(
            check(&mv(Receive, maker(ZZ), wh(ZZ), MANAGER), &at(wh(ZZ))),
            Err(StockRefusal::AlreadyOnBooks)
        );
        assert_eq!(
            check(
                &mv(Issue, wh(ZZ), van(TECH), MANAGER),
                &ItemState {
                    place: None,
                    faulty: false
                }
            ),
            Err(StockRefusal::NotOnBooks)
        );
        let mut blank_tag = mv(Remove, car("v1"), van(TECH), TECH);
        blank_tag.fault_tag = Some(" ".into());
        assert_eq!(
            check(&blank_tag, &at(car("v1"))),
            Err(StockRefusal::EmptyFaultTag)
        );
        // every refusal has a code and a Chinese message
        for r in [
            StockRefusal::WrongPlace {
                current: "a".into(),
                from: "b".into(),
            },
            StockRefusal::InsufficientQuantity { available: 3 },
            StockRefusal::NotForParts,
            StockRefusal::InvalidQuantity,
        ] {
            assert!(!r.code().is_empty());
            assert!(r.message_zh().contains('。'));
        }
        assert!(
            StockRefusal::InsufficientQuantity { available: 3 }
                .message_zh()
                .contains('3')
        );
    }

    #[test]
    fn a_terminal_with_a_sim_stays_in_the_books() {
        let scrap = mv(MovementKind::Scrap, wh(ZZ), scrapped(ZZ), MANAGER);
        assert_eq!(
            check_terminal_empty(&scrap, true).map_err(|e| e.code()),
            Err("terminal_has_sim")
        );
        assert_eq!(check_terminal_empty(&scrap, false), Ok(()));
        let issue = mv(MovementKind::Issue, wh(ZZ), van(TECH), MANAGER);
        assert_eq!(check_terminal_empty(&issue, true), Ok(()));
    }

    #[test]
    fn quantities_never_go_negative() {
        assert_eq!(take(5, 5), Ok(0));
        assert_eq!(
            take(5, 6),
            Err(StockRefusal::InsufficientQuantity { available: 5 })
        );
        assert_eq!(take(5, 0), Err(StockRefusal::InvalidQuantity));
        assert_eq!(take(5, -1), Err(StockRefusal::InvalidQuantity));
        assert_eq!(
            take(i64::MIN, 1),
            Err(StockRefusal::InsufficientQuantity { available: 0 })
        );
        assert_eq!(put(1, 2), Ok(3));
        assert_eq!(put(i64::MAX, 1), Err(StockRefusal::InvalidQuantity));
        use MovementKind::*;
        let use_on_order = mv(Fit, van(TECH), car("v1"), TECH);
        assert_eq!(check_parts(&use_on_order, 2, 3), Ok(Some(1)));
        assert_eq!(
            check_parts(&use_on_order, 4, 3),
            Err(StockRefusal::InsufficientQuantity { available: 3 })
        );
        assert_eq!(
            check_parts(&mv(Receive, maker(ZZ), wh(ZZ), MANAGER), 100, 0),
            Ok(None)
        );
        assert_eq!(
            check_parts(&mv(RmaSend, wh(ZZ), maker(ZZ), MANAGER), 1, 10),
            Err(StockRefusal::NotForParts)
        );
    }

    // ---- the property: random movement sequences through an in-memory model ----

    /// The in-memory books: current places and quantities, and the ledger.
    #[derive(Default)]
    struct Books {
        serials: HashMap<usize, (Place, bool)>,
        parts: BTreeMap<Place, i64>,
        ledger: Vec<(Option<usize>, i64, Movement)>,
    }

    const SERIALS: usize = 6;

    fn places() -> Vec<Place> {
        vec![
            wh(ZZ),
            wh(BJ),
            van(TECH),
            van(OTHER),
            car("v1"),
            car("v2"),
            maker(ZZ),
            maker(BJ),
            scrapped(ZZ),
        ]
    }

    #[derive(Debug, Clone)]
    enum Op {
        Serial {
            item: usize,
            kind: usize,
            from: usize,
            to: usize,
            actor: usize,
            faulty: bool,
            /// from the serial's current place (most sequences), else from `from`
            from_current: bool,
        },
        Parts {
            kind: usize,
            from: usize,
            to: usize,
            actor: usize,
            n: i64,
        },
    }

    fn op() -> impl Strategy<Value = Op> {
        let k = MovementKind::ALL.len();
        let p = places().len();
        prop_oneof![
            (
                0..SERIALS,
                0..k,
                0..p,
                0..p,
                0..3usize,
                any::<bool>(),
                prop::bool::weighted(0.8)
            )
                .prop_map(|(item, kind, from, to, actor, faulty, from_current)| {
                    Op::Serial {
                        item,
                        kind,
                        from,
                        to,
                        actor,
                        faulty,
                        from_current,
                    }
                }),
            (0..k, 0..p, 0..p, 0..3usize, -1i64..8).prop_map(|(kind, from, to, actor, n)| {
                Op::Parts {
                    kind,
                    from,
                    to,
                    actor,
                    n,
                }
            }),
        ]
    }

    fn movement(kind: usize, from: usize, to: usize, actor: usize) -> Movement {
        let ps = places();
        let actor = [TECH, OTHER, MANAGER][actor];
        let mut m = mv(
            MovementKind::ALL[kind],
            ps[from].clone(),
            ps[to].clone(),
            actor,
        );
        m.allow_other_van = actor == MANAGER;
        m
    }

    proptest! {
        #[test]
        fn random_movements_keep_the_books_true(ops in proptest::collection::vec(op(), 0..200)) {
            let mut books = Books::default();
            for op in ops {
                match op {
                    Op::Serial { item, kind, from, to, actor, faulty, from_current } => {
                        let mut m = movement(kind, from, to, actor);
                        if from_current && let Some((p, _)) = books.serials.get(&item) {
                            m.from = p.clone();
                        }
                        if m.kind == MovementKind::ConfirmReceipt {
                            m.to = m.from.clone();
                        }
                        if faulty && m.kind == MovementKind::Remove {
                            m.fault_tag = Some("京A12345 / 不上线".into());
                        }
                        let state = match books.serials.get(&item) {
                            Some((p, f)) => ItemState { place: Some(p.clone()), faulty: *f },
                            None => ItemState { place: None, faulty: false },
                        };
                        let before = books.serials.get(&item).cloned();
                        match check(&m, &state) {
                            Ok(()) => {
                                let f = faulty_after(&m, state.faulty);
                                books.serials.insert(item, (m.to.clone(), f));
                                books.ledger.push((Some(item), 1, m));
                            }
                            Err(_) => prop_assert_eq!(books.serials.get(&item).cloned(), before),
                        }
                    }
                    Op::Parts { kind, from, to, actor, n } => {
                        let m = movement(kind, from, to, actor);
                        let available = books.parts.get(&m.from).copied().unwrap_or(0);
                        if let Ok(left) = check_parts(&m, n, available) {
                            if let Some(left) = left {
                                books.parts.insert(m.from.clone(), left);
                            }
                            let have = books.parts.get(&m.to).copied().unwrap_or(0);
                            books.parts.insert(m.to.clone(), put(have, n).unwrap());
                            books.ledger.push((None, n, m));
                        }
                    }
                }
                // no negative quantity, ever
                prop_assert!(books.parts.values().all(|q| *q >= 0));
            }
            // the ledger replayed gives the current places (one per serial) and quantities
            let mut replayed: HashMap<usize, Place> = HashMap::new();
            let mut quantities: BTreeMap<Place, i64> = BTreeMap::new();
            for (item, n, m) in &books.ledger {
                match item {
                    Some(i) => {
                        if let Some(p) = replayed.get(i) {
                            // every movement starts where the previous one ended
                            prop_assert_eq!(p, &m.from);
                        } else {
                            prop_assert_eq!(m.kind, MovementKind::Receive);
                        }
                        replayed.insert(*i, m.to.clone());
                    }
                    None => {
                        if m.kind != MovementKind::Receive {
                            *quantities.entry(m.from.clone()).or_default() -= n;
                        }
                        *quantities.entry(m.to.clone()).or_default() += n;
                        prop_assert!(quantities.values().all(|q| *q >= 0));
                    }
                }
            }
            let current: HashMap<usize, Place> =
                books.serials.iter().map(|(i, (p, _))| (*i, p.clone())).collect();
            prop_assert_eq!(replayed, current);
            quantities.retain(|_, q| *q != 0);
            let mut held = books.parts.clone();
            held.retain(|_, q| *q != 0);
            prop_assert_eq!(quantities, held);
        }
    }
}
