//! Sync under injected faults (DESIGN §5, and §7: "records lost or duplicated across injected network
//! and process faults: 0").
//!
//! The real server binary runs as a child process on a database seeded by `tungnha seed-demo`. The
//! harness kills it with SIGKILL in the middle of pushes and restarts it on the same database and port,
//! while a simulated phone drops requests and replies, repeats and reorders batches, mixes old records
//! into new batches and retries from its outbox, clearing a record only on `applied` or `duplicate`.
//! The truth is read from the database at the end. Each test runs on SQLite and, when
//! `TEST_DATABASE_URL` is set, on PostgreSQL.
//!
//! The random faults also take the storage away from a server that keeps running. On PostgreSQL the
//! test's database stops accepting connections and every session on it is ended (the cluster, which
//! other tests share, stays up), then connections are allowed again. On SQLite the database lives on a
//! small tmpfs the test mounts (it runs as root, here and in CI; a failed mount fails the test), which
//! a filler file fills to ENOSPC while the phone pushes and retries, then is emptied again. During such
//! a fault the server may answer 503 with `database_unavailable` or `storage_full` and `Retry-After`
//! (the phone keeps the batch); nothing else, and once the storage is back it serves again.
//!
//! Everything the client does comes from a seeded RNG. Delays only decide where a fault lands (before,
//! during or after the server's transaction); no assertion depends on how long anything took, and every
//! outcome of a race is a valid one the assertions accept.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use rand::rngs::ChaCha8Rng;
use rand::{RngExt, SeedableRng};
use serde_json::{json, Value};
use tungnha::db::schema::{assistance_items, assistance_records, assistance_residents, devices};

use crate::helpers::{postgres_base_url, Backend, TestDatabase};

const BIN: &str = env!("CARGO_BIN_EXE_tungnha");
const VOLUNTEER: &str = "tinhnguyen.phuloc";
const PERSON_SERVICES: [&str; 5] = [
    "vneid_level2",
    "payment_account",
    "smart_haiphong",
    "e_wallet",
    "digital_signature",
];
const OUTCOMES: [&str; 4] = ["done", "assisted", "declined", "needs_follow_up"];

mod a_server_killed_mid_batch_keeps_each_record_once {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        killed_mid_batch(Backend::Sqlite).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[cfg_attr(
        not(tungnha_postgres),
        ignore = "no PostgreSQL: set TEST_DATABASE_URL (make test does when a server answers on 127.0.0.1:5432)"
    )]
    async fn postgres() {
        if postgres_base_url().is_some() {
            killed_mid_batch(Backend::Postgres).await
        }
    }
}

/// 5,000 faults per backend (`CHAOS_FAULTS` changes it): 10,000 across SQLite and PostgreSQL, about one
/// in a hundred a storage fault (PostgreSQL away, or SQLite's disk full).
mod thousands_of_random_faults_lose_and_duplicate_nothing {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        random_faults(Backend::Sqlite).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[cfg_attr(
        not(tungnha_postgres),
        ignore = "no PostgreSQL: set TEST_DATABASE_URL (make test does when a server answers on 127.0.0.1:5432)"
    )]
    async fn postgres() {
        if postgres_base_url().is_some() {
            random_faults(Backend::Postgres).await
        }
    }
}

/// A working day compressed into a few minutes: memory levels off instead of growing.
mod memory_levels_off_over_a_compressed_day {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite() {
        soak(Backend::Sqlite).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    #[cfg_attr(
        not(tungnha_postgres),
        ignore = "no PostgreSQL: set TEST_DATABASE_URL (make test does when a server answers on 127.0.0.1:5432)"
    )]
    async fn postgres() {
        if postgres_base_url().is_some() {
            soak(Backend::Postgres).await
        }
    }
}

/// `tungnha backup DIR` while phones keep pushing, then `tungnha restore DIR` into a new database and
/// data folder, and a server started there: it passes the integrity check, holds every record
/// acknowledged before the backup began, serves the guide's attachment and accepts the tokens the
/// first server signed (the secret came back too). A second backup taken once the writes stopped
/// restores into a database equal to the live one, table by table and row by row.
mod a_backup_taken_under_live_writes_restores_into_a_working_server {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn sqlite() {
        backup_and_restore(Backend::Sqlite).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    #[cfg_attr(
        not(tungnha_postgres),
        ignore = "no PostgreSQL: set TEST_DATABASE_URL (make test does when a server answers on 127.0.0.1:5432)"
    )]
    async fn postgres() {
        if postgres_base_url().is_some() {
            backup_and_restore(Backend::Postgres).await
        }
    }
}

/// Runs `tungnha` with the database and data folder of `db` (as an operator would on that server).
fn operator(db: &TestDatabase, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .current_dir(db.dir.path())
        .env("TUNGNHA_DATABASE_URL", db.url_string())
        .env("TUNGNHA_CONFIG_DIR", db.dir.path())
        .env("TUNGNHA_DATA_DIR", db.dir.path().join("data"))
        .env("RUST_LOG", "warn")
        .output()
        .expect("run tungnha")
}

