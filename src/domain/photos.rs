//! Photos from the site (现场照片): their kinds, which a center requires, and which are
//! still missing before an order may be completed.

use std::collections::HashSet;

str_enum!(
    /// What a photo shows. The first five belong to a vehicle line, the last two to the
    /// order.
    PhotoKind {
        /// 施工前车况 (existing damage, signed off by the customer)
        Before = "before",
        /// 终端安装位置 (the installed unit)
        Unit = "unit",
        /// 接线及 ACC (wiring, power and the ACC connection)
        Wiring = "wiring",
        /// SIM 卡及标签
        SimLabel = "sim_label",
        /// 车牌
        Plate = "plate",
        /// 现场 (the site)
        Site = "site",
        /// 单据 (paperwork)
        Paperwork = "paperwork",
    }
);

impl PhotoKind {
    /// Taken per vehicle line (else per order).
    pub fn per_line(self) -> bool {
        !matches!(self, PhotoKind::Site | PhotoKind::Paperwork)
    }

    pub fn label_zh(self) -> &'static str {
        match self {
            PhotoKind::Before => "施工前车况",
            PhotoKind::Unit => "终端安装位置",
            PhotoKind::Wiring => "接线及ACC",
            PhotoKind::SimLabel => "SIM卡及标签",
            PhotoKind::Plate => "车牌",
            PhotoKind::Site => "现场",
            PhotoKind::Paperwork => "单据",
        }
    }
}

/// The kinds a center requires of one kind of order, stored as their names joined by
/// commas (`""`: none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Required(pub Vec<PhotoKind>);

impl Required {
    /// Reads the stored list; `Err` with the unknown name.
    pub fn parse(stored: &str) -> Result<Required, String> {
        let mut out = Vec::new();
        for name in stored.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let kind = PhotoKind::parse(name).ok_or_else(|| name.to_string())?;
            if !out.contains(&kind) {
                out.push(kind);
            }
        }
        Ok(Required(out))
    }

    /// As stored.
    pub fn stored(&self) -> String {
        self.0
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// A photo the order still needs: of `kind`, on the line `line_id` (None: of the order).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Missing {
    pub line_id: Option<String>,
    pub kind: PhotoKind,
}

/// The photos still missing: every required per-line kind on each line that was worked
/// on (`lines`: the ids of the lines not recorded as not done), every per-order kind
/// once; `have` is (line id, kind) of the photos taken (a per-order kind counts whatever
/// its line). In the order lines × kinds, then the order's own.
pub fn missing(
    required: &Required,
    lines: &[&str],
    have: &[(Option<&str>, PhotoKind)],
) -> Vec<Missing> {
    let taken: HashSet<(Option<&str>, PhotoKind)> = have
        .iter()
        .map(|&(line, kind)| {
            if kind.per_line() {
                (line, kind)
            } else {
                (None, kind)
            }
        })
        .collect();
    let mut out = Vec::new();
    for line in lines {
        for &kind in required.0.iter().filter(|k| k.per_line()) {
            if !taken.contains(&(Some(*line), kind)) {
                out.push(Missing {
                    line_id: Some(line.to_string()),
                    kind,
                });
            }
        }
    }
    for &kind in required.0.iter().filter(|k| !k.per_line()) {
        if !taken.contains(&(None, kind)) {
            out.push(Missing {
                line_id: None,
                kind,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_lists_read_and_write() {
        let r = Required::parse("unit, wiring,,site,unit").unwrap();
        assert_eq!(
            r.0,
            vec![PhotoKind::Unit, PhotoKind::Wiring, PhotoKind::Site]
        );
        assert_eq!(r.stored(), "unit,wiring,site");
        assert_eq!(Required::parse("").unwrap(), Required::default());
        assert_eq!(Required::parse("unit,selfie"), Err("selfie".into()));
    }

    #[test]
    fn missing_per_line_and_per_order() {
        let r = Required(vec![
            PhotoKind::Unit,
            PhotoKind::Wiring,
            PhotoKind::Paperwork,
        ]);
        let have = [
            (Some("L1"), PhotoKind::Unit),
            (Some("L2"), PhotoKind::Wiring),
            // a per-order kind counts wherever it was filed
            (Some("L1"), PhotoKind::Paperwork),
            // a photo of a line not asked for counts for nothing
            (Some("L9"), PhotoKind::Unit),
        ];
        let m = missing(&r, &["L1", "L2"], &have);
        assert_eq!(
            m,
            vec![
                Missing {
                    line_id: Some("L1".into()),
                    kind: PhotoKind::Wiring
                },
                Missing {
                    line_id: Some("L2".into()),
                    kind: PhotoKind::Unit
                },
            ]
        );
        assert!(missing(&Required::default(), &["L1"], &[]).is_empty());
        assert_eq!(
            missing(&Required(vec![PhotoKind::Site]), &[], &[]),
            vec![Missing {
                line_id: None,
                kind: PhotoKind::Site
            }]
        );
    }

    #[test]
    fn kinds_have_chinese_labels() {
        for k in PhotoKind::ALL {
            assert!(!k.label_zh().is_empty());
        }
        assert!(PhotoKind::Unit.per_line() && !PhotoKind::Site.per_line());
    }
}
