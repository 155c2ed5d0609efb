//! `spawn_app()` starts the real server on port 0 against a fresh database: a temporary SQLite file,
//! or a fresh PostgreSQL database created from `TEST_DATABASE_URL`. Every API test runs on both
//! through [`both_backends!`].

use diesel::connection::SimpleConnection;
use secrecy::ExposeSecret;
use tungnha::config::{DatabaseUrl, Settings};
use tungnha::db::{self, DbConnection, DbManager};
use tungnha::startup::Application;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Generates `mod <test> { fn sqlite(); fn postgres(); }` for each `async fn <test>(app: TestApp)`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let app = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await;
                    super::$name(app).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(not(tungnha_postgres), ignore = "no PostgreSQL: set TEST_DATABASE_URL (make test does when a server answers on 127.0.0.1:5432)")]
                async fn postgres() {
                    if let Some(app) = $crate::helpers::spawn_postgres_app().await {
                        super::$name(app).await
                    }
                }
            }
        )+
    };
}

/// As [`both_backends!`], on a server whose settings `$change` (a `fn(&mut Settings)`) alters.
#[macro_export]
macro_rules! both_backends_with {
    ($change:ident => $($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    let app = $crate::helpers::spawn_app_with(
                        $crate::helpers::Backend::Sqlite,
                        super::$change,
                    )
                    .await;
                    super::$name(app).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(not(tungnha_postgres), ignore = "no PostgreSQL: set TEST_DATABASE_URL (make test does when a server answers on 127.0.0.1:5432)")]
                async fn postgres() {
                    if $crate::helpers::postgres_base_url().is_some() {
                        let app = $crate::helpers::spawn_app_with(
                            $crate::helpers::Backend::Postgres,
                            super::$change,
                        )
                        .await;
                        super::$name(app).await
                    }
                }
            }
        )+
    };
}

/// The PostgreSQL server to create test databases on, if any. With `TUNGNHA_REQUIRE_POSTGRES=1` (CI)
/// a missing URL fails the test instead of skipping it.
pub fn postgres_base_url() -> Option<String> {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("TUNGNHA_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "TUNGNHA_REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set"
            );
            None
        }
    }
}

pub async fn spawn_postgres_app() -> Option<TestApp> {
    postgres_base_url()?;
    Some(spawn_app(Backend::Postgres).await)
}

/// A fresh, empty database; dropped (PostgreSQL) or deleted (SQLite) with the guard.
pub struct TestDatabase {
    pub url: DatabaseUrl,
    pub dir: tempfile::TempDir,
    pg: Option<(String, String)>,
}

impl TestDatabase {
    /// A SQLite file at a given path (a restored backup, or a new file on a small disk of its own),
    /// with a fresh folder beside it for the server's logs and settings.
    pub fn sqlite_file(path: std::path::PathBuf) -> Self {
        TestDatabase {
            url: DatabaseUrl::Sqlite(path),
            dir: tempfile::tempdir().expect("temp dir"),
            pg: None,
        }
    }

