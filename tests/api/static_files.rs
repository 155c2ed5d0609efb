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
