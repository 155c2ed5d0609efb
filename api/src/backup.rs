//! `tungnha backup DIR` and `tungnha restore DIR`: everything the server owns, in one folder.
//!
//! The server owns its database (every record, the audit log, and since migration 21 the guides'
//! attachments) and its token-signing secret (`data_dir/jwt-secret`, unless `jwt_secret` is set in
//! the configuration, which the operator keeps with the configuration). A backup folder holds:
//!
//! - `tungnha.db` (SQLite: `VACUUM INTO`, one consistent snapshot while the server keeps writing) or
//!   `tungnha.dump` (PostgreSQL: `pg_dump --format=custom`, also one snapshot);
//! - `jwt-secret`, when the secret lives in the data folder, so sessions and phones stay signed in
//!   after a restore;
//! - `manifest.json`: what the folder holds, with each file's size and SHA-256, checked on restore.
//!
//! A restore goes into a fresh place only: a SQLite file that does not exist yet, or an empty
//! PostgreSQL database, and a data folder without a different secret. It checks every file first,
//! then writes, then applies the migrations of this version (a backup of an older version comes back
//! upgraded) and checks the dashboards' tallies against the rows.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, ensure, Context};
use diesel::connection::SimpleConnection as _;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

use crate::auth::jwt::write_private;
use crate::config::{DatabaseUrl, Settings};
use crate::db::{self, DbConnection};

const MANIFEST: &str = "manifest.json";
const SQLITE_FILE: &str = "tungnha.db";
const PG_FILE: &str = "tungnha.dump";
const SECRET_FILE: &str = "jwt-secret";

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    /// Layout version of the folder.
    format: u32,
    created_at: String,
    server_version: String,
    /// `sqlite` or `postgres`.
    backend: String,
    /// Where the signing secret is: `in_backup`, `in_configuration` or `none` (the server never
    /// started on that data folder).
    jwt_secret: String,
    files: Vec<FileEntry>,
}

#[derive(Debug, Serialize, Deserialize)]
struct FileEntry {
    name: String,
    bytes: u64,
    sha256: String,
}