    pub fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => {
                let url = DatabaseUrl::Sqlite(dir.path().join("test.db"));
                TestDatabase { url, dir, pg: None }
            }
            Backend::Postgres => {
                let base = postgres_base_url().expect("TEST_DATABASE_URL");
                let name = format!("tungnha_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin =
                    DbManager::new(DatabaseUrl::parse(&base).expect("TEST_DATABASE_URL"))
                        .establish()
                        .unwrap_or_else(|e| {
                            panic!("cannot reach PostgreSQL at TEST_DATABASE_URL: {e}")
                        });
                admin
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .expect("create database");
                let url = DatabaseUrl::parse(&with_database(&base, &name)).expect("url");
                TestDatabase {
                    url,
                    dir,
                    pg: Some((base, name)),
                }
            }
        }
    }

    /// On PostgreSQL, the URL this database was created from (`TEST_DATABASE_URL`, a maintenance
    /// database) and the database's name.
    pub fn postgres_names(&self) -> Option<(&str, &str)> {
        self.pg
            .as_ref()
            .map(|(base, name)| (base.as_str(), name.as_str()))
    }

    pub fn connect(&self) -> DbConnection {
        DbManager::new(self.url.clone())
            .establish()
            .expect("connect to the test database")
    }

    /// On PostgreSQL, waits until every transaction that began before this call has ended, so a
    /// pull sees everything committed so far (pulls stop at the cluster-wide xmin). Nothing on SQLite.
    pub async fn settle(&self) {
        if self.url.is_sqlite() {
            return;
        }
        use diesel::prelude::*;
        #[derive(QueryableByName)]
        struct X {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            x: i64,
        }
        let mut conn = self.connect();
        let mark = diesel::sql_query("SELECT pg_current_xact_id()::text::bigint AS x")
            .get_result::<X>(&mut conn)
            .expect("xid")
            .x;
        for _ in 0..500 {
            let xmin = diesel::sql_query(
                "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint AS x",
            )
            .get_result::<X>(&mut conn)
            .expect("xmin")
            .x;
            if xmin > mark {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        panic!("PostgreSQL transactions older than {mark} did not end within 10 s");
    }

    /// The URL as an operator would set it in TUNGNHA_DATABASE_URL.
    pub fn url_string(&self) -> String {
        match &self.url {
            DatabaseUrl::Sqlite(p) => format!("sqlite://{}", p.display()),
            DatabaseUrl::Postgres(s) => s.expose_secret().to_owned(),
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some((base, name)) = self.pg.take() {
            // The server may still hold pooled connections; FORCE ends them (PostgreSQL ≥ 13).
            let _ = std::thread::spawn(move || {
                if let Ok(mut admin) =
                    DbManager::new(DatabaseUrl::parse(&base).expect("url")).establish()
                {
                    let _ = admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            })
            .join();
        }
    }
}

/// Replaces the database name in a postgres:// URL.
fn with_database(base: &str, name: &str) -> String {
    let (before_query, query) = match base.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (base, None),
    };
    let scheme_end = before_query.find("://").map(|i| i + 3).unwrap_or(0);
    let path_start = before_query[scheme_end..].find('/').map(|i| i + scheme_end);
    let host_part = match path_start {
        Some(i) => &before_query[..i],
        None => before_query,
    };
    match query {
        Some(q) => format!("{host_part}/{name}?{q}"),
        None => format!("{host_part}/{name}"),
    }
}

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub db: TestDatabase,
    pub settings: Settings,
}

pub const TEST_INDEX_HTML: &str =
    "<!doctype html><html lang=\"vi\"><head><title>Từng Nhà</title></head><body>shell</body></html>";

pub fn test_settings(db: &TestDatabase) -> Settings {
    let pwa_dir = db.dir.path().join("pwa");
    std::fs::create_dir_all(pwa_dir.join("assets")).expect("pwa dir");
    std::fs::write(pwa_dir.join("index.html"), TEST_INDEX_HTML).expect("index");
    std::fs::write(
        pwa_dir.join("assets/app-3f9a1c.js"),
        "console.log('từng nhà')",
    )
    .expect("asset");
    std::fs::write(
        pwa_dir.join("sw.js"),
        "self.addEventListener('fetch', () => {})",
    )
    .expect("sw");
    let mut settings = Settings::from_source(|_| Ok(None)).expect("defaults");
    settings.database_url = db.url.clone();
    settings.bind = "127.0.0.1:0".parse().expect("addr");
    settings.data_dir = db.dir.path().join("data");
    settings.pwa_dir = pwa_dir;
    settings.workers = 2;
    settings.db_pool_size = 4;
    // Webhook retries in milliseconds, three tries before the dead-letter list.
    settings.webhook_poll_ms = 20;
    settings.webhook_retry_base_ms = 30;
    settings.webhook_max_attempts = 3;
    settings.indicator_watch_ms = 100;
    // The receivers of the webhook tests listen on loopback, which an operator must allow; no name
    // is ever looked up in DNS (only the host table resolves).
    settings.webhook_targets =
        tungnha::webhooks::target::TargetPolicy::parse("127.0.0.1", "", false).expect("valid");
    settings
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// A server with some settings changed from the tests' defaults.
pub async fn spawn_app_with(backend: Backend, change: impl FnOnce(&mut Settings)) -> TestApp {
    let db = TestDatabase::new(backend);
    let mut settings = test_settings(&db);
    change(&mut settings);
    let app = Application::build(settings.clone())
        .await
        .expect("the server builds");
    let port = app.port();
    tokio::spawn(app.run_until_stopped());
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        db,
        settings,
    }
}

impl TestApp {
    /// A second server instance on the same database and settings (as behind a load balancer);
    /// returns its base address. It shares the first one's token-signing key through `data_dir`.
    pub async fn second_instance(&self) -> String {
        let app = Application::build(self.settings.clone())
            .await
            .expect("the second server builds");
        let port = app.port();
        tokio::spawn(app.run_until_stopped());
        format!("http://127.0.0.1:{port}")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }

    pub async fn get_authed(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("request")
    }

    pub async fn post_json(&self, path: &str, body: &serde_json::Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .json(body)
            .send()
            .await
            .expect("request")
    }

    pub fn conn(&self) -> DbConnection {
        self.db.connect()
    }

    /// Creates a user directly in the database and returns its id.
    pub fn create_user(&self, username: &str, password: &str, role: &str) -> String {
        let hash = tungnha::auth::password::hash(
            &tungnha::domain::Password::parse(password, "password").expect("valid password"),
        )
        .expect("hash");
        let id = db::new_id();
        let now = db::now();
        db::users::insert(
            &mut self.conn(),
            &db::users::NewUser {
                id: &id,
                username,
                password_hash: &hash,
                display_name: "Người dùng thử",
                role,
                department: None,
                commune_id: None,
                active: true,
                must_change_password: false,
                created_at: now,
                updated_at: now,
            },
        )
        .expect("insert user");
        id
    }

    /// Logs in and returns the whole JSON answer.
    pub async fn login(&self, username: &str, password: &str) -> serde_json::Value {
        let res = self
            .post_json(
                "/api/v1/auth/login",
                &serde_json::json!({"username": username, "password": password}),
            )
            .await;
        assert_eq!(res.status(), 200, "login of {username} failed");
        res.json().await.expect("json")
    }
}

/// Reads a problem+json answer, checking its media type, status member and code.
pub async fn assert_problem(res: reqwest::Response, status: u16, code: &str) -> serde_json::Value {
    assert_eq!(res.status().as_u16(), status, "unexpected status");
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(
        content_type.starts_with("application/problem+json"),
        "content type was {content_type}"
    );
    let body: serde_json::Value = res.json().await.expect("problem body is JSON");
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert!(
        body["title"].is_string() && body["detail"].is_string(),
        "{body}"
    );
    body
}

#[test]
fn database_names_are_replaced_in_postgres_urls() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
}

