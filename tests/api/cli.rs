use std::io::Write;
use std::process::{Command, Stdio};

use crate::both_backends;
use crate::helpers::TestApp;

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

both_backends!(attachment_files_of_earlier_versions_move_into_the_database);

/// Earlier versions kept attachments as files under `data_dir/attachments/`. Starting or migrating
/// copies each into the database (checked against its recorded hash), so the guide still shows it
/// and every instance serves it; a file that does not match its hash is left out.
async fn attachment_files_of_earlier_versions_move_into_the_database(app: TestApp) {
    use diesel::prelude::*;
    use tungnha::db::schema::attachment_contents as contents;
    let f = app.fixture().await;
    let guide = crate::materials::draft(&app, &f.police.token, "Hướng dẫn cũ").await;
    let guide = guide["id"].as_str().expect("id");
    let mut ids = vec![];
    for name in ["a.png", "b.png"] {
        let res = crate::materials::upload(
            &app,
            &f.police.token,
            guide,
            name,
            crate::materials::PNG.to_vec(),
        )
        .await;
        assert_eq!(res.status(), 201);
        ids.push(
            res.json::<serde_json::Value>().await.expect("json")["id"]
                .as_str()
                .expect("id")
                .to_owned(),
        );
    }
    // As an earlier version left them: rows without contents, files on disk (one damaged).
    diesel::delete(contents::table)
        .execute(&mut app.conn())
        .expect("delete");
    let folder = app.settings.data_dir.join("attachments");
    std::fs::create_dir_all(&folder).expect("dir");
    std::fs::write(folder.join(&ids[0]), crate::materials::PNG).expect("write");
    let mut damaged = crate::materials::PNG.to_vec();
    damaged[20] ^= 1;
    std::fs::write(folder.join(&ids[1]), damaged).expect("write");

    let empty_config = tempfile::tempdir().expect("dir");
    let out = Command::new(env!("CARGO_BIN_EXE_tungnha"))
        .arg("migrate")
        .env("TUNGNHA_DATABASE_URL", app.db.url_string())
        .env("TUNGNHA_CONFIG_DIR", empty_config.path())
        .env("TUNGNHA_DATA_DIR", &app.settings.data_dir)
        .output()
        .expect("run migrate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("copied 1 attachment files"));
    let stored: Vec<String> = contents::table
        .select(contents::attachment_id)
        .load(&mut app.conn())
        .expect("contents");
    assert_eq!(stored, [ids[0].clone()], "the damaged file is left out");
    let res = app
        .get_authed(&format!("/api/v1/attachments/{}", ids[0]), &f.police.token)
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.bytes().await.expect("bytes").as_ref(),
        crate::materials::PNG
    );
}
