//! Photo uploads through HTTP, end to end (issue 17's budgets): the time of one 400 KB
//! upload (read, checked by content, stripped, thumbnail, both put in the object store,
//! recorded on the order), and how much 20 clients uploading at once slow the order
//! actions of everybody else.
//!
//!   cargo run --release --example upload_bench                    # SQLite, temp file
//!   BENCH_DATABASE_URL=postgres://…/empty_db cargo run --release --example upload_bench
//!
//! `./scripts/bench-upload` runs both (figures in docs/benchmarks.md).
use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use dispatch::startup::{Application, Settings};
use dispatch::store::DbTarget;
use reqwest::Client;
use serde_json::{Value, json};

const UPLOADS: usize = 60;
const PARALLEL: usize = 20;
const ACTIONS: usize = 1000;

struct Ctx {
    base: String,
    client: Client,
    agent: String,
    manager: String,
    tech: String,
    tech_id: String,
    customer: String,
    vehicle: String,
}

async fn token(client: &Client, base: &str, user: &str) -> String {
    let v: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": user, "password": "demo1234"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

async fn call(ctx: &Ctx, token: &str, path: &str, version: Option<i64>, body: Value) -> Value {
    let mut req = ctx
        .client
        .post(format!("{}/api/v1{path}", ctx.base))
        .bearer_auth(token)
        .json(&body);
    if let Some(v) = version {
        req = req.header("If-Match", format!("\"{v}\""));
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let v: Value = res.json().await.unwrap();
    assert!(status.is_success(), "{path}: {status} {v}");
    v
}

/// A repair order taken on site by the technician: (id, version).
async fn on_site(ctx: &Ctx) -> (String, i64) {
    let o = call(
        ctx,
        &ctx.agent,
        "/work-orders/repair",
        None,
        json!({
            "customer_id": ctx.customer, "vehicle_id": ctx.vehicle, "submit": true,
            "site_address": "郑州市金水区花园路 1 号", "site_lat": 34.78, "site_lng": 113.68,
            "contact_name": "王先生", "contact_phone": "13800138000",
            "fault_symptoms": "终端不定位", "channel": "phone"
        }),
    )
    .await;
    let id = o["id"].as_str().unwrap().to_string();
    let mut v = o["version"].as_i64().unwrap();
    let steps: Vec<(&str, &str, Value)> = vec![
        (&ctx.manager, "approve", json!({})),
        (
            &ctx.manager,
            "assign",
            json!({"lead_id": ctx.tech_id, "scheduled_at": "2030-01-01T02:00:00Z", "allow_double_booking": true}),
        ),
        (&ctx.tech, "accept", json!({})),
        (
            &ctx.tech,
            "readiness",
            json!({"items": ["info_verified", "tools", "spare_parts", "documents"]}),
        ),
        (&ctx.tech, "depart", json!({})),
        (&ctx.tech, "arrive", json!({"lat": 34.78, "lng": 113.68})),
    ];
    for (token, action, body) in steps {
        let r = call(
            ctx,
            token,
            &format!("/work-orders/{id}/{action}"),
            Some(v),
            body,
        )
        .await;
        v = r["version"].as_i64().unwrap();
    }
    (id, v)
}

/// A photo-like JPEG of 1600×1200 near 400 KB (noise over a gradient), different per `seed`.
fn jpeg(seed: u32) -> Vec<u8> {
    let mut s: u32 = 0x1234_5678 ^ seed.wrapping_mul(0x9e37_79b9);
    let (w, h) = (1600, 1200);
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        s ^= s << 13;
        s ^= s >> 17;
        s ^= s << 5;
        let n = (s & 0x1f) as u8;
        image::Rgb([
            ((x * 255 / w) as u8).saturating_add(n),
            ((y * 255 / h) as u8).saturating_add(n),
            128u8.saturating_add(n),
        ])
    });
    let mut out = Cursor::new(Vec::new());
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
        .encode_image(&img)
        .unwrap();
    out.into_inner()
}

async fn upload(ctx: &Ctx, order: &str, bytes: Vec<u8>) -> Duration {
    let t = Instant::now();
    let res = ctx
        .client
        .post(format!(
            "{}/api/v1/work-orders/{order}/photos?kind=site",
            ctx.base
        ))
        .bearer_auth(&ctx.tech)
        .header("Content-Type", "image/jpeg")
        .header("If-Match", "*")
        .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
        .body(bytes)
        .send()
        .await
        .unwrap();
    let status = res.status();
    let body = res.bytes().await.unwrap();
    assert!(
        status.is_success(),
        "upload: {status} {}",
        String::from_utf8_lossy(&body)
    );
    t.elapsed()
}

/// `ACTIONS` order actions (hold, resume, … on one on-site order): each one's time.
async fn actions(ctx: &Ctx, order: &str, mut v: i64) -> (Vec<Duration>, i64) {
    let mut out = Vec::with_capacity(ACTIONS);
    for i in 0..ACTIONS {
        let (action, body) = if i % 2 == 0 {
            ("hold", json!({"reason": "等客户取车钥匙"}))
        } else {
            ("resume", json!({}))
        };
        let t = Instant::now();
        let r = call(
            ctx,
            &ctx.tech,
            &format!("/work-orders/{order}/{action}"),
            Some(v),
            body,
        )
        .await;
        out.push(t.elapsed());
        v = r["version"].as_i64().unwrap();
    }
    (out, v)
}