pub const PASSWORD: &str = "mật khẩu thử nghiệm";

/// One signed-in account of the fixture.
pub struct Account {
    pub id: String,
    pub username: String,
    pub token: String,
    pub refresh_token: String,
}

/// Two communes: Mao Điền (villages v1, v2) and a second one (village v3), with one account per role
/// in Mao Điền, and a chairman and a village leader in the second.
pub struct Fixture {
    pub commune: String,
    pub other_commune: String,
    pub v1: String,
    pub v2: String,
    pub v3: String,
    pub admin: Account,
    pub chairman: Account,
    pub culture_social: Account,
    pub police: Account,
    pub leader: Account,
    pub volunteer: Account,
    pub volunteer_v2: Account,
    pub other_chairman: Account,
    pub other_leader: Account,
}

impl TestApp {
    /// Inserts a user with a commune, department and villages directly.
    pub fn insert_user(
        &self,
        username: &str,
        role: &str,
        department: Option<&str>,
        commune: Option<&str>,
        villages: &[&str],
    ) -> String {
        let id = self.create_user_in(username, PASSWORD, role, department, commune);
        let ids: Vec<String> = villages.iter().map(|v| v.to_string()).collect();
        db::users::set_villages(&mut self.conn(), &id, &ids).expect("villages");
        id
    }

    fn create_user_in(
        &self,
        username: &str,
        password: &str,
        role: &str,
        department: Option<&str>,
        commune: Option<&str>,
    ) -> String {
        let id = self.create_user(username, password, role);
        use diesel::prelude::*;
        use tungnha::db::schema::users::dsl as u;
        diesel::update(u::users.find(&id))
            .set((u::department.eq(department), u::commune_id.eq(commune)))
            .execute(&mut self.conn())
            .expect("update user");
        id
    }

