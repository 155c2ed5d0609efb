use diesel::prelude::*;
use reqwest::Method;
use serde_json::json;
use tungnha::db::schema::refresh_tokens::dsl as rt;

use crate::both_backends;
use crate::helpers::{assert_problem, TestApp, PASSWORD};

both_backends!(
    a_refresh_rotates_the_token_and_the_new_one_works,
    a_lost_reply_is_answered_again_within_the_grace_window,
    reuse_of_a_rotated_token_revokes_the_whole_family,
    reuse_after_the_grace_window_revokes_the_family,
    an_idle_expired_refresh_token_is_refused,
    concurrent_refreshes_of_one_token_get_one_successor,
    logout_ends_the_session_for_both_tokens,
    logout_with_only_the_refresh_token_works_when_offline_for_long,
    forged_expired_wrong_audience_and_unsigned_tokens_are_refused,
    deactivation_ends_sessions_at_once,
    a_manager_signs_a_lost_phone_out_and_it_is_told_at_next_contact,
    failed_logins_are_throttled_per_account_with_retry_after,
    failed_logins_are_throttled_per_address,
    failures_from_one_address_never_lock_the_account_out_elsewhere,
);

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json("/api/v1/auth/refresh", &json!({ "refresh_token": token }))
        .await
}

async fn refresh_ok(app: &TestApp, token: &str) -> serde_json::Value {
    let res = refresh(app, token).await;
    assert_eq!(res.status(), 200);
    res.json().await.expect("json")
}

async fn a_refresh_rotates_the_token_and_the_new_one_works(app: TestApp) {
    app.create_user("lan.nt", PASSWORD, "volunteer");
    let login = app.login("lan.nt", PASSWORD).await;
    let r0 = login["refresh_token"].as_str().expect("r0");
    let first = refresh_ok(&app, r0).await;
    let r1 = first["refresh_token"].as_str().expect("r1");
    assert_ne!(r0, r1);
    assert_eq!(first["user"]["username"], "lan.nt");
    let me = app
        .get_authed("/api/v1/me", first["access_token"].as_str().expect("at"))
        .await;
    assert_eq!(me.status(), 200);
    let second = refresh_ok(&app, r1).await;
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    // Tokens are stored hashed, never in clear.
    let hashes: Vec<String> = rt::refresh_tokens
        .select(rt::token_hash)
        .load(&mut app.conn())
        .expect("load");
    assert_eq!(hashes.len(), 3);
    assert!(hashes.iter().all(|h| h.len() == 64 && h != r0 && h != r1));
}

async fn a_lost_reply_is_answered_again_within_the_grace_window(app: TestApp) {
    app.create_user("lan.nt", PASSWORD, "volunteer");
    let r0 = app.login("lan.nt", PASSWORD).await["refresh_token"]
        .as_str()
        .expect("r0")
        .to_owned();
    let first = refresh_ok(&app, &r0).await;
    // The phone never got `first`; it retries with the old token and must get the same new token.
    let again = refresh_ok(&app, &r0).await;
    assert_eq!(again["refresh_token"], first["refresh_token"]);
    let next = refresh_ok(&app, again["refresh_token"].as_str().expect("r1")).await;
    assert!(next["refresh_token"].is_string());
}

async fn reuse_of_a_rotated_token_revokes_the_whole_family(app: TestApp) {
    app.create_user("lan.nt", PASSWORD, "volunteer");
    let r0 = app.login("lan.nt", PASSWORD).await["refresh_token"]
        .as_str()
        .expect("r0")
        .to_owned();
    let first = refresh_ok(&app, &r0).await;
    let second = refresh_ok(&app, first["refresh_token"].as_str().expect("r1")).await;
    // r0's successor was already used: r0 is a stolen copy.
    assert_problem(refresh(&app, &r0).await, 401, "refresh_token_reused").await;
    assert_problem(
        refresh(&app, second["refresh_token"].as_str().expect("r2")).await,
        401,
        "session_revoked",
    )
    .await;
    let at = second["access_token"].as_str().expect("access");
    assert_problem(
        app.get_authed("/api/v1/me", at).await,
        401,
        "session_revoked",
    )
    .await;
    // Another login opens a new, working session.
    app.login("lan.nt", PASSWORD).await;
}

