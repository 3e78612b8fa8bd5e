#![allow(dead_code)]

use std::sync::OnceLock;

use diesel::prelude::*;
use diesel::sql_types::BigInt;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{Value, json};

use dispatch::documents::{BankDetails, Documents};
use dispatch::domain::ids::luhn_check_digit;
use dispatch::notify::worker::MailSettings;
use dispatch::startup::{Application, Settings};
use dispatch::store::centers::Center;
use dispatch::store::equipment::TerminalModel;
use dispatch::store::users::User;
use dispatch::store::{self, Backend, DbTarget, Pool, new_id, now};

pub const PASSWORD: &str = "correct-horse-1";

/// Every table of the registry, for "nothing changed" checks.
pub const TABLES: &[&str] = &[
    "service_centers",
    "users",
    "technician_profiles",
    "customers",
    "customer_contacts",
    "vehicles",
    "drivers",
    "terminal_models",
    "terminals",
    "sim_cards",
    "binding_events",
    "audit_log",
    "number_sequences",
    "parts",
    "work_orders",
    "work_order_technicians",
    "work_order_lines",
    "work_order_parts",
    "verbal_approvals",
    "order_events",
    "idempotency_keys",
    "center_settings",
    "invoices",
    "charges",
    "charge_adjustments",
    "payments",
    "payment_fapiao",
    "remittances",
    "remittance_items",
    "discrepancies",
    "outbox_messages",
    "outbox_attempts",
    "feedback_settings",
    "tickets",
    "ticket_events",
    "follow_ups",
    "follow_up_attempts",
    "kpi_order_days",
    "customer_initials",
    "live_events",
    "order_photos",
    "proof_rules",
    "photo_waivers",
    "terminal_checks",
    "report_waivers",
    "part_stock",
    "stock_movements",
];

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub pool: Pool,
    pub backend: Backend,
    /// ZZ (郑州) and BJ (北京)
    pub zz: Center,
    pub bj: Center,
    /// the admin's token
    pub admin: String,
    pub target: DbTarget,
    /// the test's database and temp dir (shared by apps `beside` this one)
    pub dir: std::sync::Arc<TestDb>,
}

/// How a test's app differs from the default one.
#[derive(Default)]
pub struct AppOptions {
    /// run the mail worker with these settings (default: no worker; messages wait)
    pub mail: Option<MailSettings>,
    /// DISPATCH_PDF_FONTS for this app (default: the system's fonts, shared)
    pub fonts: Option<String>,
    /// the app reaches its (fresh) database through this target instead, e.g. a proxy
    #[allow(clippy::type_complexity)]
    pub reach: Option<Box<dyn FnOnce(&DbTarget) -> DbTarget + Send>>,
    /// the object store (default: [`test_objects`])
    pub objects: Option<dispatch::media::objects::Objects>,
    /// watch a tracking platform (default: off)
    pub tracking: Option<dispatch::tracking::TrackingSettings>,
    /// another instance on this app's database (its centers and admin are reused)
    pub beside: Option<(DbTarget, std::sync::Arc<TestDb>, Center, Center)>,
}

pub fn bank() -> BankDetails {
    BankDetails {
        company: "中原卫星定位技术服务有限公司".into(),
        bank: "中国工商银行郑州金水支行".into(),
        account: "1702 0201 0900 0012 345".into(),
    }
}

/// The documents printer with the system's fonts, loaded once for all tests.
fn shared_documents() -> std::sync::Arc<Documents> {
    static DOCS: OnceLock<std::sync::Arc<Documents>> = OnceLock::new();
    DOCS.get_or_init(|| std::sync::Arc::new(Documents::new(None, bank())))
        .clone()
}

fn password_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| dispatch::password::hash(PASSWORD).unwrap())
}

/// A test's own database: its temp dir (the SQLite file, mail files…) and, on
/// PostgreSQL, the database cloned for it, dropped when the last app on it is dropped.
pub struct TestDb {
    dir: tempfile::TempDir,
    pg: Option<PgDatabase>,
}

impl TestDb {
    pub fn path(&self) -> &std::path::Path {
        self.dir.path()
    }
}

/// A PostgreSQL database of one test, on the server of `admin_url`.
struct PgDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        // FORCE: the app's pool (still running in the test's runtime) holds connections
        if let Ok(mut admin) = diesel::PgConnection::establish(&self.admin_url) {
            let _ = diesel::sql_query(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .execute(&mut admin);
        }
    }
}

