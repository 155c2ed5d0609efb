//! `make bench`: runs the benchmark suites against the release server binary and rewrites
//! BENCHMARKS.md with the figures, the machine, the date and the commit. Not a test: nothing here
//! asserts on time; it measures and reports against the budgets in DESIGN §7.
//!
//! Suites: `logins` (burst of concurrent logins: logins/s, latency, server peak RSS) and
//! `village_list` (a village leader pages through a 2,000-household village with adoption summaries).
//! `BENCH_ONLY=logins` runs one suite; `BENCH_DATABASE_URL=postgres://…/postgres` adds PostgreSQL runs.

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
        writeln!(out, "A burst of concurrent logins against the server process. Hashing runs on the blocking pool, at most one hash per worker at a time, so a burst queues instead of exhausting memory.\n").ok();
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

    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("BENCHMARKS.md");
    std::fs::write(&path, &out).expect("write BENCHMARKS.md");
    print!("{out}");
    eprintln!("bench: wrote {}", path.display());
}
