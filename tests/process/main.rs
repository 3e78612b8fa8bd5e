//! Process-level tests: the real `dispatch` binary started as an operator starts it, with
//! its own data directory and database (a SQLite file, or a new PostgreSQL database when
//! DISPATCH_TEST_DATABASE_URL is set), talking to a small SMTP server in this process.
//! They cover what only shows at start-up or across processes: the SMTP transport built
//! in the runtime, mail through a three-minute SMTP outage, instances migrating one
//! database together, a worker killed mid-send, and the log format.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::prelude::*;
use mail_parser::MessageParser;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

mod events;

const BIN: &str = env!("CARGO_BIN_EXE_dispatch");
const SECRET: &str = "process-test-secret-process-test-secret";
const DEMO_PASSWORD: &str = "demo1234";
/// How long a step that should take seconds may take before the test gives up (a bound
/// against hanging forever on a loaded machine, not a measurement).
const PATIENCE: Duration = Duration::from_secs(240);

// ------------------------------------------------------------------ databases

fn pg_admin() -> Option<String> {
    std::env::var("DISPATCH_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
}

/// A new empty PostgreSQL database's URL.
fn fresh_pg(admin: &str) -> String {
    let name = format!("dispatch_test_{}", uuid::Uuid::new_v4().simple());
    let mut c = diesel::PgConnection::establish(admin)
        .unwrap_or_else(|e| panic!("cannot reach test PostgreSQL {admin}: {e}"));
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut c)
        .unwrap();
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(admin);
    format!("{base}/{name}")
}

/// Where a test's instances keep their data: a data directory and, on PostgreSQL, a
/// fresh database (on SQLite the database is the file in the data directory).
struct Site {
    dir: tempfile::TempDir,
    database_url: Option<String>,
}

impl Site {
    fn new() -> Site {
        Site {
            dir: tempfile::tempdir().unwrap(),
            database_url: pg_admin().map(|a| fresh_pg(&a)),
        }
    }

    fn sqlite() -> Site {
        Site {
            dir: tempfile::tempdir().unwrap(),
            database_url: None,
        }
    }
}

// ------------------------------------------------------------------ the binary

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Instance {
    child: Child,
    port: u16,
    output: Arc<Mutex<String>>,
    client: reqwest::Client,
}

fn collect(mut from: impl Read + Send + 'static, into: Arc<Mutex<String>>) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            into.lock()
                .unwrap()
                .push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
}

impl Instance {
    /// `dispatch serve` on `site`, output piped, environment cleared but for `env`.
    fn start(site: &Site, args: &[&str], env: &[(&str, &str)]) -> Instance {
        Self::start_in(site.dir.path(), site.database_url.as_deref(), args, env)
    }

    fn start_in(data: &Path, db: Option<&str>, args: &[&str], env: &[(&str, &str)]) -> Instance {
        let port = free_port();
        let mut cmd = Command::new(BIN);
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DISPATCH_LOG", "info")
            .arg("serve")
            .arg("--data-dir")
            .arg(data)
            .args(["--bind", &format!("127.0.0.1:{port}")])
            .args(["--workers", "1", "--db-pool-size", "4"])
            .args(["--jwt-secret", SECRET])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(url) = db {
            cmd.args(["--database-url", url]);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("the binary starts");
        let output = Arc::new(Mutex::new(String::new()));
        collect(child.stdout.take().unwrap(), output.clone());
        collect(child.stderr.take().unwrap(), output.clone());
        Instance {
            child,
            port,
            output,
            client: reqwest::Client::new(),
        }
    }

    /// Waits (up to `PATIENCE`) for a start that must fail (`what` names it in the
    /// failure); answers its exit status and everything it printed.
    async fn exited(&mut self, what: &str) -> (std::process::ExitStatus, String) {
        let start = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "dispatch kept running with {what}:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        // the output's readers catch up with the exit
        tokio::time::sleep(Duration::from_millis(200)).await;
        (status, self.output())
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// Until `/readyz` answers 200; fails with the process's output if it exits.
    async fn ready(&mut self) {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // let the output threads catch up
                tokio::time::sleep(Duration::from_millis(200)).await;
                panic!("dispatch exited with {status}:\n{}", self.output());
            }
            if let Ok(res) = self.client.get(self.url("/readyz")).send().await
                && res.status() == reqwest::StatusCode::OK
            {
                return;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "dispatch never became ready:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL: no shutdown of any kind.
    fn kill9(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    async fn token(&self, user: &str) -> String {
        let res = self
            .client
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"username": user, "password": DEMO_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), reqwest::StatusCode::OK, "login of {user}");
        let body: Value = res.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_string()
    }

    async fn get(&self, path: &str, token: &str) -> Value {
        let res = self
            .client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), reqwest::StatusCode::OK, "GET {path}");
        res.json().await.unwrap()
    }