/// The object store of a test's app: files in its temp dir, or (DISPATCH_TEST_S3_URL
/// set, e.g. `http://127.0.0.1:9000/dispatch-test`, a bucket of an S3-compatible server
/// that scripts/test starts) a prefix of its own in that bucket.
pub fn test_objects(dir: &std::path::Path) -> dispatch::media::objects::Objects {
    use dispatch::media::objects::Objects;
    match std::env::var("DISPATCH_TEST_S3_URL") {
        Ok(url) if !url.is_empty() => {
            let (endpoint, bucket) = url
                .trim_end_matches('/')
                .rsplit_once('/')
                .expect("endpoint/bucket");
            let options = vec![
                ("aws_endpoint".to_string(), endpoint.to_string()),
                ("aws_access_key_id".to_string(), "test".to_string()),
                ("aws_secret_access_key".to_string(), "test".to_string()),
                ("aws_region".to_string(), "us-east-1".to_string()),
                ("aws_allow_http".to_string(), "true".to_string()),
                (
                    "aws_virtual_hosted_style_request".to_string(),
                    "false".to_string(),
                ),
            ];
            // the prefix: the test's temp dir's name, shared by apps beside this one
            let prefix = dir.file_name().unwrap().to_string_lossy().replace('.', "");
            Objects::from_url(&format!("s3://{bucket}/{prefix}"), options).unwrap()
        }
        _ => Objects::local(&dir.join("objects")).unwrap(),
    }
}

/// A fresh database: a SQLite file in a new temp dir, or (DISPATCH_TEST_DATABASE_URL set)
/// a new PostgreSQL database cloned from the migrated template.
pub fn database() -> (DbTarget, TestDb) {
    let dir = tempfile::tempdir().unwrap();
    match std::env::var("DISPATCH_TEST_DATABASE_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let name = format!("dispatch_test_{}", uuid_simple());
            let mut admin = diesel::PgConnection::establish(&admin_url)
                .unwrap_or_else(|e| panic!("cannot reach test PostgreSQL {admin_url}: {e}"));
            pg_template::clone_into(&mut admin, &admin_url, &name);
            let target = DbTarget::parse(&pg_template::url_of(&admin_url, &name)).unwrap();
            let pg = Some(PgDatabase { admin_url, name });
            (target, TestDb { dir, pg })
        }
        _ => {
            let path = dir.path().join("test.db");
            (DbTarget::sqlite_file(path), TestDb { dir, pg: None })
        }
    }
}

/// Every PostgreSQL test database is a copy of one migrated template, built once per
/// migration set (its name carries a hash of migrations/postgres, so a stale template is
/// never reused; scripts/test drops it with the other `dispatch_test_%` databases).
/// Copying a template takes a fraction of running every migration for each test.
mod pg_template {
    use std::sync::Mutex;

    use diesel::prelude::*;
    use sha2::{Digest, Sha256};

    use dispatch::store::DbConn;

    /// The advisory lock that serialises building the template across test processes.
    const BUILD_LOCK: i64 = 0x6469_7370_7465_6d70; // "disptemp"

