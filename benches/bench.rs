//! `make bench`: runs the benchmark suites against the release server binary and rewrites
//! BENCHMARKS.md with the figures, the machine, the date and the commit. Not a test: nothing here
//! asserts on time; it measures and reports against the budgets in DESIGN §7.
//!
//! Suites: `logins` (burst of concurrent logins: logins/s, latency, server peak RSS) and
//! `village_list` (a village leader pages through a 2,000-household village with adoption summaries),
//! `ingest` (phones push house visits in 100-record batches, against a raw SQLite insert baseline) and
//! `first_pull` (a new phone pulls its 2,000-household village from no cursor) and `dashboard` (the
//! chairman's dashboard calls on a commune of 10,000 households and 1,000,000 records); `province`
//! (the same calls in a PostgreSQL database of 1M households and 20M records) runs only when asked
//! for with `BENCH_ONLY=province`. `mixed_load` (reads, pulls and pushes at fixed rates up to 2,000 requests/s, open loop). `BENCH_ONLY=logins` runs one suite; `BENCH_DATABASE_URL=postgres://…/postgres` adds PostgreSQL runs (`make bench` sets it when a server answers on 127.0.0.1:5432). The ingest and first-pull suites measure the CouchDB-protocol reference, `pouchdb-server`, beside ours in the same run (DESIGN §7).

use std::fmt::Write as _;
use std::io::Write as _;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_tungnha");

/// A release server process on a throw-away database.
struct Server {
    child: Child,
    base: String,
    db_url: String,
    _dir: tempfile::TempDir,
    pg_cleanup: Option<(String, String)>,
}

