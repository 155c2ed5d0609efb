use crate::both_backends;
use crate::helpers::TestApp;

both_backends!(
    healthz_answers_ok,
    readyz_reports_a_migrated_database,
    responses_carry_a_request_id
);

async fn healthz_answers_ok(app: TestApp) {
    let res = app.get("/healthz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.expect("json"),
        serde_json::json!({"status": "ok"})
    );
}

async fn readyz_reports_a_migrated_database(app: TestApp) {
    let res = app.get("/readyz").await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.json::<serde_json::Value>().await.expect("json")["status"],
        "ready"
    );

    // Roll the schema back under the running server: it must stop saying it is ready.
    tungnha::db::revert_all_migrations(&mut app.conn()).expect("revert");
    let res = app.get("/readyz").await;
    crate::helpers::assert_problem(res, 503, "migrations_pending").await;
    tungnha::db::run_migrations(&mut app.conn()).expect("re-apply");
    assert_eq!(app.get("/readyz").await.status(), 200);
}

async fn responses_carry_a_request_id(app: TestApp) {
    let a = app.get("/healthz").await;
    let b = app.get("/healthz").await;
    let id = |r: &reqwest::Response| {
        r.headers()
            .get("x-request-id")
            .expect("x-request-id")
            .to_str()
            .expect("ascii")
            .to_owned()
    };
    assert_ne!(id(&a), id(&b));
    uuid::Uuid::parse_str(&id(&a)).expect("a UUID");
}
