//! Behind a trusted proxy the client is the address the proxy forwards; from anyone else the
//! forwarding headers are ignored (issue 30). The test client on 127.0.0.1 plays the proxy; a client
//! bound to 127.0.0.2 plays a peer that is not trusted. The forwarded addresses are documentation
//! addresses written into a header: nothing is ever sent to them.

use diesel::prelude::*;
use serde_json::json;
use tungnha::config::Settings;
use tungnha::db::schema::audit_events::dsl as a;

use crate::both_backends_with;
use crate::helpers::{assert_problem, TestApp, PASSWORD};

fn behind_proxy(s: &mut Settings) {
    s.trusted_proxies = tungnha::client::TrustedProxies::parse(
        "127.0.0.1",
        tungnha::client::ProxyHeader::XForwardedFor,
    )
    .expect("valid");
}

both_backends_with!(behind_proxy =>
    throttling_and_audit_see_the_forwarded_client,
    a_forged_forwarded_for_from_an_untrusted_peer_is_ignored,
    hsts_follows_the_proxys_word_only,
    api_key_use_is_audited_with_the_forwarded_client,
);

fn untrusted_peer() -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from([127, 0, 0, 2]))
        .build()
        .expect("client")
}

async fn login(
    app: &TestApp,
    client: &reqwest::Client,
    forwarded_for: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({"username": "lan.nt", "password": password}))
        .send()
        .await
        .expect("request")
}

fn audited(app: &TestApp, action: &str) -> Vec<Option<String>> {
    a::audit_events
        .filter(a::action.eq(action))
        .select(a::client_addr)
        .order(a::id)
        .load(&mut app.conn())
        .expect("audit")
}

/// Ten failures forwarded for one client throttle that client; another client behind the same
/// proxy signs in, and the audit log names each by its forwarded address, not the proxy's.
async fn throttling_and_audit_see_the_forwarded_client(app: TestApp) {
    app.create_user("lan.nt", PASSWORD, "volunteer");
    // The client wrote a spoofed hop itself; the proxy appended what it saw.
    let attacker = "10.9.9.9, 198.51.100.7";
    for _ in 0..tungnha::auth::throttle::MAX_PER_ACCOUNT {
        let res = login(&app, &app.client, attacker, "wrong password").await;
        assert_eq!(res.status(), 401);
    }
    let res = login(&app, &app.client, attacker, PASSWORD).await;
    assert_problem(res, 429, "too_many_requests").await;
    let res = login(&app, &app.client, "198.51.100.8", PASSWORD).await;
    assert_eq!(res.status(), 200);
    let failed = audited(&app, "login_failed");
    assert_eq!(failed.len(), tungnha::auth::throttle::MAX_PER_ACCOUNT);
    assert!(failed.iter().all(|c| c.as_deref() == Some("198.51.100.7")));
    assert_eq!(
        audited(&app, "login"),
        vec![Some("198.51.100.8".to_owned())]
    );
}

/// A peer that is not a trusted proxy cannot dodge throttling by naming a new address each time,
/// and the audit log records the peer.
async fn a_forged_forwarded_for_from_an_untrusted_peer_is_ignored(app: TestApp) {
    app.create_user("lan.nt", PASSWORD, "volunteer");
    let peer = untrusted_peer();
    for i in 0..tungnha::auth::throttle::MAX_PER_ACCOUNT {
        let res = login(&app, &peer, &format!("203.0.113.{i}"), "wrong password").await;
        assert_eq!(res.status(), 401);
    }
    let res = login(&app, &peer, "203.0.113.200", PASSWORD).await;
    assert_problem(res, 429, "too_many_requests").await;
    let failed = audited(&app, "login_failed");
    assert!(
        failed.iter().all(|c| c.as_deref() == Some("127.0.0.2")),
        "{failed:?}"
    );
    // The proxy's own clients are not touched by that peer's failures.
    let res = login(&app, &app.client, "198.51.100.8", PASSWORD).await;
    assert_eq!(res.status(), 200);
}

async fn hsts_follows_the_proxys_word_only(app: TestApp) {
    let hsts = |res: &reqwest::Response| res.headers().contains_key("strict-transport-security");
    let get = |client: &reqwest::Client, proto: &'static str| {
        client
            .get(app.url("/healthz"))
            .header("x-forwarded-proto", proto)
            .send()
    };
    let res = get(&app.client, "https").await.expect("get");
    assert_eq!(
        res.headers()
            .get("strict-transport-security")
            .and_then(|v| v.to_str().ok()),
        Some("max-age=31536000; includeSubDomains")
    );
    assert!(!hsts(&get(&app.client, "http").await.expect("get")));
    assert!(!hsts(&get(&untrusted_peer(), "https").await.expect("get")));
}

/// A third-party system calling with an API key through the proxy is audited by its own address;
/// the same header from an untrusted peer is ignored.
async fn api_key_use_is_audited_with_the_forwarded_client(app: TestApp) {
    let f = app.fixture().await;
    let key = app.api_key(&f, "stats:read").await;
    for (client, forwarded) in [
        (&app.client, "198.51.100.9"),
        (&untrusted_peer(), "198.51.100.10"),
    ] {
        let res = client
            .get(app.url("/api/v1/stats/indicators"))
            .bearer_auth(&key)
            .header("x-forwarded-for", forwarded)
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 200);
    }
    assert_eq!(
        audited(&app, "api_key_used"),
        vec![
            Some("198.51.100.9".to_owned()),
            Some("127.0.0.2".to_owned())
        ]
    );
}