impl Server {
    fn start(backend: &str) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        let (db_url, pg_cleanup) = match backend {
            "sqlite" => (
                format!("sqlite://{}", dir.path().join("bench.db").display()),
                None,
            ),
            _ => {
                let base = std::env::var("BENCH_DATABASE_URL").expect("BENCH_DATABASE_URL");
                let name = format!("tungnha_bench_{}", std::process::id());
                psql(
                    &base,
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                );
                psql(&base, &format!("CREATE DATABASE {name}"));
                let url = format!(
                    "{}/{name}",
                    base.rsplit_once('/').expect("url with a database").0
                );
                (url, Some((base, name)))
            }
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("port")
            .local_addr()
            .expect("addr")
            .port();
        let child = Command::new(BIN)
            .arg("serve")
            .current_dir(dir.path())
            .env("TUNGNHA_DATABASE_URL", &db_url)
            .env("TUNGNHA_BIND", format!("127.0.0.1:{port}"))
            .env("TUNGNHA_DATA_DIR", dir.path().join("data"))
            .env("TUNGNHA_CONFIG_DIR", dir.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the server");
        let server = Server {
            child,
            base: format!("http://127.0.0.1:{port}"),
            db_url,
            _dir: dir,
            pg_cleanup,
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return server;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("the server did not start");
    }

    fn seed_demo(&self, households: usize) {
        let ok = Command::new(BIN)
            .args(["seed-demo", "--households", &households.to_string()])
            .env("TUNGNHA_DATABASE_URL", &self.db_url)
            .env("TUNGNHA_CONFIG_DIR", self._dir.path())
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "seed-demo failed");
    }

    fn create_admin(&self, username: &str, password: &str) {
        let mut child = Command::new(BIN)
            .args(["create-admin", "--username", username])
            .env("TUNGNHA_DATABASE_URL", &self.db_url)
            .env("TUNGNHA_CONFIG_DIR", self._dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("create-admin");
        writeln!(child.stdin.take().expect("stdin"), "{password}").expect("write");
        assert!(child.wait().expect("wait").success());
    }

    /// (current RSS, peak RSS) of the server process in KiB, from /proc.
    fn memory_kib(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some((base, name)) = self.pg_cleanup.take() {
            psql(
                &base,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        }
    }
}

fn psql(url: &str, sql: &str) {
    let ok = Command::new("psql")
        .args(["-w", "-q", url, "-c", sql])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "psql failed: {sql}");
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

struct LoginFigures {
    backend: String,
    logins: usize,
    concurrency: usize,
    per_sec: f64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    rss_before_mib: f64,
    peak_rss_mib: f64,
    failures: usize,
}

/// A burst of concurrent logins: the CPU-bound argon2 path, bounded by the server's hash permits.
fn bench_logins(backend: &str) -> LoginFigures {
    const USERS: usize = 8;
    const LOGINS: usize = 400;
    const CONCURRENCY: usize = 64;
    let server = Server::start(backend);
    let password = "mật khẩu đo hiệu năng";
    for i in 0..USERS {
        server.create_admin(&format!("bench{i}"), password);
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONCURRENCY)
        .build()
        .expect("client");
    let url = format!("{}/api/v1/auth/login", server.base);
    let login = |i: usize| {
        let client = client.clone();
        let url = url.clone();
        async move {
            let started = Instant::now();
            let res = client
                .post(&url)
                .json(&serde_json::json!({"username": format!("bench{}", i % USERS), "password": password}))
                .send()
                .await;
            let ok = matches!(&res, Ok(r) if r.status() == 200);
            (started.elapsed().as_secs_f64() * 1000.0, ok)
        }
    };
    rt.block_on(async {
        for i in 0..USERS {
            login(i).await;
        }
    });
    let (rss_before, _) = server.memory_kib();
    let started = Instant::now();
    let results: Vec<(f64, bool)> = rt.block_on(async {
        use futures_util::stream::StreamExt;
        futures_util::stream::iter(0..LOGINS)
            .map(login)
            .buffer_unordered(CONCURRENCY)
            .collect()
            .await
    });
    let elapsed = started.elapsed().as_secs_f64();
    let (_, peak) = server.memory_kib();
    let mut latencies: Vec<f64> = results.iter().map(|(ms, _)| *ms).collect();
    latencies.sort_by(|a, b| a.total_cmp(b));
    LoginFigures {
        backend: backend.to_owned(),
        logins: LOGINS,
        concurrency: CONCURRENCY,
        per_sec: LOGINS as f64 / elapsed,
        p50_ms: percentile(&latencies, 50.0),
        p95_ms: percentile(&latencies, 95.0),
        p99_ms: percentile(&latencies, 99.0),
        rss_before_mib: rss_before as f64 / 1024.0,
        peak_rss_mib: peak as f64 / 1024.0,
        failures: results.iter().filter(|(_, ok)| !ok).count(),
    }
}

struct ListFigures {
    backend: String,
    households: usize,
    pages: usize,
    full_list_p50_ms: f64,
    full_list_p95_ms: f64,
    page_p50_ms: f64,
    page_p95_ms: f64,
    gzip_kib: f64,
}

/// The demo commune at 6 × 2,000 households; the Phú Lộc leader lists the whole village, 200 a page.
fn bench_village_list(backend: &str) -> ListFigures {
    const ROUNDS: usize = 20;
    let server = Server::start(backend);
    let seeded = Instant::now();
    server.seed_demo(12_000);
    eprintln!(
        "bench: seeded 12,000 households on {backend} in {:.1} s",
        seeded.elapsed().as_secs_f64()
    );
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let client = reqwest::Client::builder()
        .gzip(false)
        .build()
        .expect("client");
    let base = server.base.clone();
    rt.block_on(async move {
        let login: serde_json::Value = client
            .post(format!("{base}/api/v1/auth/login"))
            .json(&serde_json::json!({"username": "truongthon.phuloc", "password": "TungNha@2026"}))
            .send()
            .await
            .expect("login")
            .json()
            .await
            .expect("json");
        let token = login["access_token"].as_str().expect("token").to_owned();
        let village = login["user"]["village_ids"][0]
            .as_str()
            .expect("village")
            .to_owned();
        let mut full = vec![];
        let mut pages = vec![];
        let mut households = 0;
        let mut page_count = 0;
        let mut gzip_bytes = 0usize;
        for round in 0..ROUNDS {
            let started = Instant::now();
            let mut cursor: Option<String> = None;
            let mut seen = 0;
            let mut n_pages = 0;
            let mut bytes = 0;
            loop {
                let mut url = format!("{base}/api/v1/households?village_id={village}&limit=200");
                if let Some(c) = &cursor {
                    url.push_str(&format!("&cursor={c}"));
                }
                let t = Instant::now();
                let res = client
                    .get(&url)
                    .bearer_auth(&token)
                    .header("accept-encoding", "gzip")
                    .send()
                    .await
                    .expect("page");
                let body = res.bytes().await.expect("body");
                pages.push(t.elapsed().as_secs_f64() * 1000.0);
                bytes += body.len();
                let mut d = flate2::read::GzDecoder::new(&body[..]);
                let mut text = String::new();
                std::io::Read::read_to_string(&mut d, &mut text).expect("gzip");
                let page: serde_json::Value = serde_json::from_str(&text).expect("json");
                seen += page["items"].as_array().map(Vec::len).unwrap_or(0);
                n_pages += 1;
                match page["next_cursor"].as_str() {
                    Some(c) => cursor = Some(c.to_owned()),
                    None => break,
                }
            }
            if round > 0 {
                full.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            households = seen;
            page_count = n_pages;
            gzip_bytes = bytes;
        }
        full.sort_by(|a, b| a.total_cmp(b));
        pages.sort_by(|a, b| a.total_cmp(b));
        ListFigures {
            backend: backend.to_owned(),
            households,
            pages: page_count,
            full_list_p50_ms: percentile(&full, 50.0),
            full_list_p95_ms: percentile(&full, 95.0),
            page_p50_ms: percentile(&pages, 50.0),
            page_p95_ms: percentile(&pages, 95.0),
            gzip_kib: gzip_bytes as f64 / 1024.0,
        }
    })
}

// ---------------------------------------------------------------- sync ingest and first pull

/// Signs in and returns (access token, user).
async fn sign_in(
    client: &reqwest::Client,
    base: &str,
    username: &str,
) -> (String, serde_json::Value) {
    let login: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": username, "password": "TungNha@2026"}))
        .send()
        .await
        .expect("login")
        .json()
        .await
        .expect("json");
    let token = login["access_token"].as_str().expect("token").to_owned();
    (token, login["user"].clone())
}

/// Resets the server's peak RSS (VmHWM) so the next reading covers only what follows.
fn reset_peak_rss(server: &Server) {
    let _ = std::fs::write(format!("/proc/{}/clear_refs", server.child.id()), "5");
}

/// Pulls from no cursor until `has_more` is false, handing each change to `each`; the cursor reached.
async fn pull_all(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    mut each: impl FnMut(&serde_json::Value),
) -> String {
    let mut cursor = String::new();
    loop {
        let page: serde_json::Value = client
            .get(format!("{base}/api/v1/sync/pull"))
            .query(&[("limit", "5000"), ("cursor", cursor.as_str())])
            .bearer_auth(token)
            .send()
            .await
            .expect("pull")
            .json()
            .await
            .expect("json");
        page["changes"]
            .as_array()
            .expect("changes")
            .iter()
            .for_each(&mut each);
        cursor = page["cursor"].as_str().expect("cursor").to_owned();
        if page["has_more"] != true {
            return cursor;
        }
    }
}

/// The village's latest sync cursor, as a phone that has pulled everything holds it.
async fn latest_cursor(client: &reqwest::Client, base: &str, token: &str) -> String {
    pull_all(client, base, token, |_| {}).await
}

/// The volunteer's households with their residents, from a full pull.
async fn village_by_pull(
    client: &reqwest::Client,
    base: &str,
    token: &str,
) -> Vec<(String, Vec<String>)> {
    let mut residents: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    pull_all(client, base, token, |c| match c["kind"].as_str() {
        Some("household") if c["op"] == "upsert" => {
            residents
                .entry(c["id"].as_str().expect("id").to_owned())
                .or_default();
        }
        Some("resident") if c["op"] == "upsert" => {
            residents
                .entry(
                    c["data"]["household_id"]
                        .as_str()
                        .expect("household")
                        .to_owned(),
                )
                .or_default()
                .push(c["id"].as_str().expect("id").to_owned());
        }
        _ => {}
    })
    .await;
    residents
        .into_iter()
        .filter(|(_, r)| !r.is_empty())
        .collect()
}

/// House visits as a phone makes them: one resident, VNeID level 2, a time in the past two weeks.
fn visits(village: &[(String, Vec<String>)], n: usize, seed: u64) -> Vec<serde_json::Value> {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand::rngs::ChaCha8Rng::seed_from_u64(seed);
    let now = chrono::Utc::now();
    (0..n)
        .map(|_| {
            let (household, residents) = &village[rng.random_range(0..village.len())];
            let resident = &residents[rng.random_range(0..residents.len())];
            let mut bytes = [0u8; 16];
            rng.fill(&mut bytes);
            let occurred = now - chrono::TimeDelta::seconds(rng.random_range(60..1_209_600i64));
            let outcome = ["done", "done", "assisted", "declined"][rng.random_range(0..4usize)];
            serde_json::json!({
                "kind": "assistance_record",
                "id": uuid::Builder::from_random_bytes(bytes).into_uuid().to_string(),
                "op": "create",
                "data": {
                    "household_id": household, "resident_ids": [resident],
                    "occurred_at": occurred.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "channel": "house_visit",
                    "items": [{"service_code": "vneid_level2", "outcome": outcome}],
                },
            })
        })
        .collect()
}

struct IngestFigures {
    backend: String,
    clients: usize,
    records: usize,
    seconds: f64,
    per_sec: f64,
    p50_ms: f64,
    p95_ms: f64,
    rss_before_mib: f64,
    peak_rss_mib: f64,
    not_applied: usize,
    retried: usize,
}

const INGEST_RECORDS: usize = 20_000;
const INGEST_BATCH: usize = 100;
const INGEST_TIME_CAP: Duration = Duration::from_secs(20);

/// The demo commune at 2,000 households; the Phú Lộc volunteer's phones push house visits over HTTP,
/// 100 a batch, each client one after another (as the PWA's single-flight uploader does).
fn bench_ingest(backend: &str, clients: usize) -> IngestFigures {
    let server = Server::start(backend);
    server.seed_demo(2_000);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let client = reqwest::Client::builder().build().expect("client");
    let base = server.base.clone();
    let (token, village) = rt.block_on(async {
        let (token, _) = sign_in(&client, &base, "tinhnguyen.phuloc").await;
        let village = village_by_pull(&client, &base, &token).await;
        (token, village)
    });
    // Every body is built before the clock starts.
    let records = visits(&village, INGEST_RECORDS, 7 + clients as u64);
    let per_client = records.len() / clients;
    let bodies: Vec<Vec<Vec<u8>>> = records
        .chunks(per_client)
        .take(clients)
        .enumerate()
        .map(|(c, mine)| {
            mine.chunks(INGEST_BATCH)
                .map(|batch| {
                    serde_json::to_vec(&serde_json::json!({"device_id": format!("bench-phone-{c}"), "records": batch}))
                        .expect("json")
                })
                .collect()
        })
        .collect();
    let (rss_before, _) = server.memory_kib();
    reset_peak_rss(&server);
    let started = Instant::now();
    let url = format!("{base}/api/v1/sync/push");
    let per_client: Vec<(Vec<f64>, usize, usize, usize)> = rt.block_on(async {
        let tasks: Vec<_> = bodies
            .into_iter()
            .map(|batches| {
                let client = client.clone();
                let url = url.clone();
                let token = token.clone();
                tokio::spawn(async move {
                    let (mut latencies, mut applied, mut not_applied, mut retried) =
                        (vec![], 0, 0, 0);
                    for body in batches {
                        if started.elapsed() > INGEST_TIME_CAP {
                            break;
                        }
                        for attempt in 0..5 {
                            let t = Instant::now();
                            let res = client
                                .post(&url)
                                .bearer_auth(&token)
                                .header("content-type", "application/json")
                                .body(body.clone())
                                .send()
                                .await;
                            let answer: Option<serde_json::Value> = match res {
                                Ok(r) if r.status() == 200 => r.json().await.ok(),
                                Ok(r) => {
                                    eprintln!(
                                        "bench: push answered {}: {}",
                                        r.status(),
                                        r.text().await.unwrap_or_default()
                                    );
                                    None
                                }
                                Err(e) => {
                                    eprintln!("bench: push failed: {e}");
                                    None
                                }
                            };
                            latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                            let Some(answer) = answer else {
                                retried += 1;
                                assert!(attempt < 4, "a batch failed five times");
                                continue;
                            };
                            for r in answer["results"].as_array().expect("results") {
                                if r["status"] == "applied" || r["status"] == "duplicate" {
                                    applied += 1;
                                } else {
                                    not_applied += 1;
                                }
                            }
                            break;
                        }
                    }
                    (latencies, applied, not_applied, retried)
                })
            })
            .collect();
        let mut out = vec![];
        for t in tasks {
            out.push(t.await.expect("client task"));
        }
        out
    });
    let seconds = started.elapsed().as_secs_f64();
    let (_, peak) = server.memory_kib();
    let mut latencies: Vec<f64> = per_client
        .iter()
        .flat_map(|c| c.0.iter().copied())
        .collect();
    latencies.sort_by(|a, b| a.total_cmp(b));
    let stored: usize = per_client.iter().map(|c| c.1).sum();
    IngestFigures {
        backend: backend.to_owned(),
        clients,
        records: stored,
        seconds,
        per_sec: stored as f64 / seconds,
        p50_ms: percentile(&latencies, 50.0),
        p95_ms: percentile(&latencies, 95.0),
        rss_before_mib: rss_before as f64 / 1024.0,
        peak_rss_mib: peak as f64 / 1024.0,
        not_applied: per_client.iter().map(|c| c.2).sum(),
        retried: per_client.iter().map(|c| c.3).sum(),
    }
}

// ---------------------------------------------------------------- CouchDB-protocol reference

/// What the CouchDB-protocol server (`pouchdb-server`, the server side CHT-style PouchDB clients
/// replicate with) does with the same records on the same machine, in the same run.
struct CouchFigures {
    version: String,
    docs: usize,
    ingest_per_sec: f64,
    batch_p50_ms: f64,
    /// One `_changes?include_docs=true` read of every document, from no sequence.
    changes_ms: f64,
    changes_docs: usize,
    changes_encoding: String,
    changes_wire_kb: f64,
    changes_gzip_kb: f64,
}

/// The `pouchdb-server` that `make bench` installs under `target/pouchdb` (or `BENCH_POUCHDB`).
fn pouchdb_server() -> Option<std::path::PathBuf> {
    let path = std::env::var_os("BENCH_POUCHDB")
        .map(Into::into)
        .unwrap_or_else(|| {
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target/pouchdb/node_modules/.bin/pouchdb-server")
        });
    path.exists().then_some(path)
}

/// `pouchdb-server` on LevelDB in a temp folder: the same house visits as documents, pushed in
/// 100-document `_bulk_docs` batches by one client one after another, then read back through
/// `_changes` with the documents, as a new replica starts.
fn bench_couch_reference(records: &[serde_json::Value]) -> Option<CouchFigures> {
    let bin = pouchdb_server()?;
    let dir = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let mut child = Command::new(&bin)
        .args(["--port", &port.to_string(), "--dir"])
        .arg(dir.path())
        .args(["--no-stdout-logs", "--no-color", "--config"])
        .arg(dir.path().join("config.json"))
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start pouchdb-server");
    let base = format!("http://127.0.0.1:{port}");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let client = reqwest::Client::builder()
        .gzip(false)
        .build()
        .expect("client");
    let figures = rt.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(30);
        let welcome: serde_json::Value = loop {
            if let Ok(r) = client.get(&base).send().await {
                if let Ok(v) = r.json().await {
                    break v;
                }
            }
            assert!(Instant::now() < deadline, "pouchdb-server did not start");
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let db = format!("{base}/visits");
        let created = client.put(&db).send().await.expect("create db");
        assert!(
            created.status().is_success(),
            "create db: {}",
            created.status()
        );
        // The same documents the phones push: the record's data under its id.
        let bodies: Vec<Vec<u8>> = records
            .chunks(INGEST_BATCH)
            .map(|batch| {
                let docs: Vec<serde_json::Value> = batch
                    .iter()
                    .map(|r| {
                        let mut doc = r["data"].clone();
                        doc["_id"] = r["id"].clone();
                        doc["kind"] = r["kind"].clone();
                        doc
                    })
                    .collect();
                serde_json::to_vec(&serde_json::json!({ "docs": docs })).expect("json")
            })
            .collect();
        let mut latencies = vec![];
        let started = Instant::now();
        for body in bodies {
            let t = Instant::now();
            let res = client
                .post(format!("{db}/_bulk_docs"))
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .expect("_bulk_docs");
            assert!(res.status().is_success(), "_bulk_docs: {}", res.status());
            let answer: Vec<serde_json::Value> = res.json().await.expect("json");
            assert!(
                answer.iter().all(|a| a["ok"] == true),
                "a document was refused"
            );
            latencies.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        let ingest_s = started.elapsed().as_secs_f64();
        latencies.sort_by(|a, b| a.total_cmp(b));
        let t = Instant::now();
        let res = client
            .get(format!("{db}/_changes?include_docs=true&since=0"))
            .header("accept-encoding", "gzip, deflate, br, zstd")
            .send()
            .await
            .expect("_changes");
        let encoding = res
            .headers()
            .get("content-encoding")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("identity")
            .to_owned();
        let wire = res.bytes().await.expect("body");
        let changes_ms = t.elapsed().as_secs_f64() * 1000.0;
        let raw = match encoding.as_str() {
            "gzip" => {
                let mut out = vec![];
                std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&wire[..]), &mut out)
                    .expect("gzip");
                out
            }
            "br" => {
                let mut out = vec![];
                std::io::Read::read_to_end(
                    &mut brotli_decompressor::Decompressor::new(&wire[..], 4096),
                    &mut out,
                )
                .expect("br");
                out
            }
            "deflate" => {
                let mut out = vec![];
                std::io::Read::read_to_end(
                    &mut flate2::read::ZlibDecoder::new(&wire[..]),
                    &mut out,
                )
                .expect("deflate");
                out
            }
            _ => wire.to_vec(),
        };
        let page: serde_json::Value = serde_json::from_slice(&raw)
            .unwrap_or_else(|e| panic!("_changes ({encoding}) is not JSON: {e}"));
        let mut gz = flate2::write::GzEncoder::new(vec![], flate2::Compression::default());
        gz.write_all(&raw).expect("gzip");
        CouchFigures {
            version: welcome["version"].as_str().unwrap_or("?").to_owned(),
            docs: records.len(),
            ingest_per_sec: records.len() as f64 / ingest_s,
            batch_p50_ms: percentile(&latencies, 50.0),
            changes_ms,
            changes_docs: page["results"].as_array().map_or(0, Vec::len),
            changes_encoding: encoding,
            changes_wire_kb: wire.len() as f64 / 1000.0,
            changes_gzip_kb: gz.finish().expect("gzip").len() as f64 / 1000.0,
        }
    });
    let _ = child.kill();
    let _ = child.wait();
    Some(figures)
}

/// The physical limit on this machine: the rows one visit leaves (record, item, helped resident,
/// receipt, change-log entry) inserted straight into a SQLite file with diesel, WAL,
/// `synchronous=FULL`, one transaction per 100 records. Returns records/s.
fn sqlite_baseline(records: usize) -> f64 {
    use diesel::connection::SimpleConnection;
    use diesel::sql_types::{BigInt, Text};
    use diesel::{Connection, RunQueryDsl};
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("baseline.db");
    let mut conn =
        diesel::SqliteConnection::establish(path.to_str().expect("utf-8 path")).expect("open");
    conn.batch_execute(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;
         CREATE TABLE records (id TEXT PRIMARY KEY NOT NULL, commune_id TEXT NOT NULL, village_id TEXT NOT NULL,
             household_id TEXT NOT NULL, author_id TEXT NOT NULL, device_id TEXT NOT NULL, occurred_at TEXT NOT NULL,
             channel TEXT NOT NULL, notes TEXT, received_at TEXT NOT NULL);
         CREATE INDEX records_household ON records (household_id, occurred_at);
         CREATE TABLE items (record_id TEXT NOT NULL REFERENCES records (id), position INTEGER NOT NULL,
             service_code TEXT NOT NULL, outcome TEXT NOT NULL, note TEXT, PRIMARY KEY (record_id, position));
         CREATE TABLE helped (record_id TEXT NOT NULL REFERENCES records (id), resident_id TEXT NOT NULL,
             PRIMARY KEY (record_id, resident_id));
         CREATE TABLE receipts (id TEXT PRIMARY KEY NOT NULL, kind TEXT NOT NULL, body_hash TEXT NOT NULL,
             version BIGINT NOT NULL, status TEXT NOT NULL, user_id TEXT NOT NULL, device_id TEXT NOT NULL,
             received_at TEXT NOT NULL);
         CREATE TABLE changes (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, object_id TEXT NOT NULL,
             commune_id TEXT, village_id TEXT, op TEXT NOT NULL, user_id TEXT, changed_at TEXT NOT NULL);",
    )
    .expect("schema");
    let ids: Vec<String> = (0..records)
        .map(|_| uuid::Uuid::new_v4().to_string())
        .collect();
    let (commune, village, user) = (
        uuid::Uuid::now_v7().to_string(),
        uuid::Uuid::now_v7().to_string(),
        uuid::Uuid::now_v7().to_string(),
    );
    let started = Instant::now();
    for chunk in ids.chunks(INGEST_BATCH) {
        conn.transaction::<_, diesel::result::Error, _>(|c| {
            for (i, id) in chunk.iter().enumerate() {
                let household = format!("household-{}", i % 333);
                let now = chrono::Utc::now().to_rfc3339();
                diesel::sql_query("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)")
                    .bind::<Text, _>(id)
                    .bind::<Text, _>(&commune)
                    .bind::<Text, _>(&village)
                    .bind::<Text, _>(&household)
                    .bind::<Text, _>(&user)
                    .bind::<Text, _>("bench-phone")
                    .bind::<Text, _>(&now)
                    .bind::<Text, _>("house_visit")
                    .bind::<Text, _>(&now)
                    .execute(c)?;
                diesel::sql_query("INSERT INTO items VALUES (?, 0, 'vneid_level2', 'done', NULL)")
                    .bind::<Text, _>(id)
                    .execute(c)?;
                diesel::sql_query("INSERT INTO helped VALUES (?, ?)")
                    .bind::<Text, _>(id)
                    .bind::<Text, _>(&household)
                    .execute(c)?;
                diesel::sql_query("INSERT INTO receipts VALUES (?, 'assistance_record', ?, 1, 'applied', ?, 'bench-phone', ?)")
                    .bind::<Text, _>(id)
                    .bind::<Text, _>(id)
                    .bind::<Text, _>(&user)
                    .bind::<Text, _>(&now)
                    .execute(c)?;
                diesel::sql_query("INSERT INTO changes (kind, object_id, commune_id, village_id, op, user_id, changed_at) VALUES ('assistance_record', ?, ?, ?, 'upsert', ?, ?)")
                    .bind::<Text, _>(id)
                    .bind::<Text, _>(&commune)
                    .bind::<Text, _>(&village)
                    .bind::<Text, _>(&user)
                    .bind::<Text, _>(&now)
                    .execute(c)?;
            }
            Ok(())
        })
        .expect("insert");
    }
    let seconds = started.elapsed().as_secs_f64();
    #[derive(diesel::QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let n: N = diesel::sql_query("SELECT COUNT(*) AS n FROM records")
        .get_result(&mut conn)
        .expect("count");
    assert_eq!(n.n as usize, records);
    records as f64 / seconds
}

struct PullFigures {
    backend: String,
    households: usize,
    residents: usize,
    changes: usize,
    requests: usize,
    first_ms: f64,
    p50_ms: f64,
    encoding: String,
    compressed_kb: f64,
    gzip_kb: f64,
    raw_kb: f64,
    peak_rss_mib: f64,
}

/// The demo commune at 6 × 2,000 households; a volunteer's new phone pulls its village from no cursor,
/// 5,000 changes a request, gzip on. Server time = the sum of the requests' times, measured at the client
/// on loopback.
fn bench_first_pull(backend: &str) -> PullFigures {
    const ROUNDS: usize = 5;
    let server = Server::start(backend);
    let seeded = Instant::now();
    server.seed_demo(12_000);
    eprintln!(
        "bench: seeded 12,000 households on {backend} in {:.1} s",
        seeded.elapsed().as_secs_f64()
    );
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let client = reqwest::Client::builder()
        .gzip(false)
        .build()
        .expect("client");
    let base = server.base.clone();
    let (token, _) = rt.block_on(sign_in(&client, &base, "tinhnguyen.phuloc"));
    reset_peak_rss(&server);
    let mut totals = vec![];
    let mut figures = (0, 0, 0, 0, 0usize, 0usize);
    // Timed rounds ask as Chromium does; one more round asks for gzip only, for comparison.
    let mut gzip_only = 0usize;
    let mut encoding = String::new();
    for round in 0..=ROUNDS {
        let accept = if round < ROUNDS {
            "gzip, deflate, br, zstd"
        } else {
            "gzip"
        };
        let (total_ms, households, residents, changes, requests, gzip, raw, used) =
            rt.block_on(async {
                let mut used: String;
                let mut cursor = String::new();
                let (
                    mut total,
                    mut households,
                    mut residents,
                    mut changes,
                    mut requests,
                    mut gzip,
                    mut raw,
                ) = (0.0, 0, 0, 0, 0, 0, 0);
                loop {
                    let t = Instant::now();
                    let res = client
                        .get(format!("{base}/api/v1/sync/pull"))
                        .query(&[
                            ("limit", "5000"),
                            ("cursor", cursor.as_str()),
                            ("device_id", &format!("bench-new-phone-{round}")),
                        ])
                        .bearer_auth(&token)
                        .header("accept-encoding", accept)
                        .send()
                        .await
                        .expect("pull");
                    assert_eq!(res.status(), 200, "pull");
                    let coding = res
                        .headers()
                        .get("content-encoding")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("identity")
                        .to_owned();
                    let body = res.bytes().await.expect("body");
                    total += t.elapsed().as_secs_f64() * 1000.0;
                    requests += 1;
                    gzip += body.len();
                    let mut text = String::new();
                    match coding.as_str() {
                        "gzip" => std::io::Read::read_to_string(
                            &mut flate2::read::GzDecoder::new(&body[..]),
                            &mut text,
                        )
                        .expect("gzip"),
                        "br" => std::io::Read::read_to_string(
                            &mut brotli_decompressor::Decompressor::new(&body[..], 4096),
                            &mut text,
                        )
                        .expect("br"),
                        other => panic!("the pull is not compressed ({other})"),
                    };
                    used = coding;
                    raw += text.len();
                    let page: serde_json::Value = serde_json::from_str(&text).expect("json");
                    for c in page["changes"].as_array().expect("changes") {
                        changes += 1;
                        match c["kind"].as_str() {
                            Some("household") => households += 1,
                            Some("resident") => residents += 1,
                            _ => {}
                        }
                    }
                    cursor = page["cursor"].as_str().expect("cursor").to_owned();
                    if page["has_more"] != true {
                        break;
                    }
                }
                (
                    total, households, residents, changes, requests, gzip, raw, used,
                )
            });
        if round == ROUNDS {
            assert_eq!(used, "gzip");
            gzip_only = gzip;
            continue;
        }
        totals.push(total_ms);
        encoding = used;
        figures = (households, residents, changes, requests, gzip, raw);
    }
    let (_, peak) = server.memory_kib();
    let first_ms = totals[0];
    totals.sort_by(|a, b| a.total_cmp(b));
    PullFigures {
        backend: backend.to_owned(),
        households: figures.0,
        residents: figures.1,
        changes: figures.2,
        requests: figures.3,
        first_ms,
        p50_ms: percentile(&totals, 50.0),
        encoding,
        compressed_kb: figures.4 as f64 / 1000.0,
        gzip_kb: gzip_only as f64 / 1000.0,
        raw_kb: figures.5 as f64 / 1000.0,
        peak_rss_mib: peak as f64 / 1024.0,
    }
}

// ---------------------------------------------------------------- commune dashboard

const DASHBOARD_HOUSEHOLDS: usize = 10_000;
const DASHBOARD_RECORDS: usize = 1_000_000;

struct DashboardFigures {
    backend: String,
    /// Households and records in the whole database.
    households: usize,
    total_records: usize,
    /// Services helped with in the demo commune's quarter.
    records: i64,
    generate_s: f64,
    /// (what, p50 ms, p95 ms)
    rows: Vec<(&'static str, f64, f64)>,
    peak_rss_mib: f64,
}

/// SQL that adds `n` field records (one service and one resident each) spread over 2025–2026 to the
/// seeded commune, straight into the tables, as years of visits would leave them.
fn generate_records_sql(backend: &str, n: usize) -> String {
    let last = n - 1;
    let people = "CREATE TEMP TABLE bench_people AS \
        SELECT (row_number() OVER (ORDER BY r.id)) - 1 AS k, r.id AS resident_id, r.household_id, h.village_id, h.commune_id \
        FROM residents r JOIN households h ON h.id = r.household_id; \
        CREATE INDEX bench_people_k ON bench_people (k); \
        CREATE TEMP TABLE bench_authors AS \
        SELECT (row_number() OVER (ORDER BY id)) - 1 AS k, id FROM users WHERE role IN ('volunteer', 'village_leader'); \
        CREATE INDEX bench_authors_k ON bench_authors (k);";
    let (series, at, id) = match backend {
        "sqlite" => (
            format!("WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last}) SELECT i FROM n"),
            "datetime('2025-01-01', printf('+%d seconds', (i * 7919) % 63072000))".to_owned(),
            "printf('bench-%08d', i)".to_owned(),
        ),
        _ => (
            format!("SELECT i FROM generate_series(0, {last}) AS i"),
            "timestamp '2025-01-01' + ((i::bigint * 7919) % 63072000) * interval '1 second'".to_owned(),
            "'bench-' || lpad(i::text, 8, '0')".to_owned(),
        ),
    };
    format!(
        "{people} \
        CREATE TEMP TABLE bench_gen AS \
        SELECT n.i AS i, {id} AS record_id, p.resident_id, p.household_id, p.village_id, p.commune_id, a.id AS author_id, {at} AS at \
        FROM ({series}) AS n \
        JOIN bench_people p ON p.k = n.i % (SELECT count(*) FROM bench_people) \
        JOIN bench_authors a ON a.k = n.i % (SELECT count(*) FROM bench_authors); \
        INSERT INTO assistance_records (id, commune_id, village_id, household_id, author_id, device_id, occurred_at, channel, received_at) \
        SELECT record_id, commune_id, village_id, household_id, author_id, 'bench-device', at, \
          CASE i % 4 WHEN 3 THEN 'commune_office' ELSE 'house_visit' END, at FROM bench_gen; \
        INSERT INTO assistance_items (record_id, position, service_code, outcome) \
        SELECT record_id, 0, \
          CASE i % 5 WHEN 0 THEN 'vneid_level2' WHEN 1 THEN 'public_service_portal' WHEN 2 THEN 'payment_account' \
            WHEN 3 THEN 'electronic_health_record' ELSE 'smart_haiphong' END, \
          CASE (i / 5) % 4 WHEN 0 THEN 'done' WHEN 1 THEN 'assisted' WHEN 2 THEN 'declined' ELSE 'needs_follow_up' END \
        FROM bench_gen; \
        INSERT INTO assistance_residents (record_id, resident_id) SELECT record_id, resident_id FROM bench_gen; \
        DROP TABLE bench_gen; DROP TABLE bench_people; DROP TABLE bench_authors;"
    )
}

const PROVINCE_COMMUNES: usize = 99;
const PROVINCE_HOUSEHOLDS: usize = 990_000;
const PROVINCE_RECORDS: usize = 19_000_000;

/// PostgreSQL SQL that grows the database to a province around the demo commune: `PROVINCE_COMMUNES`
/// more communes of ten villages with `PROVINCE_HOUSEHOLDS` households (three residents each, a
/// VNeID ledger entry for the first) and `PROVINCE_RECORDS` field records, bulk-loaded with the
/// tally triggers off; the tallies are rebuilt from the rows afterwards, as an import would.
fn generate_province_sql() -> String {
    let (c, h, n) = (PROVINCE_COMMUNES, PROVINCE_HOUSEHOLDS, PROVINCE_RECORDS);
    let commune = |x: &str| format!("'pc' || lpad(({x} % {c})::text, 3, '0')");
    let village = |x: &str| format!("{} || '-v' || (({x} / {c}) % 10)", commune(x));
    format!(
        "ALTER TABLE households DISABLE TRIGGER USER; ALTER TABLE residents DISABLE TRIGGER USER; \
        ALTER TABLE adoptions DISABLE TRIGGER USER; ALTER TABLE assistance_records DISABLE TRIGGER USER; \
        ALTER TABLE assistance_items DISABLE TRIGGER USER; \
        INSERT INTO communes (id, code, name, province, created_at, updated_at) \
        SELECT {cid}, 'PC' || k, 'Xã ' || k, 'Hải Phòng', now(), now() FROM generate_series(0, {c1}) k; \
        INSERT INTO villages (id, commune_id, code, name, created_at, updated_at) \
        SELECT {cid} || '-v' || v, {cid}, 'V' || v, 'Thôn ' || v, now(), now() \
        FROM generate_series(0, {c1}) k, generate_series(0, 9) v; \
        INSERT INTO households (id, commune_id, village_id, head_name, search_key, created_at, updated_at) \
        SELECT 'ph' || h, {ch}, {vh}, 'Hộ ' || h, 'ho ' || h, now(), now() FROM generate_series(0, {h1}) h; \
        INSERT INTO residents (id, household_id, commune_id, village_id, full_name, birth_year, created_at, updated_at) \
        SELECT 'pr' || h || '-' || r, 'ph' || h, {ch}, {vh}, 'Người ' || r, 1940 + ((h * 7 + r * 13) % 80), now(), now() \
        FROM generate_series(0, {h1}) h, generate_series(0, 2) r; \
        INSERT INTO adoptions (id, commune_id, village_id, household_id, resident_id, subject_id, service_code, status, status_on, source, updated_at) \
        SELECT 'pa' || h, {ch}, {vh}, 'ph' || h, 'pr' || h || '-0', 'pr' || h || '-0', 'vneid_level2', \
          CASE WHEN h % 3 = 0 THEN 'done' ELSE 'not_yet' END, date '2025-01-01' + (h % 700), 'import', now() \
        FROM generate_series(0, {h1}) h; \
        CREATE TEMP TABLE bench_authors AS \
        SELECT (row_number() OVER (ORDER BY id)) - 1 AS k, id FROM users WHERE role IN ('volunteer', 'village_leader'); \
        CREATE TEMP TABLE bench_gen AS \
        SELECT i, (i::bigint * 7919) % {h} AS hh, a.id AS author_id, \
          timestamp '2025-01-01' + ((i::bigint * 7919) % 63072000) * interval '1 second' AS at \
        FROM generate_series(0, {n1}) i JOIN bench_authors a ON a.k = i % (SELECT count(*) FROM bench_authors); \
        INSERT INTO assistance_records (id, commune_id, village_id, household_id, author_id, device_id, occurred_at, channel, received_at) \
        SELECT 'pv' || i, {chh}, {vhh}, 'ph' || hh, author_id, 'bench-device', at, \
          CASE i % 4 WHEN 3 THEN 'commune_office' ELSE 'house_visit' END, at FROM bench_gen; \
        INSERT INTO assistance_items (record_id, position, service_code, outcome) \
        SELECT 'pv' || i, 0, \
          CASE i % 5 WHEN 0 THEN 'vneid_level2' WHEN 1 THEN 'public_service_portal' WHEN 2 THEN 'payment_account' \
            WHEN 3 THEN 'electronic_health_record' ELSE 'smart_haiphong' END, \
          CASE (i / 5) % 4 WHEN 0 THEN 'done' WHEN 1 THEN 'assisted' WHEN 2 THEN 'declined' ELSE 'needs_follow_up' END \
        FROM bench_gen; \
        INSERT INTO assistance_residents (record_id, resident_id) SELECT 'pv' || i, 'pr' || hh || '-' || (i % 3) FROM bench_gen; \
        DROP TABLE bench_gen; DROP TABLE bench_authors; \
        ALTER TABLE households ENABLE TRIGGER USER; ALTER TABLE residents ENABLE TRIGGER USER; \
        ALTER TABLE adoptions ENABLE TRIGGER USER; ALTER TABLE assistance_records ENABLE TRIGGER USER; \
        ALTER TABLE assistance_items ENABLE TRIGGER USER;",
        cid = commune("k"),
        c1 = c - 1,
        h1 = h - 1,
        n1 = n - 1,
        ch = commune("h"),
        vh = village("h"),
        chh = commune("hh"),
        vhh = village("hh"),
    )
}

/// The chairman's dashboard calls on the demo commune with 1M records; with `province`, inside a
/// PostgreSQL database grown to a province (1M households, 20M records).
fn bench_dashboard(backend: &str, province: bool) -> DashboardFigures {
    const ROUNDS: usize = 20;
    let server = Server::start(backend);
    let started = Instant::now();
    server.seed_demo(DASHBOARD_HOUSEHOLDS);
    {
        use diesel::connection::SimpleConnection;
        let url = tungnha::config::DatabaseUrl::parse(&server.db_url).expect("url");
        let mut conn = tungnha::db::DbManager::new(url)
            .establish()
            .expect("connect");
        // PostgreSQL: bulk-loaded with the tally triggers off, then the tallies rebuilt from the
        // rows. Row triggers that bump the same few tally rows a million times in one transaction
        // leave a million dead versions to walk; a sync batch bumps each at most a hundred times.
        let (off, on) = match backend {
            "sqlite" => ("", ""),
            _ => (
                "ALTER TABLE assistance_records DISABLE TRIGGER USER; ALTER TABLE assistance_items DISABLE TRIGGER USER;",
                "ALTER TABLE assistance_records ENABLE TRIGGER USER; ALTER TABLE assistance_items ENABLE TRIGGER USER;",
            ),
        };
        conn.batch_execute(&format!(
            "BEGIN; {off} {} {on} COMMIT;",
            generate_records_sql(backend, DASHBOARD_RECORDS)
        ))
        .expect("generate records");
        if backend != "sqlite" && !province {
            tungnha::db::tallies::rebuild(&mut conn).expect("rebuild tallies");
            conn.batch_execute("ANALYZE").expect("analyze");
        }
        if province {
            conn.batch_execute(&format!("BEGIN; {} COMMIT;", generate_province_sql()))
                .expect("generate the province");
            eprintln!(
                "bench: province rows in {:.0} s; rebuilding the tallies…",
                started.elapsed().as_secs_f64()
            );
            tungnha::db::tallies::rebuild(&mut conn).expect("rebuild tallies");
            conn.batch_execute("ANALYZE").expect("analyze");
        }
    }
    let generate_s = started.elapsed().as_secs_f64();
    eprintln!("bench: dashboard data on {backend} in {generate_s:.1} s");
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let client = reqwest::Client::builder()
        .gzip(true)
        .build()
        .expect("client");
    let base = server.base.clone();
    let (token, _) = rt.block_on(sign_in(&client, &base, "chutich"));
    reset_peak_rss(&server);
    let screens: [(&'static str, &str); 4] = [
        (
            "indicators, commune, quarter",
            "/api/v1/stats/indicators?period=quarter&date=2026-11-20",
        ),
        (
            "indicators by village, quarter",
            "/api/v1/stats/indicators?period=quarter&date=2026-11-20&group_by=village",
        ),
        (
            "indicators, commune, year",
            "/api/v1/stats/indicators?period=year&date=2026-11-20",
        ),
        (
            "activity, commune, quarter",
            "/api/v1/stats/activity?period=quarter&date=2026-11-20",
        ),
    ];
    let mut rows = vec![];
    let mut records = 0;
    for (what, path) in screens {
        let mut times = vec![];
        for round in 0..ROUNDS + 3 {
            let t = Instant::now();
            let body: serde_json::Value = rt.block_on(async {
                let res = client
                    .get(format!("{base}{path}"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .expect("dashboard");
                assert_eq!(res.status(), 200, "{path}");
                res.json().await.expect("json")
            });
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            if round >= 3 {
                times.push(ms);
            }
            if what.starts_with("activity") {
                records = body["current"]["assistance_items"].as_i64().unwrap_or(0);
            }
        }
        times.sort_by(|a, b| a.total_cmp(b));
        rows.push((what, percentile(&times, 50.0), percentile(&times, 95.0)));
    }
    let (_, peak) = server.memory_kib();
    DashboardFigures {
        backend: backend.to_owned(),
        households: DASHBOARD_HOUSEHOLDS + if province { PROVINCE_HOUSEHOLDS } else { 0 },
        total_records: DASHBOARD_RECORDS + if province { PROVINCE_RECORDS } else { 0 },
        records,
        generate_s,
        rows,
        peak_rss_mib: peak as f64 / 1024.0,
    }
}

// ---------------------------------------------------------------- mixed load

/// Requests per second tried, each for `MIXED_SECONDS`.
const MIXED_RATES: [u32; 4] = [250, 500, 1000, 2000];
const MIXED_SECONDS: u64 = 8;

struct MixedRow {
    what: String,
    rate: u32,
    sent: usize,
    achieved: f64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    errors: usize,
    peak_rss_mib: f64,
}

#[derive(Clone, Copy)]
enum Call {
    Health,
    List,
    Dashboard,
    Pull,
    Push,
}

/// One request of the mix, chosen by its position so every rate sends the same proportions:
/// of 20, 11 household-list pages, 2 dashboard calls, 4 incremental pulls and 3 pushes of 5 visits.
fn mixed_call(i: usize) -> Call {
    match i % 20 {
        0..=10 => Call::List,
        11 | 12 => Call::Dashboard,
        13..=16 => Call::Pull,
        _ => Call::Push,
    }
}

/// Open loop: request `i` is due at `start + i / rate` whether or not earlier ones have answered,
/// and its latency counts from when it was due (no coordinated omission). Returns the latencies
/// in ms and the failures (non-2xx, time-out, refused).
#[allow(clippy::too_many_arguments)]
async fn open_loop(
    client: &reqwest::Client,
    base: &str,
    rate: u32,
    seconds: u64,
    only: Option<Call>,
    volunteers: &[String],
    chairman: &str,
    cursor: &str,
    village: &std::sync::Arc<Vec<(String, Vec<String>)>>,
    seed: u64,
) -> (Vec<f64>, usize, f64) {
    let n = rate as usize * seconds as usize;
    let start = tokio::time::Instant::now() + Duration::from_millis(50);
    let mut tasks = Vec::with_capacity(n);
    for i in 0..n {
        let due = start + Duration::from_secs_f64(i as f64 / rate as f64);
        let call = only.unwrap_or_else(|| mixed_call(i));
        let token = volunteers[i % volunteers.len()].clone();
        let req = match call {
            Call::Health => client.get(format!("{base}/healthz")),
            Call::List => client
                .get(format!("{base}/api/v1/households"))
                .query(&[("limit", "50")])
                .bearer_auth(&token),
            Call::Dashboard => client
                .get(format!("{base}/api/v1/stats/indicators"))
                .query(&[("period", "quarter"), ("group_by", "village")])
                .bearer_auth(chairman),
            Call::Pull => client
                .get(format!("{base}/api/v1/sync/pull"))
                .query(&[
                    ("limit", "100"),
                    ("cursor", cursor),
                    ("device_id", &format!("load-{}", i % volunteers.len())),
                ])
                .bearer_auth(&token),
            Call::Push => client
                .post(format!("{base}/api/v1/sync/push"))
                .bearer_auth(&token)
                .json(&serde_json::json!({
                    "device_id": format!("load-{}", i % volunteers.len()),
                    "records": visits(village, 5, seed * 1_000_003 + i as u64),
                })),
        };
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(due).await;
            let ok = match req.send().await {
                Ok(res) => {
                    let good = res.status().is_success();
                    good && res.bytes().await.is_ok()
                }
                Err(_) => false,
            };
            (due.elapsed().as_secs_f64() * 1000.0, ok)
        }));
    }
    let mut latencies = Vec::with_capacity(n);
    let mut errors = 0;
    for t in tasks {
        let (ms, ok) = t.await.expect("request task");
        latencies.push(ms);
        if !ok {
            errors += 1;
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    latencies.sort_by(|a, b| a.partial_cmp(b).expect("finite"));
    (latencies, errors, n as f64 / elapsed)
}

fn bench_mixed_load(backend: &str) -> Vec<MixedRow> {
    let server = Server::start(backend);
    server.seed_demo(2000);
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(256)
            .timeout(Duration::from_secs(10))
            .gzip(true)
            .build()
            .expect("client");
        let base = server.base.clone();
        // Twenty phones of the Phú Lộc volunteer, each its own session, and the chairman.
        let mut volunteers = vec![];
        for _ in 0..20 {
            volunteers.push(sign_in(&client, &base, "tinhnguyen.phuloc").await.0);
        }
        let chairman = sign_in(&client, &base, "chutich").await.0;
        let village = std::sync::Arc::new(village_by_pull(&client, &base, &volunteers[0]).await);
        // Phones that are up to date: their pulls start from the village's latest cursor.
        let mut cursor = latest_cursor(&client, &base, &volunteers[0]).await;
        // Warm-up at a low rate (connections, caches), not counted.
        open_loop(
            &client,
            &base,
            100,
            2,
            None,
            &volunteers,
            &chairman,
            &cursor,
            &village,
            1,
        )
        .await;
        let mut rows = vec![];
        // The baseline, each kind of call alone (where the time goes), then the mix at each rate.
        let runs: Vec<(String, u32, Option<Call>)> = [
            ("baseline: GET /healthz", 2000, Some(Call::Health)),
            ("only household pages", 400, Some(Call::List)),
            ("only dashboard calls", 100, Some(Call::Dashboard)),
            ("only incremental pulls", 400, Some(Call::Pull)),
            ("only pushes of 5 visits", 200, Some(Call::Push)),
        ]
        .into_iter()
        .map(|(w, r, c)| (w.to_owned(), r, c))
        .chain(MIXED_RATES.iter().map(|r| ("mixed".to_owned(), *r, None)))
        .collect();
        for (k, (what, rate, only)) in runs.into_iter().enumerate() {
            eprintln!("bench: mixed load on {backend}: {what} at {rate}/s…");
            // The rows before pushed visits; phones are up to date again at the start of each row.
            cursor = latest_cursor(&client, &base, &volunteers[0]).await;
            reset_peak_rss(&server);
            let (lat, errors, achieved) = open_loop(
                &client,
                &base,
                rate,
                MIXED_SECONDS,
                only,
                &volunteers,
                &chairman,
                &cursor,
                &village,
                10 + k as u64,
            )
            .await;
            rows.push(MixedRow {
                what,
                rate,
                sent: lat.len(),
                achieved,
                p50_ms: percentile(&lat, 50.0),
                p95_ms: percentile(&lat, 95.0),
                p99_ms: percentile(&lat, 99.0),
                errors,
                peak_rss_mib: server.memory_kib().1 as f64 / 1024.0,
            });
            // Let the queue drain before the next rate.
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        rows
    })
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|k| k.parse::<u64>().ok())
        })
        .map(|kib| format!("{:.0} GiB", kib as f64 / 1024.0 / 1024.0))
        .unwrap_or_default();
    format!("{cores} cores ({cpu}), {mem} RAM")
}

fn commit() -> String {
    let out = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output();
    let hash = out
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let dirty = Command::new("git")
        .args(["status", "--porcelain", "--untracked-files=no"])
        .output();
    let dirty = dirty.map(|o| !o.stdout.is_empty()).unwrap_or(false);
    if dirty {
        format!("{hash} (with uncommitted changes)")
    } else {
        hash
    }
}

fn main() {
    let only = std::env::var("BENCH_ONLY").ok();
    let wants = |suite: &str| only.as_deref().is_none_or(|o| o == suite);
    let mut backends = vec!["sqlite"];
    if std::env::var("BENCH_DATABASE_URL").is_ok() {
        backends.push("postgres");
    }

    let mut out = String::new();
    writeln!(out, "# Benchmarks\n").ok();
    writeln!(
        out,
        "Written by `make bench` (`cargo bench --bench bench`); do not edit by hand.\n"
    )
    .ok();
    writeln!(out, "- machine: {}", machine()).ok();
    writeln!(
        out,
        "- date: {}",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC")
    )
    .ok();
    writeln!(out, "- commit: {}", commit()).ok();
    writeln!(out, "- server: release build, SQLite file in a temp folder; PostgreSQL on 127.0.0.1 when run with BENCH_DATABASE_URL\n").ok();

    if wants("logins") {
        writeln!(out, "## Logins (argon2id m=19 MiB, t=2, p=1)\n").ok();
        writeln!(out, "A burst of concurrent logins against the server process. Hashing runs on a few dedicated threads (one per core, at most four), each reusing one argon2 working memory; up to 256 logins wait their turn and more are refused with 429, so a burst queues instead of exhausting memory.\n").ok();
        writeln!(out, "| backend | logins | concurrency | logins/s | p50 ms | p95 ms | p99 ms | RSS before MiB | peak RSS MiB | budget RSS MiB | failures |").ok();
        writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|").ok();
        for backend in &backends {
            eprintln!("bench: logins on {backend}…");
            let f = bench_logins(backend);
            writeln!(
                out,
                "| {} | {} | {} | {:.1} | {:.0} | {:.0} | {:.0} | {:.1} | {:.1} | 100 | {} |",
                f.backend,
                f.logins,
                f.concurrency,
                f.per_sec,
                f.p50_ms,
                f.p95_ms,
                f.p99_ms,
                f.rss_before_mib,
                f.peak_rss_mib,
                f.failures
            )
            .ok();
        }
        writeln!(out).ok();
    }

    if wants("village_list") {
        writeln!(
            out,
            "## Listing a village's households with adoption summaries\n"
        )
        .ok();
        writeln!(out, "The demo commune seeded with 12,000 households (2,000 per village, about 6,700 residents and 8,000 adoption entries per village); the leader of one village pages through all of its households, 200 per page, gzip on. Full list = every page of the village, one after another (first round discarded).\n").ok();
        writeln!(out, "| backend | households | pages | full list p50 ms | full list p95 ms | page p50 ms | page p95 ms | gzip KiB |").ok();
        writeln!(out, "|---|---|---|---|---|---|---|---|").ok();
        for backend in &backends {
            eprintln!("bench: village list on {backend}…");
            let f = bench_village_list(backend);
            writeln!(
                out,
                "| {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.0} |",
                f.backend,
                f.households,
                f.pages,
                f.full_list_p50_ms,
                f.full_list_p95_ms,
                f.page_p50_ms,
                f.page_p95_ms,
                f.gzip_kib
            )
            .ok();
        }
        writeln!(out).ok();
    }

    // The CouchDB-protocol reference, once for both the ingest and the pull comparison.
    let couch = if wants("ingest") || wants("first_pull") {
        eprintln!("bench: CouchDB-protocol reference (pouchdb-server)…");
        let village: Vec<(String, Vec<String>)> = (0..330)
            .map(|_| {
                let residents = (0..3).map(|_| uuid::Uuid::new_v4().to_string()).collect();
                (uuid::Uuid::new_v4().to_string(), residents)
            })
            .collect();
        let f = bench_couch_reference(&visits(&village, INGEST_RECORDS, 99));
        if f.is_none() {
            eprintln!("bench: pouchdb-server is not installed (make bench installs it under target/pouchdb): no reference figures");
        }
        f
    } else {
        None
    };
    let couch_note = |out: &mut String| {
        if couch.is_none() {
            writeln!(out, "**No reference figures: `pouchdb-server` was not installed** (`make bench` installs it under `target/pouchdb`).\n").ok();
        }
    };

    if wants("ingest") {
        writeln!(out, "## Sync ingest over HTTP\n").ok();
        writeln!(out, "The demo commune seeded with 2,000 households (about 330 in Phú Lộc); the Phú Lộc volunteer pushes {INGEST_RECORDS} house visits (one resident, one service each) in {INGEST_BATCH}-record batches, either from one phone or from 4 phones at once (own device ids), each phone sending its batches one after another; at most {} s of pushing, a fresh server and database for each row. Budgets (DESIGN §7): ≥ 10,000 records/s, ≤ 100 MB RSS. Peak RSS is the server's high-water mark during the pushes (reset after sign-in). Latency = one batch, at the client.\n", INGEST_TIME_CAP.as_secs()).ok();
        writeln!(out, "| backend | phones | records stored | seconds | records/s | budget records/s | batch p50 ms | batch p95 ms | RSS before MiB | peak RSS MiB | budget RSS MiB | not applied | retried batches |").ok();
        writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|---|---|").ok();
        let mut best_sqlite = 0.0f64;
        let mut best_postgres = 0.0f64;
        for backend in &backends {
            for clients in [1, 4] {
                eprintln!("bench: ingest on {backend} with {clients} client(s)…");
                let f = bench_ingest(backend, clients);
                if f.backend == "sqlite" {
                    best_sqlite = best_sqlite.max(f.per_sec);
                } else {
                    best_postgres = best_postgres.max(f.per_sec);
                }
                writeln!(
                    out,
                    "| {} | {} | {} | {:.1} | {:.0} | 10000 | {:.1} | {:.1} | {:.1} | {:.1} | 100 | {} | {} |",
                    f.backend, f.clients, f.records, f.seconds, f.per_sec, f.p50_ms, f.p95_ms,
                    f.rss_before_mib, f.peak_rss_mib, f.not_applied, f.retried
                )
                .ok();
            }
        }
        eprintln!("bench: ingest baseline…");
        let baseline = sqlite_baseline(INGEST_RECORDS);
        if let Some(c) = &couch {
            writeln!(out, "\nReference, same run: `pouchdb-server` {} (the CouchDB protocol CHT-style PouchDB clients replicate with; LevelDB, in a temp folder) takes the same {} visits as documents in {INGEST_BATCH}-document `_bulk_docs` batches from one client: **{:.0} documents/s** (batch p50 {:.1} ms), storing them with no checks, no ledger and no tallies. DESIGN §7 asks for at least twice that. Our best figures are **{:.2}×** it on SQLite{}.", c.version, c.docs, c.ingest_per_sec, c.batch_p50_ms, best_sqlite / c.ingest_per_sec,
                if best_postgres > 0.0 { format!(" and **{:.2}×** on PostgreSQL", best_postgres / c.ingest_per_sec) } else { String::new() }).ok();
        } else {
            couch_note(&mut out);
        }
        writeln!(out, "\nBaseline, same run: the rows one visit leaves (record, item, helped resident, receipt, change-log entry) inserted straight into a SQLite file with diesel, WAL, `synchronous=FULL`, one transaction per {INGEST_BATCH} records, no HTTP and no checks: **{baseline:.0} records/s**. The server's best SQLite figure above is {:.1} % of it ({:.0}× slower).\n", 100.0 * best_sqlite / baseline, baseline / best_sqlite.max(1.0)).ok();
    }

    if wants("first_pull") {
        writeln!(out, "## A new phone's first pull of its village\n").ok();
        writeln!(out, "The demo commune seeded with 12,000 households (2,000 per village); the Phú Lộc volunteer pulls from no cursor, `limit=5000`, until `has_more` is false, asking `Accept-Encoding: gzip, deflate, br, zstd` as Chromium does (the encoding the server chose is shown); one more round asks for gzip only, for comparison. Server time = sum of the requests' times at the client (loopback). {} rounds on one server, each as a new device; first = the first round, p50 over all rounds. Budget (DESIGN §7, village of 2,000 households and 6,000 residents): ≤ 1 s server time, ≤ 600 KB compressed.\n", 5).ok();
        writeln!(out, "| backend | households | residents | changes | requests | first ms | p50 ms | budget ms | encoding | compressed KB | budget KB | gzip KB | uncompressed KB | peak RSS MiB |").ok();
        writeln!(
            out,
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
        )
        .ok();
        let mut per_record = vec![];
        for backend in &backends {
            eprintln!("bench: first pull on {backend}…");
            let f = bench_first_pull(backend);
            per_record.push((
                f.backend.clone(),
                f.p50_ms * 1000.0 / f.changes.max(1) as f64,
            ));
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {:.0} | {:.0} | 1000 | {} | {:.0} | 600 | {:.0} | {:.0} | {:.1} |",
                f.backend,
                f.households,
                f.residents,
                f.changes,
                f.requests,
                f.first_ms,
                f.p50_ms,
                f.encoding,
                f.compressed_kb,
                f.gzip_kb,
                f.raw_kb,
                f.peak_rss_mib
            )
            .ok();
        }
        writeln!(out).ok();
        if let Some(c) = &couch {
            let couch_us = c.changes_ms * 1000.0 / c.changes_docs.max(1) as f64;
            let ours: Vec<String> = per_record
                .iter()
                .map(|(b, us)| format!("{b} {us:.1} µs ({:.1}× faster)", couch_us / us))
                .collect();
            writeln!(out, "Reference, same run: `pouchdb-server` {} serves the {} documents of the ingest reference through one `_changes?include_docs=true` read from no sequence in **{:.0} ms** ({} on the wire: {:.0} KB; {:.0} KB gzipped), **{couch_us:.1} µs per document**. Per change at p50 above: {}. DESIGN §7 asks for at least three times faster per record.\n", c.version, c.changes_docs, c.changes_ms, c.changes_encoding, c.changes_wire_kb, c.changes_gzip_kb, ours.join(", ")).ok();
        } else {
            couch_note(&mut out);
        }
    }

