//! The database going away under a running app: a connection the server ended is replaced
//! (reads are served, writes never answer 500), and while the database cannot be reached
//! requests answer 503 `unavailable` with Retry-After instead of 500 or a long wait.
//! PostgreSQL: backends ended with `pg_terminate_backend` (only this test's database's),
//! and an outage made by cutting a TCP proxy between the app and the server. SQLite, whose
//! file cannot go away: another process holding the write lock past `busy_timeout`.

use std::sync::{Arc, Mutex};

use diesel::prelude::*;
use reqwest::StatusCode;
use serde_json::json;
use tokio::io::copy_bidirectional;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::AbortHandle;

use crate::helpers::{AppOptions, TestApp, assert_problem, spawn_app, spawn_app_with};
use dispatch::store::{Backend, DbTarget};

const CUSTOMERS: &str = "/api/v1/customers";

fn customer_body(name: &str, center: &str) -> serde_json::Value {
    json!({
        "center_id": center,
        "name": name,
        "tier": "major",
        "address": "郑州市金水区花园路1号",
        "lat": 34.77, "lng": 113.66,
        "payment_terms": "cash",
        "contacts": [{"name": "王喆", "phone": "13812345678", "title": "车队长"}],
    })
}

/// The database's name in a PostgreSQL URL.
fn db_name(url: &str) -> String {
    let tail = url.rsplit('/').next().unwrap();
    tail.split('?').next().unwrap().to_string()
}

/// Ends every server process of this test's own database (never another's).
fn terminate_backends(app: &TestApp) -> usize {
    #[derive(QueryableByName)]
    struct Ended {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        ended: bool,
    }
    let admin = std::env::var("DISPATCH_TEST_DATABASE_URL").unwrap();
    let mut c = diesel::PgConnection::establish(&admin).unwrap();
    let rows: Vec<Ended> = diesel::sql_query(
        "SELECT pg_terminate_backend(pid) AS ended FROM pg_stat_activity \
         WHERE datname = $1 AND pid <> pg_backend_pid()",
    )
    .bind::<diesel::sql_types::Text, _>(db_name(&app.target.url))
    .load(&mut c)
    .unwrap();
    rows.iter().filter(|r| r.ended).count()
}

async fn assert_unavailable(res: reqwest::Response) {
    let retry_after = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    assert_problem(res, StatusCode::SERVICE_UNAVAILABLE, "unavailable").await;
    let secs: u64 = retry_after.expect("a Retry-After header").parse().unwrap();
    assert!(secs > 0);
}

#[tokio::test]
async fn a_connection_the_server_ended_is_replaced_and_a_write_never_answers_500() {
    let app = spawn_app().await;
    let zz = app.zz.id.clone();
    let first = app
        .post(CUSTOMERS, &app.admin, &customer_body("豫通客运", &zz))
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    match app.backend {
        Backend::Postgres => {
            // every pooled connection of the app is now dead
            assert!(terminate_backends(&app) > 0);
            let res = app.get(CUSTOMERS, &app.admin).await;
            assert_eq!(
                res.status(),
                StatusCode::OK,
                "{}",
                res.text().await.unwrap()
            );
            terminate_backends(&app);
            let res = app
                .post(CUSTOMERS, &app.admin, &customer_body("顺丰物流", &zz))
                .await;
            let status = res.status();
            if status != StatusCode::CREATED {
                assert_unavailable(res).await;
            }
            // and after the 503 (if any) the app works again
            let res = app
                .post(CUSTOMERS, &app.admin, &customer_body("中通快运", &zz))
                .await;
            assert_eq!(res.status(), StatusCode::CREATED);
        }
        Backend::Sqlite => {
            // another process holds the write lock past busy_timeout
            let mut other = diesel::SqliteConnection::establish(&app.target.url).unwrap();
            diesel::connection::SimpleConnection::batch_execute(&mut other, "BEGIN EXCLUSIVE")
                .unwrap();
            let before = app.count("customers");
            let res = app
                .post(CUSTOMERS, &app.admin, &customer_body("顺丰物流", &zz))
                .await;
            assert_unavailable(res).await;
            // reads go on meanwhile (WAL)
            let res = app.get(CUSTOMERS, &app.admin).await;
            assert_eq!(res.status(), StatusCode::OK);
            diesel::connection::SimpleConnection::batch_execute(&mut other, "ROLLBACK").unwrap();
            assert_eq!(app.count("customers"), before);
            let res = app
                .post(CUSTOMERS, &app.admin, &customer_body("中通快运", &zz))
                .await;
            assert_eq!(res.status(), StatusCode::CREATED);
        }
    }
}