async fn reuse_after_the_grace_window_revokes_the_family(app: TestApp) {
    app.create_user("lan.nt", PASSWORD, "volunteer");
    let r0 = app.login("lan.nt", PASSWORD).await["refresh_token"]
        .as_str()
        .expect("r0")
        .to_owned();
    let first = refresh_ok(&app, &r0).await;
    let long_ago =
        tungnha::db::now() - chrono::TimeDelta::seconds(tungnha::auth::session::GRACE_SECS + 5);
    diesel::update(rt::refresh_tokens.filter(rt::rotated_at.is_not_null()))
        .set(rt::rotated_at.eq(long_ago))
        .execute(&mut app.conn())
        .expect("age the rotation");
    assert_problem(refresh(&app, &r0).await, 401, "refresh_token_reused").await;
    assert_problem(
        refresh(&app, first["refresh_token"].as_str().expect("r1")).await,
        401,
        "session_revoked",
    )
    .await;
}

async fn an_idle_expired_refresh_token_is_refused(app: TestApp) {
    app.create_user("lan.nt", PASSWORD, "volunteer");
    let r0 = app.login("lan.nt", PASSWORD).await["refresh_token"]
        .as_str()
        .expect("r0")
        .to_owned();
    diesel::update(rt::refresh_tokens)
        .set(rt::expires_at.eq(tungnha::db::now() - chrono::TimeDelta::seconds(1)))
        .execute(&mut app.conn())
        .expect("expire");
    assert_problem(refresh(&app, &r0).await, 401, "refresh_token_expired").await;
    assert_problem(
        refresh(&app, "made-up-token").await,
        401,
        "invalid_refresh_token",
    )
    .await;
}

async fn concurrent_refreshes_of_one_token_get_one_successor(app: TestApp) {
    app.create_user("lan.nt", PASSWORD, "volunteer");
    let r0 = app.login("lan.nt", PASSWORD).await["refresh_token"]
        .as_str()
        .expect("r0")
        .to_owned();
    let attempts = (0..6).map(|_| refresh(&app, &r0));
    let results = futures_util::future::join_all(attempts).await;
    let mut tokens = vec![];
    for res in results {
        assert_eq!(res.status(), 200);
        tokens.push(res.json::<serde_json::Value>().await.expect("json")["refresh_token"].clone());
    }
    tokens.dedup();
    assert_eq!(
        tokens.len(),
        1,
        "every concurrent refresh must get the same successor"
    );
    let children: i64 = rt::refresh_tokens
        .filter(rt::parent_id.is_not_null())
        .count()
        .get_result(&mut app.conn())
        .expect("count");
    assert_eq!(children, 1);
}

async fn logout_ends_the_session_for_both_tokens(app: TestApp) {
    app.create_user("lan.nt", PASSWORD, "volunteer");
    let login = app.login("lan.nt", PASSWORD).await;
    let other_device = app.login("lan.nt", PASSWORD).await;
    let at = login["access_token"].as_str().expect("at");
    let res = app
        .send(Method::POST, "/api/v1/auth/logout", Some(at), None)
        .await;
    assert_eq!(res.status(), 204);
    assert_problem(
        app.get_authed("/api/v1/me", at).await,
        401,
        "session_revoked",
    )
    .await;
    assert_problem(
        refresh(&app, login["refresh_token"].as_str().expect("rt")).await,
        401,
        "session_revoked",
    )
    .await;
    // The other device's session is untouched.
    let other = other_device["access_token"].as_str().expect("at2");
    assert_eq!(app.get_authed("/api/v1/me", other).await.status(), 200);
    assert_problem(
        app.send(Method::POST, "/api/v1/auth/logout", None, None)
            .await,
        401,
        "missing_token",
    )
    .await;
}