    let dashboard_table = |out: &mut String, f: &DashboardFigures, scale: &str, budget: &str| {
        for (what, p50, p95) in &f.rows {
            writeln!(
                out,
                "| {} | {} | {} | {} | {} | {:.0} | {} | {:.1} | {:.1} | {} | {:.1} |",
                f.backend,
                scale,
                f.households,
                f.total_records,
                f.records,
                f.generate_s,
                what,
                p50,
                p95,
                budget,
                f.peak_rss_mib
            )
            .ok();
        }
    };
    const DASHBOARD_HEAD: &str = "| backend | scale | households | records | records in the quarter | data built in s | call | p50 ms | p95 ms | budget p95 ms | peak RSS MiB |\n|---|---|---|---|---|---|---|---|---|---|---|";
    if wants("dashboard") {
        writeln!(out, "## Commune dashboard\n").ok();
        writeln!(out, "The demo commune seeded with {DASHBOARD_HOUSEHOLDS} households, then {DASHBOARD_RECORDS} field records (one service and one resident each, spread over 2025–2026) written straight into the tables (on SQLite with the tally triggers firing for each; on PostgreSQL bulk-loaded with them off and the tallies rebuilt from the rows, then `ANALYZE`). The chairman opens the dashboard's calls one after another, gzip on; 3 warm-up calls, then {} timed. Budget (DESIGN §7): commune dashboard p95 ≤ 50 ms on SQLite. Records in the quarter = services helped with in the quarter, as the activity figures count them.\n", 20).ok();
        writeln!(out, "{DASHBOARD_HEAD}").ok();
        for backend in &backends {
            eprintln!("bench: dashboard on {backend}…");
            let f = bench_dashboard(backend, false);
            let budget = if *backend == "sqlite" { "50" } else { "–" };
            dashboard_table(&mut out, &f, "commune", budget);
        }
        writeln!(out, "\nThe calls read tallies (migration `000011_tallies`, `api/src/db/tallies.rs`): per reporting period, live records per household and per author, and items per service, outcome, village and author; the registry's residents per village and birth year, households per village and ledger rows per service and status. Triggers keep them in the same transaction as every write, so a figure costs a few hundred rows whatever the number of records. A past period starts from today's registry tallies and corrects for the residents deleted and the ledger entries set since its end, which are few. Before the tallies the same calls took 4.8 s (quarter), 6.2 s (by village) and 15.1 s (year) at p95 on SQLite.").ok();
        writeln!(out).ok();
    }
    // Only on request (BENCH_ONLY=province with BENCH_DATABASE_URL): it writes tens of GB and takes
    // the better part of an hour on the test machine.
    if only.as_deref() == Some("province") && backends.contains(&"postgres") {
        writeln!(out, "## Province dashboard\n").ok();
        writeln!(out, "PostgreSQL grown to a province around the demo commune: {PROVINCE_COMMUNES} more communes with {PROVINCE_HOUSEHOLDS} households (three residents each) and {PROVINCE_RECORDS} more records bulk-loaded with the tally triggers off, then the tallies rebuilt from the rows and `ANALYZE`; the demo commune's chairman opens the same calls as above. Budget (DESIGN §7): province dashboard p95 ≤ 500 ms on PostgreSQL.\n").ok();
        writeln!(out, "{DASHBOARD_HEAD}").ok();
        eprintln!("bench: province dashboard on postgres…");
        let f = bench_dashboard("postgres", true);
        dashboard_table(&mut out, &f, "province", "500");
        writeln!(out).ok();
    }

