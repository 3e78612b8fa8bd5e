//! Throughput of a whole repair order through the HTTP API, from the call to the close:
//! create (submitted) → approve → assign → accept → readiness → depart → arrive → repair the
//! line → sign-off → complete → the follow-up call found and recorded → close: 13 requests
//! an order, `CLIENTS` orders at a time.
//!
//!   cargo run --release --example lifecycle_bench                 # SQLite, temp file
//!   BENCH_DATABASE_URL=postgres://…/empty_db cargo run --release --example lifecycle_bench
//!
//! `./scripts/bench-lifecycle` runs both (figures in docs/benchmarks.md).
use std::time::Instant;

use dispatch::startup::{Application, Settings};
use dispatch::store::DbTarget;
use reqwest::Client;
use serde_json::{Value, json};

const ORDERS: usize = 400;
const CLIENTS: usize = 8;

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

async fn one_order(ctx: &Ctx) {
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
    let line = o["lines"][0]["id"].as_str().unwrap().to_string();
    let mut v = o["version"].as_i64().unwrap();
    let steps: Vec<(&str, String, Value)> = vec![
        (
            &ctx.manager,
            format!("/work-orders/{id}/approve"),
            json!({}),
        ),
        (
            &ctx.manager,
            format!("/work-orders/{id}/assign"),
            json!({"lead_id": ctx.tech_id, "scheduled_at": "2030-01-01T02:00:00Z", "allow_double_booking": true}),
        ),
        (&ctx.tech, format!("/work-orders/{id}/accept"), json!({})),
        (
            &ctx.tech,
            format!("/work-orders/{id}/readiness"),
            json!({"items": ["info_verified", "tools", "spare_parts", "documents"]}),
        ),
        (&ctx.tech, format!("/work-orders/{id}/depart"), json!({})),
        (
            &ctx.tech,
            format!("/work-orders/{id}/arrive"),
            json!({"lat": 34.78, "lng": 113.68}),
        ),
        (
            &ctx.tech,
            format!("/work-orders/{id}/lines/{line}/repair"),
            json!({"notes": "重新插拔天线，定位恢复"}),
        ),
        (
            &ctx.tech,
            format!("/work-orders/{id}/sign-off"),
            json!({"signer_name": "王先生"}),
        ),
        (&ctx.tech, format!("/work-orders/{id}/complete"), json!({})),
    ];
    for (token, path, body) in steps {
        let r = call(ctx, token, &path, Some(v), body).await;
        v = r["version"].as_i64().unwrap();
    }
    // an order closes once its completion follow-up call is recorded (issue 14)
    let calls: Value = ctx
        .client
        .get(format!(
            "{}/api/v1/follow-ups?customer_id={}&status=open&kind=completion&limit=200",
            ctx.base, ctx.customer
        ))
        .bearer_auth(&ctx.manager)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let f = calls["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["order_id"] == id.as_str())
        .expect("the order's follow-up call");
    call(
        ctx,
        &ctx.manager,
        &format!("/follow-ups/{}/record", f["id"].as_str().unwrap()),
        f["version"].as_i64(),
        json!({"score": 5, "comment": "满意"}),
    )
    .await;
    call(
        ctx,
        &ctx.manager,
        &format!("/work-orders/{id}/close"),
        Some(v),
        json!({}),
    )
    .await;
}

#[tokio::main]
async fn main() {
    // the server's warnings and errors (an internal error's cause), on stderr
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(
            std::env::var("BENCH_LOG").unwrap_or_else(|_| "warn".into()),
        ))
        .with_writer(std::io::stderr)
        .init();
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
            jwt_secret: b"lifecycle-bench-secret-0123456789".to_vec(),
            token_ttl: 3600,
            pool_size: 16,
            workers: Some(2),
            documents: std::sync::Arc::new(dispatch::documents::Documents::new(
                None,
                dispatch::documents::BankDetails {
                    company: "bench".into(),
                    bank: "bench".into(),
                    account: "0".into(),
                },
            )),
            mail: None,
            map: Default::default(),
            objects: dispatch::media::objects::Objects::local(
                &std::env::temp_dir().join("dispatch-bench-objects"),
            )
            .unwrap(),
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
    let me: Value = client
        .get(format!("{base}/api/v1/auth/me"))
        .bearer_auth(&tech)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let customers: Value = client
        .get(format!("{base}/api/v1/customers?limit=1"))
        .bearer_auth(&agent)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let customer = customers["items"][0]["id"].as_str().unwrap().to_string();
    let vehicles: Value = client
        .get(format!(
            "{base}/api/v1/vehicles?limit=1&customer_id={customer}"
        ))
        .bearer_auth(&agent)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ctx = std::sync::Arc::new(Ctx {
        vehicle: vehicles["items"][0]["id"].as_str().unwrap().to_string(),
        tech_id: me["id"].as_str().unwrap().to_string(),
        base,
        client,
        agent,
        manager,
        tech,
        customer,
    });
    // warm up
    one_order(&ctx).await;
    let start = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..CLIENTS {
        let ctx = ctx.clone();
        tasks.push(tokio::spawn(async move {
            for _ in (w..ORDERS).step_by(CLIENTS) {
                one_order(&ctx).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{backend}: {ORDERS} repair orders, call to close (13 requests each), {CLIENTS} at a time: \
         {secs:.2} s, {:.1} orders/s, {:.0} requests/s",
        ORDERS as f64 / secs,
        (ORDERS * 13) as f64 / secs
    );
}