async fn logout_with_only_the_refresh_token_works_when_offline_for_long(app: TestApp) {
    app.create_user("lan.nt", PASSWORD, "volunteer");
    let login = app.login("lan.nt", PASSWORD).await;
    let rtok = login["refresh_token"].as_str().expect("rt");
    let res = app
        .send(
            Method::POST,
            "/api/v1/auth/logout",
            None,
            Some(&json!({ "refresh_token": rtok })),
        )
        .await;
    assert_eq!(res.status(), 204);
    assert_problem(refresh(&app, rtok).await, 401, "session_revoked").await;
}

async fn forged_expired_wrong_audience_and_unsigned_tokens_are_refused(app: TestApp) {
    use base64::Engine;
    let id = app.create_user("lan.nt", PASSWORD, "volunteer");
    let secret = app.jwt_secret();
    let expired = tungnha::auth::jwt::JwtKeys::from_secret(secret.as_bytes(), -120)
        .issue(&id, None)
        .expect("jwt");
    assert_problem(
        app.get_authed("/api/v1/me", &expired).await,
        401,
        "token_expired",
    )
    .await;

    let good = app.login("lan.nt", PASSWORD).await["access_token"]
        .as_str()
        .expect("at")
        .to_owned();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let parts: Vec<&str> = good.split('.').collect();
    let mut claims: serde_json::Value =
        serde_json::from_slice(&b64.decode(parts[1]).expect("b64")).expect("json");

    claims["sub"] = json!("someone-else");
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        b64.encode(claims.to_string()),
        parts[2]
    );
    assert_problem(
        app.get_authed("/api/v1/me", &tampered).await,
        401,
        "invalid_token",
    )
    .await;

    claims["sub"] = json!(id);
    let unsigned = format!(
        "{}.{}.",
        b64.encode(r#"{"alg":"none","typ":"JWT"}"#),
        b64.encode(claims.to_string())
    );
    assert_problem(
        app.get_authed("/api/v1/me", &unsigned).await,
        401,
        "invalid_token",
    )
    .await;

    claims["aud"] = json!("another-system");
    let wrong_aud = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("encode");
    assert_problem(
        app.get_authed("/api/v1/me", &wrong_aud).await,
        401,
        "invalid_token",
    )
    .await;

    let hs512 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        &json!({"sub": id, "iat": claims["iat"], "exp": claims["exp"], "iss": "tungnha", "aud": "tungnha-api"}),
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("encode");
    assert_problem(
        app.get_authed("/api/v1/me", &hs512).await,
        401,
        "invalid_token",
    )
    .await;
}

async fn deactivation_ends_sessions_at_once(app: TestApp) {
    let f = app.fixture().await;
    let path = format!("/api/v1/users/{}", f.volunteer.id);
    let res = app
        .send(
            Method::PATCH,
            &path,
            Some(&f.admin.token),
            Some(&json!({ "active": false })),
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_problem(
        app.get_authed("/api/v1/me", &f.volunteer.token).await,
        401,
        "account_disabled",
    )
    .await;
    assert_eq!(
        refresh(&app, &f.volunteer.refresh_token).await.status(),
        401
    );
    let res = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"username": f.volunteer.username, "password": PASSWORD}),
        )
        .await;
    assert_problem(res, 401, "invalid_credentials").await;
}

