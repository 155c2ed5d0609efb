use std::io::Write;
use std::process::{Command, Stdio};

use crate::both_backends;
use crate::helpers::{Backend, TestApp, TestDatabase};

fn tungnha(db_url: &str, args: &[&str], stdin: &str) -> std::process::Output {
    let empty_config = tempfile::tempdir().expect("dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_tungnha"))
        .args(args)
        .env("TUNGNHA_DATABASE_URL", db_url)
        .env("TUNGNHA_CONFIG_DIR", empty_config.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tungnha");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

both_backends!(create_admin_reads_the_password_from_stdin_and_the_admin_can_log_in);

async fn create_admin_reads_the_password_from_stdin_and_the_admin_can_log_in(app: TestApp) {
    let url = app.db.url_string();
    let out = tungnha(
        &url,
        &["create-admin", "--username", "Quan.Tri"],
        "mật khẩu rất dài\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let login = app.login("quan.tri", "mật khẩu rất dài").await;
    assert_eq!(login["user"]["role"], "admin");
    assert_eq!(login["user"]["display_name"], "Quản trị hệ thống");

    // The same name twice is refused, and a short password never creates anyone.
    let again = tungnha(
        &url,
        &["create-admin", "--username", "quan.tri"],
        "another long password\n",
    );
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let short = tungnha(&url, &["create-admin", "--username", "other"], "short\n");
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("at least 8"));
    let res = app
        .post_json(
            "/api/v1/auth/login",
            &serde_json::json!({"username": "other", "password": "short"}),
        )
        .await;
    assert_eq!(res.status(), 401);
}

#[test]
fn a_bad_setting_stops_start_up_and_names_the_variable() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("x.db").display());
    let out = Command::new(env!("CARGO_BIN_EXE_tungnha"))
        .arg("serve")
        .env("TUNGNHA_DATABASE_URL", &url)
        .env("TUNGNHA_CONFIG_DIR", dir.path())
        .env("TUNGNHA_DB_POOL_SIZE", "many")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("TUNGNHA_DB_POOL_SIZE"), "{stderr}");

    let out = Command::new(env!("CARGO_BIN_EXE_tungnha"))
        .arg("migrate")
        .env("TUNGNHA_CONFIG_DIR", dir.path())
        .env("TUNGNHA_DATABASE_URL", "mysql://localhost/x")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("TUNGNHA_DATABASE_URL"));
}

#[test]
fn settings_files_are_read_and_the_environment_wins() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("default.toml"),
        "bind = \"127.0.0.1:9\"\ndb_pool_size = 3\n",
    )
    .expect("write");
    std::fs::write(dir.path().join("local.toml"), "db_pool_size = 5\n").expect("write");
    std::env::set_var("TUNGNHA_BIND", "127.0.0.1:7");
    let s = tungnha::config::Settings::load(dir.path()).expect("valid");
    std::env::remove_var("TUNGNHA_BIND");
    assert_eq!(s.bind.to_string(), "127.0.0.1:7");
    assert_eq!(s.db_pool_size, 5);
}

#[test]
fn backup_copies_a_live_sqlite_database() {
    let db = TestDatabase::new(Backend::Sqlite);
    let url = db.url_string();
    let out = tungnha(
        &url,
        &["create-admin", "--username", "admin"],
        "a long enough password\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Keep a writer connection open during the backup, as a running server would.
    let _live = db.connect();
    let target = db.dir.path().join("backups/tungnha-backup.db");
    let out = tungnha(&url, &["backup", target.to_str().expect("utf8")], "");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let copy = tungnha::config::DatabaseUrl::Sqlite(target.clone());
    let mut conn = tungnha::db::DbManager::new(copy)
        .establish()
        .expect("open backup");
    let user = tungnha::db::users::find_by_username(&mut conn, "admin")
        .expect("query")
        .expect("admin in backup");
    assert_eq!(user.role, "admin");

    // A second backup never overwrites the first.
    let out = tungnha(&url, &["backup", target.to_str().expect("utf8")], "");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
}

#[test]
#[cfg_attr(
    not(tungnha_postgres),
    ignore = "no PostgreSQL: set TEST_DATABASE_URL (make test does when a server answers on 127.0.0.1:5432)"
)]
fn backup_on_postgres_points_to_pg_dump() {
    let Some(_) = crate::helpers::postgres_base_url() else {
        return;
    };
    let db = TestDatabase::new(Backend::Postgres);
    let out = tungnha(&db.url_string(), &["backup", "/tmp/never-written.db"], "");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
    assert!(!std::path::Path::new("/tmp/never-written.db").exists());
}
