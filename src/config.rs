//! Settings from environment variables, each also a command-line flag.

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};

use crate::domain::access::Role;
use crate::store::DbTarget;

#[derive(Debug, Parser)]
#[command(
    name = "dispatch",
    version,
    about = "GPS terminal install and repair dispatch"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

// parsed once at start: the size of the serve settings does not matter
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run migrations, then serve the API (and, with --demo, load the demo data first).
    Serve(ServeArgs),
    /// Run the database migrations and exit.
    Migrate(DbArgs),
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage service centers.
    Center {
        #[command(subcommand)]
        command: CenterCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user (the first admin of a new installation, for example).
    Create {
        #[command(flatten)]
        db: DbArgs,
        #[arg(long)]
        username: String,
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// the service center's code (e.g. ZZ) or id
        #[arg(long)]
        center: String,
        #[arg(long)]
        display_name: Option<String>,
        /// read from DISPATCH_NEW_PASSWORD when not given; generated and printed when neither
        #[arg(long, env = "DISPATCH_NEW_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CenterCommand {
    /// Create a service center.
    Create {
        #[command(flatten)]
        db: DbArgs,
        /// 2–6 uppercase letters, used in document numbers
        #[arg(long)]
        code: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        region: String,
        #[arg(long, allow_negative_numbers = true)]
        lat: f64,
        #[arg(long, allow_negative_numbers = true)]
        lng: f64,
    },
}

fn parse_role(s: &str) -> Result<Role, String> {
    Role::parse(s).ok_or_else(|| "one of admin, manager, agent, technician, finance".to_string())
}

#[derive(Debug, Clone, Args)]
pub struct DbArgs {
    /// Where the SQLite database, the generated JWT secret and other files live.
    #[arg(long, env = "DISPATCH_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// postgres://… for PostgreSQL; sqlite://path or a path for SQLite.
    /// Default: a SQLite file dispatch.db in the data directory.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// Connections in the pool.
    #[arg(long, env = "DISPATCH_DB_POOL_SIZE", default_value_t = 16)]
    pub db_pool_size: u32,
    /// Seconds a request waits for a database connection before it answers 503
    /// `unavailable` (with Retry-After), e.g. while the database is down.
    #[arg(long, env = "DISPATCH_DB_ACQUIRE_TIMEOUT", default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub db_acquire_timeout: u64,
    /// Log filter (tracing EnvFilter syntax), e.g. info or dispatch=debug.
    #[arg(long, env = "DISPATCH_LOG", default_value = "info")]
    pub log: String,
}

impl DbArgs {
    pub fn target(&self) -> Result<DbTarget, String> {
        let timeout = std::time::Duration::from_secs(self.db_acquire_timeout);
        self.location().map(|t| t.with_acquire_timeout(timeout))
    }

    fn location(&self) -> Result<DbTarget, String> {
        match self
            .database_url
            .as_deref()
            .filter(|u| !u.trim().is_empty())
        {
            Some(url) => DbTarget::parse(url),
            None => Ok(DbTarget::sqlite_file(self.data_dir.join("dispatch.db"))),
        }
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub db: DbArgs,
    /// Address and port to listen on.
    #[arg(long, env = "DISPATCH_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,
    /// HS256 secret for tokens. When not given, one is generated on first start and kept
    /// in <data-dir>/jwt-secret.
    #[arg(long, env = "DISPATCH_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Token lifetime in seconds.
    #[arg(long, env = "DISPATCH_TOKEN_TTL", default_value_t = 8 * 3600)]
    pub token_ttl: i64,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "DISPATCH_WORKERS")]
    pub workers: Option<usize>,
    /// Load the demo data into an empty database before serving: the registry from
    /// fixtures/ (centers, people, customers, vehicles, terminals, SIM cards) and a living
    /// day on top of it (a price list, orders in every state, tickets, a remittance).
    #[arg(long)]
    pub demo: bool,
    /// With --demo: the registry only, no orders (the browser tests set their own scene).
    #[arg(long, requires = "demo")]
    pub demo_registry_only: bool,
    /// Fonts for PDFs, `path[#face]` separated by `:`, first match wins per character.
    /// Default: WenQuanYi Micro Hei, Noto Sans CJK SC, WenQuanYi Zen Hei, DejaVu Sans
    /// where installed.
    #[arg(long, env = "DISPATCH_PDF_FONTS")]
    pub pdf_fonts: Option<String>,
    /// The company's name on invoices (账单) and receipts (收据), and as the payee of bank
    /// transfers.
    #[arg(
        long,
        env = "DISPATCH_COMPANY_NAME",
        default_value = "中原卫星定位技术服务有限公司"
    )]
    pub company_name: String,
    /// The bank the company's account is with, printed on invoices.
    #[arg(
        long,
        env = "DISPATCH_BANK_NAME",
        default_value = "中国工商银行郑州金水支行"
    )]
    pub bank_name: String,
    /// The company's account number, printed on invoices.
    #[arg(
        long,
        env = "DISPATCH_BANK_ACCOUNT",
        default_value = "1702 0201 0900 0012 345"
    )]
    pub bank_account: String,
    /// SMTP relay: smtp://[user:pass@]host[:port][?tls=required] (STARTTLS),
    /// smtps://… (implicit TLS), or smtp://localhost:25 (plain, a local relay).
    /// Default: messages are written as .eml files to <data-dir>/mail.
    #[arg(long, env = "DISPATCH_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Seconds before a failed e-mail is tried again; doubled after each failure up to
    /// --mail-retry-max.
    #[arg(long, env = "DISPATCH_MAIL_RETRY_BASE", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..))]
    pub mail_retry_base: u64,
    /// The longest wait, in seconds, between two attempts to send an e-mail.
    #[arg(long, env = "DISPATCH_MAIL_RETRY_MAX", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..))]
    pub mail_retry_max: u64,
    /// Failed attempts after which an e-mail is given up (dead; an admin may retry it).
    #[arg(long, env = "DISPATCH_MAIL_MAX_ATTEMPTS", default_value_t = 10, value_parser = clap::value_parser!(i32).range(1..=1000))]
    pub mail_max_attempts: i32,
    /// The sender of e-mails.
    #[arg(
        long,
        env = "DISPATCH_MAIL_FROM",
        default_value = "派工系统 <dispatch@localhost>"
    )]
    pub mail_from: String,
    /// The map's tile URL template, e.g. 高德
    /// `https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}`
    /// (with --map-datum gcj02 and --map-subdomains 1234) or 天地图's WMTS URL with its
    /// key (wgs84). The pages' CSP lets images come from its host. Default: no map (the
    /// desk draws its plain plot).
    #[arg(long, env = "DISPATCH_MAP_TILES")]
    pub map_tiles: Option<String>,
    /// The datum the tiles are drawn in: wgs84 (天地图, OpenStreetMap) or gcj02 (高德).
    #[arg(long, env = "DISPATCH_MAP_DATUM", default_value = "wgs84")]
    pub map_datum: String,
    /// What {s} in the tile URL stands for, e.g. 1234 or abc.
    #[arg(long, env = "DISPATCH_MAP_SUBDOMAINS")]
    pub map_subdomains: Option<String>,
    /// The tiles' attribution shown on the map, e.g. © 高德地图.
    #[arg(long, env = "DISPATCH_MAP_ATTRIBUTION")]
    pub map_attribution: Option<String>,
    /// Where photos are kept: s3://bucket[/prefix] for any S3-compatible store (with the
    /// AWS_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION and
    /// AWS_ALLOW_HTTP variables; what several instances share), or file:///dir.
    /// Default: files in <data-dir>/objects.
    #[arg(long, env = "DISPATCH_OBJECT_STORE")]
    pub object_store: Option<String>,
    /// How many uploaded photos are processed at once (decode, thumbnail; the rest wait
    /// their turn). Default: the number of cores less one, at least 1.
    #[arg(long, env = "DISPATCH_PHOTO_SLOTS", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub photo_slots: Option<u32>,
    /// The tracking platform's REST API (Traccar), watched for each fitted terminal's
    /// first report (上线检测), e.g. `https://user%40example.com:password@gps.example.com`
    /// (HTTP Basic with an account of the platform). Default: off.
    #[arg(long, env = "DISPATCH_TRACKING_URL", hide_env_values = true)]
    pub tracking_url: Option<String>,
    /// A bearer token for the tracking platform instead of the URL's user and password.
    #[arg(long, env = "DISPATCH_TRACKING_TOKEN", hide_env_values = true)]
    pub tracking_token: Option<String>,
    /// The shared secret a platform that forwards positions (Traccar's `forward.url`,
    /// `forward.json`, with `forward.header` = `Authorization: Bearer <secret>`) sends to
    /// `POST /tracking/traccar/positions`; at least 16 characters. Default: no push.
    #[arg(long, env = "DISPATCH_TRACKING_PUSH_SECRET", hide_env_values = true)]
    pub tracking_push_secret: Option<String>,
    /// Seconds between two looks at the tracking platform for waiting checks.
    #[arg(long, env = "DISPATCH_TRACKING_POLL", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub tracking_poll: u64,
}

