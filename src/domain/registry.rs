//! Registry vocabulary (tiers, statuses, locations) and the binding rules for terminals
//! and SIM cards.

str_enum!(
    /// 客户等级: key 大客户, major 重点客户, normal 普通客户.
    Tier { Key = "key", Major = "major", Normal = "normal" }
);
str_enum!(
    /// cash: pays on site; credit: settles on a periodic invoice (账单).
    PaymentTerms { Cash = "cash", Credit = "credit" }
);
str_enum!(
    TerminalStatus {
        InStock = "in_stock",
        Installed = "installed",
        InRepair = "in_repair",
        Returned = "returned",
        Scrapped = "scrapped",
    }
);
str_enum!(
    TerminalLocation { Warehouse = "warehouse", Technician = "technician", Vehicle = "vehicle" }
);
str_enum!(
    SimStatus { InStock = "in_stock", Active = "active", Suspended = "suspended", Cancelled = "cancelled" }
);
str_enum!(
    /// 车牌颜色 (GA 36 / JT/T 697.7): blue 蓝 (small vehicles), yellow 黄 (large vehicles,
    /// coaches, trucks), black 黑, white 白, green 绿 (new energy, small), yellow_green 黄绿
    /// (new energy, large).
    PlateColour {
        Blue = "blue",
        Yellow = "yellow",
        Black = "black",
        White = "white",
        Green = "green",
        YellowGreen = "yellow_green",
    }
);

impl PlateColour {
    /// The colour as the ledger prints it.
    pub fn label_zh(self) -> &'static str {
        match self {
            PlateColour::Blue => "蓝色",
            PlateColour::Yellow => "黄色",
            PlateColour::Black => "黑色",
            PlateColour::White => "白色",
            PlateColour::Green => "绿色",
            PlateColour::YellowGreen => "黄绿色",
        }
    }
}

/// A WGS-84 position as the database keeps it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoPoint {
    pub lat: f64,
    pub lng: f64,
}

impl GeoPoint {
    pub fn new(lat: f64, lng: f64) -> Result<Self, &'static str> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err("lat must be between -90 and 90");
        }
        if !lng.is_finite() || !(-180.0..=180.0).contains(&lng) {
            return Err("lng must be between -180 and 180");
        }
        Ok(Self { lat, lng })
    }
}

/// Why a bind or unbind is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BindRefusal {
    #[error("terminal is already installed in a vehicle")]
    TerminalAlreadyBound,
    #[error("terminal is not installed in a vehicle")]
    TerminalNotBound,
    #[error("terminal in status {0} cannot be installed")]
    TerminalNotInstallable(&'static str),
    #[error("SIM card is already in a terminal")]
    SimAlreadyBound,
    #[error("SIM card is not in a terminal")]
    SimNotBound,
    #[error("SIM card in status {0} cannot be put into a terminal")]
    SimNotUsable(&'static str),
    #[error("terminal already holds a SIM card")]
    TerminalHasSim,
    #[error("terminal in status {0} cannot take a SIM card")]
    TerminalTakesNoSim(&'static str),
    #[error("objects belong to different service centers")]
    CenterMismatch,
    #[error("after unbinding, a terminal goes to in_stock, in_repair or returned")]
    BadUnbindStatus,
}

impl BindRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            BindRefusal::TerminalAlreadyBound => "terminal_already_bound",
            BindRefusal::TerminalNotBound => "terminal_not_bound",
            BindRefusal::TerminalNotInstallable(_) => "terminal_not_installable",
            BindRefusal::SimAlreadyBound => "sim_already_bound",
            BindRefusal::SimNotBound => "sim_not_bound",
            BindRefusal::SimNotUsable(_) => "sim_not_usable",
            BindRefusal::TerminalHasSim => "terminal_has_sim",
            BindRefusal::TerminalTakesNoSim(_) => "terminal_takes_no_sim",
            BindRefusal::CenterMismatch => "center_mismatch",
            BindRefusal::BadUnbindStatus => "bad_unbind_status",
        }
    }
}

/// May this terminal be installed in a vehicle (of `vehicle_center`)?
pub fn check_terminal_bind(
    status: TerminalStatus,
    bound: bool,
    terminal_center: &str,
    vehicle_center: &str,
) -> Result<(), BindRefusal> {
    if bound {
        return Err(BindRefusal::TerminalAlreadyBound);
    }
    if status != TerminalStatus::InStock {
        return Err(BindRefusal::TerminalNotInstallable(status.as_str()));
    }
    if terminal_center != vehicle_center {
        return Err(BindRefusal::CenterMismatch);
    }
    Ok(())
}

/// Where a terminal goes when taken out of a vehicle: back to stock (default), to repair,
/// or returned to the manufacturer.
pub fn check_terminal_unbind(
    bound: bool,
    to: Option<TerminalStatus>,
) -> Result<TerminalStatus, BindRefusal> {
    if !bound {
        return Err(BindRefusal::TerminalNotBound);
    }
    match to.unwrap_or(TerminalStatus::InStock) {
        s @ (TerminalStatus::InStock | TerminalStatus::InRepair | TerminalStatus::Returned) => {
            Ok(s)
        }
        _ => Err(BindRefusal::BadUnbindStatus),
    }
}

