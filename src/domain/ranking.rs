//! Which technicians to suggest for an order (派工推荐).
//!
//! "经GPS事业部经理审批…，安排合适的维修人员": the manager picks a suitable technician —
//! one with the skill, close to the site, not overloaded, who knows the terminal model,
//! and free at the scheduled time. External contractors (外协) are suggested too, after
//! every own technician who can take the job (see [`Group`]), since "遇紧急叫修通知，维修技术人员都不在公司时，可经部门经理同意，派外协
//! 厂家" — they need the manager's outsourcing approval.
//!
//! [`CandidateIndex`] is built once from the technician list and answers
//! [`CandidateIndex::rank`] for any site with exactly the result of ranking every
//! technician one by one ([`rank_exhaustive`]), while looking at only the few nearest.

use std::cmp::Ordering;
use std::f64::consts::SQRT_2;

use geo::{Distance, Haversine, Point};
use rstar::RTree;
use rstar::primitives::GeomWithData;
use serde::Serialize;

use super::order::OrderKind;
use super::registry::GeoPoint;

/// What the ranking knows about a technician (own staff or external contractor).
#[derive(Debug, Clone, PartialEq)]
pub struct TechnicianInfo {
    pub id: String,
    pub name: String,
    pub active: bool,
    /// An external contractor (外协), used with the manager's approval.
    pub external: bool,
    pub can_install: bool,
    pub can_repair: bool,
    /// Terminal models the technician knows (型号, e.g. "GT06").
    pub models: Vec<String>,
    /// Last known position, or the home base when no live one is known.
    pub position: GeoPoint,
    /// Whether `position` is a live position (else it is the home base, 常驻地).
    pub position_is_live: bool,
    /// Orders already on the technician's list for the order's day.
    pub jobs_today: u32,
    /// Something else is scheduled at the order's time.
    pub busy_at_scheduled_time: bool,
}

/// What the order needs.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderNeeds {
    pub kind: OrderKind,
    /// The terminal model, when known; matched case-insensitively.
    pub model: Option<String>,
    /// Where the work is.
    pub site: GeoPoint,
}

/// A suggested technician, best first in [`CandidateIndex::rank`]'s answer.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Candidate {
    pub technician_id: String,
    pub name: String,
    /// Higher is better; see [`score`] for the formula. Rounded to 0.01.
    pub score: f64,
    /// Great-circle (haversine) distance from the technician's position to the site, in
    /// km, rounded to 0.01.
    pub distance_km: f64,
    pub jobs_today: u32,
    /// Has the skill for the order's kind. Always true: technicians without it are not
    /// candidates; kept so the UI can show it.
    pub skill_match: bool,
    /// Knows the order's terminal model; `None` when the order names no model.
    pub model_match: Option<bool>,
    /// An external contractor: needs outsourcing approval.
    pub external: bool,
    /// Free at the scheduled time.
    pub available: bool,
    /// Short Chinese phrases for the dispatcher, e.g. "会安装", "熟悉型号 GT06",
    /// "距离 3.2 公里", "位置为常驻地", "今日已有 2 单", "该时段已有安排", "外协（需外协审批）".
    pub reasons: Vec<String>,
}

/// Points at the start of the scale.
pub const BASE_SCORE: f64 = 100.0;
/// Points lost per kilometre of distance.
pub const PER_KM: f64 = 1.0;
/// Points lost per job already on the technician's day.
pub const PER_JOB_TODAY: f64 = 8.0;
/// Points won for knowing the order's terminal model.
pub const MODEL_BONUS: f64 = 15.0;
/// Points lost for being busy at the scheduled time (still listed, `available = false`).
pub const BUSY_PENALTY: f64 = 60.0;
/// Points lost by an external contractor (shown in the score; the order between own
/// staff and contractors is set by [`Group`], not by points).
pub const EXTERNAL_PENALTY: f64 = 12.0;

/// The ranking groups, best first. A candidate of an earlier group always comes before
/// one of a later group, whatever their scores; within a group, by [`score`].
///
/// The handbook uses contractors only "维修技术人员都不在公司时": every own technician
/// free at the time comes before any contractor, however near the contractor is. A busy
/// own technician (who may be rescheduled) still comes before a busy contractor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Group {
    /// Own staff, free at the scheduled time.
    OwnFree = 0,
    /// External contractors, free at the scheduled time.
    ContractorFree = 1,
    /// Own staff with something else at the scheduled time.
    OwnBooked = 2,
    /// External contractors with something else at the scheduled time.
    ContractorBooked = 3,
}

impl Group {
    pub const ALL: [Group; 4] = [
        Group::OwnFree,
        Group::ContractorFree,
        Group::OwnBooked,
        Group::ContractorBooked,
    ];