    /// `admin_url` with its database replaced by `name`.
    pub fn url_of(admin_url: &str, name: &str) -> String {
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b)
            .unwrap_or(admin_url);
        format!("{base}/{name}")
    }

    /// `dispatch_test_template_<hash of every migration file>`.
    fn template_name() -> &'static str {
        static NAME: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        NAME.get_or_init(|| {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations/postgres");
            let mut files = Vec::new();
            collect(&root, &mut files);
            files.sort();
            let mut hash = Sha256::new();
            for f in files {
                hash.update(f.strip_prefix(&root).unwrap().to_string_lossy().as_bytes());
                hash.update([0]);
                hash.update(std::fs::read(&f).unwrap());
                hash.update([0]);
            }
            let digest = hash.finalize();
            let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
            format!("dispatch_test_template_{hex}")
        })
    }

    fn collect(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                collect(&path, out);
            } else {
                out.push(path);
            }
        }
    }

    #[derive(QueryableByName)]
    struct Exists {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        exists: bool,
    }

    fn exists(admin: &mut PgConnection, db: &str) -> bool {
        diesel::sql_query(format!(
            "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = '{db}') AS exists"
        ))
        .get_result::<Exists>(admin)
        .unwrap()
        .exists
    }

    /// Builds the template unless it exists, under an advisory lock (parallel test
    /// processes). It is migrated under another name and renamed when complete, so a
    /// process killed half-way never leaves a half-migrated template behind.
    fn ensure(admin: &mut PgConnection, admin_url: &str) {
        let template = template_name();
        diesel::sql_query(format!("SELECT pg_advisory_lock({BUILD_LOCK})"))
            .execute(admin)
            .unwrap();
        if !exists(admin, template) {
            let building = format!("{template}_building");
            let run = |admin: &mut PgConnection, sql: String| {
                diesel::sql_query(&sql)
                    .execute(admin)
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
            };
            run(
                admin,
                format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)"),
            );
            run(admin, format!("CREATE DATABASE {building}"));
            {
                // the only connection to it, closed before the rename (and before any
                // CREATE DATABASE … TEMPLATE, which refuses a template in use)
                let conn = PgConnection::establish(&url_of(admin_url, &building)).unwrap();
                let mut conn = DbConn::Pg(conn);
                dispatch::store::db::migrate(&mut conn).unwrap();
            }
            run(
                admin,
                format!("ALTER DATABASE {building} RENAME TO {template}"),
            );
        }
        diesel::sql_query(format!("SELECT pg_advisory_unlock({BUILD_LOCK})"))
            .execute(admin)
            .unwrap();
    }

    /// `CREATE DATABASE name TEMPLATE <template>`, building the template first when this
    /// process has not seen it yet (or it went away, e.g. dropped by another run).
    pub fn clone_into(admin: &mut PgConnection, admin_url: &str, name: &str) {
        static READY: Mutex<bool> = Mutex::new(false);
        for attempt in 0.. {
            {
                let mut ready = READY.lock().unwrap_or_else(|e| e.into_inner());
                if !*ready {
                    ensure(admin, admin_url);
                    *ready = true;
                }
            }
            let sql = format!("CREATE DATABASE {name} TEMPLATE {}", template_name());
            match diesel::sql_query(&sql).execute(admin) {
                Ok(_) => return,
                Err(e) if attempt < 20 => {
                    let text = e.to_string();
                    if text.contains("does not exist") {
                        *READY.lock().unwrap_or_else(|e| e.into_inner()) = false;
                    } else if !text.contains("being accessed by other users") {
                        panic!("{sql}: {e}");
                    }
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                Err(e) => panic!("{sql}: {e}"),
            }
        }
    }
}

fn uuid_simple() -> String {
    new_id().replace('-', "")
}

