//! The live event stream under load, against the real binary: how many streams one
//! instance holds (memory per stream, time to reach all of them), and the time from a
//! change's commit to its event.
//!
//!   cargo run --example live_bench                                   # SQLite, temp dir
//!   BENCH_DATABASE_URL=postgres://…/empty_db cargo run --example live_bench   # two instances
//!
//! `BENCH_BIN` (default target/debug/dispatch), `STREAMS` (default 2000), `WRITES` (50).
//! A write is an install order filed by an agent (`POST /work-orders/install`). Its commit
//! happens between sending the request and receiving the answer, so commit → event lies
//! between "answer → event" and "request → event"; both are printed. On PostgreSQL a
//! second instance on the same database also holds a stream: the cross-instance figure is
//! the LISTEN/NOTIFY path.
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Client;
use serde_json::{Value, json};
use tokio::sync::mpsc;

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    async fn start(bin: &str, data: &std::path::Path, db: Option<&str>, demo: bool) -> Server {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut cmd = Command::new(bin);
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(data)
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .env("DISPATCH_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if demo {
            cmd.args(["--demo", "--demo-registry-only"]);
        }
        if let Some(url) = db {
            cmd.args(["--database-url", url]);
        }
        let server = Server {
            child: cmd.spawn().expect("the binary starts"),
            base: format!("http://127.0.0.1:{port}"),
        };
        let client = Client::new();
        for _ in 0..600 {
            if let Ok(r) = client.get(format!("{}/readyz", server.base)).send().await
                && r.status().is_success()
            {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the server did not become ready");
    }

    fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }
}

async fn token(client: &Client, base: &str, user: &str) -> String {
    let r: Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": user, "password": "demo1234"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["access_token"].as_str().unwrap().to_string()
}

/// Opens a stream and reports (which stream, event id, when) for every event on `tx`.
async fn open(
    client: &Client,
    base: &str,
    token: &str,
    n: usize,
    tx: mpsc::UnboundedSender<(usize, i64, Instant)>,
) {
    let mut res = client
        .get(format!("{base}/api/v1/events"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "stream {n}: {}", res.status());
    tokio::spawn(async move {
        let mut buf = String::new();
        while let Ok(Some(chunk)) = res.chunk().await {
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let block: String = buf.drain(..end + 2).collect();
                if let Some(id) = block.lines().find_map(|l| l.strip_prefix("id: ")) {
                    let _ = tx.send((n, id.parse().unwrap_or(0), Instant::now()));
                }
            }
        }
    });
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[((v.len() - 1) as f64 * p).round() as usize]
}

#[tokio::main]
async fn main() {
    let bin = std::env::var("BENCH_BIN").unwrap_or_else(|_| "target/debug/dispatch".into());
    let streams: usize = std::env::var("STREAMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2000);
    let writes: usize = std::env::var("WRITES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let db = std::env::var("BENCH_DATABASE_URL")
        .ok()
        .filter(|s| !s.is_empty());
    let dir = tempfile::tempdir().unwrap();
    let a = Server::start(&bin, dir.path(), db.as_deref(), true).await;
    let b = match &db {
        Some(url) => Some(Server::start(&bin, dir.path(), Some(url), false).await),
        None => None,
    };
    println!(
        "database: {}",
        if db.is_some() {
            "PostgreSQL (two instances)"
        } else {
            "SQLite"
        }
    );
    let client = Client::builder().pool_max_idle_per_host(0).build().unwrap();
    let agent = token(&client, &a.base, "zz.agent1").await;
    let manager = token(&client, &a.base, "zz.manager").await;
    let customer: Value = client
        .get(format!("{}/api/v1/customers?limit=1", a.base))
        .bearer_auth(&agent)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let customer = customer["items"][0]["id"].as_str().unwrap().to_string();

    let (tx, mut rx) = mpsc::unbounded_channel();
    // stream 0: the probe on A; stream 1: the probe on B (PostgreSQL); then the load on A
    open(&client, &a.base, &manager, 0, tx.clone()).await;
    if let Some(b) = &b {
        open(&client, &b.base, &manager, 1, tx.clone()).await;
    }
    let rss_before = a.rss_kib();
    let t = Instant::now();
    for i in 0..streams {
        open(&client, &a.base, &manager, 2 + i, tx.clone()).await;
    }
    let opened = t.elapsed();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss_after = a.rss_kib();
    println!(
        "{streams} streams opened on one instance in {:.1} s; server RSS {} MiB → {} MiB ({:.1} KiB a stream)",
        opened.as_secs_f64(),
        rss_before / 1024,
        rss_after / 1024,
        (rss_after.saturating_sub(rss_before)) as f64 / streams.max(1) as f64
    );

    let at = |h: i64| (chrono::Utc::now() + chrono::Duration::hours(h)).to_rfc3339();
    let mut answer_to_event = Vec::new();
    let mut request_to_event = Vec::new();
    let mut cross = Vec::new();
    let mut fan_out = Vec::new();
    let expected = streams + 1 + usize::from(b.is_some());
    for i in 0..writes {
        let body = json!({
            "customer_id": customer, "site_address": "郑州市管城区航海东路物流园3号库",
            "site_lat": 34.72, "site_lng": 113.70, "contact_name": "王喆", "contact_phone": "13812345678",
            "window_start": at(20), "window_end": at(26), "requested_at": at(-2),
            "urgency": "normal", "channel": "phone", "submit": true,
            "vehicles": [{"plate_no": format!("豫A{:05}", 40000 + i)}],
        });
        let sent = Instant::now();
        let res = client
            .post(format!("{}/api/v1/work-orders/install", a.base))
            .bearer_auth(&agent)
            .json(&body)
            .send()
            .await
            .unwrap();
        let answered = Instant::now();
        assert_eq!(res.status(), reqwest::StatusCode::CREATED);
        let mut got = 0;
        let mut last = answered;
        while got < expected {
            let (n, _, when) = tokio::time::timeout(Duration::from_secs(30), rx.recv())
                .await
                .expect("every stream hears of it")
                .unwrap();
            got += 1;
            last = last.max(when);
            let ms = |d: Duration| d.as_secs_f64() * 1000.0;
            match n {
                0 => {
                    answer_to_event.push(ms(when.saturating_duration_since(answered)));
                    request_to_event.push(ms(when - sent));
                }
                1 => cross.push(ms(when - sent)),
                _ => {}
            }
        }
        fan_out.push((last - sent).as_secs_f64() * 1000.0);
    }
    let show = |name: &str, v: &mut Vec<f64>| {
        if !v.is_empty() {
            println!(
                "{name}: median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
                pct(v, 0.5),
                pct(v, 0.95),
                pct(v, 1.0)
            );
        }
    };
    println!("{writes} writes, one at a time, each seen by {expected} streams:");
    show("  answer → event (same instance)", &mut answer_to_event);
    show("  request → event (same instance)", &mut request_to_event);
    show(
        "  request → event on the other instance (LISTEN/NOTIFY)",
        &mut cross,
    );
    show("  request → event on all streams", &mut fan_out);
}