/// A TCP proxy to the PostgreSQL server that can be cut (its listener closed and every
/// connection through it dropped) and restored on the same port. It runs on a runtime of
/// its own: the app's start-up blocks the test's runtime while it connects through it.
struct Proxy {
    port: u16,
    upstream: String,
    tasks: Arc<Mutex<Vec<AbortHandle>>>,
    rt: Option<tokio::runtime::Runtime>,
}

impl Proxy {
    fn start(upstream: String) -> Proxy {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let p = Proxy {
            port,
            upstream,
            tasks: Arc::default(),
            rt: Some(rt),
        };
        p.serve(listener);
        p
    }

    fn serve(&self, listener: std::net::TcpListener) {
        listener.set_nonblocking(true).unwrap();
        let upstream = self.upstream.clone();
        let tasks = self.tasks.clone();
        let rt = self.rt.as_ref().unwrap().handle().clone();
        let accept = rt.spawn(async move {
            let listener = TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    continue;
                };
                let upstream = upstream.clone();
                let pipe = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                tasks.lock().unwrap().push(pipe.abort_handle());
            }
        });
        self.tasks.lock().unwrap().push(accept.abort_handle());
    }

    /// The network to the database is gone: nothing connects, open connections break.
    fn cut(&self) {
        for t in self.tasks.lock().unwrap().drain(..) {
            t.abort();
        }
    }

    async fn restore(&self) {
        // the aborted accept task's listener closes a moment later
        let listener = loop {
            match std::net::TcpListener::bind(("127.0.0.1", self.port)) {
                Ok(l) => break l,
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            }
        };
        self.serve(listener);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

#[tokio::test]
async fn while_the_database_is_unreachable_requests_answer_503_with_retry_after() {
    let Ok(admin) = std::env::var("DISPATCH_TEST_DATABASE_URL") else {
        // SQLite has no network to lose (its analogue is the locked file above)
        return;
    };
    if admin.is_empty() {
        return;
    }
    let server = {
        let rest = admin.split_once("://").unwrap().1;
        let hostport = rest.split('/').next().unwrap();
        let hostport = hostport.rsplit('@').next().unwrap();
        if hostport.contains(':') {
            hostport.to_string()
        } else {
            format!("{hostport}:5432")
        }
    };
    let proxy = Proxy::start(server.clone());
    let port = proxy.port;
    let reach = move |t: &DbTarget| {
        DbTarget::parse(&t.url.replacen(&server, &format!("127.0.0.1:{port}"), 1)).unwrap()
    };
    let app = spawn_app_with(AppOptions {
        reach: Some(Box::new(reach)),
        ..Default::default()
    })
    .await;
    let zz = app.zz.id.clone();
    let res = app.get(CUSTOMERS, &app.admin).await;
    assert_eq!(res.status(), StatusCode::OK);

    proxy.cut();
    assert_unavailable(app.get(CUSTOMERS, &app.admin).await).await;
    assert_unavailable(
        app.post(CUSTOMERS, &app.admin, &customer_body("顺丰物流", &zz))
            .await,
    )
    .await;
    let res = app.client.get(app.url("/readyz")).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);

    proxy.restore().await;
    let res = app
        .post(CUSTOMERS, &app.admin, &customer_body("中通快运", &zz))
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let res = app.get(CUSTOMERS, &app.admin).await;
    assert_eq!(res.status(), StatusCode::OK);
}
