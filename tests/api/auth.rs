use crate::both_backends;
use crate::helpers::{assert_problem, TestApp};

both_backends!(
    a_user_logs_in_and_reads_their_profile,
    a_wrong_password_and_an_unknown_user_get_the_same_answer,
    me_requires_a_valid_bearer_token,
    failed_and_successful_logins_are_audited,
);

async fn a_user_logs_in_and_reads_their_profile(app: TestApp) {
    let id = app.create_user("lan.nt", "mật khẩu của Lan", "volunteer");
    let login = app.login("Lan.NT", "mật khẩu của Lan").await;
    assert_eq!(login["token_type"], "Bearer");
    assert_eq!(login["expires_in"], 900);
    assert_eq!(login["user"]["id"], id.as_str());
    let token = login["access_token"].as_str().expect("token");
    let me: serde_json::Value = app
        .get_authed("/api/v1/me", token)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(me["username"], "lan.nt");
    assert_eq!(me["role"], "volunteer");
    assert_eq!(me["display_name"], "Người dùng thử");
}

async fn a_wrong_password_and_an_unknown_user_get_the_same_answer(app: TestApp) {
    app.create_user("lan.nt", "mật khẩu của Lan", "volunteer");
    let wrong = app
        .post_json(
            "/api/v1/auth/login",
            &serde_json::json!({"username": "lan.nt", "password": "nope-nope"}),
        )
        .await;
    let a = assert_problem(wrong, 401, "invalid_credentials").await;
    let unknown = app
        .post_json(
            "/api/v1/auth/login",
            &serde_json::json!({"username": "ghost", "password": "nope-nope"}),
        )
        .await;
    let b = assert_problem(unknown, 401, "invalid_credentials").await;
    assert_eq!(a, b);
}

async fn me_requires_a_valid_bearer_token(app: TestApp) {
    assert_problem(app.get("/api/v1/me").await, 401, "missing_token").await;
    let res = app.get_authed("/api/v1/me", "not.a.jwt").await;
    assert_eq!(
        res.headers().get("www-authenticate").expect("challenge"),
        "Bearer"
    );
    assert_problem(res, 401, "invalid_token").await;
}

async fn failed_and_successful_logins_are_audited(app: TestApp) {
    use diesel::prelude::*;
    use tungnha::db::schema::audit_events::dsl as a;
    app.create_user("lan.nt", "mật khẩu của Lan", "volunteer");
    let _ = app
        .post_json(
            "/api/v1/auth/login",
            &serde_json::json!({"username": "lan.nt", "password": "wrong-password"}),
        )
        .await;
    app.login("lan.nt", "mật khẩu của Lan").await;
    let rows: Vec<(String, String, Option<String>)> = a::audit_events
        .select((a::action, a::actor_label, a::client_addr))
        .order(a::id)
        .load(&mut app.conn())
        .expect("audit");
    assert_eq!(rows.len(), 2);
    assert_eq!(
        (rows[0].0.as_str(), rows[0].1.as_str()),
        ("login_failed", "lan.nt")
    );
    assert_eq!(rows[1].0, "login");
    assert_eq!(rows[1].2.as_deref(), Some("127.0.0.1"));
}

both_backends!(a_login_rehashes_a_password_stored_with_weaker_parameters);

async fn a_login_rehashes_a_password_stored_with_weaker_parameters(app: TestApp) {
    use argon2::PasswordHasher;
    use diesel::prelude::*;
    use tungnha::db::schema::users::dsl as u;
    let id = app.create_user("lan.nt", "mật khẩu của Lan", "volunteer");
    let weak = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(4096, 1, 1, None).expect("params"),
    )
    .hash_password("mật khẩu của Lan".as_bytes())
    .expect("hash")
    .to_string();
    diesel::update(u::users.find(&id))
        .set(u::password_hash.eq(&weak))
        .execute(&mut app.conn())
        .expect("store weak");
    app.login("lan.nt", "mật khẩu của Lan").await;
    let stored: String = u::users
        .find(&id)
        .select(u::password_hash)
        .get_result(&mut app.conn())
        .expect("load");
    assert!(
        stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{stored}"
    );
    assert!(tungnha::auth::password::verify("mật khẩu của Lan", &stored));
    app.login("lan.nt", "mật khẩu của Lan").await;
}
