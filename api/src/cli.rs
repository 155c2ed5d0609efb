//! The operator's commands besides `serve`.

use std::io::{BufRead, IsTerminal};

use anyhow::Context;

use crate::config::Settings;
use crate::db::{self, audit::NewAuditEvent, users::NewUser, DbConnection};
use crate::domain::{DisplayName, Password, Username};

fn open(settings: &Settings) -> anyhow::Result<DbConnection> {
    db::DbManager::new(settings.database_url.clone())
        .establish()
        .with_context(|| {
            format!(
                "cannot open the database {}",
                settings.database_url.redacted()
            )
        })
}

/// `tungnha migrate`: applies pending migrations and says which.
pub fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let mut conn = open(settings)?;
    let applied = db::run_migrations(&mut conn)?;
    if applied.is_empty() {
        println!("The database is up to date.");
    } else {
        for v in applied {
            println!("applied {v}");
        }
    }
    let copied = crate::app::materials::import_attachment_files(&mut conn, &settings.data_dir)?;
    if copied > 0 {
        println!("copied {copied} attachment files into the database");
    }
    Ok(())
}

/// `tungnha rebuild-tallies`: recomputes the dashboards' tallies and checks them.
pub fn rebuild_tallies(settings: &Settings) -> anyhow::Result<()> {
    let mut conn = open(settings)?;
    anyhow::ensure!(
        db::migrations_are_current(&mut conn)?,
        "the database needs `tungnha migrate` first"
    );
    db::tallies::rebuild(&mut conn)?;
    let wrong = db::tallies::verify(&mut conn)?;
    anyhow::ensure!(
        wrong.is_empty(),
        "tallies still differ from the rows: {wrong:?}"
    );
    println!("The tallies were rebuilt and agree with the rows.");
    Ok(())
}

/// Reads the new password: hidden prompt on a terminal, else the first line of standard input.
fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password: ")?;
        let again = rpassword::prompt_password("Password again: ")?;
        anyhow::ensure!(first == again, "the two passwords differ");
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }
}

/// `tungnha create-admin --username U`: creates an administrator; the password comes from stdin.
pub fn create_admin(settings: &Settings, username: &str, display_name: &str) -> anyhow::Result<()> {
    let username =
        Username::parse(username).map_err(|e| anyhow::anyhow!("username: {}", e.message))?;
    let display_name = DisplayName::parse(display_name, "display_name")
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
    let password = Password::parse(&read_password()?, "password")
        .map_err(|e| anyhow::anyhow!("password: {}", e.message))?;
    let hash = crate::auth::password::hash(&password)?;
    let mut conn = open(settings)?;
    db::run_migrations(&mut conn)?;
    let id = db::new_id();
    let now = db::now();
    diesel::Connection::transaction(&mut conn, |conn| {
        if db::users::find_by_username(conn, username.as_str())?.is_some() {
            anyhow::bail!("a user named `{}` already exists", username.as_str());
        }
        db::users::insert(
            conn,
            &NewUser {
                id: &id,
                username: username.as_str(),
                password_hash: &hash,
                display_name: display_name.as_str(),
                role: "admin",
                department: None,
                commune_id: None,
                active: true,
                must_change_password: false,
                created_at: now,
                updated_at: now,
            },
        )?;
        db::audit::record(
            conn,
            &NewAuditEvent {
                occurred_at: now,
                actor_user_id: None,
                actor_label: "cli",
                action: "user_created",
                object_type: Some("user"),
                object_id: Some(&id),
                commune_id: None,
                client_addr: None,
                details: serde_json::json!({ "username": username.as_str(), "role": "admin" })
                    .to_string(),
            },
        )?;
        Ok(())
    })?;
    println!("Created administrator `{}`.", username.as_str());
    Ok(())
}

/// `tungnha purge-expired`: removes the free-text notes older than `retention_years` now (the
/// server also does it daily). With `retention_years = 0` it purges nothing.
pub fn purge_expired(settings: &Settings) -> anyhow::Result<()> {
    let Some(before) =
        crate::app::retention::retention_cutoff(settings.retention_years, crate::db::now())
    else {
        println!("retention_years is 0: notes are kept; nothing purged.");
        return Ok(());
    };
    let mut conn = open(settings)?;
    let p = crate::app::retention::purge_expired(&mut conn, before)?;
    println!(
        "Notes from before {before} removed: {} records, {} adoption entries, {} communications.",
        p.records, p.adoptions, p.communications
    );
    Ok(())
}

/// `tungnha seed-demo`: the demo commune with its accounts; prints the accounts and their password.
pub fn seed_demo(settings: &Settings, households: usize, if_empty: bool) -> anyhow::Result<()> {
    let mut conn = open(settings)?;
    db::run_migrations(&mut conn)?;
    if if_empty && !db::geo::list_communes(&mut conn, None, None, 1)?.is_empty() {
        let demo = db::geo::list_communes(&mut conn, None, None, 10_000)?
            .into_iter()
            .any(|c| c.code == crate::seed::DEMO_COMMUNE_CODE);
        if !demo {
            println!("The database already holds communes; no demo data added.");
            return Ok(());
        }
    }
    let report = crate::seed::seed_demo(&mut conn, households)?;
    if report.created {
        println!(
            "Seeded the demo commune Mao Điền: {} households, {} residents (fictional).",
            report.households, report.residents
        );
    } else {
        println!("The demo commune Mao Điền is already there; nothing added.");
    }
    println!(
        "\nDemo accounts (password for all: {}):",
        crate::seed::DEMO_PASSWORD
    );
    println!("  {:<20} {:<16} department", "username", "role");
    for (username, role, department) in report.accounts {
        println!(
            "  {:<20} {:<16} {}",
            username,
            role,
            department.unwrap_or_default()
        );
    }
    Ok(())
}