fn pct(mut d: Vec<Duration>, p: f64) -> f64 {
    d.sort();
    let i = ((d.len() as f64 - 1.0) * p).round() as usize;
    d[i].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            std::env::var("BENCH_LOG").unwrap_or_else(|_| "warn".into()),
        ))
        .with_writer(std::io::stderr)
        .init();
    // the app's --photo-slots (DISPATCH_PHOTO_SLOTS=64: as good as unbounded)
    if let Ok(n) = std::env::var("DISPATCH_PHOTO_SLOTS") {
        dispatch::media::set_processing_slots(n.parse().expect("DISPATCH_PHOTO_SLOTS: a number"));
    }
    let dir = tempfile::tempdir().unwrap();
    let target = match std::env::var("BENCH_DATABASE_URL") {
        Ok(url) => DbTarget::parse(&url).unwrap(),
        Err(_) => DbTarget::sqlite_file(dir.path().join("bench.db")),
    };
    let backend = format!("{:?}", target.backend);
    let pool = dispatch::startup::open_database(&target, 16).unwrap();
    {
        let mut c = pool.get().unwrap();
        dispatch::demo::load(&mut c).unwrap();
    }
    let app = Application::with_pool(
        Settings {
            target,
            bind: "127.0.0.1:0".into(),
            jwt_secret: b"upload-bench-secret-0123456789ab".to_vec(),
            token_ttl: 3600,
            pool_size: 16,
            workers: Some(2),
            documents: Arc::new(dispatch::documents::Documents::new(
                None,
                dispatch::documents::BankDetails {
                    company: "bench".into(),
                    bank: "bench".into(),
                    account: "0".into(),
                },
            )),
            mail: None,
            map: Default::default(),
            objects: dispatch::media::objects::Objects::local(&dir.path().join("objects")).unwrap(),
            tracking: None,
        },
        pool,
    )
    .unwrap();
    let base = format!("http://127.0.0.1:{}", app.port());
    tokio::spawn(app.run_until_stopped());
    let client = Client::new();
    let agent = token(&client, &base, "zz.agent1").await;
    let manager = token(&client, &base, "zz.manager").await;
    let tech = token(&client, &base, "zz.tech1").await;
    let get = |path: String, t: String| {
        let client = client.clone();
        let base = base.clone();
        async move {
            client
                .get(format!("{base}/api/v1{path}"))
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    let me = get("/auth/me".into(), tech.clone()).await;
    let customers = get("/customers?limit=1".into(), agent.clone()).await;
    let customer = customers["items"][0]["id"].as_str().unwrap().to_string();
    let vehicles = get(
        format!("/vehicles?limit=1&customer_id={customer}"),
        agent.clone(),
    )
    .await;
    let ctx = Arc::new(Ctx {
        vehicle: vehicles["items"][0]["id"].as_str().unwrap().to_string(),
        tech_id: me["id"].as_str().unwrap().to_string(),
        base,
        client,
        agent,
        manager,
        tech,
        customer,
    });
    let photos: Arc<Vec<Vec<u8>>> = Arc::new((0..8).map(jpeg).collect());
    let size = photos.iter().map(Vec::len).sum::<usize>() / photos.len();
    let (upload_order, _) = on_site(&ctx).await;
    let (action_order, v) = on_site(&ctx).await;

    // one upload at a time
    for p in photos.iter().take(2) {
        upload(&ctx, &upload_order, p.clone()).await; // warm up
    }
    let mut single = Vec::new();
    for i in 0..UPLOADS {
        single.push(upload(&ctx, &upload_order, photos[i % photos.len()].clone()).await);
    }

    // order actions alone, then while PARALLEL clients upload without pause
    let (_, v) = actions(&ctx, &action_order, v).await; // warm up
    let (alone, v) = actions(&ctx, &action_order, v).await;
    let stop = Arc::new(AtomicBool::new(false));
    let uploaded = Arc::new(AtomicUsize::new(0));
    let mut uploaders = Vec::new();
    for w in 0..PARALLEL {
        let (ctx, photos, stop, uploaded) =
            (ctx.clone(), photos.clone(), stop.clone(), uploaded.clone());
        let order = upload_order.clone();
        uploaders.push(tokio::spawn(async move {
            let mut i = w;
            let mut times = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                times.push(upload(&ctx, &order, photos[i % photos.len()].clone()).await);
                uploaded.fetch_add(1, Ordering::Relaxed);
                i += 1;
            }
            times
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    uploaded.store(0, Ordering::Relaxed);
    let t = Instant::now();
    let (loaded, _) = actions(&ctx, &action_order, v).await;
    let window = t.elapsed();
    let during = uploaded.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    let mut parallel_times = Vec::new();
    for u in uploaders {
        parallel_times.extend(u.await.unwrap());
    }
    let (a50, a95) = (pct(alone.clone(), 0.5), pct(alone, 0.95));
    let (l50, l95) = (pct(loaded.clone(), 0.5), pct(loaded, 0.95));
    println!("backend {backend}, photo ~{} KB, 1600×1200", size / 1024);
    println!(
        "one upload at a time ({UPLOADS}): p50 {:.1} ms, p95 {:.1} ms",
        pct(single.clone(), 0.5),
        pct(single, 0.95)
    );
    println!("order action alone ({ACTIONS}): p50 {a50:.1} ms, p95 {a95:.1} ms");
    println!(
        "order action with {PARALLEL} uploading: p50 {l50:.1} ms ({:+.0} %), p95 {l95:.1} ms ({:+.0} %)",
        (l50 / a50 - 1.0) * 100.0,
        (l95 / a95 - 1.0) * 100.0
    );
    println!(
        "uploads meanwhile: {during} in {:.1} s ({:.1}/s), each p50 {:.0} ms",
        window.as_secs_f64(),
        during as f64 / window.as_secs_f64(),
        pct(parallel_times, 0.5)
    );
}
