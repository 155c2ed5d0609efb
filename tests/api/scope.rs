//! A phone holds exactly what its user may see after every change of who they are (issue 26):
//! a pull from a cursor read in another scope answers `reset` and starts again from the new scope.

use std::collections::BTreeMap;

use reqwest::Method;
use serde_json::{json, Value};

use crate::both_backends;
use crate::helpers::{Account, Fixture, TestApp};

both_backends!(
    a_phone_follows_its_user_from_village_to_village_and_out_of_the_field,
    a_deactivated_volunteers_phone_keeps_nothing,
);

fn id() -> String {
    tungnha::db::new_id()
}

/// What a phone keeps of its pulls, applied as the field app does (`pwa/src/lib/sync/pull.ts`):
/// upserts stored, deletions forgotten, a `reset` page replacing everything pulled before; a
/// change of role out of the field roles, or a session ended elsewhere, leaves nothing.
struct Phone {
    token: String,
    refresh_token: String,
    cursor: Option<String>,
    held: BTreeMap<(String, String), Value>,
    resets: usize,
}

impl Phone {
    fn of(account: &Account) -> Self {
        Phone {
            token: account.token.clone(),
            refresh_token: account.refresh_token.clone(),
            cursor: None,
            held: BTreeMap::new(),
            resets: 0,
        }
    }

    async fn sync(&mut self, app: &TestApp) {
        app.settle().await;
        loop {
            let url = match &self.cursor {
                Some(c) => format!("/api/v1/sync/pull?limit=3&device_id=phone&cursor={c}"),
                None => "/api/v1/sync/pull?limit=3&device_id=phone".to_owned(),
            };
            let res = app.get_authed(&url, &self.token).await;
            if res.status() == 401 {
                // The app refreshes once; a session ended elsewhere clears what was pulled.
                let refresh = app
                    .post_json(
                        "/api/v1/auth/refresh",
                        &json!({"refresh_token": self.refresh_token}),
                    )
                    .await;
                assert_eq!(refresh.status(), 401, "the session ended");
                let problem: Value = refresh.json().await.expect("json");
                assert_eq!(problem["code"], "session_revoked", "{problem}");
                self.held.clear();
                self.cursor = None;
                return;
            }
            assert_eq!(res.status(), 200, "{url}");
            let page: Value = res.json().await.expect("json");
            if page["reset"] == true {
                self.resets += 1;
                let me: Value = app
                    .get_authed("/api/v1/me", &self.token)
                    .await
                    .json()
                    .await
                    .expect("me");
                if !["volunteer", "village_leader"].contains(&me["role"].as_str().unwrap_or("")) {
                    self.held.clear();
                    self.cursor = None;
                    return;
                }
                self.held.clear();
            } else {
                assert_eq!(page["reset"], false, "{page}");
            }
            for c in page["changes"].as_array().expect("changes") {
                let key = (
                    c["kind"].as_str().expect("kind").to_owned(),
                    c["id"].as_str().expect("id").to_owned(),
                );
                if c["op"] == "delete" {
                    self.held.remove(&key);
                } else {
                    self.held.insert(key, c["data"].clone());
                }
            }
            self.cursor = Some(page["cursor"].as_str().expect("cursor").to_owned());
            if page["has_more"] != true {
                return;
            }
        }
    }