fn center(code: &str, name: &str, lat: f64, lng: f64) -> Center {
    let t = now();
    Center {
        id: new_id(),
        code: code.into(),
        name: name.into(),
        region: name.into(),
        lat,
        lng,
        active: true,
        version: 1,
        created_at: t,
        updated_at: t,
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(AppOptions::default()).await
}

pub async fn spawn_app_with(opts: AppOptions) -> TestApp {
    let fresh = opts.beside.is_none();
    let (target, dir, zz, bj) = match opts.beside {
        Some(b) => b,
        None => {
            let (target, dir) = database();
            let zz = center("ZZ", "郑州服务中心", 34.7466, 113.6254);
            let bj = center("BJ", "北京服务中心", 39.9042, 116.4074);
            (target, std::sync::Arc::new(dir), zz, bj)
        }
    };
    let backend = target.backend;
    let documents = match &opts.fonts {
        None => shared_documents(),
        Some(f) => std::sync::Arc::new(Documents::new(Some(f), bank())),
    };
    let reached = match opts.reach {
        Some(reach) => reach(&target),
        None => target.clone(),
    };
    let settings = Settings {
        target: reached,
        bind: "127.0.0.1:0".into(),
        jwt_secret: b"test-secret-test-secret-test-secret-0123".to_vec(),
        token_ttl: 3600,
        pool_size: 4,
        workers: Some(1),
        documents,
        mail: opts.mail,
        map: Default::default(),
        objects: opts.objects.unwrap_or_else(|| test_objects(dir.path())),
        tracking: opts.tracking,
    };
    let app = Application::build(settings).expect("app starts");
    let port = app.port();
    let pool = app.pool();
    tokio::spawn(app.run_until_stopped());

    if fresh {
        let mut c = pool.get().unwrap();
        store::centers::insert(&mut c, &zz).unwrap();
        store::centers::insert(&mut c, &bj).unwrap();
        for (code, months) in [("GT06N", 12), ("JM-VL03", 24), ("BSJ-A6", 18)] {
            store::equipment::insert_model(
                &mut c,
                &TerminalModel {
                    code: code.into(),
                    name: format!("{code} 终端"),
                    warranty_months: months,
                    created_at: now(),
                },
            )
            .unwrap();
        }
    }
    let mut app = TestApp {
        address: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::new(),
        pool,
        backend,
        zz,
        bj,
        admin: String::new(),
        target,
        dir,
    };
    if fresh {
        let zz_id = app.zz.id.clone();
        app.insert_user("admin", "admin", &zz_id);
    }
    app.admin = app.token("admin").await;
    app
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    /// A user inserted straight into the store (password `PASSWORD`); returns the id.
    pub fn insert_user(&self, username: &str, role: &str, center_id: &str) -> String {
        let t = now();
        let user = User {
            id: new_id(),
            username: username.into(),
            display_name: format!("{username} 测试"),
            role: role.into(),
            center_id: center_id.into(),
            phone: None,
            email: None,
            password_hash: password_hash().to_string(),
            active: true,
            token_version: 0,
            failed_logins: 0,
            locked_until: None,
            version: 1,
            created_at: t,
            updated_at: t,
        };
        store::users::insert(&mut self.pool.get().unwrap(), &user).unwrap();
        user.id
    }

    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.client
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap()
    }

    pub async fn token(&self, username: &str) -> String {
        let res = self.login(username, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK, "login of {username}");
        let body: Value = res.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_string()
    }

    /// A new user of `role` in `center_id`, logged in: (id, token).
    pub async fn user(&self, role: &str, center_id: &str) -> (String, String) {
        let name = format!("{role}.{}", &uuid_simple()[20..]);
        let id = self.insert_user(&name, role, center_id);
        (id, self.token(&name).await)
    }

    pub fn req(&self, method: Method, path: &str, token: &str) -> RequestBuilder {
        self.client
            .request(method, self.url(path))
            .bearer_auth(token)
    }

    pub async fn get(&self, path: &str, token: &str) -> Response {
        self.req(Method::GET, path, token).send().await.unwrap()
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Response {
        self.req(Method::POST, path, token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn patch(
        &self,
        path: &str,
        token: &str,
        version: Option<i64>,
        body: &Value,
    ) -> Response {
        let mut r = self.req(Method::PATCH, path, token).json(body);
        if let Some(v) = version {
            r = r.header("If-Match", format!("\"{v}\""));
        }
        r.send().await.unwrap()
    }

    pub async fn delete(&self, path: &str, token: &str) -> Response {
        self.req(Method::DELETE, path, token).send().await.unwrap()
    }

    pub fn count(&self, table: &str) -> i64 {
        #[derive(QueryableByName)]
        struct N {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let mut c = self.pool.get().unwrap();
        diesel::sql_query(format!("SELECT COUNT(*) AS n FROM {table}"))
            .get_result::<N>(&mut c)
            .unwrap()
            .n
    }

    /// The KPI rollup (`kpi_order_days`, kept by triggers) says exactly what the orders
    /// themselves say: per center × China day × lead × kind × status, the same counts and
    /// sums, and no cell below zero.
    pub fn assert_kpi_rollup_matches(&self) {
        use diesel::sql_types::{Date, Nullable, Text, Timestamp};
        use std::collections::BTreeMap;
        #[derive(QueryableByName)]
        struct Order {
            #[diesel(sql_type = Text)]
            center_id: String,
            #[diesel(sql_type = Timestamp)]
            requested_at: chrono::NaiveDateTime,
            #[diesel(sql_type = Nullable<Text>)]
            lead_technician_id: Option<String>,
            #[diesel(sql_type = Text)]
            kind: String,
            #[diesel(sql_type = Text)]
            status: String,
            #[diesel(sql_type = Nullable<BigInt>)]
            wait_seconds: Option<i64>,
            #[diesel(sql_type = Nullable<BigInt>)]
            repair_seconds: Option<i64>,
        }
        #[derive(QueryableByName)]
        struct Cell {
            #[diesel(sql_type = Text)]
            center_id: String,
            #[diesel(sql_type = Date)]
            day: chrono::NaiveDate,
            #[diesel(sql_type = Text)]
            lead_id: String,
            #[diesel(sql_type = Text)]
            kind: String,
            #[diesel(sql_type = Text)]
            status: String,
            #[diesel(sql_type = BigInt)]
            n: i64,
            #[diesel(sql_type = BigInt)]
            wait_n: i64,
            #[diesel(sql_type = BigInt)]
            wait_sum: i64,
            #[diesel(sql_type = BigInt)]
            repair_n: i64,
            #[diesel(sql_type = BigInt)]
            repair_sum: i64,
        }
        type Key = (String, chrono::NaiveDate, String, String, String);
        let mut c = self.pool.get().unwrap();
        let orders: Vec<Order> = diesel::sql_query(
            "SELECT center_id, requested_at, lead_technician_id, kind, status, wait_seconds, repair_seconds FROM work_orders",
        )
        .load(&mut c)
        .unwrap();
        let mut expected: BTreeMap<Key, [i64; 5]> = BTreeMap::new();
        for o in orders {
            let day = (o.requested_at + chrono::Duration::hours(8)).date();
            let e = expected
                .entry((
                    o.center_id,
                    day,
                    o.lead_technician_id.unwrap_or_default(),
                    o.kind,
                    o.status,
                ))
                .or_default();
            e[0] += 1;
            e[1] += i64::from(o.wait_seconds.is_some());
            e[2] += o.wait_seconds.unwrap_or(0);
            e[3] += i64::from(o.repair_seconds.is_some());
            e[4] += o.repair_seconds.unwrap_or(0);
        }
        let cells: Vec<Cell> = diesel::sql_query(
            "SELECT center_id, day, lead_id, kind, status, n, wait_n, wait_sum, repair_n, repair_sum FROM kpi_order_days",
        )
        .load(&mut c)
        .unwrap();
        let mut actual: BTreeMap<Key, [i64; 5]> = BTreeMap::new();
        for r in cells {
            let v = [r.n, r.wait_n, r.wait_sum, r.repair_n, r.repair_sum];
            assert!(v.iter().all(|x| *x >= 0), "a rollup cell below zero: {v:?}");
            if r.n > 0 {
                actual.insert((r.center_id, r.day, r.lead_id, r.kind, r.status), v);
            } else {
                assert_eq!(v, [0; 5], "an empty rollup cell with sums left");
            }
        }
        assert_eq!(actual, expected, "kpi_order_days differs from work_orders");
    }

    /// Deactivates a user as the admin (PATCH with the user's current version).
    pub async fn deactivate(&self, user_id: &str) {
        let path = format!("/api/v1/users/{user_id}");
        let user: Value = self.get(&path, &self.admin).await.json().await.unwrap();
        let res = self
            .patch(
                &path,
                &self.admin,
                user["version"].as_i64(),
                &json!({"active": false}),
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
    }

    /// Row counts of every table.
    pub fn counts(&self) -> Vec<(&'static str, i64)> {
        TABLES.iter().map(|t| (*t, self.count(t))).collect()
    }

    /// Every row of every table, as text: what [`TestApp::assert_unchanged`] compares.
    pub fn snapshot(&self) -> Snapshot {
        let mut c = self.pool.get().unwrap();
        Snapshot(
            TABLES
                .iter()
                .map(|t| (*t, rows_as_text(&mut c, self.backend, t)))
                .collect(),
        )
    }

    /// Asserts that a refused request changed nothing: every table holds exactly the rows,
    /// byte for byte, that it held at `before`.
    #[track_caller]
    pub fn assert_unchanged(&self, before: &Snapshot) {
        self.assert_unchanged_because(before, "a refused request");
    }

    /// [`TestApp::assert_unchanged`], saying what was refused.
    #[track_caller]
    pub fn assert_unchanged_because(&self, before: &Snapshot, what: impl std::fmt::Display) {
        let after = self.snapshot();
        for ((table, was), (_, is)) in before.0.iter().zip(&after.0) {
            if was != is {
                let gone: Vec<&String> = was.iter().filter(|r| !is.contains(r)).collect();
                let new: Vec<&String> = is.iter().filter(|r| !was.contains(r)).collect();
                panic!("{what}: {table} changed:\n  before: {gone:#?}\n  after: {new:#?}");
            }
        }
    }

    // ---- objects through the API, as an admin ----

    /// POST that must answer 201; returns the created object.
    pub async fn created(&self, path: &str, token: &str, body: &Value) -> Value {
        let res = self.post(path, token, body).await;
        let status = res.status();
        let text = res.text().await.unwrap();
        assert_eq!(status, StatusCode::CREATED, "{path}: {text}");
        serde_json::from_str(&text).unwrap()
    }

    pub async fn create_customer(&self, token: &str, center_id: &str, name: &str) -> Value {
        self.created(
            "/api/v1/customers",
            token,
            &json!({
                "center_id": center_id,
                "name": name,
                "tier": "major",
                "address": "郑州市金水区花园路1号",
                "lat": 34.77, "lng": 113.66,
                "payment_terms": "cash",
                "contacts": [{"name": "王喆", "phone": "13812345678", "title": "车队长"}]
            }),
        )
        .await
    }

    pub async fn create_vehicle(&self, token: &str, customer_id: &str, plate: &str) -> Value {
        self.created("/api/v1/vehicles", token, &json!({"customer_id": customer_id, "plate_no": plate, "drivers": [{"name": "李堃", "phone": "13912345678"}]})).await
    }

    pub async fn create_terminal(&self, token: &str, center_id: &str, n: u64) -> Value {
        self.created("/api/v1/terminals", token, &json!({"imei": imei(n), "model_code": "GT06N", "purchase_date": "2025-06-01", "center_id": center_id})).await
    }

    pub async fn create_sim(&self, token: &str, center_id: &str, n: u64) -> Value {
        self.created(
            "/api/v1/sims",
            token,
            &json!({"iccid": iccid(n), "msisdn": msisdn(n), "center_id": center_id}),
        )
        .await
    }
}

/// Every table's rows as text, sorted: see [`TestApp::snapshot`].
pub struct Snapshot(Vec<(&'static str, Vec<String>)>);

/// The rows of `table`, each as one text (PostgreSQL's record output; on SQLite every
/// column `quote`d, which keeps the type: 1, '1', X'01' and NULL differ), sorted.
fn rows_as_text(c: &mut store::db::PooledConn, backend: Backend, table: &str) -> Vec<String> {
    use diesel::sql_types::Text;
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        r: String,
    }
    let row = match backend {
        Backend::Postgres => "t::text".to_string(),
        Backend::Sqlite => {
            #[derive(QueryableByName)]
            struct Column {
                #[diesel(sql_type = Text)]
                name: String,
            }
            let columns: Vec<Column> =
                diesel::sql_query(format!("SELECT name FROM pragma_table_info('{table}')"))
                    .load(c)
                    .unwrap();
            assert!(!columns.is_empty(), "no table {table}");
            columns
                .iter()
                .map(|col| format!("quote(\"{}\")", col.name))
                .collect::<Vec<_>>()
                .join(" || ',' || ")
        }
    };
    diesel::sql_query(format!("SELECT {row} AS r FROM {table} t ORDER BY 1"))
        .load::<Row>(c)
        .unwrap()
        .into_iter()
        .map(|r| r.r)
        .collect()
}

/// A valid IMEI (15 digits, Luhn) for test number `n`.
pub fn imei(n: u64) -> String {
    let payload = format!("86145205{:06}", n % 1_000_000);
    format!("{payload}{}", luhn_check_digit(&payload))
}

/// A valid 20-digit China Mobile ICCID for test number `n`.
pub fn iccid(n: u64) -> String {
    let payload = format!("8986000{:012}", n);
    format!("{payload}{}", luhn_check_digit(&payload))
}

/// A valid 13-digit IoT MSISDN for test number `n`.
pub fn msisdn(n: u64) -> String {
    format!("1440{:09}", n)
}

/// Asserts a problem+json answer with this status and code; returns the body.
pub async fn assert_problem(res: Response, status: StatusCode, code: &str) -> Value {
    assert_eq!(res.status(), status, "expected {status} {code}");
    let ct = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    assert_eq!(ct, "application/problem+json");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status.as_u16());
    body
}

/// The field names of a 422's per-field errors.
pub fn error_fields(problem: &Value) -> Vec<String> {
    problem["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| e["field"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}