    if wants("mixed_load") {
        writeln!(out, "## Mixed API load\n").ok();
        writeln!(out, "The demo commune (2,000 households); twenty phones of the Phú Lộc volunteer (own sessions and device ids) and the chairman. An open-loop load generator in the same benchmark (tokio + reqwest, on the same 2-core machine as the server, so it takes CPU from it) sends requests at a fixed rate for {MIXED_SECONDS} s whether or not earlier ones have answered; latency counts from when each request was due, so a server that falls behind shows it. Mix of every 20 requests: 11 pages of the village's households (50 each), 2 dashboard calls (indicators by village), 4 incremental pulls from an up-to-date cursor (the phones pull to the village's latest cursor before each row, so a row's pulls bring what its own pushes added) and 3 pushes of 5 house visits. Baseline, same run: `GET /healthz` at 2,000/s, the floor of the HTTP stack and the generator. Budget (DESIGN §7): p99 ≤ 50 ms at 2,000 requests/s; server ≤ 100 MB RSS.\n").ok();
        writeln!(out, "| backend | load | rate/s | requests | achieved/s | p50 ms | p95 ms | p99 ms | budget p99 ms | errors | peak RSS MiB |").ok();
        writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|").ok();
        let mut notes = vec![];
        for backend in &backends {
            let rows = bench_mixed_load(backend);
            let met = rows
                .iter()
                .filter(|r| r.what == "mixed" && r.errors == 0 && r.p99_ms <= 50.0)
                .map(|r| r.rate)
                .max();
            notes.push(format!(
                "{backend}: the budget is {} at 2,000/s; the highest rate tried with no errors and p99 ≤ 50 ms is {}.",
                if rows.iter().any(|r| r.what == "mixed" && r.rate == 2000 && r.errors == 0 && r.p99_ms <= 50.0) { "met" } else { "**not met**" },
                met.map_or("none".to_owned(), |r| format!("{r}/s"))
            ));
            for r in rows {
                let budget = if r.what == "mixed" && r.rate == 2000 {
                    "50"
                } else {
                    ""
                };
                writeln!(
                    out,
                    "| {backend} | {} | {} | {} | {:.0} | {:.1} | {:.1} | {:.1} | {budget} | {} | {:.1} |",
                    r.what, r.rate, r.sent, r.achieved, r.p50_ms, r.p95_ms, r.p99_ms, r.errors, r.peak_rss_mib
                )
                .ok();
            }
        }
        writeln!(out).ok();
        for n in notes {
            writeln!(out, "- {n}").ok();
        }
        writeln!(out, "\nAbove what it can serve, the server refuses at once with `503 server_busy` and `Retry-After: 5` (the phones back off) instead of queueing without end: at most two database calls per pooled connection run, up to 512 wait, the rest are refused (`api/src/db/mod.rs`). Before that gate the same run at 1,000/s and 2,000/s grew the server to 4.4 GiB and 5.2 GiB RSS with every request timing out. The errors column counts those 503s and any time-out. Where the time goes: the rows \"only …\" run each kind of call alone at a rate it should hold, so their latencies are each call's cost on this machine; the load generator shares the two cores with the server (the `/healthz` baseline shows what the HTTP stack and the generator alone cost).\n").ok();
    }

    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("BENCHMARKS.md");
    // A run replaces the sections it measured and keeps the others (the province suite, which runs
    // only when asked for; the web app's, written by its own script; the profiles written by hand).
    // A run of one suite also keeps the header of the last full run.
    let out = match std::fs::read_to_string(&path) {
        Ok(old) => merge_section(&old, &out, only.is_some()),
        Err(_) => out,
    };
    std::fs::write(&path, &out).expect("write BENCHMARKS.md");
    print!("{out}");
    eprintln!("bench: wrote {}", path.display());
}