    /// The households, residents and ledger entries held, with their data.
    fn registry(&self) -> BTreeMap<(String, String), Value> {
        self.held
            .iter()
            .filter(|((k, _), _)| ["household", "resident", "adoption"].contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }
}

/// What an administrator reads of these villages' households, residents and ledger.
async fn registry_of(
    app: &TestApp,
    f: &Fixture,
    villages: &[&str],
) -> BTreeMap<(String, String), Value> {
    let mut admin = Phone::of(&f.admin);
    admin.sync(app).await;
    let households: Vec<String> = admin
        .held
        .iter()
        .filter(|((k, _), d)| {
            k == "household" && villages.contains(&d["village_id"].as_str().unwrap_or(""))
        })
        .map(|((_, id), _)| id.clone())
        .collect();
    admin
        .registry()
        .into_iter()
        .filter(|((k, id), d)| match k.as_str() {
            "household" => households.contains(id),
            _ => households.iter().any(|h| d["household_id"] == h.as_str()),
        })
        .collect()
}

async fn household(app: &TestApp, token: &str, village: &str, head: &str) -> String {
    let res = app
        .send(
            Method::POST,
            "/api/v1/households",
            Some(token),
            Some(&json!({
                "village_id": village, "lane": "Ngõ 1", "head_name": head, "phone": "0912 345 678",
                "residents": [{ "full_name": head, "birth_year": 1970, "sex": "male", "relation_to_head": "Chủ hộ" }]
            })),
        )
        .await;
    assert_eq!(res.status(), 201, "household in {village}");
    res.json::<Value>().await.expect("json")["id"]
        .as_str()
        .expect("id")
        .to_owned()
}

fn visit(household: &str) -> Value {
    json!({"kind": "assistance_record", "id": id(), "op": "create", "data": {
        "household_id": household, "resident_ids": [], "occurred_at": "2026-11-20T03:00:00Z",
        "channel": "house_visit", "items": [{"service_code": "e_commerce", "outcome": "assisted"}]}})
}

async fn push(app: &TestApp, token: &str, record: Value) -> Value {
    let res = app
        .send(
            Method::POST,
            "/api/v1/sync/push",
            Some(token),
            Some(&json!({"device_id": "phone", "records": [record]})),
        )
        .await;
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.expect("json")["results"][0].clone()
}

async fn set_scope(app: &TestApp, f: &Fixture, user: &str, change: Value) {
    let res = app
        .send(
            Method::PATCH,
            &format!("/api/v1/users/{user}"),
            Some(&f.admin.token),
            Some(&change),
        )
        .await;
    assert_eq!(res.status(), 200, "{change}");
}

fn households_in(held: &BTreeMap<(String, String), Value>) -> Vec<String> {
    held.iter()
        .filter(|((k, _), _)| k == "household")
        .map(|(_, d)| d["head_name"].as_str().unwrap_or("").to_owned())
        .collect()
}

async fn a_phone_follows_its_user_from_village_to_village_and_out_of_the_field(app: TestApp) {
    let f = app.fixture().await;
    let a1 = household(&app, &f.leader.token, &f.v1, "Nguyễn Văn An").await;
    household(&app, &f.leader.token, &f.v1, "Trần Văn Bình").await;
    let b1 = household(&app, &f.culture_social.token, &f.v2, "Lê Văn Cường").await;
    household(&app, &f.culture_social.token, &f.v2, "Phạm Thị Dung").await;
    // A ledger on both sides.
    assert_eq!(
        push(&app, &f.volunteer.token, visit(&a1)).await["status"],
        "applied"
    );
    assert_eq!(
        push(&app, &f.volunteer_v2.token, visit(&b1)).await["status"],
        "applied"
    );

    let mut phone = Phone::of(&f.volunteer);
    phone.sync(&app).await;
    assert_eq!(phone.registry(), registry_of(&app, &f, &[&f.v1]).await);
    assert_eq!(phone.resets, 0);
    // A visit made in village A, still in the outbox when the move happens.
    let made_before = visit(&a1);

    // A → B: exactly B, nothing of A.
    set_scope(&app, &f, &f.volunteer.id, json!({"village_ids": [f.v2]})).await;
    phone.sync(&app).await;
    assert_eq!(phone.resets, 1, "the old cursor is never kept");
    let b = registry_of(&app, &f, &[&f.v2]).await;
    assert!(!b.is_empty());
    assert_eq!(phone.registry(), b, "{:?}", households_in(&phone.held));
    assert!(!households_in(&phone.held).contains(&"Nguyễn Văn An".to_owned()));
    // The outbox record made for A is answered, not lost: refused, with the reason.
    let answer = push(&app, &f.volunteer.token, made_before).await;
    assert_eq!(answer["status"], "rejected", "{answer}");
    assert_eq!(answer["error"]["code"], "household_not_found", "{answer}");
    // Work in B is stored and reaches the phone on its next pull, without a reset.
    assert_eq!(
        push(&app, &f.volunteer.token, visit(&b1)).await["status"],
        "applied"
    );
    phone.sync(&app).await;
    assert_eq!(phone.resets, 1);
    assert_eq!(phone.registry(), registry_of(&app, &f, &[&f.v2]).await);

    // B → A + B: both.
    set_scope(
        &app,
        &f,
        &f.volunteer.id,
        json!({"village_ids": [f.v1, f.v2]}),
    )
    .await;
    phone.sync(&app).await;
    assert_eq!(phone.resets, 2);
    assert_eq!(
        phone.registry(),
        registry_of(&app, &f, &[&f.v1, &f.v2]).await
    );

    // A + B → B: A goes again.
    set_scope(&app, &f, &f.volunteer.id, json!({"village_ids": [f.v2]})).await;
    phone.sync(&app).await;
    assert_eq!(phone.resets, 3);
    assert_eq!(phone.registry(), registry_of(&app, &f, &[&f.v2]).await);

    // Volunteer → a department: an office role keeps nothing on the phone.
    set_scope(
        &app,
        &f,
        &f.volunteer.id,
        json!({"role": "department", "department": "police", "village_ids": []}),
    )
    .await;
    phone.sync(&app).await;
    assert_eq!(phone.resets, 4);
    assert!(phone.held.is_empty(), "{:?}", phone.held.keys());
}

async fn a_deactivated_volunteers_phone_keeps_nothing(app: TestApp) {
    let f = app.fixture().await;
    household(&app, &f.leader.token, &f.v1, "Nguyễn Văn An").await;
    let mut phone = Phone::of(&f.volunteer);
    phone.sync(&app).await;
    assert_eq!(households_in(&phone.held), ["Nguyễn Văn An"]);
    set_scope(&app, &f, &f.volunteer.id, json!({"active": false})).await;
    phone.sync(&app).await;
    assert!(phone.held.is_empty(), "{:?}", phone.held.keys());
}
