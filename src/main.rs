use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use dispatch::config::{CenterCommand, Cli, Command, DbArgs, ServeArgs, UserCommand, jwt_secret};
use dispatch::documents::{BankDetails, Documents};
use dispatch::domain::access::Role;
use dispatch::notify::transport::Transport;
use dispatch::notify::worker::MailSettings;
use dispatch::startup::{Application, Settings, open_database};
use dispatch::store::{self, centers, new_id, now, users};
use dispatch::{demo, password};

fn init_logs(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    // colour only for a person at a terminal: piped into a file or a log collector, ANSI
    // codes are noise in every line
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .init();
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Migrate(db) => migrate(&db),
        Command::User {
            command:
                UserCommand::Create {
                    db,
                    username,
                    role,
                    center,
                    display_name,
                    password,
                },
        } => create_user(&db, &username, role, &center, display_name, password),
        Command::Center {
            command:
                CenterCommand::Create {
                    db,
                    code,
                    name,
                    region,
                    lat,
                    lng,
                },
        } => create_center(&db, code, name, region, lat, lng),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn serve(args: ServeArgs) -> Result<(), String> {
    init_logs(&args.db.log);
    let target = args.db.target()?;
    let secret = jwt_secret(args.jwt_secret.as_deref(), &args.db.data_dir)?;
    if args.token_ttl < 60 {
        return Err("DISPATCH_TOKEN_TTL must be at least 60 seconds".into());
    }
    let map = dispatch::api::tiles::MapTiles::parse(
        args.map_tiles.as_deref(),
        &args.map_datum,
        args.map_subdomains.as_deref(),
        args.map_attribution.as_deref(),
    )?;
    let pool = open_database(&target, args.db.db_pool_size)?;
    let mut demo_day = false;
    if args.demo {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        if demo::is_empty(&mut conn).map_err(|e| e.to_string())? {
            let s = demo::load(&mut conn).map_err(|e| format!("loading demo data failed: {e}"))?;
            tracing::info!(
                users = s.users.len(),
                customers = s.customers,
                vehicles = s.vehicles,
                terminals = s.terminals,
                sims = s.sims,
                "demo data loaded"
            );
            demo_day = !args.demo_registry_only;
        } else {
            tracing::info!("the database already has data: demo data not loaded");
        }
        print_logins()?;
    }
    let documents = std::sync::Arc::new(Documents::new(
        args.pdf_fonts.as_deref(),
        BankDetails {
            company: args.company_name.clone(),
            bank: args.bank_name.clone(),
            account: args.bank_account.clone(),
        },
    ));
    let from = args
        .mail_from
        .parse()
        .map_err(|e| format!("DISPATCH_MAIL_FROM {:?}: {e}", args.mail_from))?;
    let smtp_url = args.smtp_url.clone();
    let mail_dir = args.db.data_dir.join("mail");
    let objects = dispatch::media::objects::Objects::from_env(
        args.object_store.as_deref(),
        &args.db.data_dir,
    )?;
    tracing::info!(store = %objects.describe, "photos are kept in");
    let slots = args
        .photo_slots
        .map_or_else(dispatch::media::default_processing_slots, |n| n as usize);
    dispatch::media::set_processing_slots(slots);
    let tracking = dispatch::config::tracking(
        args.tracking_url.as_deref(),
        args.tracking_token.clone(),
        args.tracking_push_secret.clone(),
        args.tracking_poll,
    )?;
    if let Some(t) = &tracking {
        tracing::info!(tracking = %t.describe(), "terminals' first reports are watched");
    }
    let mut settings = Settings {
        target,
        bind: args.bind.clone(),
        jwt_secret: secret,
        token_ttl: args.token_ttl,
        pool_size: args.db.db_pool_size,
        workers: args.workers,
        documents,
        mail: None,
        map,
        objects,
        tracking,
    };
    actix_web::rt::System::new().block_on(async move {
        // inside the runtime: lettre's pooled SMTP transport starts its pool's tasks on the
        // current Tokio runtime when built, and panics when there is none
        let transport = Transport::configure(smtp_url.as_deref(), mail_dir)?;
        let mut mail = MailSettings::new(transport, from);
        mail.retry_base = std::time::Duration::from_secs(args.mail_retry_base);
        mail.retry_cap = std::time::Duration::from_secs(args.mail_retry_max.max(args.mail_retry_base));
        mail.max_attempts = args.mail_max_attempts;
        settings.mail = Some(mail);
        if demo_day {
            let state = dispatch::startup::app_state(&settings, &pool, 1)?;
            let day = dispatch::demo_day::load(state).await?;
            tracing::info!(
                parts = day.parts,
                orders = day.orders,
                tickets = day.tickets,
                remittances = day.remittances,
                "demo day loaded"
            );
        }
        let app = Application::with_pool(settings, pool)?;
        tracing::info!(bind = %args.bind, port = app.port(), "dispatch is serving; API docs at /docs/");
        app.run_until_stopped().await.map_err(|e| e.to_string())
    })
}

fn print_logins() -> Result<(), String> {
    println!("\n  Demo logins (password: {}):", demo::DEMO_PASSWORD);
    for (user, role) in demo::logins()? {
        println!("    {user:<12} {role}");
    }
    println!();
    Ok(())
}

fn migrate(db: &DbArgs) -> Result<(), String> {
    init_logs(&db.log);
    open_database(&db.target()?, 1)?;
    println!("migrations are up to date");
    Ok(())
}

fn find_center(conn: &mut store::DbConn, key: &str) -> Result<centers::Center, String> {
    if let Some(c) = centers::find_by_code(conn, key).map_err(|e| e.to_string())? {
        return Ok(c);
    }
    centers::get(conn, key).map_err(|_| format!("no service center with code or id {key}"))
}

fn create_user(
    db: &DbArgs,
    username: &str,
    role: Role,
    center: &str,
    display_name: Option<String>,
    pw: Option<String>,
) -> Result<(), String> {
    init_logs(&db.log);
    let pool = open_database(&db.target()?, 1)?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let center = find_center(&mut conn, center)?;
    let (pw, generated) = match pw.filter(|p| !p.is_empty()) {
        Some(p) if p.chars().count() >= 8 => (p, false),
        Some(_) => return Err("the password needs at least 8 characters".into()),
        None => (hex::encode(rand::random::<[u8; 9]>()), true),
    };
    let t = now();
    let user = users::User {
        id: new_id(),
        username: username.to_string(),
        display_name: display_name.unwrap_or_else(|| username.to_string()),
        role: role.as_str().to_string(),
        center_id: center.id,
        phone: None,
        email: None,
        password_hash: password::hash(&pw)?,
        active: true,
        token_version: 0,
        failed_logins: 0,
        locked_until: None,
        version: 1,
        created_at: t,
        updated_at: t,
    };
    users::insert(&mut conn, &user).map_err(|e| e.to_string())?;
    println!(
        "created {} user {} in {}",
        role.as_str(),
        username,
        center.name
    );
    if generated {
        println!("generated password: {pw}");
    }
    Ok(())
}

fn create_center(
    db: &DbArgs,
    code: String,
    name: String,
    region: String,
    lat: f64,
    lng: f64,
) -> Result<(), String> {
    init_logs(&db.log);
    if !(2..=6).contains(&code.len()) || !code.bytes().all(|b| b.is_ascii_uppercase()) {
        return Err("the code must be 2–6 uppercase letters".into());
    }
    dispatch::domain::registry::GeoPoint::new(lat, lng)?;
    let pool = open_database(&db.target()?, 1)?;
    let mut conn = pool.get().map_err(|e| e.to_string())?;
    let t = now();
    let c = centers::Center {
        id: new_id(),
        code,
        name,
        region,
        lat,
        lng,
        active: true,
        version: 1,
        created_at: t,
        updated_at: t,
    };
    centers::insert(&mut conn, &c).map_err(|e| e.to_string())?;
    println!("created service center {} ({}) id {}", c.name, c.code, c.id);
    Ok(())
}
