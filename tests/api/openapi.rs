use crate::both_backends;
use crate::helpers::TestApp;

both_backends!(
    the_live_spec_matches_the_committed_file,
    swagger_ui_is_served_at_docs
);

async fn the_live_spec_matches_the_committed_file(app: TestApp) {
    let live: serde_json::Value = app.get("/openapi.json").await.json().await.expect("json");
    let committed: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string("openapi/openapi.json")
            .expect("openapi/openapi.json is committed"),
    )
    .expect("the committed spec is JSON");
    assert!(
        live == committed,
        "openapi/openapi.json is stale: run `make openapi` and commit the result"
    );
    assert_eq!(live["openapi"], "3.1.0");
    // Every operation documents its problem responses with the shared schema.
    assert!(live["components"]["schemas"]["Problem"].is_object());
    assert!(live["paths"]["/api/v1/auth/login"]["post"]["responses"]["401"].is_object());
    assert!(live["components"]["securitySchemes"]["bearer"].is_object());
    // Every `$ref` names a schema the document holds (a dangling one makes clients and fuzzers
    // skip the parameter).
    let mut refs = vec![];
    collect_refs(&live, &mut refs);
    assert!(refs.len() > 100, "{}", refs.len());
    for r in refs {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected $ref {r}"));
        assert!(
            live["components"]["schemas"][name].is_object(),
            "$ref {r} names no schema"
        );
    }
    // The extractors' answers are documented on every operation they can come from.
    for (path, item) in live["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("item") {
            let responses = &op["responses"];
            if op["requestBody"]["content"]["application/json"].is_object() {
                for status in ["400", "413", "415"] {
                    assert!(responses[status].is_object(), "{method} {path}: {status}");
                }
            }
            if path.contains('{') {
                assert!(responses["404"].is_object(), "{method} {path}: 404");
            }
            if op["security"].as_array().is_some_and(|s| !s.is_empty()) {
                assert!(responses["401"].is_object(), "{method} {path}: 401");
            }
        }
    }
}

fn collect_refs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("$ref", serde_json::Value::String(r)) => out.push(r.clone()),
                    _ => collect_refs(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_refs(v, out)),
        _ => {}
    }
}

async fn swagger_ui_is_served_at_docs(app: TestApp) {
    let res = app.get("/docs").await;
    assert!(res.status().is_redirection());
    assert_eq!(res.headers().get("location").expect("location"), "/docs/");
    let res = app.get("/docs/").await;
    assert_eq!(res.status(), 200);
    let html = res.text().await.expect("html");
    assert!(html.contains("swagger-ui"), "{html}");
}

#[test]
fn the_cli_prints_the_same_spec_as_the_library() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_tungnha"))
        .arg("openapi")
        .output()
        .expect("run");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).expect("utf8"),
        tungnha::openapi::spec_json()
    );
}
