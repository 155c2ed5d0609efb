//! The server's log as the binary writes it: `log_format = "json"` gives one JSON object per line,
//! and a request's access line carries the request id its answer gave in `x-request-id`.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::Value;

/// The server binary on a fresh SQLite file, listening on a free loopback port, with no settings
/// file, no name server for webhooks, and the given log format.
fn spawn(dir: &std::path::Path, log_format: &str) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tungnha"))
        .arg("serve")
        .env(
            "TUNGNHA_DATABASE_URL",
            format!("sqlite://{}", dir.join("t.db").display()),
        )
        .env("TUNGNHA_CONFIG_DIR", dir)
        .env("TUNGNHA_DATA_DIR", dir.join("data"))
        .env("TUNGNHA_PWA_DIR", dir.join("pwa"))
        .env("TUNGNHA_BIND", "127.0.0.1:0")
        .env("TUNGNHA_WORKERS", "1")
        .env("TUNGNHA_WEBHOOK_DNS", "false")
        .env("TUNGNHA_LOG_FORMAT", log_format)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn tungnha")
}

/// Kills the server when the test ends, whether it passed or not.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_a_line_and_carry_the_request_id() {
    let dir = tempfile::tempdir().expect("dir");
    let mut server = Running(spawn(dir.path(), "json"));
    let stderr = server.0.stderr.take().expect("stderr");
    let mut stdout = server.0.stdout.take().expect("stdout");
    let (tx, lines) = mpsc::channel::<String>();
    let reader = std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen: Vec<String> = vec![];
    let next = |seen: &mut Vec<String>| {
        let line = lines
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("the server stopped logging; so far: {seen:#?}"));
        seen.push(line.clone());
        line
    };

    // The start-up line names the address the server bound (port 0 picked a free one).
    let address = loop {
        let line = next(&mut seen);
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if v["fields"]["message"] == "starting Từng Nhà" {
            break v["fields"]["address"].as_str().expect("address").to_owned();
        }
    };
    assert!(address.starts_with("127.0.0.1:"), "{address}");

    let res = reqwest::get(format!("http://{address}/healthz"))
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let request_id = res
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("x-request-id")
        .to_owned();

    let access = loop {
        let line = next(&mut seen);
        let v: Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
        if v["target"] == "tungnha::access" {
            break v;
        }
    };
    assert_eq!(
        access["span"]["request_id"],
        request_id.as_str(),
        "{access}"
    );
    assert_eq!(access["span"]["http.route"], "/healthz", "{access}");
    assert_eq!(access["fields"]["status"], 200, "{access}");
    assert_eq!(access["level"], "INFO", "{access}");

    drop(server);
    reader.join().expect("reader");
    // Whatever else the server wrote before it was stopped is JSON too.
    seen.extend(lines.try_iter());
    let mut out = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut out).expect("stdout");
    seen.extend(out.lines().map(str::to_owned));
    for line in &seen {
        serde_json::from_str::<Value>(line).unwrap_or_else(|e| panic!("{e}: {line}"));
    }
}

#[test]
fn an_unknown_log_format_stops_start_up_and_names_the_variable() {
    let dir = tempfile::tempdir().expect("dir");
    let out = spawn(dir.path(), "yaml").wait_with_output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("TUNGNHA_LOG_FORMAT") && stderr.contains("yaml"),
        "{stderr}"
    );
    // Nothing was served or created.
    assert!(!dir.path().join("t.db").exists());
}