async fn a_manager_signs_a_lost_phone_out_and_it_is_told_at_next_contact(app: TestApp) {
    let f = app.fixture().await;
    let revoke = |token: String, id: String| {
        let app = &app;
        async move {
            app.send(
                Method::POST,
                &format!("/api/v1/users/{id}/sessions/revoke"),
                Some(&token),
                None,
            )
            .await
        }
    };
    // Outside the caller's scope or not a manager: refused, nothing ended.
    assert_problem(
        revoke(f.other_leader.token.clone(), f.volunteer.id.clone()).await,
        404,
        "user_not_found",
    )
    .await;
    assert_problem(
        revoke(f.volunteer_v2.token.clone(), f.volunteer.id.clone()).await,
        404,
        "user_not_found",
    )
    .await;
    assert_problem(
        revoke(f.leader.token.clone(), f.leader.id.clone()).await,
        403,
        "own_account",
    )
    .await;
    assert_eq!(
        app.get_authed("/api/v1/me", &f.volunteer.token)
            .await
            .status(),
        200
    );

    // The village leader signs the volunteer out everywhere.
    let res = revoke(f.leader.token.clone(), f.volunteer.id.clone()).await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.expect("json");
    assert_eq!(body["revoked"], 1);
    // The phone's next call and its refresh both say why, so it can clear what it pulled.
    assert_problem(
        app.get_authed("/api/v1/me", &f.volunteer.token).await,
        401,
        "session_revoked",
    )
    .await;
    assert_problem(
        refresh(&app, &f.volunteer.refresh_token).await,
        401,
        "session_revoked",
    )
    .await;
    // The account stays active: signing in again works.
    assert_eq!(
        app.post_json(
            "/api/v1/auth/login",
            &json!({"username": f.volunteer.username, "password": PASSWORD}),
        )
        .await
        .status(),
        200
    );
    // Audited, with who did it.
    let audit: serde_json::Value = app
        .get_authed(
            "/api/v1/audit-events?action=sessions_revoked",
            &f.admin.token,
        )
        .await
        .json()
        .await
        .expect("json");
    let items = audit["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{audit}");
    assert_eq!(items[0]["object_id"], f.volunteer.id.as_str());
    assert_eq!(items[0]["actor_label"], f.leader.username.as_str());
}

async fn failed_logins_are_throttled_per_account_with_retry_after(app: TestApp) {
    app.create_user("lan.nt", PASSWORD, "volunteer");
    for _ in 0..tungnha::auth::throttle::MAX_PER_ACCOUNT {
        let res = app
            .post_json(
                "/api/v1/auth/login",
                &json!({"username": "lan.nt", "password": "wrong password"}),
            )
            .await;
        assert_eq!(res.status(), 401);
    }
    // Even the right password waits now.
    let res = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"username": "lan.nt", "password": PASSWORD}),
        )
        .await;
    let retry: u64 = res
        .headers()
        .get("retry-after")
        .expect("Retry-After")
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=900).contains(&retry), "{retry}");
    assert_problem(res, 429, "too_many_requests").await;
    // Other accounts are not affected.
    app.create_user("hoa.pt", PASSWORD, "volunteer");
    app.login("hoa.pt", PASSWORD).await;
}

async fn failed_logins_are_throttled_per_address(app: TestApp) {
    for i in 0..tungnha::auth::throttle::MAX_PER_ADDRESS {
        let res = app
            .post_json(
                "/api/v1/auth/login",
                &json!({"username": format!("guess{i}"), "password": "wrong password"}),
            )
            .await;
        assert_eq!(res.status(), 401);
    }
    app.create_user("lan.nt", PASSWORD, "volunteer");
    let res = app
        .post_json(
            "/api/v1/auth/login",
            &json!({"username": "lan.nt", "password": PASSWORD}),
        )
        .await;
    assert_problem(res, 429, "too_many_requests").await;
}

/// Ten wrong passwords from one address throttle that address for the account, not the account:
/// the real user, signing in from another address, gets in (and that does not wipe the count of the
/// address that failed).
async fn failures_from_one_address_never_lock_the_account_out_elsewhere(app: TestApp) {
    app.create_user("lan.nt", PASSWORD, "volunteer");
    // A second loopback address stands for another client.
    let elsewhere = reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .expect("client");
    let login = |client: &reqwest::Client, password: &str| {
        client
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({"username": "lan.nt", "password": password}))
            .send()
    };
    for _ in 0..tungnha::auth::throttle::MAX_PER_ACCOUNT {
        let res = login(&elsewhere, "wrong password").await.expect("request");
        assert_eq!(res.status(), 401);
    }
    let res = login(&elsewhere, PASSWORD).await.expect("request");
    assert_problem(res, 429, "too_many_requests").await;
    // The real user, from its own address, signs in.
    let res = login(&app.client, PASSWORD).await.expect("request");
    assert_eq!(res.status(), 200);
    // ... and the address that failed is still throttled for the account.
    let res = login(&elsewhere, PASSWORD).await.expect("request");
    assert_problem(res, 429, "too_many_requests").await;
}