    /// An install order submitted by a ZZ agent (the center's manager is told by e-mail);
    /// answers its number.
    async fn submit_order(&self, agent: &str, n: u32) -> String {
        let customers = self.get("/api/v1/customers?limit=1", agent).await;
        let customer = customers["items"][0]["id"].as_str().unwrap().to_string();
        let at = |h: i64| (chrono::Utc::now() + chrono::Duration::hours(h)).to_rfc3339();
        let body = json!({
            "customer_id": customer,
            "site_address": "郑州市管城区航海东路物流园3号库",
            "site_lat": 34.72, "site_lng": 113.70,
            "contact_name": "王喆", "contact_phone": "13812345678",
            "window_start": at(20),
            "window_end": at(26),
            "requested_at": at(-2),
            "urgency": "normal",
            "channel": "phone",
            "submit": true,
            "vehicles": [{"plate_no": format!("豫A{:05}", 30000 + n)}],
        });
        let res = self
            .client
            .post(self.url("/api/v1/work-orders/install"))
            .bearer_auth(agent)
            .header("Idempotency-Key", format!("process-test-order-{n}"))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let text = res.text().await.unwrap();
        assert_eq!(status, reqwest::StatusCode::CREATED, "{text}");
        let order: Value = serde_json::from_str(&text).unwrap();
        order["number"].as_str().unwrap().to_string()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ------------------------------------------------------------------ the SMTP server

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mode {
    /// every message is taken (250 after the data)
    Accept,
    /// the data is read, and then the server never answers
    Stall,
}

/// A minimal SMTP server (greeting, EHLO, MAIL, RCPT, DATA, QUIT) that can be stopped
/// (its port closed, connections dropped) and started again on the same port.
#[derive(Clone)]
struct Smtp {
    port: u16,
    mode: Arc<Mutex<Mode>>,
    /// the messages taken, as received
    inbox: Arc<Mutex<Vec<Vec<u8>>>>,
    /// the messages whose sending was left hanging
    stalled: Arc<Mutex<Vec<Vec<u8>>>>,
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
}

impl Smtp {
    async fn start(mode: Mode) -> Smtp {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let s = Smtp {
            port: listener.local_addr().unwrap().port(),
            mode: Arc::new(Mutex::new(mode)),
            inbox: Arc::default(),
            stalled: Arc::default(),
            tasks: Arc::default(),
        };
        s.serve(listener);
        s
    }

    fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    fn serve(&self, listener: TcpListener) {
        let me = self.clone();
        let accept = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let session = tokio::spawn(me.clone().session(stream));
                me.tasks.lock().unwrap().push(session.abort_handle());
            }
        });
        self.tasks.lock().unwrap().push(accept.abort_handle());
    }

    fn stop(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    async fn restart(&self) {
        let listener = loop {
            match TcpListener::bind(("127.0.0.1", self.port)).await {
                Ok(l) => break l,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        self.serve(listener);
    }

    fn set_mode(&self, mode: Mode) {
        *self.mode.lock().unwrap() = mode;
    }

    async fn session(self, stream: TcpStream) -> std::io::Result<()> {
        let (r, mut w) = stream.into_split();
        let mut r = BufReader::new(r);
        w.write_all(b"220 smtp.test ESMTP\r\n").await?;
        let mut line = String::new();
        loop {
            line.clear();
            if r.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
            match verb.as_str() {
                "EHLO" => {
                    w.write_all(b"250-smtp.test\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
                        .await?
                }
                "DATA" => {
                    w.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                    let mut data = Vec::new();
                    loop {
                        line.clear();
                        if r.read_line(&mut line).await? == 0 {
                            return Ok(());
                        }
                        if line == ".\r\n" || line == ".\n" {
                            break;
                        }
                        let l = line.strip_prefix('.').unwrap_or(&line);
                        data.extend_from_slice(l.as_bytes());
                    }
                    let mode = *self.mode.lock().unwrap();
                    match mode {
                        Mode::Accept => {
                            self.inbox.lock().unwrap().push(data);
                            w.write_all(b"250 2.0.0 queued\r\n").await?;
                        }
                        Mode::Stall => {
                            self.stalled.lock().unwrap().push(data);
                            std::future::pending::<()>().await;
                        }
                    }
                }
                "QUIT" => {
                    w.write_all(b"221 bye\r\n").await?;
                    return Ok(());
                }
                _ => w.write_all(b"250 OK\r\n").await?,
            }
        }
    }

    fn received(&self) -> Vec<Mail> {
        self.inbox
            .lock()
            .unwrap()
            .iter()
            .map(|r| Mail::of(r))
            .collect()
    }

    /// Until `n` messages were taken.
    async fn wait_for(&self, n: usize) -> Vec<Mail> {
        let start = Instant::now();
        loop {
            let got = self.received();
            if got.len() >= n {
                return got;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "{} of {n} messages arrived",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[derive(Debug, Clone)]
struct Mail {
    message_id: String,
    subject: String,
}

impl Mail {
    fn of(raw: &[u8]) -> Mail {
        let m = MessageParser::default()
            .parse(raw)
            .expect("a parsable message");
        Mail {
            message_id: m.message_id().expect("a Message-ID").to_string(),
            subject: m.subject().unwrap_or_default().to_string(),
        }
    }
}

/// Every message once: unique Message-IDs, and each order's notice exactly once.
fn assert_each_once(mail: &[Mail], numbers: &[String]) {
    let mut ids: HashMap<&str, usize> = HashMap::new();
    for m in mail {
        *ids.entry(m.message_id.as_str()).or_default() += 1;
    }
    let doubled: Vec<_> = ids.iter().filter(|(_, n)| **n > 1).collect();
    assert!(doubled.is_empty(), "sent more than once: {doubled:?}");
    for number in numbers {
        let n = mail.iter().filter(|m| m.subject.contains(number)).count();
        assert_eq!(n, 1, "the notice of {number}, in {mail:?}");
    }
    assert_eq!(mail.len(), numbers.len(), "{mail:?}");
}

// ------------------------------------------------------------------ the tests

/// Issue 14 item 1: any SMTP URL used to abort `serve` at start ("there is no reactor
/// running"); now the binary starts with each form and delivers through SMTP.
#[tokio::test]
async fn serve_with_an_smtp_url_starts_and_delivers() {
    let smtp = Smtp::start(Mode::Accept).await;
    let site = Site::new();
    let mut app = Instance::start(
        &site,
        &["--demo", "--demo-registry-only", "--smtp-url", &smtp.url()],
        &[],
    );
    app.ready().await;
    let agent = app.token("zz.agent1").await;
    let number = app.submit_order(&agent, 1).await;
    let mail = smtp.wait_for(1).await;
    assert_each_once(&mail, &[number]);
    assert!(
        mail[0].message_id.ends_with("@dispatch.local"),
        "{:?}",
        mail[0]
    );
    drop(app);

    // the other forms start too (nothing is sent: these servers do not exist)
    let dir = tempfile::tempdir().unwrap();
    let mut tls = Instance::start_in(
        dir.path(),
        None,
        &["--smtp-url", "smtps://127.0.0.1:1"],
        &[],
    );
    tls.ready().await;
    drop(tls);
    let dir = tempfile::tempdir().unwrap();
    let mut env = Instance::start_in(
        dir.path(),
        None,
        &[],
        &[("DISPATCH_SMTP_URL", "smtp://127.0.0.1:1?tls=required")],
    );
    env.ready().await;
}

/// Issue 14 item 1: SMTP down for three minutes (real time) while orders keep being
/// submitted; when it is back every notice arrives, each exactly once.
#[tokio::test]
async fn three_minutes_without_smtp_lose_and_double_nothing() {
    let smtp = Smtp::start(Mode::Accept).await;
    let site = Site::new();
    let mut app = Instance::start(
        &site,
        &[
            "--demo",
            "--demo-registry-only",
            "--smtp-url",
            &smtp.url(),
            "--mail-retry-base",
            "2",
            "--mail-retry-max",
            "10",
            "--mail-max-attempts",
            "1000",
        ],
        &[],
    );
    app.ready().await;
    let agent = app.token("zz.agent1").await;
    let mut numbers = vec![app.submit_order(&agent, 0).await];
    smtp.wait_for(1).await;

    smtp.stop();
    let down = Instant::now();
    let mut n = 1;
    while down.elapsed() < Duration::from_secs(180) {
        numbers.push(app.submit_order(&agent, n).await);
        n += 1;
        tokio::time::sleep(Duration::from_secs(15)).await;
    }
    assert_eq!(smtp.received().len(), 1);
    smtp.restart().await;

    let mail = smtp.wait_for(numbers.len()).await;
    // the outbox agrees: every message sent, none waiting
    let admin = app.token("admin").await;
    let sent = app
        .get("/api/v1/outbox?status=sent&limit=200", &admin)
        .await;
    assert_eq!(sent["items"].as_array().unwrap().len(), numbers.len());
    for status in ["pending", "sending", "dead"] {
        let page = app
            .get(&format!("/api/v1/outbox?status={status}&limit=200"), &admin)
            .await;
        assert!(
            page["items"].as_array().unwrap().is_empty(),
            "{status}: {page}"
        );
    }
    // and nothing more arrives after the last message was marked sent
    assert_each_once(&smtp.received(), &numbers);
    assert_each_once(&mail, &numbers);
}

/// Issue 14 item 2: three instances starting together on an empty PostgreSQL database
/// used to crash on `pg_type_typname_nsp_index` (1 of 3 came up); all three serve now.
#[tokio::test]
async fn three_instances_migrate_an_empty_postgresql_database_together() {
    let Some(admin) = pg_admin() else {
        eprintln!("PostgreSQL only: DISPATCH_TEST_DATABASE_URL is not set");
        return;
    };
    let url = fresh_pg(&admin);
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let mut apps: Vec<Instance> = dirs
        .iter()
        .map(|d| Instance::start_in(d.path(), Some(&url), &[], &[]))
        .collect();
    for app in &mut apps {
        app.ready().await;
        let res = app.client.get(app.url("/app/")).send().await.unwrap();
        assert_eq!(res.status(), reqwest::StatusCode::OK);
    }
}

/// Issue 14 item 4: a worker killed (-9) while its SMTP server hangs in the middle of a
/// message: a second instance takes the message over within the short lease (not after
/// five minutes) and sends it with the same Message-ID; the cut-off attempt is on record.
#[tokio::test]
async fn a_message_a_killed_worker_was_sending_goes_out_again_with_its_message_id() {
    let smtp = Smtp::start(Mode::Stall).await;
    let site = Site::new();
    let args = [
        "--demo",
        "--demo-registry-only",
        "--smtp-url",
        &smtp.url(),
        "--mail-retry-base",
        "2",
    ];
    let mut first = Instance::start(&site, &args, &[]);
    first.ready().await;
    let agent = first.token("zz.agent1").await;
    let number = first.submit_order(&agent, 1).await;
    let start = Instant::now();
    let stalled = loop {
        if let Some(raw) = smtp.stalled.lock().unwrap().first() {
            break Mail::of(raw);
        }
        assert!(start.elapsed() < PATIENCE, "the message never reached SMTP");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    first.kill9();
    smtp.set_mode(Mode::Accept);

    let mut second = Instance::start(&site, &args, &[]);
    second.ready().await;
    // bounded well below the old five-minute lease
    let mail = smtp.wait_for(1).await;
    assert_each_once(&mail, std::slice::from_ref(&number));
    assert_eq!(mail[0].message_id, stalled.message_id);

    let admin = second.token("admin").await;
    let sent = second.get("/api/v1/outbox?status=sent", &admin).await;
    let id = sent["items"][0]["id"].as_str().unwrap();
    assert_eq!(format!("{id}@dispatch.local"), mail[0].message_id);
    let view = second.get(&format!("/api/v1/outbox/{id}"), &admin).await;
    let log = view["attempt_log"].as_array().unwrap();
    assert_eq!(log.len(), 2, "{view}");
    assert_eq!(log[0]["ok"], false, "{view}");
    assert!(
        log[0]["error"].as_str().unwrap().contains("no outcome"),
        "{view}"
    );
    assert_eq!(log[1]["ok"], true, "{view}");
    assert_ne!(log[0]["worker"], log[1]["worker"]);
}

/// Issue 14 item 20: log lines piped to a file or collector carry no ANSI colour codes.
#[tokio::test]
async fn piped_logs_carry_no_colour_codes() {
    let site = Site::sqlite();
    let mut app = Instance::start(&site, &[], &[]);
    app.ready().await;
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::OK);
    // a warning too (levels are where colour was)
    let res = app
        .client
        .get(app.url("/api/v1/customers"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), reqwest::StatusCode::UNAUTHORIZED);
    app.kill9();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let out = app.output();
    assert!(out.contains("dispatch is serving"), "{out}");
    assert!(!out.contains('\u{1b}'), "ANSI codes in: {out:?}");
}

/// Issue 16: the map's tile settings are checked when the binary starts: a template that
/// is no http(s) URL, lacks {z}/{x}/{y} or an unknown datum stops it with a message naming
/// the setting; a good 高德 template serves the desk's map settings and the pages' CSP.
#[tokio::test]
async fn map_tile_settings_are_checked_at_start_up() {
    for (env, says) in [
        (
            [
                (
                    "DISPATCH_MAP_TILES",
                    "ftp://tiles.example.cn/{z}/{x}/{y}.png",
                ),
                ("DISPATCH_MAP_DATUM", "wgs84"),
            ],
            "not an http(s) URL",
        ),
        (
            [
                ("DISPATCH_MAP_TILES", "https://tiles.example.cn/{z}/{x}.png"),
                ("DISPATCH_MAP_DATUM", "wgs84"),
            ],
            "the template needs {y}",
        ),
        (
            [
                (
                    "DISPATCH_MAP_TILES",
                    "https://tiles.example.cn/{z}/{x}/{y}.png",
                ),
                ("DISPATCH_MAP_DATUM", "bd09"),
            ],
            "DISPATCH_MAP_DATUM",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut app = Instance::start_in(dir.path(), None, &[], &env);
        let (status, out) = app.exited(&format!("{env:?}")).await;
        assert!(!status.success(), "{env:?} started:\n{out}");
        assert!(out.contains(says), "{env:?} should say {says:?}:\n{out}");
        assert!(!out.contains("panicked"), "{out}");
    }

    let site = Site::sqlite();
    let template = "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}";
    let mut app = Instance::start(
        &site,
        &["--demo", "--demo-registry-only"],
        &[
            ("DISPATCH_MAP_TILES", template),
            ("DISPATCH_MAP_DATUM", "gcj02"),
            ("DISPATCH_MAP_SUBDOMAINS", "1234"),
        ],
    );
    app.ready().await;
    let agent = app.token("zz.agent1").await;
    let map = app.get("/api/v1/map-config", &agent).await;
    assert_eq!(map["tiles"], template, "{map}");
    assert_eq!(map["datum"], "gcj02", "{map}");
    assert_eq!(map["subdomains"], "1234", "{map}");
    let res = app.client.get(app.url("/desk/")).send().await.unwrap();
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("*.is.autonavi.com"), "{csp}");
}

/// The object store is built at start: an S3 URL starts (its HTTP client needs the
/// process's TLS provider, which a test inside the app's own runtime would not notice is
/// missing), and a URL it cannot use stops the start with the setting named.
#[tokio::test]
async fn the_object_store_setting_is_checked_at_start_up() {
    let dir = tempfile::tempdir().unwrap();
    let mut bad = Instance::start_in(
        dir.path(),
        None,
        &[],
        &[("DISPATCH_OBJECT_STORE", "ftp://photos.example.cn/x")],
    );
    let (status, out) = bad.exited("a bad object store URL").await;
    assert!(!status.success(), "{out}");
    assert!(out.contains("object store URL"), "{out}");
    assert!(!out.contains("panicked"), "{out}");

    let site = Site::sqlite();
    let mut app = Instance::start(
        &site,
        &["--demo", "--demo-registry-only"],
        &[
            ("DISPATCH_OBJECT_STORE", "s3://photos/dispatch"),
            ("AWS_ENDPOINT", "http://127.0.0.1:9"),
            ("AWS_ACCESS_KEY_ID", "k"),
            ("AWS_SECRET_ACCESS_KEY", "s"),
            ("AWS_REGION", "cn-north-1"),
            ("AWS_ALLOW_HTTP", "true"),
            ("AWS_PROFILE", "not-the-store's"),
        ],
    );
    app.ready().await;
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert!(res.status().is_success());
    assert!(!app.output().contains("panicked"), "{}", app.output());

    // a directory named by a file:// URL is made at start
    let dir = tempfile::tempdir().unwrap();
    let objects = dir.path().join("photos-here");
    let url = format!("file://{}", objects.display());
    let mut local = Instance::start_in(dir.path(), None, &[], &[("DISPATCH_OBJECT_STORE", &url)]);
    local.ready().await;
    assert!(objects.is_dir(), "{}", local.output());
}

/// The tracking settings (上线检测) and the photo slots are checked at start: a refused one
/// stops the binary with the reason; good ones start it with the platform's worker and
/// the push endpoint on.
#[tokio::test]
async fn the_tracking_settings_are_checked_at_start_up() {
    for (env, reason) in [
        (("DISPATCH_PHOTO_SLOTS", "0"), "--photo-slots"),
        (
            ("DISPATCH_TRACKING_PUSH_SECRET", "short"),
            "at least 16 characters",
        ),
        (
            ("DISPATCH_TRACKING_URL", "ftp://gps.example.cn"),
            "http or https only",
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let mut bad = Instance::start_in(dir.path(), None, &[], &[env]);
        let (status, out) = bad.exited(reason).await;
        assert!(!status.success(), "{out}");
        assert!(out.contains(reason), "{reason}: {out}");
        assert!(!out.contains("panicked"), "{out}");
    }

    // a platform that does not answer (port 9) does not keep the service from running
    let site = Site::sqlite();
    let secret = "push-secret-0123456789";
    let mut app = Instance::start(
        &site,
        &["--tracking-poll", "1"],
        &[
            (
                "DISPATCH_TRACKING_URL",
                "http://admin%40example.cn:pa%2Bss@127.0.0.1:9",
            ),
            ("DISPATCH_TRACKING_PUSH_SECRET", secret),
            ("DISPATCH_PHOTO_SLOTS", "2"),
        ],
    );
    app.ready().await;
    let push = |token: &'static str| {
        app.client
            .post(app.url("/api/v1/tracking/traccar/positions"))
            .bearer_auth(token)
            .json(&serde_json::json!({
                "position": {"fixTime": "2026-12-06T02:00:00.000+00:00", "valid": true,
                    "latitude": 34.7, "longitude": 113.6, "attributes": {}},
                "device": {"id": 3, "uniqueId": "013800138000"},
            }))
            .send()
    };
    let res = push(secret).await.unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["matched"], 0);
    assert_eq!(push("wrong-secret-0123456789").await.unwrap().status(), 401);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let out = app.output();
    assert!(out.contains("tracking worker started"), "{out}");
    assert!(
        !out.contains("pa+ss") && !out.contains("pa%2Bss"),
        "no password in the logs: {out}"
    );
    assert!(!out.contains("panicked"), "{out}");

    // a bearer token instead of the URL's user and password: it starts, and the token
    // stays out of the logs too
    let site = Site::sqlite();
    let mut app = Instance::start(
        &site,
        &["--tracking-poll", "1"],
        &[
            ("DISPATCH_TRACKING_URL", "http://127.0.0.1:9/traccar"),
            ("DISPATCH_TRACKING_TOKEN", "token-0123456789abcdef"),
        ],
    );
    app.ready().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let out = app.output();
    assert!(out.contains("tracking worker started"), "{out}");
    assert!(!out.contains("token-0123456789abcdef"), "{out}");
    assert!(!out.contains("panicked"), "{out}");
    // no push secret: no push endpoint
    let res = app
        .client
        .post(app.url("/api/v1/tracking/traccar/positions"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
}
