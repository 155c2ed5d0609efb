use crate::both_backends;
use crate::helpers::{assert_problem, TestApp, TEST_INDEX_HTML};

both_backends!(
    the_pwa_shell_is_served_at_the_root_without_caching,
    hashed_assets_are_cached_for_a_year,
    client_side_routes_fall_back_to_the_shell,
    missing_assets_and_api_paths_do_not_fall_back,
);

fn cache_control(res: &reqwest::Response) -> String {
    res.headers()
        .get("cache-control")
        .map(|v| v.to_str().expect("ascii").to_owned())
        .unwrap_or_default()
}

async fn the_pwa_shell_is_served_at_the_root_without_caching(app: TestApp) {
    let res = app.get("/").await;
    assert_eq!(res.status(), 200);
    assert_eq!(cache_control(&res), "no-cache");
    assert_eq!(res.text().await.expect("text"), TEST_INDEX_HTML);
    let res = app.get("/sw.js").await;
    assert_eq!(res.status(), 200);
    assert_eq!(cache_control(&res), "no-cache");
}

async fn hashed_assets_are_cached_for_a_year(app: TestApp) {
    let res = app.get("/assets/app-3f9a1c.js").await;
    assert_eq!(res.status(), 200);
    assert_eq!(cache_control(&res), "public, max-age=31536000, immutable");
    assert_eq!(res.text().await.expect("text"), "console.log('từng nhà')");
}

async fn client_side_routes_fall_back_to_the_shell(app: TestApp) {
    let res = app
        .get("/households/0193a1b2-aaaa-7bbb-8ccc-123456789abc")
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.expect("text"), TEST_INDEX_HTML);
}

async fn missing_assets_and_api_paths_do_not_fall_back(app: TestApp) {
    assert_eq!(app.get("/assets/app-old.js").await.status(), 404);
    assert_problem(
        app.get("/api/v1/households-typo").await,
        404,
        "route_not_found",
    )
    .await;
    // Only GET is answered with the shell; other methods on a page are refused, as problem+json.
    let res = app
        .client
        .post(app.url("/some/page"))
        .send()
        .await
        .expect("request");
    assert_problem(res, 405, "method_not_allowed").await;
}

/// The copy of the web app inside the binary (no `pwa_dir`): the server started from an empty
/// folder, with no configuration file and nothing beside it but its data folder, serves the app
/// exactly as `pwa/dist` held it, with the same caching rules, and signs people in.
#[tokio::test]
#[cfg_attr(
    not(tungnha_pwa_built),
    ignore = "pwa/dist was not built before the server was compiled (make test builds it first)"
)]
async fn one_binary_serves_the_built_in_app() {
    use std::process::{Command, Stdio};
    let dist = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("pwa/dist");
    let host = tempfile::tempdir().expect("dir");
    let bin = host.path().join("tungnha");
    std::fs::copy(env!("CARGO_BIN_EXE_tungnha"), &bin).expect("copy the binary");
    let run = |args: &[&str]| {
        let mut c = Command::new(&bin);
        c.args(args)
            .current_dir(host.path())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn");
        c
    };
    let mut admin = run(&["create-admin", "--username", "admin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("create-admin");
    std::io::Write::write_all(
        &mut admin.stdin.take().expect("stdin"),
        b"a long enough password\n",
    )
    .expect("password");
    assert!(admin.wait().expect("wait").success());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = run(&["serve"])
        .env("TUNGNHA_BIND", format!("127.0.0.1:{port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let http = reqwest::Client::new();
    let mut up = false;
    for _ in 0..400 {
        if http.get(format!("{base}/healthz")).send().await.is_ok() {
            up = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(up, "the server answers");
    let index = std::fs::read(dist.join("index.html")).expect("index");
    let res = http.get(format!("{base}/")).send().await.expect("get /");
    assert_eq!(res.status(), 200);
    assert_eq!(cache_control(&res), "no-cache");
    assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(res.bytes().await.expect("body").as_ref(), index.as_slice());
    // A client-side route gets the shell; a missing asset does not.
    let res = http
        .get(format!(
            "{base}/households/0193a1b2-aaaa-7bbb-8ccc-123456789abc"
        ))
        .send()
        .await
        .expect("route");
    assert_eq!(res.bytes().await.expect("body").as_ref(), index.as_slice());
    let res = http
        .get(format!("{base}/assets/app-old.js"))
        .send()
        .await
        .expect("stale");
    assert_eq!(res.status(), 404);
    // Every file of the build, byte for byte; assets cached for good, with an ETag that answers 304.
    let mut files = 0;
    for entry in std::fs::read_dir(dist.join("assets")).expect("assets") {
        let name = entry
            .expect("entry")
            .file_name()
            .into_string()
            .expect("utf8");
        let url = format!("{base}/assets/{name}");
        let res = http.get(&url).send().await.expect("asset");
        assert_eq!(res.status(), 200, "{name}");
        assert_eq!(cache_control(&res), "public, max-age=31536000, immutable");
        let etag = res.headers()["etag"].clone();
        let body = res.bytes().await.expect("body");
        assert_eq!(
            body.as_ref(),
            std::fs::read(dist.join("assets").join(&name)).expect("file"),
            "{name}"
        );
        let again = http
            .get(&url)
            .header("if-none-match", etag)
            .send()
            .await
            .expect("again");
        assert_eq!(again.status(), 304, "{name}");
        files += 1;
    }
    assert!(files > 3, "the build has its assets");
    let res = http.get(format!("{base}/sw.js")).send().await.expect("sw");
    assert_eq!(cache_control(&res), "no-cache");
    assert_eq!(
        res.bytes().await.expect("body").as_ref(),
        std::fs::read(dist.join("sw.js")).expect("sw").as_slice()
    );
    // The built-in defaults hold (a data folder beside the binary, SQLite), and sign-in works.
    let res = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "admin", "password": "a long enough password"}))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 200);
    assert!(host.path().join("data/tungnha.db").is_file());
    let _ = server.kill();
    let _ = server.wait();
}