fn succeeded(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn failed(out: &std::process::Output) -> String {
    assert!(
        !out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

async fn backup_and_restore(backend: Backend) {
    let db = TestDatabase::new(backend);
    let server = ServerProcess::seeded(&db, 30).await;
    let base = server.base();
    let http = http();
    let token = login(&http, &base, VOLUNTEER).await;
    let households = village(&http, &base, &token).await;

    // A published guide with a picture.
    let police = login(&http, &base, "congan").await;
    let guide: Value = http
        .post(format!("{base}/api/v1/materials"))
        .bearer_auth(&police)
        .json(&json!({"department": "police", "title": "Kích hoạt VNeID mức 2",
            "summary": "Tại Công an xã.", "body": "1. Mang căn cước.", "service_codes": ["vneid_level2"]}))
        .send()
        .await
        .expect("create guide")
        .json()
        .await
        .expect("guide");
    let guide_id = guide["id"].as_str().expect("guide id").to_owned();
    let picture = crate::materials::PNG;
    let res = http
        .post(format!(
            "{base}/api/v1/materials/{guide_id}/attachments?file_name=anh.png"
        ))
        .bearer_auth(&police)
        .header("content-type", "application/octet-stream")
        .body(picture.to_vec())
        .send()
        .await
        .expect("upload");
    assert_eq!(res.status(), 201);
    let attachment = res.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("attachment id")
        .to_owned();

    let batch = |n: usize, tag: &str| -> Vec<Value> {
        (0..n)
            .map(|i| {
                let (h, people) = &households[i % households.len()];
                json!({"kind": "assistance_record", "id": uuid::Uuid::now_v7().to_string(),
                    "op": "create", "data": {"household_id": h, "resident_ids": [people[0]],
                    "occurred_at": "2026-11-20T02:00:00Z", "channel": "house_visit", "notes": tag,
                    "items": [{"service_code": "vneid_level2", "outcome": "assisted"}]}})
            })
            .collect()
    };
    let before: Vec<Value> = batch(200, "before");
    let ids: Vec<String> = before
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect();
    let (status, _) = push(
        http.clone(),
        base.clone(),
        token.clone(),
        "bk".into(),
        before,
    )
    .await
    .expect("push");
    assert_eq!(status, 200);
    // Writers keep going while the backup runs.
    let writer = {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        let batches: Vec<Vec<Value>> = (0..10).map(|_| batch(50, "during")).collect();
        tokio::spawn(async move {
            for b in batches {
                push(http.clone(), base.clone(), token.clone(), "bk".into(), b)
                    .await
                    .expect("push during the backup");
            }
        })
    };
    let under_writes = db.dir.path().join("backups/under-writes");
    let said = succeeded(&operator(
        &db,
        &["backup", under_writes.to_str().expect("utf8")],
    ));
    assert!(said.contains("jwt-secret"), "{said}");
    writer.await.expect("writer");

    // A backup never goes into a folder that holds something.
    let again = failed(&operator(
        &db,
        &["backup", under_writes.to_str().expect("utf8")],
    ));
    assert!(again.contains("not an empty folder"), "{again}");

    // Restore into a new database and data folder, then a server there.
    let fresh = TestDatabase::new(backend);
    succeeded(&operator(
        &fresh,
        &["restore", under_writes.to_str().expect("utf8")],
    ));
    if backend == Backend::Sqlite {
        let mut conn = fresh.connect();
        let check: Vec<String> = diesel::sql_query("PRAGMA integrity_check")
            .load::<IntegrityRow>(&mut conn)
            .expect("integrity check")
            .into_iter()
            .map(|r| r.integrity_check)
            .collect();
        assert_eq!(check, ["ok"]);
    }
    // A second restore into the same place is refused and changes nothing.
    let twice = failed(&operator(
        &fresh,
        &["restore", under_writes.to_str().expect("utf8")],
    ));
    assert!(twice.contains("already"), "{twice}");
    let restored = ServerProcess::on(&fresh).await;
    let rbase = restored.base();
    // The first server's token works here: the signing secret came back.
    let res = http
        .get(format!("{rbase}/api/v1/households?limit=1"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("old token");
    assert_eq!(res.status(), 200, "a token signed before the backup");
    let mut found = 0;
    for id in &ids {
        let res = http
            .get(format!("{rbase}/api/v1/assistance-records/{id}"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("read a record");
        if res.status() == 200 {
            found += 1;
        }
    }
    assert_eq!(found, ids.len(), "records acknowledged before the backup");
    let file = http
        .get(format!("{rbase}/api/v1/attachments/{attachment}"))
        .bearer_auth(&police)
        .send()
        .await
        .expect("attachment");
    assert_eq!(file.status(), 200);
    assert_eq!(file.bytes().await.expect("bytes").as_ref(), picture);
    drop(restored);

    // Quiet now: a backup restores into an equal database.
    let quiet = db.dir.path().join("backups/quiet");
    succeeded(&operator(&db, &["backup", quiet.to_str().expect("utf8")]));
    let twin = TestDatabase::new(backend);
    succeeded(&operator(
        &twin,
        &["restore", quiet.to_str().expect("utf8")],
    ));
    let (live, copy) = (table_digests(&db), table_digests(&twin));
    assert!(
        live.len() > 30,
        "every table is compared: {:?}",
        live.keys()
    );
    assert!(live["attachment_contents"].0 == 1 && live["assistance_records"].0 >= 700);
    assert_eq!(live, copy, "every table and row of the restored database");
    assert_eq!(
        std::fs::read(db.dir.path().join("data/jwt-secret")).expect("secret"),
        std::fs::read(twin.dir.path().join("data/jwt-secret")).expect("restored secret")
    );

    // A damaged backup is refused before anything is written.
    let damaged = TestDatabase::new(backend);
    let file = if backend == Backend::Sqlite {
        "tungnha.db"
    } else {
        "tungnha.dump"
    };
    let mut bytes = std::fs::read(quiet.join(file)).expect("backup file");
    let at = bytes.len() / 2;
    bytes[at] ^= 0xff;
    std::fs::write(quiet.join(file), bytes).expect("damage");
    let refused = failed(&operator(
        &damaged,
        &["restore", quiet.to_str().expect("utf8")],
    ));
    assert!(
        refused.contains("differs from what the backup recorded"),
        "{refused}"
    );
    assert!(!damaged.dir.path().join("data/jwt-secret").exists());
    assert!(table_digests(&damaged).is_empty(), "nothing was restored");
    drop(server);
}

/// Every table of the database: its row count and a SHA-256 of all its rows as text, sorted.
fn table_digests(db: &TestDatabase) -> BTreeMap<String, (i64, String)> {
    use sha2::Digest as _;
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = diesel::sql_types::Text)]
        name: String,
    }
    #[derive(QueryableByName)]
    struct Rows {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
        #[diesel(sql_type = diesel::sql_types::Text)]
        v: String,
    }
    let mut conn = db.connect();
    let sqlite = db.url_string().starts_with("sqlite:");
    let tables: Vec<String> = diesel::sql_query(if sqlite {
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    } else {
        "SELECT table_name::text AS name FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1"
    })
    .load::<Name>(&mut conn)
    .expect("tables")
    .into_iter()
    .map(|t| t.name)
    .collect();
    let mut out = BTreeMap::new();
    for t in tables {
        let sql = if sqlite {
            let columns: Vec<String> =
                diesel::sql_query(format!("SELECT name FROM pragma_table_info('{t}')"))
                    .load::<Name>(&mut conn)
                    .expect("columns")
                    .into_iter()
                    .map(|c| format!("quote(\"{}\")", c.name))
                    .collect();
            format!(
                "SELECT count(*) AS n, coalesce(group_concat(r, char(10)), '') AS v FROM \
                 (SELECT {} AS r FROM \"{t}\" ORDER BY r)",
                columns.join(" || ',' || ")
            )
        } else {
            format!(
                "SELECT count(*) AS n, coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '') AS v \
                 FROM \"{t}\" t"
            )
        };
        let rows = diesel::sql_query(sql)
            .get_result::<Rows>(&mut conn)
            .expect("rows");
        out.insert(
            t,
            (
                rows.n,
                format!("{:x}", sha2::Sha256::digest(rows.v.as_bytes())),
            ),
        );
    }
    out
}

#[derive(diesel::QueryableByName)]
struct IntegrityRow {
    #[diesel(sql_type = diesel::sql_types::Text)]
    integrity_check: String,
}

/// A webhook delivery queued while its receiver is down, with a try already failed, is still sent
/// after the server is killed and started again: the outbox is a table, not memory.
mod webhook_deliveries_survive_a_killed_server {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        deliveries_survive_a_kill(Backend::Sqlite).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[cfg_attr(
        not(tungnha_postgres),
        ignore = "no PostgreSQL: set TEST_DATABASE_URL (make test does when a server answers on 127.0.0.1:5432)"
    )]
    async fn postgres() {
        if postgres_base_url().is_some() {
            deliveries_survive_a_kill(Backend::Postgres).await
        }
    }
}

async fn deliveries_survive_a_kill(backend: Backend) {
    let db = TestDatabase::new(backend);
    std::fs::write(
        db.dir.path().join("local.toml"),
        "webhook_poll_ms = 20\nwebhook_retry_base_ms = 200\nwebhook_max_attempts = 30\n",
    )
    .expect("local.toml");
    let mut server = ServerProcess::seeded(&db, 3).await;
    let client = reqwest::Client::new();
    let base = server.base();
    let admin = login(&client, &base, "quantri").await;
    let volunteer = login(&client, &base, VOLUNTEER).await;
    // A port nobody listens on yet: every try fails until the receiver comes up.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("its address")
        .port();
    let res = client
        .post(format!("{base}/api/v1/webhooks"))
        .bearer_auth(&admin)
        .json(&json!({"name": "IOC", "url": format!("http://127.0.0.1:{port}/hook"), "events": ["difficulty.opened"]}))
        .send()
        .await
        .expect("subscribe");
    assert_eq!(res.status(), 201);
    let hook = res.json::<Value>().await.expect("json")["webhook"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let me: Value = client
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&volunteer)
        .send()
        .await
        .expect("me")
        .json()
        .await
        .expect("json");
    let village = me["village_ids"][0].as_str().expect("village").to_owned();
    let res = client
        .post(format!("{base}/api/v1/sync/push"))
        .bearer_auth(&volunteer)
        .json(&json!({"device_id": "phone", "records": [crate::webhooks::difficulty(&village, "Loa hỏng")]}))
        .send()
        .await
        .expect("push");
    assert_eq!(res.status(), 200);

    let deliveries = |status: &'static str| {
        let (client, base, admin, hook) =
            (client.clone(), base.clone(), admin.clone(), hook.clone());
        async move {
            let v: Value = client
                .get(format!(
                    "{base}/api/v1/webhooks/{hook}/deliveries?status={status}"
                ))
                .bearer_auth(&admin)
                .send()
                .await
                .expect("deliveries")
                .json()
                .await
                .expect("json");
            v["items"].as_array().expect("items").clone()
        }
    };
    let mut tried = false;
    for _ in 0..600 {
        let pending = deliveries("pending").await;
        if pending
            .first()
            .is_some_and(|d| d["attempts"].as_i64() >= Some(1))
        {
            tried = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(tried, "the first try never failed");

    server.kill();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind the receiver's port");
    let rx = crate::webhooks::receiver_on(listener);
    server.spawn().await;
    let mut delivered = vec![];
    for _ in 0..600 {
        delivered = deliveries("delivered").await;
        if !delivered.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert_eq!(delivered.len(), 1, "not delivered after the restart");
    assert_eq!(delivered[0]["payload"]["data"]["title"], "Loa hỏng");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let seen = rx.seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 1, "sent once");
    assert!(deliveries("pending").await.is_empty());
    server.kill();
}

// ---------------------------------------------------------------- the server process

/// The server binary on one database, killed with SIGKILL and restarted on the same port at will.
struct ServerProcess {
    child: Option<Child>,
    port: u16,
    db_url: String,
    dir: PathBuf,
    starts: usize,
    /// Extra environment for the server process (not for seeding).
    env: Vec<(&'static str, &'static str)>,
}

impl ServerProcess {
    /// Seeds the demo commune with the CLI, then starts the server.
    async fn seeded(db: &TestDatabase, households: usize) -> ServerProcess {
        ServerProcess::seeded_with(db, households, vec![]).await
    }

    /// As `seeded`, with extra environment for the server process.
    async fn seeded_with(
        db: &TestDatabase,
        households: usize,
        env: Vec<(&'static str, &'static str)>,
    ) -> ServerProcess {
        let db_url = db.url_string();
        let dir = db.dir.path().to_path_buf();
        let out = Command::new(BIN)
            .args(["seed-demo", "--households", &households.to_string()])
            .current_dir(&dir)
            .env("TUNGNHA_DATABASE_URL", &db_url)
            .env("TUNGNHA_CONFIG_DIR", &dir)
            .env("TUNGNHA_DATA_DIR", dir.join("data"))
            .env("RUST_LOG", "warn")
            .output()
            .expect("run seed-demo");
        assert!(
            out.status.success(),
            "seed-demo failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("its address")
            .port();
        let mut server = ServerProcess {
            child: None,
            port,
            db_url,
            dir,
            starts: 0,
            env,
        };
        server.spawn().await;
        server
    }

    /// Starts a server on an existing database (no seeding).
    async fn on(db: &TestDatabase) -> ServerProcess {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("a free port")
            .local_addr()
            .expect("its address")
            .port();
        let mut server = ServerProcess {
            child: None,
            port,
            db_url: db.url_string(),
            dir: db.dir.path().to_path_buf(),
            starts: 0,
            env: vec![],
        };
        server.spawn().await;
        server
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts the process and waits until `/healthz` answers.
    async fn spawn(&mut self) {
        self.starts += 1;
        let log_path = self.dir.join(format!("server-{}.log", self.starts));
        let log = std::fs::File::create(&log_path).expect("server log file");
        let child = Command::new(BIN)
            .arg("serve")
            .current_dir(&self.dir)
            .env("TUNGNHA_DATABASE_URL", &self.db_url)
            .env("TUNGNHA_BIND", format!("127.0.0.1:{}", self.port))
            .env("TUNGNHA_DATA_DIR", self.dir.join("data"))
            .env("TUNGNHA_CONFIG_DIR", &self.dir)
            .env("RUST_LOG", "warn")
            // The webhook receivers of these tests listen on loopback, which an operator must
            // allow; no name server is ever asked.
            .env("TUNGNHA_WEBHOOK_ALLOWED_TARGETS", "127.0.0.1")
            .env("TUNGNHA_WEBHOOK_DNS", "false")
            .envs(self.env.iter().copied())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start the server");
        self.child = Some(child);
        let probe = reqwest::Client::builder()
            .timeout(Duration::from_secs(2))
            .pool_max_idle_per_host(0)
            .build()
            .expect("client");
        let url = format!("{}/healthz", self.base());
        // Bounded so a server that never comes up fails the test instead of hanging it.
        for _ in 0..1200 {
            let exited = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().expect("poll the server process"));
            if let Some(status) = exited {
                panic!(
                    "the server exited ({status}) at start {}: {}",
                    self.starts,
                    std::fs::read_to_string(&log_path).unwrap_or_default()
                );
            }
            if let Ok(res) = probe.get(&url).send().await {
                if res.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!(
            "the server did not answer /healthz at start {}: {}",
            self.starts,
            std::fs::read_to_string(&log_path).unwrap_or_default()
        );
    }

    /// The first `n` lines of the server's logs, over all its starts, about an answer 500 or a panic,
    /// without the terminal colours.
    fn logged_errors(&self, n: usize) -> Vec<String> {
        let plain = |line: &str| {
            let mut out = String::new();
            let mut chars = line.chars();
            while let Some(c) = chars.next() {
                if c == '\u{1b}' {
                    chars.by_ref().find(|c| *c == 'm');
                } else {
                    out.push(c);
                }
            }
            out
        };
        (1..=self.starts)
            .filter_map(|i| std::fs::read_to_string(self.dir.join(format!("server-{i}.log"))).ok())
            .flat_map(|log| {
                log.lines()
                    .map(plain)
                    .filter(|l| l.contains("internal error") || l.contains("panicked"))
                    .collect::<Vec<_>>()
            })
            .take(n)
            .collect()
    }

    /// SIGKILL: no graceful shutdown, no flushing, in-flight requests die with the process.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL the server");
            child.wait().expect("reap the server");
        }
    }

    async fn restart(&mut self) {
        self.kill();
        self.spawn().await;
    }

    /// Writes a whole push request on a fresh connection without reading the answer; the caller kills
    /// the server right after. The stream is returned so the connection stays open until then.
    fn write_push_raw(&self, token: &str, body: &Value) -> std::net::TcpStream {
        let body = body.to_string();
        let mut stream =
            std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connect to the server");
        let head = format!(
            "POST /api/v1/sync/push HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nAuthorization: Bearer {token}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.port,
            body.len()
        );
        stream
            .write_all(head.as_bytes())
            .and_then(|()| stream.write_all(body.as_bytes()))
            .and_then(|()| stream.flush())
            .expect("write the request");
        stream
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

// ---------------------------------------------------------------- the storage taken away

/// A tmpfs of a few MiB mounted for one test, for a SQLite database whose disk the test can fill.
/// Unmounted when dropped; drop it after the server that has the database open.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    const FILLER: &str = "filler";

    /// Mounts the tmpfs on a fresh folder. The test needs it, so a failure fails the test.
    fn mount(mib: usize) -> SmallDisk {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mib}m"), "tmpfs"])
            .arg(dir.path())
            .output();
        match out {
            Ok(out) if out.status.success() => SmallDisk { dir },
            Ok(out) => panic!(
                "cannot mount a {mib} MiB tmpfs on {} for the disk-full faults (the test runs as \
                 root, as in CI): {}",
                dir.path().display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ),
            Err(e) => panic!("cannot run mount for the disk-full faults: {e}"),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a filler file until the file system refuses with ENOSPC.
    fn fill(&self) {
        let mut file = std::fs::File::create(self.path().join(Self::FILLER)).expect("filler file");
        let chunk = vec![0x5a_u8; 1 << 20];
        // Whole MiB first, then pages, so the last free page is taken too.
        for size in [chunk.len(), 4096] {
            loop {
                match file.write(&chunk[..size]) {
                    Ok(n) if n == size => continue,
                    // A short write: the file system took what it had room for.
                    Ok(_) => break,
                    Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
                    Err(e) => panic!("filling the small disk: {e}"),
                }
            }
        }
    }

    fn free(&self) {
        std::fs::remove_file(self.path().join(Self::FILLER)).expect("remove the filler");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let unmounted = Command::new("umount")
            .arg(self.dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !unmounted {
            // Something still holds a file open (a server that outlived a panic): detach it now,
            // the kernel frees the tmpfs when the last file closes.
            let _ = Command::new("umount")
                .arg("-l")
                .arg(self.dir.path())
                .status();
        }
    }
}

/// The test's PostgreSQL database going away from the server's point of view and coming back: new
/// connections are refused and every session on it is ended, then connections are allowed again.
/// The cluster stays up; other tests use it. Runs from a connection to the maintenance database.
struct PgOutage {
    admin: diesel::PgConnection,
    name: String,
    down: bool,
}

impl PgOutage {
    fn new(db: &TestDatabase) -> Option<PgOutage> {
        let (base, name) = db.postgres_names()?;
        let admin = diesel::PgConnection::establish(base).expect("connect to the maintenance DB");
        Some(PgOutage {
            admin,
            name: name.to_owned(),
            down: false,
        })
    }

    /// Refuses new connections, then ends every session on the database.
    fn begin(&mut self) {
        use diesel::connection::SimpleConnection;
        self.down = true;
        self.admin
            .batch_execute(&format!(
                "ALTER DATABASE {} ALLOW_CONNECTIONS false",
                self.name
            ))
            .expect("refuse connections");
        diesel::sql_query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = $1 AND pid <> pg_backend_pid()",
        )
        .bind::<diesel::sql_types::Text, _>(&self.name)
        .execute(&mut self.admin)
        .expect("end the sessions");
    }

    fn end(&mut self) {
        use diesel::connection::SimpleConnection;
        self.admin
            .batch_execute(&format!(
                "ALTER DATABASE {} ALLOW_CONNECTIONS true",
                self.name
            ))
            .expect("allow connections");
        self.down = false;
    }
}

impl Drop for PgOutage {
    fn drop(&mut self) {
        if self.down {
            use diesel::connection::SimpleConnection;
            let _ = self.admin.batch_execute(&format!(
                "ALTER DATABASE {} ALLOW_CONNECTIONS true",
                self.name
            ));
        }
    }
}

// ---------------------------------------------------------------- the client side

/// No connection reuse: after a kill, a pooled connection would be dead.
fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client")
}

async fn login(http: &reqwest::Client, base: &str, username: &str) -> String {
    let res = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": username, "password": tungnha::seed::DEMO_PASSWORD}))
        .send()
        .await
        .expect("login request");
    assert_eq!(res.status(), 200, "login of {username}");
    let body: Value = res.json().await.expect("login json");
    body["access_token"]
        .as_str()
        .expect("access token")
        .to_owned()
}

async fn get_json(http: &reqwest::Client, url: &str, token: &str) -> Value {
    let res = http.get(url).bearer_auth(token).send().await.expect("GET");
    assert_eq!(res.status(), 200, "GET {url}");
    res.json().await.expect("json")
}

/// The volunteer's households that have residents, each with its residents' ids.
async fn village(http: &reqwest::Client, base: &str, token: &str) -> Vec<(String, Vec<String>)> {
    let page = get_json(http, &format!("{base}/api/v1/households?limit=200"), token).await;
    let mut out = vec![];
    for h in page["items"].as_array().expect("households") {
        if h["residents_count"].as_u64().unwrap_or(0) == 0 {
            continue;
        }
        let id = h["id"].as_str().expect("household id").to_owned();
        let full = get_json(http, &format!("{base}/api/v1/households/{id}"), token).await;
        let residents: Vec<String> = full["residents"]
            .as_array()
            .expect("residents")
            .iter()
            .map(|r| r["id"].as_str().expect("resident id").to_owned())
            .collect();
        if !residents.is_empty() {
            out.push((id, residents));
        }
    }
    assert!(
        !out.is_empty(),
        "the volunteer has households with residents"
    );
    out
}

/// A record as the phone made it: the exact body it sends every time, and what it should leave behind.
#[derive(Clone)]
struct Created {
    body: Value,
    household: String,
    items: usize,
    residents: usize,
}

/// A valid house visit with a UUIDv4 or v7 id, 1–2 residents and 1–3 services, in the past three days.
fn new_record(
    rng: &mut ChaCha8Rng,
    households: &[(String, Vec<String>)],
    now: DateTime<Utc>,
) -> (String, Created) {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes);
    let id = if rng.random_bool(0.5) {
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    } else {
        let mut tail = [0u8; 10];
        tail.copy_from_slice(&bytes[..10]);
        let ms = u64::try_from(now.timestamp_millis()).expect("after 1970")
            - rng.random_range(0..86_400_000u64);
        uuid::Builder::from_unix_timestamp_millis(ms, &tail).into_uuid()
    }
    .to_string();
    let (household, residents) = &households[rng.random_range(0..households.len())];
    let helped_count = rng.random_range(1..=residents.len().min(2));
    let first = rng.random_range(0..residents.len());
    let helped: Vec<&String> = (0..helped_count)
        .map(|j| &residents[(first + j) % residents.len()])
        .collect();
    let item_count = rng.random_range(1..=3usize);
    let first_service = rng.random_range(0..PERSON_SERVICES.len());
    let items: Vec<Value> = (0..item_count)
        .map(|j| {
            let mut item = json!({
                "service_code": PERSON_SERVICES[(first_service + j) % PERSON_SERVICES.len()],
                "outcome": OUTCOMES[rng.random_range(0..OUTCOMES.len())],
            });
            if rng.random_bool(0.3) {
                item["note"] = json!("Đã hướng dẫn cài đặt");
            }
            item
        })
        .collect();
    let occurred = now - chrono::TimeDelta::seconds(rng.random_range(60..259_200i64));
    let mut data = json!({
        "household_id": household,
        "resident_ids": helped,
        "occurred_at": occurred.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "channel": "house_visit",
        "items": items,
    });
    if rng.random_bool(0.5) {
        data["notes"] = json!(format!("Lần thăm số {}", rng.random_range(1..1000)));
    }
    let body = json!({"kind": "assistance_record", "id": id, "op": "create", "data": data});
    (
        id,
        Created {
            body,
            household: household.clone(),
            items: item_count,
            residents: helped_count,
        },
    )
}

/// One push; `Err` when no answer came back (connection refused or cut, time-out).
async fn push(
    http: reqwest::Client,
    base: String,
    token: String,
    device: String,
    records: Vec<Value>,
) -> Result<(u16, Value), String> {
    push_answer(http, base, token, device, records)
        .await
        .map(|a| (a.status, a.body))
}

/// A push's answer with the `Retry-After` a refusal has to carry.
struct Answer {
    status: u16,
    retry_after: Option<String>,
    body: Value,
}

async fn push_answer(
    http: reqwest::Client,
    base: String,
    token: String,
    device: String,
    records: Vec<Value>,
) -> Result<Answer, String> {
    let res = http
        .post(format!("{base}/api/v1/sync/push"))
        .bearer_auth(&token)
        .json(&json!({"device_id": device, "records": records}))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let status = res.status().as_u16();
    let retry_after = res
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let text = res.text().await.map_err(|e| e.to_string())?;
    Ok(Answer {
        status,
        retry_after,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
    })
}

/// Every assistance record id in the database, and the numbers of item and resident rows.
fn stored(db: &TestDatabase) -> (Vec<String>, i64, i64) {
    let mut conn = db.connect();
    let ids: Vec<String> = assistance_records::table
        .select(assistance_records::id)
        .load(&mut conn)
        .expect("record ids");
    let items: i64 = assistance_items::table
        .count()
        .get_result(&mut conn)
        .expect("item count");
    let residents: i64 = assistance_residents::table
        .count()
        .get_result(&mut conn)
        .expect("resident count");
    (ids, items, residents)
}

/// Records the devices view says were stored, summed over all devices.
fn devices_applied(db: &TestDatabase) -> i64 {
    let counts: Vec<i64> = devices::table
        .select(devices::records_applied)
        .load(&mut db.connect())
        .expect("devices");
    counts.iter().sum()
}

/// Asserts the database holds exactly the created records: none missing, none twice, every item and
/// helped resident once.
fn assert_stored_exactly(db: &TestDatabase, created: &BTreeMap<String, Created>) {
    let (ids, items, residents) = stored(db);
    let set: BTreeSet<&String> = ids.iter().collect();
    let missing: Vec<&String> = created.keys().filter(|id| !set.contains(id)).collect();
    let extra: Vec<&&String> = set
        .iter()
        .filter(|id| !created.contains_key(**id))
        .collect();
    assert!(
        missing.is_empty(),
        "{} records lost, e.g. {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    assert!(
        extra.is_empty(),
        "{} records nobody created: {:?}",
        extra.len(),
        &extra[..extra.len().min(5)]
    );
    assert_eq!(ids.len(), created.len(), "rows of assistance_records");
    let want_items: usize = created.values().map(|c| c.items).sum();
    let want_residents: usize = created.values().map(|c| c.residents).sum();
    assert_eq!(items, want_items as i64, "rows of assistance_items");
    assert_eq!(
        residents, want_residents as i64,
        "rows of assistance_residents"
    );
    assert_eq!(
        devices_applied(db),
        created.len() as i64,
        "records_applied summed over devices"
    );
}

fn statuses(sent: &[Value], answer: &Value) -> Vec<String> {
    let results = answer["results"].as_array().expect("results");
    assert_eq!(results.len(), sent.len(), "one result per record: {answer}");
    sent.iter()
        .zip(results)
        .map(|(record, result)| {
            assert_eq!(result["id"], record["id"], "results in the order sent");
            result["status"].as_str().expect("status").to_owned()
        })
        .collect()
}

// ---------------------------------------------------------------- killed mid-batch

async fn killed_mid_batch(backend: Backend) {
    let db = TestDatabase::new(backend);
    let mut server = ServerProcess::seeded(&db, 30).await;
    let http = http();
    let base = server.base();
    let token = login(&http, &base, VOLUNTEER).await;
    let households = village(&http, &base, &token).await;
    assert!(stored(&db).0.is_empty(), "the demo has no records yet");

    let mut rng = ChaCha8Rng::seed_from_u64(6);
    let now = Utc::now();
    let created: Vec<(String, Created)> = (0..400)
        .map(|_| new_record(&mut rng, &households, now))
        .collect();
    let batches: Vec<Vec<Value>> = created
        .chunks(100)
        .map(|c| c.iter().map(|(_, r)| r.body.clone()).collect())
        .collect();
    let send = |b: usize| {
        push(
            http.clone(),
            base.clone(),
            token.clone(),
            "phone-a".into(),
            batches[b].clone(),
        )
    };

    // Batch 0 goes through and tells how long a batch takes on this machine.
    let started = Instant::now();
    let (status, answer) = send(0).await.expect("an answer to the first batch");
    let batch_time = started.elapsed();
    assert_eq!(status, 200, "{answer}");
    assert!(
        statuses(&batches[0], &answer)
            .iter()
            .all(|s| s == "applied"),
        "{answer}"
    );

    // Batch 1: the server is killed about halfway through the time a batch takes. Batch 2: it is
    // killed the moment the batch's records are visible in the database, i.e. committed, most likely
    // before the answer is on its way.
    let mut answered: Vec<Option<Vec<String>>> = vec![Some(vec![]), None, None, None];
    for b in [1, 2] {
        let in_flight = tokio::spawn(send(b));
        if b == 1 {
            tokio::time::sleep(batch_time / 2).await;
        } else {
            let last = batches[b].last().expect("a record")["id"]
                .as_str()
                .expect("id")
                .to_owned();
            let mut conn = db.connect();
            while !in_flight.is_finished() {
                let found: i64 = assistance_records::table
                    .filter(assistance_records::id.eq(&last))
                    .count()
                    .get_result(&mut conn)
                    .expect("look for the batch");
                if found > 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        server.kill();
        let first_try = in_flight.await.expect("the push task");
        server.spawn().await;
        if let Ok((200, answer)) = &first_try {
            // The answer made it out before the kill: the client has it and clears the batch.
            answered[b] = Some(statuses(&batches[b], answer));
        }
    }

    // Batch 3: the server is killed as soon as the whole request is written to the socket.
    let raw = server.write_push_raw(
        &token,
        &json!({"device_id": "phone-a", "records": batches[3]}),
    );
    server.kill();
    drop(raw);
    server.spawn().await;

    // The client retries every batch it got no answer for, with the same ids and bodies.
    let mut report = vec![];
    for b in 1..batches.len() {
        if answered[b].is_some() {
            report.push(format!("batch {b}: answered before the kill"));
            continue;
        }
        let (status, answer) = send(b).await.expect("an answer to the retry");
        assert_eq!(status, 200, "{answer}");
        let got = statuses(&batches[b], &answer);
        for (s, r) in got.iter().zip(&batches[b]) {
            assert!(
                s == "applied" || s == "duplicate",
                "the retry of {} got {s}: {answer}",
                r["id"]
            );
        }
        // One transaction per batch: after a kill, all of a batch is stored or none of it.
        let first = &got[0];
        assert!(
            got.iter().all(|s| s == first),
            "a killed batch was stored in part: {got:?}"
        );
        report.push(format!(
            "batch {b}: retry answered {first} (the kill landed {} the commit)",
            if first == "applied" {
                "before"
            } else {
                "after"
            }
        ));
        answered[b] = Some(got);
    }

    let created: BTreeMap<String, Created> = created.into_iter().collect();
    assert_stored_exactly(&db, &created);
    println!(
        "killed mid-batch on {backend:?}: {} records stored once each; {}",
        created.len(),
        report.join("; ")
    );
}

// ---------------------------------------------------------------- a thousand random faults

#[derive(Default, Debug)]
struct Faults {
    dropped_requests: usize,
    dropped_replies: usize,
    duplicates: usize,
    reorders: usize,
    mixed: usize,
    restarts: usize,
    lost_pull_replies: usize,
    /// PostgreSQL's sessions ended and new ones refused for a moment, under a push in flight.
    pg_outages: usize,
    /// SQLite's disk filled up under a push in flight, the phone pushing on, then space freed.
    disk_full: usize,
}

impl Faults {
    fn total(&self) -> usize {
        self.dropped_requests
            + self.dropped_replies
            + self.duplicates
            + self.reorders
            + self.mixed
            + self.restarts
            + self.lost_pull_replies
            + self.pg_outages
            + self.disk_full
    }
}

/// The phone: records it made, its outbox, and everything it was told.
struct Phone {
    http: reqwest::Client,
    base: String,
    token: String,
    device: String,
    rng: ChaCha8Rng,
    households: Vec<(String, Vec<String>)>,
    created: BTreeMap<String, Created>,
    /// Ids waiting for `applied` or `duplicate`, oldest first.
    outbox: Vec<String>,
    /// Ids the server answered `applied` or `duplicate` for, in that order.
    cleared: Vec<String>,
    cleared_set: BTreeSet<String>,
    /// How many times each id was answered `applied`: more than once would be a double application.
    applied: HashMap<String, usize>,
    /// Answers that must never happen to a valid record (conflict, rejected, a second `applied`).
    bad: Vec<String>,
    /// Pushes answered with a status other than 200, or a refusal other than the fault's own.
    server_errors: Vec<String>,
    /// Pushes refused during a storage fault, by problem code.
    refused: BTreeMap<String, usize>,
    answers: usize,
}

impl Phone {
    fn create(&mut self, n: usize) {
        let now = Utc::now();
        for _ in 0..n {
            let (id, record) = new_record(&mut self.rng, &self.households, now);
            self.outbox.push(id.clone());
            self.created.insert(id, record);
        }
    }

    fn bodies(&self, ids: &[String]) -> Vec<Value> {
        ids.iter().map(|id| self.created[id].body.clone()).collect()
    }

    fn send(
        &self,
        ids: &[String],
    ) -> impl std::future::Future<Output = Result<(u16, Value), String>> {
        push(
            self.http.clone(),
            self.base.clone(),
            self.token.clone(),
            self.device.clone(),
            self.bodies(ids),
        )
    }

    fn send_answer(
        &self,
        ids: &[String],
    ) -> impl std::future::Future<Output = Result<Answer, String>> {
        push_answer(
            self.http.clone(),
            self.base.clone(),
            self.token.clone(),
            self.device.clone(),
            self.bodies(ids),
        )
    }

    /// Up to `n` ids from the front of the outbox, skipping `skip`.
    fn front(&self, skip: usize, n: usize) -> Vec<String> {
        self.outbox.iter().skip(skip).take(n).cloned().collect()
    }

    fn batch_size(&mut self) -> usize {
        self.rng.random_range(1..=30)
    }

    /// Takes in an answer the client received.
    fn accept(&mut self, ids: &[String], outcome: &Result<(u16, Value), String>) {
        let Ok((status, answer)) = outcome else {
            return;
        };
        if *status != 200 {
            self.server_errors.push(format!("{status}: {answer}"));
            return;
        }
        self.answers += 1;
        let Some(results) = answer["results"].as_array() else {
            self.bad.push(format!("no results: {answer}"));
            return;
        };
        if results.len() != ids.len() {
            self.bad.push(format!(
                "{} results for {} records",
                results.len(),
                ids.len()
            ));
            return;
        }
        for (id, result) in ids.iter().zip(results) {
            if result["id"] != json!(id) {
                self.bad
                    .push(format!("result for {} where {id} was sent", result["id"]));
                continue;
            }
            match result["status"].as_str() {
                Some("applied") => {
                    let n = self.applied.entry(id.clone()).or_default();
                    *n += 1;
                    if *n > 1 {
                        self.bad.push(format!("{id} answered applied {n} times"));
                    }
                }
                Some("duplicate") => {}
                _ => {
                    self.bad.push(format!("{id}: {result}"));
                    continue;
                }
            }
            if result["version"] != json!(1) {
                self.bad
                    .push(format!("{id}: version {}", result["version"]));
            }
            if self.cleared_set.insert(id.clone()) {
                self.cleared.push(id.clone());
            }
        }
        let cleared = &self.cleared_set;
        self.outbox.retain(|id| !cleared.contains(id));
    }

    /// Takes in an answer to a push made while the storage was away: an answer as usual, or a 503 with
    /// the fault's problem `code` and a `Retry-After`, after which the phone keeps the batch. The
    /// server kept running, so no answer at all is a failure too.
    fn accept_during(&mut self, ids: &[String], outcome: &Result<Answer, String>, code: &str) {
        match outcome {
            Err(e) => self
                .server_errors
                .push(format!("no answer during a storage fault: {e}")),
            Ok(a) if a.status == 503 && a.body["code"] == code && a.retry_after.is_some() => {
                *self.refused.entry(code.to_owned()).or_default() += 1;
            }
            Ok(a) => self.accept(ids, &Ok((a.status, a.body.clone()))),
        }
    }

    /// The outbox drained without faults, 100 records a batch.
    async fn drain(&mut self) {
        let mut rounds = 0;
        while !self.outbox.is_empty() {
            rounds += 1;
            assert!(
                rounds <= 1000,
                "the outbox does not drain: {} left; server errors {:?}; bad answers {:?}",
                self.outbox.len(),
                self.server_errors.iter().take(3).collect::<Vec<_>>(),
                self.bad.iter().take(3).collect::<Vec<_>>()
            );
            let ids = self.front(0, 100);
            let outcome = self.send(&ids).await;
            self.accept(&ids, &outcome);
        }
    }
}

/// A second device of the same volunteer, pulling with a cursor while the faults go on.
struct Puller {
    http: reqwest::Client,
    base: String,
    token: String,
    cursor: Option<String>,
    /// The latest data of each assistance record received.
    seen: BTreeMap<String, Value>,
    /// How many accepted pulls carried each record.
    deliveries: HashMap<String, usize>,
    pulls: usize,
}

impl Puller {
    /// One pull; the cursor moves only when the reply is taken in. Returns `has_more` (false when
    /// the reply was lost or refused).
    async fn pull(&mut self, limit: usize, take_reply: bool) -> bool {
        let mut req = self
            .http
            .get(format!("{}/api/v1/sync/pull", self.base))
            .bearer_auth(&self.token)
            .query(&[
                ("limit", limit.to_string()),
                ("device_id", "phone-b".into()),
            ]);
        if let Some(c) = &self.cursor {
            req = req.query(&[("cursor", c)]);
        }
        let Ok(res) = req.send().await else {
            return false;
        };
        assert_eq!(res.status(), 200, "pull");
        let page: Value = res.json().await.expect("pull json");
        if !take_reply {
            return false;
        }
        self.pulls += 1;
        for change in page["changes"].as_array().expect("changes") {
            if change["kind"] == "assistance_record" {
                let id = change["id"].as_str().expect("id").to_owned();
                *self.deliveries.entry(id.clone()).or_default() += 1;
                self.seen.insert(id, change["data"].clone());
            }
        }
        self.cursor = Some(page["cursor"].as_str().expect("cursor").to_owned());
        page["has_more"].as_bool().expect("has_more")
    }
}

async fn random_faults(backend: Backend) {
    let faults_wanted: usize = std::env::var("CHAOS_FAULTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5000);
    const RESTART_EVERY: usize = 50;
    // The storage goes away every hundred faults, halfway between two restarts.
    const STORAGE_EVERY: usize = 100;
    let started = Instant::now();
    // Room for the database the run makes (some 15 MiB after 5,000 faults) with a margin, so the
    // disk is full only when the filler says so. Declared before the server so it is unmounted
    // after the server has let go of the files.
    let disk_mib = 16 + faults_wanted * 5 / 1000;
    let disk = (backend == Backend::Sqlite).then(|| SmallDisk::mount(disk_mib));
    let db = match &disk {
        Some(disk) => TestDatabase::sqlite_file(disk.path().join("test.db")),
        None => TestDatabase::new(backend),
    };
    let mut outage = PgOutage::new(&db);
    let mut server = ServerProcess::seeded(&db, 30).await;
    let base = server.base();
    let http = http();
    let token = login(&http, &base, VOLUNTEER).await;
    let households = village(&http, &base, &token).await;
    let mut phone = Phone {
        http: http.clone(),
        base: base.clone(),
        token,
        device: "phone-a".into(),
        rng: ChaCha8Rng::seed_from_u64(2026),
        households,
        created: BTreeMap::new(),
        outbox: vec![],
        cleared: vec![],
        cleared_set: BTreeSet::new(),
        applied: HashMap::new(),
        bad: vec![],
        server_errors: vec![],
        refused: BTreeMap::new(),
        answers: 0,
    };
    let mut puller = Puller {
        token: login(&http, &base, VOLUNTEER).await,
        http,
        base,
        cursor: None,
        seen: BTreeMap::new(),
        deliveries: HashMap::new(),
        pulls: 0,
    };
    let mut faults = Faults::default();
    let mut steps = 0;
    let mut next_restart = RESTART_EVERY;
    let mut next_storage_fault = STORAGE_EVERY - RESTART_EVERY / 2;
    let (mut pull_time, mut restart_time, mut storage_time) =
        (Duration::ZERO, Duration::ZERO, Duration::ZERO);

    while faults.total() < faults_wanted {
        steps += 1;
        // Now and then a burst made offline, otherwise a visit every few steps.
        let n = if phone.rng.random_bool(0.08) {
            4
        } else {
            usize::from(phone.rng.random_bool(0.35))
        };
        phone.create(n);

        if phone.rng.random_bool(0.25) {
            let limit = phone.rng.random_range(1..=300);
            let take = phone.rng.random_bool(0.9);
            if !take {
                faults.lost_pull_replies += 1;
            }
            let t = Instant::now();
            puller.pull(limit, take).await;
            pull_time += t.elapsed();
        }
        if phone.outbox.is_empty() {
            continue;
        }

        if faults.total() + 1 >= next_restart {
            // SIGKILL while a push is in flight: before, during or after its transaction.
            next_restart += RESTART_EVERY;
            faults.restarts += 1;
            let t = Instant::now();
            let size = phone.batch_size();
            let ids = phone.front(0, size);
            if phone.rng.random_bool(0.3) {
                let body = json!({"device_id": phone.device, "records": phone.bodies(&ids)});
                let raw = server.write_push_raw(&phone.token, &body);
                server.kill();
                drop(raw);
                server.spawn().await;
            } else {
                let delay = Duration::from_millis(phone.rng.random_range(0..60));
                let in_flight = tokio::spawn(phone.send(&ids));
                tokio::time::sleep(delay).await;
                server.restart().await;
                let outcome = in_flight.await.expect("push task");
                phone.accept(&ids, &outcome);
            }
            restart_time += t.elapsed();
            continue;
        }

        if faults.total() + 1 >= next_storage_fault {
            // The storage goes away under a push in flight (before, during or after its
            // transaction) while the server keeps running.
            next_storage_fault += STORAGE_EVERY;
            let t = Instant::now();
            let size = phone.batch_size();
            let ids = phone.front(0, size);
            let delay = Duration::from_millis(phone.rng.random_range(0..60));
            let in_flight = tokio::spawn(phone.send_answer(&ids));
            tokio::time::sleep(delay).await;
            if let Some(outage) = &mut outage {
                faults.pg_outages += 1;
                outage.begin();
                // Now and then the phone pushes again while connections are refused.
                let retry = phone.rng.random_bool(0.5).then(|| {
                    let size = phone.batch_size();
                    let ids = phone.front(0, size);
                    (tokio::spawn(phone.send_answer(&ids)), ids)
                });
                let down = Duration::from_millis(phone.rng.random_range(20..300));
                tokio::time::sleep(down).await;
                outage.end();
                let outcome = in_flight.await.expect("push task");
                phone.accept_during(&ids, &outcome, "database_unavailable");
                if let Some((task, ids)) = retry {
                    let outcome = task.await.expect("push task");
                    phone.accept_during(&ids, &outcome, "database_unavailable");
                }
            } else if let Some(disk) = &disk {
                faults.disk_full += 1;
                disk.fill();
                let outcome = in_flight.await.expect("push task");
                phone.accept_during(&ids, &outcome, "storage_full");
                // The phone pushes and retries while the disk stays full.
                for _ in 0..phone.rng.random_range(1..=3) {
                    let size = phone.batch_size();
                    let ids = phone.front(0, size);
                    let outcome = phone.send_answer(&ids).await;
                    phone.accept_during(&ids, &outcome, "storage_full");
                }
                disk.free();
            }
            // With the storage back, the same server process serves again at once.
            let size = phone.batch_size();
            let ids = phone.front(0, size);
            if !ids.is_empty() {
                let outcome = phone.send(&ids).await;
                phone.accept(&ids, &outcome);
            }
            storage_time += t.elapsed();
            continue;
        }

        match phone.rng.random_range(0..9) {
            // A plain push, answered.
            0..=1 => {
                let size = phone.batch_size();
                let ids = phone.front(0, size);
                let outcome = phone.send(&ids).await;
                phone.accept(&ids, &outcome);
            }
            // Dropped request: the batch never reaches the server.
            2 => {
                faults.dropped_requests += 1;
            }
            // Dropped reply: the server gets the batch, the phone never hears back.
            3 | 4 => {
                faults.dropped_replies += 1;
                let size = phone.batch_size();
                let ids = phone.front(0, size);
                if phone.rng.random_bool(0.5) {
                    // The answer is lost on the way back.
                    let _ = phone.send(&ids).await;
                } else {
                    // The phone gives up mid-request (connection cut) after a few milliseconds.
                    let wait = Duration::from_millis(phone.rng.random_range(0..30));
                    let _ = tokio::time::timeout(wait, phone.send(&ids)).await;
                }
            }
            // Duplicated request: the same batch twice, at once or one after the other.
            5 | 6 => {
                faults.duplicates += 1;
                let size = phone.batch_size();
                let ids = phone.front(0, size);
                if phone.rng.random_bool(0.5) {
                    let (a, b) = tokio::join!(phone.send(&ids), phone.send(&ids));
                    phone.accept(&ids, &a);
                    phone.accept(&ids, &b);
                } else {
                    let a = phone.send(&ids).await;
                    let b = phone.send(&ids).await;
                    phone.accept(&ids, &a);
                    phone.accept(&ids, &b);
                }
            }
            // Reordered batches: a newer batch arrives before an older one.
            7 => {
                if phone.outbox.len() < 2 {
                    continue;
                }
                faults.reorders += 1;
                let size = phone.batch_size().min(phone.outbox.len() / 2);
                let older = phone.front(0, size);
                let newer = phone.front(size, size);
                let b = phone.send(&newer).await;
                let a = phone.send(&older).await;
                phone.accept(&newer, &b);
                phone.accept(&older, &a);
            }
            // A batch mixing records already stored with new ones, in any order.
            _ => {
                if phone.cleared.is_empty() {
                    continue;
                }
                faults.mixed += 1;
                let size = phone.batch_size();
                let mut ids = phone.front(0, size);
                let old = phone.rng.random_range(1..=10);
                for _ in 0..old {
                    let id = phone.cleared[phone.rng.random_range(0..phone.cleared.len())].clone();
                    if !ids.contains(&id) {
                        let at = phone.rng.random_range(0..=ids.len());
                        ids.insert(at, id);
                    }
                }
                let outcome = phone.send(&ids).await;
                let before: Vec<bool> = ids
                    .iter()
                    .map(|id| phone.cleared_set.contains(id))
                    .collect();
                phone.accept(&ids, &outcome);
                if let Ok((200, answer)) = &outcome {
                    for ((id, was_stored), result) in ids.iter().zip(before).zip(
                        answer["results"]
                            .as_array()
                            .map(Vec::as_slice)
                            .unwrap_or(&[]),
                    ) {
                        if was_stored && result["status"] != "duplicate" {
                            phone.bad.push(format!("{id} was stored already: {result}"));
                        }
                    }
                }
            }
        }
    }
    let faulty_phase = started.elapsed();

    // Back to a good network: the phone drains its outbox, the second device catches up.
    phone.drain().await;
    db.settle().await;
    let mut catch_up = 0;
    while puller.pull(1000, true).await {
        catch_up += 1;
        assert!(catch_up < 1000, "the pull never ends");
    }

    assert!(
        phone.server_errors.is_empty(),
        "{} pushes were refused by the server, e.g. {:?}; its log: {:?}",
        phone.server_errors.len(),
        &phone.server_errors[..phone.server_errors.len().min(5)],
        server.logged_errors(5)
    );
    assert!(
        phone.bad.is_empty(),
        "{} wrong answers, e.g. {:?}",
        phone.bad.len(),
        &phone.bad[..phone.bad.len().min(5)]
    );
    assert_stored_exactly(&db, &phone.created);
    if backend == Backend::Sqlite {
        // The disk filled up under commits and checkpoints: the file must still be sound.
        let check: Vec<String> = diesel::sql_query("PRAGMA integrity_check")
            .load::<IntegrityRow>(&mut db.connect())
            .expect("integrity check")
            .into_iter()
            .map(|r| r.integrity_check)
            .collect();
        assert_eq!(check, ["ok"], "SQLite's integrity check after the faults");
    }

    // The second device saw every record, each once, with the data the phone made.
    let created_ids: BTreeSet<&String> = phone.created.keys().collect();
    let seen_ids: BTreeSet<&String> = puller.seen.keys().collect();
    let unseen: Vec<&&String> = created_ids.difference(&seen_ids).collect();
    assert!(
        unseen.is_empty(),
        "the pull skipped {} records, e.g. {:?}",
        unseen.len(),
        &unseen[..unseen.len().min(5)]
    );
    assert_eq!(seen_ids, created_ids, "the pull sent records nobody made");
    let repeated: Vec<(&String, &usize)> =
        puller.deliveries.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        repeated.is_empty(),
        "{} records came twice through a moving cursor, e.g. {:?}",
        repeated.len(),
        &repeated[..repeated.len().min(5)]
    );
    for (id, data) in &puller.seen {
        let made = &phone.created[id];
        assert_eq!(data["household_id"], json!(made.household), "{id}");
        assert_eq!(
            data["items"].as_array().map(Vec::len),
            Some(made.items),
            "{id}"
        );
        assert_eq!(
            data["resident_ids"].as_array().map(Vec::len),
            Some(made.residents),
            "{id}"
        );
    }

    let refused = if phone.refused.is_empty() {
        "none".to_owned()
    } else {
        phone
            .refused
            .iter()
            .map(|(code, n)| format!("{n} {code}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let summary = format!(
        "faults on {backend:?}: {} injected (dropped requests {}, dropped replies {}, duplicates {}, reorders {}, \
         mixed batches {}, restarts {}, lost pull replies {}, PostgreSQL outages {}, disk full {}), records: {}, \
         lost: 0, duplicated: 0; {} steps, {} push answers, pushes refused with 503 during storage faults: {}, \
         {} pulls, server starts {}; {:.1} s with faults ({:.1} s pulling, {:.1} s restarting, {:.1} s in \
         storage faults), {:.1} s in all",
        faults.total(),
        faults.dropped_requests,
        faults.dropped_replies,
        faults.duplicates,
        faults.reorders,
        faults.mixed,
        faults.restarts,
        faults.lost_pull_replies,
        faults.pg_outages,
        faults.disk_full,
        phone.created.len(),
        steps,
        phone.answers,
        refused,
        puller.pulls,
        server.starts,
        faulty_phase.as_secs_f64(),
        pull_time.as_secs_f64(),
        restart_time.as_secs_f64(),
        storage_time.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    println!("{summary}");
    // `make test` prints these files at the end, so the CI log carries the figures.
    let figures =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("faults-{backend:?}.txt"));
    std::fs::write(&figures, format!("{summary}\n")).expect("write the fault figures");
}

/// The server process's resident memory in KiB (Linux `/proc`).
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// Rounds of a day's traffic from several phones and offices against one server process: sign-ins,
/// pushes of visits, pulls, household lists, the dashboard and an export. After the first rounds
/// have warmed the caches and the pools (the first half), the last quarter of the day may not need
/// more memory than the third plus a small margin: a leak grows with every round and fails this.
async fn soak(backend: Backend) {
    const ROUNDS: usize = 16;
    const PHONES: usize = 6;
    let db = TestDatabase::new(backend);
    // mimalloc hands freed pages back to the OS after a delay, so a sample taken just after a
    // round also counted whatever that round had freed but not yet returned: 20-30 MiB swings from
    // round to round on a loaded machine, wider than any leak this test is after. Returning them at
    // once makes the resident size follow the memory the server holds.
    //
    // SQLite's page caches grow with the database until they are full (16 MiB for the push
    // connection and 2 MiB for each other by default): over this day that looks like a leak of
    // ~0.6 MiB a round and outlasts any warm-up. Small caches fill during the warm-up, so what
    // still grows afterwards is memory the server keeps.
    let server = ServerProcess::seeded_with(
        &db,
        60,
        vec![
            ("MIMALLOC_PURGE_DELAY", "0"),
            ("TUNGNHA_SQLITE_CACHE_KIB", "256"),
            ("TUNGNHA_SQLITE_WRITER_CACHE_KIB", "256"),
        ],
    )
    .await;
    let base = server.base();
    let pid = server.child.as_ref().expect("running").id();
    let http = http();
    let households = {
        let token = login(&http, &base, VOLUNTEER).await;
        village(&http, &base, &token).await
    };
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let mut samples = vec![];
    let mut requests = 0usize;
    let mut visits = 0usize;
    for round in 0..ROUNDS {
        let mut tasks = vec![];
        for phone in 0..PHONES {
            let (http, base) = (http.clone(), base.clone());
            let picks: Vec<(String, Vec<String>)> = (0..20)
                .map(|_| households[rng.random_range(0..households.len())].clone())
                .collect();
            tasks.push(tokio::spawn(async move {
                let mut n = 0;
                let token = login(&http, &base, VOLUNTEER).await;
                n += 1;
                let records: Vec<Value> = picks
                    .iter()
                    .enumerate()
                    .map(|(i, (h, people))| {
                        json!({"kind": "assistance_record", "id": uuid::Uuid::now_v7().to_string(),
                            "op": "create", "data": {"household_id": h, "resident_ids": [people[0]],
                            "occurred_at": format!("2026-11-{:02}T0{}:00:00Z", 1 + round % 20, i % 10),
                            "channel": "house_visit", "notes": "soak",
                            "items": [{"service_code": "vneid_level2", "outcome": "assisted"}]}})
                    })
                    .collect();
                let device = format!("soak-{phone}");
                let (status, _) = push(http.clone(), base.clone(), token.clone(), device.clone(), records)
                    .await
                    .expect("push answered");
                assert_eq!(status, 200);
                n += 1;
                let mut cursor: Option<String> = None;
                loop {
                    let url = match &cursor {
                        Some(c) => format!("{base}/api/v1/sync/pull?device_id={device}&limit=500&cursor={c}"),
                        None => format!("{base}/api/v1/sync/pull?device_id={device}&limit=500"),
                    };
                    let page = get_json(&http, &url, &token).await;
                    n += 1;
                    cursor = page["cursor"].as_str().map(str::to_owned);
                    if !page["has_more"].as_bool().unwrap_or(false) {
                        break;
                    }
                }
                get_json(&http, &format!("{base}/api/v1/households?limit=200"), &token).await;
                n + 1
            }));
        }
        let chairman = login(&http, &base, "chutich").await;
        for path in [
            "/api/v1/stats/indicators?period=quarter&date=2026-11-20&group_by=village",
            "/api/v1/stats/activity?period=month&date=2026-11-20",
            "/api/v1/stats/progress?period=quarter&date=2026-11-20",
        ] {
            get_json(&http, &format!("{base}{path}"), &chairman).await;
        }
        let export = http
            .get(format!("{base}/api/v1/exports/households?format=csv"))
            .bearer_auth(&chairman)
            .send()
            .await
            .expect("export");
        assert_eq!(export.status(), 200);
        export.bytes().await.expect("export body");
        requests += 5;
        for t in tasks {
            requests += t.await.expect("phone task");
        }
        visits += PHONES * 20;
        samples.push(rss_kib(pid));
    }
    // The first half warms up: pooled connections fill their page caches and the blocking pool's
    // threads get their allocator heaps, in 4 KiB steps since transparent huge pages are off. Then
    // the last quarter may not need more than the third. Medians, so one round that caught a
    // burst in flight does not decide; a leak moves the whole quarter.
    let (half, last) = (ROUNDS / 2, ROUNDS * 3 / 4);
    let median = |s: &[u64]| {
        let mut s = s.to_vec();
        s.sort_unstable();
        (s[(s.len() - 1) / 2] + s[s.len() / 2]) / 2
    };
    let first = median(&samples[half..last]);
    let second = median(&samples[last..]);
    let mib = |k: u64| k as f64 / 1024.0;
    let summary = format!(
        "soak on {backend:?}: {ROUNDS} rounds, {requests} requests ({visits} visits pushed), RSS per round (MiB) {:?}; \
         median third quarter {:.1}, last quarter {:.1}",
        samples.iter().map(|k| (mib(*k) * 10.0).round() / 10.0).collect::<Vec<_>>(),
        mib(first),
        mib(second)
    );
    println!("{summary}");
    std::fs::write(
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("faults-soak-{backend:?}.txt")),
        format!("{summary}\n"),
    )
    .expect("write the soak figures");
    // Some MiB of slack for the allocator's own bookkeeping; a leak that grows with traffic (a
    // kept body or page, ~50 KiB a request) moves the median more than this over the four
    // rounds (~180 requests) between the quarters' middles.
    assert!(second <= first + 6 * 1024, "memory kept growing: {summary}");
}