/// The tracking settings the arguments give (`None`: neither a platform nor a push
/// secret, tracking off).
pub fn tracking(
    url: Option<&str>,
    token: Option<String>,
    push_secret: Option<String>,
    poll_seconds: u64,
) -> Result<Option<crate::tracking::TrackingSettings>, String> {
    let url = url.filter(|u| !u.is_empty());
    let push_secret = push_secret.filter(|s| !s.is_empty());
    if let Some(s) = &push_secret
        && s.chars().count() < 16
    {
        return Err("DISPATCH_TRACKING_PUSH_SECRET must be at least 16 characters".into());
    }
    if url.is_none() && push_secret.is_none() {
        return Ok(None);
    }
    let platform = url
        .map(|u| crate::tracking::Traccar::new(u, token))
        .transpose()?;
    let mut t = crate::tracking::TrackingSettings::new(platform, push_secret);
    t.poll = std::time::Duration::from_secs(poll_seconds);
    Ok(Some(t))
}

/// The JWT secret: the configured one, or the one kept in the data directory (created with
/// 256 random bits on first start, readable only by its owner).
pub fn jwt_secret(configured: Option<&str>, data_dir: &Path) -> Result<Vec<u8>, String> {
    if let Some(s) = configured.filter(|s| !s.is_empty()) {
        if s.len() < 32 {
            return Err("DISPATCH_JWT_SECRET must be at least 32 characters".into());
        }
        return Ok(s.as_bytes().to_vec());
    }
    let path = data_dir.join("jwt-secret");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim();
        if existing.len() >= 32 {
            return Ok(existing.as_bytes().to_vec());
        }
    }
    std::fs::create_dir_all(data_dir)
        .map_err(|e| format!("cannot create data directory {}: {e}", data_dir.display()))?;
    let secret = hex::encode(rand::random::<[u8; 32]>());
    write_private(&path, &secret).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    tracing::info!(path = %path.display(), "generated a new JWT secret");
    Ok(secret.into_bytes())
}

#[cfg(unix)]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(content.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, content: &str) -> std::io::Result<()> {
    std::fs::write(path, content)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_is_generated_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let a = jwt_secret(None, dir.path()).unwrap();
        let b = jwt_secret(None, dir.path()).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.len(), 64);
        assert!(jwt_secret(Some("short"), dir.path()).is_err());
    }

    #[test]
    fn default_database_is_sqlite_in_the_data_dir() {
        let args = DbArgs {
            data_dir: PathBuf::from("/tmp/x"),
            database_url: None,
            db_pool_size: 4,
            db_acquire_timeout: 2,
            log: "info".into(),
        };
        let t = args.target().unwrap();
        assert_eq!(t.url, "/tmp/x/dispatch.db");
        assert_eq!(t.acquire_timeout, std::time::Duration::from_secs(2));
        assert!(
            DbTarget::parse("postgres://h/db")
                .unwrap()
                .url
                .contains("connect_timeout=5")
        );
        assert!(DbTarget::parse("mysql://h/db").is_err());
    }
}