    pub async fn account(&self, id: String, username: &str) -> Account {
        let login = self.login(username, PASSWORD).await;
        Account {
            id,
            username: username.to_owned(),
            token: login["access_token"].as_str().expect("token").to_owned(),
            refresh_token: login["refresh_token"].as_str().expect("refresh").to_owned(),
        }
    }

    pub async fn fixture(&self) -> Fixture {
        let now = db::now();
        let mut conn = self.conn();
        let (commune, other_commune) = (db::new_id(), db::new_id());
        for (id, code, name) in [
            (&commune, "31-11473", "Mao Điền"),
            (&other_commune, "31-99999", "Xã Thử Nghiệm"),
        ] {
            db::geo::insert_commune(
                &mut conn,
                &db::geo::NewCommune {
                    id,
                    code,
                    name,
                    province: "Hải Phòng",
                    created_at: now,
                    updated_at: now,
                },
            )
            .expect("commune");
        }
        let (v1, v2, v3) = (db::new_id(), db::new_id(), db::new_id());
        for (id, c, code, name) in [
            (&v1, &commune, "T01", "Thôn Phú Lộc"),
            (&v2, &commune, "T02", "Thôn Mao Điền"),
            (&v3, &other_commune, "T01", "Thôn Khác"),
        ] {
            db::geo::insert_village(
                &mut conn,
                &db::geo::NewVillage {
                    id,
                    commune_id: c,
                    code,
                    name,
                    created_at: now,
                    updated_at: now,
                },
            )
            .expect("village");
        }
        let c = Some(commune.as_str());
        let ids = [
            self.insert_user("admin", "admin", None, None, &[]),
            self.insert_user("chu.tich", "chairman", None, c, &[]),
            self.insert_user("vhxh", "department", Some("culture_social"), c, &[]),
            self.insert_user("cong.an", "department", Some("police"), c, &[]),
            self.insert_user("truong.thon", "village_leader", None, c, &[&v1]),
            self.insert_user("tinh.nguyen", "volunteer", None, c, &[&v1]),
            self.insert_user("tinh.nguyen2", "volunteer", None, c, &[&v2]),
            self.insert_user("chu.tich.khac", "chairman", None, Some(&other_commune), &[]),
            self.insert_user(
                "truong.thon.khac",
                "village_leader",
                None,
                Some(&other_commune),
                &[&v3],
            ),
        ];
        let [a, ch, cs, po, le, vo, vo2, och, ole] = ids;
        Fixture {
            admin: self.account(a, "admin").await,
            chairman: self.account(ch, "chu.tich").await,
            culture_social: self.account(cs, "vhxh").await,
            police: self.account(po, "cong.an").await,
            leader: self.account(le, "truong.thon").await,
            volunteer: self.account(vo, "tinh.nguyen").await,
            volunteer_v2: self.account(vo2, "tinh.nguyen2").await,
            other_chairman: self.account(och, "chu.tich.khac").await,
            other_leader: self.account(ole, "truong.thon.khac").await,
            commune,
            other_commune,
            v1,
            v2,
            v3,
        }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&serde_json::Value>,
    ) -> reqwest::Response {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        req.send().await.expect("request")
    }

    /// The server's signing secret, to forge tokens in tests.
    pub fn jwt_secret(&self) -> String {
        std::fs::read_to_string(self.settings.data_dir.join("jwt-secret"))
            .expect("secret")
            .trim()
            .to_owned()
    }
}

/// A household (head "Nguyễn Văn Đức", resident "Nguyễn Thị Hoa") and a team of village v1.
pub struct RegistryFixture {
    pub household: String,
    /// An open sync conflict on the household (a stale offline edit by the leader).
    pub conflict: String,
    /// A visit to the household, with the note "Ghi chú riêng của tổ".
    pub record: String,
    pub resident: String,
    pub team: String,
    pub member: String,
    pub service: String,
}

