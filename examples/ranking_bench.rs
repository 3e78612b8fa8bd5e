//! Technician ranking: index build and `rank(limit 10)` over 10,000 technicians spread
//! over China.
//!
//! `cargo run --release --example ranking_bench`

use std::time::{Duration, Instant};

use dispatch::domain::order::OrderKind;
use dispatch::domain::ranking::{CandidateIndex, OrderNeeds, TechnicianInfo, rank_exhaustive};
use dispatch::domain::registry::GeoPoint;

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
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * (f64::from(self.next_u32()) / 4_294_967_296.0)
    }
    fn below(&mut self, n: u32) -> u32 {
        self.next_u32() % n
    }
}

const MODELS: [&str; 6] = ["GT06", "JT808", "VT300", "TK103", "GM20", "BSJ-A6"];
const CITIES: [(f64, f64); 4] = [
    (34.75, 113.63),
    (39.90, 116.41),
    (31.23, 121.47),
    (23.13, 113.26),
];

fn technicians(n: usize, r: &mut Lcg) -> Vec<TechnicianInfo> {
    (0..n)
        .map(|i| {
            let (lat, lng) = if r.below(3) == 0 {
                let (clat, clng) = CITIES[r.below(4) as usize];
                (clat + r.range(-0.3, 0.3), clng + r.range(-0.3, 0.3))
            } else {
                (r.range(18.0, 53.0), r.range(73.0, 135.0))
            };
            TechnicianInfo {
                id: format!("t{i:05}"),
                name: format!("师傅{i}"),
                active: r.below(10) != 0,
                external: r.below(10) == 0,
                can_install: r.below(5) != 0,
                can_repair: r.below(5) != 0,
                models: (0..r.below(3))
                    .map(|_| MODELS[r.below(6) as usize].to_string())
                    .collect(),
                position: GeoPoint { lat, lng },
                position_is_live: r.below(2) == 0,
                jobs_today: r.below(6),
                busy_at_scheduled_time: r.below(5) == 0,
            }
        })
        .collect()
}

fn needs(r: &mut Lcg, q: usize) -> OrderNeeds {
    // half the sites in the four dense cities, half anywhere in China
    let site = if q.is_multiple_of(2) {
        let (clat, clng) = CITIES[r.below(4) as usize];
        GeoPoint {
            lat: clat + r.range(-0.5, 0.5),
            lng: clng + r.range(-0.5, 0.5),
        }
    } else {
        GeoPoint {
            lat: r.range(18.0, 53.0),
            lng: r.range(73.0, 135.0),
        }
    };
    OrderNeeds {
        kind: if q.is_multiple_of(3) {
            OrderKind::Install
        } else {
            OrderKind::Repair
        },
        model: (!q.is_multiple_of(4)).then(|| MODELS[r.below(6) as usize].to_string()),
        site,
    }
}

fn report(what: &str, mut samples: Vec<Duration>) {
    samples.sort_unstable();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let pct = |p: f64| us(samples[((samples.len() - 1) as f64 * p).round() as usize]);
    let mean = us(samples.iter().sum::<Duration>()) / samples.len() as f64;
    println!(
        "{what:<34} n={:>6}  p50 {:>9.1} µs  p99 {:>9.1} µs  mean {:>9.1} µs  max {:>9.1} µs",
        samples.len(),
        pct(0.50),
        pct(0.99),
        mean,
        us(*samples.last().unwrap()),
    );
}

fn main() {
    let mut r = Lcg(2026);
    let techs = technicians(10_000, &mut r);

    // what the candidates endpoint does for one order: index the center's technicians,
    // rank once (the R-tree of the order's skill is built by that first query)
    let mut once = Vec::new();
    for q in 0..300 {
        let input = techs.clone();
        let n = needs(&mut r, q);
        let t = Instant::now();
        let index = CandidateIndex::new(input);
        let c = index.rank(&n, 10);
        once.push(t.elapsed());
        std::hint::black_box(c);
    }
    report("one order: index + first rank (10,000 techs)", once);

    let index = CandidateIndex::new(techs.clone());
    let queries: Vec<OrderNeeds> = (0..20_000).map(|q| needs(&mut r, q)).collect();
    // warm up
    for n in queries.iter().take(1_000) {
        std::hint::black_box(index.rank(n, 10));
    }
    let mut rank = Vec::with_capacity(queries.len());
    for n in &queries {
        let t = Instant::now();
        let c = index.rank(n, 10);
        rank.push(t.elapsed());
        std::hint::black_box(c);
    }
    report("rank limit 10 (R-tree)", rank);

    let mut brute = Vec::new();
    for n in queries.iter().take(500) {
        let t = Instant::now();
        let c = rank_exhaustive(&techs, n, 10);
        brute.push(t.elapsed());
        assert_eq!(c, index.rank(n, 10));
    }
    report("rank limit 10 (exhaustive, check)", brute);
}