    /// The group of a technician.
    pub fn of(external: bool, busy: bool) -> Group {
        match (busy, external) {
            (false, false) => Group::OwnFree,
            (false, true) => Group::ContractorFree,
            (true, false) => Group::OwnBooked,
            (true, true) => Group::ContractorBooked,
        }
    }

    /// The penalties every member of the group carries in its score.
    fn penalty(self) -> f64 {
        match self {
            Group::OwnFree => 0.0,
            Group::ContractorFree => EXTERNAL_PENALTY,
            Group::OwnBooked => BUSY_PENALTY,
            Group::ContractorBooked => BUSY_PENALTY + EXTERNAL_PENALTY,
        }
    }
}

/// The score of an eligible technician (higher is better):
///
/// ```text
/// score = 100
///       − 1  × distance_km
///       − 8  × jobs_today
///       + 15 if the order names a model and the technician knows it
///       − 60 if busy at the scheduled time
///       − 12 if an external contractor
/// ```
///
/// So one more job today weighs like 8 km more driving and knowing the model like 15 km.
/// The score orders candidates within a [`Group`] only: own free technicians come first,
/// then free contractors, then booked own staff, then booked contractors. A home-base
/// position (not live) is scored like a live one and only flagged in the reasons.
/// Only the distance term is unbounded; [`CandidateIndex::rank`] relies on that.
pub fn score(
    distance_km: f64,
    jobs_today: u32,
    model_match: Option<bool>,
    busy: bool,
    external: bool,
) -> f64 {
    let mut s = BASE_SCORE - PER_KM * distance_km - PER_JOB_TODAY * f64::from(jobs_today);
    if model_match == Some(true) {
        s += MODEL_BONUS;
    }
    if busy {
        s -= BUSY_PENALTY;
    }
    if external {
        s -= EXTERNAL_PENALTY;
    }
    s
}

/// Haversine distance in km (geo's `Haversine`, mean Earth radius 6371.0088 km).
fn distance_km(a: GeoPoint, b: GeoPoint) -> f64 {
    let m = Haversine.distance(Point::new(a.lng, a.lat), Point::new(b.lng, b.lat));
    // rounding can push nearly antipodal points to NaN; they are half the world apart
    if m.is_finite() {
        m / 1000.0
    } else {
        earth_radius_km() * std::f64::consts::PI
    }
}

fn earth_radius_km() -> f64 {
    Haversine.radius() / 1000.0
}

fn valid_position(p: GeoPoint) -> bool {
    GeoPoint::new(p.lat, p.lng).is_ok()
}

fn has_skill(t: &TechnicianInfo, kind: OrderKind) -> bool {
    match kind {
        OrderKind::Install => t.can_install,
        OrderKind::Repair => t.can_repair,
    }
}

/// Whether `t` may be suggested at all for an order of `kind`: active, with the skill,
/// and with a usable position.
fn eligible(t: &TechnicianInfo, kind: OrderKind) -> bool {
    t.active && has_skill(t, kind) && valid_position(t.position)
}

/// The order's model, trimmed; `None` when absent or blank.
fn wanted_model(needs: &OrderNeeds) -> Option<&str> {
    needs
        .model
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
}

/// A technician scored for one order (before being turned into a [`Candidate`]).
#[derive(Debug, Clone, Copy)]
struct Scored {
    group: Group,
    idx: usize,
    score: f64,
    km: f64,
    model_match: Option<bool>,
}

fn score_one(t: &TechnicianInfo, idx: usize, site: GeoPoint, model: Option<&str>) -> Scored {
    let km = distance_km(t.position, site);
    let model_match = model.map(|m| t.models.iter().any(|k| k.trim().eq_ignore_ascii_case(m)));
    Scored {
        group: Group::of(t.external, t.busy_at_scheduled_time),
        idx,
        score: score(
            km,
            t.jobs_today,
            model_match,
            t.busy_at_scheduled_time,
            t.external,
        ),
        km,
        model_match,
    }
}