/// May this SIM go into this terminal?
pub fn check_sim_bind(
    sim_status: SimStatus,
    sim_bound: bool,
    terminal_status: TerminalStatus,
    terminal_has_sim: bool,
    same_center: bool,
) -> Result<(), BindRefusal> {
    if sim_bound {
        return Err(BindRefusal::SimAlreadyBound);
    }
    if !matches!(sim_status, SimStatus::InStock | SimStatus::Active) {
        return Err(BindRefusal::SimNotUsable(sim_status.as_str()));
    }
    if matches!(
        terminal_status,
        TerminalStatus::Scrapped | TerminalStatus::Returned
    ) {
        return Err(BindRefusal::TerminalTakesNoSim(terminal_status.as_str()));
    }
    if terminal_has_sim {
        return Err(BindRefusal::TerminalHasSim);
    }
    if !same_center {
        return Err(BindRefusal::CenterMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip() {
        for s in TerminalStatus::ALL {
            assert_eq!(TerminalStatus::parse(s.as_str()), Some(*s));
        }
        for s in SimStatus::ALL {
            assert_eq!(SimStatus::parse(s.as_str()), Some(*s));
        }
        assert_eq!(Tier::parse("vip"), None);
        assert_eq!(Tier::names(), "key, major, normal");
    }

    #[test]
    fn plate_colours_are_the_six_standard_ones_with_chinese_names() {
        assert_eq!(
            PlateColour::names(),
            "blue, yellow, black, white, green, yellow_green"
        );
        for c in PlateColour::ALL {
            assert_eq!(PlateColour::parse(c.as_str()), Some(*c));
            assert!(c.label_zh().ends_with('色'));
        }
        assert_eq!(PlateColour::YellowGreen.label_zh(), "黄绿色");
        assert_eq!(PlateColour::parse("Blue"), None);
        assert_eq!(PlateColour::parse("蓝"), None);
    }

    #[test]
    fn geo_point_ranges() {
        assert!(GeoPoint::new(34.7466, 113.6254).is_ok());
        assert!(GeoPoint::new(91.0, 0.0).is_err());
        assert!(GeoPoint::new(0.0, -180.5).is_err());
        assert!(GeoPoint::new(f64::NAN, 0.0).is_err());
    }

    #[test]
    fn only_stock_terminals_of_the_same_center_are_installed() {
        use TerminalStatus::*;
        assert_eq!(check_terminal_bind(InStock, false, "zz", "zz"), Ok(()));
        assert_eq!(
            check_terminal_bind(InStock, true, "zz", "zz"),
            Err(BindRefusal::TerminalAlreadyBound)
        );
        for s in [InRepair, Returned, Scrapped] {
            assert_eq!(
                check_terminal_bind(s, false, "zz", "zz"),
                Err(BindRefusal::TerminalNotInstallable(s.as_str()))
            );
        }
        assert_eq!(
            check_terminal_bind(InStock, false, "zz", "bj"),
            Err(BindRefusal::CenterMismatch)
        );
    }

    #[test]
    fn unbinding_sends_the_terminal_somewhere_sensible() {
        use TerminalStatus::*;
        assert_eq!(check_terminal_unbind(true, None), Ok(InStock));
        assert_eq!(check_terminal_unbind(true, Some(InRepair)), Ok(InRepair));
        assert_eq!(
            check_terminal_unbind(true, Some(Installed)),
            Err(BindRefusal::BadUnbindStatus)
        );
        assert_eq!(
            check_terminal_unbind(false, None),
            Err(BindRefusal::TerminalNotBound)
        );
    }

    #[test]
    fn sim_bind_rules() {
        use SimStatus as S;
        use TerminalStatus as T;
        assert_eq!(
            check_sim_bind(S::InStock, false, T::InStock, false, true),
            Ok(())
        );
        assert_eq!(
            check_sim_bind(S::Active, false, T::Installed, false, true),
            Ok(())
        );
        assert_eq!(
            check_sim_bind(S::InStock, true, T::InStock, false, true),
            Err(BindRefusal::SimAlreadyBound)
        );
        assert_eq!(
            check_sim_bind(S::Cancelled, false, T::InStock, false, true),
            Err(BindRefusal::SimNotUsable("cancelled"))
        );
        assert_eq!(
            check_sim_bind(S::InStock, false, T::Scrapped, false, true),
            Err(BindRefusal::TerminalTakesNoSim("scrapped"))
        );
        assert_eq!(
            check_sim_bind(S::InStock, false, T::InStock, true, true),
            Err(BindRefusal::TerminalHasSim)
        );
        assert_eq!(
            check_sim_bind(S::InStock, false, T::InStock, false, false),
            Err(BindRefusal::CenterMismatch)
        );
    }
}