/// The `## ` sections of `new` put into `old` in place of the sections with the same heading (or at
/// the end). For one suite (`single`) the header (machine, date, commit of the last full run) stays
/// and each replaced section says when, at which commit and on which machine it was measured; a
/// full run writes its own header.
fn merge_section(old: &str, new: &str, single: bool) -> String {
    fn split(text: &str) -> (String, Vec<(String, String)>) {
        let mut head = String::new();
        let mut sections: Vec<(String, String)> = vec![];
        for line in text.split_inclusive('\n') {
            if line.starts_with("## ") {
                sections.push((line.trim().to_owned(), line.to_owned()));
            } else if let Some(last) = sections.last_mut() {
                last.1.push_str(line);
            } else {
                head.push_str(line);
            }
        }
        (head, sections)
    }
    let (old_head, mut sections) = split(old);
    let (new_head, fresh) = split(new);
    let head = if single { old_head } else { new_head };
    let note = format!(
        "\n\n_Measured by a run of this suite alone (`BENCH_ONLY`): {}, commit {}, {}._\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        commit(),
        machine()
    );
    for (title, body) in fresh {
        let body = if single {
            body.replacen('\n', &note, 1)
        } else {
            body
        };
        match sections.iter_mut().find(|(t, _)| *t == title) {
            Some(s) => s.1 = body,
            None => sections.push((title, body)),
        }
    }
    let mut out = head;
    for (_, body) in sections {
        out.push_str(&body);
    }
    out
}