/// Best first: earlier group, then higher score, then smaller id, then earlier in the input.
fn best_first(techs: &[TechnicianInfo], a: &Scored, b: &Scored) -> Ordering {
    a.group
        .cmp(&b.group)
        .then_with(|| b.score.total_cmp(&a.score))
        .then_with(|| techs[a.idx].id.cmp(&techs[b.idx].id))
        .then_with(|| a.idx.cmp(&b.idx))
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn candidate(t: &TechnicianInfo, s: &Scored, kind: OrderKind, model: Option<&str>) -> Candidate {
    let mut reasons = Vec::with_capacity(6);
    reasons.push(
        match kind {
            OrderKind::Install => "会安装",
            OrderKind::Repair => "会维修",
        }
        .to_string(),
    );
    match (model, s.model_match) {
        (Some(m), Some(true)) => reasons.push(format!("熟悉型号 {m}")),
        (Some(m), Some(false)) => reasons.push(format!("未登记型号 {m}")),
        _ => {}
    }
    reasons.push(format!("距离 {:.1} 公里", s.km));
    if !t.position_is_live {
        reasons.push("位置为常驻地".to_string());
    }
    reasons.push(match t.jobs_today {
        0 => "今日无单".to_string(),
        n => format!("今日已有 {n} 单"),
    });
    if t.busy_at_scheduled_time {
        reasons.push("该时段已有安排".to_string());
    }
    if t.external {
        reasons.push("外协（需外协审批）".to_string());
    }
    Candidate {
        technician_id: t.id.clone(),
        name: t.name.clone(),
        score: round2(s.score),
        distance_km: round2(s.km),
        jobs_today: t.jobs_today,
        skill_match: true,
        model_match: s.model_match,
        external: t.external,
        available: !t.busy_at_scheduled_time,
        reasons,
    }
}

/// The reference ranking: score every eligible technician, sort, keep `limit`.
/// [`CandidateIndex::rank`] gives the same answer faster; this is for tests, benchmarks
/// and tiny lists.
pub fn rank_exhaustive(
    techs: &[TechnicianInfo],
    needs: &OrderNeeds,
    limit: usize,
) -> Vec<Candidate> {
    if limit == 0 || !valid_position(needs.site) {
        return Vec::new();
    }
    let model = wanted_model(needs);
    let mut scored: Vec<Scored> = techs
        .iter()
        .enumerate()
        .filter(|(_, t)| eligible(t, needs.kind))
        .map(|(i, t)| score_one(t, i, needs.site, model))
        .collect();
    scored.sort_by(|a, b| best_first(techs, a, b));
    scored
        .iter()
        .take(limit)
        .map(|s| candidate(&techs[s.idx], s, needs.kind, model))
        .collect()
}

/// One R-tree per skill, over the eligible technicians' positions as `[lng, lat]` in
/// degrees, with the bounds needed to turn a distance in degrees into a safe lower bound
/// in km.
struct SkillTree {
    tree: RTree<GeomWithData<[f64; 2], usize>>,
    /// The largest |latitude| of a point in the tree, in degrees.
    max_abs_lat: f64,
    min_lng: f64,
    max_lng: f64,
}

impl SkillTree {
    fn build(techs: &[TechnicianInfo], kind: OrderKind, group: Group) -> SkillTree {
        let points: Vec<_> = techs
            .iter()
            .enumerate()
            .filter(|(_, t)| {
                eligible(t, kind) && Group::of(t.external, t.busy_at_scheduled_time) == group
            })
            .map(|(i, t)| GeomWithData::new([t.position.lng, t.position.lat], i))
            .collect();
        let (mut max_abs_lat, mut min_lng, mut max_lng) = (0.0_f64, 180.0_f64, -180.0_f64);
        for p in &points {
            let [lng, lat] = *p.geom();
            max_abs_lat = max_abs_lat.max(lat.abs());
            min_lng = min_lng.min(lng);
            max_lng = max_lng.max(lng);
        }
        SkillTree {
            tree: RTree::bulk_load(points),
            max_abs_lat,
            min_lng,
            max_lng,
        }
    }

    /// A lower bound on the haversine distance (km) from `site` to any point of the tree
    /// that is at least `deg` away from it in plain `[lng, lat]` degrees (the R-tree's
    /// metric).
    ///
    /// With Δφ, Δλ the differences in latitude and longitude, deg² = Δφ² + Δλ², so
    /// |Δφ| ≥ deg/√2 or |Δλ| ≥ deg/√2, and the central angle θ satisfies
    /// `hav θ = hav Δφ + cos φ₁ cos φ₂ hav Δλ`, hence:
    /// * θ ≥ |Δφ|;
    /// * hav θ ≥ cos φ_site · cos(max |φ| in the tree) · hav(Δλ'), where Δλ' is the
    ///   longitude difference the short way round: at least min(deg/√2, 360° − the
    ///   farthest longitude of the tree from the site) and at most 180°.
    ///
    /// The smaller of the two, less a hair for floating-point rounding, is the bound.
    fn min_km_beyond(&self, site: GeoPoint, deg: f64) -> f64 {
        let half = deg / SQRT_2;
        let by_lat = half.min(180.0).to_radians();
        let lng_span = (self.max_lng - site.lng)
            .max(site.lng - self.min_lng)
            .max(0.0);
        let dlng = half.min(360.0 - lng_span).clamp(0.0, 180.0).to_radians();
        let k = (site.lat.to_radians().cos() * self.max_abs_lat.to_radians().cos()).max(0.0);
        let hav = (k * (dlng / 2.0).sin().powi(2)).clamp(0.0, 1.0);
        let by_lng = 2.0 * hav.sqrt().asin();
        let km = earth_radius_km() * by_lat.min(by_lng);
        (km * (1.0 - 1e-9) - 1e-6).max(0.0)
    }
}

/// Technicians indexed for ranking; build once per technician list (e.g. per request or
/// cached per center), query many times. The R-trees of a skill (one per [`Group`]) are
/// built on the first query that needs them, so a one-off ranking pays for one skill only.
pub struct CandidateIndex {
    technicians: Vec<TechnicianInfo>,
    install: std::sync::OnceLock<Vec<SkillTree>>,
    repair: std::sync::OnceLock<Vec<SkillTree>>,
}

impl CandidateIndex {
    /// Indexes `technicians`. Inactive ones, and those whose position is not a valid
    /// WGS-84 point, are never suggested.
    pub fn new(technicians: Vec<TechnicianInfo>) -> CandidateIndex {
        CandidateIndex {
            technicians,
            install: std::sync::OnceLock::new(),
            repair: std::sync::OnceLock::new(),
        }
    }

    /// The technicians as given to [`CandidateIndex::new`].
    pub fn technicians(&self) -> &[TechnicianInfo] {
        &self.technicians
    }

    pub fn len(&self) -> usize {
        self.technicians.len()
    }

    pub fn is_empty(&self) -> bool {
        self.technicians.is_empty()
    }

    /// The best `limit` candidates for `needs`, best first (by [`Group`], then [`score`];
    /// ties by technician id). Inactive technicians and those without the skill (install
    /// or repair) are left out; busy ones and external contractors are listed, lower.
    ///
    /// Groups are ranked one after the other, each from its own R-tree, until `limit`
    /// candidates are found. Within a group, technicians are visited nearest first in the R-tree's plain-degree metric, which
    /// only roughly follows real distance, so each one is scored by its haversine
    /// distance. The walk stops once even a perfect technician (no jobs, free, own
    /// staff, knows the model, less the group's penalties) at the smallest real distance still possible for the
    /// unvisited ones would score below the current `limit`-th best (the bound is derived
    /// in `SkillTree::min_km_beyond`). Hence the answer is exactly [`rank_exhaustive`]'s.
    ///
    /// An invalid site (NaN, out of range) yields no candidates.
    pub fn rank(&self, needs: &OrderNeeds, limit: usize) -> Vec<Candidate> {
        self.rank_counting(needs, limit).0
    }

    /// [`CandidateIndex::rank`], also telling how many technicians were scored.
    fn rank_counting(&self, needs: &OrderNeeds, limit: usize) -> (Vec<Candidate>, usize) {
        if limit == 0 || !valid_position(needs.site) {
            return (Vec::new(), 0);
        }
        let techs = &self.technicians;
        let trees = match needs.kind {
            OrderKind::Install => &self.install,
            OrderKind::Repair => &self.repair,
        }
        .get_or_init(|| {
            Group::ALL
                .iter()
                .map(|g| SkillTree::build(techs, needs.kind, *g))
                .collect()
        });
        let model = wanted_model(needs);
        let site = needs.site;
        let mut out: Vec<Scored> = Vec::with_capacity(limit);
        let mut visited = 0;
        for (group, index) in Group::ALL.iter().zip(trees) {
            let want = limit - out.len();
            if want == 0 {
                break;
            }
            let best_possible =
                BASE_SCORE + if model.is_some() { MODEL_BONUS } else { 0.0 } - group.penalty();
            // the best `want` of this group so far, best first
            let mut top: Vec<Scored> = Vec::with_capacity(want + 1);
            for (item, d2) in index
                .tree
                .nearest_neighbor_iter_with_distance_2(&[site.lng, site.lat])
            {
                if top.len() == want {
                    let worst = top[want - 1].score;
                    let ceiling = best_possible - PER_KM * index.min_km_beyond(site, d2.sqrt());
                    if ceiling < worst {
                        break;
                    }
                }
                visited += 1;
                let s = score_one(&techs[item.data], item.data, site, model);
                let at = top.partition_point(|x| best_first(techs, x, &s) == Ordering::Less);
                if at < want {
                    top.insert(at, s);
                    top.truncate(want);
                }
            }
            out.extend(top);
        }
        let out = out
            .iter()
            .map(|s| candidate(&techs[s.idx], s, needs.kind, model))
            .collect();
        (out, visited)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tech(id: &str, lat: f64, lng: f64) -> TechnicianInfo {
        TechnicianInfo {
            id: id.to_string(),
            name: format!("师傅{id}"),
            active: true,
            external: false,
            can_install: true,
            can_repair: true,
            models: vec![],
            position: GeoPoint { lat, lng },
            position_is_live: true,
            jobs_today: 0,
            busy_at_scheduled_time: false,
        }
    }

    /// 郑州 (Zhengzhou) city center.
    const ZZ: GeoPoint = GeoPoint {
        lat: 34.7466,
        lng: 113.6254,
    };

    /// A point `km` east of ZZ (approximately; distances are measured, not assumed).
    fn east_of_zz(km: f64) -> (f64, f64) {
        (ZZ.lat, ZZ.lng + km / (111.195 * ZZ.lat.to_radians().cos()))
    }

    fn needs(kind: OrderKind, model: Option<&str>) -> OrderNeeds {
        OrderNeeds {
            kind,
            model: model.map(str::to_string),
            site: ZZ,
        }
    }

    fn ids(c: &[Candidate]) -> Vec<&str> {
        c.iter().map(|c| c.technician_id.as_str()).collect()
    }

    fn at(id: &str, km: f64) -> TechnicianInfo {
        let (lat, lng) = east_of_zz(km);
        tech(id, lat, lng)
    }

    fn rank(techs: Vec<TechnicianInfo>, n: &OrderNeeds, limit: usize) -> Vec<Candidate> {
        let expected = rank_exhaustive(&techs, n, limit);
        let got = CandidateIndex::new(techs).rank(n, limit);
        assert_eq!(got, expected);
        got
    }

    #[test]
    fn haversine_is_in_metres_as_expected() {
        // 郑州 → 北京 is about 620 km as the crow flies
        let beijing = GeoPoint {
            lat: 39.9042,
            lng: 116.4074,
        };
        let km = distance_km(ZZ, beijing);
        assert!((610.0..630.0).contains(&km), "{km}");
        let (lat, lng) = east_of_zz(10.0);
        let km = distance_km(ZZ, GeoPoint { lat, lng });
        assert!((9.9..10.1).contains(&km), "{km}");
    }

    #[test]
    fn skills_and_activity_filter() {
        let mut installer = at("a", 1.0);
        installer.can_repair = false;
        let mut repairer = at("b", 2.0);
        repairer.can_install = false;
        let mut inactive = at("c", 0.5);
        inactive.active = false;
        let mut nowhere = at("d", 0.1);
        nowhere.position.lat = f64::NAN;
        let techs = vec![installer, repairer, inactive, nowhere];
        let n = needs(OrderKind::Install, None);
        assert_eq!(ids(&rank(techs.clone(), &n, 10)), ["a"]);
        let n = needs(OrderKind::Repair, None);
        assert_eq!(ids(&rank(techs, &n, 10)), ["b"]);
    }

    #[test]
    fn nearest_wins_all_else_equal() {
        let techs = vec![at("far", 30.0), at("near", 3.0), at("mid", 10.0)];
        let got = rank(techs, &needs(OrderKind::Repair, None), 10);
        assert_eq!(ids(&got), ["near", "mid", "far"]);
        assert!((got[0].distance_km - 3.0).abs() < 0.05);
        assert!(got[0].score > got[1].score && got[1].score > got[2].score);
    }

    #[test]
    fn workload_reorders() {
        // 3 jobs (24 points) outweigh 10 km
        let mut busy_day = at("a", 2.0);
        busy_day.jobs_today = 3;
        let techs = vec![busy_day, at("b", 12.0)];
        assert_eq!(
            ids(&rank(techs.clone(), &needs(OrderKind::Install, None), 10)),
            ["b", "a"]
        );
        // one job (8 points) does not outweigh 10 km
        let mut techs = techs;
        techs[0].jobs_today = 1;
        assert_eq!(
            ids(&rank(techs, &needs(OrderKind::Install, None), 10)),
            ["a", "b"]
        );
    }

    #[test]
    fn busy_at_the_time_is_listed_last_but_listed() {
        let mut busy = at("a", 1.0);
        busy.busy_at_scheduled_time = true;
        let techs = vec![busy, at("b", 40.0)];
        let got = rank(techs, &needs(OrderKind::Repair, None), 10);
        assert_eq!(ids(&got), ["b", "a"]);
        assert!(got[0].available);
        assert!(!got[1].available);
        assert!(got[1].reasons.contains(&"该时段已有安排".to_string()));
    }

    #[test]
    fn external_after_own_staff_at_similar_scores() {
        let mut ext = at("a", 5.0);
        ext.external = true;
        let techs = vec![ext.clone(), at("b", 10.0)];
        let got = rank(techs, &needs(OrderKind::Repair, None), 10);
        assert_eq!(ids(&got), ["b", "a"]);
        assert!(got[1].external);
        assert!(got[1].reasons.contains(&"外协（需外协审批）".to_string()));
        // even a much closer contractor comes after a free own technician far away
        let techs = vec![ext, at("b", 40.0)];
        assert_eq!(
            ids(&rank(techs, &needs(OrderKind::Repair, None), 10)),
            ["b", "a"]
        );
    }

    /// The issue's numbers: a contractor 0.35 km away, an idle own technician 22 km away.
    #[test]
    fn contractor_never_outranks_a_free_own_technician() {
        let mut ext = at("contractor", 0.35);
        ext.external = true;
        let own = at("own", 22.0);
        let got = rank(vec![ext, own], &needs(OrderKind::Repair, None), 10);
        assert_eq!(ids(&got), ["own", "contractor"]);
        assert!(got[0].score < got[1].score, "ordered by group, not score");
    }

    #[test]
    fn groups_own_free_then_contractors_free_then_booked() {
        let mut ext_free = at("b_ext_free", 0.5);
        ext_free.external = true;
        let mut own_booked = at("c_own_booked", 0.1);
        own_booked.busy_at_scheduled_time = true;
        let mut ext_booked = at("d_ext_booked", 0.05);
        ext_booked.external = true;
        ext_booked.busy_at_scheduled_time = true;
        let mut own_loaded = at("a_own_far_loaded", 80.0);
        own_loaded.jobs_today = 6;
        let techs = vec![
            ext_booked.clone(),
            own_booked.clone(),
            ext_free.clone(),
            own_loaded,
            at("a_own_near", 30.0),
        ];
        let n = needs(OrderKind::Install, None);
        assert_eq!(
            ids(&rank(techs.clone(), &n, 10)),
            [
                "a_own_near",
                "a_own_far_loaded",
                "b_ext_free",
                "c_own_booked",
                "d_ext_booked"
            ]
        );
        // a limit cuts across groups the same way
        assert_eq!(
            ids(&rank(techs.clone(), &n, 3)),
            ["a_own_near", "a_own_far_loaded", "b_ext_free"]
        );
        // within a group, by distance and load as before
        let mut ext_far = at("e_ext_far", 20.0);
        ext_far.external = true;
        assert_eq!(
            ids(&rank(vec![ext_far, ext_free], &n, 10)),
            ["b_ext_free", "e_ext_far"]
        );
        assert_eq!(Group::of(false, false), Group::OwnFree);
        assert_eq!(Group::of(true, true), Group::ContractorBooked);
    }

    #[test]
    fn model_match_bonus() {
        let mut knows = at("a", 12.0);
        knows.models = vec!["gt06".to_string(), "JT808-X".to_string()];
        let techs = vec![knows, at("b", 2.0)];
        let got = rank(techs.clone(), &needs(OrderKind::Repair, Some(" GT06 ")), 10);
        assert_eq!(ids(&got), ["a", "b"]);
        assert_eq!(got[0].model_match, Some(true));
        assert_eq!(got[1].model_match, Some(false));
        assert!(got[0].reasons.contains(&"熟悉型号 GT06".to_string()));
        assert!(got[1].reasons.contains(&"未登记型号 GT06".to_string()));
        // no model on the order: no bonus, no match reported
        let got = rank(techs.clone(), &needs(OrderKind::Repair, None), 10);
        assert_eq!(ids(&got), ["b", "a"]);
        assert_eq!(got[0].model_match, None);
        let got = rank(techs, &needs(OrderKind::Repair, Some("  ")), 10);
        assert_eq!(got[0].model_match, None);
    }

    #[test]
    fn reasons_text() {
        let mut t = at("a", 3.2);
        t.models = vec!["GT06".to_string()];
        t.jobs_today = 2;
        t.position_is_live = false;
        let got = rank(vec![t], &needs(OrderKind::Install, Some("GT06")), 10);
        assert_eq!(
            got[0].reasons,
            [
                "会安装",
                "熟悉型号 GT06",
                "距离 3.2 公里",
                "位置为常驻地",
                "今日已有 2 单"
            ]
        );
        let got = rank(vec![at("b", 0.0)], &needs(OrderKind::Repair, None), 10);
        assert_eq!(got[0].reasons, ["会维修", "距离 0.0 公里", "今日无单"]);
        assert_eq!(got[0].score, 100.0);
        assert!(got[0].skill_match);
    }

    #[test]
    fn score_formula() {
        assert_eq!(score(0.0, 0, None, false, false), 100.0);
        assert_eq!(
            score(10.0, 2, Some(true), false, false),
            100.0 - 10.0 - 16.0 + 15.0
        );
        assert_eq!(
            score(10.0, 0, Some(false), true, true),
            100.0 - 10.0 - 60.0 - 12.0
        );
    }

    #[test]
    fn limit_and_ties_by_id() {
        // identical technicians at one spot: ties broken by id
        let techs: Vec<_> = ["e", "c", "a", "d", "b"]
            .iter()
            .map(|id| at(id, 5.0))
            .collect();
        let n = needs(OrderKind::Install, None);
        assert_eq!(ids(&rank(techs.clone(), &n, 3)), ["a", "b", "c"]);
        assert_eq!(ids(&rank(techs.clone(), &n, 10)), ["a", "b", "c", "d", "e"]);
        assert_eq!(rank(techs.clone(), &n, 1).len(), 1);
        assert!(rank(techs, &n, 0).is_empty());
    }

    #[test]
    fn empty_input_and_bad_site() {
        let n = needs(OrderKind::Install, None);
        assert!(rank(vec![], &n, 10).is_empty());
        let index = CandidateIndex::new(vec![]);
        assert!(index.is_empty());
        let bad = OrderNeeds {
            site: GeoPoint {
                lat: f64::NAN,
                lng: 0.0,
            },
            ..n
        };
        assert!(rank(vec![at("a", 1.0)], &bad, 10).is_empty());
    }

    #[test]
    fn across_the_antimeridian_and_near_the_poles() {
        // the R-tree's degree metric puts these far apart; the ranking must not
        let techs = vec![
            tech("east", 60.0, 179.9),
            tech("west", 60.0, -179.95),
            tech("mid", 60.0, 170.0),
            tech("pole", 89.9, 0.0),
            tech("pole2", 89.95, 180.0),
            tech("south", -89.9, 10.0),
        ];
        for site in [
            GeoPoint {
                lat: 60.0,
                lng: -179.99,
            },
            GeoPoint {
                lat: 60.0,
                lng: 179.99,
            },
            GeoPoint {
                lat: 89.99,
                lng: -90.0,
            },
            GeoPoint {
                lat: -90.0,
                lng: 0.0,
            },
            GeoPoint { lat: 0.0, lng: 0.0 },
        ] {
            let n = OrderNeeds {
                kind: OrderKind::Repair,
                model: None,
                site,
            };
            for limit in 1..=6 {
                rank(techs.clone(), &n, limit);
            }
        }
        let n = OrderNeeds {
            kind: OrderKind::Repair,
            model: None,
            site: GeoPoint {
                lat: 60.0,
                lng: -179.99,
            },
        };
        assert_eq!(ids(&rank(techs, &n, 2)), ["west", "east"]);
    }

    /// A 64-bit linear congruential generator (Knuth's MMIX constants).
    struct Lcg(u64);

    impl Lcg {
        fn next_u32(&mut self) -> u32 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 32) as u32
        }
        /// uniform in [0, 1)
        fn unit(&mut self) -> f64 {
            f64::from(self.next_u32()) / 4_294_967_296.0
        }
        fn range(&mut self, lo: f64, hi: f64) -> f64 {
            lo + (hi - lo) * self.unit()
        }
        fn below(&mut self, n: u32) -> u32 {
            self.next_u32() % n
        }
    }

    const MODELS: [&str; 6] = ["GT06", "JT808", "VT300", "TK103", "GM20", "BSJ-A6"];

    /// Technicians over China's extent (lat 18–53, lng 73–135), denser around a few
    /// cities, with some sharing a position and a profile (exact score ties).
    fn many_technicians(n: usize, seed: u64) -> Vec<TechnicianInfo> {
        let mut r = Lcg(seed);
        let cities = [
            (34.75, 113.63),
            (39.90, 116.41),
            (31.23, 121.47),
            (23.13, 113.26),
        ];
        let mut out: Vec<TechnicianInfo> = Vec::with_capacity(n);
        for i in 0..n {
            // ids not in position order, so the id tie-break is exercised
            let id = format!("t{:05}", (i * 7919) % n);
            if i % 50 == 49 {
                let mut twin = out[r.below(i as u32) as usize].clone();
                twin.id = id;
                out.push(twin);
                continue;
            }
            let (lat, lng) = if r.below(3) == 0 {
                let (clat, clng) = cities[r.below(4) as usize];
                (clat + r.range(-0.3, 0.3), clng + r.range(-0.3, 0.3))
            } else {
                (r.range(18.0, 53.0), r.range(73.0, 135.0))
            };
            let models = (0..r.below(3))
                .map(|_| MODELS[r.below(6) as usize].to_string())
                .collect();
            out.push(TechnicianInfo {
                id,
                name: format!("师傅{i}"),
                active: r.below(10) != 0,
                external: r.below(10) == 0,
                can_install: r.below(5) != 0,
                can_repair: r.below(5) != 0,
                models,
                position: GeoPoint { lat, lng },
                position_is_live: r.below(2) == 0,
                jobs_today: r.below(6),
                busy_at_scheduled_time: r.below(5) == 0,
            });
        }
        out
    }

    #[test]
    fn ten_thousand_technicians_match_brute_force() {
        let techs = many_technicians(10_000, 42);
        let index = CandidateIndex::new(techs.clone());
        assert_eq!(index.len(), 10_000);
        let mut r = Lcg(7);
        let mut compared = 0;
        for q in 0..120 {
            let site = if q % 3 == 0 {
                // right on top of a technician (distance 0, ties)
                techs[r.below(10_000) as usize].position
            } else {
                GeoPoint {
                    lat: r.range(18.0, 53.0),
                    lng: r.range(73.0, 135.0),
                }
            };
            let kind = if q % 2 == 0 {
                OrderKind::Install
            } else {
                OrderKind::Repair
            };
            let model = (q % 4 != 0).then(|| MODELS[r.below(6) as usize].to_string());
            let needs = OrderNeeds { kind, model, site };
            let limit = [1, 3, 10, 25, 100][q % 5];
            let got = index.rank(&needs, limit);
            assert_eq!(got.len(), limit);
            assert_eq!(got, rank_exhaustive(&techs, &needs, limit), "query {q}");
            compared += 1;
        }
        // a site far outside the data (the bound must still be sound)
        let far = OrderNeeds {
            kind: OrderKind::Repair,
            model: Some("GT06".to_string()),
            site: GeoPoint {
                lat: -33.9,
                lng: -70.6,
            },
        };
        assert_eq!(index.rank(&far, 10), rank_exhaustive(&techs, &far, 10));
        // more than there are
        let all = index.rank(&far, 20_000);
        assert_eq!(all, rank_exhaustive(&techs, &far, 20_000));
        let eligible = techs
            .iter()
            .filter(|t| eligible(t, OrderKind::Repair))
            .count();
        assert_eq!(all.len(), eligible);
        assert_eq!(compared, 120);
    }

    #[test]
    fn the_walk_stops_early() {
        let techs = many_technicians(10_000, 42);
        let index = CandidateIndex::new(techs);
        let mut r = Lcg(11);
        let mut visited = Vec::new();
        for _ in 0..50 {
            let needs = OrderNeeds {
                kind: OrderKind::Install,
                model: Some("GT06".to_string()),
                site: GeoPoint {
                    lat: r.range(22.0, 45.0),
                    lng: r.range(100.0, 122.0),
                },
            };
            visited.push(index.rank_counting(&needs, 10).1);
        }
        visited.sort_unstable();
        // about 5,800 are eligible for installs; the median query looks at a few dozen
        assert!(visited[25] < 500, "{visited:?}");
    }

    #[test]
    fn the_distance_bound_is_never_above_the_real_distance() {
        let techs = many_technicians(2_000, 3);
        let mut r = Lcg(5);
        // points everywhere, not only over China
        let mut world: Vec<TechnicianInfo> = (0..2_000)
            .map(|i| {
                tech(
                    &format!("w{i}"),
                    r.range(-90.0, 90.0),
                    r.range(-180.0, 180.0),
                )
            })
            .collect();
        world.extend(techs);
        for points in [&world[..2_000], &world[2_000..], &world[..]] {
            for g in Group::ALL {
                let tree = SkillTree::build(points, OrderKind::Repair, g);
                for _ in 0..50 {
                    let site = GeoPoint {
                        lat: r.range(-90.0, 90.0),
                        lng: r.range(-180.0, 180.0),
                    };
                    for t in points.iter().filter(|t| {
                        eligible(t, OrderKind::Repair)
                            && Group::of(t.external, t.busy_at_scheduled_time) == g
                    }) {
                        let p = t.position;
                        let deg = ((p.lng - site.lng).powi(2) + (p.lat - site.lat).powi(2)).sqrt();
                        let bound = tree.min_km_beyond(site, deg);
                        let real = distance_km(p, site);
                        assert!(bound <= real, "{site:?} {p:?}: {bound} > {real}");
                    }
                }
            }
        }
    }
}