fn entry(dir: &Path, name: &str) -> anyhow::Result<FileEntry> {
    let path = dir.join(name);
    let mut file =
        std::fs::File::open(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut hash = sha2::Sha256::new();
    let bytes = std::io::copy(&mut file, &mut hash)?;
    Ok(FileEntry {
        name: name.to_owned(),
        bytes,
        sha256: hex(&hash.finalize()),
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn open(url: &DatabaseUrl) -> anyhow::Result<DbConnection> {
    db::DbManager::new(url.clone())
        .establish()
        .with_context(|| format!("cannot open the database {}", url.redacted()))
}

/// A PostgreSQL URL without its password, and the password for `PGPASSWORD` (so it never shows in
/// the process list).
fn pg_connection(url: &str) -> anyhow::Result<(String, Option<String>)> {
    let mut parsed = url::Url::parse(url).context("the PostgreSQL URL does not parse")?;
    let password = parsed.password().map(|p| {
        percent_encoding::percent_decode_str(p)
            .decode_utf8_lossy()
            .into_owned()
    });
    parsed
        .set_password(None)
        .map_err(|()| anyhow::anyhow!("the PostgreSQL URL has no host"))?;
    Ok((parsed.to_string(), password))
}

fn pg_tool(tool: &str, url: &str) -> anyhow::Result<Command> {
    let (url, password) = pg_connection(url)?;
    let mut cmd = Command::new(tool);
    cmd.arg(format!("--dbname={url}"));
    if let Some(p) = password {
        cmd.env("PGPASSWORD", p);
    }
    Ok(cmd)
}

fn run_tool(mut cmd: Command, what: &str) -> anyhow::Result<()> {
    let out = match cmd.output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => bail!(
            "{what} is not installed (Debian: apt-get install postgresql-client, the same major \
             version as the server or newer)"
        ),
        Err(e) => return Err(e).with_context(|| format!("cannot run {what}")),
    };
    ensure!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    );
    Ok(())
}

/// `tungnha backup DIR`.
pub fn backup(settings: &Settings, dir: &Path) -> anyhow::Result<()> {
    if dir.exists() {
        ensure!(
            dir.is_dir() && std::fs::read_dir(dir)?.next().is_none(),
            "{} already exists and is not an empty folder; choose a new folder for each backup",
            dir.display()
        );
    }
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut files = vec![];
    let backend = match &settings.database_url {
        DatabaseUrl::Sqlite(_) => {
            let target = dir.join(SQLITE_FILE);
            let target_str = target
                .to_str()
                .context("the backup folder's path is not valid UTF-8")?;
            let mut conn = open(&settings.database_url)?;
            // VACUUM INTO takes a string literal; quote it the SQL way.
            conn.batch_execute(&format!("VACUUM INTO '{}'", target_str.replace('\'', "''")))
                .with_context(|| format!("backup to {} failed", target.display()))?;
            files.push(entry(dir, SQLITE_FILE)?);
            "sqlite"
        }
        DatabaseUrl::Postgres(url) => {
            use secrecy::ExposeSecret as _;
            let mut cmd = pg_tool("pg_dump", url.expose_secret())?;
            cmd.args(["--format=custom", "--no-owner", "--no-privileges", "--file"])
                .arg(dir.join(PG_FILE));
            run_tool(cmd, "pg_dump")?;
            files.push(entry(dir, PG_FILE)?);
            "postgres"
        }
    };
    let jwt_secret = if settings.jwt_secret.is_some() {
        "in_configuration"
    } else {
        let source = settings.data_dir.join(SECRET_FILE);
        match std::fs::read(&source) {
            Ok(bytes) => {
                write_private(&dir.join(SECRET_FILE), &bytes)?;
                files.push(entry(dir, SECRET_FILE)?);
                "in_backup"
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => "none",
            Err(e) => return Err(e).with_context(|| format!("cannot read {}", source.display())),
        }
    };
    let manifest = Manifest {
        format: 1,
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        server_version: env!("CARGO_PKG_VERSION").to_owned(),
        backend: backend.to_owned(),
        jwt_secret: jwt_secret.to_owned(),
        files,
    };
    let mut f = std::fs::File::create(dir.join(MANIFEST))?;
    f.write_all(serde_json::to_string_pretty(&manifest)?.as_bytes())?;
    f.sync_all()?;
    println!(
        "Backed up {} to {}: {}.",
        settings.database_url.redacted(),
        dir.display(),
        manifest
            .files
            .iter()
            .map(|f| format!("{} ({} bytes)", f.name, f.bytes))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if jwt_secret == "in_configuration" {
        println!(
            "The token-signing secret is set in the configuration (jwt_secret) and is not in the \
             backup: keep it with the configuration."
        );
    }
    Ok(())
}

/// `tungnha restore DIR`: into the configured database and data folder, both fresh.
pub fn restore(settings: &Settings, dir: &Path) -> anyhow::Result<()> {
    let manifest: Manifest =
        serde_json::from_slice(&std::fs::read(dir.join(MANIFEST)).with_context(|| {
            format!("{} holds no {MANIFEST}: not a backup folder", dir.display())
        })?)
        .context("manifest.json does not parse")?;
    ensure!(
        manifest.format == 1,
        "this backup's layout (format {}) is newer than this server knows",
        manifest.format
    );
    for f in &manifest.files {
        let now = entry(dir, &f.name)?;
        ensure!(
            now.bytes == f.bytes && now.sha256 == f.sha256,
            "{} differs from what the backup recorded (damaged or changed); nothing was restored",
            f.name
        );
    }
    let has = |name: &str| manifest.files.iter().any(|f| f.name == name);
    let backend = if settings.database_url.is_sqlite() {
        "sqlite"
    } else {
        "postgres"
    };
    ensure!(
        manifest.backend == backend,
        "this is a {} backup and the configured database is {backend}",
        manifest.backend
    );

    // Where the secret goes: nothing there, or the same secret.
    let secret_target = settings.data_dir.join(SECRET_FILE);
    let secret = if has(SECRET_FILE) {
        let bytes = std::fs::read(dir.join(SECRET_FILE))?;
        match std::fs::read(&secret_target) {
            Ok(existing) if existing == bytes => None,
            Ok(_) => bail!(
                "{} holds another signing secret; restore into a fresh data folder",
                secret_target.display()
            ),
            Err(_) => Some(bytes),
        }
    } else {
        None
    };

    match &settings.database_url {
        DatabaseUrl::Sqlite(path) => {
            ensure!(has(SQLITE_FILE), "the backup holds no {SQLITE_FILE}");
            ensure!(
                !path.exists(),
                "{} already exists; restore into a new file (move the old one away first)",
                path.display()
            );
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)?;
            }
            let part = PathBuf::from(format!("{}.restoring", path.display()));
            std::fs::copy(dir.join(SQLITE_FILE), &part)
                .with_context(|| format!("cannot write {}", part.display()))?;
            std::fs::File::open(&part)?.sync_all()?;
            std::fs::rename(&part, path)?;
        }
        DatabaseUrl::Postgres(url) => {
            use diesel::prelude::*;
            use secrecy::ExposeSecret as _;
            ensure!(has(PG_FILE), "the backup holds no {PG_FILE}");
            #[derive(QueryableByName)]
            struct N {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            let mut conn = open(&settings.database_url)?;
            let tables = diesel::sql_query(
                "SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = 'public'",
            )
            .get_result::<N>(&mut conn)?
            .n;
            ensure!(
                tables == 0,
                "the database {} already holds tables; restore into a new, empty database \
                 (createdb NAME)",
                settings.database_url.redacted()
            );
            drop(conn);
            let mut cmd = pg_tool("pg_restore", url.expose_secret())?;
            cmd.args([
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
            ])
            .arg(dir.join(PG_FILE));
            run_tool(cmd, "pg_restore")?;
        }
    }
    if let Some(bytes) = secret {
        std::fs::create_dir_all(&settings.data_dir)?;
        write_private(&secret_target, &bytes)?;
    }

    let mut conn = open(&settings.database_url)?;
    let applied = db::run_migrations(&mut conn)?;
    let wrong = db::tallies::verify(&mut conn)?;
    ensure!(
        wrong.is_empty(),
        "restored, but the dashboards' tallies differ from the rows: {wrong:?}; run `tungnha \
         rebuild-tallies`"
    );
    println!(
        "Restored the backup of {} into {}{}.",
        manifest.created_at,
        settings.database_url.redacted(),
        if applied.is_empty() {
            String::new()
        } else {
            format!(" and applied {} newer migrations", applied.len())
        }
    );
    match manifest.jwt_secret.as_str() {
        "in_configuration" => println!(
            "The token-signing secret was set in the configuration: set the same jwt_secret here, \
             or every session signs in again."
        ),
        "none" => println!("The backup held no signing secret: every session signs in again."),
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_leaves_the_url_for_pgpassword() {
        let (url, password) =
            pg_connection("postgres://tungnha:p%40ss%2Fw@db.internal:5433/tungnha?sslmode=require")
                .expect("parses");
        assert_eq!(
            url,
            "postgres://tungnha@db.internal:5433/tungnha?sslmode=require"
        );
        assert_eq!(password.as_deref(), Some("p@ss/w"));
        let (url, password) = pg_connection("postgres://postgres@127.0.0.1:5432/x").expect("ok");
        assert_eq!(url, "postgres://postgres@127.0.0.1:5432/x");
        assert_eq!(password, None);
    }
}