impl TestApp {
    pub async fn registry_fixture(&self, f: &Fixture) -> RegistryFixture {
        let res = self
            .send(
                reqwest::Method::POST,
                "/api/v1/households",
                Some(&f.leader.token),
                Some(&serde_json::json!({
                    "village_id": f.v1, "hamlet": "Xóm Đông", "lane": "Ngõ 3", "house_number": "12",
                    "head_name": "Nguyễn Văn Đức", "phone": "0912 345 678",
                    "consent": { "notice_version": "2026-10" },
                    "residents": [
                        { "full_name": "Nguyễn Văn Đức", "birth_year": 1958, "sex": "male", "relation_to_head": "Chủ hộ" },
                        { "full_name": "Nguyễn Thị Hoa", "birth_year": 1962, "sex": "female", "relation_to_head": "Vợ" }
                    ]
                })),
            )
            .await;
        assert_eq!(res.status(), 201, "create household");
        let h: serde_json::Value = res.json().await.expect("json");
        let resident = h["residents"]
            .as_array()
            .expect("residents")
            .iter()
            .find(|r| r["full_name"] == "Nguyễn Thị Hoa")
            .expect("Hoa")["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let res = self
            .send(
                reqwest::Method::POST,
                "/api/v1/teams",
                Some(&f.leader.token),
                Some(&serde_json::json!({
                    "village_id": f.v1, "name": "Tổ CNSCĐ thôn Phú Lộc",
                    "decision_number": "115/QĐ-UBND", "decision_date": "2026-09-25"
                })),
            )
            .await;
        assert_eq!(res.status(), 201, "create team");
        let team = res.json::<serde_json::Value>().await.expect("json")["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let res = self
            .send(
                reqwest::Method::POST,
                &format!("/api/v1/teams/{team}/members"),
                Some(&f.leader.token),
                Some(&serde_json::json!({
                    "full_name": "Lương Thị Mai", "position": "member", "origin": "womens_union", "active_from": "2026-10-01"
                })),
            )
            .await;
        assert_eq!(res.status(), 201, "add member");
        let member = res.json::<serde_json::Value>().await.expect("json")["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let services: serde_json::Value = self
            .get_authed("/api/v1/services", &f.admin.token)
            .await
            .json()
            .await
            .expect("json");
        let service = services["items"]
            .as_array()
            .expect("items")
            .iter()
            .find(|s| s["code"] == "vneid_level2")
            .expect("vneid")["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let household = h["id"].as_str().expect("id").to_owned();
        let stale = serde_json::json!({"device_id": "fixture-phone", "records": [{
            "kind": "household", "id": household, "op": "update", "base_version": 0, "data": {"lane": "Ngõ cũ"}
        }]});
        let res = self
            .send(
                reqwest::Method::POST,
                "/api/v1/sync/push",
                Some(&f.leader.token),
                Some(&stale),
            )
            .await;
        let pushed: serde_json::Value = res.json().await.expect("json");
        assert_eq!(pushed["results"][0]["status"], "conflict", "{pushed}");
        let conflicts: serde_json::Value = self
            .get_authed("/api/v1/conflicts", &f.leader.token)
            .await
            .json()
            .await
            .expect("json");
        let conflict = conflicts["items"][0]["id"]
            .as_str()
            .expect("conflict")
            .to_owned();
        let record = uuid::Uuid::now_v7().to_string();
        let visit = serde_json::json!({"id": record, "data": {
            "household_id": household, "resident_ids": [resident], "occurred_at": "2026-11-20T03:00:00Z",
            "channel": "house_visit", "items": [{"service_code": "vneid_level2", "outcome": "assisted"}],
            "notes": "Ghi chú riêng của tổ"}});
        let res = self
            .send(
                reqwest::Method::POST,
                "/api/v1/assistance-records",
                Some(&f.volunteer.token),
                Some(&visit),
            )
            .await;
        assert_eq!(res.status(), 201, "visit");
        RegistryFixture {
            household,
            conflict,
            record,
            resident,
            team,
            member,
            service,
        }
    }
}

impl TestApp {
    /// On PostgreSQL a pull sees a change once every transaction older than it has ended, anywhere
    /// on the server (other tests write to other databases meanwhile). Waits for that, so a test's
    /// pull sees everything written before it; on SQLite there is nothing to wait for.
    pub async fn settle(&self) {
        self.db.settle().await
    }
}

/// One object of each kind that has an id in a path (an API key, a webhook, a funding entry, a plan,
/// a report, a difficulty, a training with attendance, a published guide with an attachment, a
/// campaign, an award proposal), made in Mao Điền by the roles that make them: the concrete paths.
pub struct ScopedObjects {
    pub user: String,
    pub api_key: String,
    pub webhook: String,
    pub funding: String,
    pub plan: String,
    pub hh: String,
    pub report: String,
    pub difficulty: String,
    pub training: String,
    pub guide: String,
    /// An attachment id of `guide`.
    pub file: String,
    pub campaign: String,
    pub proposal: String,
}

impl TestApp {
    pub async fn scoped_objects(&self, f: &Fixture, reg: &RegistryFixture) -> ScopedObjects {
        let user = format!("/api/v1/users/{}", f.volunteer.id);
        let res = self
        .send(
            reqwest::Method::POST,
            "/api/v1/api-keys",
            Some(&f.admin.token),
            Some(&serde_json::json!({"name": "Khóa tích hợp riêng", "scopes": ["stats:read"], "commune_id": f.commune})),
        )
        .await;
        assert_eq!(res.status(), 201);
        let api_key = format!(
            "/api/v1/api-keys/{}",
            res.json::<serde_json::Value>().await.expect("json")["api_key"]["id"]
                .as_str()
                .expect("id")
        );
        let res = self
        .send(
            reqwest::Method::POST,
            "/api/v1/webhooks",
            Some(&f.admin.token),
            Some(&serde_json::json!({"name": "Nhận sự kiện riêng", "url": "https://example.org/hook", "events": ["report.approved"], "commune_id": f.commune})),
        )
        .await;
        assert_eq!(res.status(), 201);
        let webhook = format!(
            "/api/v1/webhooks/{}",
            res.json::<serde_json::Value>().await.expect("json")["webhook"]["id"]
                .as_str()
                .expect("id")
        );
        let res = self
        .send(
            reqwest::Method::POST,
            "/api/v1/funding",
            Some(&f.culture_social.token),
            Some(&serde_json::json!({"direction": "received", "source": "sponsorship", "category": "cash",
                "party": "Nhà tài trợ riêng", "amount_vnd": 1_000_000, "occurred_on": "2026-10-01"})),
        )
        .await;
        assert_eq!(res.status(), 201);
        let funding = format!(
            "/api/v1/funding/{}/void",
            res.json::<serde_json::Value>().await.expect("json")["id"]
                .as_str()
                .expect("id")
        );
        let res = self
        .send(
            reqwest::Method::POST,
            "/api/v1/plans",
            Some(&f.culture_social.token),
            Some(
                &serde_json::json!({"period": "quarter", "date": "2026-10-01", "number": "9/KH-UBND",
                "issued_on": "2026-10-02", "signer": "Chủ tịch", "purpose": "Kế hoạch riêng của xã",
                "tasks": []}),
            ),
        )
        .await;
        assert_eq!(res.status(), 201);
        let plan = format!(
            "/api/v1/plans/{}",
            res.json::<serde_json::Value>().await.expect("json")["id"]
                .as_str()
                .expect("id")
        );
        let hh = format!("/api/v1/households/{}", reg.household);
        let report = self
            .send(
                reqwest::Method::POST,
                "/api/v1/reports",
                Some(&f.culture_social.token),
                Some(&serde_json::json!({"period": "quarter", "date": "2026-11-20"})),
            )
            .await;
        assert_eq!(report.status(), 201);
        let report = format!(
            "/api/v1/reports/{}",
            report.json::<serde_json::Value>().await.expect("json")["id"]
                .as_str()
                .expect("id")
        );
        let res = self
        .send(
            reqwest::Method::POST,
            "/api/v1/difficulties",
            Some(&f.volunteer.token),
            Some(&serde_json::json!({"data": {"raised_at": "2026-11-21T00:30:00Z", "village_id": f.v1, "title": "Khó khăn riêng của thôn", "description": "Mô tả", "service_codes": []}})),
        )
        .await;
        assert_eq!(res.status(), 201);
        let difficulty = format!(
            "/api/v1/difficulties/{}",
            res.json::<serde_json::Value>().await.expect("json")["id"]
                .as_str()
                .expect("id")
        );
        let res = self
        .send(
            reqwest::Method::POST,
            "/api/v1/trainings",
            Some(&f.police.token),
            Some(&serde_json::json!({"topic": "Tập huấn riêng của xã", "held_on": "2026-11-10", "place": "Hội trường", "mode": "in_person"})),
        )
        .await;
        assert_eq!(res.status(), 201);
        let training = format!(
            "/api/v1/trainings/{}",
            res.json::<serde_json::Value>().await.expect("json")["id"]
                .as_str()
                .expect("id")
        );
        let res = self
            .send(
                reqwest::Method::PUT,
                &format!("{training}/attendance"),
                Some(&f.police.token),
                Some(
                    &serde_json::json!({"entries": [{"member_id": reg.member, "attended": true}]}),
                ),
            )
            .await;
        assert_eq!(res.status(), 200);
        let guide = crate::materials::draft(self, &f.police.token, "Hướng dẫn riêng của xã").await;
        let guide = format!("/api/v1/materials/{}", guide["id"].as_str().expect("id"));
        let file = self
            .client
            .post(self.url(&format!("{guide}/attachments?file_name=anh.png")))
            .bearer_auth(&f.police.token)
            .body(crate::materials::PNG.to_vec())
            .send()
            .await
            .expect("upload");
        assert_eq!(file.status(), 201);
        let file = file.json::<serde_json::Value>().await.expect("json")["id"]
            .as_str()
            .expect("id")
            .to_owned();
        let res = self
            .send(
                reqwest::Method::PATCH,
                &guide,
                Some(&f.police.token),
                Some(&serde_json::json!({"base_version": 1, "attachment_ids": [file]})),
            )
            .await;
        assert_eq!(res.status(), 200);
        let res = self
            .send(
                reqwest::Method::POST,
                &format!("{guide}/publish"),
                Some(&f.police.token),
                None,
            )
            .await;
        assert_eq!(res.status(), 200);
        let res = self
        .send(
            reqwest::Method::POST,
            "/api/v1/campaigns",
            Some(&f.culture_social.token),
            Some(&serde_json::json!({"name": "Thi đua riêng của xã", "starts_on": "2026-10-01", "ends_on": "2026-12-31", "rules": [{"service_code": "vneid_level2", "points": 1}]})),
        )
        .await;
        assert_eq!(res.status(), 201);
        let campaign = format!(
            "/api/v1/campaigns/{}",
            res.json::<serde_json::Value>().await.expect("json")["id"]
                .as_str()
                .expect("id")
        );
        let res = self
        .send(
            reqwest::Method::POST,
            "/api/v1/award-proposals",
            Some(&f.culture_social.token),
            Some(&serde_json::json!({"subject_kind": "team", "subject_id": reg.team, "award": "Giấy khen riêng của xã", "reason": "Tích cực", "period_start": "2026-10-01", "period_end": "2026-12-31"})),
        )
        .await;
        assert_eq!(res.status(), 201);
        let proposal = format!(
            "/api/v1/award-proposals/{}",
            res.json::<serde_json::Value>().await.expect("json")["id"]
                .as_str()
                .expect("id")
        );
        ScopedObjects {
            user,
            api_key,
            webhook,
            funding,
            plan,
            hh,
            report,
            difficulty,
            training,
            guide,
            file,
            campaign,
            proposal,
        }
    }
}

impl TestApp {
    /// A new API key of the fixture's commune with one scope (made by the administrator); its
    /// secret, as shown once.
    pub async fn api_key(&self, f: &Fixture, scope: &str) -> String {
        let res = self
            .send(
                reqwest::Method::POST,
                "/api/v1/api-keys",
                Some(&f.admin.token),
                Some(
                    &serde_json::json!({"name": format!("Khóa {scope}"), "scopes": [scope],
                                         "commune_id": f.commune, "rate_per_minute": 6000}),
                ),
            )
            .await;
        assert_eq!(res.status(), 201, "API key {scope}");
        res.json::<serde_json::Value>().await.expect("json")["key"]
            .as_str()
            .expect("key")
            .to_owned()
    }
}
