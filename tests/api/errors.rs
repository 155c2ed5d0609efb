use crate::both_backends;
use crate::helpers::{assert_problem, TestApp};

both_backends!(
    malformed_json_is_a_400_problem,
    a_body_of_the_wrong_shape_is_a_400_problem,
    an_oversized_body_is_a_413_problem_and_changes_nothing,
    a_body_that_is_not_json_is_a_415_problem,
    an_unknown_api_route_is_a_404_problem,
    a_wrong_method_is_a_problem_too,
    gzip_is_offered_to_clients_that_accept_it,
);

async fn malformed_json_is_a_400_problem(app: TestApp) {
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body("{\"username\": \"admin\", ")
        .send()
        .await
        .expect("request");
    let body = assert_problem(res, 400, "malformed_json").await;
    assert_eq!(body["type"], "about:blank");
    assert_eq!(body["title"], "Bad Request");
}

async fn a_body_of_the_wrong_shape_is_a_400_problem(app: TestApp) {
    let res = app
        .post_json("/api/v1/auth/login", &serde_json::json!({"username": 5}))
        .await;
    assert_problem(res, 400, "invalid_body").await;
    let res = app
        .post_json(
            "/api/v1/auth/login",
            &serde_json::json!({"username": "a", "password": "b", "role": "admin"}),
        )
        .await;
    assert_problem(res, 400, "invalid_body").await;
}

async fn an_oversized_body_is_a_413_problem_and_changes_nothing(app: TestApp) {
    let big = "x".repeat(app.settings.json_limit_bytes + 1);
    let body = serde_json::json!({"username": big, "password": "whatever"}).to_string();
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("request");
    assert_problem(res, 413, "payload_too_large").await;
    // Nothing was read, so nothing was logged as a login attempt.
    use diesel::prelude::*;
    use tungnha::db::schema::audit_events;
    let n: i64 = audit_events::table
        .count()
        .get_result(&mut app.conn())
        .expect("count");
    assert_eq!(n, 0);
}

async fn a_body_that_is_not_json_is_a_415_problem(app: TestApp) {
    let res = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("content-type", "text/plain")
        .body("username=admin")
        .send()
        .await
        .expect("request");
    assert_problem(res, 415, "unsupported_media_type").await;
}

async fn an_unknown_api_route_is_a_404_problem(app: TestApp) {
    assert_problem(
        app.get("/api/v1/no-such-thing").await,
        404,
        "route_not_found",
    )
    .await;
    assert_problem(app.get("/api/v2/households").await, 404, "route_not_found").await;
}

async fn a_wrong_method_is_a_problem_too(app: TestApp) {
    let res = app
        .client
        .delete(app.url("/api/v1/auth/login"))
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    assert!(status == 404 || status == 405, "status {status}");
    let ct = res
        .headers()
        .get("content-type")
        .expect("ct")
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(ct.starts_with("application/problem+json"), "{ct}");
}

async fn gzip_is_offered_to_clients_that_accept_it(app: TestApp) {
    let res = app
        .client
        .get(app.url("/openapi.json"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    // reqwest decodes gzip transparently and drops the header, so ask without decoding.
    let raw = reqwest::Client::builder()
        .no_gzip()
        .build()
        .expect("client");
    let res = raw
        .get(app.url("/openapi.json"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("request");
    assert_eq!(
        res.headers().get("content-encoding").expect("encoded"),
        "gzip"
    );
    let res = raw
        .get(app.url("/openapi.json"))
        .header("accept-encoding", "br")
        .send()
        .await
        .expect("request");
    assert_eq!(
        res.headers().get("content-encoding").expect("encoded"),
        "br"
    );
}
